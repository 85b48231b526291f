-- test-core-stress.lua -- volume: 10,000 tasks with synchronous
-- completions, long chains of awaits, many waiters on one future, many
-- cancellations, and a memory check that finished tasks are released.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task, Future, gather = asyncio.sleep, asyncio.create_task, asyncio.Future, asyncio.gather

local N = 10000

t.test("10,000 tasks that complete without awaiting", function()
  local ts = {}
  for i = 1, N do ts[i] = create_task(function() return i end) end
  local sum = 0
  for i = 1, N do sum = sum + ts[i]:await() end
  t.eq(sum, N * (N + 1) // 2)
end)

t.test("10,000 tasks gathered, each awaiting a done future", function()
  local done = Future()
  done:set_result(1)
  local aws = {}
  for i = 1, N do aws[i] = asyncio.async(function() return done:await() + i end)() end
  local r = gather(table.unpack(aws)):await()
  t.eq(r.n, N)
  t.eq(r[N], N + 1)
end)

t.test("10,000 awaits of done futures and coroutines in one task", function()
  local f = Future()
  f:set_result(2)
  local c = asyncio.async(function(x) return x end)
  local acc = 0
  for i = 1, N do acc = acc + f:await() + c(1):await() end
  t.eq(acc, 3 * N)
end)

t.test("10,000 sleep(0) in one task", function()
  for _ = 1, N do sleep(0):await() end
end)

t.test("a chain of 10,000 tasks, each awaiting the previous", function()
  local prev = create_task(function() return 0 end)
  for _ = 1, N do
    local p = prev
    prev = create_task(function() return p:await() + 1 end)
  end
  t.eq(prev:await(), N)
end)

t.test("10,000 tasks awaiting one future", function()
  local f = Future()
  local ts = {}
  for i = 1, N do ts[i] = create_task(function() return f:await() + i end) end
  sleep(0):await()
  f:set_result(0)
  local r = gather(table.unpack(ts)):await()
  t.eq(r[1], 1)
  t.eq(r[N], N)
end)

t.test("10,000 parked tasks cancelled", function()
  local ts = {}
  local cleaned = 0
  for i = 1, N do
    ts[i] = create_task(function()
      local ok, err = pcall(function() sleep(10):await() end)
      cleaned = cleaned + 1
      error(err, 0)
    end)
  end
  sleep(0):await()
  for i = 1, N do ts[i]:cancel() end
  local aws = table.move(ts, 1, N, 1, { return_exceptions = true })
  local r = gather(aws):await()
  t.eq(r.n, N)
  t.ok(asyncio.iserror(r[N], "CancelledError"), tostring(r[N]))
  t.eq(cleaned, N)
  for i = 1, N, 997 do t.ok(ts[i]:cancelled()) end
end)

t.test("coroutines awaiting coroutines 150 deep", function()
  local rec
  rec = asyncio.async(function(n)
    if n == 0 then sleep(0):await(); return 0 end
    return rec(n - 1):await() + 1
  end)
  t.eq(rec(150):await(), 150)
end)

t.test("10,000 errors caught across tasks", function()
  local caught = 0
  for i = 1, N do
    local task = create_task(function() error(i, 0) end)
    local ok, e = pcall(task.await, task)
    if not ok and e == i then caught = caught + 1 end
  end
  t.eq(caught, N)
end)

t.test("finished tasks are released: memory stays flat", function()
  local function round()
    local ts = {}
    for i = 1, N do ts[i] = create_task(function() sleep(0):await(); return i end) end
    gather(table.unpack(ts)):await()
  end
  round()
  collectgarbage()
  collectgarbage()
  local before = collectgarbage("count")
  for _ = 1, 3 do round() end
  collectgarbage()
  collectgarbage()
  local after = collectgarbage("count")
  t.ok(after - before < 512, string.format("grew by %.0f KB", after - before))
end)

t.test("a finished task does not keep its coroutine's locals alive", function()
  local weak = setmetatable({}, { __mode = "v" })
  local task = create_task(function()
    local big = {}
    weak[1] = big
    sleep(0):await()
    return "done"
  end)
  task:await()
  collectgarbage()
  collectgarbage()
  t.eq(weak[1], nil, "locals collected while the task object lives")
  t.eq(task:result(), "done")
end)

t.run()
