-- queues.lua -- asyncio.Queue, LifoQueue and PriorityQueue (require
-- "asyncio.queues"), a port of CPython's Lib/asyncio/queues.py (3.13, with
-- shutdown) onto aiolua futures.
-- Waiters are futures in FIFO lists; a put or get that need not wait touches
-- no future at all.  A waiter is only woken ("try again"), never handed an
-- item, so a getter cancelled after its wake-up cannot swallow an item and a
-- cancelled putter cannot leave a phantom one: it passes the wake-up on.
-- The hot paths (put, get, task_done) are written for Lua's interpreter:
-- few calls, few table fields, no allocation.
local M = {}

local asyncio            -- the asyncio module, bound by bind()
local Future, await      -- asyncio.Future and asyncio.await, bound by bind()
local bind

local QUEUE_EMPTY, QUEUE_FULL, QUEUE_SHUTDOWN =
  "QueueEmpty", "QueueFull", "QueueShutDown"
M.QueueEmpty = QUEUE_EMPTY          -- error types, for asyncio.iserror(e, T)
M.QueueFull = QUEUE_FULL
M.QueueShutDown = QUEUE_SHUTDOWN

local function raise(etype, msg)
  error(asyncio.Error(etype, msg), 2)
end

---------------------------------------------------------------------------
-- Waiter lists: FIFO deques of futures, {n = count, first = i, last = j,
-- [i..j] = futures}.  `n > 0` is the hot paths' one-field test.
---------------------------------------------------------------------------
local function dq_new() return { n = 0, first = 1, last = 0 } end

local function dq_push(d, x)
  local l = d.last + 1
  d.last, d.n = l, d.n + 1
  d[l] = x
end

-- Removes and returns the first element, or nil.
local function dq_shift(d)
  local f, l = d.first, d.last
  if f > l then return nil end
  local x = d[f]
  d[f] = nil
  if f == l then d.first, d.last = 1, 0 else d.first = f + 1 end
  d.n = d.n - 1
  return x
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
      d.last, d.n = l, d.n - 1
      return
    end
  end
end

-- Wakes the first waiter that is not done (cancelled), if any.
local function wakeup_next(waiters)
  while true do
    local w = dq_shift(waiters)
    if w == nil then return end
    if not w:done() then
      w:set_result()
      return
    end
  end
end

-- Wakes every waiter of the list and empties it.
local function wakeup_all(waiters)
  while true do
    local w = dq_shift(waiters)
    if w == nil then return end
    if not w:done() then w:set_result() end
  end
end

-- Parks the current task on a new future in `waiters` until woken.  On an
-- error (cancellation) it unlinks the future and, if it had been woken and
-- `can_go(q)` says the wake-up is still useful, passes it to the next
-- waiter, then re-raises.
local function park(q, waiters, can_go)
  local w = Future()
  dq_push(waiters, w)
  local ok, err = pcall(await, w)
  if not ok then
    w:cancel()
    dq_remove(waiters, w)
    if can_go(q) and not w:cancelled() then wakeup_next(waiters) end
    error(err, 0)
  end
end

---------------------------------------------------------------------------
-- Fields of a queue: maxsize; _n, the items held; _limit, the count at
-- which put leaves its fast path (maxsize, math.huge when unbounded, -1
-- once shut down); _getters, _putters, _joiners, waiter lists;
-- _unfinished, items put and not yet task_done(); _is_shutdown; and the
-- storage of its class (below), which may hold nil items.
---------------------------------------------------------------------------

local function is_full(q)
  local m = q.maxsize
  return m > 0 and q._n >= m
end
local function has_room(q) return not is_full(q) end
local function has_item(q) return q._n > 0 end

-- The waiting part of put: waits while the queue is full, then puts with
-- put_nowait (which raises if the queue was shut down meanwhile).
local function put_slow(q, item)
  while is_full(q) do
    if q._is_shutdown then raise(QUEUE_SHUTDOWN, "put on a shut-down queue") end
    park(q, q._putters, has_room)
  end
  return q:put_nowait(item)
end

-- The waiting part of get: waits while the queue is empty.
local function get_slow(q)
  repeat
    if q._is_shutdown then raise(QUEUE_SHUTDOWN, "get on a shut-down queue") end
    park(q, q._getters, has_item)
  until q._n > 0
  return q:get_nowait()
end

---------------------------------------------------------------------------
-- Queue (FIFO): a ring buffer, _buf, of _mask + 1 slots (a power of two)
-- holding _n items from slot _head (0-based) on.  Its put and get bodies
-- inline the ring operations: this is the class the hot path is for.
---------------------------------------------------------------------------
local function ring_init(q, maxsize)
  local cap = 16
  while maxsize > 0 and cap < maxsize and cap < 1024 do cap = cap * 2 end
  local buf = {}
  for i = 1, cap do buf[i] = false end   -- size the array part once
  q._buf, q._mask, q._head = buf, cap - 1, 0
end

