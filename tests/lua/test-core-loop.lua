-- test-core-loop.lua -- the loop object: new_event_loop, run_until_complete,
-- close and closed-loop errors, time, call_soon/call_later/call_at and their
-- handles, create_task, create_future, get_running_loop.  Python's
-- BaseEventLoop is the reference.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task = asyncio.sleep, asyncio.create_task
local log = t.log

local function yield() sleep(0):await() end

t.test("get_running_loop inside a task: the same loop each time", function()
  local loop = asyncio.get_running_loop()
  t.ok(loop)
  t.eq(asyncio.get_running_loop(), loop)
  local other
  create_task(function() other = asyncio.get_running_loop() end):await()
  t.eq(other, loop)
  t.eq(loop:is_running(), true)
  t.eq(loop:is_closed(), false)
end)

t.test("time() is monotonic seconds that follow sleeps", function()
  local loop = asyncio.get_running_loop()
  local a = loop:time()
  t.eq(type(a), "number")
  sleep(0.02):await()
  local b = loop:time()
  t.ok(b - a >= 0.019 and b - a < 0.5, "slept " .. (b - a))
end)

t.test("call_soon(fn, ...) passes arguments, returns a handle, runs once", function()
  local loop = asyncio.get_running_loop()
  local h = loop:call_soon(function(a, b, c) log(a .. b .. tostring(c)) end, "x", "y", nil)
  t.ok(h)
  t.eq(h:cancelled(), false)
  t.same_as(t.events(), {}, "not inline")
  yield()
  yield()
  t.same_as(t.events(), { "xynil" })
end)

t.test("call_soon handle:cancel() before it runs", function()
  local loop = asyncio.get_running_loop()
  local h = loop:call_soon(log, "no")
  loop:call_soon(log, "yes")
  h:cancel()
  t.eq(h:cancelled(), true)
  yield()
  t.same_as(t.events(), { "yes" })
  h:cancel()                            -- idempotent
end)

t.test("a binding's method given another object as self: a clear type error", function()
  local loop = asyncio.get_running_loop()
  local h = loop:call_soon(function() end)
  t.raises("aiolua.Handle expected, got table", h.cancel, {})
  t.raises("aiolua.Handle expected, got aiolua.Loop", h.cancelled, loop)
  t.raises("aiolua.Handle expected, got no value", h.when)
  h:cancel()
  t.eq(h:cancelled(), true, "the handle itself still works")
end)

t.test("call_later runs after the delay with its arguments", function()
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  local f = asyncio.Future()
  loop:call_later(0.02, function(v) f:set_result(v, loop:time() - t0) end, "late")
  local v, dt = f:await()
  t.eq(v, "late")
  t.ok(dt >= 0.019 and dt < 0.5, "after " .. dt)
end)

t.test("call_later: equal delays run in call order; cancel skips one", function()
  local loop = asyncio.get_running_loop()
  for i = 1, 5 do loop:call_later(0.01, log, i) end
  local h = loop:call_later(0.01, log, "cancelled")
  loop:call_later(0.005, log, 0)
  h:cancel()
  sleep(0.03):await()
  t.same_as(t.events(), { 0, 1, 2, 3, 4, 5 })
end)

t.test("call_at(loop:time() + d) and handle:when()", function()
  local loop = asyncio.get_running_loop()
  local when = loop:time() + 0.02
  local f = asyncio.Future()
  local h = loop:call_at(when, function() f:set_result(loop:time()) end)
  t.ok(math.abs(h:when() - when) < 0.005, "when " .. h:when() .. " vs " .. when)
  local fired = f:await()
  t.ok(fired >= when - 0.002, "fired at " .. fired .. ", due " .. when)
end)

t.test("call_at in the past runs soon", function()
  local loop = asyncio.get_running_loop()
  loop:call_at(loop:time() - 10, log, "past")
  sleep(0.005):await()
  t.same_as(t.events(), { "past" })
end)

