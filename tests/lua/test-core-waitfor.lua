-- test-core-waitfor.lua -- asyncio.wait_for and asyncio.timeout: results in
-- time, TimeoutError after cancelling (and waiting for) the inner
-- awaitable, nil and non-positive timeouts, nesting, and outer
-- cancellation that must stay a CancelledError.  Orders from CPython 3.11.
local asyncio = require "asyncio"
local t = require "t"

local wait_for, timeout, sleep, create_task =
  asyncio.wait_for, asyncio.timeout, asyncio.sleep, asyncio.create_task
local log = t.log

local w = asyncio.async(function(n, d)
  log("w" .. n .. " start")
  local ok, err = pcall(function() sleep(d):await() end)
  if not ok then
    if asyncio.iserror(err, "CancelledError") then log("w" .. n .. " cancelled") end
    error(err, 0)
  end
  log("w" .. n .. " done")
  return n
end)

local function elapsed(fn)
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  fn()
  return loop:time() - t0
end

t.test("wait_for returns the results when in time", function()
  t.eq(wait_for(w(1, 0.01), 1):await(), 1)
  local a, b = wait_for(sleep(0.01, "a", "b"), 1):await()
  t.eq(a, "a")
  t.eq(b, "b")
  local task = create_task(w(2, 0))
  t.eq(wait_for(task, 0.5):await(), 2)
  t.events()
end)

t.test("wait_for times out: cancels the inner awaitable, then TimeoutError", function()
  -- try: await wait_for(w(1, 1), 0.01) except TimeoutError: ev.append("timeout1")
  local dt = elapsed(function()
    local ok, err = pcall(asyncio.await, wait_for(w(1, 1), 0.01))
    t.eq(ok, false)
    t.ok(asyncio.iserror(err, "TimeoutError"), tostring(err))
    log("timeout1")
  end)
  t.ok(dt < 0.2, "took " .. dt)
  t.same_as(t.events(), { "w1 start", "w1 cancelled", "timeout1" })
end)

t.test("wait_for on a task: the task is cancelled before TimeoutError", function()
  local task = create_task(w(3, 1))
  local err = t.raises("TimeoutError", asyncio.await, wait_for(task, 0.01))
  t.eq(tostring(err):match("^TimeoutError"), "TimeoutError")
  t.eq(task:cancelled(), true)
  t.same_as(t.events(), { "w3 start", "w3 cancelled" })
end)

t.test("wait_for(aw, nil) waits as long as it takes", function()
  t.eq(wait_for(w(1, 0.02), nil):await(), 1)
  t.events()
end)

t.test("wait_for(coro, 0) times out without running it", function()
  -- try: await wait_for(w(2, 1), 0) except TimeoutError -> no "w2 start"
  t.raises("TimeoutError", asyncio.await, wait_for(w(2, 1), 0))
  t.same_as(t.events(), {})
end)

t.test("wait_for(task, -1) cancels a started task", function()
  local task = create_task(w(3, 1))
  sleep(0):await()
  t.raises("TimeoutError", asyncio.await, wait_for(task, -1))
  t.eq(task:cancelled(), true)
  t.same_as(t.events(), { "w3 start", "w3 cancelled" })
end)

t.test("wait_for(done future, 0) returns its result", function()
  local f = asyncio.Future()
  f:set_result(5)
  t.eq(wait_for(f, 0):await(), 5)
end)

t.test("wait_for: an inner error propagates unchanged", function()
  local err = {}
  local bad = asyncio.async(function() sleep(0.01):await(); error(err) end)
  t.eq(t.raises(nil, asyncio.await, wait_for(bad(), 1)), err)
end)

t.test("wait_for: an inner that swallows the cancellation returns its value", function()
  local stub = asyncio.async(function()
    local ok = pcall(function() sleep(1):await() end)
    if not ok then log("stub swallowed") end
    return "stub"
  end)
  t.eq(wait_for(stub(), 0.01):await(), "stub")
  t.same_as(t.events(), { "stub swallowed" })
end)

