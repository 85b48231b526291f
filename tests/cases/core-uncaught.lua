local asyncio = require "asyncio"
-- An uncaught error exits 1 with the traceback of where it was raised,
-- through the chain of awaits: leaf task -> middle coroutine -> main.
local leaf = asyncio.async(function(x)
  asyncio.sleep(0):await()
  error("boom " .. x)
end)

local middle = asyncio.async(function()
  local task = asyncio.create_task(leaf(1))
  print("middle awaits")
  return task:await()
end)

local function main()
  local r = middle():await()
  print("not reached")
  return r
end

asyncio.run(main)
print("not reached either")
