-- Every kind of block inside an async function: its `end` is found.
async function blocks(n)
  do local x = await f() end
  while n > 0 do n = n - 1 end
  for i = 1, 10, 2 do if i > 5 then break end end
  for k, v in pairs(t) do await g(k, v) end
  repeat n = n + 1 until n >= 10
  repeat local done = await h() until done
  if a then
    await a()
  elseif b then
    do await b() end
  else
    local function helper() return function() end end
    local t = { f = function() end, [function() end] = 1 }
  end
  goto done
  ::done::
  return (function() return 1 end)()
end
local after = await blocks(3)
