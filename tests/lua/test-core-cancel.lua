-- test-core-cancel.lua -- cancellation: delivered as a CancelledError at the
-- await point, pcall handlers and <close> variables run (and may await),
-- the awaited operation is cancelled too, messages, swallowing, and a
-- cancellation matrix (before start, while parked, after completion,
-- twice) over every kind of awaitable.  Expected behaviour from CPython
-- 3.11 running the same programs.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task, Future = asyncio.sleep, asyncio.create_task, asyncio.Future
local log = t.log

local function yield() sleep(0):await() end

local function expect_cancelled(task, msg)
  local err = t.raises("CancelledError", task.await, task)
  t.eq(task:cancelled(), true, "task:cancelled()")
  if msg then t.eq(err.message, msg, "cancel message") end
  return err
end

local body = asyncio.async(function()
  log("body ran")
  sleep(1):await()
end)

t.test("cancel before start: the body never runs", function()
  -- t = create_task(body()); t.cancel(); t.cancel('m2') -> True True,
  -- cancelling() == 2; await t -> CancelledError('m2'); "body ran" never
  local task = create_task(body())
  t.eq(task:cancel(), true)
  t.eq(task:cancel("m2"), true)
  t.eq(task:cancelling(), 2)
  expect_cancelled(task, "m2")
  t.same_as(t.events(), {})
end)

t.test("cancel messages: a number becomes a string, others are dropped", function()
  -- before its first step (the task has no thread yet) and while parked
  for _, m in ipairs({ 42, "m", {}, false }) do
    local want = (type(m) == "number" or type(m) == "string") and tostring(m) or ""
    local early = create_task(function() end)
    early:cancel(m)
    local parked = create_task(function() sleep(1):await() end)
    yield()
    parked:cancel(m)
    expect_cancelled(early, want)
    expect_cancelled(parked, want)
  end
end)

t.test("cancel while parked, twice: the first message wins", function()
  -- c1 True c2 True n 2; CancelledError('m1')
  local task = create_task(body())
  yield()
  t.eq(task:cancel("m1"), true)
  t.eq(task:cancel("m2"), true)
  t.eq(task:cancelling(), 2)
  expect_cancelled(task, "m1")
  t.same_as(t.events(), { "body ran" })
end)

t.test("cancel after completion returns false and keeps the result", function()
  local task = create_task(function() return "done" end)
  task:await()
  t.eq(task:cancel(), false)
  t.eq(task:cancelled(), false)
  t.eq(task:result(), "done")
  t.eq(task:cancelling(), 0)
end)

t.test("cancel of a failed task returns false and keeps the error", function()
  local task = create_task(function() error("e", 0) end)
  yield()
  t.eq(task:cancel(), false)
  t.eq(task:exception(), "e")
end)

t.test("pcall sees the CancelledError at the await; <close> runs", function()
  local task = create_task(function()
    local guard <close> = setmetatable({}, { __close = function(_, e)
      log("close " .. tostring(asyncio.iserror(e, "CancelledError")))
    end })
    local ok, err = pcall(function() sleep(1):await() end)
    log("pcall " .. tostring(ok) .. " " .. err.type)
    error(err, 0)
  end)
  yield()
  task:cancel()
  expect_cancelled(task)
  t.same_as(t.events(), { "pcall false CancelledError", "close true" })
end)

t.test("<close> variables close in reverse order through nested coroutines", function()
  local inner = asyncio.async(function()
    local a <close> = setmetatable({}, { __close = function() log("inner close") end })
    sleep(1):await()
  end)
  local task = create_task(function()
    local b <close> = setmetatable({}, { __close = function() log("outer close") end })
    inner():await()
  end)
  yield()
  task:cancel()
  expect_cancelled(task)
  t.same_as(t.events(), { "inner close", "outer close" })
end)

t.test("cleanup may await after the cancellation", function()
  -- try: await sleep(1) finally: await sleep(.01); log -> then cancelled
  local task = create_task(function()
    local ok, err = pcall(function() sleep(1):await() end)
    sleep(0.01):await()
    log("cleanup awaited")
    error(err, 0)
  end)
  yield()
  task:cancel()
  expect_cancelled(task)
  log("cl cancelled")
  t.same_as(t.events(), { "cleanup awaited", "cl cancelled" })
end)

