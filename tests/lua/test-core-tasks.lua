-- test-core-tasks.lua -- tasks: create_task's forms, Task methods (result,
-- exception, names, done callbacks), current_task and all_tasks, and
-- create_task's misuse.  Python's Task API is the reference.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task = asyncio.sleep, asyncio.create_task

local function yield() sleep(0):await() end

local add = asyncio.async(function(a, b) return a + b end)

t.test("create_task(coro) returns a Task; await gives its result", function()
  local task = create_task(add(1, 2))
  t.ok(asyncio.isfuture(task), "a task is a future")
  t.eq(task:done(), false, "not run inline")
  t.eq(task:await(), 3)
  t.eq(task:done(), true)
  t.eq(task:result(), 3)
end)

t.test("create_task(fn, ...) calls fn with the arguments", function()
  local task = create_task(function(a, b, c) return a .. b .. c end, "x", "y", "z")
  t.eq(asyncio.await(task), "xyz")
end)

t.test("create_task(async_fn, ...) runs the async function's body", function()
  -- Lua form of create_task(fn, ...): an async function called with the
  -- arguments gives a coroutine object, which the task must run, not return.
  local task = create_task(add, 20, 22)
  t.eq(task:await(), 42)
end)

t.test("create_task(coro, {name=}) names the task", function()
  local task = create_task(add(1, 1), { name = "adder" })
  t.eq(task:get_name(), "adder")
  task:set_name("other")
  t.eq(task:get_name(), "other")
  task:set_name(42)
  t.eq(task:get_name(), "42", "set_name takes any value, as str()")
  task:await()
end)

t.test("default names are Task-N with increasing N", function()
  local a, b = create_task(add(1, 1)), create_task(add(1, 1))
  local na = tonumber(a:get_name():match("^Task%-(%d+)$"))
  local nb = tonumber(b:get_name():match("^Task%-(%d+)$"))
  t.ok(na and nb and nb > na, "names " .. a:get_name() .. ", " .. b:get_name())
  asyncio.gather(a, b):await()
end)

t.test("tostring of a task shows its state and name", function()
  local task = create_task(add(1, 1), { name = "n1" })
  t.ok(tostring(task):find("pending", 1, true), tostring(task))
  t.ok(tostring(task):find("n1", 1, true), tostring(task))
  task:await()
  t.ok(tostring(task):find("finished", 1, true), tostring(task))
end)

-- A global, for its name in the repr, as Python's say_after().
function say_after_for_repr(delay)
  sleep(delay):await()
  return "said"
end

t.test("tostring of a task shows its coroutine and where it waits, as CPython's repr", function()
  local src = debug.getinfo(1, "S").short_src
  local defined = debug.getinfo(say_after_for_repr, "S").linedefined
  local task = create_task(say_after_for_repr, 0.01)
  t.eq(tostring(task), ("<Task pending name='%s' coro=<say_after_for_repr() running at %s:%d>>")
                       :format(task:get_name(), src, defined), "not started: where it starts")
  yield()
  t.eq(tostring(task), ("<Task pending name='%s' coro=<say_after_for_repr() running at %s:%d>>")
                       :format(task:get_name(), src, defined + 1), "at its await")
  local anon = create_task(function() yield() end)
  local anon_line = debug.getinfo(1, "l").currentline - 1
  t.eq(tostring(anon), ("<Task pending name='%s' coro=<function <%s:%d> running at %s:%d>>")
                       :format(anon:get_name(), src, anon_line, src, anon_line))
  local here = debug.getinfo(1, "l").currentline + 1
  local mine = tostring(asyncio.current_task())
  t.ok(mine:find((" running at %s:%d>>"):format(src, here), 1, true), mine)
  task:await()
  t.eq(tostring(task), ("<Task finished name='%s' result=said>"):format(task:get_name()))
  local failed = create_task(function() error("oops", 0) end)
  pcall(asyncio.await, failed)
  t.eq(tostring(failed), ("<Task finished name='%s' exception=oops>"):format(failed:get_name()))
  local c = create_task(sleep(1))
  c:cancel()
  pcall(asyncio.await, c)
  t.eq(tostring(c), ("<Task cancelled name='%s'>"):format(c:get_name()))
  anon:await()
end)

