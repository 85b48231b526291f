-- The state a script starts in.  Start-up loads the built-in modules with
-- the collector stopped and collects once at the end (runtime.c,
-- init_protected): a script must find it running, in incremental mode.
-- Only asyncio.lua's core is loaded; the rest of the module loads at the
-- first use of one of its names.
local running_at_start = collectgarbage("isrunning")
local LAZY = {
  ["asyncio.timeouts"] = { "timeout", "wait_for" },
  ["asyncio.combinators"] = { "wait", "as_completed", "shield",
                              "FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED" },
  ["asyncio.taskgroups"] = { "TaskGroup" },
  ["asyncio.queues"] = { "Queue", "LifoQueue", "PriorityQueue", "QueueEmpty",
                         "QueueFull", "QueueShutDown" },
  ["asyncio.locks"] = { "Event", "Lock", "Semaphore", "BoundedSemaphore",
                        "Condition", "Barrier", "BrokenBarrierError" },
}
local loaded_at_start = {}
for m in pairs(LAZY) do loaded_at_start[m] = package.loaded[m] ~= nil end
local raw_at_start = rawget(asyncio, "wait_for")
asyncio.shield = "mine"            -- set by the script before its module loads
local t = require "t"

t.test("the collector is running when the script starts", function()
  t.eq(running_at_start, true)
end)

t.test("it collects on its own, with no explicit collect", function()
  local weak = setmetatable({}, { __mode = "k" })
  weak[{}] = true
  for i = 1, 200000 do local _ = { i } end   -- ~11 MB of garbage
  t.eq(next(weak), nil)
end)

t.test("it is incremental (generational re-traverses parked tasks)", function()
  t.eq(collectgarbage("incremental"), "incremental")
end)

t.test("the lazily loaded modules are not loaded at start", function()
  for m in pairs(LAZY) do t.eq(loaded_at_start[m], false, m) end
  t.eq(raw_at_start, nil)
end)

t.test("each of their names loads its module and is then a plain field", function()
  for m, names in pairs(LAZY) do
    for _, name in ipairs(names) do
      t.ok(asyncio[name] ~= nil, name)
      t.ok(rawget(asyncio, name) ~= nil, name)
    end
    t.ok(package.loaded[m], m)
  end
  t.eq(asyncio.wait_for(asyncio.sleep(0, "v"), 1):await(), "v")
  t.eq(asyncio.FIRST_COMPLETED, "FIRST_COMPLETED")
end)

t.test("a name the script set before its module loaded stays the script's", function()
  t.eq(asyncio.wait ~= nil, true)          -- loads asyncio.combinators
  t.eq(asyncio.shield, "mine")
end)

t.test("an unknown name is nil and loads nothing", function()
  t.eq(asyncio.no_such_name, nil)
  t.eq(rawget(asyncio, "no_such_name"), nil)
end)

t.run()
