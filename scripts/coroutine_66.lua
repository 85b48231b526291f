-- coroutine_66.lua -- a coroutine's return value through asyncio.run.
-- Port of "Tutorial on how to use Asyncio in Python" (Coroutines):
-- calling an async function gives a coroutine object; asyncio.run runs it
-- on a new event loop and returns what it returned.
-- Prints: My coroutine / 66
local asyncio = require "asyncio"

local async function my_coroutine()
  print("My coroutine")
  return 66
end

local r = asyncio.run(my_coroutine())
print(r)
