-- test-streams.lua -- asyncio.open_connection and asyncio.start_server
-- over TCP on 127.0.0.1: CPython's echo example, every read method and
-- its errors, flow control with drain, EOF, cancellation, closing, and
-- connections that are dropped without being closed.
local asyncio = require "asyncio"
local t = require "t"

local sleep, create_task = asyncio.sleep, asyncio.create_task

-- A server whose handler is fn(reader, writer) (an async function); its
-- port.
local function serve(fn, opts)
  local server = asyncio.start_server(asyncio.async(fn), "127.0.0.1", 0, opts):await()
  return server, server:sockets()[1][2]
end

local function connect(port, opts)
  return asyncio.open_connection("127.0.0.1", port, opts):await()
end

t.test("a plain-function handler may await: each connection has a task of its own", function()
  local started = 0
  local server <close> = asyncio.start_server(function(reader, writer)
    started = started + 1
    t.ok(asyncio.current_task() ~= nil, "in a task")
    local line = reader:readline():await()  -- a plain function that awaits
    writer:write(line:upper())
    writer:drain():await()
    writer:close()
  end, "127.0.0.1", 0):await()
  local port = server:sockets()[1][2]
  local r1, w1 = connect(port)           -- the first says nothing yet:
  local r2, w2 = connect(port)           -- the second is served meanwhile
  w2:write("second\n")
  t.eq(asyncio.wait_for(r2:readline(), 5):await(), "SECOND\n")
  t.eq(started, 2)
  w1:write("first\n")
  t.eq(r1:readline():await(), "FIRST\n")
  w1:close(); w2:close()
  -- a plain function that returns a coroutine object: it is awaited
  local s2 <close> = asyncio.start_server(function(reader, writer)
    return asyncio.async(function()
      writer:write("from the coroutine\n")
      writer:close()
    end)()
  end, "127.0.0.1", 0):await()
  local r3 = connect(s2:sockets()[1][2])
  t.eq(r3:readline():await(), "from the coroutine\n")
end)

t.test("the echo example of CPython's docs", function()
  local server, port = serve(function(reader, writer)
    local data = reader:read(100):await()
    t.log("server got " .. data)
    writer:write(data)
    writer:drain():await()
    writer:close()
    writer:wait_closed():await()
  end)
  t.ok(server:is_serving())
  local reader, writer = connect(port)
  writer:write("Hello World!")
  writer:drain():await()
  t.eq(reader:read(100):await(), "Hello World!")
  t.eq(reader:read(100):await(), "", "then EOF")
  t.ok(reader:at_eof())
  writer:close()
  writer:wait_closed():await()
  t.ok(writer:is_closing())
  server:close()
  server:wait_closed():await()
  t.eq(server:is_serving(), false)
  t.same_as(t.events(), { "server got Hello World!" })
end)

