-- await at the end of the chunk
local x = await
