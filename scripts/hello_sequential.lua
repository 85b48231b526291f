-- hello_sequential.lua -- awaiting coroutines one after the other is not
-- concurrency.  Port of "Tutorial on how to use Asyncio in Python": main
-- waits 5 s for say_hello_eventually, then calls calculate, then prints.
-- Prints, after 5 s: 500 / Hello!
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function calculate(number)
  return number * 100
end

local async function say_hello_eventually(seconds)
  await asyncio.sleep(seconds * SCALE)
  return "Hello!"
end

local async function main()
  local message = await say_hello_eventually(5)
  local calculated_number = await calculate(5)
  print(calculated_number)
  print(message)
end

asyncio.run(main())
