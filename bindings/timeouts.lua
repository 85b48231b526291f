-- timeouts.lua -- asyncio.timeout and asyncio.wait_for (loaded on first
-- use, bindings/asyncio.lua), ported from CPython's asyncio/timeouts.py and
-- tasks.py.  wait_for is an await under timeout's deadline, as CPython
-- 3.12's is `async with timeout(...)`, so the two share a file.
local asyncio = require "asyncio"
local async, await, Future, Error = asyncio.async, asyncio.await, asyncio.Future, asyncio.Error
local current_task, iserror = asyncio.current_task, asyncio.iserror
local ensure_future, get_running_loop = asyncio.ensure_future, asyncio.get_running_loop
local pack, unpack, type = table.pack, table.unpack, type

local M = {}

-- timeout(delay, fn, ...): runs fn(...) in the current task under a
-- deadline (CPython's asyncio.timeout).  delay == nil: no deadline.
local function run_with_timeout(delay, fn, ...)
  local task = current_task()
  if not task then
    error(Error("RuntimeError", "timeout() must be used inside a task"), 2)
  end
  if delay == nil then return fn(...) end
  local expired = false
  local cancelling = task:cancelling()
  local function on_timeout()
    expired = true
    task:cancel()
  end
  -- A deadline already passed fires soon, as CPython's Timeout.reschedule
  -- does: fn runs until its first await, not until the timer phase.
  local loop = get_running_loop()
  local handle = delay <= 0 and loop:call_soon(on_timeout)
                 or loop:call_later(delay, on_timeout)
  local res = pack(pcall(fn, ...))
  handle:cancel()
  if expired and task:uncancel() <= cancelling and not res[1]
     and iserror(res[2], "CancelledError") then
    error(Error("TimeoutError", ""), 0)
  end
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, res.n)
end

M.timeout = async(function(delay, fn, ...)
  if type(fn) ~= "function" then
    error(Error("TypeError", "timeout(delay, fn, ...) needs a function"), 2)
  end
  return run_with_timeout(delay, fn, ...)
end, "timeout")

-- timeout_at(when, fn, ...): the same with the deadline in loop:time()'s
-- clock (CPython's asyncio.timeout_at).  when == nil: no deadline.
M.timeout_at = async(function(when, fn, ...)
  if type(fn) ~= "function" then
    error(Error("TypeError", "timeout_at(when, fn, ...) needs a function"), 2)
  end
  if when ~= nil and type(when) ~= "number" then
    error(Error("TypeError", "timeout_at: when must be a number or nil"), 2)
  end
  return run_with_timeout(when and when - get_running_loop():time(), fn, ...)
end, "timeout_at")

-- Cancels fut and waits until it is done (CPython's _cancel_and_wait).
local function cancel_and_wait(fut)
  local waiter = Future()
  local function release() if not waiter:done() then waiter:set_result() end end
  fut:add_done_callback(release)
  fut:cancel()
  local ok, err = pcall(await, waiter)
  fut:remove_done_callback(release)
  if not ok then error(err, 0) end
end

M.wait_for = async(function(aw, timeout)
  if timeout == nil then return await(aw) end
  if timeout <= 0 then
    local fut = ensure_future(aw)
    if fut:done() then return fut:result() end
    cancel_and_wait(fut)
    local ok, err = pcall(fut.result, fut)
    if not ok and iserror(err, "CancelledError") then
      error(Error("TimeoutError", ""), 0)
    end
    if not ok then error(err, 0) end
    return fut:result()
  end
  return run_with_timeout(timeout, await, aw)
end, "wait_for")

return M
