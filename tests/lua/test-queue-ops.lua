-- test-queue-ops.lua -- the awaitables that Queue:put/get/join return
-- (bindings/queue.c): they act when awaited, once; a queue hands them out
-- again without allocating; one never awaited does not stick to its queue.
-- Plus the engine's storage edge cases: the ring growing while wrapped, a
-- PriorityQueue comparison that fails or nests too deep, and waiter lists
-- that Lua code wrote to.
local asyncio = require "asyncio"
local t = require "t"

local create_task = asyncio.create_task

local function yield() asyncio.sleep(0):await() end
local function nwaiting(d) return d.last - d.first + 1 end

t.test("put and get act when awaited, not when called", function()
  local q = asyncio.Queue()
  local op = q:put(1)
  t.eq(q:qsize(), 0)
  t.ok(asyncio.isawaitable(op))
  t.eq(tostring(op), "<coroutine Queue.put created>")
  op:await()
  t.eq(tostring(op), "<coroutine Queue.put done>")
  t.eq(q:qsize(), 1)
  local get = q:get()
  t.eq(q:qsize(), 1)
  t.eq(asyncio.await(get), 1)
  t.eq(q:qsize(), 0)
end)

t.test("awaiting an operation twice, or after close(), raises", function()
  local q = asyncio.Queue()
  local op = q:put(1)
  op:await()
  t.raises("cannot reuse", op.await, op)
  local get = q:get()
  get:close()
  t.raises("cannot reuse", get.await, get)
  t.eq(q:get_nowait(), 1)
end)

t.test("operations made before any is awaited stay distinct", function()
  local q = asyncio.Queue()
  local a, b, c = q:put("a"), q:put("b"), q:put("c")
  t.ok(a ~= b and b ~= c and a ~= c)
  c:await(); a:await(); b:await()
  local g1, g2 = q:get(), q:get()
  t.eq(g2:await(), "c")
  t.eq(g1:await(), "a")
  t.eq(q:get():await(), "b")
end)

t.test("gather and create_task take operations", function()
  local q = asyncio.Queue()
  local getter = create_task(q:get())
  local res = asyncio.gather(q:get(), q:put(1), q:put(2)):await()
  t.eq(getter:await(), 1)       -- the first getter is woken first
  t.eq(res[1], 2)
end)

t.test("a put or get that need not wait allocates nothing", function()
  local q = asyncio.Queue(4)
  local aw = asyncio.await
  for i = 1, 10 do q:put(i):await(); q:get():await(); q:task_done() end
  collectgarbage()
  collectgarbage("stop")
  local before = collectgarbage("count")
  for i = 1, 20000 do
    q:put(i):await()
    aw(q:put(i))
    q:get():await()
    aw(q:get())
    q:task_done(); q:task_done()
  end
  local grown = collectgarbage("count") - before
  collectgarbage("restart")
  t.ok(grown < 1, ("grew by %.1f KB"):format(grown))
end)

t.test("an operation never awaited does not stick to its queue", function()
  local q = asyncio.Queue()
  local weak = setmetatable({}, { __mode = "k" })
  local op = q:get()
  weak[op] = true
  local task = create_task(op)
  task:cancel()                 -- before it ran: op is never awaited
  t.raises("CancelledError", task.await, task)
  op, task = nil, nil
  q:put_nowait(1)
  t.eq(q:get():await(), 1)      -- a new operation takes the old one's place
  t.eq(q:get():close(), nil)    -- and is handed out again
  collectgarbage(); collectgarbage()
  t.eq(next(weak), nil, "the abandoned operation was collected")
end)

t.test("operations run in the awaiting task only", function()
  local q = asyncio.Queue()
  local op = q:put(1)
  local co = coroutine.wrap(function() return op:await() end)
  t.raises("not the task's own", co)
  op:await()                    -- still pending after the failed await
  t.eq(q:get_nowait(), 1)
end)

t.test("methods check self", function()
  local q = asyncio.Queue()
  t.raises("use ':'", q.put_nowait, 1)
  t.raises("use ':'", q.get)
  t.raises("use ':'", q.qsize, asyncio.Queue())
  t.raises("queue operation", q:get().await, {})
end)

