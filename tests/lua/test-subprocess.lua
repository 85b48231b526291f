-- test-subprocess.lua -- asyncio.create_subprocess_exec and _shell: pipes
-- as streams, communicate, exit statuses and signals, env and cwd, and
-- the errors CPython raises.
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

t.run()
