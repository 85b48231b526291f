local asyncio = require "asyncio"
-- An error in one child of a gather: the traceback names the child's line
-- and the line of the gather's await in main.
local function child(n)
  asyncio.sleep(0.001 * n):await()
  if n == 2 then error({ code = 2 }) end
  return n
end

asyncio.run(function()
  local r = asyncio.gather(asyncio.create_task(child, 1), asyncio.create_task(child, 2)):await()
  print(r[1], r[2])
end)
