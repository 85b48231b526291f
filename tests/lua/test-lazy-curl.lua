-- libcurl is loaded on the first require of asyncio.http, not at start-up:
-- linking it costs milliseconds of dynamic loading that a script without
-- HTTP should not pay.
local t = require "t"

local function curl_mapped()
  for line in io.lines("/proc/self/maps") do
    if line:find("libcurl", 1, true) then return true end
  end
  return false
end

local before = curl_mapped()

t.test("libcurl is not mapped at start-up", function()
  t.eq(before, false)
end)

t.test("require 'asyncio.http' loads it, and HTTP works without a network", function()
  local http = require "asyncio.http"
  t.eq(curl_mapped(), true)
  t.ok(http.curl_version:find("libcurl"), http.curl_version)
  t.eq(http.urljoin("http://a/b/c", "../d"), "http://a/d")
end)

t.run()
