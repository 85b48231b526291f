-- crawler.lua -- the recursive crawler of the "asyncio" tutorial (section 4):
-- fetch a page, find its links, write it to a file in a destination folder,
-- recurse to a depth; one request at a time or a task per link.  A failed
-- fetch yields an empty page and never stops the crawl.  Without a URL it
-- crawls the local demo site (demo_site.py) that it starts; `--mode both`
-- crawls twice and prints the speed-up (`make demo`).
local asyncio = require "asyncio"
local http = require "asyncio.http"
local fs = require "asyncio.fs"

local USAGE = [==[
usage: aiolua crawler.lua [options] [URL [DESTINATION [DEPTH]]]
Crawls URL to DEPTH levels (default 3), writing each page to a file in
DESTINATION; prints pages, bytes, errors and time on stdout, progress on
stderr.  Without URL it starts the local demo site (demo_site.py).
  -m, --mode MODE   sequential, concurrent (default) or both, which crawls
                    twice and prints both times and the speed-up
  -d, --depth N     levels to fetch (default 3: the page, its links, theirs)
  -o, --dest DIR    destination folder (default: a temporary one, removed)
  -j, --max N       at most N requests in flight (default 100, 0: no limit)
  -t, --timeout S   timeout of each request in seconds (default 10)
  -l, --latency MS  latency of the demo site per response (default 20)
  -q, --quiet       no progress on stderr
  -h, --help        this text]==]

-- Options ------------------------------------------------------------------

local function usage_error(msg)
  io.stderr:write("crawler.lua: ", msg, "\n", USAGE, "\n")
  os.exit(2)
end

