-- queues.lua -- asyncio.Queue, LifoQueue and PriorityQueue (require
-- "asyncio.queues"), a port of CPython's Lib/asyncio/queues.py (3.13, with
-- shutdown).  The engine is in C (bindings/queue.c, "aiolua.queue"): each
-- queue is a table whose methods are C closures over its state; this file
-- makes the classes (names, tostring) and checks the arguments.
-- put(x), get() and join() return awaitables that do the work when awaited,
-- inline in the awaiting task, like coroutine objects; a put or get that
-- need not wait allocates nothing.  Waiters are futures in FIFO lists, only
-- woken ("try again"), never handed an item, so a getter cancelled after
-- its wake-up cannot swallow an item and a cancelled putter cannot leave a
-- phantom one: it passes the wake-up on.
local engine = require "aiolua.queue"

local M = {}

local QUEUE_EMPTY, QUEUE_FULL, QUEUE_SHUTDOWN =
  "QueueEmpty", "QueueFull", "QueueShutDown"
M.QueueEmpty = QUEUE_EMPTY          -- error types, for asyncio.iserror(e, T)
M.QueueFull = QUEUE_FULL
M.QueueShutDown = QUEUE_SHUTDOWN

local less = engine.less            -- PriorityQueue's order

local function fmt_item(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function nwaiting(d) return d.last - d.first + 1 end

local function queue_tostring(q)
  local cls = getmetatable(q).__name
  local n, unfinished, shut, items = q:_state()
  local parts = { "maxsize=" .. tostring(q.maxsize) }
  if n > 0 then
    if cls == "PriorityQueue" then table.sort(items, less) end
    for i = 1, n do items[i] = fmt_item(items[i]) end
    parts[#parts + 1] = "_queue=[" .. table.concat(items, ", ") .. "]"
  end
  local ng, np = nwaiting(q._getters), nwaiting(q._putters)
  if ng > 0 then parts[#parts + 1] = "_getters[" .. ng .. "]" end
  if np > 0 then parts[#parts + 1] = "_putters[" .. np .. "]" end
  if unfinished > 0 then parts[#parts + 1] = "tasks=" .. unfinished end
  if shut then parts[#parts + 1] = "shutdown" end
  return "<" .. cls .. " " .. table.concat(parts, " ") .. ">"
end

local classes = {}  -- metatables, by class name

-- Makes a queue of class `name`: a table with field maxsize, the waiter
-- lists _getters, _putters and _joiners, and its methods (see queue.c).
local function new(name, maxsize)
  if maxsize == nil then maxsize = 0 end
  if type(maxsize) ~= "number" then
    local asyncio = require "asyncio"
    error(asyncio.Error("TypeError", "maxsize must be a number, not "
                        .. type(maxsize)), 3)
  end
  return engine.new(setmetatable({}, classes[name]), name, maxsize)
end

for _, name in ipairs { "Queue", "LifoQueue", "PriorityQueue" } do
  classes[name] = { __name = name, __tostring = queue_tostring }
  M[name] = function(maxsize) return new(name, maxsize) end
end

return M
