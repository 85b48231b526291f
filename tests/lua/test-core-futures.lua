-- test-core-futures.lua -- asyncio.Future: states, results, errors,
-- cancellation, done callbacks (run soon, never inline, in order) and
-- remove_done_callback.  CPython's test_futures.py is the reference.
local asyncio = require "asyncio"
local t = require "t"

local Future, sleep, create_task = asyncio.Future, asyncio.sleep, asyncio.create_task

local function yield() sleep(0):await() end

t.test("a new future is pending", function()
  local f = Future()
  t.eq(f:done(), false)
  t.eq(f:cancelled(), false)
  t.ok(asyncio.isfuture(f))
  t.ok(tostring(f):find("pending", 1, true), tostring(f))
end)

t.test("iscoroutinefunction tells async functions; error names", function()
  local f = asyncio.async(function() end)
  t.eq(asyncio.iscoroutinefunction(f), true)
  t.eq(asyncio.iscoroutinefunction(function() end), false)
  t.eq(asyncio.iscoroutinefunction(print), false)
  local coro = f()
  t.eq(asyncio.iscoroutinefunction(coro), false, "a coroutine object is not one")
  coro:close()
  t.eq(asyncio.iscoroutinefunction(nil), false)
  -- `except asyncio.CancelledError` is iserror(e, asyncio.CancelledError)
  local fut = Future()
  fut:cancel()
  t.ok(asyncio.iserror(t.raises(nil, fut.result, fut), asyncio.CancelledError))
  t.eq(asyncio.TimeoutError, "TimeoutError")
  t.eq(asyncio.InvalidStateError, "InvalidStateError")
end)

-- Futures and coroutine objects are told by their size and a magic word,
-- not by their metatable: other userdata, full or light, must not pass.
t.test("other userdata are neither futures nor coroutines", function()
  local light = debug.upvalueid(function() return t end, 1)
  local op = asyncio.Queue():get()       -- a C awaitable of the queue
  for _, v in ipairs({ io.stdout, light, op }) do
    t.eq(asyncio.isfuture(v), false, tostring(v))
    t.eq(asyncio.iscoroutine(v), false, tostring(v))
  end
  op:close()
  t.raises("a coroutine was expected, got userdata", create_task, io.stdout)
  t.raises("argument #1 is not awaitable %(a userdata%)", asyncio.gather, io.stdout)
  t.raises("argument #2 is not awaitable %(a userdata%)", asyncio.gather, Future(), light)
  t.raises("Future expected", Future().set_result, io.stdout, 1)
  t.raises("can't be awaited", asyncio.await, io.stdout)
end)

t.test("get_running_loop():create_future() makes a future", function()
  local f = asyncio.get_running_loop():create_future()
  t.ok(asyncio.isfuture(f))
  f:set_result("x")
  t.eq(f:await(), "x")
end)

t.test("set_result, then result and await", function()
  local f = Future()
  f:set_result(42)
  t.eq(f:done(), true)
  t.eq(f:cancelled(), false)
  t.eq(f:result(), 42)
  t.eq(f:exception(), nil)
  t.eq(f:await(), 42)
  t.eq(f:await(), 42, "awaiting a done future again")
  t.ok(tostring(f):find("finished", 1, true), tostring(f))
end)

t.test("set_result with several values, nil or none", function()
  local f = Future()
  f:set_result(1, nil, 3)
  local r = table.pack(f:await())
  t.same_as(r, { 1, nil, 3, n = 3 })
  local g = Future()
  g:set_result()
  t.eq(select("#", g:await()), 0)
  local h = Future()
  h:set_result(nil)
  local rh = table.pack(h:result())
  t.eq(rh.n, 1)
  t.eq(rh[1], nil)
end)

t.test("result() and exception() before done raise InvalidStateError", function()
  local f = Future()
  local e = t.raises("InvalidStateError", f.result, f)
  t.eq(e.type, "InvalidStateError")
  t.eq(tostring(e), "InvalidStateError: " .. e.message)
  t.raises("InvalidStateError", f.exception, f)
end)

