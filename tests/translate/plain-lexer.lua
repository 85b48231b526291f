-- Plain Lua 5.4 whose only "await" and "async" are in strings and comments:
-- the output must be the input, byte for byte.  await async
local awaiting, asyncio_like, _await, await_, Async, AWAIT = 1, 2, 3, 4, 5, 6
local s = {
  "await", 'async', "\"await\"", '\'', "\\", "\a\b\f\n\r\t\v",
  "\x00\xff\xAB", "\u{0}\u{7FF}\u{FFFF}\u{7FFFFFFF}", "\0\01\012\255",
  "a\z
      b", "a\
b", "\z", [[]], [[
first newline skipped]], [==[a]]b]=]c]==], [=[]]=], [===[
]===],
}
--[[ multi
line await ]] --[==[ level 2 ]] ]==] x = 1 --[=[ ]=]
--[ not long
--[=x not long
-- no newline at the end of a line comment: await
local n = { 0, 00, 1e10, 1E-10, 1e+10, 0x1P4, 0x.8, 0x8., 0xA.Bp-3, 3.,
  .3, 3.3, 0xffffffffffffffff, 9007199254740993, 1//2, 7 % 3, 2^-2 }
local b = 1 << 2 >> 1 & 3 | 4 ~ 5, ~0, #s, -1, not nil
local c = 1 == 1, 1 ~= 2, 1 <= 2, 2 >= 1, 1 < 2, 2 > 1, "a" .. "b", ...
local t <const> = 1
do local f <close> = nil end
for i = 1, 2 do if i == 1 then goto continue end ::continue:: end
local function f(...) return select('#', ...) end
local o = { f = f, [1] = 2; x = 3, }
print(o.f(1, 2), o["f"], s[1]:upper(), ("x"):rep(2), f{}, f"s", f[[s]])
while false do end repeat until true
if nil then elseif false then else end
return s, n, b, c, t, awaiting, asyncio_like, _await, await_, Async, AWAIT
