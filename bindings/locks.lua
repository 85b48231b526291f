-- locks.lua -- asyncio.Event, Lock, Semaphore, BoundedSemaphore, Condition
-- and Barrier (require "asyncio.locks"), a port of CPython's
-- Lib/asyncio/locks.py (3.13) onto aiolua futures.
-- Every waiter is a future in a FIFO list.  A released lock or semaphore is
-- handed to the first waiter that is not cancelled (no barging: a newcomer
-- queues behind a woken waiter), and a waiter cancelled after its wake-up
-- passes the wake-up on, so cancellation never leaks or duplicates a hold.
-- acquire() resolves to a guard whose __close releases:
--   local g <close> = lock:acquire():await()
local M = {}

local asyncio            -- the asyncio module, bound by bind()
local Future, await      -- asyncio.Future and asyncio.await, bound by bind()

M.BrokenBarrierError = "BrokenBarrierError"   -- error type

local function raise(etype, msg)
  error(asyncio.Error(etype, msg), 2)
end

local bind_methods

local function bind()
  local a = require "asyncio"
  Future, await = a.Future, a.await
  bind_methods(a)
  asyncio = a        -- last: a bind that ran out of memory runs again
end

-- FIFO lists of waiter futures: {first = i, last = j, [i..j] = futures}.
local function dq_new() return { first = 1, last = 0 } end

-- (stores x before counting it: the store may run out of memory)
local function dq_push(d, x)
  local l = d.last + 1
  d[l] = x
  d.last = l
end

-- Removes x (if present) keeping the order.
local function dq_remove(d, x)
  local l = d.last
  for i = d.first, l do
    if d[i] == x then
      for j = i, l - 1 do d[j] = d[j + 1] end
      d[l] = nil
      l = l - 1
      if d.first > l then d.first, l = 1, 0 end
      d.last = l
      return
    end
  end
end

local function dq_len(d) return d.last - d.first + 1 end

-- Parks the current task on a new future appended to `waiters`.  Returns
-- ok, err (as pcall) and the future, which is unlinked from the list.
local function park(waiters)
  local w = Future()
  dq_push(waiters, w)
  local ok, err = pcall(await, w)
  dq_remove(waiters, w)
  return ok, err, w
end

local function waiters_suffix(d, s)
  local n = dq_len(d)
  if n > 0 then return s .. ", waiters:" .. n end
  return s
end

---------------------------------------------------------------------------
-- Guard: what acquire() resolves to.  release() (or leaving the scope of a
-- <close> variable holding it) releases the lock or semaphore once.
---------------------------------------------------------------------------
local Guard = { __name = "Guard" }
Guard.__index = Guard

function Guard:release()
  local lock = self._lock
  if lock then
    self._lock = nil
    lock:release()
  end
end

Guard.__close = Guard.release

function Guard:__tostring()
  return "<Guard " .. (self._lock and "held" or "released") .. ">"
end

local function guard(lock)
  return setmetatable({ _lock = lock }, Guard)
end

---------------------------------------------------------------------------
-- Event
---------------------------------------------------------------------------
local Event = { __name = "Event" }
Event.__index = Event

function M.Event()
  if not asyncio then bind() end
  return setmetatable({ _value = false, _waiters = dq_new() }, Event)
end

function Event:is_set() return self._value end

-- Sets the flag and wakes every waiter.
function Event:set()
  if not self._value then
    self._value = true
    local d = self._waiters
    for i = d.first, d.last do
      local w = d[i]
      if not w:done() then w:set_result(true) end
    end
  end
end

function Event:clear() self._value = false end

-- async wait(): returns true once the flag is set.
local function event_wait(self)
  if self._value then return true end
  local ok, err = park(self._waiters)
  if not ok then error(err, 0) end
  return true
end

function Event:__tostring()
  return "<asyncio.Event [" ..
    waiters_suffix(self._waiters, self._value and "set" or "unset") .. "]>"
end

---------------------------------------------------------------------------
-- Lock
---------------------------------------------------------------------------
local Lock = { __name = "Lock" }
Lock.__index = Lock

function M.Lock()
  if not asyncio then bind() end
  return setmetatable({ _locked = false, _waiters = dq_new() }, Lock)
end

function Lock:locked() return self._locked end

-- Wakes the first waiter unless it is already done (woken or cancelled:
-- a cancelled one wakes the next itself when it runs).
local function lock_wake_up_first(self)
  local d = self._waiters
  local w = d[d.first]
  if w ~= nil and not w:done() then w:set_result(true) end
end

local function all_cancelled(d)
  for i = d.first, d.last do
    if not d[i]:cancelled() then return false end
  end
  return true
end

-- async acquire(): resolves to a Guard once the lock is ours.  The guard
-- is made first: once the lock is taken nothing may fail (out of memory)
-- and leave it held by no one.
local function lock_acquire(self)
  local g = guard(self)
  if not self._locked and all_cancelled(self._waiters) then
    self._locked = true
    return g
  end
  local ok, err = park(self._waiters)
  if not ok then
    -- Woken but cancelled before running, or cancelled while the lock was
    -- free: make sure the next waiter gets its turn.
    if not self._locked then lock_wake_up_first(self) end
    error(err, 0)
  end
  self._locked = true
  return g
