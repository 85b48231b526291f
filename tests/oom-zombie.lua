-- oom-zombie.lua -- a task whose outcome cannot be recorded (memory runs
-- out as its thread ends) must still end: it used to stay alive with a
-- dead thread, one more with each failed asyncio.run, until a later run's
-- teardown waited on them for good (with a server open, forever).
-- Usage: aiolua oom-zombie.lua DIR_OF_MEMLIMIT_SO
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local ml = require "memlimit"
ml.install()

local child = asyncio.async(function(i)
  asyncio.sleep(0):await()
  return i, { i }
end)

local most = 0
for n = 0, 300 do
  collectgarbage()
  local ok = pcall(function()
    ml.fail_after(n)
    return asyncio.run(function()
      return asyncio.gather(child(1), child(2), child(3)):await()
    end)
  end)
  ml.fail(false)
  local alive = #asyncio.new_event_loop():run_until_complete(function()
    return asyncio.all_tasks()
  end) - 1                               -- not the one asking
  if alive > most then most = alive end
  if ok then break end
end
print("most tasks left alive after a failed run:", most)
