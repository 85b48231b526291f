-- dialect_mod.lua -- a module written in the dialect, loaded by `require`
-- from test-dialect.lua (the package searcher translates it).
local M = {}

async function M.double(x)
  await asyncio.sleep(0)
  return 2 * x
end

local async function add(a, b) return a + b end

async function M:sum(list)
  local s = 0
  for _, v in ipairs(list) do s = await add(s, await self.double(v)) end
  return s
end

return M
