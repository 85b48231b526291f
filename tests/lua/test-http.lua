-- test-http.lua -- asyncio.http against the local test server
-- (tests/http/server.py): the Response, every request option, every error
-- class, the Client and its defaults, URL helpers.
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

-- Parses the "name: value" lines of /headers.
local function echoed(body)
  local h = {}
  for k, v in body:gmatch("([^:\n]+): ([^\n]*)\n") do h[k] = v end
  return h
end

-- ---- Response --------------------------------------------------------------

t.test("get: status, reason, headers, body, url, elapsed", function()
  local r = http.get(url("/get")):await()
  t.eq(r.status, 200, "status")
  t.eq(r.reason, "OK", "reason")
  t.eq(r.body, "ok\n", "body")
  t.eq(r:text(), "ok\n", "text()")
  t.eq(r.url, url("/get"), "url")
  t.eq(r.http_version, "1.1", "http_version")
  t.eq(r.headers["content-type"], "text/plain", "content-type")
  t.eq(r.headers["content-length"], "3", "content-length")
  t.eq(r.headers["x-method"], "GET", "lower-case names")
  t.eq(r.headers["X-Method"], nil, "no mixed-case names")
  t.ok(type(r.elapsed) == "number" and r.elapsed >= 0 and r.elapsed < 5, "elapsed")
  t.eq(tostring(r), "<Response [200 OK]>", "tostring")
  t.eq(getmetatable(r), http.Response, "metatable")
end)

t.test("headers, reason and http_version are parsed on first use", function()
  local r = http.get(url("/response-headers?X-Fold=a")):await()
  t.eq(rawget(r, "headers"), nil, "not built yet")
  t.eq(r.reason, "OK")
  t.eq(type(rawget(r, "headers")), "table", "built with the reason")
  t.eq(r.headers["x-fold"], "a")
  t.eq(rawget(r, "_head"), nil, "raw head dropped")
  local r2 = http.get(url("/get")):await()
  r2.headers = "mine"
  t.eq(r2.http_version, "1.1")
  t.eq(r2.headers, "mine", "a field set by the user is kept")
  t.eq(r2.nonexistent, nil)
end)

t.test("awaitables start when awaited, like coroutines", function()
  local aw = http.get(url("/get"))
  t.eq(http.default_client():stats().active, 0, "nothing started yet")
  t.eq(asyncio.iscoroutine(aw), true, "a coroutine object")
  t.eq(aw:await().status, 200)
end)

t.test("repeated response headers are joined with ', '", function()
  local r = http.get(url("/response-headers?X-A=1&X-A=2&x-a=3&X-B=b")):await()
  t.eq(r.headers["x-a"], "1, 2, 3")
  t.eq(r.headers["x-b"], "b")
end)

t.test("4xx and 5xx are responses; raise_for_status raises HTTPStatusError", function()
  for _, code in ipairs { 400, 404, 418, 500, 503 } do
    local r = http.get(url("/status/" .. code)):await()
    t.eq(r.status, code, "status")
    t.eq(r.body, "status " .. code .. "\n", "body")
    local err = t.raises("HTTPStatusError", r.raise_for_status, r)
    t.eq(err.status, code, "err.status")
    t.eq(err.url, url("/status/" .. code), "err.url")
    t.eq(err.response, r, "err.response")
    t.ok(tostring(err):find(tostring(code), 1, true), "message names the code")
  end
  t.eq(http.get(url("/status/404")):await().reason, "Not Found")
  local ok = http.get(url("/status/201")):await()
  t.eq(ok:raise_for_status(), ok, "returns the response when fine")
  local r = http.get(url("/status/204")):await()
  t.eq(r.status, 204)
  t.eq(r.body, "")
end)

