-- say_after, sequential: the first example of the asyncio tutorials.
-- Awaiting a coroutine runs it to the end before the next line: ~3 s.
-- Plain Lua: the API without the async/await dialect.
local asyncio = require "asyncio"
local scale = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local say_after = asyncio.async(function(delay, what)
  asyncio.sleep(delay * scale):await()
  print(what)
end)

local main = asyncio.async(function()
  print("started at " .. os.date("%X"))
  say_after(1, "hello"):await()
  say_after(2, "world"):await()
  print("finished at " .. os.date("%X"))
end)

asyncio.run(main())