t.test("readline, readuntil, readexactly, read(-1), at_eof, lines", function()
  local server, port = serve(function(_, writer)
    writer:write("one\ntwo\r\nthree|four|")
    writer:write("exactly-12..rest")
    writer:write_eof()
    writer:drain():await()
  end)
  local reader, writer = connect(port)
  t.eq(reader:readline():await(), "one\n")
  t.eq(reader:readuntil("\r\n"):await(), "two\r\n")
  t.eq(reader:readuntil("|"):await(), "three|")
  t.eq(reader:readuntil("|"):await(), "four|")
  t.eq(reader:readexactly(12):await(), "exactly-12..")
  t.eq(reader:at_eof(), false)
  t.eq(reader:read():await(), "rest", "read() reads to EOF")
  t.eq(reader:readline():await(), "", "a line at EOF is empty")
  t.ok(reader:at_eof())
  writer:close()
  server:close()
  -- lines(): each step awaits a line
  server, port = serve(function(_, w)
    w:write("a\nb\nc")
    w:close()
  end)
  reader, writer = connect(port)
  local got = {}
  for line in reader:lines() do got[#got + 1] = line end
  t.same_as(got, { "a\n", "b\n", "c" })
  writer:close()
  server:close()
end)

t.test("IncompleteReadError, LimitOverrunError, a line over the limit", function()
  local server, port = serve(function(_, writer)
    writer:write("short")
    writer:close()
  end)
  local reader, writer = connect(port)
  local e = t.raises("IncompleteReadError", asyncio.await, reader:readexactly(10))
  t.eq(e.partial, "short")
  t.eq(e.expected, 10)
  t.ok(asyncio.iserror(e, "EOFError"), "an EOFError, as in CPython")
  writer:close()
  server:close()
  server, port = serve(function(_, w)
    w:write(string.rep("x", 100) .. "\nnext\n")
    w:close()
  end)
  reader, writer = connect(port, { limit = 50 })
  e = t.raises("LimitOverrunError", asyncio.await, reader:readuntil("\n"))
  t.ok(e.consumed > 50)
  t.raises("ValueError", asyncio.await, reader:readline())
  t.eq(reader:readline():await(), "next\n", "the long line was dropped")
  writer:close()
  server:close()
  t.raises("Separator should be", function() return reader:readuntil(""):await() end)
  t.raises("TypeError", function() return reader:read("x"):await() end)
  t.raises("less than zero", function() return reader:readexactly(-1):await() end)
end)

t.test("4 MiB each way with drain: flow control, nothing lost", function()
  local chunk = string.rep("0123456789abcdef", 4096)   -- 64 KiB
  local server, port = serve(function(reader, writer)
    local total = 0
    while true do
      local data = reader:read(65536):await()
      if data == "" then break end
      total = total + #data
      writer:write(data)                                 -- echo it
      writer:drain():await()
    end
    writer:write_eof()
    writer:drain():await()
    t.log(total)
  end)
  local reader, writer = connect(port)
  local received = create_task(function() return #reader:read():await() end)
  for _ = 1, 64 do
    writer:write(chunk)
    writer:drain():await()
  end
  writer:write_eof()
  t.eq(received:await(), 64 * #chunk)
  t.same_as(t.events(), { 64 * #chunk })
  writer:close()
  server:close()
end)

t.test("connect errors: refused (ConnectionRefusedError), a bad port", function()
  local server, port = serve(function() end)
  server:close()
  server:wait_closed():await()
  local e = t.raises("OSError", asyncio.await, asyncio.open_connection("127.0.0.1", port))
  t.eq(e.code, "ECONNREFUSED")
  t.ok(asyncio.iserror(e, "ConnectionRefusedError"), tostring(e))
  t.raises("port out of range", function()
    return asyncio.open_connection("127.0.0.1", 70000):await()
  end)
  -- localhost resolves
  server, port = serve(function(_, w) w:write("hi"); w:close() end)
  local r, w = asyncio.open_connection("localhost", port):await()
  t.eq(r:read():await(), "hi")
  w:close()
  server:close()
end)

t.test("a port in use; serve_forever; a plain function as the handler", function()
  local server, port = serve(function() end)
  local e = t.raises("OSError", asyncio.await, asyncio.start_server(print, "127.0.0.1", port))
  t.eq(e.code, "EADDRINUSE")
  server:close()
  -- a plain function is called as it is, for each connection
  local plain = asyncio.start_server(function(_, w) w:write("plain"); w:close() end,
                                     "127.0.0.1", 0):await()
  local forever = create_task(function() plain:serve_forever():await() end)
  local r, w = connect(plain:sockets()[1][2])
  t.eq(r:read():await(), "plain")
  w:close()
  forever:cancel()
  t.raises("CancelledError", asyncio.await, forever)
  t.eq(plain:is_serving(), false, "cancelling serve_forever closed it")
  t.raises("TypeError", function() return asyncio.start_server(42, "127.0.0.1", 0):await() end)
end)

t.test("two readers at once; a cancelled read; wait_for on a read", function()
  local go = asyncio.Event()
  local server, port = serve(function(_, writer)
    go:wait():await()
    writer:write("late\n")
    writer:drain():await()
    sleep(0.05):await()
    writer:close()
  end)
  local reader, writer = connect(port)
  local first = create_task(function() return reader:readline():await() end)
  sleep(0):await()
  t.raises("already waiting", asyncio.await, reader:read(1))
  first:cancel()
  t.raises("CancelledError", asyncio.await, first)
  t.raises("TimeoutError", asyncio.await, asyncio.wait_for(reader:readline(), 0.01))
  go:set()
  t.eq(reader:readline():await(), "late\n", "the reader still works")
  writer:close()
  server:close()
end)

t.test("writing to a closed writer; extra info; <close>", function()
  local server, port = serve(function(_, w) w:close() end)
  do
    local reader, writer <close> = connect(port)
    local peer = writer:get_extra_info("peername")
    t.eq(peer[1], "127.0.0.1")
    t.eq(peer[2], port)
    t.eq(writer:get_extra_info("sockname")[1], "127.0.0.1")
    t.eq(writer:get_extra_info("nothing", "dflt"), "dflt")
    t.eq(reader:read():await(), "")
  end
  local _, writer = connect(port)
  writer:close()
  t.raises("closing", writer.write, writer, "x")
  t.raises("TypeError", writer.write, writer, 5)
  t.eq(writer:get_extra_info("peername"), nil, "closed: no address")
  server:close()
end)

t.test("connections dropped without closing are closed by the collector", function()
  local server, port = serve(function(reader)
    reader:read():await()                               -- until EOF
    t.log("server saw EOF")
  end)
  do local _, _ = connect(port) end                     -- dropped at once
  for _ = 1, 3 do collectgarbage() end
  sleep(0.05):await()
  t.same_as(t.events(), { "server saw EOF" })
  server:close()
  -- and a server dropped without closing stops listening
  do serve(function() end) end
  for _ = 1, 3 do collectgarbage() end
end)

t.test("a handler that fails: its connection closes, the server goes on", function()
  local loop = asyncio.get_running_loop()
  local contexts = {}
  loop:set_exception_handler(function(_, ctx) contexts[#contexts + 1] = ctx end)
  local calls = 0
  local server, port = serve(function(reader, writer)
    calls = calls + 1
    local line = reader:readline():await()
    if line == "boom\n" then error("handler failed") end
    if line == "cancel\n" then asyncio.current_task():cancel() sleep(1):await() end
    writer:write("ok " .. line)
    writer:close()
  end)
  for _, what in ipairs { "boom", "cancel", "fine" } do
    local reader, writer = connect(port)
    writer:write(what .. "\n")
    -- the peer sees EOF at once, as with CPython 3.12 (not a hang)
    local got = asyncio.wait_for(reader:read(), 2):await()
    t.log(what .. ": " .. (got == "" and "EOF" or got))
    writer:close()
  end
  t.same_as(t.events(), { "boom: EOF", "cancel: EOF", "fine: ok fine\n" })
  t.eq(calls, 3, "the server served all three")
  t.eq(#contexts, 1, "the failure went to the exception handler")
  t.eq(contexts[1].message, "Unhandled exception in client_connected_cb")
  t.ok(tostring(contexts[1].exception):find("handler failed", 1, true))
  t.ok(contexts[1].traceback:find("test-streams.lua", 1, true), "with its traceback")
  t.ok(contexts[1].transport, "and the writer")
  server:close()
  loop:set_exception_handler(nil)
end)

t.test("a plain (not async) handler that raises", function()
  local loop = asyncio.get_running_loop()
  local contexts = {}
  loop:set_exception_handler(function(_, ctx) contexts[#contexts + 1] = ctx end)
  local server = asyncio.start_server(function(r, w)
    if #contexts == 0 then error("sync failure") end
    w:write("second")
    w:close()
  end, "127.0.0.1", 0):await()
  local port = server:sockets()[1][2]
  local reader, writer = connect(port)
  t.eq(asyncio.wait_for(reader:read(), 2):await(), "", "closed")
  writer:close()
  t.eq(#contexts, 1)
  t.ok(tostring(contexts[1].exception):find("sync failure", 1, true))
  t.ok(contexts[1].traceback:find("test-streams.lua", 1, true))
  reader, writer = connect(port)
  t.eq(asyncio.wait_for(reader:read(), 2):await(), "second", "still serving")
  writer:close()
  server:close()
  loop:set_exception_handler(nil)
end)

t.test("the server closes when its accept loop ends", function()
  local server = serve(function() end)
  t.ok(server:is_serving())
  server._task:cancel()                -- as if it died (out of memory)
  sleep(0):await()
  sleep(0):await()
  t.ok(not server:is_serving(), "closed with it")
end)

-- (io.open cannot tell: a socket file does not open)
local function exists(path) return os.execute("test -e '" .. path .. "'") == true end

t.test("Unix sockets: start_unix_server, open_unix_connection", function()
  local dir = os.tmpname()
  os.remove(dir)
  local path = dir .. ".sock"
  local server = asyncio.start_unix_server(asyncio.async(function(reader, writer)
    local line = reader:readline():await()
    t.eq(writer:get_extra_info("sockname"), path)
    t.eq(writer:get_extra_info("peername"), "", "an unnamed client")
    writer:write("echo " .. line)
    writer:drain():await()
    writer:close()
  end), path):await()
  t.same_as(server:sockets(), { path })
  t.ok(exists(path), "the socket file")
  t.eq(tostring(server), "<Server " .. path .. ">")
  for i = 1, 2 do
    local reader, writer = asyncio.open_unix_connection(path):await()
    t.eq(writer:get_extra_info("peername"), path)
    writer:write("line " .. i .. "\n")
    t.eq(reader:read():await(), "echo line " .. i .. "\n")
    t.eq(reader:read():await(), "", "EOF")
    writer:close()
  end
  -- a connect cancelled before it completes: closed, nothing leaks
  local task = create_task(function() asyncio.open_unix_connection(path):await() end)
  sleep(0):await()
  task:cancel()
  t.raises("CancelledError", asyncio.await, task)
  server:close()
  server:wait_closed():await()
  t.eq(exists(path), false, "closing the server removed its socket file")
  local ok, err = pcall(asyncio.await, asyncio.open_unix_connection(path))
  t.ok(not ok and asyncio.iserror(err, "FileNotFoundError"), tostring(err))
end)

t.test("Unix sockets: a stale socket file is replaced; bad paths", function()
  local path = os.tmpname() .. ".sock"
  -- a socket file whose server is gone (a process that died)
  t.eq(os.execute("python3 -c 'import socket, sys; "
                  .. "socket.socket(socket.AF_UNIX).bind(sys.argv[1])' " .. path), true)
  t.ok(exists(path), "the stale socket file")
  local s2 = asyncio.start_unix_server(function(_, w) w:write("s2"); w:close() end, path):await()
  local reader, writer = asyncio.open_unix_connection(path):await()
  t.eq(reader:read():await(), "s2")
  writer:close()
  s2:close()
  t.eq(exists(path), false)
  -- a file that is not a socket is left alone
  local plain = os.tmpname()
  t.raises("address already in use", asyncio.await,
           asyncio.start_unix_server(print, plain))
  t.ok(exists(plain), "still there")
  os.remove(plain)
  t.raises("name too long", asyncio.await, asyncio.open_unix_connection(("x"):rep(200)))
  t.raises("name too long", asyncio.await, asyncio.start_unix_server(print, ("x"):rep(200)))
  t.raises("TypeError: path must be a non", asyncio.await, asyncio.open_unix_connection(""))
  t.raises("TypeError: path must be a non", asyncio.await, asyncio.start_unix_server(print, 5))
  t.raises("client_connected_cb must be a function", asyncio.await,
           asyncio.start_unix_server(5, path))
end)

t.test("writing to a peer that has gone: drain() raises a ConnectionError (no SIGPIPE death)", function()
  local server, port = serve(function(_, writer) writer:close() end)
  local _, writer = connect(port)
  sleep(0.05):await()                  -- the peer has closed its end
  local ok, err
  for _ = 1, 50 do                     -- the first write may still go
    writer:write(("x"):rep(65536))     -- only queues: never raises
    ok, err = pcall(asyncio.await, writer:drain())
    if not ok then break end
    sleep(0.005):await()
  end
  t.eq(ok, false, "a write failed")
  t.ok(asyncio.iserror(err, "ConnectionError"), tostring(err))
  writer:write("more")                 -- still no error from write
  local again = t.raises(nil, asyncio.await, writer:drain())
  t.ok(asyncio.iserror(again, "ConnectionError"), tostring(again))
  writer:close()
  server:close()
end)

t.test("close() sends what is queued first, as CPython's transport.close()", function()
  local got, done = 0, asyncio.Future()
  local server = asyncio.start_server(function(r)
    while true do
      local d = r:read(65536):await()
      if d == "" then break end
      got = got + #d
    end
    done:set_result(true)
  end, "127.0.0.1", 0):await()
  local _, w = asyncio.open_connection("127.0.0.1", server:sockets()[1][2]):await()
  w:write(string.rep("x", 8 * 1024 * 1024))  -- far more than the socket takes
  w:close()
  t.eq(w:is_closing(), true)
  w:wait_closed():await()
  asyncio.wait_for(done, 10):await()
  t.eq(got, 8 * 1024 * 1024, "all of it")
  server:close()
end)

t.test("connect_read_pipe / connect_write_pipe: this process's stdin and stdout", function()
  local BIN = require("scriptrun").BIN
  local sp = asyncio.subprocess
  -- a child that echoes its stdin's lines as they come, while its loop runs
  local code = [[
    asyncio.run(async function()
      local reader = await asyncio.connect_read_pipe(io.stdin)
      local out = await asyncio.connect_write_pipe(io.stdout)
      local ticks = 0
      local ticker = asyncio.create_task(async function()
        while true do await asyncio.sleep(0.005); ticks = ticks + 1 end
      end)
      for line in reader:lines() do
        out:write("got " .. line)
        await out:drain()
      end
      ticker:cancel()
      out:write(ticks > 2 and "the loop ran\n" or "the loop stalled\n")
      await out:drain()
    end)]]
  local p = asyncio.create_subprocess_exec(BIN, "-e", code,
    { stdin = sp.PIPE, stdout = sp.PIPE }):await()
  p.stdin:write("one\n")
  t.eq(p.stdout:readline():await(), "got one\n", "answered before stdin ended")
  sleep(0.03):await()
  p.stdin:write("two\n")
  t.eq(p.stdout:readline():await(), "got two\n")
  p.stdin:close()
  t.eq(p.stdout:read():await(), "the loop ran\n")
  t.eq(p:wait():await(), 0)
  -- /dev/null is neither a pipe, a socket nor a terminal
  p = asyncio.create_subprocess_exec(BIN, "-e",
    "asyncio.run(function() asyncio.connect_read_pipe(io.stdin):await() end)",
    { stdin = sp.DEVNULL, stderr = sp.PIPE }):await()
  local err = p.stderr:read():await()
  t.ok(err:find("Pipe transport is only for pipes", 1, true), err)
  t.eq(p:wait():await(), 1)
  t.raises("Invalid file object: stdin", asyncio.await, asyncio.connect_read_pipe("stdin"))
  t.raises("Invalid file object: 1.5", asyncio.await, asyncio.connect_write_pipe(1.5))
  t.raises("Invalid file descriptor: %-1", asyncio.await, asyncio.connect_read_pipe(-1))
  local closed = io.popen("true")
  closed:close()
  t.raises("I/O operation on closed file", asyncio.await, asyncio.connect_read_pipe(closed))
end)

t.test("connect_read_pipe of io.popen's file, or anything with fileno()", function()
  local f = io.popen("printf 'a\\nb\\n'")
  local reader = asyncio.connect_read_pipe(f):await()
  t.eq(reader:readline():await(), "a\n")
  t.eq(reader:read():await(), "b\n")
  f:close()
  local sp = asyncio.subprocess
  local p = asyncio.create_subprocess_exec(require("scriptrun").BIN, "-e", [[
    asyncio.run(function()
      local r = asyncio.connect_read_pipe({ fileno = function() return 0 end }):await()
      io.write("read ", r:read():await())
    end)]], { stdin = sp.PIPE, stdout = sp.PIPE }):await()
  p.stdin:write("c")
  p.stdin:close()
  t.eq(p.stdout:read():await(), "read c")
  t.eq(p:wait():await(), 0)
end)

t.run()
