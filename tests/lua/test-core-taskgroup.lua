-- test-core-taskgroup.lua -- asyncio.TaskGroup: waits for every task; the
-- first failure cancels the others (and the body's await) and raises an
-- ExceptionGroup listing every failure; outer cancellation; misuse.
-- CPython 3.11's taskgroups.py and test_taskgroups.py are the reference.
local asyncio = require "asyncio"
local t = require "t"

local TaskGroup, sleep, create_task = asyncio.TaskGroup, asyncio.sleep, asyncio.create_task
local log = t.log

local w = asyncio.async(function(n, d)
  local ok, err = pcall(function() sleep(d):await() end)
  if not ok then
    if asyncio.iserror(err, "CancelledError") then log("w" .. n .. " cancelled") end
    error(err, 0)
  end
  log("w" .. n .. " done")
  return n
end)

local bad = asyncio.async(function(n, d)
  sleep(d):await()
  log("bad" .. n)
  error(asyncio.Error("ValueError", "bad" .. n), 0)
end)

local function sorted(list)
  table.sort(list)
  return list
end

t.test("all tasks succeed: the group waits for every one", function()
  local ts = {}
  TaskGroup(function(tg)
    ts[1] = tg:create_task(w(1, 0.02))
    ts[2] = tg:create_task(w(2, 0.01))
    ts[3] = tg:create_task(function(x) return x * 2 end, 21)
    log("body end")
  end):await()
  for _, task in ipairs(ts) do t.eq(task:done(), true) end
  t.eq(ts[1]:result(), 1)
  t.eq(ts[3]:result(), 42)
  local ev = t.events()                  -- (a stalled machine may run both
  t.eq(ev[1], "body end")                -- sleeps' timers in one turn)
  t.same_as(sorted({ ev[2], ev[3] }), { "w1 done", "w2 done" })
end)

t.test("TaskGroup returns the body's results and passes extra arguments", function()
  local a, b = TaskGroup(function(tg, x, y) return x, y end, "x", "y"):await()
  t.eq(a, "x")
  t.eq(b, "y")
end)

t.test("tasks may be added while the group waits", function()
  local second
  TaskGroup(function(tg)
    tg:create_task(function()
      sleep(0.01):await()
      second = tg:create_task(w(2, 0.01))
    end)
  end):await()
  t.eq(second:result(), 2)
  t.events()
end)

t.test("tg:create_task accepts a name", function()
  TaskGroup(function(tg)
    local task = tg:create_task(w(1, 0), { name = "named" })
    t.eq(task:get_name(), "named")
  end):await()
  t.events()
end)

t.test("a failure cancels the others and the body; every failure is listed", function()
  local ok, err = pcall(asyncio.await, TaskGroup(function(tg)
    tg:create_task(w(1, 1))              -- cancelled long before their end,
    tg:create_task(bad(1, 0.01))         -- even on a machine that stalls
    tg:create_task(bad(2, 0.01))
    tg:create_task(w(2, 1))
    log("body waits")
    sleep(1):await()
    log("body not here")
  end))
  t.eq(ok, false)
  t.ok(asyncio.iserror(err, "ExceptionGroup"), tostring(err))
  t.eq(#err.exceptions, 2)
  t.eq(tostring(err.exceptions[1]), "ValueError: bad1")
  t.eq(tostring(err.exceptions[2]), "ValueError: bad2")
  local s = tostring(err)
  t.ok(s:find("unhandled errors in a TaskGroup", 1, true), s)
  t.ok(s:find("2 sub-exceptions", 1, true), s)
  t.ok(s:find("bad1", 1, true) and s:find("bad2", 1, true), s)
  local ev = t.events()
  t.same_as({ ev[1], ev[2], ev[3] }, { "body waits", "bad1", "bad2" })
  t.same_as(sorted({ ev[4], ev[5] }), { "w1 cancelled", "w2 cancelled" })
  t.eq(#ev, 5)
  t.eq(asyncio.current_task():cancelling(), 0, "the group's own cancel is undone")
end)

t.test("a single failure: one sub-exception", function()
  local err = t.raises("ExceptionGroup", asyncio.await, TaskGroup(function(tg)
    tg:create_task(bad(1, 0))
    tg:create_task(w(1, 1))
  end))
  t.eq(#err.exceptions, 1)
  t.ok(tostring(err):find("1 sub-exception", 1, true), tostring(err))
  t.events()
end)

t.test("user error values are kept in the group unchanged", function()
  local mine = { code = 3 }
  local err = t.raises("ExceptionGroup", asyncio.await, TaskGroup(function(tg)
    tg:create_task(function() error(mine) end)
    tg:create_task(function() error("a string", 0) end)
  end))
  t.eq(#err.exceptions, 2)
  t.eq(err.exceptions[1], mine)
  t.eq(err.exceptions[2], "a string")
end)

t.test("a task failing while being cancelled adds its error too", function()
  local err = t.raises("ExceptionGroup", asyncio.await, TaskGroup(function(tg)
    tg:create_task(function()
      pcall(function() sleep(1):await() end)
      error("cleanup failed", 0)
    end)
    tg:create_task(bad(1, 0.01))
  end))
  t.eq(#err.exceptions, 2)
  t.eq(tostring(err.exceptions[1]), "ValueError: bad1")
  t.eq(err.exceptions[2], "cleanup failed")
  t.events()
end)

t.test("the body raising cancels the tasks and is listed", function()
  -- async with TaskGroup() as tg: tg.create_task(w(3, .05)); raise KeyError
  -- -> ExceptionGroup with (KeyError('body'),); w3, cancelled before it
  -- started, never runs (no "w3 cancelled")
  local err = t.raises("ExceptionGroup", asyncio.await, TaskGroup(function(tg)
    tg:create_task(w(3, 0.05))
    error("body", 0)
  end))
  t.same_as(err.exceptions, { "body" })
  t.same_as(t.events(), {})
end)

t.test("cancelling the task running the group cancels the children", function()
  local parent = create_task(function()
    TaskGroup(function(tg)
      tg:create_task(w(1, 1))
      tg:create_task(w(2, 1))
      sleep(1):await()
    end):await()
  end)
  sleep(0.01):await()
  parent:cancel()
  t.raises("CancelledError", parent.await, parent)
  t.eq(parent:cancelled(), true)
  t.same_as(sorted(t.events()), { "w1 cancelled", "w2 cancelled" })
end)

t.test("cancelling the parent while the group waits for its tasks", function()
  local parent = create_task(function()
    TaskGroup(function(tg) tg:create_task(w(1, 1)) end):await()
  end)
  sleep(0.01):await()
  parent:cancel()
  t.raises("CancelledError", parent.await, parent)
  t.same_as(t.events(), { "w1 cancelled" })
end)

t.test("create_task on a finished group raises RuntimeError", function()
  local saved
  TaskGroup(function(tg) saved = tg end):await()
  local c = w(1, 0)
  t.raises("RuntimeError", saved.create_task, saved, c)
  c:close()
end)

t.test("nested groups: an inner failure reaches the outer group", function()
  local err = t.raises("ExceptionGroup", asyncio.await, TaskGroup(function(outer)
    outer:create_task(w(1, 1))
    TaskGroup(function(inner) inner:create_task(bad(1, 0.01)) end):await()
  end))
  t.eq(#err.exceptions, 1)
  t.ok(asyncio.iserror(err.exceptions[1], "ExceptionGroup"), tostring(err.exceptions[1]))
  t.same_as(t.events(), { "bad1", "w1 cancelled" })
end)

t.test("an empty group finishes at once", function()
  t.eq(TaskGroup(function() return "empty" end):await(), "empty")
end)

do
  local c = TaskGroup(function() end)
  local ok, err = pcall(c.await, c)
  c:close()
  t.test("awaiting a TaskGroup outside a task raises RuntimeError", function()
    t.eq(ok, false)
    t.ok(asyncio.iserror(err, "RuntimeError"), tostring(err))
  end)
end

-- Out of memory while the group records a new task (simulated here by a
-- task set that refuses it): create_task raises, and the task, which the
-- group could neither wait for nor cancel, is cancelled before it runs.
t.test("create_task cancels a task the group cannot record", function()
  local ran = false
  local ok, err = pcall(asyncio.await, TaskGroup(function(tg)
    tg._tasks = setmetatable({}, { __newindex = function(_, _, v)
      if v ~= nil then error("not enough memory", 0) end  -- adding allocates
    end })
    tg:create_task(function() ran = true end)
  end))
  t.eq(ok, false)
  t.ok(tostring(err):find("not enough memory", 1, true), tostring(err))
  sleep(0.01):await()
  t.eq(ran, false, "the unrecorded task never ran")
end)

t.test("TaskGroup(async function(tg) ...): the async body runs in the group", function()
  local r = {}
  asyncio.TaskGroup(asyncio.async(function(tg, x)
    tg:create_task(function() asyncio.sleep(0.01):await(); r[#r + 1] = "child" end)
    asyncio.sleep(0):await()
    r[#r + 1] = "body " .. x
  end), "x"):await()
  t.same_as(r, { "body x", "child" }, "the body ran, the group waited for the child")
end)

t.run()
