-- shutdown.lua -- the process exits cleanly (and, under ASan, without a
-- leak or a bad access) with HTTP work left behind: requests in flight in
-- leftover tasks, a Client never closed with idle connections, a paused
-- stream never read.  Run by ctest (cmake/http.cmake); prints "done".
local asyncio = require "asyncio"
local http = require "asyncio.http"
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local srv = dofile(here .. "fixture.lua")

Kept = http.Client()                    -- never closed: freed by __gc
asyncio.run(function()
  Kept:get(srv.url("/get")):await()     -- an idle keep-alive connection
  asyncio.create_task(http.get(srv.url("/delay/5")))
  asyncio.create_task(Kept:get(srv.url("/delay/5")))
  Stream = Kept:stream(srv.url("/bytes/50000000")):await()
  asyncio.sleep(0.1):await()            -- leftovers are cancelled by run
end)
print("done")
