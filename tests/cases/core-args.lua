-- The arg table and the script's varargs, as lua sets them: the script
-- name at 0, its arguments at 1.., the interpreter at -1.
local parts = {}
for i = 0, #arg do parts[#parts + 1] = i .. "=" .. tostring(arg[i]) end
print(table.concat(parts, " "))
print("arg[-1] is the binary", arg[-1] ~= nil and arg[-1]:match("aiolua$") ~= nil)
print("arg[-2]", arg[-2])
print("#arg", #arg)
print("varargs", select("#", ...), ...)