t.test("set_result twice raises InvalidStateError", function()
  local f = Future()
  f:set_result(1)
  t.raises("InvalidStateError", f.set_result, f, 2)
  t.raises("InvalidStateError", f.set_exception, f, "e")
  t.eq(f:result(), 1, "first result kept")
end)

t.test("set_exception twice, or after cancel, raises InvalidStateError", function()
  local f = Future()
  f:set_exception("e1")
  t.raises("InvalidStateError", f.set_exception, f, "e2")
  t.raises("InvalidStateError", f.set_result, f, 1)
  t.eq(f:exception(), "e1")
  local g = Future()
  g:cancel()
  t.raises("InvalidStateError", g.set_result, g, 1)
  t.raises("InvalidStateError", g.set_exception, g, "x")
end)

t.test("set_exception: exception(), result() and await raise it unchanged", function()
  local err = setmetatable({ reason = "mine" }, { __tostring = function() return "mine!" end })
  local f = Future()
  f:set_exception(err)
  t.eq(f:done(), true)
  t.eq(f:exception(), err)
  t.eq(t.raises(nil, f.result, f), err)
  t.eq(t.raises(nil, f.await, f), err)
  local g = Future()
  g:set_exception("plain string")
  t.eq(t.raises(nil, asyncio.await, g), "plain string")
  local h = Future()
  h:set_exception(asyncio.Error("ValueError", "bad"))
  local e = t.raises("ValueError", h.await, h)
  t.eq(tostring(e), "ValueError: bad")
end)

t.test("set_exception requires a value", function()
  local f = Future()
  t.raises(nil, f.set_exception, f)
  t.eq(f:done(), false)
end)

t.test("cancel: pending -> true, then false; cancelled(); CancelledError", function()
  local f = Future()
  t.eq(f:cancel(), true)
  t.eq(f:cancel(), false, "second cancel")
  t.eq(f:done(), true)
  t.eq(f:cancelled(), true)
  t.raises("CancelledError", f.result, f)
  t.raises("CancelledError", f.exception, f)
  t.raises("CancelledError", f.await, f)
  t.ok(tostring(f):find("cancelled", 1, true), tostring(f))
  local g = Future()
  g:set_result(1)
  t.eq(g:cancel(), false, "cancel a done future")
  t.eq(g:cancelled(), false)
end)

t.test("cancel(msg) carries the message", function()
  local f = Future()
  f:cancel("stop now")
  local e = t.raises("CancelledError", f.result, f)
  t.eq(e.message, "stop now")
  t.eq(tostring(e), "CancelledError: stop now")
end)

t.test("await parks until set_result from another task", function()
  local f = Future()
  create_task(function() sleep(0.01):await(); f:set_result("late", 2) end)
  local a, b = f:await()
  t.eq(a, "late")
  t.eq(b, 2)
end)

t.test("await of a future cancelled by another task raises CancelledError", function()
  local f = Future()
  create_task(function() f:cancel("bye") end)
  local e = t.raises("CancelledError", f.await, f)
  t.eq(e.message, "bye")
end)

