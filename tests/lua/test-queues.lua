-- test-queues.lua -- asyncio.Queue, LifoQueue and PriorityQueue: the
-- behaviours CPython's Lib/test/test_asyncio/test_queues.py checks, plus
-- cancellation (no swallowed item, no phantom item, no stuck waiter) and
-- the 3.13 shutdown semantics.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task = asyncio.sleep, asyncio.create_task

local function yield() sleep(0):await() end
local function nwaiting(d) return d.last - d.first + 1 end

-- Awaits `task`, expecting it to end with a CancelledError.
local function expect_cancelled(task)
  t.raises("CancelledError", function() return task:await() end)
  t.ok(task:cancelled(), "task cancelled")
end

---------------------------------------------------------------------------
-- Basics
---------------------------------------------------------------------------
t.test("tostring shows getters, putters and items", function()
  local q = asyncio.Queue()
  t.ok(tostring(q):find("^<Queue maxsize=0"), tostring(q))
  local getter = create_task(q:get())
  yield()
  t.ok(tostring(q):find("_getters[1]", 1, true), tostring(q))
  q:put_nowait(0)
  t.eq(getter:await(), 0)

  q = asyncio.Queue(1)
  q:put_nowait(1)
  local putter = create_task(q:put(2))
  yield()
  t.ok(tostring(q):find("_putters[1]", 1, true), tostring(q))
  q:get_nowait()
  putter:await()
  t.ok(putter:done())

  q = asyncio.Queue()
  q:put_nowait(1)
  q:put_nowait("a")
  t.ok(tostring(q):find('_queue=[1, "a"] tasks=2', 1, true), tostring(q))
  q:shutdown()
  t.ok(tostring(q):find("shutdown>$"), tostring(q))
  t.ok(tostring(asyncio.LifoQueue()):find("^<LifoQueue"))
  t.ok(tostring(asyncio.PriorityQueue()):find("^<PriorityQueue"))
end)

t.test("empty", function()
  local q = asyncio.Queue()
  t.ok(q:empty())
  q:put(1):await()
  t.ok(not q:empty())
  t.eq(q:get():await(), 1)
  t.ok(q:empty())
end)

t.test("full", function()
  local q = asyncio.Queue()
  t.ok(not q:full())
  q = asyncio.Queue(1)
  q:put(1):await()
  t.ok(q:full())
  t.eq(q.maxsize, 1)
end)

t.test("maxsize <= 0 is unbounded", function()
  for _, m in ipairs { 0, -1 } do
    local q = asyncio.Queue(m)
    for i = 1, 1000 do q:put(i):await() end
    t.ok(not q:full())
    t.eq(q:qsize(), 1000)
    for i = 1, 1000 do t.eq(q:get_nowait(), i) end
  end
end)

