-- `await` is a unary operator with the precedence of `not`.
local a = await f(x).y + 1
local b = await x ^ 2
local c = await -x
local d = await not x
local e = await await x
local f = await (a or b)
local g = await x .. await y
local h = -await x
local i = not await x
local j = #await list()
local k = await t[1][2]:method("s"):other{1, 2} * 3
local l = await f"str" .. await f[[long]]
local m = 2 ^ await x
local n = await x ^ -y ^ z < 4
local o = await a.b.c == await d:e()
local p = await x and await y or await z
local q = ~await x & await y | await z
local r = await x // 2 % 3
local s = await (f)(1)(2)
local u = await ... 
local v = await {1, 2}
local w = await nil
local x1 = await "s" .. "t"
local y1 = await 1 + 2
local z1 = await function() end
