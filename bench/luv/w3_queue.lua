-- w3_queue.lua -- W3 on Lua 5.4 + luv: 4 producers and 4 consumers move N
-- items through a Queue(100).  Prints one RESULT line with items/s.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local s = require "sched"
local N = tonumber(arg[1]) or 1000000
local P, C, MAX = 4, 4, 100
local STOP = {}

local function producer(q, count)
  for i = 1, count do q:put(i) end
end

local function consumer(q)
  local n = 0
  while true do
    local x = q:get()
    if x == STOP then return n end
    n = n + 1
  end
end

s.run(function()
  local q = s.Queue(MAX)
  local t0 = s.time()
  local consumers, producers = {}, {}
  for i = 1, C do consumers[i] = s.spawn(consumer, q) end
  for i = 1, P do producers[i] = s.spawn(producer, q, N // P) end
  s.gather(producers)
  for _ = 1, C do q:put(STOP) end
  local got = 0
  for _, n in ipairs(s.gather(consumers)) do got = got + n end
  local dt = s.time() - t0
  assert(got == N // P * P)
  print(("RESULT n=%d time=%.6f items_per_s=%.0f hwm_kb=%d"):format(
    got, dt, got / dt, s.rss_kb("VmHWM")))
end)
