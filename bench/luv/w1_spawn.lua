-- w1_spawn.lua -- W1 on Lua 5.4 + luv: spawn N tasks that each sleep(0) and
-- return, then gather them.  Prints one RESULT line.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local s = require "sched"
local N = tonumber(arg[1]) or 100000

local function child(i)
  s.sleep(0)
  return i
end

s.run(function()
  local rss0 = s.rss_kb()
  local c0, t0 = os.clock(), s.time()
  local tasks = {}
  for i = 1, N do tasks[i] = s.spawn(child, i) end
  local res = s.gather(tasks)
  local t1 = s.time()
  assert(#res == N and res[N] == N)
  print(("RESULT n=%d time=%.6f cpu=%.6f rss0_kb=%d hwm_kb=%d"):format(
    N, t1 - t0, os.clock() - c0, rss0, s.rss_kb("VmHWM")))
end)