end

-- Releases the lock; raises RuntimeError if it is not locked.
function Lock:release()
  if not self._locked then raise("RuntimeError", "Lock is not acquired") end
  self._locked = false
  lock_wake_up_first(self)
end

function Lock:__tostring()
  return "<asyncio.Lock [" ..
    waiters_suffix(self._waiters, self._locked and "locked" or "unlocked") .. "]>"
end

---------------------------------------------------------------------------
-- Semaphore and BoundedSemaphore.  `_value` is the number of free slots not
-- yet promised to a woken waiter: waking one takes its slot.
---------------------------------------------------------------------------
local Semaphore = { __name = "Semaphore" }
Semaphore.__index = Semaphore
local BoundedSemaphore = { __name = "BoundedSemaphore" }
BoundedSemaphore.__index = BoundedSemaphore

local function check_value(value)
  if value == nil then return 1 end
  if math.type(value) ~= "integer" then
    if type(value) == "number" and value == math.floor(value) then
      return math.tointeger(value)
    end
    raise("TypeError", "Semaphore value must be an integer")
  end
  if value < 0 then raise("ValueError", "Semaphore initial value must be >= 0") end
  return value
end

function M.Semaphore(value)
  if not asyncio then bind() end
  value = check_value(value)
  return setmetatable({ _value = value, _waiters = dq_new() }, Semaphore)
end

function M.BoundedSemaphore(value)
  if not asyncio then bind() end
  value = check_value(value)
  return setmetatable({ _value = value, _bound_value = value,
                        _waiters = dq_new() }, BoundedSemaphore)
end

-- True if acquire() would wait.
function Semaphore:locked()
  if self._value == 0 then return true end
  return not all_cancelled(self._waiters)
end

-- Wakes the first waiter that is not done, giving it a slot.
local function sem_wake_up_next(self)
  local d = self._waiters
  for i = d.first, d.last do
    local w = d[i]
    if not w:done() then
      self._value = self._value - 1
      w:set_result(true)
      return true
    end
  end
  return false
end

