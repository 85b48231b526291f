-- datagram.lua -- UDP as CPython's loop.create_datagram_endpoint (loaded on
-- first use by loop:create_datagram_endpoint or asyncio.DatagramProtocol):
-- a DatagramTransport over the C endpoint of bindings/datagram.c, whose
-- reader (a loop handle the receive callback queues) hands each datagram
-- to the protocol, as CPython's selector calls datagram_received.
--   local transport, protocol = await loop:create_datagram_endpoint(
--     function() return setmetatable({}, EchoProtocol) end,
--     { local_addr = {"127.0.0.1", 9999} })
local asyncio = require "asyncio"
local C = require "aiolua.datagram"
local Error = asyncio.Error
local type, tostring, pcall, setmetatable = type, tostring, pcall, setmetatable

local M = {}

-- The base of protocols, as CPython's asyncio.DatagramProtocol: every
-- callback does nothing.
local DatagramProtocol = { __name = "DatagramProtocol" }
DatagramProtocol.__index = DatagramProtocol
function DatagramProtocol.connection_made(_, _) end
function DatagramProtocol.datagram_received(_, _, _) end
function DatagramProtocol.error_received(_, _) end
function DatagramProtocol.connection_lost(_, _) end
M.DatagramProtocol = DatagramProtocol

-- Calls protocol:name(...) if the protocol has it.
local function notify(protocol, name, ...)
  local f = protocol[name]
  if f ~= nil then return f(protocol, ...) end
end

local Transport = { __name = "DatagramTransport" }
Transport.__index = Transport

local function check_addr(addr, what, level)
  if type(addr) ~= "table" or type(addr[1]) ~= "string" or
     math.type(addr[2]) ~= "integer" then
    error(Error("TypeError", what .. " must be a {host, port} table, got " ..
                tostring(addr)), level + 1)
  end
end

-- transport:sendto(data [, {host, port}]): the datagram goes at once (or
-- is queued by libuv); a connected transport takes no address, or its
-- remote one.
function Transport:sendto(data, addr)
  if type(data) ~= "string" then
    error(Error("TypeError", "data argument must be a string, not " .. type(data)), 2)
  end
  if self:is_closing() then return end  -- CPython drops it, with a warning
  if addr == nil then return self._ep:send(data) end
  check_addr(addr, "addr", 2)
  local peer = self._peer
  if peer then                       -- connected: the kernel has the address
    if addr[1] ~= peer[1] or addr[2] ~= peer[2] then
      error(Error("ValueError", ("Invalid address: must be nil or {%q, %d}")
                  :format(peer[1], peer[2])), 2)
    end
    return self._ep:send(data)
  end
  self._ep:send(data, addr[1], addr[2])
end

-- transport:close(): no more datagrams either way; the protocol's
-- connection_lost(nil) runs soon after.
function Transport:close()
  if self._closing then return end
  self._closing = true
  self._ep:close()
  if self._loop:is_closed() then return end  -- (it calls nothing)
  self._loop:call_soon(notify, self._protocol, "connection_lost", self._lost)
end
Transport.abort = Transport.close
Transport.__close = Transport.close

-- (true too once its loop closed, which closed the endpoint)
function Transport:is_closing() return self._closing or self._ep:closed() end
function Transport:get_protocol() return self._protocol end
function Transport:set_protocol(p) self._protocol = p end

-- transport:get_extra_info(name [, default]): "sockname" and "peername"
-- ({host, port}).
function Transport:get_extra_info(name, default)
  local v
  if not self:is_closing() then
    if name == "sockname" then v = self._ep:address(false)
    elseif name == "peername" then v = self._ep:address(true) end
  end
  if v == nil then return default end
  return v
end

function Transport:__tostring()
  local a = self:get_extra_info("sockname")
  return a and ("<DatagramTransport %s:%d>"):format(a[1], a[2])
           or "<DatagramTransport closed>"
end

-- A protocol callback that raised: to the exception handler, and the
-- transport closes with the error (CPython's _fatal_error).
local function fatal(self, err, tb)
  self._lost = err
  self._loop:call_exception_handler {
    message = "Fatal error on datagram transport",
    exception = err, traceback = tb, transport = self, protocol = self._protocol }
  self:close()
end

local function traceback(err) return { err, debug.traceback(tostring(err), 2) } end

-- The reader, run by the loop when datagrams or an error came: each
-- datagram to protocol:datagram_received(data, addr), the error to
-- protocol:error_received(err).
local function on_readable(self)
  local ep = self._ep
  if self._closing then return end
  local err = ep:error()
  if err then
    local ok, e = xpcall(notify, traceback, self._protocol, "error_received", err)
    if not ok then return fatal(self, e[1], e[2]) end
  end
  while not self._closing do
    local data, addr = ep:take()
    if data == nil then break end
    local ok, e = xpcall(notify, traceback, self._protocol, "datagram_received",
                         data, addr)
    if not ok then return fatal(self, e[1], e[2]) end
  end
end

-- loop:create_datagram_endpoint(protocol_factory [, {local_addr = {host,
-- port}, remote_addr = {host, port}, allow_broadcast = b}]) -> transport,
-- protocol (an awaitable), as CPython's.
M.create_datagram_endpoint = asyncio.async(function(loop, factory, opts)
  if type(factory) ~= "function" then
    error(Error("TypeError", "protocol_factory must be a function"), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then
    error(Error("TypeError", "options must be a table"), 2)
  end
  local l, r = opts.local_addr, opts.remote_addr
  if l == nil and r == nil then
    error(Error("ValueError", "unexpected address family"), 2)
  end
  if l ~= nil then check_addr(l, "local_addr", 2) end
  if r ~= nil then check_addr(r, "remote_addr", 2) end
  local ep = C.open(l and l[1], l and l[2], r and r[1], r and r[2],
                    opts.allow_broadcast)
  local ok, protocol = pcall(factory)
  if not ok then
    ep:close()
    error(protocol, 0)
  end
  local self = setmetatable({ _ep = ep, _protocol = protocol, _loop = loop,
                              _closing = false, _peer = r }, Transport)
  ok, protocol = pcall(function()
    notify(protocol, "connection_made", self)
    if not self._closing then ep:set_reader(on_readable, self) end
    return self._protocol
  end)
  if not ok then
    ep:close()
    error(protocol, 0)
  end
  return self, protocol
end, "create_datagram_endpoint")

return M
