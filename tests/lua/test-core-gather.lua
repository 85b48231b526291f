-- test-core-gather.lua -- asyncio.gather: both call forms, result order and
-- `n`, return_exceptions, the first error propagating while the others
-- keep running, and cancellation in both directions.  Expected orders come
-- from the same programs run by CPython 3.11.
local asyncio = require "asyncio"
local t = require "t"

local gather, sleep, create_task = asyncio.gather, asyncio.sleep, asyncio.create_task
local log = t.log

local function yield() sleep(0):await() end

-- w(n, d): sleeps d, logs "wN done" and returns n; logs "wN cancelled"
-- if cancelled.
local w = asyncio.async(function(n, d)
  local ok, err = pcall(function() sleep(d):await() end)
  if not ok then
    if asyncio.iserror(err, "CancelledError") then log("w" .. n .. " cancelled") end
    error(err, 0)
  end
  log("w" .. n .. " done")
  return n
end)

local fail = asyncio.async(function(err, d)
  sleep(d or 0):await()
  error(err, 0)
end)

t.test("gather(a, b, c): results in argument order, with n", function()
  local r = gather(w(1, 0.03), w(2, 0.01), w(3, 0.02)):await()
  t.same_as(r, { 1, 2, 3, n = 3 })
  t.same_as(t.events(), { "w2 done", "w3 done", "w1 done" })
end)

t.test("gather{a, b, c} (table form)", function()
  local r = gather({ w(1, 0.02), w(2, 0.01) }):await()
  t.same_as(r, { 1, 2, n = 2 })
end)

t.test("gather() and gather{} resolve to an empty list", function()
  t.same_as(gather():await(), { n = 0 })
  t.same_as(gather({}):await(), { n = 0 })
end)

t.test("gather of nil results keeps the holes; n counts them", function()
  local none = asyncio.async(function() end)
  local r = gather(none(), w(2, 0), none()):await()
  t.eq(r.n, 3)
  t.eq(r[1], nil)
  t.eq(r[2], 2)
  t.eq(r[3], nil)
end)

t.test("gather takes the first result of each awaitable", function()
  local multi = asyncio.async(function() return "a", "b" end)
  local r = gather(multi(), sleep(0, "x", "y")):await()
  t.same_as(r, { "a", "x", n = 2 })
end)

t.test("gather mixes coroutines, tasks, futures and sleeps", function()
  local f = asyncio.Future()
  local task = create_task(w(2, 0.01))
  create_task(function() yield(); f:set_result("fut") end)
  local r = gather(w(1, 0), task, f, sleep(0.01, "slept")):await()
  t.same_as(r, { 1, 2, "fut", "slept", n = 4 })
end)

t.test("gather runs its coroutines concurrently", function()
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  gather(sleep(0.05), sleep(0.05), sleep(0.05), w(1, 0.05)):await()
  local dt = loop:time() - t0
  t.ok(dt >= 0.045 and dt < 0.12, "took " .. dt)
end)

t.test("the same awaitable twice gives its result twice", function()
  local task = create_task(w(7, 0))
  local r = gather(task, task):await()
  t.same_as(r, { 7, 7, n = 2 })
end)

t.test("first error propagates unchanged; the others keep running", function()
  local err = { msg = "mine" }
  local t1 = create_task(w(1, 0.03))
  local ok, e = pcall(asyncio.await, gather(t1, fail(err, 0.01), w(2, 0.02)))
  t.eq(ok, false)
  t.eq(e, err, "the very error table")
  t.eq(t1:done(), false, "not cancelled")
  sleep(0.04):await()
  t.eq(t1:result(), 1)
  t.same_as(t.events(), { "w2 done", "w1 done" })
end)

t.test("the error of the first failing child wins", function()
  local ok, e = pcall(asyncio.await, gather(fail("late", 0.02), fail("early", 0.01)))
  t.eq(ok, false)
  t.eq(e, "early")
  sleep(0.02):await()   -- let "late" fail; gather retrieves it
end)

t.test("return_exceptions: errors become list entries", function()
  local err = asyncio.Error("ValueError", "bad")
  local r = gather({ w(1, 0.01), fail(err), fail("str"), return_exceptions = true }):await()
  t.eq(r.n, 3)
  t.eq(r[1], 1)
  t.eq(r[2], err)
  t.eq(r[3], "str")
end)

t.test("return_exceptions = false behaves like the vararg form", function()
  t.raises("x", asyncio.await, gather({ fail("x"), return_exceptions = false }))
end)

t.test("return_exceptions: a cancelled child gives a CancelledError entry", function()
  -- t7 = create_task(w(7, .05)); g = gather(t7, w(8, .02), return_exceptions=True)
  -- await sleep(.01); t7.cancel(); await g -> [CancelledError(''), 8]
  local t7 = create_task(w(7, 0.05))
  local g = gather({ t7, w(8, 0.02), return_exceptions = true })
  sleep(0.01):await()
  t7:cancel()
  local r = g:await()
  t.eq(r.n, 2)
  t.ok(asyncio.iserror(r[1], "CancelledError"), tostring(r[1]))
  t.eq(r[2], 8)
  t.same_as(t.events(), { "w7 cancelled", "w8 done" })
end)

t.test("a cancelled child makes gather raise CancelledError", function()
  -- t5 = create_task(w(5, .05)); g = gather(t5, w(6, .02))
  -- await sleep(.01); t5.cancel(); await g -> CancelledError; w6 still done
  local t5 = create_task(w(5, 0.05))
  local g = gather(t5, w(6, 0.02))
  sleep(0.01):await()
  t5:cancel()
  t.raises("CancelledError", g.await, g)
  sleep(0.03):await()
  t.same_as(t.events(), { "w5 cancelled", "w6 done" })
end)

