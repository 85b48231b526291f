-- a UTF-8 byte order mark
local x = await f()
