-- Strings, long strings and comments pass through untouched, even when
-- they hold the keywords.  await x  -- (in a comment)
local s1 = "await x; async function f() end"
local s2 = 'it\'s \"await\" \\ async'
local s3 = "tab\tnl\nbell\a\x41\x7a\u{48}\u{10FFFF}\065\9\0end"
local s4 = "line one\
line two await"
local s5 = "skip \z
             await spaces"
local s6 = [[await
async function]]
local s7 = [==[ ]] ]=] await ]===] ]==]
local s8 = [=[
await]=]
--[[ await x
async function f() end ]]
--[==[ ]] ]=]
await ]==]
--[= not a long comment: await x
--[ neither
---[[ a short comment too
local r = await f(s1, s2, "await", [[await]], --[[await]] s3)
local q = await f--[[c]]"x"
print(s1 .. s2 .. s3 .. s4 .. s5 .. s6 .. s7 .. s8 .. 'await')
