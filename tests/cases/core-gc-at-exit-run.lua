-- asyncio.run from a finalizer that runs while the runtime closes raises
-- RuntimeError (it hung: the ready queue never ran once closing began).
local keep = setmetatable({}, { __gc = function()
  local ok, err = pcall(asyncio.run, function() print("never runs") end)
  print(ok, err)
end })
print("main done")