t.test("call_later: a handle cancelled after its timer fired, before its turn", function()
  -- both timers fire in one sweep and queue their handles; the first
  -- cancels the second, drops every reference to it and collects: the
  -- queue still holds it (no use after free), and it does not run
  local loop = asyncio.get_running_loop()
  local second
  loop:call_later(0.005, function()
    log("first")
    second:cancel()
    second = nil
    collectgarbage()
    collectgarbage()
  end)
  second = loop:call_later(0.005, log, "second")
  loop:call_later(0.005, log, "third")
  sleep(0.03):await()
  t.same_as(t.events(), { "first", "third" })
end)

t.test("handles not kept by the script still run (call_soon, call_later)", function()
  local loop = asyncio.get_running_loop()
  loop:call_soon(log, "soon")
  loop:call_later(0.002, log, "later")
  collectgarbage()
  collectgarbage()
  sleep(0.02):await()
  t.same_as(t.events(), { "soon", "later" })
end)

t.test("call_later handle:cancel() after it ran is harmless", function()
  local loop = asyncio.get_running_loop()
  local h = loop:call_later(0, log, "ran")
  sleep(0.005):await()
  h:cancel()
  t.same_as(t.events(), { "ran" })
end)

t.test("a callback that raises is reported; later callbacks still run", function()
  local loop = asyncio.get_running_loop()
  loop:call_soon(error, "callback error (expected on stderr)")
  loop:call_soon(log, "after")
  loop:call_later(0.001, error, "timer callback error (expected on stderr)")
  loop:call_later(0.002, log, "timer after")
  sleep(0.01):await()
  t.same_as(t.events(), { "after", "timer after" })
end)

