-- test-http-cancel.lua -- cancelling HTTP requests: task:cancel(),
-- wait_for, asyncio.timeout, gather, Client:close() and the garbage
-- collector each remove the transfer at once, leave no handle behind, and
-- the next request works.
local t = require "t"
local asyncio = require "asyncio"
local http = require "asyncio.http"
local srv = dofile("../http/fixture.lua")
local url = srv.url

local function now() return asyncio.get_running_loop():time() end

-- Nothing of c's is left running.
local function clean(c, what)
  local s = c:stats()
  t.eq(s.active, 0, (what or "") .. " active requests")
  t.eq(s.transfers, 0, (what or "") .. " transfers in curl")
  t.eq(s.sockets, 0, (what or "") .. " sockets watched")
end

-- Waits until c has n transfers in curl (so a request is really in flight).
local function inflight(c, n)
  for _ = 1, 200 do
    if c:stats().transfers >= n then return end
    asyncio.sleep(0.005):await()
  end
  error("transfers never started")
end

t.test("task:cancel() mid-flight removes the transfer; next request works", function()
  local c <close> = http.Client()
  local task = asyncio.create_task(c:get(url("/delay/3")))
  inflight(c, 1)
  t.eq(task:cancel(), true, "cancel() accepted")
  t.raises("CancelledError", function() return task:await() end)
  t.eq(task:cancelled(), true)
  clean(c, "after cancel")
  local t0 = now()
  t.eq(c:get(url("/get")):await().status, 200, "next request")
  t.ok(now() - t0 < 1, "not blocked behind the cancelled one")
  t.eq(task:cancel(), false, "cancel after completion is a no-op")
end)

t.test("cancel before the request starts, and cancel twice", function()
  local c <close> = http.Client()
  local task = asyncio.create_task(c:get(url("/delay/3")))
  task:cancel()
  task:cancel()
  t.raises("CancelledError", function() return task:await() end)
  clean(c, "never started")
  task = asyncio.create_task(c:get(url("/delay/3")))
  inflight(c, 1)
  task:cancel()
  task:cancel()
  t.raises("CancelledError", function() return task:await() end)
  clean(c)
end)

t.test("wait_for timeout cancels the request", function()
  local t0 = now()
  t.raises("TimeoutError", function()
    return asyncio.wait_for(http.get(url("/delay/3")), 0.1):await()
  end)
  t.ok(now() - t0 < 1, "in time")
  clean(http.default_client(), "default client")
  t.eq(asyncio.wait_for(http.get(url("/get")), 2):await().status, 200)
end)

t.test("asyncio.timeout around a request", function()
  t.raises("TimeoutError", function()
    return asyncio.timeout(0.1, function()
      return http.get(url("/delay/3")):await()
    end):await()
  end)
  clean(http.default_client())
  t.eq(http.get(url("/get")):await().status, 200)
end)

t.test("cancel while the body is arriving", function()
  local c <close> = http.Client()
  local task = asyncio.create_task(c:get(url("/slow/100000?size=1000&delay=0.02")))
  asyncio.sleep(0.2):await()
  task:cancel()
  t.raises("CancelledError", function() return task:await() end)
  clean(c)
  t.eq(c:get(url("/bytes/10")):await().status, 200)
end)

t.test("cancelling a gather cancels all its requests", function()
  local c <close> = http.Client()
  local aws = {}
  for i = 1, 20 do aws[i] = c:get(url("/delay/3")) end
  local g = asyncio.gather(table.unpack(aws))
  inflight(c, 20)
  g:cancel()
  t.raises("CancelledError", function() return g:await() end)
  asyncio.sleep(0):await()
  clean(c, "after gather cancel")
end)

t.test("50 cancelled requests, then 50 that succeed", function()
  local c <close> = http.Client()
  local tasks = {}
  for i = 1, 50 do tasks[i] = asyncio.create_task(c:get(url("/delay/2"))) end
  inflight(c, 50)
  for _, task in ipairs(tasks) do task:cancel() end
  for _, task in ipairs(tasks) do pcall(task.await, task) end
  clean(c)
  local aws = {}
  for i = 1, 50 do aws[i] = c:get(url("/get")) end
  local rs = asyncio.gather(table.unpack(aws)):await()
  for i = 1, 50 do t.eq(rs[i].status, 200) end
  clean(c)
end)

t.test("Client:close() with requests in flight raises ConnectionError in them", function()
  local c = http.Client()
  local tasks = {}
  for i = 1, 5 do tasks[i] = asyncio.create_task(c:get(url("/delay/3"))) end
  inflight(c, 5)
  c:close()
  for _, task in ipairs(tasks) do
    local err = t.raises("ConnectionError", function() return task:await() end)
    t.ok(err.message:find("closed"), err.message)
  end
end)

t.test("an abandoned stream is torn down by the garbage collector", function()
  local c <close> = http.Client()
  do
    local r = c:stream(url("/bytes/10000000")):await()
    t.eq(r.status, 200)
  end
  t.eq(c:stats().active, 1, "still open")
  collectgarbage()
  collectgarbage()
  clean(c, "after gc")
  t.eq(c:get(url("/get")):await().status, 200)
end)

t.test("the runtime stays responsive while requests are cancelled", function()
  local c <close> = http.Client()
  for _ = 1, 3 do
    local task = asyncio.create_task(c:get(url("/delay/1")))
    asyncio.sleep(0.01):await()
    task:cancel()
    pcall(task.await, task)
  end
  clean(c)
end)

t.run()
