-- tcp_echo_protocol.lua -- the TCP echo server and client of CPython's
-- asyncio documentation ("Transports and Protocols"), in one script: the
-- server protocol echoes what it receives and closes the connection; the
-- client protocol sends a message and waits for the server to close.
-- Usage: aiolua scripts/tcp_echo_protocol.lua [port]   (0: any free port)
local asyncio = require "asyncio"

local EchoServerProtocol = setmetatable({}, { __index = asyncio.Protocol })
EchoServerProtocol.__index = EchoServerProtocol

function EchoServerProtocol:connection_made(transport)
  local peername = transport:get_extra_info("peername")
  print(("Connection from %s"):format(peername[1]))
  self.transport = transport
end

function EchoServerProtocol:data_received(data)
  local message = data
  print(("Data received: %q"):format(message))

  print(("Send: %q"):format(message))
  self.transport:write(data)

  print("Close the client socket")
  self.transport:close()
end

local EchoClientProtocol = setmetatable({}, { __index = asyncio.Protocol })
EchoClientProtocol.__index = EchoClientProtocol

function EchoClientProtocol.new(message, on_con_lost)
  return setmetatable({ message = message, on_con_lost = on_con_lost }, EchoClientProtocol)
end

function EchoClientProtocol:connection_made(transport)
  transport:write(self.message)
  print(("Data sent: %q"):format(self.message))
end

function EchoClientProtocol:data_received(data)
  print(("Data received: %q"):format(data))
end

function EchoClientProtocol:connection_lost(exc)
  print("The server closed the connection")
  self.on_con_lost:set_result(true)
end

async function main()
  -- Get a reference to the event loop as we plan to use
  -- low-level APIs.
  local loop = asyncio.get_running_loop()

  local server <close> = await loop:create_server(
    function() return setmetatable({}, EchoServerProtocol) end,
    "127.0.0.1", tonumber(arg[1]) or 0)
  local port = server:sockets()[1][2]

  local on_con_lost = loop:create_future()
  local message = "Hello World!"

  local transport = await loop:create_connection(
    function() return EchoClientProtocol.new(message, on_con_lost) end,
    "127.0.0.1", port)

  -- Wait until the protocol signals that the connection
  -- is lost and close the transport.
  local ok, err = pcall(asyncio.await, on_con_lost)
  transport:close()                      -- Python's finally
  if not ok then error(err, 0) end
end

asyncio.run(main())
