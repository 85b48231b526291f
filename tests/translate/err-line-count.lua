local s = [[

]] .. "a\
b" .. "\z

  "
--[[
]]
await )
