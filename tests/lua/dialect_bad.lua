-- dialect_bad.lua -- malformed dialect code: requiring it is a syntax error.
local M = {}
local x = await
return M
