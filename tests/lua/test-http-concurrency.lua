-- test-http-concurrency.lua -- many requests at once: 200 concurrent
-- requests to a 300 ms endpoint, connection limits that queue, keep-alive
-- reuse, HTTP/2 multiplexing (nginx), and a long run with no leak.
local t = require "t"
local asyncio = require "asyncio"
local http = require "asyncio.http"
local srv = dofile("../http/fixture.lua")
local url = srv.url

local function now() return asyncio.get_running_loop():time() end

local function all(c, n, path, opts)
  local aws = {}
  for i = 1, n do aws[i] = c:get(url(path), opts) end
  return asyncio.gather(table.unpack(aws)):await()
end

t.test("200 concurrent requests to a 300 ms endpoint finish in well under 1 s", function()
  local c <close> = http.Client()
  local t0 = now()
  local rs = all(c, 200, "/delay/0.3")
  local dt = now() - t0
  t.eq(rs.n, 200)
  for i = 1, 200 do t.eq(rs[i].status, 200) end
  print(string.format("# 200 x 300 ms in %.3f s", dt))
  t.ok(dt < 0.8, "took " .. dt)
end)

t.test("max_per_host queues requests instead of failing them", function()
  local c <close> = http.Client { max_per_host = 2 }
  local t0 = now()
  local rs = all(c, 6, "/delay/0.2")
  local dt = now() - t0
  for i = 1, 6 do t.eq(rs[i].status, 200) end
  t.ok(dt >= 0.55 and dt < 2, "three rounds of two: " .. dt)
end)

t.test("max_connections queues requests instead of failing them", function()
  local c <close> = http.Client { max_connections = 3 }
  local t0 = now()
  local rs = all(c, 9, "/delay/0.2")
  local dt = now() - t0
  for i = 1, 9 do t.eq(rs[i].status, 200) end
  t.ok(dt >= 0.55 and dt < 2, "three rounds of three: " .. dt)
  local ports = {}
  for _, r in ipairs(all(c, 9, "/conn")) do ports[r.body] = true end
  local n = 0
  for _ in pairs(ports) do n = n + 1 end
  t.ok(n <= 3, "at most 3 connections: " .. n)
end)

t.test("keep-alive: sequential requests share one connection", function()
  local c <close> = http.Client()
  local first = c:get(url("/conn")):await().body
  for _ = 1, 20 do t.eq(c:get(url("/conn")):await().body, first) end
end)

t.test("HTTP/2: concurrent requests multiplexed on one connection", function()
  local u = srv.https_url("/conn")
  if not u then print("# skip: no nginx"); return end
  local c <close> = http.Client { verify = srv.cafile }
  local aws = {}
  for i = 1, 20 do aws[i] = c:get(u) end
  local rs = asyncio.gather(table.unpack(aws)):await()
  local conns = {}
  for i = 1, 20 do
    t.eq(rs[i].status, 200)
    t.eq(rs[i].http_version, "2")
    conns[rs[i].body] = true
  end
  local n = 0
  for _ in pairs(conns) do n = n + 1 end
  t.eq(n, 1, "one connection")
end)

t.test("2000 requests, 100 at a time: the pool does not grow", function()
  local c <close> = http.Client()
  local sem = asyncio.Semaphore(100)
  local one = asyncio.async(function()
    local g <close> = sem:acquire():await()
    return c:get(url("/bytes/1024")):await()
  end)
  local aws = {}
  for i = 1, 2000 do aws[i] = one() end
  local t0 = now()
  local rs = asyncio.gather(table.unpack(aws)):await()
  local dt = now() - t0
  for i = 1, 2000 do assert(#rs[i].body == 1024) end
  local s = c:stats()
  t.eq(s.active, 0)
  t.ok(s.idle <= 100, "idle handles: " .. s.idle)
  print(string.format("# 2000 GETs of 1 KB in %.3f s (%.0f/s, python server)", dt, 2000 / dt))
end)

t.run()