t.test("get_stack and print_stack, as CPython's", function()
  local src = debug.getinfo(1, "S").short_src
  local function inner() sleep(1):await() end
  local worker = asyncio.async(function() inner() end, "worker")
  local task = create_task(worker())
  t.same_as(task:get_stack(), {}, "not started: no frames")
  yield()
  local frames = task:get_stack()
  t.eq(#frames, 2, "the body and inner, oldest first")
  t.eq(frames[1].name, "worker")
  t.eq(frames[1].file, src)
  t.eq(frames[2].name, "inner")
  t.eq(frames[2].line, debug.getinfo(inner, "S").linedefined)
  local out = {}
  local sink = { write = function(_, s) out[#out + 1] = s end }
  task:print_stack(sink)
  local text = table.concat(out)
  t.ok(text:find("^Stack for <Task pending name='[^']+' coro=<worker%(%) running at "), text)
  t.ok(text:find("in upvalue 'inner'", 1, true), text)
  t.ok(text:find("in async function 'worker'", 1, true), text)
  task:cancel()
  pcall(asyncio.await, task)
  out = {}
  task:print_stack(sink)
  t.eq(table.concat(out), ("No stack for <Task cancelled name='%s'>\n"):format(task:get_name()))
  t.same_as(task:get_stack(), {})
  local failed = create_task(function() error("kaput") end)
  pcall(asyncio.await, failed)
  out = {}
  failed:print_stack(sink)
  text = table.concat(out)
  t.ok(text:find("^Traceback for <Task finished name='[^']+' exception=[^>]*kaput>"), text)
  t.ok(text:find("in function 'error'", 1, true), text)
  local mine = asyncio.current_task():get_stack()
  t.ok(#mine >= 1 and mine[#mine].line == debug.getinfo(1, "l").currentline - 1,
       "the running task: where get_stack was called")
  t.raises("Task expected", task.get_stack, asyncio.Future())
  t.eq(asyncio.Future().get_stack, nil, "a Future has none")
end)

t.test("Task:result() returns all results; await too", function()
  local task = create_task(function() return 1, nil, 3 end)
  local a, b, c = task:await()
  t.same_as({ a, b, c }, { 1, nil, 3 })
  local r = table.pack(task:result())
  t.eq(r.n, 3, "number of results")
  t.same_as(r, { 1, nil, 3, n = 3 })
  local none = create_task(function() end)
  none:await()
  t.eq(select("#", none:result()), 0, "no results")
end)

t.test("a task that returns before its first await is still not inline", function()
  local ran = false
  local task = create_task(function() ran = true end)
  t.eq(ran, false)
  yield()
  t.eq(ran, true)
  t.eq(task:done(), true)
end)

t.test("result() and exception() before done raise InvalidStateError", function()
  local task = create_task(function() sleep(0.01):await() end)
  t.raises("InvalidStateError", task.result, task)
  t.raises("InvalidStateError", task.exception, task)
  task:await()
  t.eq(task:exception(), nil, "no exception after success")
end)

t.test("exception() returns the error of a failed task", function()
  local err = { code = 7 }
  local task = create_task(function() error(err) end)
  yield()
  t.eq(task:done(), true)
  t.eq(task:exception(), err, "the very table")
  local e = t.raises(nil, task.result, task)
  t.eq(e, err)
end)

t.test("result() and exception() of a cancelled task raise CancelledError", function()
  local task = create_task(function() sleep(1):await() end)
  yield()
  task:cancel("why")
  t.raises("CancelledError", task.await, task)
  local e = t.raises("CancelledError", task.result, task)
  t.eq(e.message, "why", "message kept")
  t.raises("CancelledError", task.exception, task)
end)

t.test("set_result/set_exception are not allowed on a task", function()
  local task = create_task(add(1, 1))
  t.raises(nil, task.set_result, task, 1)
  t.raises(nil, task.set_exception, task, "x")
  task:await()
end)

t.test("current_task inside tasks; nil from a callback", function()
  local main = asyncio.current_task()
  t.ok(main, "the main task")
  local inner
  local task = create_task(function() inner = asyncio.current_task() end)
  task:await()
  t.eq(inner, task)
  t.eq(asyncio.current_task(), main)
  local in_cb = "unset"
  asyncio.get_running_loop():call_soon(function() in_cb = asyncio.current_task() end)
  yield()
  t.eq(in_cb, nil, "no current task in a callback")
end)

t.test("all_tasks lists the pending tasks, main included", function()
  local main = asyncio.current_task()
  local a = create_task(function() sleep(0.01):await() end)
  local b = create_task(function() end)
  local all = asyncio.all_tasks()
  local set = {}
  for _, x in ipairs(all) do set[x] = true end
  t.ok(set[main] and set[a] and set[b], "main, a and b listed")
  t.eq(#all, 3)
  yield()
  all = asyncio.all_tasks()
  t.eq(#all, 2, "b finished")
  a:await()
  t.same_as(asyncio.all_tasks(), { main })
end)

t.test("done callbacks of a task get the task, soon", function()
  local task = create_task(add(2, 3))
  local got
  task:add_done_callback(function(f) got = f end)
  task:await()
  t.eq(got, task, "called before the awaiter resumed")
  local later
  task:add_done_callback(function(f) later = f end)
  t.eq(later, nil, "not inline on a done task")
  yield()
  t.eq(later, task)
end)

t.test("a task awaited by several tasks wakes them all", function()
  local f = asyncio.Future()
  local task = create_task(function() return f:await() * 2 end)
  local ws = {}
  for i = 1, 3 do ws[i] = create_task(function() return task:await() + i end) end
  yield()
  f:set_result(10)
  local r = asyncio.gather(ws[1], ws[2], ws[3]):await()
  t.same_as(r, { 21, 22, 23, n = 3 })
end)

t.test("a task can await a task created later", function()
  local second
  local first = create_task(function()
    yield()
    return second:await() + 1
  end)
  second = create_task(function() return 41 end)
  t.eq(first:await(), 42)
end)

t.test("ensure_future: futures unchanged, coroutines wrapped", function()
  local f = asyncio.Future()
  t.eq(asyncio.ensure_future(f), f)
  local task = asyncio.ensure_future(add(1, 2))
  t.ok(asyncio.isfuture(task))
  t.eq(task:await(), 3)
  t.raises("TypeError", asyncio.ensure_future, 42)
end)

t.test("create_task of a non-awaitable raises", function()
  t.raises(nil, create_task, 42)
  t.raises(nil, create_task, nil)
  t.raises(nil, create_task, "str")
end)

t.test("create_task of a future raises (a coroutine was expected)", function()
  t.raises("coroutine", create_task, asyncio.Future())
end)

t.test("create_task of an already awaited coroutine raises", function()
  local c = add(1, 1)
  c:await()
  t.raises("reuse", create_task, c)
end)

t.test("a coroutine handed to create_task cannot be awaited again", function()
  local c = add(2, 3)
  local task = create_task(c)
  t.raises("reuse", asyncio.await, c)      -- claimed before the task starts
  t.eq(task:await(), 5)
end)

t.test("a task makes its thread at its first step, not at creation", function()
  local spin = asyncio.async(function() sleep(0):await() end)
  local N = 2000
  collectgarbage()
  collectgarbage("stop")
  local kb0 = collectgarbage("count")
  local tasks = {}
  for i = 1, N do tasks[i] = create_task(spin()) end
  local spawned = (collectgarbage("count") - kb0) * 1024 / N
  sleep(0):await()                       -- each task has run its first step
  local started = (collectgarbage("count") - kb0) * 1024 / N
  collectgarbage("restart")
  for i = 1, N do tasks[i]:await() end
  -- a thread is over 1 KB (its stack alone is 45 slots of 16 bytes)
  t.ok(spawned < 700, ("%.0f B per task not yet started"):format(spawned))
  t.ok(started - spawned > 700, ("%.0f B per started task"):format(started))
end)

t.test("a task cancelled before it starts never makes a thread", function()
  local N = 2000
  collectgarbage()
  collectgarbage("stop")
  local kb0 = collectgarbage("count")
  local tasks = {}
  for i = 1, N do tasks[i] = create_task(add(i, 1)) end
  for i = 1, N do tasks[i]:cancel() end
  sleep(0):await()                       -- every task is now done
  local per = (collectgarbage("count") - kb0) * 1024 / N
  collectgarbage("restart")
  for i = 1, N do t.eq(tasks[i]:cancelled(), true) end
  t.ok(per < 700, ("%.0f B per cancelled task"):format(per))
end)

t.test("many arguments reach the task and the async function", function()
  -- more than a new thread's stack holds: the task makes room for them
  local args = {}
  for i = 1, 5000 do args[i] = i end
  local function count(...) return select("#", ...), (select(select("#", ...), ...)) end
  local n, last = create_task(count, table.unpack(args)):await()
  t.eq(n, 5000)
  t.eq(last, 5000)
  n, last = asyncio.async(count)(table.unpack(args)):await()
  t.eq(n, 5000)
  t.eq(last, 5000)
  n, last = create_task(asyncio.async(count)(table.unpack(args))):await()
  t.eq(n, 5000)
  t.eq(last, 5000)
end)

t.test("too many arguments for a coroutine raise a clear error", function()
  local args = {}
  for i = 1, 70000 do args[i] = i end
  local f = asyncio.async(function() end)
  t.raises("too many arguments", f, table.unpack(args))
  t.raises("too many arguments", create_task, function() end, table.unpack(args))
end)

-- Top level, outside any loop.
do
  local c = add(1, 2)
  local ok, err = pcall(create_task, c)
  c:close()                              -- not "never awaited"
  local cur = asyncio.current_task()
  local all = #asyncio.all_tasks()
  t.test("create_task outside a running loop raises RuntimeError", function()
    t.eq(ok, false)
    t.ok(asyncio.iserror(err, "RuntimeError"), tostring(err))
    t.ok(tostring(err):find("no running event loop"), tostring(err))
  end)
  local ok2, r2 = pcall(asyncio.run, add, 1, 2)
  t.test("asyncio.run(async_fn, ...) runs the async function's body", function()
    t.eq(ok2, true)
    t.eq(r2, 3)
  end)
  t.test("current_task and all_tasks outside a loop", function()
    t.eq(cur, nil)
    t.eq(all, 0)
  end)
end

t.run()
