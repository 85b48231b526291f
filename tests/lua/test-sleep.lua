-- asyncio.sleep: a coroutine in Python, so not a Future here either; and
-- sleep(0) with no result is one shared object that only yields, which no
-- use can change (gather, create_task, wait, cancel, add_done_callback).
local t = require "t"
local asyncio = require "asyncio"

t.test("sleep objects are coroutines, not futures", function()
  t.eq(asyncio.isfuture(asyncio.sleep(1)), false)
  t.eq(asyncio.iscoroutine(asyncio.sleep(1)), true)
  t.eq(asyncio.isawaitable(asyncio.sleep(0)), true)
  asyncio.sleep(1):close()
end)

t.test("sleep(0) yields once and returns nothing; sleep(0, v) returns v", function()
  local order = {}
  asyncio.create_task(function() order[#order + 1] = "other" end)
  t.eq(select("#", asyncio.sleep(0):await()), 0)
  order[#order + 1] = "after sleep(0)"
  t.same_as(order, { "other", "after sleep(0)" })
  t.eq(asyncio.sleep(0, "v"):await(), "v")
  t.eq(asyncio.sleep(-1, "neg"):await(), "neg")
end)

t.test("the shared sleep(0) survives gather, tasks, wait and shield", function()
  local r = asyncio.gather(asyncio.sleep(0), asyncio.sleep(0), asyncio.sleep(0.001, 3)):await()
  t.eq(r.n, 3); t.eq(r[3], 3)
  local task = asyncio.create_task(asyncio.sleep(0))
  task:await()
  t.eq(task:done(), true)
  local done = asyncio.wait({ asyncio.sleep(0) }):await()
  t.eq(#done, 1)
  asyncio.shield(asyncio.sleep(0)):await()
  t.eq(asyncio.sleep(0):cancel(), false)   -- a yield cannot be cancelled
  asyncio.sleep(0):await()                 -- and still works afterwards
  t.eq(asyncio.sleep(0):done(), false)
end)

t.test("add_done_callback on sleep(0) is a TypeError, as on a coroutine", function()
  t.raises("TypeError", asyncio.sleep(0).add_done_callback, asyncio.sleep(0), print)
end)

t.test("cancelling a task during sleep(0) delivers CancelledError there", function()
  local reached = false
  local task = asyncio.create_task(function()
    asyncio.sleep(0):await()
    reached = true
  end)
  asyncio.sleep(0):await()                 -- task is inside its sleep(0)
  task:cancel("stop")
  local err = t.raises("CancelledError", task.await, task)
  t.eq(err.message, "stop")
  t.eq(reached, false)
  asyncio.sleep(0):await()
end)

t.test("sleep(d) with d > 0 sleeps at least d", function()
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  asyncio.sleep(0.02):await()
  t.ok(loop:time() - t0 >= 0.019, "slept long enough")
end)

-- The timers are kept in one list per duration with a heap of the lists
-- (runtime/timer.c): these check that the order across lists, stops at
-- the head, middle and tail of a list, lists that empty and come back, and
-- many distinct durations all keep CPython's order: by deadline, then by
-- start order.
t.test("timers of several durations fire by deadline", function()
  local loop, log = asyncio.get_running_loop(), {}
  for _, ms in ipairs({ 50, 20, 50, 10, 30, 20, 10 }) do
    loop:call_later(ms / 1000, function() log[#log + 1] = ms end)
  end
  asyncio.sleep(0.08):await()
  t.same_as(log, { 10, 10, 20, 20, 30, 50, 50 })
end)

t.test("cancelling a timer at the head, middle or tail of its list", function()
  local loop, log = asyncio.get_running_loop(), {}
  local h = {}
  for i = 1, 5 do
    h[i] = loop:call_later(0.02, function() log[#log + 1] = i end)
  end
  loop:call_later(0.01, function() log[#log + 1] = "early" end)
  h[1]:cancel(); h[3]:cancel(); h[5]:cancel()
  asyncio.sleep(0.04):await()
  t.same_as(log, { "early", 2, 4 })
  -- every timer of a duration cancelled, then that duration used again
  local only = loop:call_later(0.015, function() log[#log + 1] = "gone" end)
  only:cancel()
  loop:call_later(0.015, function() log[#log + 1] = "again" end)
  asyncio.sleep(0.03):await()
  t.same_as(log, { "early", 2, 4, "again" })
end)

t.test("a hundred distinct durations, half of them cancelled", function()
  -- 3 ms apart, so the order is theirs however long starting them takes
  local loop, fired, handles = asyncio.get_running_loop(), {}, {}
  local ms = {}
  for i = 1, 100 do ms[i] = 3 * i end
  local seed = 12345
  for i = 100, 2, -1 do                   -- a fixed shuffle (an LCG)
    seed = (seed * 1103515245 + 12345) % 2147483648
    local j = seed % i + 1
    ms[i], ms[j] = ms[j], ms[i]
  end
  for i, d in ipairs(ms) do
    handles[i] = loop:call_later(d / 1000, function() fired[#fired + 1] = d end)
  end
  for i = 1, 100, 2 do handles[i]:cancel() end
  asyncio.sleep(0.32):await()
  local want = {}
  for i = 2, 100, 2 do want[#want + 1] = ms[i] end
  table.sort(want)
  t.same_as(fired, want)
end)

t.test("many sleeps of one duration wake in the order they started", function()
  local order, tasks = {}, {}
  for i = 1, 2000 do
    tasks[i] = asyncio.create_task(function()
      asyncio.sleep(0.01):await()
      order[#order + 1] = i
    end)
  end
  tasks[1000]:cancel()
  asyncio.gather({ n = 2000, return_exceptions = true, table.unpack(tasks) }):await()
  t.eq(#order, 1999)
  for k = 2, #order do
    if order[k] < order[k - 1] then t.eq(order[k], order[k - 1], "wake-up " .. k) end
  end
end)

t.run()
