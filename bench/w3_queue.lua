-- w3_queue.lua -- W3 on aiolua: 4 producers and 4 consumers move N items
-- through an asyncio.Queue(100).  Usage: aiolua w3_queue.lua N [await]
-- With "await" the operations are awaited as asyncio.await(q:get()), what
-- the dialect's `await q:get()` compiles to, instead of q:get():await().
local asyncio = require "asyncio"
local N = tonumber(arg[1]) or 1000000
local AWAIT_FORM = arg[2] == "await"
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

if AWAIT_FORM then
  producer = asyncio.async(function(q, count)
    for i = 1, count do asyncio.await(q:put(i)) end
  end)
  consumer = asyncio.async(function(q)
    local n = 0
    while true do
      local x = asyncio.await(q:get())
      if x == STOP then return n end
      n = n + 1
    end
  end)
end

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
