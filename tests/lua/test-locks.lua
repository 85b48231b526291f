-- test-locks.lua -- asyncio.Lock, Event, Condition, Semaphore,
-- BoundedSemaphore and Barrier: the behaviours CPython's
-- Lib/test/test_asyncio/test_locks.py checks, plus guards (<close>),
-- fairness and cancellation (a cancelled acquirer never holds the lock).
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task = asyncio.sleep, asyncio.create_task

local function yield() sleep(0):await() end
local function nwaiting(d) return d.last - d.first + 1 end
local function call_soon(fn, ...) asyncio.get_running_loop():call_soon(fn, ...) end

local function expect_cancelled(task)
  t.raises("CancelledError", function() return task:await() end)
  t.ok(task:cancelled(), "task cancelled")
end

-- Creates n tasks running fn and gathers them; returns the results list.
local function gather_tasks(n, fn)
  local tasks = {}
  for i = 1, n do tasks[i] = create_task(fn) end
  return asyncio.gather(table.unpack(tasks)):await(), tasks
end

local function count(list, v)
  local n = 0
  for _, x in ipairs(list) do if x == v then n = n + 1 end end
  return n
end

local function all_true(list)
  for _, x in ipairs(list) do if x ~= true then return false end end
  return true
end

local function sorted(list)
  local c = table.move(list, 1, #list, 1, {})
  table.sort(c)
  return c
end

---------------------------------------------------------------------------
-- Lock
---------------------------------------------------------------------------
t.test("Lock: tostring", function()
  local lock = asyncio.Lock()
  t.ok(tostring(lock):find("%[unlocked%]>$"), tostring(lock))
  lock:acquire():await()
  t.ok(tostring(lock):find("%[locked%]>$"), tostring(lock))
  create_task(lock:acquire())
  yield()
  t.ok(tostring(lock):find("%[locked, waiters:1%]>$"), tostring(lock))
end)

t.test("Lock: acquire in FIFO order", function()
  local lock = asyncio.Lock()
  local result = {}
  t.ok(lock:acquire():await())
  local function c(n)
    return function()
      if lock:acquire():await() then result[#result + 1] = n end
      return true
    end
  end
  local t1 = create_task(c(1))
  local t2 = create_task(c(2))
  yield()
  t.same_as(result, {})
  lock:release()
  yield()
  t.same_as(result, { 1 })
  yield()
  t.same_as(result, { 1 })
  local t3 = create_task(c(3))
  lock:release()
  yield()
  t.same_as(result, { 1, 2 })
  lock:release()
  yield()
  t.same_as(result, { 1, 2, 3 })
  for _, task in ipairs { t1, t2, t3 } do
    t.ok(task:done())
    t.eq(task:result(), true)
  end
end)

t.test("Lock: cancelled acquire leaves no waiter", function()
  local lock = asyncio.Lock()
  lock:acquire():await()
  local task = create_task(lock:acquire())
  call_soon(task.cancel, task)
  expect_cancelled(task)
  t.eq(nwaiting(lock._waiters), 0)
  t.ok(lock:locked())
end)

t.test("Lock: cancel race", function()
  local lock = asyncio.Lock()
  local function lockit(blocker)
    return function()
      lock:acquire():await()
      local ok, err = pcall(function()
        if blocker then blocker:await() end
      end)
      lock:release()
      if not ok then error(err, 0) end
    end
  end
  local fa = asyncio.Future()
  local ta = create_task(lockit(fa))
  yield()
  t.ok(lock:locked())
  local tb = create_task(lockit(nil))
  yield()
  t.eq(nwaiting(lock._waiters), 1)
  local tc = create_task(lockit(nil))
  yield()
  t.eq(nwaiting(lock._waiters), 2)
  fa:set_result(nil)
  tb:cancel()
  t.ok(lock._waiters[lock._waiters.first]:cancelled())
  yield()
  t.ok(not lock:locked())
  t.ok(ta:done())
  t.ok(tb:cancelled())
  tc:await()
end)

t.test("Lock: cancel/release race takes the lock once (bpo-32734)", function()
  local lock = asyncio.Lock()
  local lock_count, call_count = 0, 0
  local function lockit()
    call_count = call_count + 1
    lock:acquire():await()
    lock_count = lock_count + 1
  end
  lock:acquire():await()
  local t1 = create_task(lockit)
  local t2 = create_task(lockit)
  local t3 = create_task(lockit)
  yield()
  call_soon(function() t1:cancel(); lock:release() end)
  expect_cancelled(t1)
  t.eq(lock_count, 1)
  t.eq(call_count, 3)
  t.ok(t2:done())
  t3:cancel()
  yield()
  t.ok(t3:cancelled())
end)

t.test("Lock: a woken waiter cancelled wakes the next", function()
  local lock = asyncio.Lock()
  lock:acquire():await()
  t.ok(lock:locked())
  local tb = create_task(lock:acquire())
  yield()
  t.eq(nwaiting(lock._waiters), 1)
  local tc = create_task(lock:acquire())
  tb:cancel()
  lock:release()
  yield()
  t.ok(lock:locked())
  t.ok(tb:cancelled())
  tc:await()
end)

t.test("Lock: woken, then cancelled before running, passes the lock on", function()
  local lock = asyncio.Lock()
  lock:acquire():await()
  local tb = create_task(lock:acquire())
  local tc = create_task(lock:acquire())
  yield()
  lock:release()            -- wakes tb's future
  tb:cancel()               -- tb has not run yet: it gets CancelledError
  expect_cancelled(tb)
  local g = tc:await()
  t.ok(lock:locked())
  g:release()
  t.ok(not lock:locked())
end)

t.test("Lock: release of an unlocked lock raises RuntimeError", function()
  local lock = asyncio.Lock()
  t.raises("RuntimeError", lock.release, lock)
end)

t.test("Lock: release without waiters", function()
  local lock = asyncio.Lock()
  lock:acquire():await()
  t.ok(lock:locked())
  lock:release()
  t.ok(not lock:locked())
end)

t.test("Lock: guard released by <close>, also on error", function()
  local lock = asyncio.Lock()
  do
    local g <close> = lock:acquire():await()
    t.ok(lock:locked())
    t.ok(tostring(g):find("held"))
  end
  t.ok(not lock:locked())
  local ok, err = pcall(function()
    local g <close> = lock:acquire():await()
    error("boom", 0)
  end)
  t.ok(not ok and err == "boom")
  t.ok(not lock:locked())
  -- A guard releases once: an explicit release then __close is fine.
  do
    local g <close> = lock:acquire():await()
    g:release()
    t.ok(not lock:locked())
  end
  t.ok(not lock:locked())
end)

t.test("Lock: no barging past a woken waiter", function()
  local lock = asyncio.Lock()
  local order = {}
  lock:acquire():await()
  local a = create_task(function()
    local g <close> = lock:acquire():await()
    order[#order + 1] = "a"
  end)
  yield()
  lock:release()                          -- hands the lock to a
  t.ok(not lock:locked())
  local g = lock:acquire():await()        -- must queue behind a
  order[#order + 1] = "main"
  g:release()
  a:await()
  t.same_as(order, { "a", "main" })
end)

t.test("Lock: mutual exclusion under random cancellation", function()
  local lock = asyncio.Lock()
  local inside, max_inside = 0, 0
  local tasks = {}
  for i = 1, 30 do
    tasks[i] = create_task(function()
      for _ = 1, 10 do
        local g <close> = lock:acquire():await()
        inside = inside + 1
        if inside > max_inside then max_inside = inside end
        local ok, err = pcall(yield)      -- cancelled here: still leave
        inside = inside - 1
        if not ok then error(err, 0) end
      end
    end)
  end
  for round = 1, 40 do
    yield()
    local victim = tasks[(round * 7) % #tasks + 1]
    victim:cancel()
  end
  asyncio.gather { return_exceptions = true, table.unpack(tasks) }:await()
  t.eq(max_inside, 1)
  t.eq(inside, 0)
  t.ok(not lock:locked(), "a cancelled acquirer never keeps the lock")
  t.eq(nwaiting(lock._waiters), 0)
  local g <close> = asyncio.wait_for(lock:acquire(), 1):await()
end)

-- The cancellation matrix for every acquire/wait: cancelled before it
-- starts, while parked, twice, and after it completed.
local function matrix(name, setup)
  t.test(name .. ": cancel before start, while parked, twice, after", function()
    local obj, make, check = setup()
    local before = create_task(make(obj))
    t.ok(before:cancel())
    expect_cancelled(before)
    local parked = create_task(make(obj))
    yield()
    t.ok(not parked:done())
    t.ok(parked:cancel())
    t.ok(parked:cancel(), "a second cancel() while still pending")
    expect_cancelled(parked)
    t.ok(not parked:cancel(), "cancel() after the end")
    t.eq(nwaiting(obj._waiters), 0)
    check(obj)
  end)
end

matrix("Lock.acquire", function()
  local lock = asyncio.Lock()
  lock:acquire():await()
  return lock, function(l) return l:acquire() end, function(l)
    l:release()
    t.ok(not l:locked(), "no cancelled acquirer holds the lock")
  end
end)

matrix("Semaphore.acquire", function()
  local sem = asyncio.Semaphore(0)
  return sem, function(s) return s:acquire() end, function(s)
    s:release()
    t.eq(s._value, 1, "no cancelled acquirer took the slot")
  end
end)

matrix("Event.wait", function()
  return asyncio.Event(), function(e) return e:wait() end, function(e)
    e:set()
    t.eq(e:wait():await(), true)
  end
end)

matrix("Condition.wait", function()
  local cond = asyncio.Condition()
  return cond, function(c)
    return asyncio.async(function()
      local g <close> = c:acquire():await()
      c:wait():await()
    end)()
  end, function(c)
    t.ok(not c:locked(), "the cancelled waiter released the lock again")
  end
end)

---------------------------------------------------------------------------
-- Event
---------------------------------------------------------------------------
t.test("Event: tostring", function()
  local ev = asyncio.Event()
  t.ok(tostring(ev):find("%[unset%]>$"), tostring(ev))
  ev:set()
  t.ok(tostring(ev):find("%[set%]>$"), tostring(ev))
  ev:clear()
  create_task(ev:wait())
  yield()
  t.ok(tostring(ev):find("waiters:1"), tostring(ev))
  ev:set()
end)

t.test("Event: wait wakes every waiter", function()
  local ev = asyncio.Event()
  t.ok(not ev:is_set())
  local result = {}
  local function c(n)
    return function() if ev:wait():await() then result[#result + 1] = n end end
  end
  local t1 = create_task(c(1))
  local t2 = create_task(c(2))
  yield()
  t.same_as(result, {})
  local t3 = create_task(c(3))
  ev:set()
  yield()
  t.same_as(result, { 3, 1, 2 })
  for _, task in ipairs { t1, t2, t3 } do
    t.ok(task:done())
    t.eq(task:result(), nil)
  end
end)

t.test("Event: wait on a set event", function()
  local ev = asyncio.Event()
  ev:set()
  t.eq(ev:wait():await(), true)
end)

t.test("Event: cancelled wait leaves no waiter", function()
  local ev = asyncio.Event()
  local w = create_task(ev:wait())
  call_soon(w.cancel, w)
  expect_cancelled(w)
  t.eq(nwaiting(ev._waiters), 0)
end)

t.test("Event: clear", function()
  local ev = asyncio.Event()
  t.ok(not ev:is_set())
  ev:set()
  t.ok(ev:is_set())
  ev:clear()
  t.ok(not ev:is_set())
end)

t.test("Event: clear with waiters", function()
  local ev = asyncio.Event()
  local result = {}
  local task = create_task(function()
    if ev:wait():await() then result[#result + 1] = 1 end
    return true
  end)
  yield()
  t.same_as(result, {})
  ev:set()
  ev:clear()
  t.ok(not ev:is_set())
  ev:set()
  ev:set()
  t.eq(nwaiting(ev._waiters), 1)
  yield()
  t.same_as(result, { 1 })
  t.eq(nwaiting(ev._waiters), 0)
  t.ok(task:done())
  t.eq(task:result(), true)
end)

---------------------------------------------------------------------------
-- Condition
---------------------------------------------------------------------------
t.test("Condition: wait and notify", function()
  local cond = asyncio.Condition()
  local result = {}
  local function c(n)
    return function()
      cond:acquire():await()
      if cond:wait():await() then result[#result + 1] = n end
      return true
    end
  end
  local t1, t2, t3 = create_task(c(1)), create_task(c(2)), create_task(c(3))
  yield()
  t.same_as(result, {})
  t.ok(not cond:locked())

  t.ok(cond:acquire():await())
  cond:notify()
  yield()
  t.same_as(result, {})
  t.ok(cond:locked())

  cond:release()
  yield()
  t.same_as(result, { 1 })
  t.ok(cond:locked())

  cond:notify(2)
  yield()
  t.same_as(result, { 1 })
  t.ok(cond:locked())

  cond:release()
  yield()
  t.same_as(result, { 1, 2 })
  t.ok(cond:locked())

  cond:release()
  yield()
  t.same_as(result, { 1, 2, 3 })
  t.ok(cond:locked())
  for _, task in ipairs { t1, t2, t3 } do t.eq(task:result(), true) end
end)

t.test("Condition: cancelled wait re-acquires the lock", function()
  local cond = asyncio.Condition()
  cond:acquire():await()
  local w = create_task(cond:wait())
  call_soon(w.cancel, w)
  expect_cancelled(w)
  t.eq(nwaiting(cond._waiters), 0)
  t.ok(cond:locked())
end)

t.test("Condition: cancel while contested", function()
  local cond = asyncio.Condition()
  cond:acquire():await()
  t.ok(cond:locked())
  local wait_task = create_task(cond:wait())
  yield()
  t.ok(not cond:locked())
  cond:acquire():await()
  t.ok(cond:locked())
  cond:notify()
  call_soon(wait_task.cancel, wait_task)
  call_soon(cond.release, cond)
  pcall(wait_task.await, wait_task)
  t.ok(cond:locked())
end)

t.test("Condition: cancel after notify (bpo-32841)", function()
  local waited = false
  local cond = asyncio.Condition()
  local waiter = create_task(function()
    local g <close> = cond:acquire():await()
    waited = true
    cond:wait():await()
  end)
  yield()
  cond:acquire():await()
  cond:notify()
  yield()
  waiter:cancel()
  yield()
  cond:release()
  yield()
  t.ok(waiter:cancelled())
  t.ok(waited)
end)

t.test("Condition: wait without the lock raises RuntimeError", function()
  local cond = asyncio.Condition()
  t.raises("RuntimeError", function() return cond:wait():await() end)
end)

t.test("Condition: wait_for", function()
  local cond = asyncio.Condition()
  local presult = false
  local result = {}
  local task = create_task(function()
    cond:acquire():await()
    if cond:wait_for(function() return presult end):await() then
      result[#result + 1] = 1
      cond:release()
    end
    return true
  end)
  yield()
  t.same_as(result, {})
  cond:acquire():await()
  cond:notify()
  cond:release()
  yield()
  t.same_as(result, {})
  presult = true
  cond:acquire():await()
  cond:notify()
  cond:release()
  yield()
  t.same_as(result, { 1 })
  t.eq(task:result(), true)
end)

t.test("Condition: wait_for without the lock", function()
  local cond = asyncio.Condition()
  local res = cond:wait_for(function() return { 1, 2, 3 } end):await()
  t.same_as(res, { 1, 2, 3 })
  t.raises("RuntimeError", function()
    return cond:wait_for(function() return false end):await()
  end)
end)

t.test("Condition: notify(n)", function()
  local cond = asyncio.Condition()
  local result = {}
  local function c(n)
    return function()
      cond:acquire():await()
      if cond:wait():await() then
        result[#result + 1] = n
        cond:release()
      end
      return true
    end
  end
  local tasks = { create_task(c(1)), create_task(c(2)), create_task(c(3)) }
  yield()
  t.same_as(result, {})
  cond:acquire():await()
  cond:notify(1)
  cond:release()
  yield()
  t.same_as(result, { 1 })
  cond:acquire():await()
  cond:notify(1)
  cond:notify(2048)
  cond:release()
  yield()
  t.same_as(result, { 1, 2, 3 })
  for _, task in ipairs(tasks) do t.eq(task:result(), true) end
end)

t.test("Condition: notify_all", function()
  local cond = asyncio.Condition()
  local result = {}
  local function c(n)
    return function()
      cond:acquire():await()
      if cond:wait():await() then
        result[#result + 1] = n
        cond:release()
      end
      return true
    end
  end
  local t1, t2 = create_task(c(1)), create_task(c(2))
  yield()
  t.same_as(result, {})
  cond:acquire():await()
  cond:notify_all()
  cond:release()
  yield()
  t.same_as(result, { 1, 2 })
  t.eq(t1:result(), true)
  t.eq(t2:result(), true)
end)

t.test("Condition: notify without the lock raises RuntimeError", function()
  local cond = asyncio.Condition()
  t.raises("RuntimeError", cond.notify, cond)
  t.raises("RuntimeError", cond.notify_all, cond)
end)

t.test("Condition: tostring", function()
  local cond = asyncio.Condition()
  t.ok(tostring(cond):find("unlocked"), tostring(cond))
  cond:acquire():await()
  t.ok(tostring(cond):find("%[locked%]"), tostring(cond))
end)

t.test("Condition: explicit lock", function()
  local function f(lock, cond)
    lock = lock or asyncio.Lock()
    cond = cond or asyncio.Condition(lock)
    t.ok(cond._lock == lock)
    t.ok(not lock:locked())
    t.ok(not cond:locked())
    do
      local g <close> = cond:acquire():await()
      t.ok(lock:locked())
      t.ok(cond:locked())
    end
    t.ok(not lock:locked())
    t.ok(not cond:locked())
    do
      local g <close> = lock:acquire():await()
      t.ok(lock:locked())
      t.ok(cond:locked())
    end
    t.ok(not lock:locked())
    t.ok(not cond:locked())
  end
  f()
  f(asyncio.Lock())
  local lock = asyncio.Lock()
  f(lock, asyncio.Condition(lock))
end)

t.test("Condition: timeout while waiting keeps the lock", function()
  local cond = asyncio.Condition()
  local g <close> = cond:acquire():await()
  t.raises("TimeoutError", function()
    return asyncio.wait_for(cond:wait(), 0.02):await()
  end)
  t.ok(cond:locked())
end)

t.test("Condition: CancelledError while waiting comes out unchanged", function()
  local wake, raised = false, nil
  local cond = asyncio.Condition()
  local task = create_task(function()
    local g <close> = cond:acquire():await()
    raised = t.raises("CancelledError", function()
      return cond:wait_for(function() return wake end):await()
    end)
    t.ok(cond:locked())
    error(raised, 0)
  end)
  yield()
  task:cancel("foo")
  local err = t.raises("CancelledError", task.await, task)
  t.ok(tostring(err):find("foo"), tostring(err))
  t.ok(raised and tostring(raised):find("foo"), tostring(raised))
end)

t.test("Condition: CancelledError while re-acquiring comes out unchanged", function()
  local wake, raised = false, nil
  local cond = asyncio.Condition()
  local task = create_task(function()
    local g <close> = cond:acquire():await()
    raised = t.raises("CancelledError", function()
      return cond:wait_for(function() return wake end):await()
    end)
    error(raised, 0)
  end)
  yield()
  cond:acquire():await()
  wake = true
  cond:notify()
  yield()
  task:cancel("foo")
  cond:release()
  local err = t.raises("CancelledError", task.await, task)
  t.ok(tostring(err):find("foo"), tostring(err))
  t.ok(raised and tostring(raised):find("foo"), tostring(raised))
end)

-- A consumer cancelled when notified (before running, or while taking the
-- lock again) must not lose the notification.
local function cancelled_wakeup(relock)
  return function()
    local cond = asyncio.Condition()
    local state = 0
    local function consumer()
      local g <close> = cond:acquire():await()
      while true do
        cond:wait_for(function() return state ~= 0 end):await()
        if state < 0 then return end
        state = state - 1
      end
    end
    local c = { create_task(consumer), create_task(consumer) }
    yield()
    do
      local g <close> = cond:acquire():await()
      state = state + 1
      cond:notify(1)
      if relock then yield() end
      c[1]:cancel()
      pcall(function()
        return asyncio.wait_for(cond:wait_for(function() return state == 0 end),
                                0.1):await()
      end)
      t.eq(state, 0, "the notification was not lost")
      state = -1
      cond:notify_all()
    end
    c[2]:await()
    expect_cancelled(c[1])
  end
end

t.test("Condition: cancelled wakeup is not lost", cancelled_wakeup(false))
t.test("Condition: cancelled wakeup while re-locking is not lost",
       cancelled_wakeup(true))

---------------------------------------------------------------------------
-- Semaphore and BoundedSemaphore
---------------------------------------------------------------------------
t.test("Semaphore: initial value zero is locked", function()
  t.ok(asyncio.Semaphore(0):locked())
end)

t.test("Semaphore: tostring", function()
  local sem = asyncio.Semaphore()
  t.ok(tostring(sem):find("%[unlocked, value:1%]>$"), tostring(sem))
  sem:acquire():await()
  t.ok(tostring(sem):find("%[locked%]>$"), tostring(sem))
  create_task(sem:acquire())
  yield()
  t.ok(tostring(sem):find("waiters:1"), tostring(sem))
  sem:release()
end)

t.test("Semaphore: default value and bad values", function()
  local sem = asyncio.Semaphore()
  t.eq(sem._value, 1)
  t.ok(not sem:locked())
  t.raises("ValueError", asyncio.Semaphore, -1)
  t.raises("ValueError", asyncio.BoundedSemaphore, -1)
  t.raises("TypeError", asyncio.Semaphore, "x")
end)

t.test("Semaphore: acquire", function()
  local sem = asyncio.Semaphore(3)
  local result = {}
  t.ok(sem:acquire():await())
  t.ok(sem:acquire():await())
  t.ok(not sem:locked())
  local function c(n)
    return function()
      sem:acquire():await()
      result[#result + 1] = n
      return true
    end
  end
  local t1, t2, t3 = create_task(c(1)), create_task(c(2)), create_task(c(3))
  yield()
  t.same_as(result, { 1 })
  t.ok(sem:locked())
  t.eq(nwaiting(sem._waiters), 2)
  t.eq(sem._value, 0)
  local t4 = create_task(c(4))
  sem:release()
  sem:release()
  t.eq(sem._value, 0)
  yield()
  t.eq(sem._value, 0)
  t.eq(#result, 3)
  t.ok(sem:locked())
  t.eq(nwaiting(sem._waiters), 1)
  t.ok(t1:done() and t1:result())
  local ndone = 0
  for _, task in ipairs { t2, t3, t4 } do
    if task:done() and task:result() then ndone = ndone + 1 end
  end
  t.eq(ndone, 2)
  sem:release()
  asyncio.gather(t2, t3, t4):await()
end)

t.test("Semaphore: cancelled acquire", function()
  local sem = asyncio.Semaphore()
  sem:acquire():await()
  local acq = create_task(sem:acquire())
  call_soon(acq.cancel, acq)
  expect_cancelled(acq)
  t.eq(nwaiting(sem._waiters), 0)
end)

t.test("Semaphore: cancelled before awoken", function()
  local sem = asyncio.Semaphore(0)
  local ts = {}
  for i = 1, 4 do ts[i] = create_task(sem:acquire()) end
  yield()
  ts[1]:cancel()
  ts[2]:cancel()
  sem:release()
  yield()
  yield()
  t.ok(ts[3]:done())
  t.ok(not ts[4]:done())
  ts[3]:cancel()
  ts[4]:cancel()
  yield()
end)

t.test("Semaphore: no hang when a woken waiter is cancelled", function()
  local sem = asyncio.Semaphore(0)
  local t1 = create_task(sem:acquire())
  local t2 = create_task(sem:acquire())
  yield()
  t1:cancel()
  sem:release()
  yield()
  yield()
  t.ok(sem:locked())
  t.ok(t2:done())
end)

t.test("Semaphore: no hang when a holder cancels a waiter", function()
  local sem = asyncio.Semaphore(1)
  local t2
  local t1 = create_task(function()
    do
      local g <close> = sem:acquire():await()
      yield()
    end
    t2:cancel()
  end)
  t2 = create_task(function()
    local g <close> = sem:acquire():await()
    error("should not get the semaphore")
  end)
  local res = asyncio.gather { t1, t2, return_exceptions = true }:await()
  t.eq(res[1], nil)
  t.ok(asyncio.iserror(res[2], "CancelledError"), tostring(res[2]))
  local g <close> = asyncio.wait_for(sem:acquire(), 1):await()
end)

t.test("BoundedSemaphore: over-release raises ValueError", function()
  local sem = asyncio.BoundedSemaphore()
  t.raises("ValueError", sem.release, sem)
  sem:acquire():await()
  sem:release()
  t.raises("ValueError", sem.release, sem)
  local sem2 = asyncio.BoundedSemaphore(2)
  local g1 = sem2:acquire():await()
  local g2 = sem2:acquire():await()
  t.ok(sem2:locked())
  g1:release()
  g2:release()
  g2:release()                            -- a guard releases once
  t.raises("ValueError", sem2.release, sem2)
end)

t.test("Semaphore: release without waiters", function()
  local sem = asyncio.Semaphore()
  sem:acquire():await()
  t.ok(sem:locked())
  sem:release()
  t.ok(not sem:locked())
end)

t.test("Semaphore: FIFO order", function()
  local sem = asyncio.Semaphore(1)
  local result = {}
  local function coro(tag)
    return function()
      sem:acquire():await()
      result[#result + 1] = tag .. "_1"
      sleep(0.005):await()
      sem:release()
      sem:acquire():await()
      result[#result + 1] = tag .. "_2"
      sleep(0.005):await()
      sem:release()
    end
  end
  asyncio.gather(create_task(coro("c1")), create_task(coro("c2")),
                 create_task(coro("c3"))):await()
  t.same_as(result, { "c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2" })
end)

t.test("Semaphore: FIFO order 2", function()
  local sem = asyncio.Semaphore(1)
  local result = {}
  local t1 = create_task(function()
    sem:acquire():await()
    result[#result + 1] = 1
    return true
  end)
  local t2 = create_task(function()
    sem:acquire():await()
    result[#result + 1] = 2
    sem:release()
    sem:acquire():await()
    result[#result + 1] = 4
    return true
  end)
  local t3 = create_task(function()
    sem:acquire():await()
    result[#result + 1] = 3
    return true
  end)
  yield()
  sem:release()
  sem:release()
  asyncio.gather(t1, t2, t3):await()
  t.same_as(result, { 1, 2, 3, 4 })
end)

t.test("Semaphore: FIFO order 3", function()
  local sem = asyncio.Semaphore(0)
  local result = {}
  local function c(n)
    return function()
      sem:acquire():await()
      result[#result + 1] = n
      return true
    end
  end
  local t1, t2, t3 = create_task(c(1)), create_task(c(2)), create_task(c(3))
  yield()
  t1:cancel()
  yield()
  sem:release()
  sem:release()
  asyncio.gather { t1, t2, t3, return_exceptions = true }:await()
  t.same_as(result, { 2, 3 })
end)

t.test("Semaphore: guard, and the count under random cancellation", function()
  local sem = asyncio.Semaphore(3)
  local inside, max_inside = 0, 0
  local tasks = {}
  for i = 1, 20 do
    tasks[i] = create_task(function()
      for _ = 1, 10 do
        local g <close> = sem:acquire():await()
        inside = inside + 1
        if inside > max_inside then max_inside = inside end
        local ok, err = pcall(yield)      -- cancelled here: still leave
        inside = inside - 1
        if not ok then error(err, 0) end
      end
    end)
  end
  for round = 1, 30 do
    yield()
    tasks[(round * 3) % #tasks + 1]:cancel()
  end
  asyncio.gather { return_exceptions = true, table.unpack(tasks) }:await()
  t.eq(max_inside, 3)
  t.eq(inside, 0)
  t.eq(sem._value, 3, "every slot came back")
  t.ok(not sem:locked())
end)

---------------------------------------------------------------------------
-- Barrier
---------------------------------------------------------------------------
local N = 5

t.test("Barrier: parties", function()
  t.raises("ValueError", asyncio.Barrier, 0)
  t.raises("ValueError", asyncio.Barrier, -4)
  local b = asyncio.Barrier(N)
  t.eq(b.parties, N)
  t.eq(b.n_waiting, 0)
  t.eq(b.broken, false)
end)

t.test("Barrier: tostring through its states", function()
  local barrier = asyncio.Barrier(N)
  t.ok(tostring(barrier):find("filling"), tostring(barrier))
  local waiters = {}
  local function wait() barrier:wait():await() end
  for _ = 1, 2 do waiters[#waiters + 1] = create_task(wait) end
  yield()
  t.ok(tostring(barrier):find("waiters:2/5", 1, true), tostring(barrier))
  t.ok(tostring(barrier):find("filling"))
  for _ = 1, barrier.parties - barrier.n_waiting do
    waiters[#waiters + 1] = create_task(wait)
  end
  yield()
  t.ok(tostring(barrier):find("draining"), tostring(barrier))
  for _ = 1, 2 do waiters[#waiters + 1] = create_task(wait) end
  yield()
  barrier:reset():await()
  t.ok(tostring(barrier):find("resetting"), tostring(barrier))
  for _ = 1, 2 do waiters[#waiters + 1] = create_task(wait) end
  yield()
  barrier:abort():await()
  t.ok(tostring(barrier):find("broken"), tostring(barrier))
  t.ok(barrier.broken)
  asyncio.gather { return_exceptions = true, table.unpack(waiters) }:await()
end)

t.test("Barrier: wait returns the arrival indexes", function()
  local barrier = asyncio.Barrier(3)
  local results = {}
  gather_tasks(3, function()
    local i = barrier:wait():await()  -- before taking #results: others run
    results[#results + 1] = i
  end)
  t.same_as(sorted(results), { 0, 1, 2 })
  t.eq(barrier.n_waiting, 0)
  t.ok(not barrier.broken)
end)

t.test("Barrier: one party", function()
  local barrier = asyncio.Barrier(1)
  t.eq(barrier:wait():await(), 0)
  t.eq(barrier.n_waiting, 0)
  t.ok(not barrier.broken)
  local t1 = create_task(barrier:wait())
  yield()
  t.eq(barrier.n_waiting, 0)
  local t2 = create_task(barrier:wait())
  yield()
  t.eq(t1:result(), t2:result())
  t.eq(t1:done(), t2:done())
  t.eq(barrier.n_waiting, 0)
end)

t.test("Barrier: filling task by task", function()
  local barrier = asyncio.Barrier(3)
  local t1 = create_task(barrier:wait())
  yield()
  t.eq(barrier.n_waiting, 1)
  local t2 = create_task(barrier:wait())
  yield()
  t.eq(barrier.n_waiting, 2)
  local t3 = create_task(barrier:wait())
  yield()
  asyncio.wait { t1, t2, t3 }:await()
  t.eq(barrier.n_waiting, 0)
  t.ok(not barrier.broken)
end)

t.test("Barrier: waiting twice", function()
  local barrier = asyncio.Barrier(N)
  local results = {}
  gather_tasks(N, function()
    barrier:wait():await()
    results[#results + 1] = true
    barrier:wait():await()
    results[#results + 1] = false
  end)
  t.eq(#results, 2 * N)
  t.eq(count(results, true), N)
  t.eq(count(results, false), N)
  -- Every first pass comes before every second one.
  for i = 1, N do t.eq(results[i], true) end
  t.eq(barrier.n_waiting, 0)
end)

t.test("Barrier: return values of a second wait", function()
  local barrier = asyncio.Barrier(N)
  local res = gather_tasks(N, function()
    barrier:wait():await()
    return barrier:wait():await()
  end)
  t.same_as(sorted({ table.unpack(res, 1, N) }), { 0, 1, 2, 3, 4 })
end)

t.test("Barrier: draining state", function()
  local barrier = asyncio.Barrier(N)
  local results = {}
  gather_tasks(N, function()
    barrier:wait():await()
    results[#results + 1] = tostring(barrier):find("draining") ~= nil
  end)
  t.eq(#results, N)
  t.eq(results[N], false)
  for i = 1, N - 1 do t.eq(results[i], true) end
end)

t.test("Barrier: tasks blocked while it drains", function()
  local rewait = 2
  local barrier = asyncio.Barrier(N)
  local barrier_nowaiting = asyncio.Barrier(N - rewait)
  local rewait_n = rewait
  gather_tasks(N, function()
    barrier:wait():await()
    if rewait_n > 0 then
      rewait_n = rewait_n - 1
      barrier:wait():await()
    else
      barrier_nowaiting:wait():await()
      barrier:wait():await()
    end
  end)
end)

t.test("Barrier: a cancelled waiter leaves", function()
  local barrier = asyncio.Barrier(3)
  local results = {}
  local function coro()
    barrier:wait():await()
    results[#results + 1] = true
  end
  local t1 = create_task(coro)
  yield()
  t.eq(barrier.n_waiting, 1)
  local t2 = create_task(coro)
  yield()
  t.eq(barrier.n_waiting, 2)
  t1:cancel()
  yield()
  t.eq(barrier.n_waiting, 1)
  expect_cancelled(t1)
  local t3 = create_task(coro)
  yield()
  t.eq(barrier.n_waiting, 2)
  local t4 = create_task(coro)
  asyncio.gather(t2, t3, t4):await()
  t.eq(#results, 3)
  t.eq(barrier.n_waiting, 0)
  t.ok(not barrier.broken)
end)

t.test("Barrier: reset of an empty barrier", function()
  local barrier = asyncio.Barrier(1)
  create_task(barrier:reset())
  yield()
  t.eq(barrier.n_waiting, 0)
  t.ok(not barrier.broken)
end)

t.test("Barrier: reset while tasks wait", function()
  local barrier = asyncio.Barrier(N)
  local results = {}
  local tasks = {}
  for i = 1, N - 1 do
    tasks[i] = create_task(function()
      local ok, err = pcall(function() return barrier:wait():await() end)
      if not ok and asyncio.iserror(err, "BrokenBarrierError") then
        results[#results + 1] = true
      end
    end)
  end
  yield()
  create_task(barrier:reset())
  asyncio.gather(table.unpack(tasks)):await()
  t.eq(#results, N - 1)
  t.eq(barrier.n_waiting, 0)
  t.ok(not tostring(barrier):find("resetting"))
  t.ok(not barrier.broken)
end)

t.test("Barrier: reset when half the tasks are draining", function()
  local barrier = asyncio.Barrier(N)
  local results1 = {}
  local rest_of_tasks = N // 2
  gather_tasks(N, function()
    local ok, err = pcall(function() return barrier:wait():await() end)
    if not ok then
      t.ok(asyncio.iserror(err, "BrokenBarrierError"), tostring(err))
      results1[#results1 + 1] = true
    elseif rest_of_tasks == barrier._count then
      barrier:reset():await()
    end
  end)
  t.eq(#results1, rest_of_tasks)
  t.eq(barrier.n_waiting, 0)
  t.ok(not tostring(barrier):find("resetting"))
  t.ok(not barrier.broken)
end)

t.test("Barrier: reset when half drain and half block", function()
  local barrier = asyncio.Barrier(N)
  local results1, results2 = {}, {}
  local blocking_tasks = N // 2
  local n = 0
  gather_tasks(N, function()
    local ok = pcall(function() return barrier:wait():await() end)
    if not ok then
      results1[#results1 + 1] = true
      barrier:wait():await()
    else
      n = n + 1
      if n > blocking_tasks then
        barrier:reset():await()
        barrier:wait():await()
      else
        local ok2 = pcall(function() return barrier:wait():await() end)
        if not ok2 then results2[#results2 + 1] = true end
      end
    end
  end)
  t.eq(#results1, blocking_tasks)
  t.same_as(results2, {})
  t.eq(barrier.n_waiting, 0)
  t.ok(not barrier.broken)
end)

t.test("Barrier: reset while tasks wait, then they wait again", function()
  local barrier = asyncio.Barrier(N)
  local results1, results2 = {}, {}
  local tasks = {}
  for i = 1, N - 1 do
    tasks[i] = create_task(function()
      local ok = pcall(function() return barrier:wait():await() end)
      if not ok then results1[#results1 + 1] = true end
      barrier:wait():await()
      results2[#results2 + 1] = true
    end)
  end
  create_task(barrier:reset())
  yield()
  create_task(function()
    barrier:wait():await()
    results2[#results2 + 1] = true
  end)
  asyncio.gather(table.unpack(tasks)):await()
  t.ok(not barrier.broken)
  t.eq(#results1, N - 1)
  t.eq(#results2, N)
  t.eq(barrier.n_waiting, 0)
end)

t.test("Barrier: reset while tasks drain", function()
  local barrier = asyncio.Barrier(N)
  local results1, results2, results3 = {}, {}, {}
  local n = 0
  gather_tasks(N, function()
    barrier:wait():await()
    n = n + 1
    if n == N then
      barrier:reset():await()
      barrier:wait():await()
    else
      local ok = pcall(function() return barrier:wait():await() end)
      if ok then results1[#results1 + 1] = true
      else results2[#results2 + 1] = true end
    end
    barrier:wait():await()
    results3[#results3 + 1] = true
  end)
  t.ok(not barrier.broken)
  t.eq(#results1, N - 1)
  t.eq(#results2, 0)
  t.eq(#results3, N)
  t.eq(barrier.n_waiting, 0)
end)

t.test("Barrier: abort", function()
  local barrier = asyncio.Barrier(1)
  create_task(barrier:abort())
  yield()
  t.eq(barrier.n_waiting, 0)
  t.ok(barrier.broken)
  local err = t.raises("BrokenBarrierError", function()
    return barrier:wait():await()
  end)
  t.ok(asyncio.iserror(err, asyncio.BrokenBarrierError))
end)

t.test("Barrier: abort when half drain and half block", function()
  local barrier = asyncio.Barrier(N)
  local results1, results2 = {}, {}
  local blocking_tasks = N // 2
  local n = 0
  gather_tasks(N, function()
    local ok = pcall(function() return barrier:wait():await() end)
    if not ok then
      results1[#results1 + 1] = true
    else
      n = n + 1
      if n > blocking_tasks then
        barrier:abort():await()
      else
        local ok2, err = pcall(function() return barrier:wait():await() end)
        if not ok2 and asyncio.iserror(err, "BrokenBarrierError") then
          results2[#results2 + 1] = true
        end
      end
    end
  end)
  t.ok(barrier.broken)
  t.eq(#results1, blocking_tasks)
  t.eq(#results2, N - blocking_tasks - 1)
  t.eq(barrier.n_waiting, 0)
end)

t.test("Barrier: abort on an error", function()
  local barrier = asyncio.Barrier(N)
  local results1, results2 = {}, {}
  gather_tasks(N, function()
    local ok, err = pcall(function()
      local i = barrier:wait():await()
      if i == N // 2 then error("boom", 0) end
      barrier:wait():await()
      results1[#results1 + 1] = true
    end)
    if not ok then
      if asyncio.iserror(err, "BrokenBarrierError") then
        results2[#results2 + 1] = true
      else
        barrier:abort():await()
      end
    end
  end)
  t.ok(barrier.broken)
  t.eq(#results1, 0)
  t.eq(#results2, N - 1)
  t.eq(barrier.n_waiting, 0)
end)

t.test("Barrier: abort on an error, then reset", function()
  local barrier1, barrier2 = asyncio.Barrier(N), asyncio.Barrier(N)
  local results1, results2, results3 = {}, {}, {}
  gather_tasks(N, function()
    local ok, err = pcall(function()
      local i = barrier1:wait():await()
      if i == N // 2 then error("boom", 0) end
      barrier1:wait():await()
      results1[#results1 + 1] = true
    end)
    if not ok then
      if asyncio.iserror(err, "BrokenBarrierError") then
        results2[#results2 + 1] = true
      else
        barrier1:abort():await()
      end
    end
    local i = barrier2:wait():await()
    if i == N // 2 then barrier1:reset():await() end
    barrier2:wait():await()
    barrier1:wait():await()
    results3[#results3 + 1] = true
  end)
  t.ok(not barrier1.broken)
  t.eq(#results1, 0)
  t.eq(#results2, N - 1)
  t.ok(all_true(results2))
  t.eq(#results3, N)
  t.eq(barrier1.n_waiting, 0)
end)

t.run()
