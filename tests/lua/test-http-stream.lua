-- test-http-stream.lua -- reading bodies in chunks: Client:stream and
-- http.stream, iter_chunks in a generic for, backpressure (a slow reader
-- pauses the transfer), early exit, errors and limits mid-body.
local t = require "t"
local asyncio = require "asyncio"
local http = require "asyncio.http"
local srv = dofile("../http/fixture.lua")
local url = srv.url

local function pattern(n)
  local base = {}
  for i = 0, 250 do base[#base + 1] = string.char(i) end
  base = table.concat(base)
  return base:rep(n // 251 + 1):sub(1, n)
end

local function now() return asyncio.get_running_loop():time() end

t.test("stream: headers first, then the body in order", function()
  local r <close> = http.stream(url("/chunked/200000?size=3000")):await()
  t.eq(r.status, 200)
  t.eq(r.reason, "OK")
  t.eq(r.headers["transfer-encoding"], "chunked")
  t.eq(r.body, nil, "no body yet")
  t.eq(getmetatable(r), http.StreamResponse)
  local parts, n = {}, 0
  for chunk in r:iter_chunks() do
    n = n + 1
    parts[n] = chunk
  end
  t.ok(table.concat(parts) == pattern(200000), "body")
  t.ok(n >= 1, "chunks")
end)

t.test("stream resolves at the headers, before a slow body", function()
  local c <close> = http.Client()
  local t0 = now()
  local r <close> = c:stream(url("/chunked/3000?size=1000&delay=0.4")):await()
  t.ok(now() - t0 < 0.35, "headers came first: " .. (now() - t0))
  local got = {}
  for chunk in r:iter_chunks() do got[#got + 1] = chunk end
  t.eq(table.concat(got), pattern(3000))
  t.ok(now() - t0 >= 1.1, "then the body at its pace")
  t.eq(c:stats().active, 0, "finished stream released")
end)

t.test("iter_chunks(n) bounds the chunk size", function()
  local r <close> = http.stream(url("/bytes/100000")):await()
  local total = 0
  for chunk in r:iter_chunks(4096) do
    t.ok(#chunk <= 4096 and #chunk > 0, "size " .. #chunk)
    total = total + #chunk
  end
  t.eq(total, 100000)
end)

-- The lines of s as iter_lines gives them (split at "\n", a "\r" before
-- it dropped, the last line even without an ending).
local function lines(s)
  local out = {}
  for line, nl in s:gmatch("([^\n]*)(\n?)") do
    if nl == "" and line == "" then break end
    out[#out + 1] = (line:gsub("\r$", ""))
    if nl == "" then break end
  end
  return out
end

t.test("iter_lines: lines across chunk boundaries, as they come", function()
  -- the pattern has a "\n" every 251 bytes; 7-byte chunks split the lines
  local r <close> = http.stream(url("/chunked/5000?size=7")):await()
  local got = {}
  for line in r:iter_lines() do got[#got + 1] = line end
  t.same_as(got, lines(pattern(5000)))
  t.eq(#got, #lines(pattern(5000)))
  -- a Response's body too, and "\r\n" endings
  local plain = http.get(url("/chunked/1000?size=13")):await()
  local n = 0
  for line in plain:iter_lines() do n = n + 1; t.eq(line, lines(pattern(1000))[n]) end
  t.eq(n, #lines(pattern(1000)))
  local doc = http.post(url("/echo"), { body = "a\r\nb\n\nc" }):await()
  local got2 = {}
  for line in doc:iter_lines() do got2[#got2 + 1] = line end
  t.same_as(got2, { "a", "b", "", "c" })
end)

t.test("read() gives the whole body", function()
  local r = http.stream(url("/bytes/123457")):await()
  local body = r:read():await()
  t.ok(body == pattern(123457), "body")
  t.eq(r.body, body, "kept")
  t.eq(r:text(), body)
  r:close()
end)

t.test("backpressure: a slow reader pauses the transfer", function()
  local c <close> = http.Client()
  local size = 32 * 1024 * 1024
  local r <close> = c:stream(url("/bytes/" .. size)):await()
  local step = r:iter_chunks()
  t.ok(#step() > 0, "first chunk")
  asyncio.sleep(0.3):await()             -- do not read: curl must pause
  local held, paused = r._req:buffered()
  t.ok(held <= 512 * 1024, "buffered in C: " .. held)
  t.eq(paused, true, "paused")
  local total = 0
  for chunk in r:iter_chunks() do total = total + #chunk end
  t.ok(total > size - 512 * 1024 and total < size, "the rest: " .. total)
  t.eq(c:stats().active, 0)
end)

t.test("breaking out of the loop closes the transfer", function()
  local c <close> = http.Client()
  local r = c:stream(url("/bytes/50000000")):await()
  for chunk in r:iter_chunks() do
    t.ok(#chunk > 0)
    break
  end
  local s = c:stats()
  t.eq(s.active, 0, "closed on break")
  t.eq(s.transfers, 0)
  t.eq(r:iter_chunks()(), nil, "a closed stream has no more chunks")
  t.eq(c:get(url("/get")):await().status, 200)
end)

t.test("an error raised in the loop closes the transfer", function()
  local c <close> = http.Client()
  local r = c:stream(url("/bytes/50000000")):await()
  t.raises("boom", function()
    for _ in r:iter_chunks() do error("boom") end
  end)
  t.eq(c:stats().active, 0)
end)

t.test("dropped connection mid-body raises ConnectionError from the loop", function()
  local r <close> = http.stream(url("/drop/200000")):await()
  t.eq(r.status, 200)
  local total = 0
  local err = t.raises("ConnectionError", function()
    for chunk in r:iter_chunks() do total = total + #chunk end
  end)
  t.ok(total <= 100000, "got the first half at most")
  t.ok(err.url:find("/drop/"), "url")
end)

t.test("errors before the headers are raised by the await", function()
  t.raises("ConnectionError", function()
    return http.stream("http://127.0.0.1:" .. srv.closed .. "/"):await()
  end)
  t.raises("InvalidURL", function() return http.stream("gopher://x/"):await() end)
  t.raises("TimeoutError", function()
    return http.stream(url("/delay/3"), { timeout = 0.1 }):await()
  end)
  t.eq(http.default_client():stats().active, 0)
end)

t.test("max_body applies to streams", function()
  local r <close> = http.stream(url("/chunked/100000?size=1000"), { max_body = 5000 }):await()
  local total = 0
  t.raises("ResponseTooLarge", function()
    for chunk in r:iter_chunks() do total = total + #chunk end
  end)
  t.ok(total <= 5000, "never more than max_body: " .. total)
  t.raises("ResponseTooLarge", function()
    return http.stream(url("/bytes/5001"), { max_body = 5000 }):await()
  end)
end)

t.test("4xx streams are responses; redirects are followed first", function()
  local r <close> = http.stream(url("/status/404")):await()
  t.eq(r.status, 404)
  t.raises("HTTPStatusError", r.raise_for_status, r)
  t.eq(r:read():await(), "status 404\n")
  local r2 <close> = http.stream(url("/redirect/2")):await()
  t.eq(r2.status, 200)
  t.eq(r2.url, url("/redirect/0"))
  t.eq(r2:read():await(), "redirected\n")
  local r3 <close> = http.stream(url("/redirect/2"), { follow_redirects = false }):await()
  t.eq(r3.status, 302)
  t.eq(r3:read():await(), "")
end)

t.test("stream with a method and a body", function()
  local r <close> = http.stream(url("/echo"), { method = "post", body = "abc" }):await()
  t.eq(r.headers["x-method"], "POST")
  t.eq(r:read():await(), "abc")
end)

t.test("many concurrent streams", function()
  local c <close> = http.Client()
  local function one(i)
    local r <close> = c:stream(url("/bytes/" .. (50000 + i))):await()
    local n = 0
    for chunk in r:iter_chunks(10000) do n = n + #chunk end
    return n
  end
  local aws = {}
  for i = 1, 30 do aws[i] = asyncio.async(one)(i) end
  local rs = asyncio.gather(table.unpack(aws)):await()
  for i = 1, 30 do t.eq(rs[i], 50000 + i) end
  t.eq(c:stats().active, 0)
end)

t.run()
