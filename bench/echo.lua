-- echo.lua -- TCP echo round trips in one process, server and clients on
-- 127.0.0.1 (bench/py/echo.py is CPython's beside it): C connections each
-- send a 64-byte line and wait for its echo, R times.  "streams" uses
-- start_server/open_connection (readline, write, drain), "protocols"
-- create_server/create_connection with asyncio.Protocol.
-- Usage: aiolua echo.lua [streams|protocols] [C] [R].  Prints one RESULT line.
local asyncio = require "asyncio"
local MODE, C, R = arg[1] or "streams", tonumber(arg[2]) or 50, tonumber(arg[3]) or 2000
local MSG = string.rep("x", 63) .. "\n"

local function streams(loop)
  local server = asyncio.start_server(function(reader, writer)
    while true do
      local line = reader:readline():await()
      if line == "" then break end
      writer:write(line)
      writer:drain():await()
    end
    writer:close()
  end, "127.0.0.1", 0):await()
  local port = server:sockets()[1][2]
  local function client()
    local reader, writer = asyncio.open_connection("127.0.0.1", port):await()
    for _ = 1, R do
      writer:write(MSG)
      writer:drain():await()
      assert(reader:readline():await() == MSG)
    end
    writer:close()
  end
  local cs = {}
  local t0 = loop:time()
  for i = 1, C do cs[i] = asyncio.create_task(client) end
  asyncio.gather(cs):await()
  local dt = loop:time() - t0
  server:close()
  return dt
end

local Echo = setmetatable({}, { __index = asyncio.Protocol })
Echo.__index = Echo
function Echo:connection_made(tr) self.tr = tr end
function Echo:data_received(data) self.tr:write(data) end

local Client = setmetatable({}, { __index = asyncio.Protocol })
Client.__index = Client
function Client:connection_made(tr)
  self.tr, self.left, self.got = tr, R, 0
  tr:write(MSG)
end
function Client:data_received(data)
  self.got = self.got + #data
  if self.got < #MSG then return end
  self.got = self.got - #MSG
  self.left = self.left - 1
  if self.left == 0 then self.tr:close() else self.tr:write(MSG) end
end
function Client:connection_lost() self.done:set_result(true) end

local function protocols(loop)
  local server = loop:create_server(function() return setmetatable({}, Echo) end,
                                    "127.0.0.1", 0):await()
  local port = server:sockets()[1][2]
  local dones = {}
  local t0 = loop:time()
  for i = 1, C do
    local done = loop:create_future()
    dones[i] = done
    loop:create_connection(function()
      return setmetatable({ done = done }, Client)
    end, "127.0.0.1", port):await()
  end
  asyncio.gather(dones):await()
  local dt = loop:time() - t0
  server:close()
  return dt
end

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local dt = (MODE == "protocols" and protocols or streams)(loop)
  print(("RESULT mode=%s conns=%d rounds=%d time=%.3f round_trips_per_s=%.0f")
        :format(MODE, C, R, dt, C * R / dt))
end)
