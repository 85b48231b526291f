-- test-core-shield.lua -- asyncio.shield: the awaiter can be cancelled
-- while the shielded operation runs on; errors and the inner's own
-- cancellation still come through.  CPython's test_tasks.py shield cases
-- are the reference.
local asyncio = require "asyncio"
local t = require "t"

local shield, sleep, create_task = asyncio.shield, asyncio.sleep, asyncio.create_task
local log = t.log

local w = asyncio.async(function(n, d)
  local ok, err = pcall(function() sleep(d):await() end)
  if not ok then log("w" .. n .. " cancelled"); error(err, 0) end
  log("w" .. n .. " done")
  return n
end)

t.test("shield(aw) gives aw's results", function()
  t.eq(shield(w(1, 0.01)):await(), 1)
  local inner = create_task(w(2, 0))
  t.eq(shield(inner):await(), 2)
  t.events()
end)

t.test("shield of a done future is that future", function()
  local f = asyncio.Future()
  f:set_result("x")
  t.eq(shield(f), f)
end)

t.test("cancelling the awaiter does not cancel the shielded task", function()
  local inner = create_task(w(1, 0.03))
  local outer = create_task(function() return shield(inner):await() end)
  sleep(0.01):await()
  outer:cancel()
  t.raises("CancelledError", outer.await, outer)
  t.eq(inner:cancelled(), false)
  t.eq(inner:done(), false, "still running")
  t.eq(inner:await(), 1)
  t.same_as(t.events(), { "w1 done" })
end)

t.test("cancelling the shield future itself leaves the inner running", function()
  local inner = create_task(w(1, 0.02))
  local s = shield(inner)
  t.eq(s:cancel(), true)
  t.raises("CancelledError", s.await, s)
  t.eq(inner:await(), 1)
  t.events()
end)

t.test("a shielded coroutine runs to the end after the awaiter is cancelled", function()
  local outer = create_task(function() return shield(w(2, 0.02)):await() end)
  sleep(0.005):await()
  outer:cancel()
  t.raises("CancelledError", outer.await, outer)
  sleep(0.03):await()
  t.same_as(t.events(), { "w2 done" })
end)

t.test("the inner's error comes through the shield unchanged", function()
  local err = {}
  local inner = create_task(function() sleep(0.01):await(); error(err) end)
  t.eq(t.raises(nil, asyncio.await, shield(inner)), err)
end)

t.test("cancelling the inner cancels the shield's awaiter", function()
  local inner = create_task(w(1, 1))
  local outer = create_task(function() return shield(inner):await() end)
  sleep(0.01):await()
  inner:cancel()
  t.raises("CancelledError", outer.await, outer)
  t.eq(outer:cancelled(), true)
  t.same_as(t.events(), { "w1 cancelled" })
end)

t.test("shield inside wait_for: the timeout leaves the inner running", function()
  local inner = create_task(w(1, 0.03))
  t.raises("TimeoutError", asyncio.await, asyncio.wait_for(shield(inner), 0.01))
  t.eq(inner:done(), false)
  t.eq(inner:await(), 1)
  t.events()
end)

t.test("shield of a non-awaitable raises", function()
  t.raises(nil, shield, 5)
end)

t.run()