t.test("a <close> handler may await during cancellation", function()
  local task = create_task(function()
    local g <close> = setmetatable({}, { __close = function()
      sleep(0.005):await()
      log("closed after await")
    end })
    sleep(1):await()
  end)
  yield()
  task:cancel()
  expect_cancelled(task)
  t.same_as(t.events(), { "closed after await" })
end)

t.test("a task that swallows the cancellation goes on and succeeds", function()
  local task = create_task(function()
    local ok = pcall(function() sleep(1):await() end)
    log("swallowed " .. tostring(not ok))
    sleep(0):await()
    return "ret"
  end)
  yield()
  task:cancel()
  t.eq(task:await(), "ret")
  t.eq(task:cancelled(), false)
  t.same_as(t.events(), { "swallowed true" })
end)

t.test("a task that turns the cancellation into another error fails with it", function()
  local task = create_task(function()
    local ok = pcall(function() sleep(1):await() end)
    error({ kind = "other" })
  end)
  yield()
  task:cancel()
  local err = t.raises(nil, task.await, task)
  t.eq(err.kind, "other")
  t.eq(task:cancelled(), false)
end)

t.test("self-cancel: delivered at the next real suspension", function()
  -- current_task().cancel(); await done_future; await coro(); then
  -- await sleep(0) raises; a second sleep(0) goes on
  local task = create_task(function()
    asyncio.current_task():cancel()
    local f = Future()
    f:set_result(1)
    f:await()
    log("after done future")
    asyncio.async(function() log("coro inline") end)():await()
    local ok, err = pcall(function() sleep(0):await() end)
    if not ok and asyncio.iserror(err, "CancelledError") then log("cancelled at sleep") end
    sleep(0):await()
    log("continues")
    return "ret"
  end)
  t.eq(task:await(), "ret")
  t.eq(task:cancelled(), false)
  t.same_as(t.events(), { "after done future", "coro inline", "cancelled at sleep", "continues" })
end)

t.test("cancelling a task cancels the future it awaits", function()
  local f = Future()
  local task = create_task(function() f:await() end)
  yield()
  task:cancel("msg")
  expect_cancelled(task, "msg")
  t.eq(f:cancelled(), true)
end)

t.test("cancelling a task cancels the task it awaits", function()
  local inner = create_task(function() sleep(1):await() end)
  local task = create_task(function() inner:await() end)
  yield()
  task:cancel()
  expect_cancelled(task)
  t.eq(inner:cancelled(), true)
end)

t.test("an awaited task cancelled with a message: the awaiter gets it", function()
  -- inner.cancel("inner msg") -> outer sees CancelledError('inner msg'),
  -- outer.cancelled() True
  local inner = create_task(function() sleep(1):await() end)
  local outer = create_task(function() inner:await() end)
  yield()
  inner:cancel("inner msg")
  expect_cancelled(outer, "inner msg")
end)

t.test("cancellation inside a deep chain of awaited coroutines", function()
  local depth = 0
  local rec
  rec = asyncio.async(function(n)
    if n == 0 then sleep(1):await() return end
    local ok, err = pcall(asyncio.await, rec(n - 1))
    depth = depth + 1
    error(err, 0)
  end)
  local task = create_task(rec(50))
  yield()
  task:cancel()
  expect_cancelled(task)
  t.eq(depth, 50, "every level saw the error")
end)

t.test("a cancelled sleep does not wake the task later", function()
  local wakes = 0
  local task = create_task(function()
    pcall(function() sleep(0.01):await() end)
    wakes = wakes + 1
    sleep(0.03):await()   -- the old 10 ms timer must not cut this short
    wakes = wakes + 1
  end)
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  yield()
  task:cancel()
  task:await()
  t.eq(wakes, 2)
  t.ok(loop:time() - t0 >= 0.025, "second sleep lasted " .. (loop:time() - t0))
end)

t.test("uncancel lets a task decrement its cancellation count", function()
  local task = create_task(function()
    pcall(function() sleep(1):await() end)
    local me = asyncio.current_task()
    t.eq(me:cancelling(), 1)
    t.eq(me:uncancel(), 0)
    sleep(0):await()
    return "ok"
  end)
  yield()
  task:cancel()
  t.eq(task:await(), "ok")
end)

