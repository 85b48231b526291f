-- web_status.lua -- the status codes of several web pages, fetched
-- concurrently through one session.  Port of the aiohttp tutorials'
-- "fetch_status + asyncio.gather" example; a failing URL prints its error
-- instead of stopping the others.
-- Usage: aiolua web_status.lua [URL...]
-- Without URLs it starts the local test server (tests/http/server.py) and
-- asks it for a page, a missing one, a broken one, a slow one, a redirect
-- and a port where nothing listens.
local asyncio = require "asyncio"
local http = require "asyncio.http"

local here = (arg and arg[0] or ""):match("^(.*/)") or "./"

-- Starts the test server; returns its base URL, the port where nothing
-- listens and a function that stops it.
local function start_server()
  local p = assert(io.popen("exec /usr/bin/python3 " .. here ..
                            "../tests/http/server.py serve --port-line --watch-parent"))
  local info = {}
  for line in p:lines() do
    if line == "" then break end
    local k, v = line:match("^(%w+)=(.*)$")
    if k then info[k] = v end
  end
  assert(info.http, "the test server did not start")
  return "http://127.0.0.1:" .. info.http, info.closed, function() p:close() end
end

local async function fetch_status(session, url)
  local response = await session:get(url)
  return response.status
end

local async function main(urls)
  local session <close> = http.Client { timeout = 10 }
  local tasks = {}
  for i, url in ipairs(urls) do
    tasks[i] = fetch_status(session, url)
  end
  local start = asyncio.get_running_loop():time()
  local statuses = await asyncio.gather { return_exceptions = true, table.unpack(tasks) }
  for i, url in ipairs(urls) do
    print(("%s: %s"):format(url, tostring(statuses[i])))
  end
  print(("%d URLs in %.2f s"):format(#urls, asyncio.get_running_loop():time() - start))
end

local urls, stop = { ... }, nil
if #urls == 0 then
  local base, closed
  base, closed, stop = start_server()
  urls = { base .. "/get", base .. "/status/404", base .. "/status/500",
           base .. "/delay/0.5", base .. "/redirect/2",
           "http://127.0.0.1:" .. closed .. "/" }
end
asyncio.run(main, urls)
if stop then stop() end     -- on an error the server stops when we exit
