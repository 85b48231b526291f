-- udp_echo.lua -- the UDP echo server and client of CPython's asyncio
-- documentation ("Transports and Protocols"), in one script: the server
-- echoes each datagram, the client sends one and closes on the reply.
-- Usage: aiolua scripts/udp_echo.lua [port]   (0: any free port)
local asyncio = require "asyncio"

local EchoServerProtocol = setmetatable({}, { __index = asyncio.DatagramProtocol })
EchoServerProtocol.__index = EchoServerProtocol

function EchoServerProtocol:connection_made(transport)
  self.transport = transport
end

function EchoServerProtocol:datagram_received(data, addr)
  local message = data
  print(("Received %q from %s"):format(message, addr[1]))
  print(("Send %q to %s"):format(message, addr[1]))
  self.transport:sendto(data, addr)
end

local EchoClientProtocol = setmetatable({}, { __index = asyncio.DatagramProtocol })
EchoClientProtocol.__index = EchoClientProtocol

function EchoClientProtocol.new(message, on_con_lost)
  return setmetatable({ message = message, on_con_lost = on_con_lost }, EchoClientProtocol)
end

function EchoClientProtocol:connection_made(transport)
  self.transport = transport
  print("Send:", self.message)
  self.transport:sendto(self.message)
end

function EchoClientProtocol:datagram_received(data, addr)
  print("Received:", data)
  print("Close the socket")
  self.transport:close()
end

function EchoClientProtocol:error_received(exc)
  print("Error received:", exc)
end

function EchoClientProtocol:connection_lost(exc)
  print("Connection closed")
  self.on_con_lost:set_result(true)
end

async function main()
  local loop = asyncio.get_running_loop()
  print("Starting UDP server")
  local server <close> = await loop:create_datagram_endpoint(
    function() return setmetatable({}, EchoServerProtocol) end,
    { local_addr = { "127.0.0.1", tonumber(arg[1]) or 0 } })
  local port = server:get_extra_info("sockname")[2]

  local on_con_lost = loop:create_future()
  local message = "Hello World!"
  local transport = await loop:create_datagram_endpoint(
    function() return EchoClientProtocol.new(message, on_con_lost) end,
    { remote_addr = { "127.0.0.1", port } })
  local ok, err = pcall(asyncio.await, on_con_lost)
  transport:close()                      -- Python's finally
  if not ok then error(err, 0) end
end

asyncio.run(main())
