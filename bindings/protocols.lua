-- protocols.lua -- TCP and Unix transports and protocols, as CPython's
-- loop.create_connection and loop.create_server, and pipe transports
-- (loop.connect_read_pipe, connect_write_pipe) (loaded on first use by
-- those loop methods, or by asyncio.Protocol): a transport over the C
-- connections of bindings/streams.c, whose reader (a loop handle the read
-- callback queues) hands what arrives to the protocol, as CPython's
-- selector calls data_received: no task step nor future a read.
--   local transport, protocol = await loop:create_connection(
--     function() return setmetatable({}, EchoClient) end, "127.0.0.1", 8888)
local asyncio = require "asyncio"
local C = require "aiolua.streams"
local streams = require "asyncio.streams"
local Error, await = asyncio.Error, asyncio.await
local type, tostring, xpcall, setmetatable = type, tostring, xpcall, setmetatable

local M = {}

local HIGH, LOW = 64 * 1024, 16 * 1024  -- pause_writing above, resume at
local READ_LIMIT = 256 * 1024           -- the C buffer while reading is paused

-- The bases of protocols, as CPython's: every callback does nothing, and
-- eof_received's nil lets the transport close.
local BaseProtocol = { __name = "BaseProtocol" }
BaseProtocol.__index = BaseProtocol
function BaseProtocol.connection_made(_, _) end
function BaseProtocol.connection_lost(_, _) end
function BaseProtocol.pause_writing(_) end
function BaseProtocol.resume_writing(_) end
M.BaseProtocol = BaseProtocol

local Protocol = setmetatable({ __name = "Protocol" }, { __index = BaseProtocol })
Protocol.__index = Protocol
function Protocol.data_received(_, _) end
function Protocol.eof_received(_) end
M.Protocol = Protocol

-- The base of loop:subprocess_exec's protocols (subprocess.lua).
local SubprocessProtocol = setmetatable({ __name = "SubprocessProtocol" },
                                        { __index = BaseProtocol })
SubprocessProtocol.__index = SubprocessProtocol
function SubprocessProtocol.pipe_data_received(_, _, _) end
function SubprocessProtocol.pipe_connection_lost(_, _, _) end
function SubprocessProtocol.process_exited(_) end
M.SubprocessProtocol = SubprocessProtocol

local function traceback(err) return { err, debug.traceback(tostring(err), 2) } end

-- protocol:name(...) if it has it, protected: true and its result, or
-- false and {err, traceback}.
local function notify(self, name, ...)
  local p = self._protocol
  local f = p[name]
  if f == nil then return true end
  return xpcall(f, traceback, p, ...)
end

local Transport = { __name = "Transport" }
Transport.__index = Transport

local function report(self, message, e)
  self._loop:call_exception_handler {
    message = message, exception = e[1], traceback = e[2],
    transport = self, protocol = self._protocol }
end

-- connection_lost(err), once, at the next turn (as CPython calls it).
-- Closing the connection ends its reader.  A closed loop calls nothing.
local function lose(self, err)
  if self._lost then return end
  self._c:close()
  if self._loop:is_closed() then self._lost = true; return end
  self._loop:call_soon(function()        -- out of memory, not marked lost:
    local ok, e = notify(self, "connection_lost", err)  -- abort() tries
    if not ok then report(self, "Exception in callback protocol.connection_lost()", e) end
  end)                                   -- again
  self._lost = true
end

