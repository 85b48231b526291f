-- The state a script starts in.  Start-up loads the built-in modules with
-- the collector stopped and collects once at the end (runtime.c,
-- init_protected): a script must find it running, in incremental mode.
local running_at_start = collectgarbage("isrunning")
local t = require "t"

t.test("the collector is running when the script starts", function()
  t.eq(running_at_start, true)
end)

t.test("it collects on its own, with no explicit collect", function()
  local weak = setmetatable({}, { __mode = "k" })
  weak[{}] = true
  for i = 1, 200000 do local _ = { i } end   -- ~11 MB of garbage
  t.eq(next(weak), nil)
end)

t.test("it is incremental (generational re-traverses parked tasks)", function()
  t.eq(collectgarbage("incremental"), "incremental")
end)

t.run()
