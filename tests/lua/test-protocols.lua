-- test-protocols.lua -- loop:create_connection / create_server and their
-- Unix forms, with asyncio.Protocol: the order of the callbacks, EOF and
-- half-closed connections, close() that flushes and abort() that does not,
-- flow control both ways (pause_writing/resume_writing, pause_reading),
-- failures of protocol callbacks and factories, pipe transports, the end
-- of asyncio.run, and CPython's errors.
local asyncio = require "asyncio"
local t = require "t"

-- A protocol class that logs its callbacks into `log` and runs the hooks
-- given in `h` (h.data(self, data), h.eof(self) -> keep open, ...).
local function recorder(log, h)
  h = h or {}
  local P = setmetatable({}, { __index = asyncio.Protocol })
  P.__index = P
  function P:connection_made(tr)
    self.tr = tr
    log[#log + 1] = "made"
    if h.made then h.made(self, tr) end
  end
  function P:data_received(data)
    self.got = (self.got or "") .. data
    if log[#log] ~= "data" then log[#log + 1] = "data" end
    if h.data then h.data(self, data) end
  end
  function P:eof_received()
    log[#log + 1] = "eof"
    if h.eof then return h.eof(self) end
  end
  function P:connection_lost(exc)
    log[#log + 1] = exc == nil and "lost" or "lost:" .. tostring(exc)
    if h.lost then h.lost(self, exc) end
  end
  function P:pause_writing() log[#log + 1] = "pause"; if h.pause then h.pause(self) end end
  function P:resume_writing() log[#log + 1] = "resume"; if h.resume then h.resume(self) end end
  return function() return setmetatable({}, P) end
end

local until_ = t.until_

local function port_of(server) return server:sockets()[1][2] end

t.test("echo: made, data, eof, lost in order on both sides", function()
  local loop = asyncio.get_running_loop()
  local slog, clog = {}, {}
  local server <close> = loop:create_server(recorder(slog, {
    data = function(self, d) self.tr:write(d:upper()) end,
  }), "127.0.0.1", 0):await()
  local done = loop:create_future()
  local tr, proto = loop:create_connection(recorder(clog, {
    made = function(_, tr) tr:write("hello") end,
    data = function(self) if self.got == "HELLO" then self.tr:close() end end,
    lost = function() done:set_result(true) end,
  }), "127.0.0.1", port_of(server)):await()
  t.eq(getmetatable(tr).__name, "Transport")
  t.eq(proto.tr, tr, "connection_made got the transport")
  asyncio.wait_for(done, 5):await()
  t.eq(proto.got, "HELLO")
  t.same_as(clog, { "made", "data", "lost" })
  t.ok(until_(function() return slog[#slog] == "lost" end), "the server's side ends")
  t.same_as(slog, { "made", "data", "eof", "lost" })
  t.ok(tr:is_closing())
end)

t.test("eof_received returning true keeps a half-closed connection open", function()
  local loop = asyncio.get_running_loop()
  local slog, clog = {}, {}
  local server <close> = loop:create_server(recorder(slog, {
    eof = function(self)
      asyncio.get_running_loop():call_later(0.02, function()
        self.tr:write("late reply to " .. self.got)
        self.tr:close()
      end)
      return true
    end,
  }), "127.0.0.1", 0):await()
  local done = loop:create_future()
  local _, proto = loop:create_connection(recorder(clog, {
    made = function(_, tr) tr:write("question"); tr:write_eof() end,
    lost = function() done:set_result(true) end,    -- eof: nil, it closes
  }), "127.0.0.1", port_of(server)):await()
  asyncio.wait_for(done, 5):await()
  t.eq(proto.got, "late reply to question")
  t.same_as(clog, { "made", "data", "eof", "lost" })
  t.ok(until_(function() return slog[#slog] == "lost" end))
end)

t.test("close() sends what is queued first; abort() does not wait", function()
  local loop = asyncio.get_running_loop()
  local big = string.rep("0123456789abcdef", 256 * 1024)   -- 4 MiB
  local server <close> = loop:create_server(recorder({}, {
    made = function(_, tr) tr:write(big); tr:close() end,
  }), "127.0.0.1", 0):await()
  local done = loop:create_future()
  local _, proto = loop:create_connection(recorder({}, {
    lost = function() done:set_result(true) end,
  }), "127.0.0.1", port_of(server)):await()
  asyncio.wait_for(done, 10):await()
  t.eq(#(proto.got or ""), #big, "every byte arrived")

  local lost = loop:create_future()
  local tr = loop:create_connection(recorder({}, {
    lost = function(_, exc) lost:set_result(exc == nil) end,
  }), "127.0.0.1", port_of(server)):await()
  tr:write(big)
  tr:abort()
  t.ok(tr:is_closing())
  t.eq(asyncio.wait_for(lost, 5):await(), true, "connection_lost(nil)")
  tr:write("ignored")                    -- after close: dropped, as in CPython
end)

t.test("flow control: pause_writing above the high-water mark, resume_writing below", function()
  local loop = asyncio.get_running_loop()
  local slog, server_tr = {}, nil
  local resumed = loop:create_future()
  local server <close> = loop:create_server(recorder(slog, {
    made = function(_, tr) server_tr = tr end,
    resume = function() resumed:set_result(true) end,
  }), "127.0.0.1", 0):await()
  local ctr, cproto = loop:create_connection(recorder({}), "127.0.0.1",
                                             port_of(server)):await()
  ctr:pause_reading()
  t.eq(ctr:is_reading(), false)
  t.ok(until_(function() return server_tr ~= nil end))
  local chunk = string.rep("x", 64 * 1024)
  for _ = 1, 64 do server_tr:write(chunk) end   -- 4 MiB to a reader that waits
  t.ok(until_(function() return slog[#slog] == "pause" end), "pause_writing")
  t.ok(server_tr:get_write_buffer_size() > 64 * 1024, "the queue is above the mark")
  asyncio.sleep(0.05):await()
  t.eq(cproto.got == nil or #cproto.got < 4 * 1024 * 1024, true, "not all delivered while paused")
  ctr:resume_reading()
  t.eq(ctr:is_reading(), true)
  asyncio.wait_for(resumed, 10):await()
  t.ok(until_(function() return cproto.got and #cproto.got == 64 * #chunk end), "all of it")
  t.same_as(slog, { "made", "pause", "resume" })
  t.eq(server_tr:get_write_buffer_size(), 0)
  local low, high = server_tr:get_write_buffer_limits()
  t.eq(high, 64 * 1024); t.eq(low, 16 * 1024)
  server_tr:set_write_buffer_limits(1000)
  t.same_as({ server_tr:get_write_buffer_limits() }, { 250, 1000 })
  t.raises("ValueError", server_tr.set_write_buffer_limits, server_tr, 10, 20)
  ctr:close()
  server_tr:close()
end)

t.test("resume_reading then close in one turn; pause and resume again", function()
  local loop = asyncio.get_running_loop()
  local server <close> = loop:create_server(recorder({}), "127.0.0.1", 0):await()
  local lost = loop:create_future()
  local tr = loop:create_connection(recorder({}, {
    lost = function() lost:set_result(true) end,
  }), "127.0.0.1", port_of(server)):await()
  tr:pause_reading()
  asyncio.sleep(0.01):await()            -- the reader parks
  tr:resume_reading()
  tr:pause_reading()
  tr:resume_reading()
  tr:close()                             -- before the reader woke
  t.eq(asyncio.wait_for(lost, 5):await(), true)
  t.eq(tr:is_reading(), false, "a closing transport reads no more")
end)

t.test("a protocol callback that raises: the exception handler, then connection_lost(err)", function()
  local loop = asyncio.get_running_loop()
  local seen = {}
  loop:set_exception_handler(function(_, ctx) seen[#seen + 1] = ctx end)
  local lost = loop:create_future()
  local server <close> = loop:create_server(recorder({}, {
    data = function() error("bad data") end,
    lost = function(_, exc) lost:set_result(exc) end,
  }), "127.0.0.1", 0):await()
  local ctr = loop:create_connection(recorder({}), "127.0.0.1", port_of(server)):await()
  ctr:write("x")
  local exc = asyncio.wait_for(lost, 5):await()
  loop:set_exception_handler(nil)
  t.ok(tostring(exc):find("bad data"), "connection_lost got the error")
  t.eq(#seen, 1)
  t.eq(seen[1].message, "Fatal error: protocol.data_received() call failed.")
  t.ok(seen[1].transport and seen[1].protocol, "with the transport and protocol")
  ctr:close()
end)

t.test("writing to a peer that is gone: no error from write, connection_lost(err)", function()
  local loop = asyncio.get_running_loop()
  local server <close> = loop:create_server(recorder({}, {
    made = function(_, tr) tr:abort() end,
  }), "127.0.0.1", 0):await()
  local log, lost = {}, loop:create_future()
  local tr = loop:create_connection(recorder(log, {
    eof = function() return true end,    -- half-open: go on writing
    lost = function(_, exc) lost:set_result(exc) end,
  }), "127.0.0.1", port_of(server)):await()
  for _ = 1, 200 do
    tr:write(string.rep("x", 64 * 1024))  -- never raises
    if lost:done() then break end
    asyncio.sleep(0.01):await()
  end
  local exc = asyncio.wait_for(lost, 5):await()
  t.ok(asyncio.iserror(exc, "BrokenPipeError") or asyncio.iserror(exc, "ConnectionResetError"),
       tostring(exc))
  t.eq(log[#log], "lost:" .. tostring(exc))
  tr:write("after")                      -- dropped
  t.ok(tr:is_closing())
end)

t.test("a server's factory that fails: the exception handler; the server goes on", function()
  local loop = asyncio.get_running_loop()
  local seen, n = {}, 0
  loop:set_exception_handler(function(_, ctx) seen[#seen + 1] = ctx end)
  local good = recorder({})
  local server <close> = loop:create_server(function()
    n = n + 1
    if n == 1 then error("no protocol for you") end
    return good()
  end, "127.0.0.1", 0):await()
  local lost = loop:create_future()
  loop:create_connection(recorder({}, {
    lost = function() lost:set_result(true) end,
  }), "127.0.0.1", port_of(server)):await()
  asyncio.wait_for(lost, 5):await()      -- the first connection is closed
  local tr = loop:create_connection(recorder({}), "127.0.0.1", port_of(server)):await()
  t.ok(until_(function() return n == 2 end), "the second is served")
  loop:set_exception_handler(nil)
  t.eq(seen[1].message, "Error on transport creation for incoming connection")
  t.ok(tostring(seen[1].exception):find("no protocol for you"))
  tr:close()
end)

t.test("Unix sockets: create_unix_server and create_unix_connection", function()
  local loop = asyncio.get_running_loop()
  local path = os.tmpname()
  os.remove(path)
  local server <close> = loop:create_unix_server(recorder({}, {
    data = function(self, d) self.tr:write("echo:" .. d); self.tr:close() end,
  }), path):await()
  local done = loop:create_future()
  local tr, proto = loop:create_unix_connection(recorder({}, {
    made = function(_, tr) tr:write("hi") end,
    lost = function() done:set_result(true) end,
  }), path):await()
  t.eq(tr:get_extra_info("peername"), path)
  asyncio.wait_for(done, 5):await()
  t.eq(proto.got, "echo:hi")
end)

t.test("get_extra_info, tostring, the base protocols", function()
  local loop = asyncio.get_running_loop()
  local server <close> = loop:create_server(recorder({}), "127.0.0.1", 0):await()
  local tr = loop:create_connection(function()
    return setmetatable({}, asyncio.Protocol)
  end, "127.0.0.1", port_of(server)):await()
  t.same_as(tr:get_extra_info("peername"), { "127.0.0.1", port_of(server) })
  t.eq(tr:get_extra_info("sockname")[1], "127.0.0.1")
  t.eq(tr:get_extra_info("nothing", 7), 7)
  t.ok(tostring(tr):find("^<Transport 127.0.0.1:%d+>$"), tostring(tr))
  t.eq(tr:can_write_eof(), true)
  t.eq(getmetatable(tr:get_protocol()), asyncio.Protocol)
  t.eq(asyncio.Protocol.eof_received({}), nil)
  t.eq(type(asyncio.BaseProtocol.pause_writing), "function")
  tr:close()
  t.eq(tr:get_extra_info("peername", "gone"), "gone", "once lost")
end)

t.test("pipe transports: connect_read_pipe and connect_write_pipe", function()
  local loop = asyncio.get_running_loop()
  local rlog, lost = {}, loop:create_future()
  local f = io.popen("printf 'hello\\nworld'")
  local tr, proto = loop:connect_read_pipe(recorder(rlog, {
    lost = function(_, exc) lost:set_result(exc == nil) end,
  }), f):await()
  t.eq(proto.tr, tr)
  t.eq(asyncio.wait_for(lost, 5):await(), true, "connection_lost(nil)")
  t.eq(proto.got, "hello\nworld")
  t.same_as(rlog, { "made", "data", "eof", "lost" })
  f:close()
  -- the write end: what a child reads; close() sends what is queued first
  local out = os.tmpname()
  local g = io.popen("cat > " .. out, "w")
  local wlost = loop:create_future()
  local wtr = loop:connect_write_pipe(recorder({}, {
    lost = function(_, exc) wlost:set_result(exc == nil) end,
  }), g):await()
  t.eq(wtr:is_reading(), false, "a write pipe reads nothing")
  wtr:write(string.rep("x", 200000))
  wtr:write("end\n")
  wtr:close()
  t.eq(asyncio.wait_for(wlost, 5):await(), true)
  g:close()                              -- cat ends: both copies closed
  local fh = io.open(out)
  t.eq(#fh:read("a"), 200004, "all of it")
  fh:close()
  os.remove(out)
  -- a reader gone: the write fails, connection_lost(BrokenPipeError)
  local h = io.popen("true", "w")
  asyncio.sleep(0.05):await()
  local blost = loop:create_future()
  local btr = loop:connect_write_pipe(recorder({}, {
    lost = function(_, exc) blost:set_result(exc) end,
  }), h):await()
  btr:write("anyone?")
  local exc = asyncio.wait_for(blost, 5):await()
  t.ok(asyncio.iserror(exc, "BrokenPipeError"), tostring(exc))
  h:close()
  -- CPython's errors
  local regname = os.tmpname()
  local reg = io.open(regname, "w")
  t.raises("Pipe transport is only for pipes", asyncio.await,
           loop:connect_read_pipe(recorder({}), reg))
  reg:close()
  os.remove(regname)
  t.raises("TypeError", asyncio.await, loop:connect_read_pipe(42, io.stdin))
  t.raises("Invalid file object", asyncio.await, loop:connect_write_pipe(recorder({}), "stdout"))
end)

t.test("asyncio's names: the loop methods of a module loaded on demand stay the loop's", function()
  t.ok(asyncio.Protocol, "loads asyncio.protocols")
  t.eq(rawget(asyncio, "create_connection"), nil)
  t.eq(rawget(asyncio, "create_server"), nil)
  t.eq(rawget(asyncio, "create_datagram_endpoint"), asyncio.DatagramProtocol and nil)
  t.eq(rawget(asyncio, "getaddrinfo"), asyncio.socket and nil)
  t.eq(rawget(asyncio, "_reader"), asyncio.StreamReader and nil)
  -- asyncio.connect_read_pipe is the streams' (a StreamReader), not the loop's
  t.eq(asyncio.connect_read_pipe, require("asyncio.streams").connect_read_pipe)
  t.eq(asyncio.Server, require("asyncio.streams").Server)
end)

-- Sockets this process has open (Linux's /proc).
local PID = io.open("/proc/self/stat"):read("l"):match("^%d+")
local function sockets()
  local n, p = 0, io.popen("ls -l /proc/" .. PID .. "/fd")
  for line in p:lines() do if line:find("socket:", 1, true) then n = n + 1 end end
  p:close()
  return n
end

local left = {}
t.test("no task a transport; the end of asyncio.run closes those left open", function()
  local loop = asyncio.get_running_loop()
  left.sockets = sockets()
  local slog = {}
  local server = loop:create_server(recorder(slog), "127.0.0.1", 0):await()
  local tasks = #asyncio.all_tasks()     -- (the server's accept loop is one)
  left.tr, left.proto = loop:create_connection(recorder({}), "127.0.0.1",
                                               port_of(server)):await()
  t.ok(until_(function() return slog[1] == "made" end))
  t.eq(#asyncio.all_tasks(), tasks, "reading takes no task")
  left.tr:write("ping")
  t.ok(until_(function() return slog[2] == "data" end))
  server:close()                         -- its two transports stay open
end)
t.test("(checked in the next run)", function()
  t.eq(left.tr:is_closing(), true, "closed with its loop")
  t.eq(left.tr:get_extra_info("peername"), nil)
  left.tr:write("dropped")               -- no error, as after close()
  t.ok(until_(function() return sockets() == left.sockets end),
       "every socket of the last run closed")
  t.eq(left.proto.got, nil, "nothing came")
end)

t.test("bad arguments: CPython's errors", function()
  local loop = asyncio.get_running_loop()
  t.raises("protocol_factory must be callable",
           function() loop:create_connection(42, "127.0.0.1", 1):await() end)
  t.raises("protocol_factory must be callable",
           function() loop:create_server(nil, "127.0.0.1", 0):await() end)
  local e = t.raises("OSError", function()
    loop:create_connection(recorder({}), "127.0.0.1", 1):await()
  end)
  t.ok(asyncio.iserror(e, "ConnectionRefusedError"), tostring(e))
  local server <close> = loop:create_server(recorder({}), "127.0.0.1", 0):await()
  t.raises("protocol_factory returned nil", function()
    loop:create_connection(function() return nil end, "127.0.0.1", port_of(server)):await()
  end)
  local tr = loop:create_connection(recorder({}), "127.0.0.1", port_of(server)):await()
  t.raises("TypeError", tr.write, tr, 42)
  tr:write_eof()
  t.raises("Cannot call write%(%) after write_eof%(%)", tr.write, tr, "x")
  tr:close()
  t.raises("TypeError",
           function() loop:create_unix_server(recorder({}), ""):await() end)
end)

t.run()
