-- test-threads.lua -- asyncio.to_thread: a function run on libuv's thread
-- pool in a Lua state of its own while the loop goes on; what crosses
-- (copies of nil, booleans, numbers, strings, tables), what cannot
-- (upvalues, functions, cycles), errors, cancellation, many at once.
local asyncio = require "asyncio"
local t = require "t"

local to_thread = asyncio.to_thread

t.test("the loop goes on while a function runs on another thread", function()
  local ticks = 0
  local ticker = asyncio.create_task(function()
    while true do asyncio.sleep(0.005):await(); ticks = ticks + 1 end
  end)
  -- a blocking call (os.execute is a C function: it crosses as itself)
  local ok, how, code = to_thread(os.execute, "sleep 0.1"):await()
  t.eq(ok, true)
  t.eq(how, "exit")
  t.eq(code, 0)
  t.ok(ticks >= 5, "the loop ran meanwhile: " .. ticks .. " ticks")
  ticker:cancel()
end)

t.test("arguments and results are copied, with nils and nesting", function()
  local n, a, b, c, d = to_thread(function(...)
    return select("#", ...), ...
  end, 1, nil, 2.5, { x = { "deep", true, [10] = false } }):await()
  t.eq(n, 4)
  t.eq(a, 1)
  t.eq(b, nil)
  t.eq(c, 2.5)
  t.eq(math.type(a), "integer")
  t.same_as(d, { x = { "deep", true, [10] = false } })
  -- the worker has its own globals and the standard libraries
  local kind, s = to_thread(function() return type(_G.asyncio), string.format("%03d", 7) end):await()
  t.eq(kind, "nil", "no asyncio there")
  t.eq(s, "007")
  local big = ("x"):rep(1 << 20)
  t.eq(to_thread(function(s) return #s, s:sub(1, 3) end, big):await(), 1 << 20)
end)

t.test("gather and create_task take it, as CPython's coroutine", function()
  local fib = function(n)
    local function f(k) if k < 2 then return k end return f(k - 1) + f(k - 2) end
    return f(n)
  end
  local r = asyncio.gather(to_thread(fib, 20), to_thread(fib, 21), to_thread(fib, 22)):await()
  t.eq(r[1], 6765)
  t.eq(r[2], 10946)
  t.eq(r[3], 17711)
  local task = asyncio.create_task(to_thread(fib, 10))
  t.eq(task:await(), 55)
  local many = {}
  for i = 1, 40 do many[i] = to_thread(function(x) return x * x end, i) end
  local sq = asyncio.gather(table.unpack(many)):await()
  t.eq(sq[40], 1600)
  t.eq(#sq, 40)
end)

t.test("errors: raised in the thread, and what cannot cross", function()
  local ok, err = pcall(asyncio.await, to_thread(function() error("in the thread") end))
  t.eq(ok, false)
  t.ok(tostring(err):find("in the thread", 1, true), tostring(err))
  local e2 = select(2, pcall(asyncio.await, to_thread(function() error({ code = 7 }) end)))
  t.same_as(e2, { code = 7 }, "an error table crosses as a copy")
  local up = 1
  t.raises("the function has upvalues", asyncio.await, to_thread(function() return up end))
  t.raises("a function cannot cross", asyncio.await, to_thread(function() end, print))
  t.raises("a userdata cannot cross", asyncio.await, to_thread(function() end, io.stdout))
  local cyc = {}
  cyc.self = cyc
  t.raises("nested too deep", asyncio.await, to_thread(function() end, cyc))
  t.raises("a function cannot cross", asyncio.await, to_thread(function() return print end))
  t.raises("bad argument #1", asyncio.await, to_thread(42))
  t.raises("has upvalues", asyncio.await, to_thread(asyncio.sleep, 0))
end)

t.test("cancelling abandons the run; the loop does not wait on it", function()
  local task = asyncio.create_task(to_thread(os.execute, "sleep 0.2"))
  asyncio.sleep(0.01):await()
  task:cancel()
  t.raises("CancelledError", asyncio.await, task)
  -- wait_for gives up on it the same way
  t.raises("TimeoutError", asyncio.await,
           asyncio.wait_for(to_thread(os.execute, "sleep 0.2"), 0.02))
end)

t.test("loop:run_in_executor(nil, fn, ...) is to_thread", function()
  local loop = asyncio.get_running_loop()
  t.eq(loop:run_in_executor(nil, function(a, b) return a .. b end, "x", 1):await(), "x1")
  t.eq(asyncio.wait_for(loop:run_in_executor(nil, string.upper, "y"), 1):await(), "Y")
  t.raises("the only executor is the default one", loop.run_in_executor, loop, {}, print)
end)

t.run()
