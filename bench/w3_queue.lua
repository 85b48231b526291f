-- w3_queue.lua -- W3 on aiolua: 4 producers and 4 consumers move N items
-- through an asyncio.Queue(100).  Usage: aiolua w3_queue.lua N
local asyncio = require "asyncio"
local N = tonumber(arg[1]) or 1000000
local P, C, MAX = 4, 4, 100
local STOP = {}

local function hwm_kb()
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

local producer = asyncio.async(function(q, count)
  for i = 1, count do q:put(i):await() end
end)

local consumer = asyncio.async(function(q)
  local n = 0
  while true do
    local x = q:get():await()
    if x == STOP then return n end
    n = n + 1
  end
end)

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local q = asyncio.Queue(MAX)
  local t0 = loop:time()
  local consumers, producers = {}, {}
  for i = 1, C do consumers[i] = asyncio.create_task(consumer(q)) end
  for i = 1, P do producers[i] = producer(q, N // P) end
  asyncio.gather(producers):await()
  for _ = 1, C do q:put(STOP):await() end
  local got = 0
  for _, n in ipairs(asyncio.gather(consumers):await()) do got = got + n end
  local dt = loop:time() - t0
  assert(got == N // P * P)
  print(("RESULT n=%d time=%.6f items_per_s=%.0f hwm_kb=%d"):format(
    got, dt, got / dt, hwm_kb()))
end)
