-- w2_sleep.lua -- W2 on Lua 5.4 + luv: N concurrent 1 s sleeps; overshoot
-- past 1 s and memory per pending task.  Prints one RESULT line.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local s = require "sched"
local N = tonumber(arg[1]) or 100000
local DELAY = tonumber(arg[2]) or 1.0

local function child(i)
  s.sleep(DELAY)
  return i
end

s.run(function()
  local rss0 = s.rss_kb()
  local t0 = s.time()
  local tasks = {}
  for i = 1, N do tasks[i] = s.spawn(child, i) end
  local spawned = s.time()
  s.sleep(0)                    -- every child is now parked on its timer
  local rss1 = s.rss_kb()
  local res = s.gather(tasks)
  local t1 = s.time()
  assert(#res == N)
  print(("RESULT n=%d overshoot=%.6f spawn=%.6f per_task_b=%.1f rss0_kb=%d hwm_kb=%d"):format(
    N, t1 - t0 - DELAY, spawned - t0, (rss1 - rss0) * 1024 / N, rss0,
    s.rss_kb("VmHWM")))
end)
