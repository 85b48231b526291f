-- say_after_plain.lua -- say_after_concurrent.lua in plain Lua 5.4, the API
-- without the async/await dialect (it runs the same with `aiolua --plain`):
--   async function f(...) ... end  is  f = asyncio.async(function(...) ... end)
--   await aw                       is  aw:await()  (or asyncio.await(aw))
-- Prints: started at HH:MM:SS / hello / world / finished at HH:MM:SS (~2 s)
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local say_after = asyncio.async(function(delay, what)
  asyncio.sleep(delay * SCALE):await()
  print(what)
end)

local main = asyncio.async(function()
  local task1 = asyncio.create_task(say_after(1, "hello"))
  local task2 = asyncio.create_task(say_after(2, "world"))
  print("started at " .. os.date("%X"))
  asyncio.gather(task1, task2):await()
  print("finished at " .. os.date("%X"))
end)

asyncio.run(main())
