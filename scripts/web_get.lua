-- web_get.lua -- the bodies of several web pages, fetched concurrently
-- through one Client (one connection pool).  Port of the aiohttp
-- tutorials' "fetch(session, url) -> await response.text()" example.
-- Usage: aiolua web_get.lua [URL...]
-- Without URLs it starts the local test server (tests/http/server.py) and
-- fetches a few of its pages: plain, binary, chunked, gzip, redirected.
local asyncio = require "asyncio"
local http = require "asyncio.http"

local here = (arg and arg[0] or ""):match("^(.*/)") or "./"

-- Starts the test server; returns its base URL and a function to stop it.
local function start_server()
  local p = assert(io.popen("exec /usr/bin/python3 " .. here ..
                            "../tests/http/server.py serve --port-line --watch-parent"))
  local port
  for line in p:lines() do
    if line == "" then break end
    port = port or line:match("^http=(%d+)")
  end
  assert(port, "the test server did not start")
  return "http://127.0.0.1:" .. port, function() p:close() end
end

local async function fetch(session, url)
  local response = await session:get(url)
  response:raise_for_status()
  return response:text()
end

local async function main(urls)
  local session <close> = http.Client { timeout = 30 }
  local pages = {}
  for i, url in ipairs(urls) do pages[i] = fetch(session, url) end
  local bodies = await asyncio.gather(table.unpack(pages))
  for i, url in ipairs(urls) do
    local body = bodies[i]
    local first = body:match("^[^\n]*"):gsub("[^%g ]", "."):sub(1, 40)
    print(("%s: %d bytes: %s"):format(url, #body, first))
  end
end

local urls, stop = { ... }, nil
if #urls == 0 then
  local base
  base, stop = start_server()
  urls = { base .. "/get", base .. "/bytes/1000", base .. "/chunked/100000",
           base .. "/gzip", base .. "/redirect/3" }
end
asyncio.run(main, urls)
if stop then stop() end     -- on an error the server stops when we exit
