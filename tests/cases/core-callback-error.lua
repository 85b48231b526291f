-- An error in a callback, with no exception handler set, is printed as
-- CPython's default handler prints it: the message, then the error and its
-- traceback, which ends at the callback (not in the loop under it); the
-- loop goes on.
local asyncio = require "asyncio"

local function inner() error("boom in a callback") end
local function outer() inner() end

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  loop:call_soon(outer)
  local fut = asyncio.Future()
  fut:add_done_callback(function() error(asyncio.Error("ValueError", "bad value")) end)
  fut:set_result(true)
  asyncio.sleep(0.001):await()
  print("the loop went on")
end)
