local asyncio = require "asyncio"
-- An uncaught aiolua error prints "Type: message" with the traceback of
-- the await that raised it, and exits 1; no "never retrieved" report for
-- the main task.
asyncio.run(function()
  print("waiting")
  asyncio.wait_for(asyncio.sleep(1), 0.01):await()
end)
