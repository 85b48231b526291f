-- echo_server.lua -- the TCP echo client and server of CPython's asyncio
-- documentation ("Streams"), in one script: the server echoes what a
-- client sends, the client prints what comes back.
-- Usage: aiolua scripts/echo_server.lua [port]   (0: any free port)
local asyncio = require "asyncio"

async function handle_echo(reader, writer)
  local data = await reader:read(100)
  local message = data
  local addr = writer:get_extra_info("peername")

  print(("Received %q from %s"):format(message, addr[1]))

  print(("Send: %q"):format(message))
  writer:write(data)
  await writer:drain()

  print("Close the connection")
  writer:close()
  await writer:wait_closed()
end

async function tcp_echo_client(port, message)
  local reader, writer = await asyncio.open_connection("127.0.0.1", port)

  print(("Send: %q"):format(message))
  writer:write(message)
  await writer:drain()

  local data = await reader:read(100)
  print(("Received: %q"):format(data))

  print("Close the connection")
  writer:close()
  await writer:wait_closed()
end

async function main()
  local server <close> = await asyncio.start_server(handle_echo, "127.0.0.1",
                                                   tonumber(arg[1]) or 0)
  local port = server:sockets()[1][2]
  print("Serving on 127.0.0.1")
  await tcp_echo_client(port, "Hello World!")
end

asyncio.run(main())
