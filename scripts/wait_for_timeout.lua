-- wait_for_timeout.lua -- wait_for gives up after a timeout.  From
-- "Tutorial on how to use Asyncio in Python" (Cancelling tasks and
-- timeouts): wait_for(aw, timeout) cancels aw and raises TimeoutError if
-- it takes longer than timeout seconds; a quick one returns its result.
-- Prints: Hello! (quick) / say_hello_eventually(10) was cancelled /
--         TimeoutError after 1 s
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function say_hello_eventually(seconds)
  local ok, err = pcall(function() await asyncio.sleep(seconds * SCALE) end)
  if not ok then
    print(("say_hello_eventually(%d) was cancelled"):format(seconds))
    error(err, 0)
  end
  return "Hello!"
end

local async function main()
  local quick = await asyncio.wait_for(say_hello_eventually(0.5), 1 * SCALE)
  print(quick .. " (quick)")
  local loop = asyncio.get_running_loop()
  local start = loop:time()
  local ok, err = pcall(function()
    await asyncio.wait_for(say_hello_eventually(10), 1 * SCALE)
  end)
  if not ok and asyncio.iserror(err, "TimeoutError") then
    print(("TimeoutError after %.0f s"):format((loop:time() - start) / SCALE))
  end
end

asyncio.run(main())