t.test("cancelling the waiter cancels the inner awaitable, no TimeoutError", function()
  local inner = create_task(w(4, 1))
  local waiter = create_task(function() return wait_for(inner, 0.5):await() end)
  sleep(0.01):await()
  waiter:cancel()
  t.raises("CancelledError", waiter.await, waiter)
  t.eq(inner:cancelled(), true)
  t.same_as(t.events(), { "w4 start", "w4 cancelled" })
end)

t.test("wait_for inside wait_for: the inner deadline fires first", function()
  local r = wait_for(asyncio.async(function()
    local ok, err = pcall(asyncio.await, wait_for(sleep(1), 0.01))
    t.ok(asyncio.iserror(err, "TimeoutError"), tostring(err))
    return "inner timed out"
  end)(), 0.5):await()
  t.eq(r, "inner timed out")
end)

t.test("a task keeps working after a wait_for timed out", function()
  t.raises("TimeoutError", asyncio.await, wait_for(sleep(1), 0.01))
  sleep(0.02):await()          -- no stray cancellation left behind
  t.eq(asyncio.current_task():cancelling(), 0)
end)

t.test("timeout(delay, fn, ...) returns fn's results", function()
  local a, b = timeout(0.5, function(x, y) sleep(0.01):await(); return x, y end, 1, 2):await()
  t.eq(a, 1)
  t.eq(b, 2)
end)

t.test("timeout(delay, fn) raises TimeoutError after cancelling fn's await", function()
  local cleaned = false
  local dt = elapsed(function()
    t.raises("TimeoutError", asyncio.await, timeout(0.02, function()
      local ok, err = pcall(function() sleep(1):await() end)
      cleaned = true
      error(err, 0)
    end))
  end)
  t.ok(cleaned, "fn's handler ran")
  t.ok(dt >= 0.015 and dt < 0.3, "took " .. dt)
end)

t.test("timeout(nil, fn) has no deadline", function()
  t.eq(timeout(nil, function() sleep(0.01):await(); return "ok" end):await(), "ok")
end)

t.test("timeout(0, fn): fn runs until its first await", function()
  -- async with timeout(0): log("body runs"); await sleep(0); log("not here")
  t.raises("TimeoutError", asyncio.await, timeout(0, function()
    log("body runs")
    sleep(0):await()
    log("not here")
  end))
  t.same_as(t.events(), { "body runs" })
end)

t.test("nested timeouts: the inner one raises, the outer one still works", function()
  -- async with timeout(.05): try: async with timeout(.01): await sleep(1)
  --   except TimeoutError: log("inner timeout"); await sleep(1)
  -- except TimeoutError: log("outer timeout")
  local ok, err = pcall(asyncio.await, timeout(0.05, function()
    local ok2, err2 = pcall(asyncio.await, timeout(0.01, function() sleep(1):await() end))
    if not ok2 and asyncio.iserror(err2, "TimeoutError") then log("inner timeout") end
    sleep(1):await()
  end))
  if not ok and asyncio.iserror(err, "TimeoutError") then log("outer timeout") end
  t.same_as(t.events(), { "inner timeout", "outer timeout" })
end)

t.test("timeout: an error in fn passes through unchanged", function()
  local err = { "x" }
  t.eq(t.raises(nil, asyncio.await, timeout(1, function() error(err) end)), err)
end)

t.test("timeout: cancelling the task is a CancelledError, not a TimeoutError", function()
  local task = create_task(function()
    return timeout(1, function() sleep(1):await() end):await()
  end)
  sleep(0.01):await()
  task:cancel()
  t.raises("CancelledError", task.await, task)
  t.eq(task:cancelled(), true)
end)

t.test("timeout: fn finishing just in time leaves no cancellation behind", function()
  timeout(0.01, function() sleep(0.005):await() end):await()
  sleep(0.02):await()
  t.eq(asyncio.current_task():cancelling(), 0)
end)

t.test("timeout of a non-function raises TypeError", function()
  t.raises("TypeError", timeout, 1, 42)
  t.raises("delay must be a number", timeout, "1", print)
end)

