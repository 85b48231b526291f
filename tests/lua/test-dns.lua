-- test-dns.lua -- loop:getaddrinfo and loop:getnameinfo as CPython's: the
-- system resolver on the thread pool (only names /etc/hosts or numbers
-- resolve here: no network), tuples with names, gaierror, cancellation.
local asyncio = require "asyncio"
local t = require "t"

local S = asyncio.socket

t.test("getaddrinfo: numeric and local names, as Python's tuples", function()
  local loop = asyncio.get_running_loop()
  local list = loop:getaddrinfo("127.0.0.1", 8080, { type = S.SOCK_STREAM }):await()
  t.eq(#list, 1)
  local a = list[1]
  t.eq(a.family, S.AF_INET)
  t.eq(a[1], S.AF_INET, "as a tuple too")
  t.eq(a.type, S.SOCK_STREAM)
  t.eq(a.proto, S.IPPROTO_TCP)
  t.same_as(a.sockaddr, { "127.0.0.1", 8080 })
  t.same_as(a[5], { "127.0.0.1", 8080 })
  local six = loop:getaddrinfo("::1", "443", { type = S.SOCK_DGRAM }):await()
  t.eq(six[1].family, S.AF_INET6)
  t.same_as(six[1].sockaddr, { "::1", 443 })
  local lh = loop:getaddrinfo("localhost", nil, { family = S.AF_INET, type = S.SOCK_STREAM }):await()
  t.eq(lh[1].sockaddr[1], "127.0.0.1", "from /etc/hosts")
  local any = loop:getaddrinfo(nil, 80, { flags = S.AI_PASSIVE, family = S.AF_INET,
                                          type = S.SOCK_STREAM }):await()
  t.eq(any[1].sockaddr[1], "0.0.0.0", "a passive wildcard")
end)

t.test("getnameinfo: numeric forms; errors", function()
  local loop = asyncio.get_running_loop()
  local host, serv = loop:getnameinfo({ "127.0.0.1", 80 },
                                      S.NI_NUMERICHOST | S.NI_NUMERICSERV):await()
  t.eq(host, "127.0.0.1")
  t.eq(serv, "80")
  t.raises("is not an IP address", asyncio.await, loop:getnameinfo({ "localhost", 80 }))
  t.raises("sockaddr must be {host, port}", asyncio.await, loop:getnameinfo({ "127.0.0.1" }))
end)

t.test("an unknown name is a gaierror (an OSError)", function()
  local loop = asyncio.get_running_loop()
  local ok, err = pcall(asyncio.await, loop:getaddrinfo("no-such-host.invalid", 80))
  t.eq(ok, false)
  t.ok(asyncio.iserror(err, "gaierror"), tostring(err))
  t.ok(asyncio.iserror(err, "OSError"))
  t.ok(err.code:find("^EAI_"), err.code)
  t.raises("a host or a port is needed", asyncio.await, loop:getaddrinfo())
  t.raises("port out of range", asyncio.await, loop:getaddrinfo("x", 70000))
  local co = loop:getaddrinfo("127.0.0.1", 1)
  t.ok(asyncio.iscoroutine(co), "a coroutine, as CPython's")
  t.ok(#co:await() >= 1, "its addresses")
end)

t.test("cancelled while resolving: nothing leaks, the loop goes on", function()
  local loop = asyncio.get_running_loop()
  local tasks = {}
  for i = 1, 20 do
    tasks[i] = asyncio.create_task(loop:getaddrinfo("127.0.0." .. i, 80))
  end
  for i = 1, 20, 2 do tasks[i]:cancel() end
  local r = asyncio.gather({ return_exceptions = true, table.unpack(tasks) }):await()
  local cancelled, done = 0, 0
  for i = 1, 20 do
    if asyncio.iserror(r[i], "CancelledError") then cancelled = cancelled + 1
    else done = done + 1 end
  end
  t.eq(cancelled, 10)
  t.eq(done, 10)
end)

t.run()
