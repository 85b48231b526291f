-- Run by tests/oom_test.py under address-space limits: spawning tasks
-- until memory runs out must end in a clear "not enough memory" error from
-- asyncio.run, with no crash, no hang, and no task left pending without a
-- thread.
local asyncio = require "asyncio"
local child = asyncio.async(function() asyncio.sleep(0):await() end)
local ok, err = pcall(asyncio.run, function()
  local tasks = {}
  for i = 1, 10000000 do tasks[i] = asyncio.create_task(child()) end
  asyncio.gather(tasks):await()
end)
print("run returned", ok, err)
tasks = nil
collectgarbage()
print("after: memory is usable again", #string.rep("x", 1000))
