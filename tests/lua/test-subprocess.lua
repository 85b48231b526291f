-- test-subprocess.lua -- asyncio.create_subprocess_exec and _shell: pipes
-- as streams, communicate, exit statuses and signals, env and cwd, and
-- the errors CPython raises; loop:subprocess_exec and _shell with
-- SubprocessProtocol.
local asyncio = require "asyncio"
local t = require "t"

local PIPE, DEVNULL, STDOUT = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL,
                              asyncio.subprocess.STDOUT
local exec, shell = asyncio.create_subprocess_exec, asyncio.create_subprocess_shell

t.test("shell: stdout and stderr pipes, the exit status", function()
  local p = shell("echo hello; echo oops >&2; exit 3", { stdout = PIPE, stderr = PIPE }):await()
  t.eq(type(p.pid), "number")
  local out, err = p:communicate():await()
  t.eq(out, "hello\n")
  t.eq(err, "oops\n")
  t.eq(p.returncode, 3)
  t.eq(p:wait():await(), 3, "wait again: the same")
end)

t.test("exec: arguments reach the program as they are", function()
  local p = exec("printf", "%s|", "a b", "$HOME", "'q'", "", 7, { stdout = PIPE }):await()
  t.eq(p:communicate():await(), "a b|$HOME|'q'||7|")
  t.eq(p.returncode, 0)
end)