t.test("timeout_at(when, fn): the deadline in loop:time()'s clock", function()
  local loop = asyncio.get_running_loop()
  local a, b = asyncio.timeout_at(loop:time() + 0.5, function(x)
    sleep(0.01):await()
    return x, "in time"
  end, 1):await()
  t.eq(a, 1)
  t.eq(b, "in time")
  local dt = elapsed(function()
    t.raises("TimeoutError", asyncio.await, asyncio.timeout_at(loop:time() + 0.02,
      function() sleep(1):await() end))
  end)
  t.ok(dt >= 0.015 and dt < 0.3, "took " .. dt)
  -- a deadline already passed: fn runs until its first await
  t.raises("TimeoutError", asyncio.await, asyncio.timeout_at(loop:time() - 1, function()
    log("body runs")
    sleep(0):await()
    log("not here")
  end))
  t.same_as(t.events(), { "body runs" })
  t.eq(asyncio.timeout_at(nil, function() return "no deadline" end):await(), "no deadline")
  t.raises("TypeError", asyncio.timeout_at, loop:time(), 42)
  t.raises("when must be a number", asyncio.timeout_at, "soon", print)
end)

t.test("timeout(delay, fn) and timeout_at with an async function: its body runs under the deadline", function()
  local f = asyncio.async(function(x) sleep(0.001):await(); return x * 2 end)
  t.eq(timeout(1, f, 21):await(), 42)
  local loop = asyncio.get_running_loop()
  t.eq(asyncio.timeout_at(loop:time() + 1, f, 4):await(), 8)
  t.raises("TimeoutError", asyncio.await, timeout(0.01, asyncio.async(function() sleep(1):await() end)))
end)

-- The port of `async with asyncio.timeout(d) as cm:` is a <close> variable:
-- the rest of its block runs under the deadline.
t.test("local cm <close> = timeout(d): TimeoutError out of the block", function()
  local ok, err = pcall(function()
    local cm <close> = timeout(0.02)
    t.eq(cm:expired(), false)
    log("in block")
    sleep(1):await()
    log("not here")
  end)
  t.eq(ok, false)
  t.ok(asyncio.iserror(err, "TimeoutError"), tostring(err))
  t.same_as(t.events(), { "in block" })
  t.eq(asyncio.current_task():cancelling(), 0, "the cancellation was taken back")
  -- in time: nothing happens
  do
    local cm <close> = timeout(0.5)
    sleep(0.001):await()
    t.eq(cm:expired(), false)
  end
  sleep(0.01):await()
end)

t.test("Timeout: when, reschedule, expired, nil deadline, errors", function()
  local loop = asyncio.get_running_loop()
  do
    local cm <close> = timeout(0.01)
    t.ok(math.abs(cm:when() - (loop:time() + 0.01)) < 0.005, "when")
    cm:reschedule(loop:time() + 0.2)                    -- pushed back
    sleep(0.03):await()
    t.eq(cm:expired(), false, "the old deadline passed harmlessly")
    cm:reschedule(nil)
    t.eq(cm:when(), nil)
    sleep(0.01):await()
  end
  local cm2
  local ok, err = pcall(function()
    local cm <close> = timeout(nil)                     -- no deadline yet
    cm2 = cm
    cm:reschedule(loop:time() - 1)                      -- passed: at once
    sleep(1):await()
  end)
  t.ok(not ok and asyncio.iserror(err, "TimeoutError"), tostring(err))
  t.eq(cm2:expired(), true)
  t.raises("Cannot change state of expired Timeout", cm2.reschedule, cm2, 1)
  t.ok(tostring(cm2):find("<Timeout [expired]", 1, true), tostring(cm2))
  do
    local cm <close> = asyncio.timeout_at(loop:time() + 1)
    t.raises("when must be a number or nil", cm.reschedule, cm, "later")
  end
  -- an error of the block passes through; an outside cancel stays one
  t.raises("mine", function() local cm <close> = timeout(1); error("mine") end)
  local task = create_task(function()
    local cm <close> = timeout(1)
    sleep(1):await()
  end)
  sleep(0):await()
  task:cancel()
  t.raises("CancelledError", asyncio.await, task)
end)

t.test("Timeout outside a task raises RuntimeError", function()
  local ok, err
  asyncio.get_running_loop():call_soon(function() ok, err = pcall(timeout, 1) end)
  sleep(0):await()
  t.eq(ok, false)
  t.ok(tostring(err):find("inside a task", 1, true), tostring(err))
end)

t.run()
