-- test-core-errors.lua -- the error model (error tables with type/message,
-- tostring "Type: message", asyncio.Error/iserror), user error values
-- crossing awaits and tasks unchanged, and every misuse: await outside a
-- task, run inside run, awaiting a non-awaitable, a task awaiting itself,
-- coroutine.yield in a task, awaiting a coroutine twice, await across a C
-- boundary, and a deadlock that must raise instead of hanging.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task, Future = asyncio.sleep, asyncio.create_task, asyncio.Future

local function yield() sleep(0):await() end

---------------------------------------------------------------------------
-- Error values
---------------------------------------------------------------------------
t.test("asyncio.Error builds (does not raise) a typed error table", function()
  local e = asyncio.Error("TimeoutError", "too slow")
  t.eq(type(e), "table")
  t.eq(e.type, "TimeoutError")
  t.eq(e.message, "too slow")
  t.eq(tostring(e), "TimeoutError: too slow")
  t.ok(asyncio.iserror(e))
  t.ok(asyncio.iserror(e, "TimeoutError"))
  t.eq(asyncio.iserror(e, "ValueError"), false)
end)

t.test("asyncio.Error with extra fields; without a message", function()
  local e = asyncio.Error("HTTPStatusError", "404", { status = 404, url = "http://x/" })
  t.eq(e.status, 404)
  t.eq(e.url, "http://x/")
  local bare = asyncio.Error("CancelledError")
  t.eq(bare.message, "")
  t.eq(tostring(bare), "CancelledError")
end)

t.test("iserror is false for user values", function()
  t.eq(asyncio.iserror("TimeoutError: x"), false)
  t.eq(asyncio.iserror({ type = "TimeoutError", message = "x" }), false)
  t.eq(asyncio.iserror(nil), false)
  t.eq(asyncio.iserror(42), false)
end)

t.test("iserror follows Python's classes: bases, errno classes", function()
  local E, is = asyncio.Error, asyncio.iserror
  local timeout = E("TimeoutError", "x")
  t.ok(is(timeout, "OSError"), "TimeoutError is an OSError")
  t.eq(is(timeout, "ConnectionError"), false)
  local reset = E("ConnectionResetError", "peer")
  t.ok(is(reset, "ConnectionError") and is(reset, "OSError"))
  t.eq(is(reset, "ConnectionRefusedError"), false)
  t.ok(is(E("ConnectionError", "x"), "OSError"))
  t.eq(is(E("OSError", "x"), "ConnectionError"), false, "not the other way")
  t.ok(is(E("BrokenBarrierError", "x"), "RuntimeError"))
  -- the HTTP client's errors are aiohttp's ClientErrors, but a timeout
  for _, ty in ipairs { "ConnectionError", "HTTPStatusError", "TooManyRedirects",
                        "InvalidURL", "ResponseTooLarge" } do
    t.ok(is(E(ty, "x"), "ClientError"), ty)
  end
  t.eq(is(E("TimeoutError", "x"), "ClientError"), false)
  t.eq(is(E("TooManyRedirects", "x"), "HTTPStatusError"), false)
  t.ok(is(E("ConnectionError", "x"), "OSError"), "and still an OSError")
  -- an OSError is also of the class of its errno code
  local enoent = E("OSError", "x", { code = "ENOENT", errno = 2 })
  t.ok(is(enoent, "FileNotFoundError"))
  t.ok(is(enoent, "OSError"))
  t.eq(is(enoent, "FileExistsError"), false)
  t.eq(is(enoent, "PermissionError"), false)
  t.ok(is(E("OSError", "x", { code = "EACCES" }), "PermissionError"))
  t.ok(is(E("OSError", "x", { code = "EPERM" }), "PermissionError"))
  t.ok(is(E("OSError", "x", { code = "EPIPE" }), "ConnectionError"))
  t.ok(is(E("OSError", "x", { code = "ETIMEDOUT" }), "TimeoutError"))
  t.eq(is(E("OSError", "x", { code = "EWHATEVER" }), "FileNotFoundError"), false)
  t.eq(is(E("OSError", "x", { code = 2 }), "FileNotFoundError"), false)
  t.eq(is(E("ValueError", "x", { code = "ENOENT" }), "FileNotFoundError"), false,
       "only an OSError has an errno class")
  t.eq(is({ type = "OSError", code = "ENOENT" }, "FileNotFoundError"), false,
       "a user table is no aiolua error")
end)

