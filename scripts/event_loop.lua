-- event_loop.lua -- running a coroutine on an event loop made by hand.
-- Port of "Tutorial on how to use Asyncio in Python" (The Event Loop):
-- new_event_loop, run_until_complete, close in a finally.
-- Prints: Running main / (2 s) / Done
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function main()
  print("Running main")
  await asyncio.sleep(2 * SCALE)
end

local loop = asyncio.new_event_loop()
local ok, err = pcall(loop.run_until_complete, loop, main())
loop:close() -- finally
if not ok then error(err, 0) end
print("Done")
