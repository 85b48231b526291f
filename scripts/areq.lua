-- areq.lua -- asynchronously get links embedded in multiple pages' HTML.
-- Port of areq.py ("Async IO & Coroutine"): fetch URLs concurrently through
-- one http.Client, resolve each href="..." with urljoin, append
-- "source<TAB>parsed" lines to a file with async writes; every step logged
-- on stderr (time, level, name); HTTP and network errors logged, not fatal.
local asyncio = require "asyncio"
local http = require "asyncio.http"
local fs = require "asyncio.fs"

local USAGE = [[
usage: aiolua areq.lua [-i URLFILE] [-o OUTFILE] [URL...]
Fetches every URL (from the command line and URLFILE, one per line)
concurrently and appends "source_url<TAB>parsed_url" lines for each link
found to OUTFILE (default foundurls.txt, rewritten with a header first).
Without any URL it starts the local demo site (demo_site.py) and uses a
few of its pages, broken ones included.]]

-- logging.basicConfig(format="%(asctime)s %(levelname)s:%(name)s: %(message)s",
--                     datefmt="%H:%M:%S", stream=sys.stderr)
local function get_logger(name)
  local function at(level)
    return function(fmt, ...)
      io.stderr:write(os.date("%H:%M:%S"), " ", level, ":", name, ": ",
                      fmt:format(...), "\n")
    end
  end
  return { debug = at("DEBUG"), info = at("INFO"), warning = at("WARNING"),
           error = at("ERROR"), exception = at("ERROR") }
end
local logger = get_logger("areq")

local HREF_RE = 'href="(.-)"'

-- The errors of the HTTP client (aiohttp.ClientError and friends).
--- GET request wrapper to fetch page HTML.  opts go to session:request().
local async function fetch_html(url, session, opts)
  local resp = await session:request("GET", url, opts)
  resp:raise_for_status()
  logger.info("Got response [%s] for URL: %s", resp.status, url)
  local html = resp:text()
  return html
end

local function sorted_keys(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

--- Find HREFs in the HTML of url: a set of absolute URLs.
local async function parse(url, session, opts)
  local found = {}
  local ok, html = pcall(function() return await fetch_html(url, session, opts) end)
  if not ok then
    local e = html
    if not asyncio.iserror(e, "Exception") then error(e, 0) end  -- cancelled
    if asyncio.iserror(e, http.ClientError) then
      logger.error("HTTP exception for %s [%s]: %s", url,
                   tostring(e.status or "None"), e.type .. ": " .. tostring(e.message))
    else
      logger.exception("Non-HTTP exception occurred:  %s", tostring(e))
    end
    return found
  end
  local n = 0
  for link in html:gmatch(HREF_RE) do
    local ok2, abslink = pcall(http.urljoin, url, link)
    if not ok2 or type(abslink) ~= "string" then
      logger.exception("Error parsing URL: %s", link)
    elseif not found[abslink] then
      found[abslink] = true
      n = n + 1
    end
  end
  logger.info("Found %d links for %s", n, url)
  return found
end

--- Write the found HREFs from url to file.
local async function write_one(file, url, session, opts)
  local res = await parse(url, session, opts)
  if next(res) == nil then return nil end
  local f <close> = await fs.open(file, "a")
  for _, p in ipairs(sorted_keys(res)) do
    await f:write(("%s\t%s\n"):format(url, p))
  end
  logger.info("Wrote results for source URL: %s", url)
end

--- Crawl & write concurrently to file for multiple urls.
local async function bulk_crawl_and_write(file, urls, opts)
  local session <close> = http.Client()
  local tasks = {}
  for _, url in ipairs(urls) do
    tasks[#tasks + 1] = write_one(file, url, session, opts)
  end
  await asyncio.gather(table.unpack(tasks))
end

-- The demo site, started as in crawler.lua: its stdin is our pipe.
local async function start_demo_site()
  local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
  local py = io.open("/usr/bin/python3") and "/usr/bin/python3" or "python3"
  local portfile = os.tmpname()
  local proc = assert(io.popen(("exec %s '%s/demo_site.py' > '%s'"):format(
    py, dir, portfile), "w"))
  local site = setmetatable({ proc = proc }, { __close = function(self)
    if self.proc then self.proc:close(); self.proc = nil end
  end })
  for _ = 1, 1000 do
    local f = io.open(portfile)
    local port = f and tonumber(f:read("l"))
    if f then f:close() end
    if port then
      os.remove(portfile)
      site.url = ("http://127.0.0.1:%d/"):format(port)
      return site
    end
    await asyncio.sleep(0.01)
  end
  os.remove(portfile)
  site.proc:close()
  error("the demo site did not start (is python3 installed?)", 0)
end

local function demo_urls(base)
  local urls = { base }
  for _, path in ipairs { "page/1.html", "page/2.html", "page/5.html",
                          "page/20.html", "page/9999.html", "error/500",
                          "redirect/33" } do
    urls[#urls + 1] = base .. path
  end
  urls[#urls + 1] = "http://127.0.0.1:1/refused"
  return urls
end

local async function main(argv)
  local infile, outpath, urls, seen = nil, "foundurls.txt", {}, {}
  local function add(u)
    u = u:match("^%s*(.-)%s*$")
    if u ~= "" and not u:match("^#") and not seen[u] then
      seen[u] = true
      urls[#urls + 1] = u
    end
  end
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-i" then i = i + 1; infile = argv[i]
    elseif a == "-o" then i = i + 1; outpath = argv[i]
    elseif a == "-h" or a == "--help" then print(USAGE); return
    else add(a) end
    i = i + 1
  end
  if infile then
    for line in (await fs.read_file(infile)):gmatch("[^\n]+") do add(line) end
  end
  local site <close> = #urls == 0 and await start_demo_site() or nil
  if site then
    logger.info("Started the demo site at %s", site.url)
    for _, u in ipairs(demo_urls(site.url)) do add(u) end
  end
  await fs.write_file(outpath, "source_url\tparsed_url\n")
  await bulk_crawl_and_write(outpath, urls, { timeout = 10 })
end

asyncio.run(main(arg or {}))
