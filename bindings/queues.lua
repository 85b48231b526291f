-- queues.lua -- asyncio.Queue, LifoQueue and PriorityQueue (require
-- "asyncio.queues"), a port of CPython's Lib/asyncio/queues.py (3.13, with
-- shutdown) onto aiolua futures.
-- Waiters are futures in FIFO lists; a put or get that need not wait touches
-- no future at all.  A waiter is only woken ("try again"), never handed an
-- item, so a getter cancelled after its wake-up cannot swallow an item and a
-- cancelled putter cannot leave a phantom one: it passes the wake-up on.
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

-- FIFO lists of waiter futures: {first = i, last = j, [i..j] = futures}.
local function dq_new() return { first = 1, last = 0 } end

local function dq_push(d, x)
  local l = d.last + 1
  d.last = l
  d[l] = x
end

-- Removes and returns the first element, or nil.
local function dq_shift(d)
  local f, l = d.first, d.last
  if f > l then return nil end
  local x = d[f]
  d[f] = nil
  if f == l then d.first, d.last = 1, 0 else d.first = f + 1 end
  return x
end

-- Removes x (if present) keeping the order; returns whether it was there.
local function dq_remove(d, x)
  local l = d.last
  for i = d.first, l do
    if d[i] == x then
      for j = i, l - 1 do d[j] = d[j + 1] end
      d[l] = nil
      l = l - 1
      if d.first > l then d.first, l = 1, 0 end
      d.last = l
      return true
    end
  end
  return false
end

local function dq_len(d) return d.last - d.first + 1 end

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

---------------------------------------------------------------------------
-- Storage.  Each class supplies init(self, maxsize), push(self, item),
-- pop(self) -> item and items(self) -> list (in the order they come out);
-- every class keeps its item count in self._n (nil items are allowed).
---------------------------------------------------------------------------

-- FIFO: a ring buffer of capacity _cap (a power of two) holding _n items
-- from slot _head (0-based) on.
local function ring_init(self, maxsize)
  local cap = 16
  while maxsize > 0 and cap < maxsize and cap < 1024 do cap = cap * 2 end
  local buf = {}
  for i = 1, cap do buf[i] = false end   -- size the array part once
  self._buf, self._cap, self._head = buf, cap, 0
end

local function ring_grow(self)
  local old, head, n, cap = self._buf, self._head, self._n, self._cap
  local buf = {}
  for i = 0, n - 1 do buf[i + 1] = old[(head + i) % cap + 1] end
  for i = n + 1, cap * 2 do buf[i] = false end
  self._buf, self._head, self._cap = buf, 0, cap * 2
end

local function ring_push(self, item)
  local n, cap = self._n, self._cap
  if n == cap then ring_grow(self); cap = self._cap end
  self._buf[(self._head + n) % cap + 1] = item
  self._n = n + 1
end

local function ring_pop(self)
  local head, buf = self._head, self._buf
  local item = buf[head + 1]
  buf[head + 1] = false
  self._head = (head + 1) % self._cap
  self._n = self._n - 1
  return item
end

local function ring_items(self)
  local t, buf, head, cap = {}, self._buf, self._head, self._cap
  for i = 0, self._n - 1 do t[i + 1] = buf[(head + i) % cap + 1] end
  return t
end

-- LIFO: a stack.
local function stack_init(self) self._stack = {} end

local function stack_push(self, item)
  local n = self._n + 1
  self._stack[n] = item
  self._n = n
end

local function stack_pop(self)
  local n, t = self._n, self._stack
  local item = t[n]
  t[n] = nil
  self._n = n - 1
  return item
end

local function stack_items(self)
  local t, s, n = {}, self._stack, self._n
  for i = 1, n do t[i] = s[n + 1 - i] end
  return t
end

-- Priority: a binary min-heap ordered by `<`.  Plain tables without an
-- __lt metamethod compare like Python tuples, element by element, so
-- `pq:put({priority, data})` ports `pq.put((priority, data))`.
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

local function heap_init(self) self._heap = {} end

local function heap_push(self, item)
  local h = self._heap
  local i = self._n + 1
  self._n = i
  while i > 1 do                          -- sift up
    local p = i // 2
    local up = h[p]
    if not less(item, up) then break end
    h[i] = up
    i = p
  end
  h[i] = item
end

local function heap_pop(self)
  local h, n = self._heap, self._n
  local top, last = h[1], h[n]
  h[n] = nil
  n = n - 1
  self._n = n
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

local function heap_items(self)
  local t = table.move(self._heap, 1, self._n, 1, {})
  table.sort(t, less)
  return t
end

---------------------------------------------------------------------------
-- The queue classes: one factory, so that each class's hot paths call its
-- storage functions as upvalues (no method lookups).
---------------------------------------------------------------------------

-- Parks the current task on a new future in `waiters` until woken.  On an
-- error (cancellation) it unlinks the future and, if it had been woken and
-- `can_go(self)` says the wake-up is still useful, passes it to the next
-- waiter, then re-raises.
local function park(self, waiters, can_go)
  local w = Future()
  dq_push(waiters, w)
  local ok, err = pcall(await, w)
  if not ok then
    w:cancel()
    dq_remove(waiters, w)
    if can_go(self) and not w:cancelled() then wakeup_next(waiters) end
    error(err, 0)
  end
end

local function is_full(self)
  local m = self.maxsize
  return m > 0 and self._n >= m
