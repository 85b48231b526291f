-- cmod.lua -- a C module loaded by the aiolua binary (tests/c/cmod.c) uses
-- the Lua API and aiolua's C API from the binary itself: its futures are
-- awaited, gathered and cancelled like the built-in ones.
-- Usage: aiolua cmod.lua DIR (where cmod.so is)
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local cmod = require "cmod"

asyncio.run(function()
  local t0 = asyncio.get_running_loop():time()
  assert(cmod.after(20):await() == "tick")
  local r = asyncio.gather(cmod.after(30, "a"), cmod.after(10, "b")):await()
  assert(r[1] == "a" and r[2] == "b", tostring(r[1]) .. " " .. tostring(r[2]))
  local dt = asyncio.get_running_loop():time() - t0
  assert(dt >= 0.045 and dt < 1, "took " .. dt)
  local ok, err = pcall(asyncio.await, asyncio.wait_for(cmod.after(5000), 0.05))
  assert(not ok and asyncio.iserror(err, "TimeoutError"), tostring(err))
  local task = asyncio.create_task(function() return cmod.after(5000):await() end)
  asyncio.sleep(0.01):await()
  task:cancel()
  ok, err = pcall(task.await, task)
  assert(not ok and asyncio.iserror(err, "CancelledError"), tostring(err))
  asyncio.sleep(0.01):await()          -- a loop turn: the close callbacks
  print("open timers:", cmod.open_timers())
end)
local ok, err = pcall(cmod.after, -1)
print("bad argument:", ok, err)