t.test("raise_for_status = true: per request, or for a Client (aiohttp's)", function()
  local err = t.raises("HTTPStatusError", function()
    return http.get(url("/status/404"), { raise_for_status = true }):await()
  end)
  t.eq(err.status, 404)
  t.eq(err.response.body, "status 404\n", "the response is on the error")
  local c <close> = http.Client { raise_for_status = true }
  t.eq(c:get(url("/status/201")):await().status, 201, "a success passes")
  t.raises("Server error '503", function() return c:get(url("/status/503")):await() end)
  t.eq(c:get(url("/status/503"), { raise_for_status = false }):await().status, 503,
       "a request may say otherwise")
  t.raises("HTTPStatusError", function() return c:stream(url("/status/500")):await() end)
  local s <close> = c:stream(url("/bytes/100")):await()
  t.eq(s.status, 200, "a stream that is fine")
end)

t.test("methods: get post put patch delete head options request", function()
  for _, m in ipairs { "get", "post", "put", "patch", "delete", "options" } do
    local r = http[m](url("/echo")):await()
    t.eq(r.headers["x-method"], m:upper(), m)
  end
  local h = http.head(url("/bytes/100")):await()
  t.eq(h.status, 200, "head status")
  t.eq(h.body, "", "head has no body")
  t.eq(h.headers["content-length"], "100", "head content-length")
  local r = http.request("propfind", url("/echo"), { body = "x" }):await()
  t.eq(r.status, 501, "a method the server lacks: its 501")
  t.eq(http.request("PUT", url("/echo"), { body = "abc" }):await().body, "abc")
end)

