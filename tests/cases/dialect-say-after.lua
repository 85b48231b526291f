-- The asyncio tutorial's say_after, in the dialect.
local asyncio = require "asyncio"

async function say_after(delay, what)
  await asyncio.sleep(delay)
  print(what)
end

async function main()
  local task1 = asyncio.create_task(say_after(0.02, "hello"))
  local task2 = asyncio.create_task(say_after(0.04, "world"))
  print("started")
  await task1
  await task2
  print("finished")
end

asyncio.run(main())