end
local function has_room(self) return not is_full(self) end
local function has_item(self) return self._n > 0 end

local function define(name, init, push, pop, items)
  local cls = { __name = name, _init = init, _items = items }
  cls.__index = cls

  function cls:qsize() return self._n end
  function cls:empty() return self._n == 0 end
  cls.full = is_full

  -- Puts an item without waiting; raises QueueFull or QueueShutDown.
  function cls:put_nowait(item)
    if self._is_shutdown then raise(QUEUE_SHUTDOWN, "put on a shut-down queue") end
    local m = self.maxsize
    if m > 0 and self._n >= m then raise(QUEUE_FULL, "queue is full") end
    push(self, item)
    self._unfinished = self._unfinished + 1
    local g = self._getters
    if g.first <= g.last then wakeup_next(g) end
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
    if p.first <= p.last then wakeup_next(p) end
    return item
  end

  local put_nowait, get_nowait = cls.put_nowait, cls.get_nowait

  -- async put(item): waits while the queue is full.  The fast path is
  -- put_nowait inlined.
  function cls._put_body(self, item)
    local m = self.maxsize
    if m > 0 and self._n >= m or self._is_shutdown then
      while is_full(self) do
        if self._is_shutdown then raise(QUEUE_SHUTDOWN, "put on a shut-down queue") end
        park(self, self._putters, has_room)
      end
      return put_nowait(self, item)
    end
    push(self, item)
    self._unfinished = self._unfinished + 1
    local g = self._getters
    if g.first <= g.last then wakeup_next(g) end
  end

  -- async get(): waits while the queue is empty.  The fast path is
  -- get_nowait inlined.
  function cls._get_body(self)
    if self._n == 0 then
      repeat
        if self._is_shutdown then raise(QUEUE_SHUTDOWN, "get on a shut-down queue") end
        park(self, self._getters, has_item)
      until self._n > 0
      return get_nowait(self)
    end
    local item = pop(self)
    local p = self._putters
    if p.first <= p.last then wakeup_next(p) end
    return item
  end

  -- Shuts the queue down: put raises QueueShutDown from now on, get does
  -- once the queue is empty; waiting putters and getters wake to find out.
  -- With `immediate` the items left are dropped (and count as done).
  function cls:shutdown(immediate)
    self._is_shutdown = true
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

local Queue = define("Queue", ring_init, ring_push, ring_pop, ring_items)
local LifoQueue = define("LifoQueue", stack_init, stack_push, stack_pop, stack_items)
local PriorityQueue = define("PriorityQueue", heap_init, heap_push, heap_pop, heap_items)
local classes = { Queue, LifoQueue, PriorityQueue }

local function new(cls, maxsize)
  if not asyncio then bind() end
  if maxsize == nil then maxsize = 0 end
  if type(maxsize) ~= "number" then
    raise("TypeError", "maxsize must be a number, not " .. type(maxsize))
  end
  local self = setmetatable({
    maxsize = maxsize,        -- <= 0: unbounded
    _n = 0,                   -- items held
    _getters = dq_new(),      -- futures of get() calls waiting for an item
    _putters = dq_new(),      -- futures of put() calls waiting for room
    _unfinished = 0,          -- items put and not yet task_done()
    _joiners = dq_new(),      -- futures of join() calls
    _is_shutdown = false,
  }, cls)
  cls._init(self, maxsize)
  return self
end

-- Marks one item taken by get() as processed; join() returns when every
-- item put has been marked.  Raises ValueError when called too often.
local function task_done(self)
  local n = self._unfinished
  if n <= 0 then raise("ValueError", "task_done() called too many times") end
  n = n - 1
  self._unfinished = n
  if n == 0 then wakeup_all(self._joiners) end
end

-- async join(): waits until every item put has been marked task_done().
local function join(self)
  if self._unfinished > 0 then
    local w = Future()
    dq_push(self._joiners, w)
    local ok, err = pcall(await, w)
    if not ok then
      dq_remove(self._joiners, w)
      error(err, 0)
    end
  end
end

local function fmt_item(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function queue_tostring(self)
  local parts = { "maxsize=" .. tostring(self.maxsize) }
  if self._n > 0 then
    local items, list = {}, self:_items()
    for i = 1, self._n do items[i] = fmt_item(list[i]) end
    parts[#parts + 1] = "_queue=[" .. table.concat(items, ", ") .. "]"
  end
  local ng, np = dq_len(self._getters), dq_len(self._putters)
  if ng > 0 then parts[#parts + 1] = "_getters[" .. ng .. "]" end
  if np > 0 then parts[#parts + 1] = "_putters[" .. np .. "]" end
  if self._unfinished > 0 then parts[#parts + 1] = "tasks=" .. self._unfinished end
  if self._is_shutdown then parts[#parts + 1] = "shutdown" end
  return "<" .. getmetatable(self).__name .. " " .. table.concat(parts, " ") .. ">"
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
    cls.put = asyncio.async(cls._put_body, cls.__name .. ".put")
    cls.get = asyncio.async(cls._get_body, cls.__name .. ".get")
    cls.join = join_async
    cls.task_done = task_done
    cls.__tostring = queue_tostring
  end
end

function M.Queue(maxsize) return new(Queue, maxsize) end
function M.LifoQueue(maxsize) return new(LifoQueue, maxsize) end
function M.PriorityQueue(maxsize) return new(PriorityQueue, maxsize) end

return M