t.test("stdin: communicate(input) through cat, 1 MiB each way", function()
  local input = string.rep("0123456789abcdef", 65536)
  local p = exec("cat", { stdin = PIPE, stdout = PIPE }):await()
  local out, err = p:communicate(input):await()
  t.eq(#out, #input)
  t.ok(out == input, "the same bytes")
  t.eq(err, nil, "stderr is no pipe")
  t.eq(p.returncode, 0)
end)

t.test("stderr = STDOUT, DEVNULL, env, cwd", function()
  local p = shell("echo out; echo err >&2", { stdout = PIPE, stderr = STDOUT }):await()
  local out = p:communicate():await()
  t.eq(out, "out\nerr\n")
  p = shell("echo gone", { stdout = DEVNULL }):await()
  t.eq(p.stdout, nil)
  t.eq(p:wait():await(), 0)
  p = shell('printf "%s %s" "$FOO" "$(pwd)"', {
    stdout = PIPE, cwd = "/", env = { FOO = "bar", PATH = os.getenv("PATH") } }):await()
  t.eq(p:communicate():await(), "bar /")
end)

t.test("reading lines as the child writes them", function()
  local p = shell("echo a; sleep 0.05; echo b", { stdout = PIPE }):await()
  t.eq(p.stdout:readline():await(), "a\n")
  t.eq(p.returncode, nil, "still running")
  t.eq(p.stdout:readline():await(), "b\n")
  t.eq(p.stdout:readline():await(), "")
  t.eq(p:wait():await(), 0)
end)

t.test("terminate, kill, send_signal; returncode -signal", function()
  local p = exec("sleep", "10"):await()
  p:terminate()
  t.eq(p:wait():await(), -15)
  p = exec("sleep", "10"):await()
  p:kill()
  t.eq(p:wait():await(), -9)
  t.raises("ProcessLookupError", p.send_signal, p, 15)
  -- two tasks wait on one child; a cancelled waiter leaves it running
  p = exec("sleep", "10"):await()
  local w1 = asyncio.create_task(function() return p:wait():await() end)
  local w2 = asyncio.create_task(function() return p:wait():await() end)
  asyncio.sleep(0.01):await()
  w1:cancel()
  t.raises("CancelledError", asyncio.await, w1)
  t.eq(p.returncode, nil)
  p:kill()
  t.eq(w2:await(), -9)
end)

t.test("errors: a missing program, bad options", function()
  local e = t.raises("OSError", asyncio.await, exec("no-such-program-aiolua"))
  t.ok(asyncio.iserror(e, "FileNotFoundError"), tostring(e))
  t.eq(e.code, "ENOENT")
  t.raises("stdout must be PIPE", asyncio.await, exec("true", { stdout = "file" }))
  t.raises("only stderr can go to stdout", asyncio.await, exec("true", { stdout = STDOUT }))
  t.raises("TypeError", asyncio.await, exec(42))
  t.raises("TypeError", asyncio.await, shell("true", { env = "x" }))
  t.raises("input must be a string", function()
    local p = exec("true", { stdin = PIPE }):await()
    return p:communicate(5):await()
  end)
end)

t.test("a child dropped without waiting does not hold the loop", function()
  local t0 = asyncio.get_running_loop():time()
  -- (its stdio elsewhere: an inherited stdout would keep the test's pipe
  -- open until it exits)
  do exec("sleep", "2", { stdout = DEVNULL, stderr = DEVNULL }):await() end
  -- one with a waiter that was cancelled: its record goes with it, and the
  -- future it waited on must not point into it (use after free, ASan)
  do
    local p = exec("sleep", "2", { stdout = DEVNULL, stderr = DEVNULL }):await()
    local w = asyncio.create_task(function() return p:wait():await() end)
    asyncio.sleep(0.01):await()
    w:cancel()
    t.raises("CancelledError", asyncio.await, w)
  end
  for _ = 1, 3 do collectgarbage() end
  asyncio.sleep(0.01):await()
  t.ok(asyncio.get_running_loop():time() - t0 < 2)
end)

t.test("writing to the stdin of a child that exited raises BrokenPipeError", function()
  local sp = asyncio.subprocess
  local p = asyncio.create_subprocess_exec("true", { stdin = sp.PIPE }):await()
  t.eq(p:wait():await(), 0)
  local ok, err
  for _ = 1, 20 do
    ok, err = pcall(function()
      p.stdin:write(("x"):rep(65536))
      p.stdin:drain():await()
    end)
    if not ok then break end
  end
  t.eq(ok, false)
  t.ok(asyncio.iserror(err, "BrokenPipeError"), tostring(err))
  p.stdin:close()
end)

-- A SubprocessProtocol that logs its callbacks (pipe data joined per fd).
local function sub_recorder(log, done)
  local P = setmetatable({}, { __index = asyncio.SubprocessProtocol })
  P.__index = P
  function P:connection_made(tr) self.tr = tr; log[#log + 1] = "made" end
  function P:pipe_data_received(fd, data)
    self.out = self.out or {}
    self.out[fd] = (self.out[fd] or "") .. data
    if log[#log] ~= "data" .. fd then log[#log + 1] = "data" .. fd end
  end
  function P:pipe_connection_lost(fd, exc) log[#log + 1] = "pipe_lost" .. fd .. (exc and ":err" or "") end
  function P:process_exited() log[#log + 1] = "exited" end
  function P:connection_lost(exc) log[#log + 1] = "lost"; done:set_result(exc) end
  return function() return setmetatable({}, P) end
end

t.test("stdin:write_eof(): a pipe's end is its close, after what is queued", function()
  local p = exec("wc", "-c", { stdin = PIPE, stdout = PIPE }):await()
  p.stdin:write(string.rep("x", 300000))
  p.stdin:write_eof()
  t.eq(p.stdout:read():await():match("%d+"), "300000")
  t.eq(p:wait():await(), 0)
end)

t.test("loop:subprocess_exec: CPython's get-date example, the order of callbacks", function()
  local loop = asyncio.get_running_loop()
  local log, done = {}, loop:create_future()
  local tr, proto = loop:subprocess_exec(sub_recorder(log, done), "printf", "2026-12-03",
                                         { stdin = false, stderr = false }):await()
  t.eq(getmetatable(tr).__name, "SubprocessTransport")
  t.eq(proto.tr, tr, "connection_made got the transport")
  t.eq(type(tr:get_pid()), "number")
  t.eq(tr:get_pipe_transport(0), nil, "stdin inherited: no pipe")
  t.ok(tr:get_pipe_transport(1), "stdout is a pipe")
  t.eq(asyncio.wait_for(done, 5):await(), nil, "connection_lost(nil)")
  t.eq(proto.out[1], "2026-12-03")
  t.eq(tr:get_returncode(), 0)
  t.eq(log[1], "made", "connection_made first")
  t.eq(log[#log], "lost", "connection_lost last")
  local seen = {}
  for _, e in ipairs(log) do seen[e] = true end
  t.ok(seen.data1 and seen.pipe_lost1 and seen.exited, table.concat(log, " "))
  t.raises("ProcessLookupError", tr.kill, tr)
  tr:close()
  t.eq(tr:is_closing(), true)
end)

t.test("loop:subprocess_shell: stdin, stdout and stderr pipes (PIPE unless told)", function()
  local loop = asyncio.get_running_loop()
  local log, done = {}, loop:create_future()
  local tr, proto = loop:subprocess_shell(sub_recorder(log, done),
                                          "cat; echo bye >&2; exit 4"):await()
  local stdin = tr:get_pipe_transport(0)
  stdin:write(string.rep("x", 100000))
  stdin:write_eof()
  asyncio.wait_for(done, 5):await()
  t.eq(#proto.out[1], 100000, "all of stdin came back")
  t.eq(proto.out[2], "bye\n")
  t.eq(tr:get_returncode(), 4)
  local seen = {}
  for _, e in ipairs(log) do seen[e] = true end
  t.ok(seen.pipe_lost0 and seen.pipe_lost1 and seen.pipe_lost2, table.concat(log, " "))
  tr:close()
end)

t.test("loop:subprocess_exec: close() kills a child that runs; stdin closes with the child", function()
  local loop = asyncio.get_running_loop()
  local log, done = {}, loop:create_future()
  local tr = loop:subprocess_exec(sub_recorder(log, done), "sleep", "10"):await()
  tr:close()
  asyncio.wait_for(done, 5):await()
  t.eq(tr:get_returncode(), -9, "SIGKILL")
  t.ok(table.concat(log, " "):find("pipe_lost0", 1, true), "stdin's pipe lost too")
  -- a child that exits without reading its stdin: connection_lost all the same
  local log2, done2 = {}, loop:create_future()
  local tr2 = loop:subprocess_exec(sub_recorder(log2, done2), "true"):await()
  asyncio.wait_for(done2, 5):await()
  t.eq(tr2:get_returncode(), 0)
  tr2:close()
  -- errors: a factory that raises spawns nothing; bad arguments
  local pid_file = os.tmpname()
  t.raises("boom", asyncio.await, loop:subprocess_exec(function() error("boom", 0) end,
                                                        "sh", "-c", "echo $$ > " .. pid_file))
  asyncio.sleep(0.05):await()
  local fh = io.open(pid_file)
  t.eq(fh:read("a"), "", "the child was never spawned")
  fh:close()
  os.remove(pid_file)
  t.raises("protocol_factory must be callable", asyncio.await,
           loop:subprocess_exec(42, "true"))
  t.raises("protocol_factory must be callable", asyncio.await,
           loop:subprocess_shell({}, "true"))
  t.raises("protocol_factory returned nil", asyncio.await,
           loop:subprocess_exec(function() end, "true"))
  t.raises("program must be a string", asyncio.await, loop:subprocess_exec(sub_recorder({}, done), 42))
  t.raises("ValueError", asyncio.await, loop:subprocess_exec(sub_recorder({}, done), "true",
                                                             { stdout = "nope" }))
  t.raises("cmd must be a string", asyncio.await, loop:subprocess_shell(sub_recorder({}, done)))
end)

local left = {}
t.test("loop:subprocess_exec left running at the end of asyncio.run", function()
  local loop = asyncio.get_running_loop()
  left.log = {}
  left.tr = loop:subprocess_exec(sub_recorder(left.log, loop:create_future()),
                                 "sleep", "0.05"):await()
end)
t.test("(checked in the next run: its protocol is not called again)", function()
  asyncio.sleep(0.2):await()
  t.eq(left.tr:get_returncode(), 0, "the child ran to its end")
  t.same_as(left.log, { "made" })
  left.tr:close()
end)

t.run()
