-- The tutorials' first example, sequential and concurrent in the dialect,
-- and say_after_plain.lua (the concurrent one in plain Lua): same output
-- order as Python, and a concurrent run takes the longest delay, not the
-- sum (time scaled by 0.2: 0.6 s against 0.4 s).  Start-up time varies on a
-- loaded machine, so the runs are compared with each other.
local t = require "t"
local asyncio = require "asyncio"
local aiolua = arg[-1]
local SCRIPTS = "../../scripts/"

-- Runs a script with the time scale (flags go before it, e.g. "--plain");
-- returns its lines, elapsed seconds and whether it exited with status 0.
local function run(script, flags)
  local t0 = asyncio.get_running_loop():time()
  local p = io.popen(("AIOLUA_TIME_SCALE=0.2 %s %s %s%s"):format(
    aiolua, flags or "", SCRIPTS, script))
  local out = p:read("a")
  local ok = p:close()
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l:gsub("%d%d:%d%d:%d%d", "T") end
  return lines, asyncio.get_running_loop():time() - t0, ok
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
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

t.test("plain: the concurrent run without the dialect, under --plain", function()
  local lines, dt, ok = run("say_after_plain.lua", "--plain")
  t.ok(ok, "exit status 0")
  t.same_as(lines, { "started at T", "hello", "world", "finished at T" })
  t.ok(dt >= 0.4, "took " .. dt)
  t.ok(sequential - dt >= 0.12, "sequential " .. sequential .. " s, plain " .. dt .. " s")
end)

t.test("plain has no dialect tokens, the others are in the dialect", function()
  local plain = slurp(SCRIPTS .. "say_after_plain.lua")
  local p = io.popen(aiolua .. " --translate " .. SCRIPTS .. "say_after_plain.lua")
  local translated = p:read("a")
  t.ok(p:close(), "--translate exits with status 0")
  t.ok(translated == plain, "the translation is the file itself")
  for _, name in ipairs { "say_after_sequential.lua", "say_after_concurrent.lua" } do
    local src = slurp(SCRIPTS .. name)
    t.ok(src:find("\nasync function say_after%(delay, what%)\n  await asyncio%.sleep%("),
         name .. " defines say_after with async function and await")
    t.ok(not src:find(":await()", 1, true) and not src:find("asyncio.async(", 1, true),
         name .. " does not use the plain API")
  end
end)

t.run()
