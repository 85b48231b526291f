-- slow_gather.lua -- five slow(n) coroutines: gathered as tasks they take
-- the time of one, awaited in turn the time of five.  Port of "Async IO
-- and Coroutines" (An AsyncIO Version), next to a sequential run.
-- Prints: gather: {0, 1, 2, 3, 4} in 3.0 s / sequential: {0, 1, 2, 3, 4}
--         in 15.0 s (seconds shown unscaled)
-- Usage: aiolua slow_gather.lua [N]   (N coroutines, default 5)
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function slow(n)
  await asyncio.sleep(3 * SCALE)
  return n
end

local async function run_async_tasks(n)
  local tasks = {}
  for i = 0, n - 1 do tasks[#tasks + 1] = asyncio.create_task(slow(i)) end
  local results = await asyncio.gather(table.unpack(tasks))
  return results
end

local async function run_sequential(n)
  local results = {}
  for i = 0, n - 1 do results[#results + 1] = await slow(i) end
  return results
end

local function show(list) return "{" .. table.concat(list, ", ") .. "}" end

local async function timed(name, fn, n)
  local loop = asyncio.get_running_loop()
  local start = loop:time()
  local results = await fn(n)
  print(("%s: %s in %.1f s"):format(name, show(results),
                                    (loop:time() - start) / SCALE))
end

local async function main(n)
  await timed("gather", run_async_tasks, n)
  await timed("sequential", run_sequential, n)
end

asyncio.run(main(tonumber(arg and arg[1]) or 5))
