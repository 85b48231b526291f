-- w4_pingpong.lua -- W4 on Lua 5.4 + luv: two tasks hand control to each
-- other through futures, N switches in all.  Prints switches/s.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local s = require "sched"
local N = tonumber(arg[1]) or 1000000
local box = {}

-- Each player parks on its own future after waking the other's.
local function player(me, other, rounds)
  for _ = 1, rounds do
    local f = s.Future()
    box[me] = f
    local o = box[other]
    if o then box[other] = nil; o:set_result(true) end
    f:await()
  end
  local o = box[other]
  if o then box[other] = nil; o:set_result(true) end
end

s.run(function()
  local t0 = s.time()
  s.gather { s.spawn(player, 1, 2, N // 2), s.spawn(player, 2, 1, N // 2) }
  local dt = s.time() - t0
  print(("RESULT n=%d time=%.6f switches_per_s=%.0f hwm_kb=%d"):format(
    N, dt, N / dt, s.rss_kb("VmHWM")))
end)