t.test("order FIFO", function()
  local q = asyncio.Queue()
  for _, i in ipairs { 1, 3, 2 } do q:put(i):await() end
  local items = {}
  for _ = 1, 3 do items[#items + 1] = q:get():await() end
  t.same_as(items, { 1, 3, 2 })
end)

t.test("ring buffer wraps and grows in order", function()
  local q = asyncio.Queue()
  local n, want = 0, 0
  for round = 1, 50 do
    for _ = 1, round do n = n + 1; q:put_nowait(n) end
    for _ = 1, round // 2 do want = want + 1; t.eq(q:get_nowait(), want) end
  end
  while not q:empty() do want = want + 1; t.eq(q:get_nowait(), want) end
  t.eq(want, n)
end)

t.test("nil and false items", function()
  local q = asyncio.Queue(2)
  q:put_nowait(nil)
  q:put_nowait(false)
  t.ok(q:full())
  t.eq(q:qsize(), 2)
  t.eq(q:get_nowait(), nil)
  t.eq(q:get():await(), false)
  t.ok(q:empty())
end)

t.test("maxsize: a putter blocks when full", function()
  local q = asyncio.Queue(2)
  t.eq(q.maxsize, 2)
  local have_been_put = {}
  local putter = create_task(function()
    for i = 0, 2 do
      q:put(i):await()
      have_been_put[#have_been_put + 1] = i
    end
    return true
  end)
  yield(); yield()
  t.same_as(have_been_put, { 0, 1 })
  t.eq(q:get():await(), 0)
  yield()
  t.same_as(have_been_put, { 0, 1, 2 })
  t.eq(q:get():await(), 1)
  t.eq(q:get():await(), 2)
  t.ok(putter:done())
  t.eq(putter:result(), true)
end)

t.test("bad maxsize", function()
  t.raises("TypeError", asyncio.Queue, "ten")
end)

---------------------------------------------------------------------------
-- get
---------------------------------------------------------------------------
t.test("blocking get with an item", function()
  local q = asyncio.Queue()
  q:put_nowait(1)
  t.eq(q:get():await(), 1)
end)

t.test("get wakes a waiting putter", function()
  local q = asyncio.Queue(1)
  q:put(1):await()
  local putter = create_task(q:put(2))
  yield()
  t.ok(not putter:done())
  t.eq(q:get():await(), 1)
  yield()
  t.ok(putter:done())
  t.eq(q:get_nowait(), 2)
end)

t.test("blocking get waits for put_nowait from a callback", function()
  local q = asyncio.Queue()
  local started = asyncio.Event()
  local finished = false
  local task = create_task(function()
    started:set()
    local res = q:get():await()
    finished = true
    return res
  end)
  started:wait():await()
  t.ok(not finished)
  asyncio.get_running_loop():call_later(0.01, q.put_nowait, q, 1)
  t.eq(task:await(), 1)
  t.ok(finished)
end)

t.test("get_nowait", function()
  local q = asyncio.Queue()
  q:put_nowait(1)
  t.eq(q:get_nowait(), 1)
  local err = t.raises("QueueEmpty", q.get_nowait, q)
  t.ok(asyncio.iserror(err, "QueueEmpty"))
  t.eq(asyncio.QueueEmpty, "QueueEmpty")
  t.ok(tostring(err):find("^QueueEmpty: "), tostring(err))
end)

t.test("get cancelled race", function()
  local q = asyncio.Queue()
  local t1 = create_task(q:get())
  local t2 = create_task(q:get())
  yield()
  t1:cancel()
  yield()
  t.ok(t1:done())
  q:put("a"):await()
  yield()
  t.eq(t2:await(), "a")
  expect_cancelled(t1)
end)

t.test("get with waiting putters", function()
  local q = asyncio.Queue(1)
  create_task(q:put("a"))
  create_task(q:put("b"))
  t.eq(q:get():await(), "a")
  t.eq(q:get():await(), "b")
end)

t.test("why are getters waiting", function()
  local q = asyncio.Queue(1)
  local n = 5
  local got = {}
  asyncio.gather(
    create_task(function() for i = 1, n do q:put(i):await() end end),
    create_task(function()
      for _ = 1, n do got[#got + 1] = q:get():await() end
    end)):await()
  t.same_as(got, { 1, 2, 3, 4, 5 })
end)

t.test("cancelled getters are not held in the getters list", function()
  local q = asyncio.Queue(5)
  t.raises("TimeoutError", function()
    return asyncio.wait_for(q:get(), 0.01):await()
  end)
  t.eq(nwaiting(q._getters), 0)
end)

---------------------------------------------------------------------------
-- put
---------------------------------------------------------------------------
t.test("blocking put on an unbounded queue", function()
  local q = asyncio.Queue()
  q:put(1):await()
  t.eq(q:get():await(), 1)
end)

t.test("blocking put waits for get_nowait from a callback", function()
  local q = asyncio.Queue(1)
  local started = asyncio.Event()
  local finished = false
  asyncio.get_running_loop():call_later(0.01, q.get_nowait, q)
  local task = create_task(function()
    started:set()
    q:put(1):await()
    q:put(2):await()
    finished = true
  end)
  started:wait():await()
  t.ok(not finished)
  task:await()
  t.ok(finished)
end)

t.test("put_nowait", function()
  local q = asyncio.Queue(1)
  q:put_nowait(1)
  t.raises("QueueFull", q.put_nowait, q, 2)
  t.eq(q:get_nowait(), 1)
end)

t.test("float maxsize", function()
  local q = asyncio.Queue(1.3)
  q:put_nowait(1)
  q:put_nowait(2)
  t.ok(q:full())
  t.raises("QueueFull", q.put_nowait, q, 3)
  q = asyncio.Queue(1.3)
  q:put(1):await()
  q:put(2):await()
  t.ok(q:full())
end)

t.test("a waiting getter gets the item a later put brings", function()
  local q = asyncio.Queue()
  local task = create_task(q:get())
  yield()
  q:put("a"):await()
  t.eq(task:await(), "a")
end)

t.test("put task finishes once its item is taken", function()
  local q = asyncio.Queue()
  local task = create_task(function() q:put(1):await(); return true end)
  t.eq(q:get():await(), 1)
  t.ok(task:done())
  t.eq(task:result(), true)
end)

t.test("put cancelled race", function()
  local q = asyncio.Queue(1)
  local put_a = create_task(q:put("a"))
  local put_b = create_task(q:put("b"))
  local put_c = create_task(q:put("X"))
  yield()
  t.ok(put_a:done())
  t.ok(not put_b:done())
  put_c:cancel()
  yield()
  t.ok(put_c:done())
  t.eq(q:get_nowait(), "a")
  yield()
  t.eq(q:get_nowait(), "b")
  put_b:await()
  expect_cancelled(put_c)
  t.ok(q:empty())
end)

t.test("why are putters waiting", function()
  local q = asyncio.Queue(2)
  local tasks = {
    create_task(function()
      yield()
      for _ = 1, q:qsize() do q:get_nowait() end
    end),
  }
  for i = 0, 3 do tasks[#tasks + 1] = create_task(q:put(i)) end
  asyncio.gather(table.unpack(tasks)):await()
  t.eq(q:qsize(), 2)
end)

t.test("cancelled putters are not held in the putters list", function()
  local q = asyncio.Queue(1)
  q:put_nowait(1)
  local put_task = create_task(q:put(1))
  yield()
  t.eq(nwaiting(q._putters), 1)
  put_task:cancel()
  expect_cancelled(put_task)
  t.eq(nwaiting(q._putters), 0)
end)

t.test("a putter woken by get_nowait, then cancelled", function()
  local q = asyncio.Queue(1)
  q:put_nowait(1)
  local put_task = create_task(q:put(1))
  yield()
  q:get_nowait()            -- unlinks and wakes the putter's future
  put_task:cancel()
  expect_cancelled(put_task)
  t.ok(q:empty(), "no phantom item")
  t.eq(nwaiting(q._putters), 0)
end)

---------------------------------------------------------------------------
-- Cancellation keeps the queue consistent
---------------------------------------------------------------------------
t.test("cancelled pending reader drops no item", function()
  local q = asyncio.Queue()
  local reader = create_task(q:get())
  yield()
  q:put_nowait(1)
  q:put_nowait(2)
  reader:cancel()
  local ok = pcall(reader.await, reader)
  if not ok then
    reader = create_task(q:get())
    reader:await()
  end
  t.eq(reader:result(), 1, "if we get 2, 1 got dropped")
  t.eq(q:get_nowait(), 2)
end)

t.test("cancelled reader among many passes its wake-up on", function()
  local q = asyncio.Queue()
  local r1 = create_task(q:get())
  local r2 = create_task(q:get())
  local r3 = create_task(q:get())
  yield()
  q:put_nowait(1)
  q:put_nowait(2)
  r1:cancel()
  expect_cancelled(r1)
  r3:await()
  r2:await()
  local got = { [r2:result()] = true, [r3:result()] = true }
  t.same_as(got, { [1] = true, [2] = true })
end)

t.test("cancelled writer leaves no phantom item", function()
  local q = asyncio.Queue(1)
  q:put_nowait(1)
  local writer = create_task(q:put(2))
  yield()
  t.eq(q:get_nowait(), 1)
  writer:cancel()
  local ok = pcall(writer.await, writer)
  if not ok then
    writer = create_task(q:put(2))
    writer:await()
  end
  t.eq(q:get_nowait(), 2)
  t.eq(q:qsize(), 0)
end)

t.test("cancelled writer passes its wake-up to the next writer", function()
  local q = asyncio.Queue(1)
  q:put_nowait(0)
  local w1 = create_task(q:put(1))
  local w2 = create_task(q:put(2))
  yield()
  t.eq(q:get_nowait(), 0)   -- wakes w1
  w1:cancel()               -- w1 has been woken: it must wake w2
  expect_cancelled(w1)
  w2:await()
  t.eq(q:get_nowait(), 2)
  t.ok(q:empty())
end)

t.test("puts and gets under timeouts lose and invent nothing (stress)", function()
  local q = asyncio.Queue(3)
  local put_ok, got = 0, 0
  local producers, consumers = {}, {}
  -- The counters move inside the awaited coroutine, right after the put or
  -- get returned: a timeout can only cancel an operation that has not
  -- happened.
  local try_put = asyncio.async(function(x)
    q:put(x):await()
    put_ok = put_ok + 1
  end)
  local try_get = asyncio.async(function()
    q:get():await()
    got = got + 1
  end)
  for p = 1, 4 do
    producers[p] = create_task(function()
      for i = 1, 200 do
        pcall(function()
          return asyncio.wait_for(try_put(p * 1000 + i), 0.0005 * (i % 3)):await()
        end)
        if i % 7 == 0 then yield() end
      end
    end)
  end
  for c = 1, 4 do
    consumers[c] = create_task(function()
      while true do
        local ok, err = pcall(function()
          return asyncio.wait_for(try_get(), 0.0005 * (c % 3)):await()
        end)
        if not ok and asyncio.iserror(err, "CancelledError") then error(err, 0) end
        if c % 2 == 0 then yield() end
      end
    end)
  end
  asyncio.gather(table.unpack(producers)):await()
  while q:qsize() > 0 do yield() end
  for _, c in ipairs(consumers) do c:cancel() end
  asyncio.gather { return_exceptions = true, table.unpack(consumers) }:await()
  t.eq(got, put_ok, "every item put was got exactly once")
  t.ok(put_ok > 0)
  t.eq(nwaiting(q._getters), 0)
  t.eq(nwaiting(q._putters), 0)
end)

-- The cancellation matrix for every suspending method: cancelled before
-- it starts, while parked, twice, and after it completed.
local function matrix(name, setup)
  t.test(name .. ": cancel before start, while parked, twice, after", function()
    local q, make, check = setup()
    local before = create_task(make(q))
    t.ok(before:cancel())
    expect_cancelled(before)
    local parked = create_task(make(q))
    yield()
    t.ok(not parked:done())
    t.ok(parked:cancel())
    t.ok(parked:cancel(), "a second cancel() while still pending")
    expect_cancelled(parked)
    t.ok(not parked:cancel(), "cancel() after the end")
    check(q)
  end)
end

matrix("get", function()
  return asyncio.Queue(), function(q) return q:get() end, function(q)
    t.eq(nwaiting(q._getters), 0)
    q:put_nowait(1)
    t.eq(q:get():await(), 1, "no cancelled getter took the item")
  end
end)

matrix("put", function()
  local q = asyncio.Queue(1)
  q:put_nowait("a")
  return q, function(q2) return q2:put("phantom") end, function(q2)
    t.eq(nwaiting(q2._putters), 0)
    t.eq(q2:get_nowait(), "a")
    t.ok(q2:empty(), "no phantom item")
  end
end)

matrix("join", function()
  local q = asyncio.Queue()
  q:put_nowait(1)
  return q, function(q2) return q2:join() end, function(q2)
    t.eq(nwaiting(q2._joiners), 0)
    q2:get_nowait()
    q2:task_done()
    q2:join():await()
  end
end)

t.test("10000 synchronous puts and gets", function()
  local q = asyncio.Queue(10)
  local sum = 0
  for i = 1, 10000 do
    q:put(i):await()
    sum = sum + q:get():await()
    q:task_done()
  end
  t.eq(sum, 10000 * 10001 // 2)
  q:join():await()
end)

---------------------------------------------------------------------------
-- LifoQueue and PriorityQueue
---------------------------------------------------------------------------
t.test("LifoQueue order", function()
  local q = asyncio.LifoQueue()
  for _, i in ipairs { 1, 3, 2 } do q:put(i):await() end
  local items = {}
  for _ = 1, 3 do items[#items + 1] = q:get():await() end
  t.same_as(items, { 2, 3, 1 })
end)

t.test("PriorityQueue order", function()
  local q = asyncio.PriorityQueue()
  for _, i in ipairs { 1, 3, 2 } do q:put(i):await() end
  local items = {}
  for _ = 1, 3 do items[#items + 1] = q:get():await() end
  t.same_as(items, { 1, 2, 3 })
end)

t.test("PriorityQueue heap against sort", function()
  local q = asyncio.PriorityQueue()
  local rnd, want = math.random, {}
  for i = 1, 500 do
    local v = rnd(1, 100)
    want[#want + 1] = v
    q:put_nowait(v)
    if i % 5 == 0 then
      table.sort(want)
      t.eq(q:get_nowait(), table.remove(want, 1))
    end
  end
  table.sort(want)
  for _, v in ipairs(want) do t.eq(q:get_nowait(), v) end
  t.ok(q:empty())
end)

t.test("PriorityQueue: tuples and __lt", function()
  local q = asyncio.PriorityQueue()
  q:put_nowait({ 2, "b" })
  q:put_nowait({ 1, "z" })
  q:put_nowait({ 2, "a" })
  q:put_nowait({ 1 })
  t.same_as(q:get_nowait(), { 1 })
  t.same_as(q:get_nowait(), { 1, "z" })
  t.same_as(q:get_nowait(), { 2, "a" })
  t.same_as(q:get_nowait(), { 2, "b" })

  local mt = { __lt = function(a, b) return a.pri > b.pri end } -- max-heap
  for _, p in ipairs { 3, 9, 1 } do q:put_nowait(setmetatable({ pri = p }, mt)) end
  t.eq(q:get_nowait().pri, 9)
  t.eq(q:get_nowait().pri, 3)
  t.eq(q:get_nowait().pri, 1)
end)

---------------------------------------------------------------------------
-- task_done and join, for every queue class
---------------------------------------------------------------------------
local classes = { "Queue", "LifoQueue", "PriorityQueue" }

for _, cls in ipairs(classes) do
  t.test(cls .. ": task_done underflow", function()
    local q = asyncio[cls]()
    local err = t.raises("ValueError", q.task_done, q)
    t.ok(tostring(err):find("too many times"), tostring(err))
  end)

  t.test(cls .. ": task_done and join with two workers", function()
    local q = asyncio[cls]()
    for i = 0, 99 do q:put_nowait(i) end
    local acc, running = 0, true
    local function worker()
      while running do
        acc = acc + q:get():await()
        q:task_done()
      end
    end
    local w = { create_task(worker), create_task(worker) }
    q:join():await()
    t.eq(acc, 4950)
    running = false
    for _ = 1, #w do q:put_nowait(0) end
    asyncio.gather(table.unpack(w)):await()
  end)

  t.test(cls .. ": join on an empty queue", function()
    local q = asyncio[cls]()
    q:join():await()
    q:join():await()
  end)

  t.test(cls .. ": a cancelled join leaves no joiner", function()
    local q = asyncio[cls]()
    q:put_nowait(1)
    local j = create_task(q:join())
    yield()
    j:cancel()
    expect_cancelled(j)
    t.eq(nwaiting(q._joiners), 0)
    q:get_nowait()
    q:task_done()
    q:join():await()
  end)
end

---------------------------------------------------------------------------
-- shutdown (Python 3.13), for every queue class
---------------------------------------------------------------------------
local function assert_shut(q)
  t.raises("QueueShutDown", function() return q:put("data"):await() end)
  t.raises("QueueShutDown", q.put_nowait, q, "data")
  t.raises("QueueShutDown", function() return q:get():await() end)
  t.raises("QueueShutDown", q.get_nowait, q)
end

for _, cls in ipairs(classes) do
  t.test(cls .. ": shutdown of an empty queue", function()
    local q = asyncio[cls]()
    local get_task = create_task(q:get())
    yield()
    q:shutdown(false)
    t.eq(q:qsize(), 0)
    q:join():await()
    yield()
    t.ok(get_task:done())
    t.raises("QueueShutDown", get_task.await, get_task)
    assert_shut(q)
  end)

  t.test(cls .. ": shutdown of a non-empty queue", function()
    local q = asyncio[cls](1)
    q:put_nowait("data")
    local join_task = create_task(q:join())
    local put_task = create_task(q:put("data2"))
    yield()
    t.ok(not put_task:done())
    q:shutdown(false)
    t.eq(q:qsize(), 1)
    yield()
    t.ok(put_task:done())
    t.raises("QueueShutDown", put_task.await, put_task)
    t.eq(q:get():await(), "data")
    yield()
    t.ok(not join_task:done())
    assert_shut(q)
    q:task_done()
    yield()
    t.ok(join_task:done())
    join_task:await()
    t.raises("ValueError", q.task_done, q)
  end)

  t.test(cls .. ": immediate shutdown", function()
    local q = asyncio[cls]()
    q:put_nowait("data")
    local join_task = create_task(q:join())
    q:shutdown(true)
    t.eq(q:qsize(), 0)
    yield()
    t.ok(join_task:done())
    join_task:await()
    assert_shut(q)
    t.raises("ValueError", q.task_done, q)
  end)

  t.test(cls .. ": immediate shutdown with unfinished tasks", function()
    local q = asyncio[cls]()
    q:put_nowait("data")
    q:put_nowait("data")
    local join_task = create_task(q:join())
    t.eq(q:get():await(), "data")
    q:shutdown(true)
    t.eq(q:qsize(), 0)
    yield()
    t.ok(not join_task:done())
    assert_shut(q)
    q:task_done()
    t.raises("ValueError", q.task_done, q)
    yield()
    t.ok(join_task:done())
    join_task:await()
  end)
end

t.test("shutdown wakes every waiting putter and getter", function()
  local q = asyncio.Queue(1)
  q:put_nowait(0)
  local putters = { create_task(q:put(1)), create_task(q:put(2)) }
  yield()
  q:shutdown()
  for _, p in ipairs(putters) do
    t.raises("QueueShutDown", p.await, p)
  end
  t.eq(q:get_nowait(), 0)
  local q2 = asyncio.Queue()
  local getters = { create_task(q2:get()), create_task(q2:get()) }
  yield()
  q2:shutdown(true)
  for _, g in ipairs(getters) do
    t.raises("QueueShutDown", g.await, g)
  end
end)

t.run()
