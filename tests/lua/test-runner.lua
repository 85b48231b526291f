-- test-runner.lua -- asyncio.Runner, as CPython 3.11's: several runs on
-- one loop whose tasks live between them, close() cancelling what is left,
-- <close>, and its errors.
local asyncio = require "asyncio"
local t = require "t"

t.test_outside("runs share a loop and its tasks; close cancels the rest", function()
  local log = {}
  local loop1, bg
  do
    local runner <close> = asyncio.Runner()
    t.eq(tostring(runner), "<asyncio.Runner created>")
    local r1, r2 = runner:run(asyncio.async(function(a, b)
      loop1 = asyncio.get_running_loop()
      bg = asyncio.create_task(function()
        local ok, err = pcall(asyncio.await, asyncio.sleep(10))
        log[#log + 1] = "bg cancelled: " .. tostring(asyncio.iserror(err, "CancelledError"))
        error(err, 0)
      end)
      asyncio.sleep(0):await()
      return a + b, "two"
    end), 1, 2)
    t.eq(r1, 3, "run returns main's results")
    t.eq(r2, "two")
    t.eq(bg:done(), false, "the other task lives on after the run")
    local same = runner:run(function() return asyncio.get_running_loop() end)
    t.ok(same == loop1 and runner:get_loop() == loop1, "one loop for every run")
    t.eq(loop1:is_closed(), false)
    t.eq(#log, 0)
  end                                    -- <close>: runner:close()
  t.same_as(log, { "bg cancelled: true" }, "close cancelled it and ran its cleanup")
  t.eq(loop1:is_closed(), true)
  t.eq(#asyncio.all_tasks(), 0)
end)

t.test_outside("a run's error comes out of run; the runner goes on", function()
  local runner <close> = asyncio.Runner()
  local ok, err = pcall(runner.run, runner, function() error("boom", 0) end)
  t.eq(ok, false)
  t.eq(err, "boom")
  t.eq(runner:run(function() return asyncio.sleep(0.001, "after"):await() end), "after")
  -- a coroutine object and a future are runnable too
  local co = asyncio.async(function() return "coro" end)()
  t.eq(runner:run(co), "coro")
  local fut = runner:get_loop():create_future()
  runner:get_loop():call_soon(function() fut:set_result("fut") end)
  t.eq(runner:run(fut), "fut")
end)

t.test_outside("a task that fails during close goes to the exception handler", function()
  local runner = asyncio.Runner()
  local seen = {}
  runner:get_loop():set_exception_handler(function(_, ctx) seen[#seen + 1] = ctx end)
  runner:run(function()
    asyncio.create_task(function()
      pcall(asyncio.await, asyncio.sleep(10))
      error("cleanup failed", 0)
    end)
    asyncio.sleep(0):await()
  end)
  runner:close()
  t.eq(#seen, 1)
  t.eq(seen[1].message, "unhandled exception during Runner.close() shutdown")
  t.eq(seen[1].exception, "cleanup failed")
  runner:close()                         -- idempotent
end)

t.test_outside("errors: closed, nested, not runnable", function()
  local runner = asyncio.Runner()
  runner:close()
  t.eq(tostring(runner), "<asyncio.Runner closed>")
  t.raises("RuntimeError: Runner is closed", runner.run, runner, function() end)
  t.raises("RuntimeError: Runner is closed", runner.get_loop, runner)
  local r2 <close> = asyncio.Runner()
  t.raises("ValueError: a coroutine was expected, got 5", r2.run, r2, 5)
  t.raises("TypeError", asyncio.Runner, "x")
  asyncio.run(function()
    t.raises("cannot be called from a running event loop", r2.run, r2, function() end)
  end)
end)

t.run()
