-- say_after_concurrent.lua -- the "asyncio" tutorial's 3.2, starting
-- coroutines concurrently: two tasks sleep side by side, so the run takes
-- the longest delay (~2 s), not the sum (~3 s).  say_after_plain.lua is
-- this script without the async/await dialect.
-- Prints: started at HH:MM:SS / hello / world / finished at HH:MM:SS
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

async function say_after(delay, what)
  await asyncio.sleep(delay * SCALE)
  print(what)
end

async function main()
  local task1 = asyncio.create_task(say_after(1, "hello"))
  local task2 = asyncio.create_task(say_after(2, "world"))
  print("started at " .. os.date("%X"))
  await asyncio.gather(task1, task2)
  print("finished at " .. os.date("%X"))
end

asyncio.run(main())
