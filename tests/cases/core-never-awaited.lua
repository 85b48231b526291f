local asyncio = require "asyncio"
-- A coroutine object collected without ever being awaited is reported on
-- stderr ("coroutine '...' was never awaited"), named after its async
-- function; the program still exits 0.
local named = asyncio.async(function() print("never runs") end, "fetch_page")
local anon = asyncio.async(function() print("never runs") end)
asyncio.run(function()
  named()
  anon()
  asyncio.sleep(0):await()
  print("main done")
end)
collectgarbage()
collectgarbage()
print("after collect")
