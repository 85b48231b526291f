-- producer_consumer.lua -- the producer/consumer pattern of the asyncio
-- tutorials, ported line for line: producers put a random number of items
-- (0 to 5) into an asyncio.Queue, sleeping before each; consumers take them
-- one by one, sleeping before each get, and mark them done; main gathers the
-- producers, joins the queue, then cancels the consumers.
--
-- Usage: aiolua scripts/producer_consumer.lua [options]
--   --producers N   number of producers (3)     --consumers N  consumers (3)
--   --unit S        time unit in seconds (1, times AIOLUA_TIME_SCALE if
--                   set): producers sleep 2 units, consumers 1, as in the
--                   tutorial
--   --seed N        seed math.random, for a reproducible run
--   -v              also show each put and which consumer got each item
-- With a seed the output is the same on every run: items come out of the
-- FIFO queue in the order they were put, and each is printed as it is got.
local asyncio = require "asyncio"

local opts = { producers = 3, consumers = 3, verbose = false,
               unit = 1 * (tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1) }
do
  local i = 1
  while arg and arg[i] do
    local a = arg[i]
    if a == "-v" then
      opts.verbose = true
    elseif a:match("^%-%-") and arg[i + 1] then
      local key, value = a:sub(3), tonumber(arg[i + 1])
      if opts[key] == nil and key ~= "seed" or value == nil then
        io.stderr:write("producer_consumer: bad option ", a, "\n")
        os.exit(2)
      end
      opts[key] = value
      i = i + 1
    else
      io.stderr:write("producer_consumer: unknown argument ", a, "\n")
      os.exit(2)
    end
    i = i + 1
  end
end
math.randomseed(opts.seed or os.time())

local function say(...)
  print(string.format(...))
end

local async function produce(q, id)
  local num = math.random(0, 5)
  say("producer %d: %d item%s", id, num, num == 1 and "" or "s")
  for i = 0, num - 1 do
    await asyncio.sleep(2 * opts.unit)
    local item = string.format("p%d.%d", id, i)
    await q:put(item)
    if opts.verbose then say("producer %d put %s", id, item) end
  end
end

local async function consume(q, id)
  while true do
    await asyncio.sleep(opts.unit)
    local val = await q:get()
    if opts.verbose then say("consumer %d got %s", id, val) else say("%s", val) end
    q:task_done()
  end
end

local async function main()
  local q = asyncio.Queue()
  local prods, cons = {}, {}
  for id = 1, opts.producers do prods[id] = asyncio.create_task(produce(q, id)) end
  for id = 1, opts.consumers do cons[id] = asyncio.create_task(consume(q, id)) end
  await asyncio.gather(table.unpack(prods))
  await q:join()
  say("all items processed; cancelling %d consumers", #cons)
  for _, c in ipairs(cons) do c:cancel() end
  local results = await asyncio.gather { return_exceptions = true, table.unpack(cons) }
  local cancelled = 0
  for i = 1, results.n do
    if asyncio.iserror(results[i], "CancelledError") then cancelled = cancelled + 1 end
  end
  say("%d consumers cancelled", cancelled)
end

asyncio.run(main())
