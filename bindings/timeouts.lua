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

-- fn, or for an async function one that awaits its coroutine: its body
-- runs in the current task either way.
local function inline(fn)
  if asyncio.iscoroutinefunction(fn) then
    return function(...) return await(fn(...)) end
  end
  return fn
end

-- timeout(delay, fn, ...): runs fn(...) in the current task under a
-- deadline (CPython's asyncio.timeout).  delay == nil: no deadline.
local function run_with_timeout(delay, fn, ...)
  fn = inline(fn)
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

local timeout_fn = async(function(delay, fn, ...)
  return run_with_timeout(delay, fn, ...)
end, "timeout")

local timeout_at_fn = async(function(when, fn, ...)
  return run_with_timeout(when and when - get_running_loop():time(), fn, ...)
end, "timeout_at")

-- ---- Timeout: the `async with asyncio.timeout(...) as cm` form ------------
-- local cm <close> = asyncio.timeout(delay): the rest of the enclosing
-- block runs under the deadline; leaving it by the deadline's cancellation
-- raises TimeoutError instead (a __close that raises replaces the error).
local Timeout = { __name = "Timeout" }
Timeout.__index = Timeout

local function new_timeout(when, level)
  local task = current_task()
  if not task then
    error(Error("RuntimeError", "Timeout should be used inside a task"), level + 1)
  end
  local self = setmetatable({ _task = task, _cancelling = task:cancelling(),
                              _state = "entered", _loop = get_running_loop() },
                            Timeout)
  self._on_timeout = function()
    self._handle = nil
    self._state = "expiring"
    task:cancel()
  end
  self:reschedule(when)
  return self
end

-- cm:when() -> the deadline in loop:time()'s clock, or nil.
function Timeout:when() return self._when end

-- cm:reschedule(when): a new deadline (nil: none); one already passed
-- fires at once.
function Timeout:reschedule(when)
  if self._state ~= "entered" then
    error(Error("RuntimeError", "Cannot change state of " .. self._state .. " Timeout"), 2)
  end
  if when ~= nil and type(when) ~= "number" then
    error(Error("TypeError", "when must be a number or nil"), 2)
  end
  self._when = when
  if self._handle then self._handle:cancel() end
  self._handle = nil
  if when == nil then return end
  local loop = self._loop
  if when <= loop:time() then self._handle = loop:call_soon(self._on_timeout)
  else self._handle = loop:call_at(when, self._on_timeout) end
end

-- cm:expired() -> whether the deadline passed and cancelled the block.
function Timeout:expired()
  return self._state == "expiring" or self._state == "expired"
end

function Timeout:__close(err)
  if self._handle then self._handle:cancel() end
  self._handle = nil
  if self._state == "expiring" then
    self._state = "expired"
    if self._task:uncancel() <= self._cancelling and err ~= nil
       and iserror(err, "CancelledError") then
      error(Error("TimeoutError", ""), 0)
    end
  elseif self._state == "entered" then
    self._state = "exited"
  end
end

function Timeout:__tostring()
  local w = self._when and (" when=%.3f"):format(self._when) or ""
  return ("<Timeout [%s]%s>"):format(self._state, w)
end

-- timeout(delay, fn, ...) -> an awaitable running fn(...) under the
-- deadline; timeout(delay) -> a Timeout for a <close> variable.
function M.timeout(delay, fn, ...)
  if delay ~= nil and type(delay) ~= "number" then
    error(Error("TypeError", "timeout: delay must be a number or nil"), 2)
  end
  if fn == nil and select("#", ...) == 0 then
    return new_timeout(delay and get_running_loop():time() + delay, 2)
  end
  if type(fn) ~= "function" then
    error(Error("TypeError", "timeout(delay, fn, ...) needs a function"), 2)
  end
  return timeout_fn(delay, fn, ...)
end

-- timeout_at(when [, fn, ...]): the same with the deadline in
-- loop:time()'s clock (CPython's asyncio.timeout_at).  when == nil: none.
function M.timeout_at(when, fn, ...)
  if when ~= nil and type(when) ~= "number" then
    error(Error("TypeError", "timeout_at: when must be a number or nil"), 2)
  end
  if fn == nil and select("#", ...) == 0 then return new_timeout(when, 2) end
  if type(fn) ~= "function" then
    error(Error("TypeError", "timeout_at(when, fn, ...) needs a function"), 2)
  end
  return timeout_at_fn(when, fn, ...)
end

-- Cancels fut and waits until it is done (CPython's _cancel_and_wait).
local function cancel_and_wait(fut)
  local waiter = Future()
  local function release() waiter:_wake() end  -- retried if out of memory
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
