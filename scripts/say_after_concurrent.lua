-- say_after, concurrent: two tasks sleep side by side, so the whole run
-- takes ~2 s instead of ~3 s.  Plain Lua: the API without the dialect.
local asyncio = require "asyncio"
local scale = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local say_after = asyncio.async(function(delay, what)
  asyncio.sleep(delay * scale):await()
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
