-- w2_sleep.lua -- W2 on aiolua: N concurrent 1 s sleeps; overshoot past 1 s
-- and memory per pending task (RSS, and Lua heap from collectgarbage).
-- Usage: aiolua w2_sleep.lua N [DELAY].  Prints one RESULT line.
local asyncio = require "asyncio"
local N = tonumber(arg[1]) or 100000
local DELAY = tonumber(arg[2]) or 1.0

-- VmRSS (or another field) of /proc/self/status, in kB.
local function rss_kb(field)
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match((field or "VmRSS") .. ":%s*(%d+)"))
end

local child = asyncio.async(function(i)
  asyncio.sleep(DELAY):await()
  return i
end)

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local rss0, heap0 = rss_kb(), collectgarbage("count")
  local t0 = loop:time()
  local tasks = {}
  for i = 1, N do tasks[i] = asyncio.create_task(child(i)) end
  local spawned = loop:time()
  asyncio.sleep(0):await()      -- every child is now parked on its timer
  local rss1, heap1 = rss_kb(), collectgarbage("count")
  local res = asyncio.gather(tasks):await()
  local t1 = loop:time()
  assert(res.n == N)
  print(("RESULT n=%d overshoot=%.6f spawn=%.6f per_task_b=%.1f heap_per_task_b=%.1f rss0_kb=%d hwm_kb=%d"):format(
    N, t1 - t0 - DELAY, spawned - t0, (rss1 - rss0) * 1024 / N,
    (heap1 - heap0) * 1024 / N, rss0, rss_kb("VmHWM")))
end)
