-- hello_tasks.lua -- tasks run concurrently: the quick one prints first.
-- Port of "Tutorial on how to use Asyncio in Python" (Tasks): main wraps
-- both coroutines in tasks, then awaits the slow one first; calculate has
-- already printed by the time it is awaited.
-- Prints: 500 at once, Hello there after 3 s.
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function calculate(number)
  print(number * 100)
end

local async function say_hello_eventually(seconds)
  await asyncio.sleep(seconds * SCALE)
  print("Hello there")
end

local async function main()
  local message_task = asyncio.create_task(say_hello_eventually(3))
  local calculate_task = asyncio.create_task(calculate(5))
  await message_task
  await calculate_task
end

asyncio.run(main())
