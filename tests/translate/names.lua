-- After `.` and `:`, as table keys, and in goto/labels, async and await
-- stay ordinary names.
local fut = asyncio.Future()
local v = fut:await()
local w = asyncio.await(fut)
local af = asyncio.async(function() end)
local t = { await = 1, async = 2; await = 3, [1] = await fut }
t.await, t.async = t.async, t.await
t["await"] = t.async
function t:await() return self.async end
function t.async() end
local u = { async = function() end, await = async function() end }
for i = 1, 3 do
  if i == 2 then goto await end
  print(await fut)
  ::await::
end
local x = a.await:async():await { await = await y }
local y = obj:await "x"
