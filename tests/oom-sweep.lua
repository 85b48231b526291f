-- oom-sweep.lua -- out of memory at every allocation in turn
-- (tests/c/memlimit.c's fail_after) of each scenario below, run by
-- asyncio.run: the run raises or returns, never crashes or hangs, and the
-- runtime runs the next asyncio.run (a canary) as if nothing happened.
-- With --once, only that one allocation fails (fail_once: a transient
-- shortage) and the run goes on after it.
-- Usage: aiolua oom-sweep.lua DIR_OF_MEMLIMIT_SO [--once] [SCENARIO]
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local once = arg[2] == "--once"
local only = arg[once and 3 or 2]
local ml = require "memlimit"
ml.install()
local tmp = os.tmpname()
PID = io.open("/proc/self/stat"):read("l"):match("^%d+")

local S = {}
S.task = function()
  local t = asyncio.create_task(function() asyncio.sleep(0):await(); return 1 end)
  return t:await()
end
S.gather_coros = function()
  local f = asyncio.async(function(i) asyncio.sleep(0):await(); return i end)
  return asyncio.gather(f(1), f(2), f(3)):await()
end
S.gather_fail = function()
  local f = asyncio.async(function(i) asyncio.sleep(0):await(); error("x" .. i) end)
  return asyncio.gather({f(1), f(2), return_exceptions = true}):await()
end
S.queue = function()
  local q = asyncio.Queue(2)
  local p = asyncio.create_task(function() for i = 1, 10 do q:put(i):await() end end)
  local s = 0
  for _ = 1, 10 do s = s + q:get():await() end
  p:await()
  return s
end
S.lock = function()
  local l = asyncio.Lock()
  local function w() local g <close> = l:acquire():await(); asyncio.sleep(0):await() end
  return asyncio.gather(asyncio.create_task(w), asyncio.create_task(w)):await()
end
S.event = function()
  local e = asyncio.Event()
  local t = asyncio.create_task(function() e:wait():await() end)
  asyncio.sleep(0):await()
  e:set()
  return t:await()
end
S.sync = function()
  local sem, cond, bar = asyncio.Semaphore(1), asyncio.Condition(), asyncio.Barrier(3)
  local ready = false
  local function w(i)
    do local g <close> = sem:acquire():await(); asyncio.sleep(0):await() end
    do
      local g <close> = cond:acquire():await()
      cond:wait_for(function() return ready end):await()
    end
    return bar:wait():await() + i
  end
  local ts = {}
  for i = 1, 3 do ts[i] = asyncio.create_task(w, i) end
  asyncio.sleep(0):await()
  do
    local g <close> = cond:acquire():await()
    ready = true
    cond:notify_all()
  end
  return asyncio.gather(table.unpack(ts)):await()
end
S.wait_for = function()
  return pcall(asyncio.await, asyncio.wait_for(asyncio.sleep(0.05), 0.001))
end
S.taskgroup = function()
  return pcall(asyncio.await, asyncio.TaskGroup(function(tg)
    tg:create_task(function() asyncio.sleep(0.001):await(); error("boom") end)
    tg:create_task(function() asyncio.sleep(0.05):await() end)
  end))
end
S.as_completed = function()
  local r = {}
  for aw in asyncio.as_completed({asyncio.sleep(0.002, 1), asyncio.sleep(0.001, 2)}) do
    r[#r + 1] = aw:await()
  end
  return r
end
S.shield = function()
  local t = asyncio.create_task(function() asyncio.sleep(0.001):await(); return 5 end)
  return asyncio.shield(t):await()
end
S.wait = function()
  local a = asyncio.create_task(function() asyncio.sleep(0.001):await() end)
  return asyncio.wait({a}, {timeout = 1}):await()
end
S.call_later = function()
  local fut = asyncio.Future()
  asyncio.get_running_loop():call_later(0.001, function() fut:set_result(1) end)
  return fut:await()
end
S.cancel = function()
  local t = asyncio.create_task(function() asyncio.sleep(0.05):await() end)
  asyncio.sleep(0):await()
  t:cancel("why")
  return pcall(t.await, t)
end
S.fs = function()
  local fs = require "asyncio.fs"
  fs.write_file(tmp, "hello"):await()
  return fs.read_file(tmp):await()
end
S.load = function()
  local chunk = assert(load("return await asyncio.sleep(0, 7)"))
  return chunk()
end
S.timeout = function()
  return pcall(asyncio.await, asyncio.timeout(0.001, function() asyncio.sleep(0.05):await() end))
end
S.timeout_cm = function()
  return pcall(function()
    local cm <close> = asyncio.timeout(0.001)
    cm:reschedule(asyncio.get_running_loop():time() + 0.002)
    asyncio.sleep(0.05):await()
  end)
end
S.subprocess = function()
  local p = asyncio.create_subprocess_exec("cat", { stdin = asyncio.subprocess.PIPE,
                                                   stdout = asyncio.subprocess.PIPE }):await()
  return p:communicate("through cat"):await()
end
-- reader:readline(), polled: the server's handler runs as a task, whose
-- failure closes the connection from a done callback, and with no memory
-- at all that callback cannot be called: a plain await would wait for good.
local function poll_line(r)
  local t = asyncio.create_task(function() return r:readline():await() end)
  for _ = 1, 1000 do
    if t:done() then return t:result() end
    asyncio.sleep(0.001):await()
  end
  t:cancel()
  error("no line")
end
S.tcp = function()
  local srv = asyncio.start_server(function(r, w)
    w:write(r:readline():await():upper())
    w:drain():await()
    w:close()
  end, "127.0.0.1", 0):await()
  local srv_guard <close> = srv
  local r, w = asyncio.open_connection("127.0.0.1", srv:sockets()[1][2]):await()
  w:write("ping\n")
  local line = poll_line(r)
  w:close()
  srv:close()
  srv:wait_closed():await()
  return line
end
S.signal = function()
  -- not awaiting the handler: a callback that cannot be called would
  -- leave the run waiting for good, the handler keeping the loop alive
  local loop = asyncio.get_running_loop()
  local got = {}
  loop:add_signal_handler(asyncio.signal.SIGUSR2, function(x) got[1] = x end, "old")
  loop:add_signal_handler("SIGUSR2", function(x) got[1] = x end, "usr2")
  os.execute("kill -USR2 " .. PID)
  for _ = 1, 20 do
    if got[1] then break end
    asyncio.sleep(0.001):await()
  end
  loop:remove_signal_handler("SIGUSR2")
  return got[1]
end
S.unix = function()
  local srv <close> = asyncio.start_unix_server(function(r, w)
    w:write(r:readline():await():upper())
    w:close()
  end, tmp .. ".sock"):await()
  local r, w = asyncio.open_unix_connection(tmp .. ".sock"):await()
  w:write("ping\n")
  local line = poll_line(r)
  w:close()
  return line
end
S.udp = function()
  local loop = asyncio.get_running_loop()
  local got = asyncio.Future()
  local echo <close> = loop:create_datagram_endpoint(function()
    local p = {}
    function p.connection_made(self, tr) self.tr = tr end
    function p.datagram_received(self, data, addr) self.tr:sendto(data, addr) end
    return p
  end, { local_addr = { "127.0.0.1", 0 } }):await()
  local client <close> = loop:create_datagram_endpoint(function()
    return { datagram_received = function(_, data) if not got:done() then got:set_result(data) end end }
  end, { remote_addr = echo:get_extra_info("sockname") }):await()
  client:sendto("ping")
  -- polled, bounded: a lost callback (a timeout's) must not leave the run
  -- waiting for good while the sockets keep the loop alive
  for _ = 1, 20 do
    if got:done() then return got:result() end
    asyncio.sleep(0.001):await()
  end
end
S.thread = function()
  return asyncio.to_thread(function(a, t) return a * 2, { t[1], "x" } end, 21, { true }):await()
end
S.dns = function()
  local loop = asyncio.get_running_loop()
  local list = loop:getaddrinfo("127.0.0.1", 80, { type = asyncio.socket.SOCK_STREAM }):await()
  return list[1].sockaddr[1], loop:getnameinfo({ "127.0.0.1", 80 }, asyncio.socket.NI_NUMERICHOST):await()
end
S.refused = function()
  -- errors made in libuv callbacks: a refused connect, an unknown name
  local ok1, e1 = pcall(asyncio.await, asyncio.open_connection("127.0.0.1", 1))
  local ok2, e2 = pcall(asyncio.await,
    asyncio.get_running_loop():getaddrinfo("no-such-host.invalid", 80))
  return ok1, e1, ok2, e2
end
local fifo = tmp .. ".fifo"
os.execute("mkfifo " .. fifo)
S.fdwatch = function()
  -- a reader on a FIFO (read-write: it never blocks) that has a byte
  local loop = asyncio.get_running_loop()
  local f <close> = assert(io.open(fifo, "r+"))
  f:setvbuf("no")
  f:write("x")
  local got = loop:create_future()
  loop:add_reader(f, function()
    loop:remove_reader(f)
    got:set_result(true)
  end)
  -- polled: a reader that cannot be called for want of memory is tried
  -- at every turn, for good (as CPython's is), and only this task's own
  -- failure then ends the run
  for _ = 1, 1000 do
    if got:done() then break end
    asyncio.sleep(0.001):await()
  end
  return got:result(), f:read(1)
end
S.protocol = function()
  -- an echo over loop:create_server / create_connection and protocols
  local loop = asyncio.get_running_loop()
  local Echo = setmetatable({}, { __index = asyncio.Protocol })
  Echo.__index = Echo
  function Echo:connection_made(tr) self.tr = tr end
  function Echo:data_received(d) self.tr:write(d); self.tr:close() end
  local server <close> = loop:create_server(function()
    return setmetatable({}, Echo)
  end, "127.0.0.1", 0):await()
  local got, lost = {}, false
  local Client = setmetatable({}, { __index = asyncio.Protocol })
  Client.__index = Client
  function Client:connection_made(tr) tr:write("ping") end
  function Client:data_received(d) got[#got + 1] = d end
  function Client:connection_lost() lost = true end
  local tr <close> = loop:create_connection(function()
    return setmetatable({}, Client)
  end, "127.0.0.1", server:sockets()[1][2]):await()
  for _ = 1, 200 do                      -- polled, as fdwatch's; a run
    if lost then break end               -- whose failure lost the close
    asyncio.sleep(0.001):await()         -- ends in 0.2 s
  end
  return table.concat(got), lost
end
S.pipe = function()
  -- a read pipe transport on a FIFO that has a line and a writer that
  -- closes: data, eof, lost (polled, as protocol's)
  local loop = asyncio.get_running_loop()
  local w <close> = assert(io.open(fifo, "r+"))
  w:setvbuf("no")
  w:write("line\n")
  local got, lost = {}, false
  local P = setmetatable({}, { __index = asyncio.Protocol })
  P.__index = P
  function P:data_received(d) got[#got + 1] = d end
  function P:connection_lost() lost = true end
  local tr <close> = loop:connect_read_pipe(function()
    return setmetatable({}, P)
  end, w):await()
  for _ = 1, 200 do
    if #got > 0 then break end
    asyncio.sleep(0.001):await()
  end
  tr:close()
  return table.concat(got)
end
S.subprocess_protocol = function()
  -- loop:subprocess_exec with a SubprocessProtocol: output, then the end
  local loop = asyncio.get_running_loop()
  local out, lost = {}, false
  local P = setmetatable({}, { __index = asyncio.SubprocessProtocol })
  P.__index = P
  function P:pipe_data_received(_, d) out[#out + 1] = d end
  function P:connection_lost() lost = true end
  local tr <close> = loop:subprocess_exec(function() return setmetatable({}, P) end,
                                          "printf", "x", { stdin = false }):await()
  for _ = 1, 200 do                      -- polled, as protocol's
    if lost then break end
    asyncio.sleep(0.001):await()
  end
  return table.concat(out), lost
end
S.json = function()
  local json = require "asyncio.json"
  return json.encode(json.decode('{"a":[1,2.5,"x",null,{"b":true}]}'))
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local sweep = dofile(here .. "oom-lib.lua")
local count = sweep(ml, S, function()
  return asyncio.run(function() return asyncio.sleep(0, true):await() end)
end, 5000, only, once)
os.remove(tmp)
os.remove(fifo)
print(("all %d scenarios ran on"):format(count))
