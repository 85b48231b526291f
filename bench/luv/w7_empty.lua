-- w7_empty.lua -- W7 on Lua 5.4 + luv: load luv and the scheduler, run an
-- empty main task.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local s = require "sched"
s.run(function() end)