-- async acquire(): resolves to a Guard once a slot is ours (the guard
-- made first, as the Lock's).
local function sem_acquire(self)
  local g = guard(self)
  if not self:locked() then
    self._value = self._value - 1
    return g
  end
  local ok, err, w = park(self._waiters)
  if not ok and w:done() and not w:cancelled() then
    self._value = self._value + 1         -- woken, but not taking the slot
  end
  -- Newcomers may have queued behind us (FIFO): wake as many as allowed.
  while self._value > 0 do
    if not sem_wake_up_next(self) then break end
  end
  if not ok then error(err, 0) end
  return g
end

function Semaphore:release()
  self._value = self._value + 1
  sem_wake_up_next(self)
end

-- Raises ValueError when it would exceed the initial value.
function BoundedSemaphore:release()
  if self._value >= self._bound_value then
    raise("ValueError", "BoundedSemaphore released too many times")
  end
  Semaphore.release(self)
end

function Semaphore:__tostring()
  local s = self:locked() and "locked" or ("unlocked, value:" .. self._value)
  return "<asyncio." .. getmetatable(self).__name .. " [" ..
    waiters_suffix(self._waiters, s) .. "]>"
end

---------------------------------------------------------------------------
-- Condition
---------------------------------------------------------------------------
local Condition = { __name = "Condition" }
Condition.__index = Condition

function M.Condition(lock)
  if not asyncio then bind() end
  if lock == nil then lock = M.Lock() end
  return setmetatable({ _lock = lock, _waiters = dq_new() }, Condition)
end

function Condition:locked() return self._lock:locked() end
function Condition:acquire() return self._lock:acquire() end
function Condition:release() return self._lock:release() end

-- Wakes up to n waiters that are not done.
local function cond_notify(self, n)
  local d, woken = self._waiters, 0
  for i = d.first, d.last do
    if woken >= n then break end
    local w = d[i]
    if not w:done() then
      woken = woken + 1
      w:set_result(false)
    end
  end
end

-- async wait(): releases the lock, waits for a notify, then re-acquires the
-- lock -- even when cancelled, in which case it re-raises after acquiring.
local function cond_wait(self)
  if not self:locked() then
    raise("RuntimeError", "cannot wait on un-acquired lock")
  end
  self:release()
  local ok, err, w = park(self._waiters)
  local notified = w:done() and not w:cancelled()
  while true do                           -- re-acquire, whatever happens
    local aok, aerr = pcall(await, self._lock:acquire())
    if aok then break end
    if not asyncio.iserror(aerr, "CancelledError") then
      if notified then cond_notify(self, 1) end
      error(aerr, 0)
    end
    ok, err = false, aerr
  end
  if not ok then
    -- A notify that reached us is not used: hand it on.
    if notified then cond_notify(self, 1) end
    error(err, 0)
  end
  return true
end

-- async wait_for(predicate): waits until predicate() is truthy; returns it.
local function cond_wait_for(self, predicate)
  local result = predicate()
  while not result do
    await(self:wait())
    result = predicate()
  end
  return result
end

function Condition:notify(n)
  if not self:locked() then
    raise("RuntimeError", "cannot notify on un-acquired lock")
  end
  cond_notify(self, n or 1)
end

function Condition:notify_all()
  if not self:locked() then
    raise("RuntimeError", "cannot notify on un-acquired lock")
  end
  cond_notify(self, dq_len(self._waiters))
end

function Condition:__tostring()
  return "<asyncio.Condition [" ..
    waiters_suffix(self._waiters, self:locked() and "locked" or "unlocked") .. "]>"
end

---------------------------------------------------------------------------
-- Barrier: states "filling", "draining", "resetting", "broken".  wait()
-- returns the arrival index (0 .. parties-1, as in Python).  Properties:
-- barrier.parties, barrier.n_waiting, barrier.broken.
---------------------------------------------------------------------------
local Barrier = { __name = "Barrier" }
local barrier_methods = {}
local barrier_props = {
  parties = function(self) return self._parties end,
  n_waiting = function(self)
    if self._state == "filling" then return self._count end
    return 0
  end,
  broken = function(self) return self._state == "broken" end,
}

function Barrier.__index(self, k)
  local p = barrier_props[k]
  if p then return p(self) end
  return barrier_methods[k]
end

function M.Barrier(parties)
  if not asyncio then bind() end
  if type(parties) ~= "number" then raise("TypeError", "parties must be a number") end
  if parties < 1 then raise("ValueError", "parties must be > 0") end
  return setmetatable({ _cond = M.Condition(), _parties = parties,
                        _state = "filling", _count = 0 }, Barrier)
end

-- Waits while the barrier drains or resets; raises if it is broken.
local function barrier_block(self)
  await(self._cond:wait_for(function()
    return self._state ~= "draining" and self._state ~= "resetting"
  end))
  if self._state == "broken" then raise(M.BrokenBarrierError, "Barrier aborted") end
end

-- Waits in the barrier until released; raises if reset or broken.
local function barrier_wait_released(self)
  await(self._cond:wait_for(function() return self._state ~= "filling" end))
  if self._state == "broken" or self._state == "resetting" then
    raise(M.BrokenBarrierError, "Abort or reset of barrier")
  end
end

-- The last task to leave a draining or resetting barrier refills it.
local function barrier_exit(self)
  if self._count == 0 then
    if self._state == "resetting" or self._state == "draining" then
      self._state = "filling"
    end
    self._cond:notify_all()
  end
end

-- async wait(): returns this task's arrival index once `parties` tasks wait.
local function barrier_wait(self)
  local g <close> = await(self._cond:acquire())
  barrier_block(self)
  local index = self._count
  self._count = index + 1
  local ok, err = pcall(function()
    if index + 1 == self._parties then
      self._state = "draining"            -- release the waiting tasks
      self._cond:notify_all()
    else
      barrier_wait_released(self)
    end
  end)
  self._count = self._count - 1
  barrier_exit(self)
  if not ok then error(err, 0) end
  return index
end

-- async reset(): back to the empty state; waiting tasks get BrokenBarrierError.
local function barrier_reset(self)
  local g <close> = await(self._cond:acquire())
  if self._count > 0 then
    self._state = "resetting"
  else
    self._state = "filling"
  end
  self._cond:notify_all()
end

-- async abort(): breaks the barrier; every wait() raises BrokenBarrierError.
local function barrier_abort(self)
  local g <close> = await(self._cond:acquire())
  self._state = "broken"
  self._cond:notify_all()
end

function Barrier:__tostring()
  local s = self._state
  if s ~= "broken" then
    s = s .. ", waiters:" .. self.n_waiting .. "/" .. self._parties
  end
  return "<asyncio.Barrier [" .. s .. "]>"
end

---------------------------------------------------------------------------
-- The async methods need asyncio.async, which may still be loading when
-- this module is required: they are made at the first construction.
---------------------------------------------------------------------------
function bind_methods(a)
  local async = a.async
  Event.wait = async(event_wait, "Event.wait")
  Lock.acquire = async(lock_acquire, "Lock.acquire")
  Semaphore.acquire = async(sem_acquire, "Semaphore.acquire")
  Condition.wait = async(cond_wait, "Condition.wait")
  Condition.wait_for = async(cond_wait_for, "Condition.wait_for")
  barrier_methods.wait = async(barrier_wait, "Barrier.wait")
  barrier_methods.reset = async(barrier_reset, "Barrier.reset")
  barrier_methods.abort = async(barrier_abort, "Barrier.abort")
  for k, v in pairs(Semaphore) do
    if BoundedSemaphore[k] == nil then BoundedSemaphore[k] = v end
  end
end

return M
