-- runners.lua -- asyncio.Runner (loaded on first use, bindings/asyncio.lua),
-- ported from CPython 3.11's asyncio/runners.py: several runs on one
-- loop, whose tasks live on between them, closed once at the end.
--   local runner <close> = asyncio.Runner()
--   runner:run(main)          -- as asyncio.run(main), but the loop stays
--   runner:run(other, args...)
local asyncio = require "asyncio"
local Error = asyncio.Error

local M = {}

local Runner = { __name = "Runner" }
Runner.__index = Runner

-- Runner([{debug = b}]): a runner whose loop is made at its first use.
function M.Runner(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error(Error("TypeError", "Runner() takes an options table, got " .. type(opts)), 2)
  end
  return setmetatable({ _state = "created" }, Runner)
end

local function lazy_init(self, level)
  if self._state == "closed" then
    error(Error("RuntimeError", "Runner is closed"), level + 1)
  end
  if self._state == "created" then
    self._loop = asyncio.new_event_loop()
    self._state = "initialized"
  end
end

-- runner:get_loop() -> its loop (made now if need be).
function Runner:get_loop()
  lazy_init(self, 2)
  return self._loop
end

-- runner:run(main, args...) -> main's results: main (an async function, a
-- function, a coroutine object or a future) runs as the main task on the
-- runner's loop; the other tasks go on at the next run.  Ctrl-C cancels
-- it, as with asyncio.run.
function Runner:run(main, ...)
  if not (type(main) == "function" or asyncio.iscoroutine(main) or
          asyncio.isfuture(main)) then
    error(Error("ValueError", "a coroutine was expected, got " .. tostring(main)), 2)
  end
  if pcall(asyncio.get_running_loop) then
    error(Error("RuntimeError",
                "Runner.run() cannot be called from a running event loop"), 2)
  end
  lazy_init(self, 2)
  return self._loop:run_until_complete(main, ...)
end

-- Cancels the tasks left and waits for them, as asyncio.run does at its
-- end; a failure other than the cancellation goes to the exception
-- handler, as in CPython.
local function cancel_all_tasks(loop)
  loop:run_until_complete(function()
    local me, left = asyncio.current_task(), {}
    for _, t in ipairs(asyncio.all_tasks()) do
      if t ~= me then
        t:cancel()
        left[#left + 1] = t
      end
    end
    if #left == 0 then return end
    left.return_exceptions = true
    asyncio.gather(left):await()
    for _, t in ipairs(left) do
      if not t:cancelled() and t:exception() ~= nil then
        loop:call_exception_handler {
          message = "unhandled exception during Runner.close() shutdown",
          exception = t:exception(), traceback = t:_traceback(), task = t }
      end
    end
  end)
end

-- runner:close(): cancels what is left and closes the loop (idempotent).
function Runner:close()
  if self._state ~= "initialized" then
    self._state = "closed"
    return
  end
  local loop = self._loop
  self._state = "closed"
  local ok, err = pcall(cancel_all_tasks, loop)
  loop:close()
  if not ok then error(err, 0) end
end
Runner.__close = Runner.close

function Runner:__tostring()
  return "<asyncio.Runner " .. self._state .. ">"
end

return M
