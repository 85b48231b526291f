-- test-dialect.lua -- the async/await dialect at run time (DESIGN.md
-- section 7), written in the dialect itself: every form of `async
-- function`, `await` precedence, awaits in every kind of statement,
-- `async`/`await` as ordinary names, line numbers, `require` and
-- `aiolua --translate`.
local asyncio = require "asyncio"
local t = require "t"

async function double(x)
  await asyncio.sleep(0)
  return 2 * x
end

local async function fib(n)
  if n < 2 then return n end
  return await fib(n - 1) + await fib(n - 2)
end

local Counter = { n = 0 }
async function Counter:add(k)
  await asyncio.sleep(0)
  self.n = self.n + k
  return self.n
end

local lib = { sub = {} }
async function lib.sub.pair(a, b) return a, b end

local function identity(...) return ... end

-- XXX: required here, not inside a test: `require` from inside a task does
-- not find Lua modules yet (runtime/load.c loads on the main thread).
local dialect_mod = require "dialect_mod"
local bad_ok, bad_err = pcall(require, "dialect_bad")
async function values(...) return ... end

t.test("global async function", function()
  t.eq(await double(21), 42)
  t.eq(type(double), "function")
end)

t.test("local async function sees itself", function()
  t.eq(await fib(10), 55)
end)

t.test("method gets self", function()
  Counter.n = 0
  t.eq(await Counter:add(2), 2)
  t.eq(await Counter:add(3), 5)
end)

t.test("field async function, several results", function()
  local a, b = await lib.sub.pair(1, "x")
  t.eq(a, 1)
  t.eq(b, "x")
  t.same_as({ await values(1, nil, 3) }, { 1, nil, 3 })
end)

t.test("anonymous async function as a task", function()
  local task = asyncio.create_task((async function(x)
    await asyncio.sleep(0.001)
    return x + 1
  end)(41))
  t.eq(await task, 42)
  local f = async function() return "called" end
  t.eq(await f(), "called")
  t.eq(await (async function() return 7 end)(), 7)
end)

t.test("await binds like not", function()
  local r = { y = double(20) }
  t.eq(await identity(r).y + 1, 41)            -- (await r.y) + 1
  t.eq(-await double(2), -4)
  t.eq(not await double(1), false)
  t.eq(#await values({ 1, 2, 3 }), 3)
  t.eq(await double(1) .. await double(2), "24")
  t.eq(2 ^ await double(1), 4.0)
  t.eq(await double(3) * 2 + await double(1), 14)
end)

t.test("await await", function()
  local outer = async function() return double(5) end
  t.eq(await await outer(), 10)
  t.eq(await (await outer()), 10)
end)

t.test("await in nested functions and operands", function()
  local got = await values(await double(1), { await double(2), k = await double(3) })
  t.eq(got, 2)
  local list = await asyncio.gather(double(1), (async function()
    return await double(await double(1))
  end)())
  t.same_as({ list[1], list[2] }, { 2, 4 })
  local fn = function() return await double(4) end  -- a plain function, in a task
  t.eq(fn(), 8)
end)

t.test("await in every statement", function()
  local n = 0
  while await values(n < 3) do n = n + 1 end
  t.eq(n, 3)
  repeat n = n - 1 until await values(n == 0)
  for i = await values(1), await double(1) do n = n + i end
  t.eq(n, 3)
  for _, v in ipairs(await values({ 4, 5 })) do n = n + v end
  t.eq(n, 12)
  if await values(false) then n = 0 elseif await values(true) then n = -1 end
  t.eq(n, -1)
  local g <close> = await values(nil)
  await asyncio.sleep(0)
  do return await values() end
end)

t.test("await in pcall; errors keep their line", function()
  local line
  local boom = async function()
    await asyncio.sleep(0)
    line = debug.getinfo(1, "l").currentline; error("boom")
  end
  local ok, err = pcall(function() return await boom() end)
  t.eq(ok, false)
  t.ok(err:find("test%-dialect%.lua:" .. line .. ": boom"), err)
  t.eq(line, 118)  -- the line of error("boom") in this file
end)

t.test("async and await stay names after . and : and as keys", function()
  local fut = asyncio.Future()
  fut:set_result("r")
  t.eq(fut:await(), "r")
  t.eq(asyncio.await(fut), "r")
  local af = asyncio.async(function() return 1 end)
  t.eq(af():await(), 1)
  local tbl = { await = 1, async = 2 }
  t.eq(tbl.await + tbl.async, 3)
  tbl.await = nil
  t.eq(tbl["await"], nil)
end)

t.test("never awaited coroutine is named", function()
  local co = double(1)
  t.ok(tostring(co):find("double"), tostring(co))
  co:close()
end)

t.test("require translates dialect modules", function()
  local M = dialect_mod
  t.eq(await M.double(4), 8)
  t.eq(await M:sum({ 1, 2, 3 }), 12)
end)

t.test("a malformed module is a syntax error naming file and line", function()
  t.eq(bad_ok, false)
  t.ok(tostring(bad_err):find("dialect_bad%.lua:4: 'await' needs an expression near 'return'"),
       tostring(bad_err))
end)

t.test("aiolua --translate prints plain Lua", function()
  local i = 0
  while arg[i - 1] do i = i - 1 end  -- arg[i] is the aiolua binary
  local exe = arg[i]
  local p = io.popen(string.format("%q --translate dialect_mod.lua", exe))
  local out = p:read("a")
  p:close()
  t.ok(out:find("M.double = asyncio.async(function(x)", 1, true), out)
  t.ok(out:find("local add; add = asyncio.async(function(a, b)", 1, true), out)
  t.ok(out:find("M.sum = asyncio.async(function(self, list)", 1, true), out)
  t.ok(not out:find("await asyncio", 1, true), out)
  local _, lines = out:gsub("\n", "")
  t.eq(lines, 18)
end)

t.run()
