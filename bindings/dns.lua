-- dns.lua -- the loop's getaddrinfo and getnameinfo (loaded on first use):
-- coroutines, as CPython's, over the futures of bindings/dns.c.
local asyncio = require "asyncio"
local C = require "aiolua.dns"
local async, await = asyncio.async, asyncio.await

return {
  socket = C.socket,   -- asyncio.socket: AF_*, SOCK_*, IPPROTO_*, AI_*, NI_*
  getaddrinfo = async(function(host, port, opts)
    return await(C.getaddrinfo(host, port, opts))
  end, "getaddrinfo"),
  getnameinfo = async(function(sockaddr, flags)
    return await(C.getnameinfo(sockaddr, flags))
  end, "getnameinfo"),
}
