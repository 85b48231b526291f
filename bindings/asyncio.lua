-- asyncio.lua -- the `asyncio` module: the C core (aiolua.asyncio) plus the
-- combinators built on futures, ported from CPython's asyncio/tasks.py,
-- timeouts.py and taskgroups.py: gather, wait_for, wait, as_completed,
-- shield, timeout, TaskGroup.  Queues and locks load on first use.
local core = require "aiolua.asyncio"
local asyncio = {}
for k, v in pairs(core) do asyncio[k] = v end

local async, await, Future, Error = core.async, core.await, core.Future, core.Error
local create_task, current_task = core.create_task, core.current_task
local isfuture, iscoroutine, iserror = core.isfuture, core.iscoroutine, core.iserror
local pack, unpack, select, type = table.pack, table.unpack, select, type

local function cancelled_error(msg)
  return Error("CancelledError", msg or "")
end

-- A future for any awaitable: futures and tasks as they are, coroutine
-- objects wrapped in tasks (CPython's ensure_future).
local isawaitable = core.isawaitable
local function ensure_future(aw)
  if isfuture(aw) then return aw end
  if isawaitable(aw) then return create_task(aw) end
  error(Error("TypeError", "an asyncio.Future, a coroutine or an awaitable " ..
              "is required, got " .. type(aw)), 3)
end
asyncio.ensure_future = ensure_future

-- gather(aw1, aw2, ...) or gather{aw1, aw2, ..., return_exceptions = b}:
-- in C (bindings/gather.c), being on the hot path of every fan-out.
asyncio.gather = require "aiolua.gather"

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
  local loop = core.get_running_loop()
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

asyncio.timeout = async(function(delay, fn, ...)
  if type(fn) ~= "function" then
    error(Error("TypeError", "timeout(delay, fn, ...) needs a function"), 2)
  end
  return run_with_timeout(delay, fn, ...)
end, "timeout")

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

asyncio.wait_for = async(function(aw, timeout)
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

asyncio.FIRST_COMPLETED = "FIRST_COMPLETED"
asyncio.FIRST_EXCEPTION = "FIRST_EXCEPTION"
asyncio.ALL_COMPLETED = "ALL_COMPLETED"

-- wait(aws [, {timeout=, return_when=}]) -> done, pending
asyncio.wait = async(function(aws, opts)
  opts = opts or {}
  local return_when = opts.return_when or "ALL_COMPLETED"
  if return_when ~= "FIRST_COMPLETED" and return_when ~= "FIRST_EXCEPTION"
     and return_when ~= "ALL_COMPLETED" then
    error(Error("ValueError", "Invalid return_when value: " .. tostring(return_when)), 0)
  end
  local futs, seen = {}, {}
  for i = 1, (aws.n or #aws) do
    local f = ensure_future(aws[i])
    if not seen[f] then seen[f] = true; futs[#futs + 1] = f end
  end
  if #futs == 0 then error(Error("ValueError", "Set of Tasks/Futures is empty."), 0) end
  local waiter = Future()
  local handle
  if opts.timeout then
    handle = core.get_running_loop():call_later(opts.timeout, function()
      if not waiter:done() then waiter:set_result() end
    end)
  end
  local counter = #futs
  local function on_completion(f)
    counter = counter - 1
    if counter <= 0 or return_when == "FIRST_COMPLETED" or
       (return_when == "FIRST_EXCEPTION" and not f:cancelled() and f:exception() ~= nil) then
      if handle then handle:cancel() end
      if not waiter:done() then waiter:set_result() end
    end
  end
  for _, f in ipairs(futs) do f:add_done_callback(on_completion) end
  local ok, err = pcall(await, waiter)
  if handle then handle:cancel() end
  for _, f in ipairs(futs) do f:remove_done_callback(on_completion) end
  if not ok then error(err, 0) end
  local done, pending = {}, {}
  for _, f in ipairs(futs) do
    if f:done() then done[#done + 1] = f else pending[#pending + 1] = f end
  end
  return done, pending
end, "wait")

-- as_completed(aws [, {timeout=}]): for aw in as_completed(aws) do
-- local r = aw:await() end, in completion order.
function asyncio.as_completed(aws, opts)
  local timeout = opts and opts.timeout
  local todo, ntodo = {}, 0
  local done, head, tail = {}, 1, 0   -- completed futures (false: timed out)
  local waiter
  local function push(v)
    tail = tail + 1
    done[tail] = v
    if waiter and not waiter:done() then waiter:set_result() end
  end
  local handle
  local function on_completion(f)
    if not todo[f] then return end
    todo[f] = nil
    ntodo = ntodo - 1
    push(f)
    if ntodo == 0 and handle then handle:cancel() end
  end
  local total = 0
  for i = 1, (aws.n or #aws) do
    local f = ensure_future(aws[i])
    if not todo[f] then todo[f] = true; ntodo = ntodo + 1; total = total + 1 end
  end
  for f in pairs(todo) do f:add_done_callback(on_completion) end
  if ntodo > 0 and timeout then
    handle = core.get_running_loop():call_later(timeout, function()
      for f in pairs(todo) do
        f:remove_done_callback(on_completion)
        push(false)
      end
      todo, ntodo = {}, 0
    end)
  end
  local wait_for_one = async(function()
    while head > tail do
      waiter = Future()
      await(waiter)
    end
    local f = done[head]
    done[head] = nil
    head = head + 1
    if f == false then error(Error("TimeoutError", ""), 0) end
    return f:result()
  end, "as_completed")
  local yielded = 0
  return function()
    if yielded >= total then return nil end
    yielded = yielded + 1
    return wait_for_one()
  end
end

-- shield(aw): an awaitable that cancelling does not pass on to aw.
function asyncio.shield(aw)
  local inner = ensure_future(aw)
  if inner:done() then return inner end
  local outer = Future()
  local function inner_done(f)
    if outer:cancelled() then
      if not f:cancelled() then f:exception() end
      return
    end
    if f:cancelled() then
      outer:cancel()
    elseif f:exception() ~= nil then
      outer:_set_exception_from(f)
    else
      outer:set_result(f:result())
    end
  end
  inner:add_done_callback(inner_done)
  outer:add_done_callback(function()
    if not inner:done() then inner:remove_done_callback(inner_done) end
  end)
  return outer
end

-- TaskGroup(fn): calls fn(tg) in the current task; tg:create_task(...)
-- starts tasks; waits for all of them.  The first failure cancels the
-- rest; then an ExceptionGroup listing every failure is raised.
local TaskGroup = {}
TaskGroup.__index = TaskGroup

function TaskGroup:create_task(...)
  if self._exited then
    error(Error("RuntimeError", "TaskGroup has finished"), 2)
  end
  if self._aborting then
    error(Error("RuntimeError", "TaskGroup is shutting down"), 2)
  end
  local task = create_task(...)
  self._tasks[task] = true
  self._ntasks = self._ntasks + 1
  task:add_done_callback(self._on_task_done)
  return task
end

local function new_taskgroup()
  local tg = setmetatable({ _tasks = {}, _ntasks = 0, _errors = {},
                            _aborting = false, _parent = current_task() }, TaskGroup)
  function tg._on_task_done(task)
    tg._tasks[task] = nil
    tg._ntasks = tg._ntasks - 1
    if tg._waiter and tg._ntasks == 0 and not tg._waiter:done() then
      tg._waiter:set_result(true)
    end
    if task:cancelled() then return end
    local err = task:exception()
    if err == nil then return end
    tg._errors[#tg._errors + 1] = err
    if not tg._aborting then
      tg:_abort()
      if tg._parent:cancelling() == 0 then  -- stop the body's awaits too
        tg._parent_cancel_requested = true
        tg._parent:cancel()
      end
    end
  end
  return tg
end

function TaskGroup:_abort()
  self._aborting = true
  for t in pairs(self._tasks) do
    if not t:done() then t:cancel() end
  end
end

local function exception_group(errors)
  local lines = {}
  for i, e in ipairs(errors) do lines[i] = "  " .. i .. ". " .. tostring(e) end
  return Error("ExceptionGroup", string.format(
    "unhandled errors in a TaskGroup (%d sub-exception%s)\n%s", #errors,
    #errors == 1 and "" or "s", table.concat(lines, "\n")), { exceptions = errors })
end

asyncio.TaskGroup = async(function(fn, ...)
  local tg = new_taskgroup()
  if not tg._parent then error(Error("RuntimeError", "TaskGroup outside a task"), 0) end
  local res = pack(pcall(fn, tg, ...))
  local propagate_cancel
  local err = not res[1] and res[2] or nil
  if not res[1] then
    if iserror(err, "CancelledError") then
      if not (tg._parent_cancel_requested and tg._parent:uncancel() == 0) then
        propagate_cancel = err
      end
    end
    if not tg._aborting then tg:_abort() end
  end
  while tg._ntasks > 0 do
    tg._waiter = Future()
    local ok, e = pcall(await, tg._waiter)
    if not ok and iserror(e, "CancelledError") and not tg._aborting then
      propagate_cancel = e
      tg:_abort()
    end
    tg._waiter = nil
  end
  tg._exited = true
  if propagate_cancel and #tg._errors == 0 then error(propagate_cancel, 0) end
  if err ~= nil and not iserror(err, "CancelledError") then
    tg._errors[#tg._errors + 1] = err
  end
  if #tg._errors > 0 then error(exception_group(tg._errors), 0) end
  return unpack(res, 2, res.n)
end, "TaskGroup")

-- Queues and locks load on first use, to keep start-up short.
local lazy = {
  Queue = "asyncio.queues", LifoQueue = "asyncio.queues",
  PriorityQueue = "asyncio.queues", QueueEmpty = "asyncio.queues",
  QueueFull = "asyncio.queues", QueueShutDown = "asyncio.queues",
  Event = "asyncio.locks", Lock = "asyncio.locks", Semaphore = "asyncio.locks",
  BoundedSemaphore = "asyncio.locks", Condition = "asyncio.locks",
  Barrier = "asyncio.locks", BrokenBarrierError = "asyncio.locks",
}
setmetatable(asyncio, { __index = function(t, k)
  local m = lazy[k]
  if not m then return nil end
  for name, v in pairs(require(m)) do
    if rawget(t, name) == nil then rawset(t, name, v) end
  end
  return rawget(t, k)
end })

return asyncio
