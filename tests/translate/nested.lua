-- `await` inside `await` operands and inside nested functions.
await f(function() await g() end)
await f(async function()
  await g(await h(), function() return await i() end)
end)
local r = await gather(await a(), { await b(), k = await c() }, d[await e()])
local s = await (await (await x))
local t = await f(function()
  if x then
    return await y
  elseif z then
    while await c do await d end
  else
    repeat await e until await f
  end
  for i = 1, await n do await g(i) end
  for k, v in pairs(await tbl()) do await h(k, v) end
end)
