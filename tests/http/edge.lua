-- edge.lua -- asyncio.http misused or raced: bad arguments (a number body
-- to the C half, a method that is not a token, iter_chunks(0)), a stream
-- closed by another task or by its Client's close, and finalizers that
-- close the Client while a Request's C method still uses its slot (run
-- under ASan, these were use-after-frees).  Run by ctest from tests/http.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path
local t = require "t"
local asyncio = require "asyncio"
local http = require "asyncio.http"
local srv = dofile(here .. "fixture.lua")
local url = srv.url

-- 100000 bytes in 1000-byte pieces, one every 50 ms: a reader waits.
local SLOW = "/slow/100000?size=1000&delay=0.05"

-- Runs fn() calling action() from a finalizer at about the k-th Lua
-- allocation fn makes, then restores the GC (the runtime's setting,
-- runtime/runtime.c).  With a GC stepping on every allocation, a
-- finalizer that re-arms itself runs once per allocation, once the GC
-- has settled into that.
local function during(k, action, fn)
  local left, calls, mt = nil, 0, {}
  mt.__gc = function()
    calls = calls + 1
    if left == nil or left > 1 then
      left = left and left - 1
      setmetatable({}, mt)
    elseif left == 1 then
      left = 0
      action()
    end
  end
  local restore <close> = setmetatable({}, { __close = function()
    left = 0
    collectgarbage("incremental", 400, 100, 13)
  end })
  collectgarbage("incremental", 1, 1000, 13)
  setmetatable({}, mt)
  local streak = 0
  for _ = 1, 100000 do
    local before = calls
    local _ = {}
    streak = calls > before and streak + 1 or 0
    if streak == 20 then break end
  end
  left = k
  return fn()
end

t.test("the C half takes a string body or nil, not a number", function()
  local c <close> = http.Client()
  t.raises("string expected", function()
    return c._c:start("POST", url("/echo"), false, nil, 123456789.5)
  end)
  -- the string curl is given lives as long as the Request (long strings
  -- are not interned: `want` is another string)
  local stamp = tostring(os.time())
  local want = ("body "):rep(50) .. stamp
  local req, fut = c._c:start("POST", url("/echo"), false, nil,
                              ("body "):rep(50) .. stamp)
  collectgarbage()
  collectgarbage()
  fut:await()
  t.eq(req:response().body, want, "echoed")
end)

t.test("a method must be a token", function()
  local c <close> = http.Client()
  local bad = { "GET /admin HTTP/1.1\r\nX-Injected: yes\r\n\r\nDELETE",
                "GET ", "", "G\0ET", "PO(ST)", "GET\n", 42 }
  for _, m in ipairs(bad) do
    t.raises("invalid method", function() return http.request(m, url("/get")) end)
    t.raises("invalid method", function() return c:request(m, url("/get")) end)
    t.raises("invalid method", function()
      return c:stream(url("/get"), { method = m }):await()
    end)
    if type(m) == "string" then
      t.raises("invalid method", function() return c._c:start(m, url("/get")) end)
    end
  end
  t.eq(c:stats().active, 0, "nothing started")
  t.eq(c:request("get", url("/get")):await().headers["x-method"], "GET")
  t.eq(http.request("X-Custom_1.0~", url("/get")):await().status, 501,
       "an unknown token goes to the server")
end)

