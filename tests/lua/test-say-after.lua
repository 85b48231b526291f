-- The tutorials' first example, sequential and concurrent: same output
-- order as Python, and the concurrent run takes the longest delay, not the
-- sum (time scaled by 0.2: 0.6 s against 0.4 s).  Start-up time varies on a
-- loaded machine, so the runs are compared with each other.
local t = require "t"
local asyncio = require "asyncio"
local aiolua = arg[-1]

-- Runs a script with the time scale; returns its lines and elapsed seconds.
local function run(script)
  local t0 = asyncio.get_running_loop():time()
  local p = io.popen("AIOLUA_TIME_SCALE=0.2 " .. aiolua .. " ../../scripts/" .. script)
  local out = p:read("a")
  local ok = p:close()
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l:gsub("%d%d:%d%d:%d%d", "T") end
  return lines, asyncio.get_running_loop():time() - t0, ok
end

local sequential

t.test("sequential: hello then world, ~3 units", function()
  local lines, dt, ok = run("say_after_sequential.lua")
  t.ok(ok, "exit status 0")
  t.same_as(lines, { "started at T", "hello", "world", "finished at T" })
  t.ok(dt >= 0.6, "took " .. dt)
  sequential = dt
end)

t.test("concurrent: hello then world, ~2 units, a unit less", function()
  local lines, dt, ok = run("say_after_concurrent.lua")
  t.ok(ok, "exit status 0")
  t.same_as(lines, { "started at T", "hello", "world", "finished at T" })
  t.ok(dt >= 0.4, "took " .. dt)
  t.ok(sequential - dt >= 0.12, "sequential " .. sequential .. " s, concurrent " .. dt .. " s")
end)

t.run()
