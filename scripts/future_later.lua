-- future_later.lua -- a Future is a value that is not there yet.  From
-- "Tutorial on how to use Asyncio in Python" (Futures): main awaits a
-- future that a task resolves 1 s later; a second future gets an error.
-- Prints: done: false / waiting / done: true / result: 42 /
--         error: ValueError: no answer
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function set_after(fut, delay, value)
  await asyncio.sleep(delay * SCALE)
  fut:set_result(value)
end

local async function fail_after(fut, delay)
  await asyncio.sleep(delay * SCALE)
  fut:set_exception(asyncio.Error("ValueError", "no answer"))
end

local async function main()
  local loop = asyncio.get_running_loop()
  local fut = loop:create_future()
  print("done: " .. tostring(fut:done()))
  local setter = asyncio.create_task(set_after(fut, 1, 42))
  print("waiting")
  local result = await fut
  print("done: " .. tostring(fut:done()))
  print("result: " .. result)
  await setter

  local bad = asyncio.Future()
  asyncio.create_task(fail_after(bad, 0.5))
  local ok, err = pcall(function() return await bad end)
  print("error: " .. tostring(err))
end

asyncio.run(main())