t.test("iserror(e, 'Exception'): every error but a CancelledError", function()
  local is = asyncio.iserror
  t.ok(is(asyncio.Error("ValueError", "x"), "Exception"))
  t.ok(is("x.lua:1: boom", "Exception"), "a Lua error is an Exception")
  t.ok(is({ code = 1 }, "Exception"), "so is a user error table")
  t.eq(is(asyncio.Error("CancelledError", ""), "Exception"), false)
  -- the port of `except Exception`: cancellation goes through
  local task = create_task(function()
    local ok, e = pcall(sleep(10).await, sleep(10))
    if not ok and not is(e, "Exception") then error(e, 0) end
    return "swallowed"
  end)
  yield()
  task:cancel()
  t.ok(is(t.raises(nil, task.await, task), "CancelledError"))
end)

t.test("errors raised by aiolua are typed tables", function()
  local e = t.raises(nil, asyncio.await, asyncio.wait_for(sleep(1), 0.001))
  t.ok(asyncio.iserror(e, "TimeoutError"), tostring(e))
  t.eq(e.type, "TimeoutError")
  local f = Future()
  e = t.raises(nil, f.result, f)
  t.ok(asyncio.iserror(e, "InvalidStateError"))
  t.eq(tostring(e), "InvalidStateError: " .. e.message)
  f:cancel("m")
  e = t.raises(nil, f.result, f)
  t.ok(asyncio.iserror(e, "CancelledError"))
  t.eq(tostring(e), "CancelledError: m")
end)

t.test("a raised asyncio.Error keeps its identity", function()
  local e = asyncio.Error("ValueError", "v")
  local task = create_task(function() error(e) end)
  t.eq(t.raises(nil, task.await, task), e)
end)

