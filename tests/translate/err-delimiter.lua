local a = await f()
local s = [= abc ]=]
