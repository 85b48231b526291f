-- oom-lib.lua -- the loop of the out-of-memory sweeps (tests/oom-sweep.lua,
-- tests/http/oom.lua), loaded with dofile:
--   sweep(ml, scenarios, canary, limit [, only [, once]]) -> scenarios run
-- runs asyncio.run(scenario) with the n-th growing allocation failing
-- (memlimit's fail_after), n = 0, 1, ... until it succeeds; after each
-- failure canary() must return true (the runtime is sound).  With `once`
-- only the n-th allocation fails (memlimit's fail_once: a transient
-- shortage), and n goes on until no allocation failed in the run.  An
-- error of the runtime's own code ("attempt to ...": an invariant broken
-- by an allocation that failed half-way) raises, wherever it comes out.
-- Prints a line a scenario; raises on a broken runtime, on a task left
-- alive once the canary ran (its asyncio.run cancels what an earlier run
-- left), or when `limit` tries were not enough.
-- To debug: OOM_FROM=n starts at n, OOM_TRACE=1 prints each n and outcome
-- (gdb's `break memlimit.c:41` with `bt` then shows where it failed).
local trace = os.getenv("OOM_TRACE")
-- OOM_PAD=n keeps n bytes alive: it moves the collector's cycles, so the
-- same sweep fails its allocations in other states (core/oom-once-pad).
debug.getregistry().oom_pad = string.rep("x", tonumber(os.getenv("OOM_PAD")) or 0)

-- Arms the failure inside the pcall: a call made outside it (pcall's own)
-- may grow the stack, and that allocation must not be the one that fails.
local function run_failing(ml, n, scenario, once)
  if once then ml.fail_once(n) else ml.fail_after(n) end
  return asyncio.run(scenario)
end

return function(ml, scenarios, canary, limit, only, once)
  local names, count = {}, 0
  for k in pairs(scenarios) do names[#names + 1] = k end
  table.sort(names)
  for _, name in ipairs(names) do
    if not only or only == name then
      local n = tonumber(os.getenv("OOM_FROM") or 0)
      while true do
        collectgarbage()
        local failures = ml.failures()
        if trace then io.stderr:write("n=", n, "\n") end
        local ok, err = pcall(run_failing, ml, n, scenarios[name], once)
        ml.fail(false)
        if trace then io.stderr:write("run: ", tostring(ok), " ", tostring(err), "\n") end
        if not ok and tostring(err):find("attempt to ", 1, true) then
          error(("%s: failing allocation %d broke the runtime: %s")
                :format(name, n, tostring(err)))
        end
        if once and ml.failures() == failures then break end
        if ok and not once then break end
        n = n + 1
        if n > limit then
          error(("%s: no success after %d failures"):format(name, limit))
        end
        local ok2, r = pcall(canary)
        if not ok2 or r ~= true then
          error(("%s: the runtime is broken after failing allocation %d (%s): %s")
                :format(name, n - 1, tostring(err), tostring(r)))
        end
        local alive = asyncio.all_tasks()
        if #alive > 0 then
          error(("%s: failing allocation %d left %d tasks alive: %s")
                :format(name, n - 1, #alive, tostring(alive[1])))
        end
      end
      print(name, "ok after " .. n .. " failures")
      count = count + 1
    end
  end
  return count
end