local function ring_grow(q)
  local old, head, n, cap = q._buf, q._head, q._n, q._mask + 1
  local buf = {}
  for i = 0, n - 1 do buf[i + 1] = old[(head + i) % cap + 1] end
  for i = n + 1, cap * 2 do buf[i] = false end
  q._buf, q._head, q._mask = buf, 0, cap * 2 - 1
end

local function ring_push(q, item)
  local n, mask = q._n, q._mask
  if n > mask then ring_grow(q); mask = q._mask end
  q._buf[((q._head + n) & mask) + 1] = item
  q._n = n + 1
end

local function ring_pop(q)
  local head, buf = q._head, q._buf
  local item = buf[head + 1]
  buf[head + 1] = false
  q._head = (head + 1) & q._mask
  q._n = q._n - 1
  return item
end

local function ring_items(q)
  local t, buf, head, mask = {}, q._buf, q._head, q._mask
  for i = 0, q._n - 1 do t[i + 1] = buf[((head + i) & mask) + 1] end
  return t
end

-- async Queue:put(item)
local function ring_put(q, item)
  local n = q._n
  if n >= q._limit then return put_slow(q, item) end
  local mask = q._mask
  if n > mask then ring_grow(q); mask = q._mask end
  q._buf[((q._head + n) & mask) + 1] = item
  q._n = n + 1
  q._unfinished = q._unfinished + 1
  local g = q._getters
  if g.n > 0 then wakeup_next(g) end
end

-- async Queue:get()
local function ring_get(q)
  local n = q._n
  if n == 0 then return get_slow(q) end
  local head, buf = q._head, q._buf
  local item = buf[head + 1]
  buf[head + 1] = false
  q._head = (head + 1) & q._mask
  q._n = n - 1
  local p = q._putters
  if p.n > 0 then wakeup_next(p) end
  return item
end

---------------------------------------------------------------------------
-- LifoQueue: a stack.
---------------------------------------------------------------------------
local function stack_init(q) q._stack = {} end

local function stack_push(q, item)
  local n = q._n + 1
  q._stack[n] = item
  q._n = n
end

local function stack_pop(q)
  local n, t = q._n, q._stack
  local item = t[n]
  t[n] = nil
  q._n = n - 1
  return item
end

local function stack_items(q)
  local t, s, n = {}, q._stack, q._n
  for i = 1, n do t[i] = s[n + 1 - i] end
  return t
end

