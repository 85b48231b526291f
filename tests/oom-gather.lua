-- oom-gather.lua -- out of memory at every allocation of a gather call in
-- turn (tests/c/memlimit.c's fail_after): gather raises "not enough
-- memory", and leaves no mark on its futures (the mark that tells a
-- repeated argument), so a later gather of the same futures waits for
-- every one of them.  Usage: aiolua oom-gather.lua DIR_OF_MEMLIMIT_SO
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local ml = require "memlimit"
ml.install()

local N = 40
print(asyncio.run(function()
  local futs = {}
  for i = 1, N do
    futs[i] = asyncio.Future()
    futs[i]:add_done_callback(function() end)  -- gather's makes a list
  end
  local raised, n = 0, 0
  while true do                      -- fail the 1st, 2nd, ... allocation
    collectgarbage()
    ml.fail_after(n)
    local ok, err = pcall(asyncio.gather, futs)   -- the list form: no unpack
    ml.fail(false)
    if ok then break end
    assert(tostring(err):find("not enough memory", 1, true), tostring(err))
    raised, n = raised + 1, n + 1
  end
  -- a gather of the same futures completes only with the last of them
  local g = asyncio.gather(table.unpack(futs, 1, N))
  for i = 1, N do
    assert(not g:done(), "gather done before future " .. i)
    futs[i]:set_result(i)
    asyncio.sleep(0):await()
  end
  local r = asyncio.wait_for(g, 1):await()
  assert(#r == N and r[N] == N)
  return ("gathered %d after %d failed calls"):format(#r, raised)
end))
