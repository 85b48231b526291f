-- to_thread.lua -- asyncio.to_thread's cost per call (bench/py/to_thread.py
-- is CPython's beside it): N runs of a trivial function one after another,
-- then N at once.  Usage: aiolua to_thread.lua [N].  Prints one RESULT line.
local asyncio = require "asyncio"
local N = tonumber(arg[1]) or 2000

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local f = function(x) return x + 1 end
  local t0 = loop:time()
  for i = 1, N do asyncio.to_thread(f, i):await() end
  local seq = (loop:time() - t0) / N
  local aws = {}
  for i = 1, N do aws[i] = asyncio.to_thread(f, i) end
  t0 = loop:time()
  asyncio.gather(table.unpack(aws)):await()
  local par = (loop:time() - t0) / N
  print(("RESULT n=%d seq_us=%.1f par_us=%.1f"):format(N, seq * 1e6, par * 1e6))
end)
