-- queue-aiolua.lua -- the queue benchmark for aiolua: 4 producers and 4
-- consumers move N items (default 1,000,000) through asyncio.Queue(100).
-- Peers: bench/queue-python.py (asyncio), bench/queue-node.js (Node.js).
-- Prints one line:
--   aiolua queue: N items in S s: R items/s
-- Usage: aiolua bench/queue-aiolua.lua [N]   (written in the await dialect)
local asyncio = require "asyncio"

local PRODUCERS, CONSUMERS, MAXSIZE = 4, 4, 100
local n = tonumber(arg and arg[1]) or 1000000

local function producer(q, count)
  for i = 1, count do await q:put(i) end
end

local function consumer(q, box)
  local got = 0
  local ok, err = pcall(function()
    while true do
      await q:get()
      got = got + 1
      q:task_done()
    end
  end)
  box[#box + 1] = got
  if not asyncio.iserror(err, "CancelledError") then error(err, 0) end
end

local function main()
  local q = asyncio.Queue(MAXSIZE)
  local box = {}
  local per = n // PRODUCERS
  -- os.clock (CPU time): the run is CPU-bound and may never leave one loop
  -- iteration, where the loop's cached clock stands still.
  local t0 = os.clock()
  local consumers, producers = {}, {}
  for i = 1, CONSUMERS do consumers[i] = asyncio.create_task(consumer, q, box) end
  for i = 1, PRODUCERS do producers[i] = asyncio.create_task(producer, q, per) end
  asyncio.gather(table.unpack(producers)):await()
  q:join():await()
  local elapsed = os.clock() - t0
  for _, c in ipairs(consumers) do c:cancel() end
  asyncio.gather { return_exceptions = true, table.unpack(consumers) }:await()
  local total, got = per * PRODUCERS, 0
  for _, g in ipairs(box) do got = got + g end
  assert(got == total, ("consumed %d, expected %d"):format(got, total))
  print(("aiolua queue: %d items in %.3f s: %.0f items/s")
        :format(total, elapsed, total / elapsed))
end

asyncio.run(main)
