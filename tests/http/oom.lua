-- oom.lua -- out of memory at every allocation in turn (tests/c/memlimit.c's
-- fail_after) of HTTP requests: inside libcurl's callbacks too, the error
-- never unwinds through libcurl or libuv; each asyncio.run raises or
-- returns, and a request afterwards works.  Run by ctest (cmake/http.cmake)
-- with the memlimit module's folder as argument; prints "all N ...".
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local asyncio = require "asyncio"
local http = require "asyncio.http"
local ml = require "memlimit"
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local srv = dofile(here .. "fixture.lua")
ml.install()

local S = {}
S.get = function() return http.get(srv.url("/get")):await().status end
S.client_body = function()
  local c <close> = http.Client()
  local r = c:get(srv.url("/bytes/20000")):await()
  return #r.body
end
S.post = function()
  return http.post(srv.url("/post"), { body = ("x"):rep(5000) }):await().status
end
S.stream = function()
  local s = http.stream(srv.url("/bytes/100000")):await()
  local n = 0
  for chunk in s:iter_chunks(8192) do n = n + #chunk end
  return n
end
S.timeout = function()
  return pcall(asyncio.await, asyncio.wait_for(http.get(srv.url("/delay/0.5")), 0.02))
end
S.gather = function()
  local r = asyncio.gather(http.get(srv.url("/get")), http.get(srv.url("/bytes/1000"))):await()
  return #r
end

local function canary()
  return asyncio.run(function() return http.get(srv.url("/get")):await().status end)
end
assert(canary() == 200)

local count = dofile(here .. "../oom-lib.lua")(ml, S, function()
  return canary() == 200
end, 20000)
print(("all %d scenarios ran on"):format(count))
