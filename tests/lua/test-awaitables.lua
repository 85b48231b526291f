-- Awaitables beyond futures and coroutine objects: any table or userdata
-- with an await method (called as obj:await() inside the current task),
-- accepted by await, create_task, gather, wait and ensure_future, as
-- Python accepts any object with __await__.
local t = require "t"
local asyncio = require "asyncio"

-- A hand-made awaitable: resolves to v after d seconds.
local function later(d, v)
  return { await = function(self) return asyncio.sleep(d, v):await() end }
end

local Later = {}
Later.__index = Later
function Later:await() return asyncio.sleep(self.d, self.v):await() end
local function later_mt(d, v) return setmetatable({ d = d, v = v }, Later) end

t.test("await of a plain table with an await method", function()
  t.eq(asyncio.await(later(0, "plain")), "plain")
  t.eq(asyncio.isawaitable(later(0)), true)
end)

t.test("await of an object whose class has an await method", function()
  t.eq(asyncio.await(later_mt(0, "class")), "class")
end)

t.test("create_task, gather, wait and ensure_future take them", function()
  local task = asyncio.create_task(later(0.001, "task"))
  t.eq(task:await(), "task")
  local r = asyncio.gather(later(0.002, 1), later_mt(0.001, 2)):await()
  t.same_as(r, { 1, 2, n = 2 })
  local done = asyncio.wait({ later(0, "w") }):await()
  t.eq(done[1]:result(), "w")
  t.eq(asyncio.isfuture(asyncio.ensure_future(later(0, "e"))), true)
end)

t.test("values without an await method are not awaitable", function()
  t.eq(asyncio.isawaitable({}), false)
  t.eq(asyncio.isawaitable(42), false)
  t.raises("can't be awaited", asyncio.await, {})
  t.raises("can't be awaited", asyncio.await, "text")
  t.raises("TypeError", asyncio.gather, {}, later(0))
end)

t.run()