local function parse_args(argv)
  local o = { mode = "concurrent", depth = 3, max = 100, timeout = 10,
              latency = 20, quiet = false }
  local pos, i = {}, 1
  local function value(name)
    i = i + 1
    if argv[i] == nil then usage_error("option " .. name .. " needs a value") end
    return argv[i]
  end
  local function number(name)
    local v = tonumber(value(name))
    if not v or v < 0 then usage_error("option " .. name .. " needs a number >= 0") end
    return v
  end
  while i <= #argv do
    local a = argv[i]
    if a == "-m" or a == "--mode" then o.mode = value(a)
    elseif a == "-d" or a == "--depth" then o.depth = math.floor(number(a))
    elseif a == "-o" or a == "--dest" then o.dest = value(a)
    elseif a == "-j" or a == "--max" then o.max = math.floor(number(a))
    elseif a == "-t" or a == "--timeout" then o.timeout = number(a)
    elseif a == "-l" or a == "--latency" then o.latency = number(a)
    elseif a == "-q" or a == "--quiet" then o.quiet = true
    elseif a == "-h" or a == "--help" then print(USAGE); os.exit(0)
    elseif a:sub(1, 1) == "-" and a ~= "-" then usage_error("unknown option " .. a)
    else pos[#pos + 1] = a end
    i = i + 1
  end
  o.url, o.dest, o.depth = pos[1], pos[2] or o.dest, tonumber(pos[3]) or o.depth
  if #pos > 3 then usage_error("too many arguments") end
  if o.mode ~= "sequential" and o.mode ~= "concurrent" and o.mode ~= "both" then
    usage_error("mode must be sequential, concurrent or both")
  end
  return o
end

-- The demo site --------------------------------------------------------------

local function shquote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function script_dir()
  return (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
end

-- Starts demo_site.py with its stdin on a pipe we hold: closing the pipe
-- (the returned object's __close, or our exit) stops it.  Returns the site
-- object with its `url`.
local async function start_demo_site(latency)
  local py = io.open("/usr/bin/python3") and "/usr/bin/python3" or "python3"
  local portfile = os.tmpname()
  local proc = assert(io.popen(("exec %s %s --latency %s > %s"):format(
    py, shquote(script_dir() .. "/demo_site.py"), latency, shquote(portfile)), "w"))
  local site = setmetatable({ proc = proc }, {
    __close = function(self) if self.proc then self.proc:close(); self.proc = nil end end,
  })
  for _ = 1, 1000 do -- up to 10 s
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
  getmetatable(site).__close(site)
  error("the demo site did not start (is python3 installed?)", 0)
end

-- Crawling -----------------------------------------------------------------

-- One crawl: its options, its counters and the pages it has seen.
local function new_crawl(o, mode, dest, client)
  return {
    mode = mode, depth = o.depth, dest = dest, client = client,
    limit = mode == "concurrent" and o.max > 0 and asyncio.Semaphore(o.max) or nil,
    timeout = o.timeout, quiet = o.quiet,
    pages = {},        -- url -> { depth = smallest depth seen, links = ... }
    npages = 0, bytes = 0, errors = 0, inflight = 0,
    failures = {},     -- "url: reason", in order
    shown = -1,
  }
end

local function progress(c, final)
  if c.quiet then return end
  local now = asyncio.get_running_loop():time()
  if not final and now - c.shown < 0.05 then return end
  c.shown = now
  io.stderr:write(("\r%-10s %4d pages %4d in flight %4d errors %8.1f kB %6.2f s")
    :format(c.mode, c.npages, c.inflight, c.errors, c.bytes / 1024,
            now - c.started), final and "\n" or "")
end

local function fail(c, url, why)
  c.errors = c.errors + 1
  c.failures[#c.failures + 1] = url .. ": " .. why
end

-- Fetches a page; "" (an empty page) if the request fails.
local async function get_content(c, url)
  local guard <close> = c.limit and await c.limit:acquire()
  c.inflight = c.inflight + 1
  progress(c)
  local ok, resp = pcall(function()
    return await c.client:get(url, { timeout = c.timeout })
  end)
  c.inflight = c.inflight - 1
  if not ok then
    if asyncio.iserror(resp, "CancelledError") then error(resp, 0) end
    fail(c, url, tostring(resp))
    return ""
  end
  c.bytes = c.bytes + #resp.body
  if resp.status >= 400 then fail(c, url, "HTTP " .. resp.status) end
  return resp:text()
end

-- The absolute http(s) links of a page, without fragments, each once.
local function find_links(data, base)
  local urls, seen = {}, {}
  local function add(href)
    if href:sub(1, 1) == "#" then return end -- this very page
    local ok, abs = pcall(http.urljoin, base, href)
    if not ok or type(abs) ~= "string" then return end
    abs = abs:gsub("#.*$", "")
    if abs:match("^[hH][tT][tT][pP][sS]?://") and not seen[abs] then
      seen[abs] = true
      urls[#urls + 1] = abs
    end
  end
  for href in data:gmatch('[hH][rR][eE][fF]%s*=%s*"([^"]*)"') do add(href) end
  for href in data:gmatch("[hH][rR][eE][fF]%s*=%s*'([^']*)'") do add(href) end
  return urls
end

-- Writes a page to DESTINATION/<url as a file name>: the URL, the depth,
-- then the page.
local async function write_content(c, url, depth, data)
  local name = url:gsub("^%a+://", ""):gsub("[^%w%.%-]", "_"):sub(1, 200)
  await fs.write_file(c.dest .. "/" .. name, url .. "\n" .. depth .. "\n" .. data)
end

-- The tutorial's url_logic.  A page is fetched once; reached again at a
-- smaller depth (a depth-first crawl can meet it deep first), its links are
-- followed again from there, so both modes crawl the same pages.
local async function url_logic(c, url, i)
  if i >= c.depth or not url:match("^[hH][tT][tT][pP]") then return end
  local page = c.pages[url]
  if page then
    if page.depth <= i then return end
    page.depth = i
    if not page.links then return end -- still being fetched: it will follow
  else
    page = { depth = i }
    c.pages[url] = page
    c.npages = c.npages + 1
    local data = await get_content(c, url)           -- step 1
    page.links = find_links(data, url)               -- step 2
    await write_content(c, url, page.depth, data)    -- step 3
    progress(c)
  end
  local d = page.depth
  if d + 1 >= c.depth then return end
  if c.mode == "sequential" then
    for _, u in ipairs(page.links) do await url_logic(c, u, d + 1) end
  else
    local tasks = {}
    for _, u in ipairs(page.links) do
      tasks[#tasks + 1] = asyncio.create_task(url_logic(c, u, d + 1))
    end
    await asyncio.gather(table.unpack(tasks))
  end
end

-- Removes a directory tree made by a crawl.
local async function rmtree(path)
  for _, name in ipairs(await fs.listdir(path)) do
    local p = path .. "/" .. name
    if (await fs.stat(p, { follow_symlinks = false })).type == "directory" then
      await rmtree(p)
    else
      await fs.remove(p)
    end
  end
  await fs.remove(path)
end

local async function crawl(o, mode, url, dest, client)
  await fs.mkdir(dest, { parents = true })
  local c = new_crawl(o, mode, dest, client)
  local loop = asyncio.get_running_loop()
  c.started = loop:time()
  await url_logic(c, url, 0)
  c.elapsed = loop:time() - c.started
  progress(c, true)
  print(("%s: %d pages, %d bytes, %d errors, %.2f s"):format(
    mode, c.npages, c.bytes, c.errors, c.elapsed))
  return c
end

local async function main(argv)
  local o = parse_args(argv)
  local site <close> = not o.url and await start_demo_site(o.latency) or nil
  local url = o.url or site.url
  local dest, temporary = o.dest, o.dest == nil
  if temporary then
    dest = os.tmpname()
    os.remove(dest)
  end
  local client <close> = http.Client()
  io.stderr:write(("crawling %s to depth %d%s\n"):format(url, o.depth,
    site and (" (demo site, %g ms per response)"):format(o.latency) or ""))
  local runs = {}
  if o.mode == "both" then
    runs[1] = await crawl(o, "sequential", url, dest .. "/sequential", client)
    runs[2] = await crawl(o, "concurrent", url, dest .. "/concurrent", client)
    local seq, con = runs[1], runs[2]
    print(("speed-up: %.1fx (sequential %.2f s, concurrent %.2f s)"):format(
      seq.elapsed / math.max(con.elapsed, 1e-6), seq.elapsed, con.elapsed))
    local same = seq.npages == con.npages
    for u in pairs(seq.pages) do same = same and con.pages[u] ~= nil end
    if not same then io.stderr:write("warning: the two crawls saw different pages\n") end
  else
    runs[1] = await crawl(o, o.mode, url, dest, client)
  end
  for _, f in ipairs(runs[#runs].failures) do
    io.stderr:write("  failed (empty page): ", f, "\n")
  end
  if temporary then await rmtree(dest)
  else io.stderr:write("pages written to ", dest, "\n") end
end

asyncio.run(main(arg or {}))
