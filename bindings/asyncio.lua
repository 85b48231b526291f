-- asyncio.lua -- the `asyncio` module: the C core (aiolua.asyncio),
-- ensure_future and gather.  The rest loads on first use (see the end):
-- timeouts.lua (timeout, wait_for), combinators.lua (wait, as_completed,
-- shield), taskgroups.lua (TaskGroup), queues.lua, locks.lua,
-- streams.lua (open_connection, start_server), subprocess.lua and
-- runners.lua (Runner).
local core = require "aiolua.asyncio"
local asyncio = {}
for k, v in pairs(core) do asyncio[k] = v end

local Error, create_task, isfuture = core.Error, core.create_task, core.isfuture
local type = type

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

-- Error types, by name, as Python's classes are (`except
-- asyncio.CancelledError` is `iserror(e, asyncio.CancelledError)`).
asyncio.CancelledError = "CancelledError"
asyncio.TimeoutError = "TimeoutError"
asyncio.InvalidStateError = "InvalidStateError"

-- Modules that load on first use of one of their names, to keep start-up
-- short: every script loads this file, few use each of them.
local lazy = {
  timeout = "asyncio.timeouts", timeout_at = "asyncio.timeouts",
  wait_for = "asyncio.timeouts",
  wait = "asyncio.combinators", as_completed = "asyncio.combinators",
  shield = "asyncio.combinators", FIRST_COMPLETED = "asyncio.combinators",
  FIRST_EXCEPTION = "asyncio.combinators", ALL_COMPLETED = "asyncio.combinators",
  TaskGroup = "asyncio.taskgroups", Runner = "asyncio.runners",
  Queue = "asyncio.queues", LifoQueue = "asyncio.queues",
  PriorityQueue = "asyncio.queues", QueueEmpty = "asyncio.queues",
  QueueFull = "asyncio.queues", QueueShutDown = "asyncio.queues",
  Event = "asyncio.locks", Lock = "asyncio.locks", Semaphore = "asyncio.locks",
  BoundedSemaphore = "asyncio.locks", Condition = "asyncio.locks",
  Barrier = "asyncio.locks", BrokenBarrierError = "asyncio.locks",
  open_connection = "asyncio.streams", start_server = "asyncio.streams",
  open_unix_connection = "asyncio.streams", start_unix_server = "asyncio.streams",
  connect_read_pipe = "asyncio.streams", connect_write_pipe = "asyncio.streams",
  StreamReader = "asyncio.streams", StreamWriter = "asyncio.streams",
  IncompleteReadError = "asyncio.streams", LimitOverrunError = "asyncio.streams",
  Server = "asyncio.streams",
  create_subprocess_exec = "asyncio.subprocess",
  create_subprocess_shell = "asyncio.subprocess", subprocess = "asyncio.subprocess",
  SubprocessProtocol = "asyncio.protocols",
  signal = "aiolua.signals", DatagramProtocol = "asyncio.datagram",
  to_thread = "asyncio.threads", socket = "asyncio.dns",
  Protocol = "asyncio.protocols", BaseProtocol = "asyncio.protocols",
}
-- A module's names in `lazy` join asyncio; its other fields (loop methods,
-- helpers of other modules) do not.
setmetatable(asyncio, { __index = function(t, k)
  local m = lazy[k]
  if not m then return nil end
  for name, v in pairs(require(m)) do
    if lazy[name] == m and rawget(t, name) == nil then rawset(t, name, v) end
  end
  return rawget(t, k)
end })

return asyncio
