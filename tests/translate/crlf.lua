-- Windows line endings.
async function f()
  return await g()
end
local async --[[
]] function h() end
async function a.
b() end
error("line 9")
