-- fixture.lua -- where the HTTP test server is, for tests/lua/test-http*.lua.
-- Under ctest the fixture (cmake/http.cmake) has started tests/http/server.py
-- and AIOLUA_HTTP_STATE names its state file; run by hand, the server is
-- started here (it exits when this process does).  Returns a table with
-- the ports (http, blackhole, closed, https), cafile, and url(path).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local info = {}

local function parse(line)
  local k, v = line:match("^(%w+)=(.*)$")
  if k then info[k] = tonumber(v) or v end
end

local state = os.getenv("AIOLUA_HTTP_STATE")
local f = state and io.open(state)
if f then
  for line in f:lines() do parse(line) end
  f:close()
else
  local cmd = "exec /usr/bin/python3 " .. here .. "server.py serve --port-line"
              .. " --watch-parent --nginx"
  local p = assert(io.popen(cmd, "r"))
  for line in p:lines() do
    if line == "" then break end
    parse(line)
  end
  info._pipe = p            -- kept open: closing it would wait for the server
end
assert(info.http, "no HTTP test server")

function info.url(path) return "http://127.0.0.1:" .. info.http .. path end
function info.https_url(path)
  return info.https and ("https://127.0.0.1:" .. info.https .. path)
end
return info
