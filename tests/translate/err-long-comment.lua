local a = await f()
--[[ abc