-- A protocol callback that raised: to the exception handler, and the
-- connection ends with the error (CPython's _fatal_error).
local function fatal(self, e, name)
  report(self, ("Fatal error: protocol.%s() call failed."):format(name), e)
  self._closing = true
  lose(self, e[1])
end

-- fn() once everything queued is written (or the connection failed).
local function after_flush(self, fn)
  local c = self._c
  local queued, err = c:write_size()     -- err: failed or closing
  if queued == 0 or err then return fn() end
  if not (self._drain and not self._drain:done()) then
    self._drain = c:wait_drain(0)
  end
  self._drain:add_done_callback(function() after_flush(self, fn) end)
end

-- Tells the protocol to stop writing while more than the high-water mark
-- waits (queued bytes), and to go on once the queue is down to the low one.
local function check_pause(self, queued)
  if self._wpaused or queued <= self._high then return end
  self._wpaused = true
  local ok, e = notify(self, "pause_writing")
  if not ok then report(self, "protocol.pause_writing() failed", e) end
  self._drain = self._c:wait_drain(self._low)
  self._drain:add_done_callback(function()
    self._wpaused = false
    if self._closing then return end
    local ok2, e2 = notify(self, "resume_writing")
    if not ok2 then report(self, "protocol.resume_writing() failed", e2) end
  end)
end

-- transport:write(data): queued at once (what the socket takes goes now).
function Transport:write(data)
  if type(data) ~= "string" then
    error(Error("TypeError", "data argument must be a string, not " .. type(data)), 2)
  end
  if self._eof then
    error(Error("RuntimeError", "Cannot call write() after write_eof()"), 2)
  end
  if self._closing or data == "" then return end  -- CPython drops it too
  local queued, err = self._c:send(data)
  if not queued then                     -- the connection failed (EPIPE):
    self._closing = true                 -- it is lost, as CPython's
    return lose(self, err)               -- transport takes a send error
  end
  if queued > self._high then check_pause(self, queued) end
end

function Transport:writelines(list)
  for _, data in ipairs(list) do self:write(data) end
end

-- transport:write_eof(): the peer reads EOF once the queue is sent.
function Transport:write_eof()
  if self._closing or self._eof then return end
  self._eof = true
  if self._c:shutdown() then self:close() end  -- a pipe: EOF is its close
end
function Transport:can_write_eof() return true end

-- transport:close(): reads no more; what is queued is still sent, then the
-- connection closes and connection_lost(nil) runs.
function Transport:close()
  if self._closing then return end
  self._closing = true
  after_flush(self, function() lose(self, nil) end)
end
Transport.__close = Transport.close

-- transport:abort(): closes at once; what is queued is lost.
function Transport:abort()
  self._closing = true
  self._c:abort()
  lose(self, nil)
end

-- (true too once its loop closed, which closed the connection)
function Transport:is_closing() return self._closing or self._c:closing() end
function Transport:get_protocol() return self._protocol end
function Transport:set_protocol(p) self._protocol = p end

function Transport:pause_reading()
  if not self._reading or self._closing then return end
  self._reading = false
  self._c:pause_reading(true)
end
function Transport:resume_reading()
  if self._reading or self._closing then return end
  self._reading = true
  self._c:pause_reading(false)
end
function Transport:is_reading() return self._reading and not self._closing end

function Transport:get_write_buffer_size() return (self._c:write_size()) end
function Transport:get_write_buffer_limits() return self._low, self._high end

-- transport:set_write_buffer_limits([high [, low]]): CPython's defaults
-- (64 KiB, and a quarter of high).
function Transport:set_write_buffer_limits(high, low)
  high = high or (low and 4 * low) or HIGH
  low = low or high // 4
  if math.type(high) ~= "integer" or math.type(low) ~= "integer" or
     low < 0 or high < low then
    error(Error("ValueError", ("high (%s) must be >= low (%s) must be >= 0")
                :format(tostring(high), tostring(low))), 2)
  end
  self._high, self._low = high, low
  check_pause(self, self._c:write_size())
end

-- transport:get_extra_info(name [, default]): "peername" and "sockname"
-- ({host, port}, or a Unix socket's path).
function Transport:get_extra_info(name, default)
  local v
  if not self._lost then
    if name == "peername" then v = self._c:address(true)
    elseif name == "sockname" then v = self._c:address(false) end
  end
  if v == nil then return default end
  return v
end

function Transport:__tostring()
  local a = self:get_extra_info("peername")
  if type(a) == "table" then return ("<Transport %s:%d>"):format(a[1], a[2]) end
  if a == "" then return "<Transport>" end  -- a pipe, an unnamed socket
  return a and ("<Transport %s>"):format(a) or "<Transport closed>"
end

-- The reader, run by the loop when the connection has something for it:
-- bytes to protocol:data_received(data), the end to eof_received() (which
-- keeps a half-closed connection open by returning true), a failure to
-- connection_lost(err).
local function on_readable(self)
  if self._closing or not self._reading or self._at_eof then return end
  local data, err = self._c:recv()
  if data then                           -- (notify's work, inline)
    local p = self._protocol
    local f = p.data_received
    if f == nil then return end
    local ok, e = xpcall(f, traceback, p, data)
    if not ok then return fatal(self, e, "data_received") end
  elseif data == false then              -- the end
    self._at_eof = true
    local ok, keep = notify(self, "eof_received")
    if not ok then return fatal(self, keep, "eof_received") end
    if not keep then self:close() end
  elseif err then
    self._closing = true
    lose(self, err)
  end
end

-- A transport for connection c, with protocol made by factory(): its
-- connection_made runs, then it reads (unless write_only: a pipe's write
-- end).  No task: what keeps it is its connection's reader, until the
-- connection or the loop closes.  Raises (c closed) if either fails.
local function start(loop, factory, c, write_only)
  local ok, self = pcall(function()
    local protocol = factory()
    if protocol == nil then
      error(Error("TypeError", "protocol_factory returned nil"), 0)
    end
    local self = setmetatable({ _c = c, _protocol = protocol, _loop = loop,
                                _closing = false, _reading = true,
                                _eof = false, _at_eof = false, _lost = false,
                                _wpaused = false, _drain = false,
                                _high = HIGH, _low = LOW }, Transport)
    c:set_limit(READ_LIMIT)
    local ok2, e = notify(self, "connection_made", self)
    if not ok2 then error(e[1], 0) end
    if write_only then
      self._reading = false
    elseif not self._closing then
      c:set_reader(on_readable, self)
    end
    return self
  end)
  if not ok then
    c:close()
    error(self, 0)
  end
  return self, self._protocol
end

local function check_factory(factory)
  if type(factory) ~= "function" and not (type(factory) == "table" and
                                           getmetatable(factory) and
                                           getmetatable(factory).__call) then
    error(Error("TypeError", "protocol_factory must be callable"), 3)
  end
end

M._start = start                         -- (for subprocess.lua's transports)
M._check_factory = check_factory

-- loop:create_connection(protocol_factory, host, port) -> transport,
-- protocol (an awaitable), as CPython's.
M.create_connection = asyncio.async(function(loop, factory, host, port)
  check_factory(factory)
  return start(loop, factory, await(C.connect(host, port)))
end, "create_connection")

-- loop:create_unix_connection(protocol_factory, path) -> transport, protocol
M.create_unix_connection = asyncio.async(function(loop, factory, path)
  check_factory(factory)
  return start(loop, factory, await(C.connect_unix(path)))
end, "create_unix_connection")

-- Each connection of a server gets a transport and a protocol of its own;
-- one whose factory or connection_made fails is closed, and the failure
-- goes to the exception handler (the server goes on).
local function on_conn(loop, factory)
  return function(c)
    local ok, err = pcall(start, loop, factory, c)
    if not ok then
      c:close()                          -- (start may fail before its own
      loop:call_exception_handler {      -- pcall: no memory for a closure)
        message = "Error on transport creation for incoming connection",
        exception = err }
    end
  end
end

-- loop:create_server(protocol_factory, host, port [, {backlog = n}]) ->
-- a Server that already serves (asyncio's: close, wait_closed,
-- serve_forever, sockets, <close>).
M.create_server = asyncio.async(function(loop, factory, host, port, opts)
  check_factory(factory)
  return streams._new_server(C.listen(host or "0.0.0.0", port or 0,
                                      opts and opts.backlog), on_conn(loop, factory))
end, "create_server")

-- loop:connect_read_pipe(protocol_factory, pipe) -> transport, protocol:
-- pipe (io.stdin, io.popen's file, a descriptor, anything with fileno();
-- a pipe, a socket or a terminal) read as CPython's read pipe transport
-- (data_received, eof_received, connection_lost).
M.connect_read_pipe = asyncio.async(function(loop, factory, pipe)
  check_factory(factory)
  return start(loop, factory, C.open_fd(pipe, false))
end, "connect_read_pipe")

-- loop:connect_write_pipe(protocol_factory, pipe) -> transport, protocol:
-- writes to pipe (io.stdout, io.popen's file for writing) as CPython's
-- write pipe transport (write, write_eof, close, abort, flow control); a
-- reader gone ends it with connection_lost(BrokenPipeError).
M.connect_write_pipe = asyncio.async(function(loop, factory, pipe)
  check_factory(factory)
  return start(loop, factory, C.open_fd(pipe, true), true)
end, "connect_write_pipe")

-- loop:create_unix_server(protocol_factory, path [, {backlog = n}])
M.create_unix_server = asyncio.async(function(loop, factory, path, opts)
  check_factory(factory)
  if type(path) ~= "string" or path == "" then
    error(Error("TypeError", "path must be a non-empty string, got " .. tostring(path)), 2)
  end
  return streams._new_server(C.listen_unix(path, opts and opts.backlog),
                             on_conn(loop, factory))
end, "create_unix_server")

return M
