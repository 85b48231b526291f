-- streams.lua -- asyncio's streams (require "asyncio.streams", and the
-- names asyncio.open_connection, asyncio.start_server): TCP connections as
-- a StreamReader and a StreamWriter, ported from CPython's
-- asyncio/streams.py over the C connections of bindings/streams.c.
local asyncio = require "asyncio"
local C = require "aiolua.streams"
local async, await, Error = asyncio.async, asyncio.await, asyncio.Error
local type, tostring, setmetatable, concat = type, tostring, setmetatable, table.concat
local mtype = math.type

local M = {
  IncompleteReadError = "IncompleteReadError",
  LimitOverrunError = "LimitOverrunError",
}

local LIMIT = 64 * 1024         -- asyncio's default stream limit
local HIGH, LOW = 64 * 1024, 16 * 1024  -- drain() waits above HIGH, to LOW

-- Raises the connection's error, if it failed (or was closed).
local function check(c)
  local err = c:error()
  if err then error(err, 3) end
end

local function check_n(n, name)
  if mtype(n) ~= "integer" then
    error(Error("TypeError", name .. " must be an integer, got " .. tostring(n)), 3)
  end
end

-- ---- StreamReader ----------------------------------------------------------

local StreamReader = {}
StreamReader.__index = StreamReader
StreamReader.__name = "StreamReader"
M.StreamReader = StreamReader

local function reader(c, limit)
  return setmetatable({ _c = c, _limit = limit or LIMIT }, StreamReader)
end
M._reader = reader                -- for asyncio.subprocess's pipes

-- Waits for more bytes, or the end: returns false at EOF (nothing more
-- will come).  A failed connection raises its error.
local function fill(self)
  local c = self._c
  local n, eof, err = c:status()
  if eof then return false end
  if err and n == 0 then error(err, 3) end
  await(c:wait_data())
  n, eof, err = c:status()
  if n == 0 then
    if eof then return false end
    if err then error(err, 3) end
  end
  return true
end

