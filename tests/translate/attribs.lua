-- Attributes of local variables.
local async function work(lock)
  local g <close> = await lock:acquire()
  local limit <const> = await config("limit")
  local a <const>, b = 1, await two()
  return limit
end
