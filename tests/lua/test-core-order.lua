-- test-core-order.lua -- scheduling order, modelled on Python asyncio.
-- Each case ports a small Python program; the expected event order is
-- what /usr/bin/python3 (3.11) printed for it.  The Python source is in
-- the comment above each case.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task = asyncio.sleep, asyncio.create_task
local log = t.log

-- async def child(name, n):
--     ev.append(f"{name} start")
--     for i in range(n):
--         await asyncio.sleep(0); ev.append(f"{name} step{i+1}")
--     ev.append(f"{name} end"); return name
local child = asyncio.async(function(name, n)
  log(name .. " start")
  for i = 1, n do
    sleep(0):await()
    log(name .. " step" .. i)
  end
  log(name .. " end")
  return name
end)

-- a = create_task(child("a", 2)); b = create_task(child("b", 1))
-- c = create_task(child("c", 0)); ev.append("created")
-- await asyncio.sleep(0); ev.append("main after sleep0")
-- await asyncio.gather(a, b, c); ev.append("main done")
t.test("create_task schedules, FIFO, a task runs until its next await", function()
  local a = create_task(child("a", 2))
  local b = create_task(child("b", 1))
  local c = create_task(child("c", 0))
  log("created")
  sleep(0):await()
  log("main after sleep0")
  local r = asyncio.gather(a, b, c):await()
  log("main done")
  t.same_as(r, { "a", "b", "c", n = 3 })
  t.same_as(t.events(), {
    "created", "a start", "b start", "c start", "c end", "main after sleep0",
    "a step1", "b step1", "b end", "a step2", "a end", "main done" })
end)

-- t = create_task(child("t", 1)); ev.append("before await coro")
-- await inner()                  # inner appends "inner"
-- ev.append("after await coro")
-- f = loop.create_future(); f.set_result(5); await f
-- ev.append("after await done future")
-- await asyncio.sleep(0); ev.append("after sleep0"); await t
t.test("awaiting a coroutine or a done future does not yield", function()
  local inner = asyncio.async(function() log("inner"); return 1 end)
  local task = create_task(child("t", 1))
  log("before await coro")
  t.eq(inner():await(), 1)
  log("after await coro")
  local f = asyncio.Future()
  f:set_result(5)
  t.eq(f:await(), 5)
  log("after await done future")
  sleep(0):await()
  log("after sleep0")
  task:await()
  t.same_as(t.events(), {
    "before await coro", "inner", "after await coro",
    "after await done future", "t start", "after sleep0", "t step1", "t end" })
end)

