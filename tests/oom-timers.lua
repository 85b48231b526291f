-- oom-timers.lua -- out of memory while timers fire (tests/c/memlimit.c):
-- firing a call_later handle or a sleep with many waiters grows Lua
-- tables inside libuv's timer callback.  The error must not unwind
-- through libuv: the loop goes on, asyncio.run returns, and the runtime
-- runs again afterwards.  Usage: aiolua oom-timers.lua DIR_OF_MEMLIMIT_SO
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local ml = require "memlimit"
ml.install()

local function check(what, ok, ...)
  print(what, ok and "returned" or "raised")
end

-- a sleep whose 40 done callbacks are scheduled when its timer fires,
-- while making room for them fails once: the timer tries again and every
-- callback runs (they were lost: the timer was stopped, then failed)
local ran = 0
local ok = pcall(asyncio.run, function()
  local loop = asyncio.get_running_loop()
  local s = asyncio.sleep(0.03)
  for _ = 1, 40 do s:add_done_callback(function() ran = ran + 1 end) end
  loop:call_later(0.01, ml.fail_once, 0)  -- the next allocation: the room
  asyncio.sleep(0.1):await()
end)
print("sleep, a transient failure:", ok, ran)

-- a sleep whose 40 done callbacks are scheduled when its timer fires
check("sleep", pcall(asyncio.run, function()
  local loop = asyncio.get_running_loop()
  local s = asyncio.sleep(0.03)
  for _ = 1, 40 do s:add_done_callback(function() end) end
  loop:call_later(0.01, ml.fail, true)
  asyncio.sleep(0.2):await()
end))
ml.fail(false)

-- call_later handles firing while memory is out
check("call_later", pcall(asyncio.run, function()
  local loop = asyncio.get_running_loop()
  loop:call_later(0.01, ml.fail, true)
  for i = 1, 20 do loop:call_later(0.02, function() end) end
  asyncio.sleep(0.2):await()
end))
ml.fail(false)

-- the runtime is sound: not stuck "running", timers still fire
print(asyncio.run(function()
  asyncio.sleep(0.01):await()
  return "runs again"
end))
print("failures seen:", ml.failures() > 0)
