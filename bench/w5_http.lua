-- w5_http.lua -- W5 on aiolua: N GETs of URL with K in flight (K worker
-- tasks sharing one http.Client).  Usage: aiolua w5_http.lua URL N K
local asyncio = require "asyncio"
local http = require "asyncio.http"
local URL, N, K = arg[1], tonumber(arg[2]), tonumber(arg[3])
local todo, bytes, failed = N, 0, 0

local function hwm_kb()
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

local worker = asyncio.async(function(client)
  while todo > 0 do
    todo = todo - 1
    local resp = client:get(URL):await()
    if resp.status ~= 200 then failed = failed + 1 end
    bytes = bytes + #resp.body
  end
end)

asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local client <close> = http.Client { max_connections = K }
  local t0 = loop:time()
  local workers = {}
  for i = 1, K do workers[i] = worker(client) end
  asyncio.gather(workers):await()
  local dt = loop:time() - t0
  print(("RESULT n=%d time=%.6f rps=%.1f bytes=%d failed=%d hwm_kb=%d"):format(
    N, dt, N / dt, bytes, failed, hwm_kb()))
end)
