-- test-signals.lua -- loop:add_signal_handler / remove_signal_handler and
-- asyncio.signal, with signals sent to this process by kill(1): a callback
-- per signal, replacing a handler, removal, the loop's close, and
-- CPython's errors for bad signals and callbacks.  (What the aiolua
-- binary's Ctrl-C does around them: tests/sigint_test.py.)
local asyncio = require "asyncio"
local t = require "t"

local signal = asyncio.signal
local pid = io.open("/proc/self/stat"):read("l"):match("^%d+")

-- (the shell's own kill: /bin/kill comes with procps, which a minimal
-- Debian lacks)
local function kill(name)
  local p = asyncio.create_subprocess_shell("kill -" .. name:sub(4) .. " " .. pid):await()
  t.eq(p:wait():await(), 0, "kill -" .. name)
end

local until_ = t.until_

t.test("asyncio.signal has the signal numbers", function()
  t.eq(signal.SIGINT, 2)
  t.eq(signal.SIGKILL, 9)
  t.eq(signal.SIGTERM, 15)
  t.eq(type(signal.SIGUSR1), "number")
  t.eq(type(signal.SIGCHLD), "number")
end)

t.test("a callback with its arguments for each signal, run by the loop", function()
  local loop = asyncio.get_running_loop()
  local got = {}
  loop:add_signal_handler(signal.SIGUSR1, function(a, b)
    got[#got + 1] = a .. b
    t.ok(asyncio.current_task() == nil, "a callback, not a task")
  end, "x", "y")
  kill("SIGUSR1")
  t.ok(until_(function() return #got == 1 end), "the first")
  kill("SIGUSR1")
  t.ok(until_(function() return #got == 2 end), "the second")
  t.same_as(got, { "xy", "xy" })
  t.eq(loop:remove_signal_handler(signal.SIGUSR1), true)
  t.eq(loop:remove_signal_handler(signal.SIGUSR1), false, "nothing left to remove")
end)

t.test("the graceful-shutdown idiom: a signal sets a future main awaits", function()
  local loop = asyncio.get_running_loop()
  local stop = loop:create_future()
  loop:add_signal_handler("SIGUSR2", stop.set_result, stop, "usr2")
  asyncio.create_task(kill, "SIGUSR2")
  -- nothing else can complete stop: the handler keeps the loop waiting
  t.eq(asyncio.wait_for(stop, 2):await(), "usr2")
  loop:remove_signal_handler("SIGUSR2")
end)

t.test("a new handler replaces the old; removal by name", function()
  local loop = asyncio.get_running_loop()
  local log = {}
  loop:add_signal_handler("SIGUSR1", function() log[#log + 1] = "old" end)
  loop:add_signal_handler("SIGUSR1", function() log[#log + 1] = "new" end)
  kill("SIGUSR1")
  t.ok(until_(function() return #log == 1 end))
  asyncio.sleep(0.02):await()
  t.same_as(log, { "new" })
  t.eq(loop:remove_signal_handler("SIGUSR1"), true)
end)

t.test("an error in the callback goes to the exception handler; the handler stays", function()
  local loop = asyncio.get_running_loop()
  local ctxs, n = {}, 0
  loop:set_exception_handler(function(_, ctx) ctxs[#ctxs + 1] = ctx end)
  loop:add_signal_handler("SIGUSR1", function() n = n + 1; error("bad handler") end)
  kill("SIGUSR1")
  t.ok(until_(function() return #ctxs == 1 end))
  kill("SIGUSR1")
  t.ok(until_(function() return #ctxs == 2 end), "it still runs")
  t.eq(ctxs[1].message, "Exception in callback")
  t.ok(tostring(ctxs[1].exception):find("bad handler", 1, true))
  t.ok(ctxs[1].handle ~= nil, "with its handle")
  loop:remove_signal_handler("SIGUSR1")
  loop:set_exception_handler(nil)
end)

t.test("bad signals and callbacks: CPython's errors", function()
  local loop = asyncio.get_running_loop()
  local f = function() end
  t.raises("sig 9 cannot be caught", loop.add_signal_handler, loop, signal.SIGKILL, f)
  t.raises("sig 19 cannot be caught", loop.add_signal_handler, loop, signal.SIGSTOP, f)
  t.raises("ValueError: invalid signal number 0", loop.add_signal_handler, loop, 0, f)
  t.raises("ValueError: invalid signal number 4096", loop.add_signal_handler, loop, 4096, f)
  t.raises("ValueError: unknown signal name 'SIGNOPE'", loop.add_signal_handler, loop, "SIGNOPE", f)
  t.raises("TypeError: sig must be an int, not number", loop.add_signal_handler, loop, 1.5, f)
  t.raises("TypeError: sig must be an int, not table", loop.remove_signal_handler, loop, {})
  t.raises("coroutines cannot be used", loop.add_signal_handler, loop, "SIGUSR1",
           asyncio.async(function() end))
  t.raises("coroutines cannot be used", loop.add_signal_handler, loop, "SIGUSR1",
           asyncio.sleep(0))
  t.raises("TypeError: a function was expected, got no value", loop.add_signal_handler, loop, "SIGUSR1")
  t.eq(loop:remove_signal_handler("SIGUSR1"), false, "none was added")
end)

t.test("a loop's handlers go when it closes; a closed loop takes none", function()
  local loop = asyncio.new_event_loop()
  local n = 0
  loop:add_signal_handler("SIGUSR1", function() n = n + 1 end)
  loop:close()
  t.raises("Event loop is closed", loop.add_signal_handler, loop, "SIGUSR1", print)
  t.eq(loop:remove_signal_handler("SIGUSR1"), false, "removed by close")
  -- while this loop's handler takes SIGUSR1, the closed one saw nothing
  local mine = 0
  asyncio.get_running_loop():add_signal_handler("SIGUSR1", function() mine = mine + 1 end)
  kill("SIGUSR1")
  t.ok(until_(function() return mine == 1 end))
  t.eq(n, 0)
  asyncio.get_running_loop():remove_signal_handler("SIGUSR1")
end)

t.run()