t.test("awaiting a coroutine object runs it in the same task", function()
  local me = asyncio.current_task()
  local seen
  local inner = asyncio.async(function() seen = asyncio.current_task(); return 1, 2, 3 end)
  local a, b, c = inner():await()
  t.eq(seen, me, "current_task inside the awaited coroutine")
  t.same_as({ a, b, c }, { 1, 2, 3 })
  local n0 = #asyncio.all_tasks()
  asyncio.await(inner())
  t.eq(#asyncio.all_tasks(), n0, "no task created")
end)

-- f = loop.create_future()
-- t1 = create_task(waiter(f, "w1")); f.add_done_callback(cb1)
-- t2 = create_task(waiter(f, "w2")); await asyncio.sleep(0)
-- f.add_done_callback(cb2); f.set_result(1); ev.append("set")
-- await asyncio.sleep(0); ev.append("main1")
-- await asyncio.sleep(0); ev.append("main2")
t.test("set_result wakes waiters and callbacks soon, in registration order", function()
  local f = asyncio.Future()
  local waiter = asyncio.async(function(name) f:await(); log(name) end)
  local t1 = create_task(waiter("w1"))
  f:add_done_callback(function() log("cb1") end)
  local t2 = create_task(waiter("w2"))
  sleep(0):await()
  f:add_done_callback(function() log("cb2") end)
  f:set_result(1)
  log("set")
  sleep(0):await()
  log("main1")
  sleep(0):await()
  log("main2")
  t1:await()
  t2:await()
  t.same_as(t.events(), { "set", "cb1", "w1", "w2", "cb2", "main1", "main2" })
end)

-- loop.call_soon(ev.append, "soon1"); t = create_task(child("t", 0))
-- loop.call_soon(ev.append, "soon2"); ev.append("main")
-- await asyncio.sleep(0); ev.append("main resumed"); await t
t.test("call_soon callbacks and tasks share one FIFO", function()
  local loop = asyncio.get_running_loop()
  loop:call_soon(log, "soon1")
  local task = create_task(child("t", 0))
  loop:call_soon(log, "soon2")
  log("main")
  sleep(0):await()
  log("main resumed")
  task:await()
  t.same_as(t.events(), { "main", "soon1", "t start", "t end", "soon2", "main resumed" })
end)

-- ts = [create_task(worker(n)) for n in (3, 1, 2)]   # sleeps 0.01*n
-- for t in ts: ev.append(f"got {await t}")
t.test("tasks finish in timer order, results in await order", function()
  local worker = asyncio.async(function(n)
    log("w" .. n)
    sleep(0.01 * n):await()
    log("w" .. n .. " done")
    return n
  end)
  local ts = {}
  for _, n in ipairs { 3, 1, 2 } do ts[#ts + 1] = create_task(worker(n)) end
  for _, task in ipairs(ts) do log("got " .. task:await()) end
  t.same_as(t.events(), { "w3", "w1", "w2", "w1 done", "w2 done", "w3 done",
                          "got 3", "got 1", "got 2" })
end)

-- t = create_task(victim())      # try: await sleep(10) except Cancelled: log; raise finally: log
-- await asyncio.sleep(0); ev.append("cancel " + str(t.cancel()))
-- ev.append("after cancel"); try: await t except CancelledError: ev.append(...)
t.test("cancel is delivered at the await point, later", function()
  local victim = asyncio.async(function()
    log("v start")
    local ok, err = pcall(function() sleep(10):await() end)
    if not ok then
      if asyncio.iserror(err, "CancelledError") then log("v cancelled") end
      log("v finally")
      error(err, 0)
    end
    log("v finally")
  end)
  local task = create_task(victim())
  sleep(0):await()
  log("cancel " .. tostring(task:cancel()))
  log("after cancel")
  local ok, err = pcall(task.await, task)
  if not ok and asyncio.iserror(err, "CancelledError") then log("main saw cancelled") end
  log(tostring(task:cancelled()))
  t.same_as(t.events(), { "v start", "cancel true", "after cancel", "v cancelled",
                          "v finally", "main saw cancelled", "true" })
end)

-- t = create_task(w()); t.add_done_callback(cb); ev.append("awaiting")
-- ev.append(f"got {await t}"); await asyncio.sleep(0); ev.append("end")
t.test("done callbacks of a task run before its awaiter resumes", function()
  local task = create_task(asyncio.async(function() log("w run"); return 7 end)())
  task:add_done_callback(function() log("cb") end)
  log("awaiting")
  log("got " .. task:await())
  sleep(0):await()
  log("end")
  t.same_as(t.events(), { "awaiting", "w run", "cb", "got 7", "end" })
end)

-- gather(s("c", .03), s("a", .01), s("b1", .02), s("b2", .02))
t.test("sleeps wake in deadline order, equal deadlines FIFO", function()
  local s = asyncio.async(function(name, d) sleep(d):await(); log(name) end)
  asyncio.gather(s("c", 0.03), s("a", 0.01), s("b1", 0.02), s("b2", 0.02)):await()
  t.same_as(t.events(), { "a", "b1", "b2", "c" })
end)

-- loop.call_later(.02, "later20"); loop.call_later(.01, "later10")
-- h = loop.call_later(.005, "cancelled"); loop.call_at(loop.time()+.015, "at15")
-- loop.call_soon("soon"); h.cancel(); ev.append("main"); await sleep(.04)
t.test("call_soon, call_later, call_at order; a cancelled handle never runs", function()
  local loop = asyncio.get_running_loop()
  loop:call_later(0.02, log, "later20")
  loop:call_later(0.01, log, "later10")
  local h = loop:call_later(0.005, log, "cancelled")
  loop:call_at(loop:time() + 0.015, log, "at15")
  loop:call_soon(log, "soon")
  h:cancel()
  log("main")
  sleep(0.04):await()
  t.same_as(t.events(), { "main", "soon", "later10", "at15", "later20" })
end)

-- t1 = create_task(ok(1, .02))   # sleeps then logs ok1
-- try: await gather(t1, bad())   # bad sleeps .01, logs, raises
-- except ValueError: ev.append("caught boom")
-- ev.append(f"t1 done {t1.done()}"); await sleep(.02); ev.append(...)
t.test("gather: the first error propagates, the others keep running", function()
  local ok = asyncio.async(function(n, d) sleep(d):await(); log("ok" .. n); return n end)
  local bad = asyncio.async(function() sleep(0.01):await(); log("bad"); error("boom", 0) end)
  local t1 = create_task(ok(1, 0.02))
  local okc, err = pcall(asyncio.await, asyncio.gather(t1, bad()))
  t.eq(okc, false)
  log("caught " .. err)
  log("t1 done " .. tostring(t1:done()))
  sleep(0.02):await()
  log("t1 done " .. tostring(t1:done()) .. " " .. t1:result())
  t.same_as(t.events(), { "bad", "caught boom", "t1 done false", "ok1", "t1 done true 1" })
end)

-- loop.call_later(0, ev.append, "timer0")
-- for i in range(4): await asyncio.sleep(0); ev.append(f"s{i}")
-- -> s0, timer0, s1, s2, s3: a due timer joins the ready queue at the next
-- loop iteration, behind what was ready then, not behind everything that
-- gets queued later.
t.test("a due timer runs at the next iteration, not after a sleep(0) loop", function()
  asyncio.get_running_loop():call_later(0, log, "timer0")
  for i = 0, 3 do
    sleep(0):await()
    log("s" .. i)
  end
  t.same_as(t.events(), { "s0", "timer0", "s1", "s2", "s3" })
end)

t.test("a task spinning on sleep(0) does not delay a due sleep much", function()
  local loop = asyncio.get_running_loop()
  local task = create_task(function() sleep(0.001):await() end)
  local n, t0 = 0, loop:time()
  while not task:done() do
    sleep(0):await()
    n = n + 1
  end
  -- Python: a handful of spins (one per loop iteration, about 1 ms).
  t.ok(loop:time() - t0 < 0.05, "sleep(0.001) took " .. (loop:time() - t0))
end)

-- async def main(): create_task(leftover(3)); ev.append("main end")
-- asyncio.run(main()); ev.append("after run")
-- -> main end, l3 start, l3 cleanup, after run
-- (These run their own asyncio.run, so they run at the top level and the
-- cases below check what they recorded.)
-- Top-level checks, outside any asyncio.run, run before the harness.
do
  local leftover = asyncio.async(function(n)
    local ok, err = pcall(function()
      log("l" .. n .. " start")
      sleep(10):await()
    end)
    log("l" .. n .. " cleanup")
    if not ok then error(err, 0) end
  end)
  t.events()
  asyncio.run(function()
    create_task(leftover(3))
    log("main end")
  end)
  log("after run")
  local ev = t.events()
  t.test("run: a leftover task that never ran starts, then is cancelled", function()
    t.same_as(ev, { "main end", "l3 start", "l3 cleanup", "after run" })
  end)

  asyncio.run(function()
    create_task(leftover(1))
    create_task(leftover(2))
    sleep(0):await()
    log("main end")
  end)
  log("after run")
  local ev2 = t.events()
  table.sort(ev2, function(a, b) return a < b end)
  t.test("run: leftover tasks are cancelled and their cleanup runs", function()
    -- Python cancels leftovers in set order: only the set of events is fixed.
    t.same_as(ev2, { "after run", "l1 cleanup", "l1 start", "l2 cleanup",
                     "l2 start", "main end" })
  end)
end

-- More top-level runs: a leftover task that swallows its cancellation is
-- still awaited by run; a failing main still gets its leftovers cleaned up.
do
  asyncio.run(function()
    create_task(function()
      pcall(function() sleep(10):await() end)
      sleep(0.01):await()
      log("stubborn finished")
    end)
    sleep(0):await()
    log("main end")
  end)
  log("after run")
  local ev = t.events()
  t.test("run waits for a leftover task that swallows its cancellation", function()
    t.same_as(ev, { "main end", "stubborn finished", "after run" })
  end)

  local ok, err = pcall(asyncio.run, function()
    create_task(function()
      local ok2, e = pcall(function() sleep(10):await() end)
      log("leftover cleanup")
      error(e, 0)
    end)
    sleep(0):await()
    error("main failed", 0)
  end)
  log("after run")
  local ev2 = t.events()
  t.test("a failing main: leftovers are cleaned up, then run raises", function()
    t.eq(ok, false)
    t.eq(err, "main failed")
    t.same_as(ev2, { "leftover cleanup", "after run" })
  end)
end

t.test("sleep(0) yields exactly once: two tasks alternate strictly", function()
  local function pinger(name)
    for i = 1, 3 do log(name .. i); sleep(0):await() end
  end
  local a, b = create_task(pinger, "a"), create_task(pinger, "b")
  asyncio.gather(a, b):await()
  t.same_as(t.events(), { "a1", "b1", "a2", "b2", "a3", "b3" })
end)

t.test("sleep(delay, ...) resolves to ...; negative delays act like 0", function()
  local a, b = sleep(0, "x", "y"):await()
  t.eq(a, "x"); t.eq(b, "y")
  t.eq(sleep(0.001, false):await(), false)
  t.eq(select("#", sleep(0):await()), 0)
  local task = create_task(function() log("other ran") end)
  t.eq(sleep(-1, "neg"):await(), "neg")
  t.same_as(t.events(), { "other ran" }, "sleep(-1) still yields")
  task:await()
end)

t.test("sleep(d) lasts about d", function()
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  sleep(0.03):await()
  local dt = loop:time() - t0
  t.ok(dt >= 0.029 and dt < 0.1, "slept " .. dt)
end)

t.run()