t.test("iter_chunks(n) takes nil or a positive integer", function()
  local r = http.get(url("/bytes/10")):await()
  for _, n in ipairs { 0, -1, 1.5, "4", math.huge, false } do
    t.raises("chunk size must be a positive integer", function()
      return r:iter_chunks(n)
    end)
  end
  local n = 0
  for chunk in r:iter_chunks(3) do n = n + #chunk end
  t.eq(n, 10)
  t.eq(#r:iter_chunks(4.0)(), 4)
  local s <close> = http.stream(url("/bytes/10")):await()
  t.raises("chunk size must be a positive integer", function()
    return s:iter_chunks(0)
  end)
  t.eq(#s:iter_chunks(6)(), 6)
end)

t.test("closing a stream wakes its reader in another task", function()
  local c <close> = http.Client()
  local s = c:stream(url(SLOW)):await()
  local got = 0
  local reader = asyncio.create_task(function()
    for chunk in s:iter_chunks() do got = got + #chunk end
  end)
  asyncio.sleep(0.2):await()
  s:close()
  local err = t.raises("ConnectionError", function()
    return asyncio.wait_for(reader, 2):await()
  end)
  t.ok(err.message:find("response closed"), err.message)
  t.ok(got > 0 and got < 100000, "part of the body: " .. got)
  t.eq(c:stats().active, 0)
  t.eq(s:iter_chunks()(), nil, "closed by its owner: no more chunks")
end)

t.test("a stream whose Client is closed raises instead of ending", function()
  local c = http.Client()
  local s = c:stream(url(SLOW)):await()
  asyncio.sleep(0.2):await()
  c:close()
  local err = t.raises("ConnectionError", function() return s:read():await() end)
  t.ok(err.message:find("client closed"), err.message)
  t.raises("client closed", function() return s:read():await() end)
  -- a reader waiting for a chunk when the client closes
  c = http.Client()
  s = c:stream(url(SLOW)):await()
  local reader = asyncio.create_task(s:read())
  asyncio.sleep(0.2):await()
  c:close()
  t.raises("client closed", function() return asyncio.wait_for(reader, 2):await() end)
  -- read to the end first: closing the client then loses nothing
  c = http.Client()
  s = c:stream(url("/bytes/1000")):await()
  t.eq(#s:read():await(), 1000)
  c:close()
  t.eq(s:iter_chunks()(), nil, "still the end")
end)

-- A finalizer may run at any Lua allocation, in the middle of a C method
-- of the Request; one that closes the Client frees the slot under it.
t.test("a finalizer closing the Client inside response()", function()
  for k = 1, 24 do
    local c = http.Client()
    local req, fut = c._c:start("GET", url("/bytes/100000"), false)
    fut:await()
    local ok, r = during(k, function() c:close() end, function()
      return pcall(req.response, req)
    end)
    if ok then
      t.eq(#r.body, 100000)
    else
      t.eq(r.type, "ConnectionError", tostring(r))
    end
    c:close()
  end
end)

t.test("a finalizer closing the Client inside next_chunk()", function()
  for k = 1, 60 do
    local c = http.Client()
    local s = c:stream(url("/bytes/300000")):await()
    local ok, err = during(k, function() c:close() end, function()
      return pcall(function()
        for _ in s:iter_chunks(8192) do end
      end)
    end)
    t.ok(ok or err.type == "ConnectionError", tostring(err))
    c:close()
  end
end)

t.test("a finalizer closing the Client inside Client:start", function()
  for k = 1, 6 do
    local c = http.Client()
    local cc, u, hdrs = c._c, url("/get"), { "X-A: 1", "X-B: 2" }
    local ok, req, fut = during(k, function() c:close() end, function()
      return pcall(cc.start, cc, "GET", u, false, hdrs)
    end)
    if ok then
      pcall(fut.await, fut)      -- done, or rejected by the close
      req:close()
    else
      t.ok(tostring(req):find("closed"), tostring(req))
    end
    c:close()
  end
end)

t.test("a finalizer closing Requests inside Client:close", function()
  for k = 1, 6 do
    local c = http.Client()
    local reqs, futs = {}, {}
    for i = 1, 3 do reqs[i], futs[i] = c._c:start("GET", url("/delay/1"), false) end
    during(k, function()
      for i = 1, 3 do reqs[i]:close() end
    end, function() c:close() end)
    for i = 1, 3 do
      t.raises("closed", function() return futs[i]:await() end)
    end
  end
end)

t.run()
