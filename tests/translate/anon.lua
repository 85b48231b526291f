-- `async function (...) ... end` is an expression.
local f = async function() return 1 end
local g = async function (a, b) return a + b end
tasks = { async function() await f() end, async function() end }
asyncio.create_task(async function()
  await asyncio.sleep(0.1)
end)
local h = (async function(x) return x end)(5)
local nested = async function()
  return async function()
    return await g(1, 2)
  end
end
t.handler = async function(self, req) return await self:reply(req) end
