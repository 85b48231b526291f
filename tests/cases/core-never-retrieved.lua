local asyncio = require "asyncio"
-- A failed task (or future) whose error nobody retrieves is reported on
-- stderr when it is collected, with the error and its traceback, as Python
-- does; the program itself still exits 0.
asyncio.run(function()
  asyncio.create_task(function()
    asyncio.sleep(0):await()
    error("lost task error")
  end)
  local f = asyncio.Future()
  f:set_exception(asyncio.Error("ValueError", "lost future error"))
  f = nil
  asyncio.sleep(0.01):await()
  print("main done")
end)
collectgarbage()
collectgarbage()
print("after collect")
