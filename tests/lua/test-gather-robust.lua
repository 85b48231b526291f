-- test-gather-robust.lua -- asyncio.gather when checking its arguments
-- runs Lua code (an object's __index looking up `await`) that changes the
-- list, collects entries or calls gather itself, and when it raises partway:
-- no stale child, and no future left marked as seen (which made a later
-- gather of it finish early).
local asyncio = require "asyncio"
local t = require "t"

local gather, Future = asyncio.gather, asyncio.Future

local function yield() asyncio.sleep(0):await() end

-- An awaitable object whose `await` lookup first calls hook().
local function awaitable(hook, value)
  return setmetatable({}, { __index = function(_, k)
    if k == "await" then
      hook()
      return function() return value end
    end
  end })
end

t.test("gather{list}: an entry replaced and collected while checking", function()
  local list, seen = {}, setmetatable({}, { __mode = "v" })
  list[1] = Future()
  seen[1] = list[1]
  list[2] = awaitable(function()
    if math.type(list[1]) == nil then list[1] = 42 end  -- once
    collectgarbage(); collectgarbage()
  end, "b")
  local g = gather(list)
  collectgarbage(); collectgarbage()
  t.ok(seen[1], "the gathered future is kept alive")
  seen[1]:set_result("a")
  t.same_as(g:await(), { "a", "b", n = 2 })
end)

t.test("gather{list}: an entry replaced by a non-awaitable while checking", function()
  local f = Future()
  local list = { f }
  list[2] = awaitable(function() list[1] = 42 end, "b")
  local g = gather(list)
  f:set_result("a")
  t.same_as(g:await(), { "a", "b", n = 2 })
end)

-- After a gather that raised: a new gather of F and G, F set first, must
-- still wait for G (a mark left on F made it count F twice).
local function expect_unmarked(F, G)
  local g = gather(F, G)
  F:set_result("f")
  yield(); yield()
  t.ok(not g:done(), "gather waits for G")
  G:set_result("g")
  t.same_as(g:await(), { "f", "g", n = 2 })
end

t.test("gather(c, c, F) raises and leaves F unmarked", function()
  local c = asyncio.async(function() return "c" end)()
  local F, G = Future(), Future()
  t.raises("cannot reuse", gather, c, c, F)
  expect_unmarked(F, G)
end)

t.test("gather(F, c, c) raises before any callback is added", function()
  local c = asyncio.async(function() return "c" end)()
  local F = Future()
  t.raises("cannot reuse", gather, F, c, c)
  F:set_result("f")
  yield(); yield()
  t.same_as(gather(F):await(), { "f", n = 1 })
end)

t.test("an error in an argument's __index leaves no future marked", function()
  local F, G = Future(), Future()
  local bad = setmetatable({}, { __index = function() error("boom", 0) end })
  t.raises("boom", gather, F, bad)
  expect_unmarked(F, G)
end)

t.test("gather called again from an argument's __index", function()
  local F = Future()
  local inner
  local obj = awaitable(function() inner = inner or gather(F, F) end, "o")
  local outer = gather(F, obj, F)
  F:set_result("f")
  t.same_as(inner:await(), { "f", "f", n = 2 })
  t.same_as(outer:await(), { "f", "o", "f", n = 3 })
end)

t.test("futures then a coroutine: marks made early are undone", function()
  -- while the arguments are futures, gather marks them in its first pass;
  -- at the first coroutine it undoes that and marks them later
  local F, G = Future(), Future()
  local c = asyncio.async(function() return "c" end)()
  local g = gather(F, F, G, c, F)
  F:set_result("f")
  G:set_result("g")
  t.same_as(g:await(), { "f", "f", "g", "c", "f", n = 5 })
  local H = Future()
  expect_unmarked(H, Future())
  t.same_as(gather(F, G, F):await(), { "f", "g", "f", n = 3 })
end)

t.test("gather{n = ...} beyond an int raises instead of wrapping", function()
  t.raises("too many awaitables", gather, { n = 0x100000001 })
  t.raises("too many awaitables", gather, { n = math.maxinteger })
  t.raises("negative", gather, { n = -1 })
end)

t.run()
