-- Numerals of every shape lex as one token.
local n = await f(3, 3.0, 3.1416, 314.16e-2, 0.31416E1, 34e1, .5, 5., 1e+10)
local h = await f(0xff, 0xBEBADA, 0x0.1E, 0xA23p-4, 0X1.921FB54442D18P+1)
local m = await x - 1 - -2 .. 3 ..4
local i = 1//await y
local j = 0x10p-1 + await z
