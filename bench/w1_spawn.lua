-- w1_spawn.lua -- W1 on aiolua: spawn N tasks that each sleep(0) and return,
-- then gather them.  Usage: aiolua w1_spawn.lua N [fn]
-- With "fn" the tasks are created as create_task(fn, i) instead of from
-- coroutine objects of an async function.  Prints one RESULT line.
local asyncio = require "asyncio"
local N = tonumber(arg[1]) or 100000
local FN_FORM = arg[2] == "fn"

-- VmRSS (or another field) of /proc/self/status, in kB.
local function rss_kb(field)
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match((field or "VmRSS") .. ":%s*(%d+)"))
end

local function body(i)
  asyncio.sleep(0):await()
  return i
end
local child = asyncio.async(body)

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local rss0 = rss_kb()
  local c0, t0 = os.clock(), loop:time()
  local tasks = {}
  if FN_FORM then
    for i = 1, N do tasks[i] = asyncio.create_task(body, i) end
  else
    for i = 1, N do tasks[i] = asyncio.create_task(child(i)) end
  end
  local res = asyncio.gather(tasks):await()
  local t1 = loop:time()
  assert(res.n == N and res[N] == N)
  print(("RESULT n=%d time=%.6f cpu=%.6f rss0_kb=%d hwm_kb=%d"):format(
    N, t1 - t0, os.clock() - c0, rss0, rss_kb("VmHWM")))
end)