t.test("body: POST echo, binary, 2 MB, empty", function()
  local r = http.post(url("/echo"), {
    body = "hello", headers = { ["Content-Type"] = "text/x-test" } }):await()
  t.eq(r.body, "hello", "echo")
  t.eq(r.headers["x-content-type"], "text/x-test", "content type sent")
  local bin = pattern(2 * 1024 * 1024 + 7) .. "\0end"
  r = http.post(url("/echo"), { body = bin }):await()
  t.eq(r.headers["x-body-length"], tostring(#bin), "length")
  t.ok(r.body == bin, "2 MB binary body round-trips")
  r = http.post(url("/echo")):await()
  t.eq(r.headers["x-body-length"], "0", "empty POST")
  t.raises("body must be a string", function()
    return http.post(url("/echo"), { body = {} }):await()
  end)
end)

t.test("headers: sent, merged with client defaults, overridden, removed", function()
  local c <close> = http.Client { headers = { ["X-Default"] = "d", ["X-Over"] = "client" } }
  local h = echoed(c:get(url("/headers")):await().body)
  t.eq(h["x-default"], "d", "client default sent")
  t.eq(h["x-over"], "client")
  t.ok(h["user-agent"]:find("^aiolua/"), "user agent")
  h = echoed(c:get(url("/headers"), {
    headers = { ["x-over"] = "request", ["X-New"] = 42, ["User-Agent"] = false,
                ["X-Empty"] = "" } }):await().body)
  t.eq(h["x-default"], "d", "defaults kept")
  t.eq(h["x-over"], "request", "case-insensitive override")
  t.eq(h["x-new"], "42", "number value")
  t.eq(h["user-agent"], nil, "false removes a header")
  t.eq(h["x-empty"], "", "empty value")
  t.raises("newline", function()
    return c:get(url("/headers"), { headers = { X = "a\r\nB: c" } }):await()
  end)
  t.raises("invalid header name", function()
    return c:get(url("/headers"), { headers = { ["bad name"] = "x" } }):await()
  end)
end)

-- ---- redirects -----------------------------------------------------------

t.test("follow_redirects: chains, absolute, final url", function()
  local r = http.get(url("/redirect/3")):await()
  t.eq(r.status, 200)
  t.eq(r.body, "redirected\n")
  t.eq(r.url, url("/redirect/0"), "final url")
  r = http.get(url("/absolute-redirect/2")):await()
  t.eq(r.url, url("/absolute-redirect/0"))
  r = http.post(url("/redirect/1"), { body = "x" }):await()
  t.eq(r.headers["x-method"], "GET", "302 after POST becomes GET")
end)

t.test("follow_redirects = false returns the 3xx", function()
  local r = http.get(url("/redirect/2"), { follow_redirects = false }):await()
  t.eq(r.status, 302)
  t.eq(r.reason, "Found")
  t.eq(r.headers.location, "/redirect/1")
  t.eq(r.url, url("/redirect/2"))
  local c <close> = http.Client { follow_redirects = false }
  t.eq(c:get(url("/redirect/1")):await().status, 302, "client default")
  t.eq(c:get(url("/redirect/1"), { follow_redirects = true }):await().status, 200)
end)

t.test("max_redirects and loops raise TooManyRedirects", function()
  t.eq(http.get(url("/redirect/3"), { max_redirects = 3 }):await().status, 200)
  local err = t.raises("TooManyRedirects", function()
    return http.get(url("/redirect/4"), { max_redirects = 3 }):await()
  end)
  t.ok(err.url:find("/redirect/"), "err.url")
  err = t.raises(http.TooManyRedirects, function()
    return http.get(url("/loop")):await()
  end)
  t.eq(err.url, url("/loop"))
  t.raises("TooManyRedirects", function()
    return http.get(url("/redirect/1"), { max_redirects = 0 }):await()
  end)
end)

-- ---- errors --------------------------------------------------------------

t.test("InvalidURL: other schemes, garbage, relative, non-strings", function()
  for _, bad in ipairs { "ftp://127.0.0.1/", "file:///etc/passwd", "garbage",
                         "", "http://", "/relative/path", "http://exa mple/",
                         "://x", "mailto:a@b" } do
    local err = t.raises("InvalidURL", function() return http.get(bad):await() end)
    t.eq(err.url, bad, "err.url for " .. bad)
  end
  t.raises("InvalidURL", function() return http.get(42):await() end)
  t.raises("InvalidURL", function() return http.get(nil):await() end)
  -- a redirect to another scheme is refused too
  local err = t.raises("InvalidURL", function()
    return http.get(url("/redirect-to?url=ftp://127.0.0.1/x")):await()
  end)
  t.eq(type(err.message), "string")
  t.eq(http.get(url("/get")):await().status, 200, "next request works")
end)

t.test("ConnectionError: refused, with curl's message and the url", function()
  local u = "http://127.0.0.1:" .. srv.closed .. "/x"
  local err = t.raises("ConnectionError", function() return http.get(u):await() end)
  t.eq(err.url, u, "url")
  t.ok(err.message:find("[Cc]onnect"), "curl's message: " .. err.message)
  t.eq(type(err.curl_code), "number")
  t.ok(tostring(err):find("^ConnectionError: "), "tostring")
  -- the errno of the connect, and so Python's class of it
  t.eq(err.code, "ECONNREFUSED")
  t.eq(type(err.errno), "number")
  t.ok(asyncio.iserror(err, "ConnectionRefusedError"))
  t.ok(asyncio.iserror(err, http.ClientError), "an aiohttp ClientError")
  t.ok(asyncio.iserror(err, "OSError"))
  t.eq(asyncio.iserror(err, "ConnectionResetError"), false)
end)

t.test("ConnectionError: connection dropped mid-body", function()
  local err = t.raises("ConnectionError", function()
    return http.get(url("/drop/100000")):await()
  end)
  t.ok(err.message:find("remaining") or err.message:find("closed"), err.message)
  t.eq(http.get(url("/get")):await().status, 200, "next request works")
end)

t.test("timeout raises TimeoutError when the whole request is too slow", function()
  local t0 = now()
  local err = t.raises("TimeoutError", function()
    return http.get(url("/delay/3"), { timeout = 0.2 }):await()
  end)
  local dt = now() - t0
  t.ok(dt >= 0.15 and dt < 1.5, "took " .. dt)
  t.eq(err.url, url("/delay/3"))
  t.eq(http.get(url("/delay/0.05"), { timeout = 2 }):await().status, 200)
  t.eq(http.get(url("/get"), { timeout = math.huge, connect_timeout = 0 / 0 }):await().status,
       200, "huge and NaN timeouts mean none")
  local c <close> = http.Client { timeout = 0.2 }
  t.raises("TimeoutError", function() return c:get(url("/delay/3")):await() end)
  t.eq(c:get(url("/delay/0.3"), { timeout = 3 }):await().status, 200, "override")
end)

t.test("connect_timeout raises TimeoutError when connecting hangs", function()
  local u = "http://127.0.0.1:" .. srv.blackhole .. "/"
  local t0 = now()
  t.raises("TimeoutError", function()
    return http.get(u, { connect_timeout = 0.3 }):await()
  end)
  local dt = now() - t0
  t.ok(dt >= 0.25 and dt < 2, "took " .. dt)
  -- it bounds the connect only: a slow response is still fine
  t.eq(http.get(url("/delay/0.5"), { connect_timeout = 0.2 }):await().status, 200)
end)

t.test("max_body: ResponseTooLarge, by Content-Length and while streaming", function()
  t.eq(#http.get(url("/bytes/1000"), { max_body = 1000 }):await().body, 1000, "at limit")
  local err = t.raises("ResponseTooLarge", function()
    return http.get(url("/bytes/1001"), { max_body = 1000 }):await()
  end)
  t.eq(err.url, url("/bytes/1001"))
  t.raises(http.ResponseTooLarge, function()
    return http.get(url("/chunked/100000?size=1000"), { max_body = 5000 }):await()
  end)
  -- aborted as soon as exceeded, not at the end (this body takes 10 s)
  local t0 = now()
  t.raises("ResponseTooLarge", function()
    return http.get(url("/chunked/1000000?size=1000&delay=0.01"), { max_body = 3000 }):await()
  end)
  t.ok(now() - t0 < 1, "aborted early")
  local c <close> = http.Client { max_body = 10 }
  t.raises("ResponseTooLarge", function() return c:get(url("/bytes/11")):await() end)
  t.eq(c:get(url("/bytes/11"), { max_body = 11 }):await().status, 200)
end)

t.test("gzip bodies are decoded", function()
  local r = http.get(url("/gzip")):await()
  t.eq(r.body, ("compressed hello\n"):rep(100))
  t.eq(r.headers["content-encoding"], "gzip")
end)

t.test("large and chunked bodies", function()
  local r = http.get(url("/bytes/5000000")):await()
  t.ok(r.body == pattern(5000000), "5 MB body")
  r = http.get(url("/chunked/300001?size=777")):await()
  t.eq(r.headers["transfer-encoding"], "chunked")
  t.ok(r.body == pattern(300001), "chunked body")
  local parts = {}
  for chunk in r:iter_chunks(100000) do parts[#parts + 1] = #chunk end
  t.same_as(parts, { 100000, 100000, 100000, 1 }, "Response:iter_chunks")
end)

t.test("verify: TLS checked by default, off with false, CA file as string", function()
  local u = srv.https_url("/file/1k")
  if not u then print("# skip: no nginx"); return end
  local err = t.raises("ConnectionError", function() return http.get(u):await() end)
  t.ok(err.message:find("[Cc]ertificate"), err.message)
  local r = http.get(u, { verify = false }):await()
  t.eq(r.status, 200)
  t.ok(r.body == pattern(1024), "body over TLS")
  r = http.get(u, { verify = srv.cafile }):await()
  t.eq(r.status, 200, "verified against the test CA")
  t.eq(r.http_version, "2", "HTTP/2 over TLS")
  t.eq(r.reason, "OK", "reason filled in for HTTP/2")
  local c <close> = http.Client { verify = false }
  t.eq(c:get(u):await().status, 200, "client default")
end)

t.test("proxy: requests go through the given HTTP proxy", function()
  -- the test server answers absolute-form requests as a forward proxy would
  local r = http.get("http://proxied.invalid/headers", { proxy = url("") }):await()
  t.eq(r.status, 200)
  t.eq(echoed(r.body).host, "proxied.invalid", "Host of the target")
  local c <close> = http.Client { proxy = url("") }
  t.eq(c:get("http://proxied.invalid/get"):await().body, "ok\n", "client default")
  t.raises("ConnectionError", function()
    return http.get(url("/get"), { proxy = "http://127.0.0.1:" .. srv.closed }):await()
  end)
  t.eq(http.get(url("/get")):await().status, 200, "no proxy by default")
end)

t.test("options are checked", function()
  t.raises("unknown option 'timeuot'", function()
    return http.get(url("/get"), { timeuot = 1 }):await()
  end)
  t.raises("unknown option", function() http.Client { body = "x" } end)
  t.raises("options must be a table", function() return http.get(url("/get"), 5):await() end)
end)

-- ---- Client ----------------------------------------------------------------

-- ---- params, json, data ---------------------------------------------------

t.test("params: the query, encoded, appended; a list repeats its name", function()
  local r = http.get(url("/anything?x=1#frag"), {
    params = { q = "a b&c=d/é", n = 5, flag = true, list = { "1", "2" }, empty = "" },
  }):await()
  local doc = r:json()
  t.eq(doc.method, "GET")
  t.same_as(doc.args.q, { "a b&c=d/é" })
  t.same_as(doc.args.n, { "5" })
  t.same_as(doc.args.flag, { "true" })
  t.same_as(doc.args.list, { "1", "2" })
  t.same_as(doc.args.empty, { "" })
  t.same_as(doc.args.x, { "1" }, "kept the query it had")
  t.eq(http.urlencode({ b = "x y", a = { 1, 2 } }), "a=1&a=2&b=x%20y")
  t.raises("params must be a table",
           function() return http.get(url("/get"), { params = "q=1" }):await() end)
  t.raises("must be a string, got function",
           function() return http.get(url("/get"), { params = { f = print } }):await() end)
end)

t.test("json: the body encoded, Content-Type set; Response:json()", function()
  local json = require "asyncio.json"
  local value = { name = "é\"q", list = json.array({ 1, 2.5, false, json.null }),
                  nested = { empty = json.array(), obj = {} }, big = math.maxinteger }
  local r = http.post(url("/anything"), { json = value }):await()
  local doc = r:json()
  t.eq(doc.content_type, "application/json")
  t.eq(doc.canonical, json.encode(value), "Python reads what we wrote")
  t.eq(doc.json.name, "é\"q")
  t.eq(doc.json.list[4], json.null)
  t.eq(doc.json.big, math.maxinteger)
  -- an explicit Content-Type is kept
  doc = http.post(url("/anything"), { json = { a = 1 },
    headers = { ["content-type"] = "application/vnd.x+json" } }):await():json()
  t.eq(doc.content_type, "application/vnd.x+json")
  t.raises("not JSON serializable",
           function() return http.post(url("/anything"), { json = { f = print } }):await() end)
  t.raises("exclude each other",
           function() return http.post(url("/anything"), { json = 1, body = "x" }):await() end)
  -- a body that is not JSON
  local e = t.raises("JSONDecodeError", function() return http.get(url("/get")):await():json() end)
  t.eq(e.message, "Expecting value: line 1 column 1 (char 0)")
end)

t.test("data: a table is a form; a string is the body", function()
  local doc = http.post(url("/anything"), { data = { a = "1 2", b = { "x", "y" } } }):await():json()
  t.eq(doc.content_type, "application/x-www-form-urlencoded")
  t.same_as(doc.form.a, { "1 2" })
  t.same_as(doc.form.b, { "x", "y" })
  doc = http.put(url("/anything"), { data = "raw", headers = { ["Content-Type"] = "text/x" } }):await():json()
  t.eq(doc.method, "PUT")
  t.eq(doc.data, "raw")
  t.eq(doc.content_type, "text/x")
end)

t.test("files: a multipart/form-data body, with data's fields", function()
  local binary = ""
  for i = 0, 255 do binary = binary .. string.char(i) end
  local doc = http.post(url("/anything"), {
    data = { title = "a \"quoted\" title", n = 3 },
    files = {
      report = { content = "col1,col2\r\n1,2\r\n", filename = "report.csv",
                 content_type = "text/csv" },
      blob = binary,                                    -- name as filename
    },
  }):await():json()
  t.ok(doc.content_type:find("^multipart/form%-data; boundary=aiolua%-"), doc.content_type)
  t.same_as(doc.form.title, { 'a "quoted" title' })
  t.same_as(doc.form.n, { "3" })
  t.eq(doc.files.report.filename, "report.csv")
  t.eq(doc.files.report.content_type, "text/csv")
  t.eq(doc.files.report.content, "col1,col2\r\n1,2\r\n")
  t.eq(doc.files.blob.filename, "blob")
  t.eq(doc.files.blob.content_type, "application/octet-stream")
  t.eq(doc.files.blob.hex, (binary:gsub(".", function(c) return ("%02x"):format(c:byte()) end)),
       "every byte, as Python's email parser reads it")
  -- a file whose content holds what a boundary looks like
  doc = http.post(url("/anything"), { files = { f = "--aiolua-0\r\n--aiolua-" } }):await():json()
  t.eq(doc.files.f.content, "--aiolua-0\r\n--aiolua-")
  t.raises("files go with data", function()
    return http.post(url("/anything"), { files = { f = "x" }, json = {} }):await() end)
  t.raises("data must be a table when files", function()
    return http.post(url("/anything"), { files = { f = "x" }, data = "raw" }):await() end)
  t.raises("must be a string or {content", function()
    return http.post(url("/anything"), { files = { f = 5 } }):await() end)
  t.raises("filename and content_type must be strings", function()
    return http.post(url("/anything"), { files = { f = { content = "x", content_type = "a\nb" } } }):await() end)
  t.raises("files must be a table", function()
    return http.post(url("/anything"), { files = "x" }):await() end)
end)

t.test("auth: HTTP Basic, per request and as a Client default", function()
  local r = http.get(url("/headers"), { auth = { "user", "pässword" } }):await()
  t.eq(echoed(r.body).authorization, "Basic " .. http.base64("user:pässword"))
  t.eq(http.base64("user:pass"), "dXNlcjpwYXNz")
  t.eq(http.base64(""), "")
  t.eq(http.base64("a"), "YQ==")
  t.eq(http.base64("ab"), "YWI=")
  local c <close> = http.Client { auth = { login = "al", password = "x" } }
  t.eq(echoed(c:get(url("/headers")):await().body).authorization, "Basic YWw6eA==")
  r = c:get(url("/headers"), { headers = { authorization = "Bearer t" } }):await()
  t.eq(echoed(r.body).authorization, "Bearer t", "a given header wins")
  r = c:get(url("/headers"), { auth = { "bo", "y" } }):await()
  t.eq(echoed(r.body).authorization, "Basic Ym86eQ==", "the request's auth wins")
  t.raises("cannot contain ':'", http.Client, { auth = { "a:b", "c" } })
  t.raises("auth must be", http.Client, { auth = "user:pass" })
end)

t.test("base_url: relative URLs are joined to it", function()
  local c <close> = http.Client { base_url = url("/status/") }
  t.eq(c:get("201"):await().status, 201)
  t.eq(c:get("../get"):await().body, "ok\n")
  t.eq(c:get(url("/status/202")):await().status, 202, "an absolute URL as it is")
  t.raises("base_url must be a string", http.Client, { base_url = 5 })
end)

-- The Cookie header /cookies saw, its pairs sorted (curl picks the order).
local function sent_cookies(client)
  local aw = client and client:get(url("/cookies")) or http.get(url("/cookies"))
  local body = aw:await().body
  local pairs_ = {}
  for kv in body:gmatch("[^;%s]+") do pairs_[#pairs_ + 1] = kv end
  table.sort(pairs_)
  return table.concat(pairs_, " ")
end

t.test("cookies: a Client keeps them (a session), the module functions do not", function()
  local c <close> = http.Client()
  t.eq(c:get(url("/cookies/set?a=1&b=two")):await().status, 200)
  t.eq(sent_cookies(c), "a=1 b=two")
  local jar = c:cookies()
  table.sort(jar, function(x, y) return x.name < y.name end)
  t.eq(#jar, 2)
  t.eq(jar[1].name, "a")
  t.eq(jar[1].value, "1")
  t.eq(jar[1].domain, "127.0.0.1")
  t.eq(jar[1].path, "/")
  t.eq(jar[1].secure, false)
  t.eq(jar[1].expires, 0, "a session cookie")
  c:get(url("/cookies/delete?a")):await()
  t.eq(sent_cookies(c), "b=two", "expired by the server")
  c:set_cookie("Set-Cookie: c=3; Domain=127.0.0.1; Path=/")
  t.eq(sent_cookies(c), "b=two c=3")
  c:set_cookie("ALL")
  t.eq(sent_cookies(c), "", "cleared")
  t.raises("cookie line", c.set_cookie, c, "FLUSH")
  -- a Client without a jar, and the default client
  local plain <close> = http.Client { cookies = false }
  plain:get(url("/cookies/set?p=1")):await()
  t.eq(sent_cookies(plain), "")
  t.same_as(plain:cookies(), {})
  t.raises("keeps no cookies", plain.set_cookie, plain, "ALL")
  http.get(url("/cookies/set?m=1")):await()
  t.eq(sent_cookies(), "")
  c:close()
  t.raises("closed", c.cookies, c)
end)

t.test("module functions reuse one connection (keep-alive)", function()
  local a = http.get(url("/conn")):await().body
  local b = http.get(url("/conn")):await().body
  t.eq(a, b, "same client port: the connection was reused")
  t.eq(http.default_client(), http.default_client())
end)

t.test("Client: own pool, close, __close, stats", function()
  local c = http.Client()
  local a = c:get(url("/conn")):await().body
  t.eq(c:get(url("/conn")):await().body, a, "reused within the client")
  t.ok(http.get(url("/conn")):await().body ~= a, "not shared with the default client")
  local s = c:stats()
  t.eq(s.active, 0, "active")
  t.eq(s.transfers, 0, "transfers")
  t.ok(s.idle >= 1, "idle handles kept for reuse")
  c:close()
  c:close()
  t.eq(c:closed(), true)
  t.eq(tostring(c), "http.Client (closed)")
  t.raises("closed", function() return c:get(url("/get")):await() end)
  do
    local c2 <close> = http.Client()
    t.eq(c2:get(url("/get")):await().status, 200)
    c = c2
  end
  t.eq(c:closed(), true, "__close closed it")
end)

t.test("a Client left to the garbage collector is freed", function()
  local weak = setmetatable({}, { __mode = "k" })
  do
    local c = http.Client()
    c:get(url("/get")):await()
    weak[c] = true
  end
  collectgarbage()
  collectgarbage()
  t.eq(next(weak), nil, "collected")
  asyncio.sleep(0):await()
end)

-- ---- URLs ----------------------------------------------------------------

t.test("urljoin", function()
  local j = http.urljoin
  t.eq(j("http://a/b/c/d;p?q", "g"), "http://a/b/c/g")
  t.eq(j("http://a/b/c/d;p?q", "../g"), "http://a/b/g")
  t.eq(j("http://a/b/c/d;p?q", "/g"), "http://a/g")
  t.eq(j("http://a/b/c/d;p?q", "//g/x"), "http://g/x")
  t.eq(j("http://a/b/c/d;p?q", "?y"), "http://a/b/c/d;p?y")
  t.eq(j("http://a/b/c/d;p?q", "g?y#s"), "http://a/b/c/g?y#s")
  t.eq(j("http://a/b/", "https://other/x"), "https://other/x")
  t.eq(j("http://a/b/c", ""), "http://a/b/c")
  t.raises("InvalidURL", j, "not a url", "x")
end)

t.test("urlparse", function()
  t.same_as(http.urlparse("https://u:p@host.example:8443/a/b?x=1&y=2#frag"), {
    scheme = "https", user = "u", password = "p", host = "host.example",
    port = 8443, path = "/a/b", query = "x=1&y=2", fragment = "frag" })
  t.same_as(http.urlparse("http://h/"), { scheme = "http", host = "h", path = "/" })
  t.eq(http.urlparse("http://[::1]:80/").host, "[::1]")
  t.eq(http.urlparse("http://[::1]:80/").port, 80)
  t.raises("InvalidURL", http.urlparse, "garbage")
  t.raises("InvalidURL", http.urlparse, "")
end)

t.run()
