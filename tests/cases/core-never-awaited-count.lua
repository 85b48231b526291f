-- Every coroutine object never awaited is reported exactly once, wherever
-- it was made (a task step, a callback, the top level, a burst of more
-- than the runtime tracks at a time), and none that was awaited, handed to
-- a task or gathered, in the step that made it or a later one.
local cli = dofile("core/cli.lua")

local programs = {
  { "dropped in a task, collected later", [[
    asyncio.run(function()
      f()
      asyncio.sleep(0):await()
      collectgarbage() collectgarbage()
    end) ]] },
  { "dropped at top level, outside any loop", [[
    f() ]] },
  { "10,000 dropped in one step", [[
    asyncio.run(function() for i = 1, 10000 do f(i) end end) ]] },
  { "10,000 awaited where they were made", [[
    asyncio.run(function() for i = 1, 10000 do f(i):await() end end) ]] },
  { "10,000 kept, awaited in later steps", [[
    asyncio.run(function()
      local cs = {}
      for i = 1, 10000 do cs[i] = f(i) end
      asyncio.sleep(0):await()
      collectgarbage()
      for i = 1, 10000 do cs[i]:await() end
    end) ]] },
  { "10,000 gathered, 3 dropped", [[
    asyncio.run(function()
      local cs = {}
      for i = 1, 10000 do cs[i] = f(i) end
      f() f() f()
      asyncio.gather(cs):await()
    end) ]] },
  { "dropped in a callback", [[
    asyncio.run(function()
      asyncio.get_running_loop():call_soon(function() f() f() end)
      asyncio.sleep(0):await()
    end) ]] },
  { "made in one task, awaited in another", [[
    asyncio.run(function()
      local c
      local t = asyncio.create_task(function() c = f() end)
      t:await()
      asyncio.sleep(0):await()
      collectgarbage()
      c:await()
    end) ]] },
}

for _, p in ipairs(programs) do
  local src = "local f = asyncio.async(function(x) return x end, 'f')\n"
              .. p[2] .. "\ncollectgarbage() collectgarbage()\n"
  local _, err, code = cli.run({ "-" }, src)
  local n = select(2, err:gsub("coroutine 'f' was never awaited", ""))
  local other = err:gsub("RuntimeWarning: coroutine 'f' was never awaited\n", "")
  print(string.format("%-40s reports %d, exit %s%s", p[1], n, code,
                      other ~= "" and ("\n" .. other) or ""))
end
