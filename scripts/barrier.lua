-- barrier.lua -- wait for a group of coroutines, with or without a time
-- limit.  Port of "asyncio" (6. Barriers with coroutines):
-- wait_for(gather(foo(), bar()), timeout): with timeout nil it waits until
-- both complete; with a timeout the gather, and so foo and bar, are
-- cancelled when it passes.
-- Prints: foo done / bar done / all done: foo, bar / then, with a 1.5 s
--         limit: foo done / bar cancelled / TimeoutError: both stopped
-- AIOLUA_TIME_SCALE=0.1 scales every delay (tests run it fast).
local asyncio = require "asyncio"
local SCALE = tonumber(os.getenv("AIOLUA_TIME_SCALE")) or 1

local async function work(name, seconds)
  local ok, err = pcall(function() await asyncio.sleep(seconds * SCALE) end)
  if not ok then
    print(name .. " cancelled")
    error(err, 0)
  end
  print(name .. " done")
  return name
end

local async function foo() return await work("foo", 1) end
local async function bar() return await work("bar", 2) end

local async function main()
  -- if timeout is nil, wait until every coroutine completes
  local r = await asyncio.wait_for(asyncio.gather(foo(), bar()), nil)
  print("all done: " .. table.concat(r, ", "))
  -- else the inner tasks get cancelled on timeout
  local ok, err = pcall(function()
    await asyncio.wait_for(asyncio.gather(foo(), bar()), 1.5 * SCALE)
  end)
  if not ok and asyncio.iserror(err, "TimeoutError") then
    print("TimeoutError: both stopped")
  end
end

asyncio.run(main())
