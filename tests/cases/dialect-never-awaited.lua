-- A coroutine object that is never awaited is reported by the name the
-- translator gives its async function.
local asyncio = require "asyncio"
local Greeter = {}

async function Greeter:hello() print("never runs") end

asyncio.run(function()
  Greeter:hello()
  collectgarbage()
  collectgarbage()
  print("done")
end)