-- The cancellation matrix: for each awaitable kind, cancel the awaiting
-- task before it starts, while it is parked, after it completed, twice.
local D = 0.05   -- long enough to be parked after two yields
local kinds = {
  sleep = function(d) return sleep(d, "r") end,
  future = function(d)
    local f = Future()
    asyncio.get_running_loop():call_later(d, function() if not f:done() then f:set_result("r") end end)
    return f
  end,
  task = function(d) return create_task(function() sleep(d):await(); return "r" end) end,
  coroutine = function(d) return asyncio.async(function() sleep(d):await(); return "r" end)() end,
  gather = function(d) return asyncio.gather(sleep(d, "r")) end,
  wait_for = function(d) return asyncio.wait_for(sleep(d, "r"), 1) end,
  shield = function(d) return asyncio.shield(sleep(d, "r")) end,
  timeout = function(d) return asyncio.timeout(1, function() return sleep(d, "r"):await() end) end,
  TaskGroup = function(d)
    return asyncio.TaskGroup(function(tg)
      tg:create_task(function() sleep(d):await() end)
      sleep(d):await()
    end)
  end,
  wait = function(d) return asyncio.wait({ sleep(d) }) end,
  as_completed = function(d) return asyncio.as_completed({ sleep(d, "r") })() end,
}
local names = {}
for k in pairs(kinds) do names[#names + 1] = k end
table.sort(names)

for _, kind in ipairs(names) do
  local make = kinds[kind]
  local run = function(aw)
    local ok, err = pcall(asyncio.await, aw)
    log(ok and "completed" or (asyncio.iserror(err, "CancelledError") and "cancelled" or tostring(err)))
    error(err, 0)
  end

  t.test("matrix " .. kind .. ": cancel before start", function()
    local aw = make(D)
    local task = create_task(run, aw)
    t.eq(task:cancel(), true)
    expect_cancelled(task)
    t.same_as(t.events(), {})
    if asyncio.iscoroutine(aw) then aw:close() end
    sleep(0):await()
  end)

  t.test("matrix " .. kind .. ": cancel while parked", function()
    local task = create_task(run, make(D))
    yield()
    yield()
    t.eq(task:cancel(), true)
    expect_cancelled(task)
    t.same_as(t.events(), { "cancelled" })
  end)

  t.test("matrix " .. kind .. ": cancel twice while parked", function()
    local task = create_task(run, make(D))
    yield()
    yield()
    t.eq(task:cancel(), true)
    t.eq(task:cancel(), true)
    expect_cancelled(task)
    t.same_as(t.events(), { "cancelled" }, "one CancelledError only")
  end)

  t.test("matrix " .. kind .. ": cancel after completion", function()
    local task = create_task(function() return asyncio.await(make(0.001)) end)
    task:await()
    t.eq(task:cancel(), false)
    t.eq(task:cancelled(), false)
    t.eq(task:done(), true)
  end)
end

t.test("cancel passes down a long chain of tasks awaiting tasks", function()
  -- each task's cancel() cancels the task it awaits, down to the future
  -- at the end (a C recursion, which overflowed its stack, before)
  local N, tasks, leaf = 5000, {}, Future()
  for i = N, 1, -1 do
    local nxt = tasks[i + 1] or leaf
    tasks[i] = create_task(function() return nxt:await() end)
  end
  yield()
  t.eq(tasks[1]:cancel("stop"), true)
  t.eq(leaf:cancelled(), true)
  local ok, err = pcall(tasks[1].await, tasks[1])
  t.eq(ok, false)
  t.ok(asyncio.iserror(err, "CancelledError"), tostring(err))
  for i = 1, N do t.eq(tasks[i]:cancelled(), true) end
  t.eq(tasks[N]:cancelling(), 1)
  t.eq(tasks[1]:cancelling(), 1)
end)

t.test("cancel on a cycle of tasks awaiting each other returns", function()
  local t1, t2
  t1 = create_task(function() yield(); return t2:await() end)
  t2 = create_task(function() yield(); return t1:await() end)
  yield(); yield()
  t.eq(t1:cancel(), true)                -- t2, where the walk closes, takes it
  t.eq(t1:cancel(), true)                -- and again, with the marks gone
  expect_cancelled(t2)
  expect_cancelled(t1)                   -- by its await of t2
end)

t.run()