t.test("cancelling the gather cancels the children", function()
  -- g = gather(w(1, .05), w(2, .05)); await sleep(.01); g.cancel(); await g
  local g = gather(w(1, 0.05), w(2, 0.05))
  sleep(0.01):await()
  t.eq(g:cancel(), true)
  t.raises("CancelledError", g.await, g)
  t.same_as(t.events(), { "w1 cancelled", "w2 cancelled" })
end)

t.test("cancelling a task awaiting a gather cancels the children", function()
  local task = create_task(function() return gather(w(3, 0.05), w(4, 0.05)):await() end)
  sleep(0.01):await()
  task:cancel()
  t.raises("CancelledError", task.await, task)
  t.eq(task:cancelled(), true)
  t.same_as(t.events(), { "w3 cancelled", "w4 cancelled" })
end)

t.test("cancelling a gather whose children are done returns false", function()
  -- f.set_result(1); g = gather(f); g.cancel() -> False; await g -> [1]
  local f = asyncio.Future()
  f:set_result(1)
  local g = gather(f)
  t.eq(g:cancel(), false)
  t.same_as(g:await(), { 1, n = 1 })
end)

t.test("a child that catches the cancellation lets gather finish", function()
  local stubborn = asyncio.async(function()
    pcall(function() sleep(0.05):await() end)
    return "survived"
  end)
  local g = gather(stubborn(), w(1, 0.05))
  sleep(0.01):await()
  g:cancel()
  -- CPython: outer is cancelled once every child is done, even if one
  -- swallowed its cancellation.
  t.raises("CancelledError", g.await, g)
end)

t.test("gather of a non-awaitable raises at once", function()
  t.raises(nil, gather, 1, 2)
end)

t.test("gather of a list with a negative n raises a clear error", function()
  local ok, err = pcall(gather, { n = -1 })
  t.eq(ok, false)
  t.ok(tostring(err):find("field 'n' is negative", 1, true), tostring(err))
end)

t.test("a gather that raises changes nothing in its futures", function()
  local f = asyncio.Future()
  local co = w(7, 0)
  t.raises("TypeError", gather, f, co, f, {})
  -- f was seen (and marked) before the bad argument: it must still get a
  -- callback, once, in a later gather; co was never started.
  local g = gather(f, f, co)
  f:set_result(5)
  t.same_as(g:await(), { 5, 5, 7, n = 3 })
end)

t.test("a future in two gathers and with a callback wakes each, in order", function()
  local f = asyncio.Future()
  local g1 = gather(f)                   -- gather's waiter, alone at first
  f:add_done_callback(function(x) log("cb " .. x:result()) end)
  local g2 = gather(f, f)
  g1:add_done_callback(function() log("g1") end)
  g2:add_done_callback(function() log("g2") end)
  create_task(function() yield(); f:set_result(7) end)
  t.same_as(g2:await(), { 7, 7, n = 2 })
  t.same_as(g1:result(), { 7, n = 1 })
  t.same_as(t.events(), { "cb 7", "g1", "g2" })
end)

t.test("a gather no one holds still completes after a full collection", function()
  local seen
  do
    local f = asyncio.Future()
    gather(f):add_done_callback(function(g) seen = g:result() end)
    f:set_result(3)                      -- its waiter is queued, f unheld
  end
  collectgarbage()
  collectgarbage()
  yield()
  yield()
  t.same_as(seen, { 3, n = 1 })
end)

t.test("a finished task waits for its gather across a full collection", function()
  local seen
  do
    local a = create_task(function() return "a" end)
    gather(a):add_done_callback(function(g) seen = g:result() end)
  end
  -- runs after a finished and before gather hears of it
  create_task(function() collectgarbage(); collectgarbage() end)
  yield(); yield(); yield()
  t.same_as(seen, { "a", n = 1 })
end)

-- A child that is not the last is counted when it finishes (gather's early
-- call), but the gather settles only in the last child's turn, after what
-- was queued before it; and a child's call waits behind its gather's
-- earlier calls still queued (here a failure's, with return_exceptions).
t.test("a gather settles in its last child's turn, early counts or not", function()
  local loop, g = asyncio.get_running_loop()
  local a = asyncio.async(function(fail)
    yield()
    if fail then error("boom", 0) end
    return 1
  end)
  local b = asyncio.async(function()
    yield()
    loop:call_soon(function() log("check " .. tostring(g:done())) end)
    return 2
  end)
  for _, fail in ipairs { false, true } do
    g = gather { a(fail), b(), return_exceptions = true }
    g:add_done_callback(function() log("g done") end)
    local r = g:await()
    t.same_as(r, { fail and "boom" or 1, 2, n = 2 })
    t.same_as(t.events(), { "check false", "g done" })
  end
end)

t.test("children counted early, then a failure: the gather fails with it", function()
  local g = gather(w(1, 0), w(2, 0), fail("late", 0.01), w(3, 0))
  t.raises("late", g.await, g)
  t.same_as(t.events(), { "w1 done", "w2 done", "w3 done" })
end)

t.test("a child counted early is kept for the results across a full collection", function()
  local g
  do
    local a = create_task(function() return "a" end)
    local f = asyncio.Future()
    g = gather(a, f)
    yield(); yield()                     -- a finished and was counted
    collectgarbage(); collectgarbage()
    f:set_result("f")
  end
  t.same_as(g:await(), { "a", "f", n = 2 })
end)

t.test("a big gather", function()
  local aws = {}
  for i = 1, 2000 do aws[i] = w(i, 0) end
  local r = gather(table.unpack(aws)):await()
  t.eq(r.n, 2000)
  for i = 1, 2000 do if r[i] ~= i then t.eq(r[i], i, "entry " .. i) end end
  t.events()
end)

t.run()