t.test("the ring grows while wrapped, keeping the order", function()
  for _, maxsize in ipairs { 0, 20 } do
    local q = asyncio.Queue(maxsize)
    local put, want = 0, 0
    for _ = 1, 10 do put = put + 1; q:put(put):await() end
    for _ = 1, 7 do want = want + 1; t.eq(q:get():await(), want) end
    for _ = 1, (maxsize > 0 and 17 or 100) do
      put = put + 1
      q:put(put):await()
    end
    while not q:empty() do want = want + 1; t.eq(q:get():await(), want) end
    t.eq(want, put)
  end
end)

t.test("a failing PriorityQueue comparison leaves the heap intact", function()
  local q = asyncio.PriorityQueue()
  for _, v in ipairs { 5, 1, 4, 2, 3 } do q:put_nowait(v) end
  t.raises("compare", q.put_nowait, q, "x")
  t.eq(q:qsize(), 5)
  local got = {}
  while not q:empty() do got[#got + 1] = q:get():await() end
  t.same_as(got, { 1, 2, 3, 4, 5 })
end)

t.test("PriorityQueue: cyclic or too deeply nested tuples raise, the heap intact", function()
  local q = asyncio.PriorityQueue()
  local a, b = {}, {}
  a[1] = a; b[1] = b                     -- cyclic: would recurse forever
  q:put_nowait(a)
  t.raises("nested too deep", q.put_nowait, q, b)
  local function nest(n, leaf)
    local v = { leaf }
    for _ = 1, n do v = { v } end
    return v
  end
  t.raises("nested too deep", q.put_nowait, q, nest(200000, 2))
  t.eq(q:qsize(), 1)
  t.eq(q:get_nowait(), a)
  q:put_nowait(nest(150, 2))             -- below the limit: compared
  q:put_nowait(nest(150, 1))
  t.same_as(q:get_nowait(), nest(150, 1))
end)

t.test("waiter list entries that are not futures are skipped", function()
  local q = asyncio.Queue()
  local getters = {}
  for i = 1, 4 do getters[i] = create_task(function() return q:get():await() end) end
  yield()
  local gl = q._getters
  t.eq(nwaiting(gl), 4)
  local co = asyncio.async(function() end)()
  co:close()
  gl[gl.first] = "not a future"
  gl[gl.first + 1] = co                  -- a userdata of another kind
  gl[gl.first + 2] = getters[1]          -- a future, but a task's
  q:put_nowait(1)                        -- skips all three
  t.eq(getters[4]:await(), 1)
  t.eq(nwaiting(gl), 0)
  for i = 1, 3 do
    t.ok(not getters[i]:done())          -- lost from the list: cancelled
    getters[i]:cancel()
  end
  yield()
end)

t.test("a parked getter is woken by an operation's put", function()
  local q = asyncio.Queue(1)
  local getter = create_task(function() return q:get():await() end)
  yield()
  t.eq(q._getters.last - q._getters.first + 1, 1)
  q:put("x"):await()
  t.eq(getter:await(), "x")
  t.eq(q._getters.last - q._getters.first + 1, 0)
end)

t.test("waiter lists show first and last, and hold only their futures", function()
  local q = asyncio.Queue(1)
  q:put_nowait(0)
  local putters = {}
  for i = 1, 3 do putters[i] = create_task(function() q:put(i):await() end) end
  yield()
  t.eq(q._putters.first, 1)
  t.eq(q._putters.last, 3)
  t.eq(q._getters.first, 1)
  t.eq(q._getters.last, 0)
  t.eq(q._joiners.last, 0)
  local n = 0
  for k, v in pairs(q._putters) do
    n = n + 1
    t.eq(math.type(k), "integer")
    t.ok(asyncio.isfuture(v), tostring(v))
  end
  t.eq(n, 3)
  putters[2]:cancel()                    -- leaves from the middle
  yield()
  t.eq(q._putters.last - q._putters.first + 1, 2)
  t.eq(q:get():await(), 0)               -- wakes the first putter
  yield()
  t.eq(q._putters.first, 2)
  t.eq(q._putters.last, 2)
  t.eq(q._putters.other, nil)
  -- the __index function is reachable: any arguments are harmless
  local index = getmetatable(q._putters).__index
  t.eq(index(q._putters, "last"), 2)
  t.eq(index({}, "first"), nil)
  t.eq(index(42, "first"), nil)
  t.eq(index(q._putters, 1), nil)
  t.eq(q:get():await(), 1)
  t.eq(q:get():await(), 3)
  for _, p in ipairs(putters) do p:cancel() end
end)

t.run()
