-- w4_pingpong.lua -- W4 on aiolua: two tasks hand control to each other
-- through futures, N switches in all.  Usage: aiolua w4_pingpong.lua N
local asyncio = require "asyncio"
local N = tonumber(arg[1]) or 1000000
local box = {}

local function hwm_kb()
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

-- Each player parks on its own future after waking the other's.
local player = asyncio.async(function(me, other, rounds)
  for _ = 1, rounds do
    local f = asyncio.Future()
    box[me] = f
    local o = box[other]
    if o then box[other] = nil; o:set_result(true) end
    f:await()
  end
  local o = box[other]
  if o then box[other] = nil; o:set_result(true) end
end)

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  asyncio.gather(player(1, 2, N // 2), player(2, 1, N // 2)):await()
  local dt = loop:time() - t0
  print(("RESULT n=%d time=%.6f switches_per_s=%.0f hwm_kb=%d"):format(
    N, dt, N / dt, hwm_kb()))
end)
