-- -v prints the version (aiolua, Lua and libuv versions); with a script,
-- the script runs after it.
local cli = dofile("core/cli.lua")

local out, _, code = cli.run({ "-v" })
print("-v status", code)
print("-v output matches", out:match("^aiolua %d+%.%d+%.%d+ %(Lua 5%.4%.%d+, libuv %d+%.%d+%.%d+%)\n$") ~= nil)
local out2, _, code2 = cli.run({ "-v", "core/hello.lua", "x" })
print("-v script status", code2)
print("-v script: version first", out2:match("^aiolua [^\n]*\nhello from script\tx\n$") ~= nil)
