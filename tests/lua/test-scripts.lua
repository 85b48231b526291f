-- test-scripts.lua -- the tutorial ports in scripts/: each runs in a child
-- aiolua with its delays scaled down (AIOLUA_TIME_SCALE), and its output
-- order, exit status and wall time are checked.
local t = require "t"
local S = require "scriptrun"

local SCALE = 0.1
local SLACK = 1.0 -- seconds allowed over the expected time (slow CI, ASan)

local function check(script, want_lines, seconds, opts)
  opts = opts or {}
  local scale = opts.scale or SCALE
  local r = S.run(script, opts.args, { env = { AIOLUA_TIME_SCALE = scale } })
  if r.status ~= 0 then
    error(("%s exited with %s\nstdout:\n%s\nstderr:\n%s"):format(
      script, tostring(r.status), r.out, r.err), 2)
  end
  local got = S.lines(r.out)
  if type(want_lines) == "function" then want_lines(got)
  else t.same_as(got, want_lines, script .. " output") end
  local want = seconds * scale
  if r.elapsed < want * 0.95 or r.elapsed > want + SLACK then
    error(("%s took %.3f s, expected %.3f s"):format(script, r.elapsed, want), 2)
  end
  return r
end

t.test("echo_server: CPython's TCP echo client and server", function()
  check("echo_server.lua", { "Serving on 127.0.0.1", 'Send: "Hello World!"',
    'Received "Hello World!" from 127.0.0.1', 'Send: "Hello World!"',
    "Close the connection", 'Received: "Hello World!"', "Close the connection" }, 0)
end)

t.test("udp_echo: CPython's UDP echo client and server", function()
  check("udp_echo.lua", { "Starting UDP server", "Send:\tHello World!",
    'Received "Hello World!" from 127.0.0.1', 'Send "Hello World!" to 127.0.0.1',
    "Received:\tHello World!", "Close the socket", "Connection closed" }, 0)
end)

t.test("subprocess_date: CPython's subprocess_exec and SubprocessProtocol example", function()
  check("subprocess_date.lua", function(got)
    t.eq(#got, 1, table.concat(got, "\n"))
    t.ok(got[1]:find("^Current date: %d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$"), got[1])
  end, 0)
end)

t.test("tcp_echo_protocol: CPython's TCP echo client and server, as protocols", function()
  check("tcp_echo_protocol.lua", function(got)
    -- the two sides run at once: each side's lines in its order
    local server, client = {}, {}
    for _, l in ipairs(got) do
      if l:find("^Data sent") or l:find("^The server") or
         (l:find("^Data received") and #server >= 3) then
        client[#client + 1] = l
      else
        server[#server + 1] = l
      end
    end
    t.same_as(server, { "Connection from 127.0.0.1", 'Data received: "Hello World!"',
      'Send: "Hello World!"', "Close the client socket" })
    t.same_as(client, { 'Data sent: "Hello World!"', 'Data received: "Hello World!"',
      "The server closed the connection" })
  end, 0)
end)

t.test("fd_reader: CPython's add_reader example, on a pipe", function()
  check("fd_reader.lua", { "Received: abc", "Done: abc" }, 0.5, { scale = 1 })
end)

t.test("coroutine_66: a coroutine's result through asyncio.run", function()
  check("coroutine_66.lua", { "My coroutine", "66" }, 0)
end)

t.test("hello_sequential: awaited in turn, 5 s", function()
  check("hello_sequential.lua", { "500", "Hello!" }, 5)
end)

t.test("hello_tasks: as tasks, the quick one prints first, 3 s", function()
  check("hello_tasks.lua", { "500", "Hello there" }, 3)
end)

t.test("cancel_task: CancelledError inside the task and at its await", function()
  check("cancel_task.lua", {
    "started", "cancelling after 1 s", "say_hello_eventually cancelled",
    "main: the task was cancelled (true)",
  }, 1)
end)

t.test("wait_for_timeout: the slow one is cancelled after 1 s", function()
  check("wait_for_timeout.lua", {
    "Hello! (quick)", "say_hello_eventually(10) was cancelled",
    "TimeoutError after 1 s",
  }, 1.5)
end)

t.test("future_later: a future resolved by another task", function()
  check("future_later.lua", {
    "done: false", "waiting", "done: true", "result: 42",
    "error: ValueError: no answer",
  }, 1.5)
end)

t.test("event_loop: new_event_loop, run_until_complete, close", function()
  check("event_loop.lua", { "Running main", "Done" }, 2)
end)

t.test("slow_gather: gather takes one slow(), sequential five", function()
  check("slow_gather.lua", function(lines)
    t.eq(#lines, 2, "two lines")
    local g = tonumber(lines[1]:match("^gather: {0, 1, 2, 3, 4} in ([%d.]+) s$"))
    local s = tonumber(lines[2]:match("^sequential: {0, 1, 2, 3, 4} in ([%d.]+) s$"))
    t.ok(g and s, "format: " .. table.concat(lines, " | "))
    t.ok(g >= 2.9 and g < 4, "gather in about 3 s: " .. g)
    t.ok(s >= 14.9 and s < 17, "sequential in about 15 s: " .. s)
  end, 18, { scale = 0.05 })
end)

t.test("barrier: wait_for(gather(...)) without and with a timeout", function()
  check("barrier.lua", {
    "foo done", "bar done", "all done: foo, bar",
    "foo done", "bar cancelled", "TimeoutError: both stopped",
  }, 3.5)
end)

t.run()
