-- test-datagram.lua -- UDP: loop:create_datagram_endpoint as CPython's,
-- on 127.0.0.1: an echo server and a connected client, many datagrams,
-- error_received for a refused port, a protocol that raises, closing
-- (connection_lost), the end of asyncio.run, and bad arguments.
local asyncio = require "asyncio"
local t = require "t"

local sleep = asyncio.sleep

-- A protocol class over asyncio.DatagramProtocol that logs its calls.
local function protocol_class(on_datagram)
  local P = setmetatable({}, { __index = asyncio.DatagramProtocol })
  P.__index = P
  function P:connection_made(tr) self.transport = tr; t.log("made") end
  function P:datagram_received(data, addr)
    t.log("got " .. data)
    if on_datagram then on_datagram(self, data, addr) end
  end
  function P:error_received(err) t.log("error " .. tostring(err.code)) end
  function P:connection_lost(err) t.log("lost " .. tostring(err)) end
  return P
end

local Echo = protocol_class(function(self, data, addr)
  self.transport:sendto(data:upper(), addr)
end)

local function echo_server(loop)
  local tr = loop:create_datagram_endpoint(function() return setmetatable({}, Echo) end,
    { local_addr = { "127.0.0.1", 0 } }):await()
  return tr, tr:get_extra_info("sockname")[2]
end

local until_ = t.until_

