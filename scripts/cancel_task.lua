-- cancel_task.lua -- cancelling a task.  From "Tutorial on how to use
-- Asyncio in Python" (Cancelling tasks and timeouts): task:cancel() makes
-- the task raise CancelledError at its pending await; awaiting the task
-- then raises CancelledError in the awaiter too.
-- Prints: started / cancelling after 1 s / say_hello_eventually cancelled
--         / main: the task was cancelled (true)
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function say_hello_eventually(seconds)
  local ok, err = pcall(function() await asyncio.sleep(seconds * SCALE) end)
  if not ok then
    print("say_hello_eventually cancelled")
    error(err, 0) -- let the cancellation through, as Python's `finally`
  end
  print("Hello there")
end

local async function main()
  local task = asyncio.create_task(say_hello_eventually(10))
  print("started")
  await asyncio.sleep(1 * SCALE)
  print("cancelling after 1 s")
  task:cancel()
  local ok, err = pcall(function() await task end)
  if not ok and asyncio.iserror(err, "CancelledError") then
    print("main: the task was cancelled (" .. tostring(task:cancelled()) .. ")")
  end
end

asyncio.run(main())
