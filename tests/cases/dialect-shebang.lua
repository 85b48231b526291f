#!/usr/bin/env aiolua
-- A script with a byte order mark and a #! line, loaded as lua does.
local asyncio = require "asyncio"
async function main() return await asyncio.sleep(0, "slept") end
print(asyncio.run(main()))
print(debug.getinfo(1, "l").currentline)
