-- sched.lua -- a minimal coroutine scheduler on Lua 5.4 + luv, the peer that
-- shows what a small hand-written Lua event loop costs.  Tasks are coroutines
-- with a FIFO ready queue; futures hold one result and a list of waiters;
-- sleep uses one uv timer per call; the loop runs ready tasks, then lets
-- libuv wait for I/O.  Just enough for the bench/luv/w*.lua workloads.
local uv = require "luv"

local M = {}
local ready, head, tail = {}, 1, 0     -- ring of runnable tasks
local current                          -- task running now

local function schedule(task)
  tail = tail + 1
  ready[tail] = task
end

-- Future ------------------------------------------------------------------
local Future = {}
Future.__index = Future

function M.Future()
  return setmetatable({ done = false }, Future)
end

function Future:set_result(v)
  assert(not self.done, "future already done")
  self.done, self.value = true, v
  local w = self.waiter
  if w then
    self.waiter = nil
    schedule(w)
  end
  local ws = self.waiters
  if ws then
    self.waiters = nil
    for i = 1, #ws do schedule(ws[i]) end
  end
end

-- Parks the running task until the future is done; returns its value.
function Future:await()
  if not self.done then
    if self.waiter == nil then
      self.waiter = current
    else
      local ws = self.waiters or {}
      ws[#ws + 1] = current
      self.waiters = ws
    end
    coroutine.yield()
  end
  return self.value
end

-- Tasks are futures that run a coroutine -----------------------------------
local Task = setmetatable({}, { __index = Future })
Task.__index = Task

function M.spawn(fn, ...)
  local args = table.pack(...)
  local task = setmetatable({ done = false }, Task)
  task.co = coroutine.create(function()
    task:set_result(fn(table.unpack(args, 1, args.n)))
  end)
  schedule(task)
  return task
end

-- Yields to the other ready tasks (sleep 0) or parks on a uv timer.
function M.sleep(delay)
  local task = current
  if not delay or delay <= 0 then
    schedule(task)
    coroutine.yield()
    return
  end
  local timer = uv.new_timer()
  timer:start(math.floor(delay * 1000 + 0.5), 0, function()
    timer:close()
    schedule(task)
  end)
  coroutine.yield()
end

-- Awaits every task of a list in turn; returns their results.
function M.gather(tasks)
  local out = {}
  for i = 1, #tasks do out[i] = tasks[i]:await() end
  return out
end

function M.time() return uv.hrtime() / 1e9 end

local function run_ready()
  while head <= tail do
    local task = ready[head]
    ready[head] = nil
    head = head + 1
    current = task
    local ok, err = coroutine.resume(task.co)
    if not ok then error(debug.traceback(task.co, err), 0) end
  end
  head, tail = 1, 0
  current = nil
end

-- Runs fn(...) as the main task until it finishes; returns its result.
function M.run(fn, ...)
  local main = M.spawn(fn, ...)
  while true do
    run_ready()
    if main.done then
      uv.run()                  -- let pending close callbacks run
      return main.value
    end
    -- Wait for I/O only when nothing is runnable.
    if not uv.run("once") and head > tail then
      error("deadlock: no runnable task and no active handle")
    end
  end
end

-- Queue(maxsize) with asyncio's semantics for put/get ------------------------
local Queue = {}
Queue.__index = Queue

function M.Queue(maxsize)
  return setmetatable({ items = {}, first = 1, last = 0, maxsize = maxsize or 0,
                        getters = {}, putters = {} }, Queue)
end

local function wake(list)
  local f = table.remove(list, 1)
  if f then f:set_result(true) end
end

function Queue:put(x)
  while self.maxsize > 0 and self.last - self.first + 1 >= self.maxsize do
    local f = M.Future()
    self.putters[#self.putters + 1] = f
    f:await()
  end
  self.last = self.last + 1
  self.items[self.last] = x
  wake(self.getters)
end

function Queue:get()
  while self.last < self.first do
    local f = M.Future()
    self.getters[#self.getters + 1] = f
    f:await()
  end
  local x = self.items[self.first]
  self.items[self.first] = nil
  self.first = self.first + 1
  wake(self.putters)
  return x
end

function M.rss_kb(field)
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match((field or "VmRSS") .. ":%s*(%d+)"))
end

return M