t.test("the echo example of CPython's docs: server and connected client", function()
  local loop = asyncio.get_running_loop()
  local server, port = echo_server(loop)
  t.eq(server:get_extra_info("sockname")[1], "127.0.0.1")
  t.eq(server:get_extra_info("peername"), nil, "not connected")
  local replies = {}
  local Client = protocol_class(function(_, data, addr)
    replies[#replies + 1] = data
    t.eq(addr[2], port, "from the server")
  end)
  local client, proto = loop:create_datagram_endpoint(
    function() return setmetatable({}, Client) end,
    { remote_addr = { "127.0.0.1", port } }):await()
  t.ok(proto.transport == client, "connection_made got the transport")
  t.eq(client:get_extra_info("peername")[2], port)
  client:sendto("hello")
  client:sendto("world", { "127.0.0.1", port })       -- its own remote: fine
  t.ok(until_(function() return #replies == 2 end))
  t.same_as(replies, { "HELLO", "WORLD" })
  t.raises("Invalid address", client.sendto, client, "x", { "127.0.0.1", port + 1 })
  t.raises("TypeError", client.sendto, client, 42)
  client:close()
  t.eq(client:is_closing(), true)
  client:sendto("dropped")                              -- no error, as CPython
  server:close()
  sleep(0):await()
  local ev = t.events()
  t.eq(ev[#ev], "lost nil", "connection_lost(nil) after close")
end)

t.test("many datagrams arrive in order", function()
  local loop = asyncio.get_running_loop()
  local got = {}
  local Sink = protocol_class(function(_, data) got[#got + 1] = tonumber(data) end)
  local sink = loop:create_datagram_endpoint(function() return setmetatable({}, Sink) end,
    { local_addr = { "127.0.0.1", 0 } }):await()
  local port = sink:get_extra_info("sockname")[2]
  local src = loop:create_datagram_endpoint(asyncio.DatagramProtocol and
    function() return setmetatable({}, asyncio.DatagramProtocol) end,
    { local_addr = { "127.0.0.1", 0 } }):await()
  for i = 1, 300 do
    src:sendto(tostring(i), { "127.0.0.1", port })
    if i % 50 == 0 then sleep(0.002):await() end
  end
  t.ok(until_(function() return #got == 300 end), #got .. " of 300")
  local ordered = true
  for i = 1, #got do if got[i] ~= i then ordered = false end end
  t.ok(ordered, "in order")
  src:close()
  sink:close()
  t.events()
end)

t.test("a refused port: error_received(ConnectionRefusedError)", function()
  local loop = asyncio.get_running_loop()
  local probe = loop:create_datagram_endpoint(function() return {} end,
    { local_addr = { "127.0.0.1", 0 } }):await()
  local port = probe:get_extra_info("sockname")[2]
  probe:close()                                         -- nobody there now
  local P = protocol_class()
  local tr = loop:create_datagram_endpoint(function() return setmetatable({}, P) end,
    { remote_addr = { "127.0.0.1", port } }):await()
  tr:sendto("anyone?")
  t.ok(until_(function()
    for _, e in ipairs(t.events()) do if e == "error ECONNREFUSED" then return true end end
  end), "error_received")
  t.eq(tr:is_closing(), false, "the transport stays open")
  tr:close()
end)

t.test("a protocol that raises: the exception handler, then closed", function()
  local loop = asyncio.get_running_loop()
  local ctxs = {}
  loop:set_exception_handler(function(_, ctx) ctxs[#ctxs + 1] = ctx end)
  local Bad = protocol_class(function() error("bad protocol", 0) end)
  local tr = loop:create_datagram_endpoint(function() return setmetatable({}, Bad) end,
    { local_addr = { "127.0.0.1", 0 } }):await()
  local port = tr:get_extra_info("sockname")[2]
  local src = loop:create_datagram_endpoint(function() return {} end,
    { remote_addr = { "127.0.0.1", port } }):await()
  src:sendto("boom")
  t.ok(until_(function() return tr:is_closing() end), "closed")
  sleep(0):await()
  t.eq(#ctxs, 1)
  t.eq(ctxs[1].message, "Fatal error on datagram transport")
  t.eq(ctxs[1].exception, "bad protocol")
  local ev = t.events()
  t.eq(ev[#ev], "lost bad protocol", "connection_lost(err)")
  src:close()
  loop:set_exception_handler(nil)
end)

local leftover
t.test("no task an endpoint; the end of asyncio.run closes a transport left open", function()
  local P = protocol_class()
  local tasks = #asyncio.all_tasks()
  leftover = asyncio.get_running_loop():create_datagram_endpoint(
    function() return setmetatable({}, P) end, { local_addr = { "127.0.0.1", 0 } }):await()
  t.eq(#asyncio.all_tasks(), tasks, "receiving takes no task")
end)
t.test("(checked in the next run)", function()
  t.eq(leftover:is_closing(), true)
  t.eq(leftover:get_extra_info("sockname", "none"), "none")
  leftover:sendto("dropped", { "127.0.0.1", 9 })  -- no error, as after close()
  leftover:close()
  t.same_as(t.events(), {}, "its protocol is not called again")
end)

t.test("bad arguments: CPython's errors", function()
  local loop = asyncio.get_running_loop()
  local f = function() return {} end
  t.raises("unexpected address family", asyncio.await, loop:create_datagram_endpoint(f))
  t.raises("protocol_factory must be a function", asyncio.await,
           loop:create_datagram_endpoint(42, { local_addr = { "127.0.0.1", 0 } }))
  t.raises("local_addr must be a {host, port} table", asyncio.await,
           loop:create_datagram_endpoint(f, { local_addr = "127.0.0.1:0" }))
  t.raises("remote_addr must be a {host, port} table", asyncio.await,
           loop:create_datagram_endpoint(f, { remote_addr = { "127.0.0.1" } }))
  t.raises("port out of range", asyncio.await,
           loop:create_datagram_endpoint(f, { local_addr = { "127.0.0.1", 70000 } }))
  t.raises("factory failed", asyncio.await,
           loop:create_datagram_endpoint(function() error("factory failed") end,
                                         { local_addr = { "127.0.0.1", 0 } }))
  local a = loop:create_datagram_endpoint(f, { local_addr = { "127.0.0.1", 0 } }):await()
  local ok, err = pcall(asyncio.await, loop:create_datagram_endpoint(f,
    { local_addr = { "127.0.0.1", a:get_extra_info("sockname")[2] } }))
  t.ok(not ok and asyncio.iserror(err, "OSError") and err.code == "EADDRINUSE", tostring(err))
  t.raises("resolve", asyncio.await, loop:create_datagram_endpoint(f,
    { local_addr = { "no.such.host.invalid", 0 } }))
  a:close()
end)

t.run()