---------------------------------------------------------------------------
-- PriorityQueue: a binary min-heap ordered by `<`.  Plain tables without
-- an __lt metamethod compare like Python tuples, element by element, so
-- `pq:put({priority, data})` ports `pq.put((priority, data))`.
---------------------------------------------------------------------------
local function less(a, b)
  if type(a) == "table" and type(b) == "table" then
    local ma, mb = getmetatable(a), getmetatable(b)
    if not (ma and ma.__lt) and not (mb and mb.__lt) then
      for i = 1, math.max(#a, #b) do
        local x, y = a[i], b[i]
        if x == nil then return y ~= nil end   -- the shorter tuple first
        if y == nil then return false end
        if x ~= y then return less(x, y) end
      end
      return false
    end
  end
  return a < b
end

local function heap_init(q) q._heap = {} end

local function heap_push(q, item)
  local h = q._heap
  local i = q._n + 1
  q._n = i
  while i > 1 do                          -- sift up
    local p = i // 2
    local up = h[p]
    if not less(item, up) then break end
    h[i] = up
    i = p
  end
  h[i] = item
end

local function heap_pop(q)
  local h, n = q._heap, q._n
  local top, last = h[1], h[n]
  h[n] = nil
  n = n - 1
  q._n = n
  if n > 0 then                           -- sift `last` down from the root
    local i = 1
    while true do
      local c = 2 * i
      if c > n then break end
      if c < n and less(h[c + 1], h[c]) then c = c + 1 end
      if not less(h[c], last) then break end
      h[i] = h[c]
      i = c
    end
    h[i] = last
  end
  return top
end

local function heap_items(q)
  local t = table.move(q._heap, 1, q._n, 1, {})
  table.sort(t, less)
  return t
end

---------------------------------------------------------------------------
-- The classes.  define() builds one from its storage functions (init, push,
-- pop, items) and, optionally, specialised put and get bodies.
---------------------------------------------------------------------------

local function fmt_item(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function queue_tostring(q)
  local parts = { "maxsize=" .. tostring(q.maxsize) }
  if q._n > 0 then
    local items, list = {}, q._items(q)
    for i = 1, q._n do items[i] = fmt_item(list[i]) end
    parts[#parts + 1] = "_queue=[" .. table.concat(items, ", ") .. "]"
  end
  local ng, np = q._getters.n, q._putters.n
  if ng > 0 then parts[#parts + 1] = "_getters[" .. ng .. "]" end
  if np > 0 then parts[#parts + 1] = "_putters[" .. np .. "]" end
  if q._unfinished > 0 then parts[#parts + 1] = "tasks=" .. q._unfinished end
  if q._is_shutdown then parts[#parts + 1] = "shutdown" end
  return "<" .. getmetatable(q).__name .. " " .. table.concat(parts, " ") .. ">"
end

local function define(name, init, push, pop, items, put, get)
  local cls = { __name = name, _init = init, _items = items,
                __tostring = queue_tostring }
  cls.__index = cls

  function cls:qsize() return self._n end
  function cls:empty() return self._n == 0 end
  cls.full = is_full

  -- Puts an item without waiting; raises QueueFull or QueueShutDown.
  function cls:put_nowait(item)
    if self._is_shutdown then raise(QUEUE_SHUTDOWN, "put on a shut-down queue") end
    if is_full(self) then raise(QUEUE_FULL, "queue is full") end
    push(self, item)
    self._unfinished = self._unfinished + 1
    local g = self._getters
    if g.n > 0 then wakeup_next(g) end
  end

  -- Removes and returns an item without waiting; raises QueueEmpty or,
  -- once shut down and drained, QueueShutDown.
  function cls:get_nowait()
    if self._n == 0 then
      if self._is_shutdown then raise(QUEUE_SHUTDOWN, "get on a shut-down queue") end
      raise(QUEUE_EMPTY, "queue is empty")
    end
    local item = pop(self)
    local p = self._putters
    if p.n > 0 then wakeup_next(p) end
    return item
  end

  -- The bodies of the async put(item) and get(): put_nowait and get_nowait
  -- when they need not wait.
  local put_nowait, get_nowait = cls.put_nowait, cls.get_nowait
  cls._put = put or function(q, item)
    if q._n >= q._limit then return put_slow(q, item) end
    return put_nowait(q, item)
  end
  cls._get = get or function(q)
    if q._n == 0 then return get_slow(q) end
    return get_nowait(q)
  end

  -- Shuts the queue down: put raises QueueShutDown from now on, get does
  -- once the queue is empty; waiting putters and getters wake to find out.
  -- With `immediate` the items left are dropped (and count as done).
  function cls:shutdown(immediate)
    self._is_shutdown = true
    self._limit = -1                      -- every put takes the slow path
    if immediate then
      while self._n > 0 do
        pop(self)
        if self._unfinished > 0 then self._unfinished = self._unfinished - 1 end
      end
      if self._unfinished == 0 then wakeup_all(self._joiners) end
    end
    wakeup_all(self._getters)
    wakeup_all(self._putters)
  end

  return cls
end

local classes = {
  define("Queue", ring_init, ring_push, ring_pop, ring_items, ring_put, ring_get),
  define("LifoQueue", stack_init, stack_push, stack_pop, stack_items),
  define("PriorityQueue", heap_init, heap_push, heap_pop, heap_items),
}

-- Marks one item taken by get() as processed; join() returns when every
-- item put has been marked.  Raises ValueError when called too often.
local function task_done(q)
  local n = q._unfinished - 1
  if n < 0 then raise("ValueError", "task_done() called too many times") end
  q._unfinished = n
  if n == 0 then wakeup_all(q._joiners) end
end

-- async join(): waits until every item put has been marked task_done().
local function join(q)
  if q._unfinished > 0 then
    local w = Future()
    local joiners = q._joiners
    dq_push(joiners, w)
    local ok, err = pcall(await, w)
    if not ok then
      dq_remove(joiners, w)
      error(err, 0)
    end
  end
end

local function new(cls, maxsize)
  if not asyncio then bind() end
  if maxsize == nil then maxsize = 0 end
  if type(maxsize) ~= "number" then
    raise("TypeError", "maxsize must be a number, not " .. type(maxsize))
  end
  local q = setmetatable({
    maxsize = maxsize,
    _n = 0,
    _limit = maxsize > 0 and maxsize or math.huge,
    _getters = dq_new(),      -- futures of get() calls waiting for an item
    _putters = dq_new(),      -- futures of put() calls waiting for room
    _joiners = dq_new(),      -- futures of join() calls
    _unfinished = 0,
    _is_shutdown = false,
  }, cls)
  cls._init(q, maxsize)
  return q
end

---------------------------------------------------------------------------
-- Binding: the async methods need asyncio.async, which may still be loading
-- when this module is required, so they are made at the first construction.
---------------------------------------------------------------------------
function bind()
  asyncio = require "asyncio"
  Future, await = asyncio.Future, asyncio.await
  local join_async = asyncio.async(join, "Queue.join")
  for _, cls in ipairs(classes) do
    cls.put = asyncio.async(cls._put, cls.__name .. ".put")
    cls.get = asyncio.async(cls._get, cls.__name .. ".get")
    cls.join = join_async
    cls.task_done = task_done
  end
end

function M.Queue(maxsize) return new(classes[1], maxsize) end
function M.LifoQueue(maxsize) return new(classes[2], maxsize) end
function M.PriorityQueue(maxsize) return new(classes[3], maxsize) end

return M
