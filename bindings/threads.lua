-- threads.lua -- asyncio.to_thread (loaded on first use, bindings/asyncio.lua)
-- over the thread-pool runs of bindings/threads.c: fn(...) runs on another
-- thread in a Lua state of its own, so it takes and returns copies (nil,
-- booleans, numbers, strings, tables of them) and has no upvalues.
local asyncio = require "asyncio"
local C = require "aiolua.threads"

local M = {}

-- to_thread(fn, ...) -> an awaitable of fn(...)'s results, as CPython's
-- (a coroutine: create_task and gather take it).
M.to_thread = asyncio.async(function(fn, ...)
  return asyncio.await(C.run(fn, ...))
end, "to_thread")

return M
