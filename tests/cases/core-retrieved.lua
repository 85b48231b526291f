-- No false "never retrieved" / "never awaited" reports: each program below
-- retrieves its errors (or awaits its coroutines) in one of the ways
-- Python counts, and must leave stderr free of both reports.
local cli = dofile("core/cli.lua")

local programs = {
  { "awaited failed task", [[
    local t = asyncio.create_task(function() error("e") end)
    pcall(t.await, t) ]] },
  { "task:exception()", [[
    local t = asyncio.create_task(function() error("e") end)
    asyncio.sleep(0):await(); t:exception() ]] },
  { "task:result() raising", [[
    local t = asyncio.create_task(function() error("e") end)
    asyncio.sleep(0):await(); pcall(t.result, t) ]] },
  { "gather: the second failure too", [[
    local a = asyncio.create_task(function() error("a") end)
    local b = asyncio.create_task(function() asyncio.sleep(0.01):await(); error("b") end)
    pcall(asyncio.await, asyncio.gather(a, b)); asyncio.sleep(0.02):await() ]] },
  { "gather return_exceptions", [[
    asyncio.gather{ asyncio.create_task(function() error("a") end), return_exceptions = true }:await() ]] },
  { "TaskGroup failures", [[
    pcall(asyncio.await, asyncio.TaskGroup(function(tg)
      tg:create_task(function() error("a") end)
      tg:create_task(function() error("b") end) end)) ]] },
  { "wait then exception()", [[
    local t = asyncio.create_task(function() error("e") end)
    local done = asyncio.wait({ t }):await(); done[1]:exception() ]] },
  { "shield of a failing task", [[
    local t = asyncio.create_task(function() error("e") end)
    pcall(asyncio.await, asyncio.shield(t)) ]] },
  { "cancelled task never awaited", [[
    local t = asyncio.create_task(function() asyncio.sleep(1):await() end)
    asyncio.sleep(0):await(); t:cancel(); asyncio.sleep(0):await() ]] },
  { "leftover task cancelled by run", [[
    asyncio.create_task(function() asyncio.sleep(1):await() end) ]] },
  { "future exception() read", [[
    local f = asyncio.Future(); f:set_exception("x"); f:exception() ]] },
  { "coroutines awaited, tasked or closed", [[
    local c = asyncio.async(function() end)
    c():await(); asyncio.create_task(c()):await(); c():close() ]] },
  { "wait_for timeout", [[
    pcall(asyncio.await, asyncio.wait_for(asyncio.sleep(1), 0.001)) ]] },
}

for _, p in ipairs(programs) do
  local src = "asyncio.run(function()\n" .. p[2] .. "\nend)\ncollectgarbage() collectgarbage()\nprint('ok')\n"
  local out, err, code = cli.run({ "-" }, src)
  local bad = err:find("never retrieved", 1, true) or err:find("never awaited", 1, true)
  print(string.format("%-40s %s %s %s", p[1], out:gsub("\n", ""), code,
                      bad and ("REPORTED:\n" .. err) or "clean"))
end