-- reader:read([n]): up to n bytes (at least one unless at EOF: ""), or
-- with n < 0 (the default) everything until EOF.
StreamReader.read = async(function(self, n)
  n = n or -1
  check_n(n, "n")
  local c = self._c
  if n == 0 then return "" end
  if n < 0 then
    local parts = {}
    while true do
      local have = c:buffered()
      if have > 0 then parts[#parts + 1] = c:take(have) end
      if not fill(self) then
        have = c:buffered()
        if have > 0 then parts[#parts + 1] = c:take(have) end
        return concat(parts)
      end
    end
  end
  while c:buffered() == 0 do
    if not fill(self) then return "" end
  end
  local have = c:buffered()
  return c:take(n < have and n or have)
end, "StreamReader.read")

-- reader:readexactly(n): n bytes, or IncompleteReadError (with partial
-- and expected) at EOF before them.
StreamReader.readexactly = async(function(self, n)
  check_n(n, "n")
  if n < 0 then error(Error("ValueError", "readexactly size can not be less than zero"), 2) end
  local c = self._c
  while c:buffered() < n do
    if not fill(self) then
      local partial = c:take(c:buffered())
      error(Error("IncompleteReadError",
                  ("%d bytes read on a total of %d expected bytes"):format(#partial, n),
                  { partial = partial, expected = n }), 0)
    end
  end
  return c:take(n)
end, "StreamReader.readexactly")

-- Waits until the buffer holds sep within the limit and takes the bytes
-- up to and with it; else nil, why, n: "found" (sep ends past the limit,
-- at n), "over" (no sep in the n > limit bytes buffered) or "eof" (no sep
-- in the n bytes left).  readuntil and readline tell these apart their
-- own way; a plain function, so a line makes no coroutine object.
local function scan(self, sep)
  local c, limit = self._c, self._limit
  while true do
    local at = c:find(sep)
    if at then
      if at <= limit then return c:take(at) end
      return nil, "found", at
    end
    local n = c:buffered()
    if n > limit then return nil, "over", n end
    if not fill(self) then return nil, "eof", c:buffered() end
  end
end

local OVERRUN = {
  found = "Separator is found, but chunk is longer than limit",
  over = "Separator is not found, and chunk exceed the limit",
}

-- reader:readuntil([sep]): the bytes up to and with sep ("\n" by default);
-- IncompleteReadError at EOF (partial: what was read), LimitOverrunError
-- when the limit passes without sep (the bytes stay buffered).
StreamReader.readuntil = async(function(self, sep)
  sep = sep or "\n"
  if type(sep) ~= "string" or sep == "" then
    error(Error("ValueError", "Separator should be at least one-byte string"), 2)
  end
  local chunk, why, n = scan(self, sep)
  if chunk then return chunk end
  if why == "eof" then
    local partial = self._c:take(n)
    error(Error("IncompleteReadError",
                ("%d bytes read on a total of undefined expected bytes"):format(#partial),
                { partial = partial }), 0)
  end
  error(Error("LimitOverrunError", OVERRUN[why], { consumed = n }), 0)
end, "StreamReader.readuntil")

-- reader:readline(): a line with its "\n"; at EOF the rest ("" when none);
-- a line longer than the limit raises ValueError, as in CPython (which
-- drops the line, or all that is buffered when it has no end yet).
StreamReader.readline = async(function(self)
  local line, why, n = scan(self, "\n")
  if line then return line end
  line = self._c:take(n)                 -- the rest at EOF; else dropped
  if why == "eof" then return line end
  error(Error("ValueError", OVERRUN[why]), 0)
end, "StreamReader.readline")

-- reader:at_eof(): the peer ended and everything was read.
function StreamReader:at_eof()
  return self._c:eof() and self._c:buffered() == 0
end

-- for line in reader:lines() do ... end (in a task): each step awaits a
-- line; the loop ends at EOF (CPython's `async for line in reader`).
function StreamReader:lines()
  return function()
    local line = await(self:readline())
    if line == "" then return nil end
    return line
  end
end

function StreamReader:__tostring() return "<StreamReader>" end

-- ---- StreamWriter ----------------------------------------------------------

local StreamWriter = {}
StreamWriter.__index = StreamWriter
StreamWriter.__name = "StreamWriter"
M.StreamWriter = StreamWriter

local function writer(c) return setmetatable({ _c = c }, StreamWriter) end
M._writer = writer

-- writer:write(data): queued at once (what the socket takes goes now).
-- A connection that failed (the peer gone) raises nothing here: drain()
-- raises its error, as CPython's transport keeps a send error for it.
function StreamWriter:write(data)
  if type(data) ~= "string" then
    error(Error("TypeError", "data argument must be a string, not " .. type(data)), 2)
  end
  local c = self._c
  local ok, err = pcall(c.write, c, data)
  if not ok and (c:closing() or not c:error()) then error(err, 2) end
end

function StreamWriter:writelines(list)
  for _, data in ipairs(list) do self:write(data) end
end

-- writer:drain(): waits while too much is queued (flow control); raises
-- the connection's error.
StreamWriter.drain = async(function(self)
  local c = self._c
  local n, err = c:write_size()
  if err then error(err, 0) end
  if n > HIGH then
    await(c:wait_drain(LOW))
    check(c)
  end
end, "StreamWriter.drain")

-- writer:write_eof(): the peer reads EOF once the queue is sent.
function StreamWriter:write_eof() self._c:shutdown() end
function StreamWriter:can_write_eof() return true end

function StreamWriter:close() self._c:close() end
StreamWriter.__close = StreamWriter.close
function StreamWriter:is_closing() return self._c:closing() end

-- Each waiter has a future of its own: cancelling one leaves the others.
StreamWriter.wait_closed = async(function(self)
  local closed = self._c:wait_closed()
  if closed:done() then return end
  local mine = asyncio.Future()
  closed:add_done_callback(function() if not mine:done() then mine:set_result() end end)
  await(mine)
end, "StreamWriter.wait_closed")

-- writer:get_extra_info(name [, default]): "peername" and "sockname" as
-- {host, port}, or for a Unix socket its path (the client's end: "").
function StreamWriter:get_extra_info(name, default)
  local v
  if name == "peername" then v = self._c:address(true)
  elseif name == "sockname" then v = self._c:address(false) end
  if v == nil then return default end
  return v
end

function StreamWriter:__tostring() return "<StreamWriter>" end

-- ---- connecting and serving ------------------------------------------------

local function check_limit(opts)
  local limit = opts and opts.limit or LIMIT
  check_n(limit, "limit")
  if limit <= 0 then error(Error("ValueError", "limit must be positive"), 3) end
  return limit
end

-- open_connection(host, port [, {limit = n}]) -> reader, writer
M.open_connection = async(function(host, port, opts)
  local limit = check_limit(opts)
  local c = await(C.connect(host, port))
  c:set_limit(2 * limit)
  return reader(c, limit), writer(c)
end, "open_connection")

-- connect_read_pipe(file [, {limit = n}]) -> a StreamReader on a pipe,
-- socket or terminal (io.stdin, io.popen's file, a descriptor, anything
-- with fileno()): the StreamReader recipe over Python's
-- loop.connect_read_pipe in one call.
M.connect_read_pipe = async(function(file, opts)
  local limit = check_limit(opts)
  local c = C.open_fd(file, false)
  c:set_limit(2 * limit)
  return reader(c, limit)
end, "connect_read_pipe")

-- connect_write_pipe(file) -> a StreamWriter on it (io.stdout, io.stderr,
-- io.popen's file for writing): writes that do not block the loop, with
-- drain() for flow control.
M.connect_write_pipe = async(function(file)
  return writer(C.open_fd(file, true))
end, "connect_write_pipe")

local function check_path(path)
  if type(path) ~= "string" or path == "" then
    error(Error("TypeError", "path must be a non-empty string, got " .. tostring(path)), 3)
  end
end

-- open_unix_connection(path [, {limit = n}]) -> reader, writer
M.open_unix_connection = async(function(path, opts)
  check_path(path)
  local limit = check_limit(opts)
  local c = await(C.connect_unix(path))
  c:set_limit(2 * limit)
  return reader(c, limit), writer(c)
end, "open_unix_connection")

local Server = {}
Server.__index = Server
Server.__name = "Server"
M.Server = Server

-- Gives a failure of client_connected_cb to the loop's exception handler
-- (CPython 3.12's message and context).
local function report_handler_error(err, tb, w)
  asyncio.get_running_loop():call_exception_handler {
    message = "Unhandled exception in client_connected_cb",
    exception = err, traceback = tb, transport = w }
end

-- Hands connection c to client_connected_cb(reader, writer), which runs as
-- a task of its own, an async function or a plain one (which may await
-- too, as any function in a task): one connection never holds up the
-- accept loop.  As in CPython 3.12, the connection is closed when the
-- handler fails or is cancelled (the peer sees EOF instead of waiting
-- forever), and the failure goes to the exception handler; a handler that
-- returns leaves it open.
local function handle(limit, cb, c)
  c:set_limit(2 * limit)
  local w = writer(c)
  local t = asyncio.create_task(cb, reader(c, limit), w)
  t:add_done_callback(function()
    if t:cancelled() then return w:close() end
    local err = t:exception()
    if err ~= nil then
      report_handler_error(err, t:_traceback(), w)
      w:close()
    end
  end)
end

-- The accept loop of a server: on_conn(c) takes each connection.  One
-- that cannot be handed over (out of memory) is closed; the server goes on.
local function serve(self, on_conn)
  while not self._s:closed() do
    -- accept() settles empty when a connection comes: the next call takes it
    local ok, c = pcall(await, self._s:accept())
    if self._s:closed() then
      if ok and c then c:close() end
      break
    end
    if not ok then error(c, 0) end
    if c then
      local ok2, err = pcall(on_conn, c)
      if not ok2 then
        c:close()
        if asyncio.iserror(err, "CancelledError") then error(err, 0) end
        report_handler_error(err, nil, nil)
      end
    end
  end
end

-- A Server on listening socket s, whose accept loop already runs and
-- gives each connection to on_conn(c) (for loop:create_server too).
local function new_server(s, on_conn)
  local self = setmetatable({ _s = s }, Server)
  -- the server closes when its accept loop ends, whatever ends it (even a
  -- loop that fails before it starts, out of memory: a client would wait
  -- on the listening socket forever)
  local ok, err = pcall(function()
    self._task = asyncio.create_task(serve, self, on_conn)
    self._task:add_done_callback(function() self:close() end)
  end)
  if not ok then
    if self._task then self._task:cancel() end
    self:close()
    error(err, 0)
  end
  return self
end
M._new_server = new_server

-- The task body of client_connected_cb: itself for an async function; for
-- a plain one, a call that awaits the coroutine it may return.
local function handler(cb)
  if type(cb) ~= "function" then
    error(Error("TypeError", "client_connected_cb must be a function"), 3)
  end
  if asyncio.iscoroutinefunction(cb) then return cb end
  return function(r, w)
    local res = cb(r, w)
    if asyncio.iscoroutine(res) then return await(res) end
  end
end

-- start_server(client_connected_cb, host, port [, {limit =, backlog =}])
-- -> a Server that already serves (port 0: any free port, see
-- server:sockets()).
M.start_server = async(function(cb, host, port, opts)
  local body = handler(cb)
  local limit = check_limit(opts)
  return new_server(C.listen(host or "0.0.0.0", port or 0, opts and opts.backlog),
                    function(c) handle(limit, body, c) end)
end, "start_server")

-- start_unix_server(client_connected_cb, path [, {limit =, backlog =}]):
-- the same on a Unix socket at path (a stale socket file there is
-- replaced; closing the server removes it).
M.start_unix_server = async(function(cb, path, opts)
  local body = handler(cb)
  check_path(path)
  local limit = check_limit(opts)
  return new_server(C.listen_unix(path, opts and opts.backlog),
                    function(c) handle(limit, body, c) end)
end, "start_unix_server")

function Server:is_serving() return not self._s:closed() end

-- server:sockets(): the {host, port} it listens on (a Unix server's
-- path), in a list.
function Server:sockets()
  local a = self._s:address()
  return a and { a } or {}
end

-- server:close(): stops listening (connections already made go on).
function Server:close()
  if not self._s:closed() then self._s:close() end
end
Server.__close = Server.close

-- server:wait_closed(): awaits the end of the accept loop.
Server.wait_closed = async(function(self)
  self:close()
  pcall(await, self._task)
end, "Server.wait_closed")

-- server:serve_forever(): waits until the server is closed; cancelling it
-- closes the server.
Server.serve_forever = async(function(self)
  local guard <close> = setmetatable({}, { __close = function() self:close() end })
  await(self._task)
end, "Server.serve_forever")

function Server:__tostring()
  local a = self._s:address()
  if type(a) == "string" then return ("<Server %s>"):format(a) end
  return a and ("<Server %s:%d>"):format(a[1], a[2]) or "<Server closed>"
end

return M