t.test("set_exception_handler: errors no one can catch go to it", function()
  local loop = asyncio.get_running_loop()
  local got = {}
  local function handler(l, ctx) got[#got + 1] = ctx; t.eq(l, loop) end
  t.eq(loop:get_exception_handler(), nil)
  loop:set_exception_handler(handler)
  t.eq(loop:get_exception_handler(), handler)
  -- a handle's callback
  local h = loop:call_soon(error, "in a handle")
  -- a done callback
  local fut = asyncio.Future()
  local function cb() error({ code = 7 }) end
  fut:add_done_callback(cb)
  fut:set_result(1)
  -- a task whose error no one retrieves
  create_task(function() error("lost") end)
  yield()
  yield()
  collectgarbage()
  collectgarbage()
  loop:set_exception_handler(nil)
  t.eq(loop:get_exception_handler(), nil)
  t.eq(#got, 3)
  t.eq(got[1].message, "Exception in callback")
  t.ok(got[1].exception:find("in a handle$"), got[1].exception)
  t.ok(got[1].traceback:find("stack traceback:", 1, true), got[1].traceback)
  t.eq(got[1].handle, h)
  t.eq(got[2].message, "Exception in callback")
  t.eq(got[2].exception.code, 7, "the error value itself")
  t.eq(got[2].callback, cb)
  t.eq(got[2].future, fut)
  t.eq(got[3].message, "Task exception was never retrieved")
  t.ok(got[3].exception:find("lost$"), got[3].exception)
  t.ok(asyncio.isfuture(got[3].task), tostring(got[3].task))
  t.ok(got[3].traceback:find("stack traceback:", 1, true))
end)

t.test("call_exception_handler; a failing handler; bad handlers", function()
  local loop = asyncio.get_running_loop()
  local seen
  loop:set_exception_handler(function(_, ctx)
    seen = ctx
    if ctx.message == "fail" then error("handler broke (expected on stderr)") end
  end)
  loop:call_exception_handler({ message = "custom", exception = "e" })
  t.eq(seen.message, "custom")
  loop:call_exception_handler({ message = "fail" })  -- reported, not raised
  t.eq(seen.message, "fail")
  loop:call_soon(error, "x (expected on stderr)")    -- handler is called,
  yield()                                            -- loop goes on
  loop:set_exception_handler(setmetatable({}, { __call = function() end }))
  loop:set_exception_handler(nil)
  loop:default_exception_handler({ message = "default (expected on stderr)" })
  t.raises("TypeError", loop.set_exception_handler, loop, 42)
  t.raises("table expected", loop.call_exception_handler, loop, "no")
end)

t.test("callbacks can schedule callbacks and tasks", function()
  local loop = asyncio.get_running_loop()
  local f = asyncio.Future()
  loop:call_soon(function()
    loop:call_soon(function()
      create_task(function() f:set_result("deep") end)
    end)
  end)
  t.eq(f:await(), "deep")
end)

t.test("loop:create_task and loop:create_future", function()
  local loop = asyncio.get_running_loop()
  local f = loop:create_future()
  local task = loop:create_task(function(x) f:set_result(x) return x end, 5)
  t.eq(task:await(), 5)
  t.eq(f:result(), 5)
  local named = loop:create_task(asyncio.async(function() end)(), { name = "via-loop" })
  t.eq(named:get_name(), "via-loop")
  named:await()
end)

t.test("closing the running loop raises RuntimeError", function()
  local loop = asyncio.get_running_loop()
  t.raises("RuntimeError", loop.close, loop)
end)

-- Top level: run_until_complete and friends outside asyncio.run.
do
  local checks = {}
  local function check(name, fn) checks[#checks + 1] = { name, fn } end

  local ok0, e0 = pcall(asyncio.get_running_loop)
  check("get_running_loop outside a loop raises RuntimeError", function()
    t.eq(ok0, false)
    t.ok(asyncio.iserror(e0, "RuntimeError"), tostring(e0))
    t.ok(tostring(e0):find("no running event loop", 1, true), tostring(e0))
  end)

  local loop = asyncio.new_event_loop()
  local running0, closed0 = loop:is_running(), loop:is_closed()
  check("new_event_loop: not running, not closed", function()
    t.eq(running0, false)
    t.eq(closed0, false)
  end)

  local seen_loop, running_inside
  local a, b = loop:run_until_complete(asyncio.async(function(x)
    seen_loop = asyncio.get_running_loop()
    running_inside = seen_loop:is_running()
    sleep(0.005):await()
    return x, x + 1
  end)(1))
  check("run_until_complete(coro) returns its results; get_running_loop is that loop", function()
    t.eq(a, 1)
    t.eq(b, 2)
    t.eq(seen_loop, loop)
    t.eq(running_inside, true)
  end)

  local ok1, e1 = pcall(loop.run_until_complete, loop, asyncio.async(function()
    sleep(0):await()
    error({ "rtc error" })
  end)())
  check("run_until_complete raises the error unchanged", function()
    t.eq(ok1, false)
    t.eq(e1[1], "rtc error")
  end)

  -- A task created during one run_until_complete keeps going in the next.
  local flag = false
  loop:run_until_complete(asyncio.async(function()
    create_task(function() sleep(0.01):await(); flag = true end)
  end)())
  local flag_between = flag
  loop:run_until_complete(asyncio.async(function() sleep(0.03):await() end)())
  check("tasks outlive one run_until_complete and resume in the next", function()
    t.eq(flag_between, false)
    t.eq(flag, true)
  end)

  local r = loop:run_until_complete(asyncio.async(function()
    local f2 = loop:create_future()
    loop:call_later(0.005, function() f2:set_result("via future") end)
    return f2:await()
  end)())
  check("run_until_complete with a future resolved by a timer", function()
    t.eq(r, "via future")
  end)

  local f3 = loop:create_future()
  loop:call_soon(function() f3:set_result("soon") end)
  local r3 = loop:run_until_complete(f3)
  check("run_until_complete(future); call_soon before running", function()
    t.eq(r3, "soon")
  end)

  local h = loop:call_soon(function() flag = "should not run" end)
  h:cancel()
  loop:run_until_complete(sleep(0.001))
  check("run_until_complete(sleep) and a cancelled call_soon", function()
    t.eq(flag, true)
  end)

  loop:close()
  local closed = loop:is_closed()
  loop:close()                          -- a second close is a no-op
  local c = asyncio.async(function() return 1 end)()
  local ok2, e2 = pcall(loop.run_until_complete, loop, c)
  c:close()
  check("close(); a closed loop refuses run_until_complete", function()
    t.eq(closed, true)
    t.eq(ok2, false)
    t.ok(asyncio.iserror(e2, "RuntimeError"), tostring(e2))
    t.ok(tostring(e2):find("closed", 1, true), tostring(e2))
  end)
  local tclosed = loop:time()
  check("time() works on a closed loop", function() t.eq(type(tclosed), "number") end)

  -- After the loop: asyncio.run still works with a fresh one.
  local other_loop, other_closed = asyncio.run(function()
    local l = asyncio.get_running_loop()
    return l, l:is_closed()
  end)
  check("asyncio.run uses its own loop, not the closed one", function()
    t.ok(other_loop ~= loop, "a different loop")
    t.eq(other_closed, false)
  end)
  -- Python: each asyncio.run makes a new loop and closes it at the end.
  local third = asyncio.run(function() return asyncio.get_running_loop() end)
  check("each asyncio.run has a new loop, closed when run returns", function()
    t.ok(third ~= other_loop, "a new loop per run")
    t.eq(other_loop:is_closed(), true)
    t.eq(other_loop:is_running(), false)
  end)

  -- CPython's closed loop runs none of its callbacks: a call_later due
  -- after asyncio.run returned does not fire in the next run.
  local fired, pending = false, nil
  asyncio.run(function()
    pending = asyncio.get_running_loop():call_later(0.01, function() fired = true end)
    asyncio.get_running_loop():call_soon(function() end)
  end)
  asyncio.run(function() sleep(0.03):await() end)
  local cancelled_after = pending:cancelled()
  local ok4, e4 = pcall(pending.cancel, pending)
  local ok5, e5 = pcall(other_loop.call_soon, other_loop, print)
  local ok6, e6 = pcall(other_loop.call_later, other_loop, 1, print)
  check("a loop's close cancels its handles; a closed loop takes no more", function()
    t.eq(fired, false, "not fired in the next run")
    t.eq(cancelled_after, true)
    t.eq(ok4, true, tostring(e4))
    t.eq(ok5, false)
    t.ok(asyncio.iserror(e5, "RuntimeError") and tostring(e5):find("Event loop is closed", 1, true),
         tostring(e5))
    t.eq(ok6, false)
    t.ok(asyncio.iserror(e6, "RuntimeError"), tostring(e6))
  end)

  -- A loop's callbacks run when it runs, not in another loop's run.
  local order = {}
  local l2 = asyncio.new_event_loop()
  l2:call_soon(function() order[#order + 1] = "l2 soon" end)
  l2:call_later(0.005, function() order[#order + 1] = "l2 later" end)
  local dropped = l2:call_soon(function() order[#order + 1] = "l2 cancelled" end)
  asyncio.run(function()
    sleep(0.02):await()                  -- l2's timer comes due meanwhile
    order[#order + 1] = "run"
  end)
  dropped:cancel()
  order[#order + 1] = "between"
  l2:run_until_complete(sleep(0))
  local l3 = asyncio.new_event_loop()
  local never = l3:call_later(0.001, function() order[#order + 1] = "l3" end)
  l2:run_until_complete(sleep(0.01))     -- l3's timer fires, l3 never runs
  l3:close()
  l2:close()
  check("a loop's callbacks wait for it to run; closing drops what waits", function()
    t.same_as(order, { "run", "between", "l2 soon", "l2 later" })
    t.eq(never:cancelled(), true)
  end)

  for _, c2 in ipairs(checks) do t.test(c2[1], c2[2]) end
end

t.run()
