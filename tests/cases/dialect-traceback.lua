-- An error inside nested async functions: the traceback names the lines
-- the user wrote, and the async functions by their names.
local asyncio = require "asyncio"

async function inner()
  await asyncio.sleep(0)
  error("inner failed")
end

async function outer()
  return await inner()
end

asyncio.run(outer())
