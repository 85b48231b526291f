-- test-crawler.lua -- scripts/crawler.lua and scripts/areq.lua against the
-- demo site (scripts/demo_site.py): page, byte and error counts, the files
-- written, both crawl modes seeing the same pages, the speed-up, and
-- areq's output file and log lines.
local t = require "t"
local S = require "scriptrun"
local fs = require "asyncio.fs"

local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. TMP))

local function ok_run(script, args)
  local r = S.run(script, args)
  if r.status ~= 0 then
    error(("%s exited with %s\nstdout:\n%s\nstderr:\n%s"):format(
      script, tostring(r.status), r.out, r.err), 2)
  end
  return r
end

-- "mode: P pages, B bytes, E errors, T s" -> {pages, bytes, errors, time}
local function summary(line, mode)
  local p, b, e, s = line:match("^" .. mode ..
    ": (%d+) pages, (%d+) bytes, (%d+) errors, ([%d.]+) s$")
  t.ok(p, "summary line: " .. tostring(line))
  return { pages = tonumber(p), bytes = tonumber(b), errors = tonumber(e),
           time = tonumber(s) }
end

t.test("crawler: demo site, depth 3, sequential then concurrent", function()
  local r = ok_run("crawler.lua", { "--mode", "both", "--depth", "3" })
  local lines = S.lines(r.out)
  t.eq(#lines, 3, "stdout lines")
  local seq, con = summary(lines[1], "sequential"), summary(lines[2], "concurrent")
  t.eq(seq.pages, 105, "pages (1 + 10 + 94)")
  t.eq(con.pages, seq.pages, "same pages")
  t.eq(seq.errors, 4, "errors: 2 x 404, a 500, a refused connection")
  t.eq(con.errors, 4)
  t.eq(con.bytes, seq.bytes, "same bytes")
  t.ok(seq.bytes > 200000, "bytes")
  t.ok(seq.time >= 105 * 0.020, "sequential pays the latency per page")
  t.ok(con.time < seq.time / 3, "concurrent is much faster")
  local x = tonumber(lines[3]:match("^speed%-up: ([%d.]+)x"))
  t.ok(x and x >= 3, "speed-up line: " .. lines[3])
  t.ok(not r.err:find("warning"), "no warning: " .. r.err)
  t.ok(r.err:find("crawling http://127.0.0.1:%d+/ to depth 3"), "start line")
  t.ok(r.err:find("failed %(empty page%): http://127.0.0.1:1/unreachable"), "refused")
  t.ok(r.err:find("failed %(empty page%): http://127.0.0.1:%d+/error/500: HTTP 500"), "500")
  local n404 = 0
  for _ in r.err:gmatch("failed %(empty page%): [^\n]*HTTP 404") do n404 = n404 + 1 end
  t.eq(n404, 2, "404s")
  t.ok(r.err:find("\rconcurrent +105 pages"), "progress")
end)

t.test("crawler: URL DESTINATION DEPTH, files written", function()
  local site = S.demo_site("--latency 1")
  local dest = TMP .. "/crawl"
  local ok, err = pcall(function()
    local r = ok_run("crawler.lua", { "-q", "-m", "sequential", site.url, dest, "2" })
    local lines = S.lines(r.out)
    local s = summary(lines[1], "sequential")
    t.eq(s.pages, 11, "the index and its 10 sections")
    t.eq(s.errors, 0)
    t.ok(r.err:find("pages written to " .. dest, 1, true), "dest reported")
    local names = fs.listdir(dest):await()
    t.eq(#names, 11, "one file per page")
    local total = 0
    for _, n in ipairs(names) do
      local data = fs.read_file(dest .. "/" .. n):await()
      local url, depth, body = data:match("^([^\n]*)\n(%d)\n(.*)$")
      t.ok(url and url:find(site.url, 1, true) == 1, "url line in " .. n)
      t.eq(url == site.url and "0" or "1", depth, "depth of " .. url)
      t.ok(body:find("</html>", 1, true), "page body")
      total = total + #body
    end
    t.eq(total, s.bytes, "bytes")
  end)
  site.stop()
  if not ok then error(err, 0) end
end)

t.test("crawler: a failed fetch is an empty page, not a crash", function()
  local r = ok_run("crawler.lua", { "-q", "http://127.0.0.1:1/", TMP .. "/none", "2" })
  local s = summary(S.lines(r.out)[1], "concurrent")
  t.eq(s.pages, 1); t.eq(s.errors, 1); t.eq(s.bytes, 0)
  t.ok(r.err:find("failed (empty page): http://127.0.0.1:1/", 1, true), r.err)
  t.eq(#fs.listdir(TMP .. "/none"):await(), 1, "the empty page is written")
end)

t.test("crawler: usage errors", function()
  local r = S.run("crawler.lua", { "--mode", "bogus" })
  t.eq(r.status, 2)
  t.ok(r.err:find("mode must be"), r.err)
end)

local function check_areq_log(err)
  for line in err:gmatch("[^\n]+") do
    t.ok(line:match("^%d%d:%d%d:%d%d [A-Z]+:areq: "), "log format: " .. line)
  end
end

t.test("areq: URLs from a file, links to the output file", function()
  local site = S.demo_site("--latency 5")
  local ok, err = pcall(function()
    local urls = TMP .. "/urls.txt"
    local out = TMP .. "/found.txt"
    fs.write_file(urls, table.concat({
      site.url, site.url .. "page/1.html", site.url .. "page/1.html",
      "", site.url .. "page/9999.html", site.url .. "error/500",
      site.url .. "redirect/33", "http://127.0.0.1:1/refused", "",
    }, "\n")):await()
    local r = ok_run("areq.lua", { "-i", urls, "-o", out })
    t.eq(r.out, "", "nothing on stdout")
    check_areq_log(r.err)
    local function has(s) t.ok(r.err:find(s, 1, true), "log has " .. s .. "\n" .. r.err) end
    has("INFO:areq: Got response [200] for URL: " .. site.url .. "\n")
    has("INFO:areq: Got response [200] for URL: " .. site.url .. "redirect/33\n")
    has("ERROR:areq: HTTP exception for " .. site.url .. "page/9999.html [404]: HTTPStatusError")
    has("ERROR:areq: HTTP exception for " .. site.url .. "error/500 [500]: HTTPStatusError")
    has("ERROR:areq: HTTP exception for http://127.0.0.1:1/refused [None]: ConnectionError")
    has("INFO:areq: Found 10 links for " .. site.url .. "\n")
    has("INFO:areq: Wrote results for source URL: " .. site.url .. "page/1.html\n")
    local lines = S.lines(fs.read_file(out):await())
    t.eq(lines[1], "source_url\tparsed_url", "header")
    local per = {}
    for i = 2, #lines do
      local src, parsed = lines[i]:match("^([^\t]+)\t([^\t]+)$")
      t.ok(src, "line format: " .. lines[i])
      t.ok(parsed:match("^%a+:"), "absolute: " .. parsed)
      per[src] = (per[src] or 0) + 1
    end
    t.eq(per[site.url], 10, "index links")
    t.ok(per[site.url .. "page/1.html"], "page 1 once")
    t.ok(per[site.url .. "redirect/33"], "redirect followed")
    t.eq(per[site.url .. "page/9999.html"], nil, "nothing from a 404")
    t.eq(per["http://127.0.0.1:1/refused"], nil, "nothing from a refused URL")
    -- page 1 was listed twice but fetched once (a set, as in areq.py)
    local n = 0
    for _ in r.err:gmatch("Got response %[200%] for URL: [^\n]*/page/1%.html\n") do n = n + 1 end
    t.eq(n, 1, "duplicates dropped")
  end)
  site.stop()
  if not ok then error(err, 0) end
end)

t.test("areq: the demo site by default", function()
  local out = TMP .. "/found-demo.txt"
  local r = ok_run("areq.lua", { "-o", out })
  check_areq_log(r.err)
  t.ok(r.err:find("Started the demo site at http://127.0.0.1:"), r.err)
  t.ok(r.err:find("ERROR:areq:"), "logs errors")
  local lines = S.lines(fs.read_file(out):await())
  t.ok(#lines > 40, "links written: " .. #lines)
end)

t.test("clean up", function()
  os.execute("rm -rf " .. TMP)
end)

t.run()
