-- taskgroups.lua -- asyncio.TaskGroup (loaded on first use,
-- bindings/asyncio.lua), ported from CPython's asyncio/taskgroups.py.
local asyncio = require "asyncio"
local async, await, Future, Error = asyncio.async, asyncio.await, asyncio.Future, asyncio.Error
local create_task, current_task, iserror = asyncio.create_task, asyncio.current_task, asyncio.iserror
local pack, unpack = table.pack, table.unpack

local M = {}

-- TaskGroup(fn): calls fn(tg) in the current task; tg:create_task(...)
-- starts tasks; waits for all of them.  The first failure cancels the
-- rest; then an ExceptionGroup listing every failure is raised.
local TaskGroup = {}
TaskGroup.__index = TaskGroup

-- Counts task in the group and watches it (the done callback last: the
-- count is only ever decremented by it).
local function track(self, task)
  self._tasks[task] = true
  task:add_done_callback(self._on_task_done)
  self._ntasks = self._ntasks + 1
end

function TaskGroup:create_task(...)
  if self._exited then
    error(Error("RuntimeError", "TaskGroup has finished"), 2)
  end
  if self._aborting then
    error(Error("RuntimeError", "TaskGroup is shutting down"), 2)
  end
  local task = create_task(...)
  local ok, err = pcall(track, self, task)
  if not ok then                  -- out of memory: the group cannot wait
    task:cancel()                 -- for it, so it must not run unwatched
    self._tasks[task] = nil
    error(err, 0)
  end
  return task
end

local function new_taskgroup()
  local tg = setmetatable({ _tasks = {}, _ntasks = 0, _errors = {},
                            _aborting = false, _parent = current_task() }, TaskGroup)
  function tg._on_task_done(task)
    -- the wake-up first, while nothing has changed (_wake tries again if
    -- it runs out of memory: a lost one left the group waiting)
    if tg._waiter and tg._ntasks == 1 then tg._waiter:_wake(true) end
    tg._tasks[task] = nil
    tg._ntasks = tg._ntasks - 1
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

M.TaskGroup = async(function(fn, ...)
  local tg = new_taskgroup()
  if not tg._parent then error(Error("RuntimeError", "TaskGroup outside a task"), 0) end
  local body = fn
  if asyncio.iscoroutinefunction(fn) then  -- its body runs here too
    body = function(...) return await(fn(...)) end
  end
  local res = pack(pcall(body, tg, ...))
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

return M
