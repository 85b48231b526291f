-- An error outside any loop: the usual Lua report, exit status 1.
print("before")
local function f() error("top-level failure") end
f()
print("not reached")
