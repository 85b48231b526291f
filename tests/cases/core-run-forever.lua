-- loop:run_forever() runs callbacks and tasks until loop:stop(); tasks go
-- on across runs; a stop() that comes first makes the next run_forever run
-- what is scheduled once and return; a closed or running loop refuses.
local asyncio = require "asyncio"
local loop = asyncio.new_event_loop()

local ticker = loop:create_task(function()
  for i = 1, 3 do
    print("tick", i)
    asyncio.sleep(0.01):await()
  end
  return "ticked"
end)
loop:call_later(0.015, function()
  print("stop after two ticks")
  loop:stop()
end)
loop:call_soon(print, "soon")
loop:run_forever()
print("returned; ticker done:", ticker:done())

loop:call_later(0.05, loop.stop, loop)
loop:run_forever()
print("ticker:", ticker:result())

loop:stop()                             -- before run_forever
loop:call_soon(print, "scheduled, runs once")
loop:run_forever()
print("returned at once")

print(pcall(loop.run_until_complete, loop, asyncio.async(function()
  return pcall(loop.run_forever, loop)
end)()))

loop:close()
print(pcall(loop.run_forever, loop))
