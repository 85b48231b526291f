-- asyncio.sleep: a coroutine in Python, so not a Future here either; and
-- sleep(0) with no result is one shared object that only yields, which no
-- use can change (gather, create_task, wait, cancel, add_done_callback).
local t = require "t"
local asyncio = require "asyncio"

t.test("sleep objects are coroutines, not futures", function()
  t.eq(asyncio.isfuture(asyncio.sleep(1)), false)
  t.eq(asyncio.iscoroutine(asyncio.sleep(1)), true)
  t.eq(asyncio.isawaitable(asyncio.sleep(0)), true)
  asyncio.sleep(1):close()
end)

t.test("sleep(0) yields once and returns nothing; sleep(0, v) returns v", function()
  local order = {}
  asyncio.create_task(function() order[#order + 1] = "other" end)
  t.eq(select("#", asyncio.sleep(0):await()), 0)
  order[#order + 1] = "after sleep(0)"
  t.same_as(order, { "other", "after sleep(0)" })
  t.eq(asyncio.sleep(0, "v"):await(), "v")
  t.eq(asyncio.sleep(-1, "neg"):await(), "neg")
end)

t.test("the shared sleep(0) survives gather, tasks, wait and shield", function()
  local r = asyncio.gather(asyncio.sleep(0), asyncio.sleep(0), asyncio.sleep(0.001, 3)):await()
  t.eq(r.n, 3); t.eq(r[3], 3)
  local task = asyncio.create_task(asyncio.sleep(0))
  task:await()
  t.eq(task:done(), true)
  local done = asyncio.wait({ asyncio.sleep(0) }):await()
  t.eq(#done, 1)
  asyncio.shield(asyncio.sleep(0)):await()
  t.eq(asyncio.sleep(0):cancel(), false)   -- a yield cannot be cancelled
  asyncio.sleep(0):await()                 -- and still works afterwards
  t.eq(asyncio.sleep(0):done(), false)
end)

t.test("add_done_callback on sleep(0) is a TypeError, as on a coroutine", function()
  t.raises("TypeError", asyncio.sleep(0).add_done_callback, asyncio.sleep(0), print)
end)

t.test("cancelling a task during sleep(0) delivers CancelledError there", function()
  local reached = false
  local task = asyncio.create_task(function()
    asyncio.sleep(0):await()
    reached = true
  end)
  asyncio.sleep(0):await()                 -- task is inside its sleep(0)
  task:cancel("stop")
  local err = t.raises("CancelledError", task.await, task)
  t.eq(err.message, "stop")
  t.eq(reached, false)
  asyncio.sleep(0):await()
end)

t.test("sleep(d) with d > 0 sleeps at least d", function()
  local loop = asyncio.get_running_loop()
  local t0 = loop:time()
  asyncio.sleep(0.02):await()
  t.ok(loop:time() - t0 >= 0.019, "slept long enough")
end)

t.run()