t.test("done callbacks run soon, not inline, with the future", function()
  local f = Future()
  local calls = {}
  f:add_done_callback(function(fut) calls[#calls + 1] = fut end)
  f:set_result(1)
  t.eq(#calls, 0, "not run by set_result")
  yield()
  t.eq(#calls, 1)
  t.eq(calls[1], f)
end)

t.test("add_done_callback on a done future schedules it soon", function()
  local f = Future()
  f:set_result(1)
  local called = false
  f:add_done_callback(function() called = true end)
  t.eq(called, false, "not inline")
  yield()
  t.eq(called, true)
end)

t.test("done callbacks run in registration order, also on cancel", function()
  local f = Future()
  for i = 1, 5 do f:add_done_callback(function() t.log(i) end) end
  f:cancel()
  yield()
  t.same_as(t.events(), { 1, 2, 3, 4, 5 })
end)

t.test("remove_done_callback removes every copy and returns the count", function()
  local f = Future()
  local function a() t.log("a") end
  local function b() t.log("b") end
  f:add_done_callback(a)
  f:add_done_callback(b)
  f:add_done_callback(a)
  t.eq(f:remove_done_callback(a), 2)
  t.eq(f:remove_done_callback(a), 0)
  t.eq(f:remove_done_callback(function() end), 0)
  f:set_result()
  yield()
  t.same_as(t.events(), { "b" })
end)

t.test("remove_done_callback after set_result but before the callbacks ran", function()
  -- CPython: set_result schedules the callbacks at once; removing later
  -- does not unschedule them.
  local f = Future()
  local function a() t.log("a") end
  f:add_done_callback(a)
  f:set_result()
  t.eq(f:remove_done_callback(a), 0)
  yield()
  t.same_as(t.events(), { "a" })
end)

t.test("a callback that raises is reported; the loop goes on", function()
  local f = Future()
  f:add_done_callback(function() error("callback failed") end)
  f:add_done_callback(function() t.log("second") end)
  f:set_result()
  yield()
  t.same_as(t.events(), { "second" })
end)

t.test("a callback may add callbacks and settle other futures", function()
  local f, g = Future(), Future()
  f:add_done_callback(function()
    g:set_result("from cb")
    f:add_done_callback(function() t.log("added later") end)
  end)
  f:set_result()
  t.eq(g:await(), "from cb")
  yield()
  t.same_as(t.events(), { "added later" })
end)

t.test("many tasks awaiting one future all wake with its results", function()
  local f = Future()
  local ts = {}
  for i = 1, 50 do ts[i] = create_task(function() local a, b = f:await(); return a + b + i end) end
  yield()
  f:set_result(100, 1000)
  for i = 1, 50 do t.eq(ts[i]:await(), 1100 + i) end
end)

t.test("a failed future's error reaches every awaiter unchanged", function()
  local f = Future()
  local err = {}
  local ts = {}
  for i = 1, 3 do
    ts[i] = create_task(function()
      local ok, e = pcall(f.await, f)
      return ok, e
    end)
  end
  yield()
  f:set_exception(err)
  for i = 1, 3 do
    local ok, e = ts[i]:await()
    t.eq(ok, false)
    t.eq(e, err)
  end
end)

t.test("method calls on a non-future raise", function()
  local f = Future()
  t.raises(nil, f.set_result, {}, 1)
  t.raises(nil, f.add_done_callback, f, 42)
end)

t.test("settling from Lua a future that C holds makes C let go of it", function()
  -- a file operation in flight: its future is settled by hand, dropped
  -- and collected; the operation must not settle it again when it ends
  local fs = require "asyncio.fs"
  for _ = 1, 20 do
    local f = fs.stat(".")
    f:set_result("mine")
    t.eq(f:result(), "mine")
    local g = fs.stat(".")
    g:set_exception(asyncio.Error("ValueError", "mine"))
    t.raises("ValueError", g.result, g)
  end
  collectgarbage()
  collectgarbage()
  sleep(0.05):await()
  local st = fs.stat("."):await()           -- the loop is sound
  t.eq(type(st), "table")
end)

t.test("_set_exception_from refuses a Task and a sleep", function()
  local failed = Future()
  failed:set_exception(asyncio.Error("ValueError", "x"))
  pcall(failed.result, failed)
  local task = create_task(function() sleep(0.05):await() end)
  t.raises("not allowed on a Task", task._set_exception_from, task, failed)
  local s = sleep(0.05)
  t.raises("not allowed on a sleep", s._set_exception_from, s, failed)
  task:await()
end)

t.test("the finalizers of futures and coroutine objects take any argument", function()
  local failed = Future()
  failed:set_exception(asyncio.Error("ValueError", "x"))
  local gc = getmetatable(failed).__gc
  t.eq(type(gc), "function")
  for _, v in ipairs { "x", 42, {}, io.stdout, Future() } do gc(v) end
  pcall(failed.result, failed)
  local co = asyncio.async(function() end)()
  yield()                    -- unawaited after a step: gets its finalizer
  local cgc = getmetatable(co).__gc
  t.eq(type(cgc), "function")
  for _, v in ipairs { "x", 42, {}, io.stdout } do cgc(v) end
  co:close()
end)

t.run()
