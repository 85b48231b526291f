-- test-core-wait.lua -- asyncio.wait (each return_when, timeout) and
-- asyncio.as_completed (completion order, errors, timeout).  Expected
-- results from the same programs run by CPython 3.11.
local asyncio = require "asyncio"
local t = require "t"

local wait, as_completed, sleep, create_task =
  asyncio.wait, asyncio.as_completed, asyncio.sleep, asyncio.create_task

local w = asyncio.async(function(n, d) sleep(d):await(); return n end)
local bad = asyncio.async(function(d, err) sleep(d):await(); error(err or "bad", 0) end)

-- Indexes (in `list`) of the futures in `set`, sorted.
local function indexes(list, set)
  local pos = {}
  for i, f in ipairs(list) do pos[f] = i end
  local r = {}
  for _, f in ipairs(set) do r[#r + 1] = pos[f] end
  table.sort(r)
  return r
end

local function tasks(...)
  local ts = {}
  for i, c in ipairs { ... } do ts[i] = create_task(c) end
  return ts
end

t.test("wait: ALL_COMPLETED by default", function()
  local ts = tasks(w(1, 0.02), w(2, 0.01), bad(0.01))
  local done, pending = wait(ts):await()
  t.same_as(indexes(ts, done), { 1, 2, 3 })
  t.same_as(pending, {})
  t.eq(ts[1]:result(), 1)
  t.eq(ts[3]:exception(), "bad", "wait does not raise the errors")
end)

t.test("wait: FIRST_COMPLETED", function()
  local ts = tasks(w(1, 0.03), w(2, 0.01), w(3, 0.05))
  local done, pending = wait(ts, { return_when = "FIRST_COMPLETED" }):await()
  t.same_as(indexes(ts, done), { 2 })
  t.same_as(indexes(ts, pending), { 1, 3 })
  t.eq(ts[1]:done(), false, "pending ones are not cancelled")
  wait(ts):await()
end)

t.test("wait: FIRST_EXCEPTION returns at the first error", function()
  -- ts = [w(1,.03), w(2,.01), bad(.02)]; wait(ts, FIRST_EXCEPTION)
  -- -> done [1, 2], pending [0] (0-based)
  local ts = tasks(w(1, 0.03), w(2, 0.01), bad(0.02))
  local done, pending = wait(ts, { return_when = asyncio.FIRST_EXCEPTION }):await()
  t.same_as(indexes(ts, done), { 2, 3 })
  t.same_as(indexes(ts, pending), { 1 })
  wait(ts):await()
  ts[3]:exception()
end)

t.test("wait: FIRST_EXCEPTION without errors waits for all", function()
  local ts = tasks(w(1, 0.02), w(2, 0.01))
  local done, pending = wait(ts, { return_when = "FIRST_EXCEPTION" }):await()
  t.same_as(indexes(ts, done), { 1, 2 })
  t.same_as(pending, {})
end)

t.test("wait: FIRST_EXCEPTION counts a cancelled task as completed, not failed", function()
  local ts = tasks(w(1, 0.03), w(2, 0.5))
  ts[2]:cancel()
  local done, pending = wait(ts, { return_when = "FIRST_EXCEPTION" }):await()
  t.same_as(indexes(ts, done), { 1, 2 })
  t.same_as(pending, {})
end)

t.test("wait: timeout returns what is done, cancels nothing, raises nothing", function()
  -- ts = [w(1,.03), w(2,.01)]; wait(ts, timeout=.02) -> done [1], pending [0]
  local ts = tasks(w(1, 0.03), w(2, 0.01))
  local done, pending = wait(ts, { timeout = 0.02 }):await()
  t.same_as(indexes(ts, done), { 2 })
  t.same_as(indexes(ts, pending), { 1 })
  t.eq(ts[1]:cancelled(), false)
  t.eq(ts[1]:await(), 1)
end)

t.test("wait: FIRST_COMPLETED with a timeout that passes first", function()
  local ts = tasks(w(1, 0.05))
  local done, pending = wait(ts, { timeout = 0.01, return_when = "FIRST_COMPLETED" }):await()
  t.same_as(done, {})
  t.same_as(indexes(ts, pending), { 1 })
  ts[1]:await()
end)

t.test("wait: already done futures come back at once", function()
  local f = asyncio.Future()
  f:set_result(1)
  local done, pending = wait({ f }):await()
  t.same_as(done, { f })
  t.same_as(pending, {})
end)

t.test("wait: coroutines are wrapped in tasks", function()
  local done, pending = wait({ w(1, 0), w(2, 0) }):await()
  t.eq(#done, 2)
  t.eq(#pending, 0)
  local r = {}
  for _, f in ipairs(done) do r[#r + 1] = f:result() end
  table.sort(r)
  t.same_as(r, { 1, 2 })
end)

t.test("wait: duplicates count once", function()
  local task = create_task(w(1, 0))
  local done = wait({ task, task }):await()
  t.same_as(done, { task })
end)

t.test("wait: an empty list is a ValueError", function()
  t.raises("ValueError", asyncio.await, wait({}))
end)

t.test("wait: a bad return_when is a ValueError", function()
  local f = asyncio.Future()
  t.raises("ValueError", asyncio.await, wait({ f }, { return_when = "SOMETIMES" }))
end)

t.test("wait: cancelling the waiter leaves the tasks running", function()
  local ts = tasks(w(1, 0.03))
  local waiter = create_task(function() return wait(ts):await() end)
  sleep(0.01):await()
  waiter:cancel()
  t.raises("CancelledError", waiter.await, waiter)
  t.eq(ts[1]:cancelled(), false)
  t.eq(ts[1]:await(), 1)
end)

t.test("as_completed yields in completion order", function()
  -- for c in as_completed([w(3,.03), w(1,.01), w(2,.02)]): await c -> 1 2 3
  local ts = tasks(w(3, 0.03), w(1, 0.01), w(2, 0.02))
  local got = {}
  for aw in as_completed(ts) do got[#got + 1] = aw:await() end
  t.same_as(got, { 1, 2, 3 })
end)

t.test("as_completed accepts coroutines and futures", function()
  local f = asyncio.Future()
  create_task(function() sleep(0.02):await(); f:set_result("f") end)
  local got = {}
  for aw in as_completed({ w("c", 0.01), f, w("d", 0.03) }) do
    got[#got + 1] = asyncio.await(aw)
  end
  t.same_as(got, { "c", "f", "d" })
end)

t.test("as_completed: an error is raised when its awaitable is awaited", function()
  local got = {}
  for aw in as_completed({ w(1, 0.02), bad(0.01, "E") }) do
    local ok, v = pcall(asyncio.await, aw)
    got[#got + 1] = ok and v or ("err " .. v)
  end
  t.same_as(got, { "err E", 1 })
end)

t.test("as_completed with a timeout raises TimeoutError for the late ones", function()
  -- ts = [w(3,.06), w(1,.02), w(2,.04)]; as_completed(ts, timeout=.05)
  -- -> 1, 2, then TimeoutError; ts[0] still running
  local ts = tasks(w(3, 0.06), w(1, 0.02), w(2, 0.04))
  local got = {}
  local ok, err = pcall(function()
    for aw in as_completed(ts, { timeout = 0.05 }) do got[#got + 1] = aw:await() end
  end)
  t.eq(ok, false)
  t.ok(asyncio.iserror(err, "TimeoutError"), tostring(err))
  t.same_as(got, { 1, 2 })
  t.same_as({ ts[1]:done(), ts[2]:done(), ts[3]:done() }, { false, true, true })
  t.eq(ts[1]:await(), 3)
end)

t.test("as_completed of an empty list yields nothing", function()
  for _ in as_completed({}) do error("yielded") end
end)

t.test("as_completed: duplicates count once", function()
  local task = create_task(w(1, 0))
  local n = 0
  for aw in as_completed({ task, task }) do n = n + 1; aw:await() end
  t.eq(n, 1)
end)

t.run()