---------------------------------------------------------------------------
-- User error values cross awaits and tasks unchanged
---------------------------------------------------------------------------
local values = {
  ["a table"] = { code = 42 },
  ["a string with position"] = "file.lua:3: oops",
  ["a plain string"] = "oops",
  ["a number"] = 42,
  ["false"] = false,
  ["a table with __tostring"] = setmetatable({}, { __tostring = function() return "custom" end }),
}
local vnames = {}
for k in pairs(values) do vnames[#vnames + 1] = k end
table.sort(vnames)

for _, name in ipairs(vnames) do
  local v = values[name]
  t.test("error value " .. name .. " crosses a task and two awaits unchanged", function()
    local inner = create_task(function() yield(); error(v, 0) end)
    local middle = create_task(function() return inner:await() end)
    local c = asyncio.async(function() return middle:await() end)
    local ok, err = pcall(asyncio.await, c())
    t.eq(ok, false)
    t.eq(err, v)
    t.eq(middle:exception(), v)
  end)
end

t.test("error(msg) keeps the position of the raise", function()
  local line
  local task = create_task(function() line = debug.getinfo(1, "l").currentline; error("boom") end)
  local err = t.raises(nil, task.await, task)
  t.eq(err, "test-core-errors.lua:" .. line .. ": boom")
end)

t.test("error(nil) in a task: the awaiter gets nil", function()
  local task = create_task(function() error(nil) end)
  local ok, err = pcall(task.await, task)
  t.eq(ok, false)
  t.eq(err, nil)
end)

t.test("an error in an awaited coroutine reaches the awaiter's pcall", function()
  local c = asyncio.async(function() yield(); error({ "deep" }) end)
  local ok, err = pcall(function() return c():await() end)
  t.eq(ok, false)
  t.eq(err[1], "deep")
end)

t.test("an error in a <close> handler: the task fails as plain Lua would", function()
  local function body()
    local g <close> = setmetatable({}, { __close = function() error("close err", 0) end })
    error("body err", 0)
  end
  local _, want = pcall(body)                -- what Lua itself makes of it
  local task = create_task(function() yield(); body() end)
  local ok, err = pcall(task.await, task)
  t.eq(ok, false)
  t.eq(err, want)
end)

t.test("a pcall inside a task can catch, then the task goes on", function()
  local task = create_task(function()
    local ok, err = pcall(function() yield(); error("inner", 0) end)
    yield()
    return ok, err
  end)
  local ok, err = task:await()
  t.eq(ok, false)
  t.eq(err, "inner")
end)


---------------------------------------------------------------------------
-- Misuse inside a task
---------------------------------------------------------------------------
t.test("run inside run raises RuntimeError", function()
  local e = t.raises("RuntimeError", asyncio.run, function() end)
  t.ok(tostring(e):find("running event loop", 1, true), tostring(e))
end)

t.test("awaiting a non-awaitable raises", function()
  t.raises("can't be awaited", asyncio.await, 42)
  t.raises("can't be awaited", asyncio.await, {})
  t.raises("can't be awaited", asyncio.await, "s")
  t.raises("can't be awaited", asyncio.await, nil)
  t.raises("can't be awaited", asyncio.await, function() end)
end)

t.test("an object with its own await method can be awaited", function()
  local obj = setmetatable({}, { __index = { await = function(self, ...) return "custom", self end } })
  local a, b = asyncio.await(obj)
  t.eq(a, "custom")
  t.eq(b, obj)
end)

t.test("a task awaiting itself raises RuntimeError", function()
  local me = asyncio.current_task()
  t.raises("RuntimeError", me.await, me)
  local task
  task = create_task(function() return task:await() end)
  t.raises("RuntimeError", task.await, task)
end)

t.test("coroutine.yield inside a task fails the task", function()
  local task = create_task(function() coroutine.yield(1) end)
  local err = t.raises("coroutine.yield", task.await, task)
  t.eq(task:cancelled(), false)
  t.ok(task:done())
  t.ok(tostring(err):find("await", 1, true), tostring(err))
end)

t.test("a coroutine.wrap generator inside a task works; await inside it raises", function()
  local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
  t.eq(gen() + gen() + gen(), 6)
  local co = coroutine.wrap(function() return sleep(0):await() end)
  t.raises("RuntimeError", co)
end)

t.test("await across a C call boundary raises RuntimeError", function()
  t.raises("RuntimeError", table.sort, { 3, 2, 1 }, function(a, b) yield(); return a < b end)
  t.raises("RuntimeError", string.gsub, "a", "a", function() yield() end)
  -- Lua 5.4 metamethods are yieldable: awaiting in __index works
  local mt = { __index = function(_, k) yield(); return k end }
  t.eq(setmetatable({}, mt).x, "x")
end)

t.test("a foreign coroutine.resume of a parked task is refused and harmless", function()
  local co
  local f = Future()
  local task = create_task(function()
    co = coroutine.running()
    return "got " .. tostring(f:await())
  end)
  yield()
  t.eq(coroutine.status(co), "suspended")
  local ok, err = coroutine.resume(co, "junk")
  t.eq(ok, false, "a stray resume is caught (STYLE 3.10), got " .. tostring(err))
  t.eq(task:done(), false)
  f:set_result("real")
  t.eq(task:await(), "got real")
  -- the stray resume must not have left this task waiting on f
  local g = Future()
  asyncio.get_running_loop():call_later(0.005, function() g:set_result("mine") end)
  t.eq(g:await(), "mine")
end)

t.test("coroutine.close of a parked task's thread is refused and harmless", function()
  local co
  local f = Future()
  local task = create_task(function()
    co = coroutine.running()
    local g <close> = setmetatable({}, { __close = function() t.log("closed") end })
    return "got " .. tostring(f:await())
  end)
  yield()
  local ok = pcall(coroutine.close, co)
  t.eq(ok, false, "coroutine.close refused")
  t.same_as(t.events(), {}, "no <close> ran")
  f:set_result("real")
  t.eq(task:await(), "got real")
  t.same_as(t.events(), { "closed" })
end)

t.test("awaiting a coroutine object twice raises RuntimeError", function()
  local c = asyncio.async(function() return 1 end)()
  t.eq(c:await(), 1)
  local e = t.raises("RuntimeError", c.await, c)
  t.ok(tostring(e):find("already awaited", 1, true), tostring(e))
  local c2 = asyncio.async(function() return 1 end)()
  create_task(c2):await()
  t.raises("RuntimeError", c2.await, c2)
end)

t.test("awaiting inside a done callback raises", function()
  local f, g = Future(), Future()
  f:add_done_callback(function()
    local ok, err = pcall(asyncio.await, sleep(0))
    g:set_result(ok, err)
  end)
  f:set_result()
  local ok, err = g:await()
  t.eq(ok, false)
  t.ok(asyncio.iserror(err, "RuntimeError"), tostring(err))
end)

t.test("bad arguments raise", function()
  t.raises("number expected", sleep, "x")
  t.raises(nil, asyncio.async, 42)
  t.raises(nil, Future().add_done_callback, Future(), "nope")
end)


---------------------------------------------------------------------------
-- Top level: outside any loop
---------------------------------------------------------------------------
do
  local results = {}
  local function check(name, fn) results[#results + 1] = { name, fn } end

  local ok1, e1 = pcall(asyncio.await, sleep(0))
  check("await outside a task raises RuntimeError saying so", function()
    t.eq(ok1, false)
    t.ok(asyncio.iserror(e1, "RuntimeError"), tostring(e1))
    t.ok(tostring(e1):find("outside a task", 1, true), tostring(e1))
  end)

  local c = asyncio.async(function() return 1 end)()
  local ok2, e2 = pcall(c.await, c)
  c:close()
  check("awaiting a coroutine outside a task raises RuntimeError", function()
    t.eq(ok2, false)
    t.ok(asyncio.iserror(e2, "RuntimeError"), tostring(e2))
  end)

  local done = Future()
  done:set_result(1)
  local ok3, e3 = pcall(done.await, done)
  check("awaiting a done future outside a task raises too", function()
    t.eq(ok3, false, "await of a done future outside a task")
    t.ok(asyncio.iserror(e3, "RuntimeError"), tostring(e3))
  end)

  local r = table.pack(asyncio.run(function(a, b) sleep(0):await(); return a + b, "two", nil end, 1, 2))
  check("asyncio.run(fn, ...) passes the arguments and returns every result", function()
    t.same_as(r, { 3, "two", nil, n = 3 })
  end)

  local r2 = asyncio.run(asyncio.async(function(x) return x * 2 end)(21))
  check("asyncio.run(coro) runs a coroutine object", function() t.eq(r2, 42) end)

  local err = { "main's" }
  local ok4, e4 = pcall(asyncio.run, function() sleep(0):await(); error(err) end)
  check("asyncio.run raises main's error unchanged", function()
    t.eq(ok4, false)
    t.eq(e4, err)
  end)

  local ok5, e5 = pcall(asyncio.run, 42)
  check("asyncio.run of a non-awaitable raises", function() t.eq(ok5, false); t.ok(e5) end)

  local loop = asyncio.new_event_loop()
  local t0 = loop:time()
  local ok6, e6 = pcall(asyncio.run, function() Future():await() end)
  local dt = loop:time() - t0
  check("deadlock: main awaits a future nobody can resolve -> RuntimeError", function()
    t.eq(ok6, false)
    t.ok(asyncio.iserror(e6, "RuntimeError"), tostring(e6))
    t.ok(tostring(e6):find("deadlock", 1, true), tostring(e6))
    t.ok(dt < 1, "took " .. dt)
  end)

  local cleaned = {}
  local ok7, e7 = pcall(asyncio.run, function()
    local a, b = Future(), Future()
    create_task(function()
      local ok = pcall(a.await, a)
      cleaned[#cleaned + 1] = ok and "resolved" or "cancelled"
      if not b:done() then b:set_result() end
    end)
    local ok = pcall(b.await, b)
    cleaned[#cleaned + 1] = "main " .. (ok and "resolved" or "cancelled")
    if not ok then error(asyncio.Error("CancelledError"), 0) end
  end)
  check("deadlock among several tasks raises; their cleanup runs", function()
    t.eq(ok7, false)
    t.ok(tostring(e7):find("deadlock", 1, true), tostring(e7))
    t.same_as(cleaned, { "main cancelled", "cancelled" })
  end)

  local ok8 = pcall(asyncio.run, function()
    local f = Future()
    asyncio.get_running_loop():call_later(0.01, function() f:set_result() end)
    f:await()
  end)
  check("a future resolved by a timer callback is not a deadlock", function() t.eq(ok8, true) end)

  for _, c2 in ipairs(results) do t.test(c2[1], c2[2]) end
end

t.test("a stack overflow in a task fails the task promptly, with a traceback", function()
  -- the traceback counts the task's ~200,000 frames: one by one took minutes
  local c0 = os.clock()
  local task = create_task(function()
    local function down(n) return down(n + 1) + 1 end
    return down(1)
  end)
  local ok, err = pcall(task.await, task)
  t.eq(ok, false)
  t.ok(tostring(err):find("stack overflow", 1, true), tostring(err))
  t.ok(os.clock() - c0 < 20, "took " .. (os.clock() - c0) .. " s")
end)

t.test("tracebacks through built-in Lua modules name their file and line", function()
  -- the modules are embedded as bytecode compiled with debug information
  local _, tb = xpcall(asyncio.Queue, function(e)
    return debug.traceback(tostring(e), 2)
  end, "x")
  t.ok(tb:find("%[asyncio/queues%.lua%]:%d+: in function <%[asyncio/queues%.lua%]:%d+>"), tb)
end)

t.test("a task returning more values than the loop can take fails, never hangs", function()
  -- near Lua's stack limit (1,000,000 slots) the values may not fit the
  -- task's own stack (unpack fails), then not the loop's (the task fails),
  -- then not the awaiter's (its await fails): each a clear error
  local r = {}
  for i = 1, 1000000 do r[i] = i end
  local kinds = {}
  for n = 999999, 999800, -1 do
    local task = asyncio.create_task(function() return table.unpack(r, 1, n) end)
    local ok, got = pcall(function() return select("#", task:await()) end)
    t.ok(task:done(), "task done")
    if ok then
      t.eq(got, n)
      kinds.ok = true
      break
    end
    local msg = tostring(got)
    local kind = msg:find("too many results to unpack", 1, true) and "unpack"
      or msg:find("too many results to return from a task (" .. n .. ")", 1, true) and "task"
      or msg:find("stack overflow", 1, true) and "await"
    t.ok(kind, msg)
    kinds[kind] = true
  end
  t.ok(kinds.ok and kinds.task, "both a failed task and a success were seen")
end)

t.run()
