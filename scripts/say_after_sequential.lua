-- say_after_sequential.lua -- the first example of the "asyncio" tutorial
-- (3.1, starting coroutines sequentially): awaiting a coroutine runs it to
-- the end before the next line, so the run takes 1 + 2 = ~3 s.
-- Prints: started at HH:MM:SS / hello / world / finished at HH:MM:SS
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

async function say_after(delay, what)
  await asyncio.sleep(delay * SCALE)
  print(what)
end

async function main()
  print("started at " .. os.date("%X"))
  await say_after(1, "hello")
  await say_after(2, "world")
  print("finished at " .. os.date("%X"))
end

asyncio.run(main())
