-- subprocess.lua -- asyncio's subprocesses (require "asyncio.subprocess",
-- and the names asyncio.create_subprocess_exec, create_subprocess_shell):
-- a child process whose pipes are streams, ported from CPython's
-- asyncio/subprocess.py over bindings/subprocess.c; and the loop's
-- subprocess_exec / subprocess_shell, whose pipes are transports that
-- feed a SubprocessProtocol (CPython's base_subprocess.py).
local asyncio = require "asyncio"
local streams = require "asyncio.streams"
local C = require "aiolua.subprocess"
local async, await, Error = asyncio.async, asyncio.await, asyncio.Error
local create_task = asyncio.create_task
local type, pairs, tostring, select = type, pairs, tostring, select

local M = {
  PIPE = "pipe",        -- a stream to or from the child
  DEVNULL = "devnull",  -- /dev/null
  STDOUT = "stdout",    -- stderr = STDOUT: into stdout's stream
}
M.subprocess = M        -- asyncio.subprocess.PIPE, as in Python

local Process = {}
Process.__name = "Process"
M.Process = Process

-- returncode is nil while the child runs, then its exit status (-signal
-- if a signal ended it).
Process.__index = function(self, k)
  if k == "returncode" then return self._p:returncode() end
  return Process[k]
end

function Process:__tostring()
  return ("<Process %d>"):format(self.pid)
end

-- proc:wait(): awaits the exit; returns the returncode.  Each waiter has
-- a future of its own (CPython's _exit_waiters), so cancelling one leaves
-- the others waiting.
Process.wait = async(function(self)
  if self._p:returncode() == nil then
    self._exit = self._exit or self._p:wait()
    local mine = asyncio.Future()
    self._exit:add_done_callback(function()
      if not mine:done() then mine:set_result() end
    end)
    await(mine)
  end
  return self._p:returncode()
end, "Process.wait")

-- proc:communicate([input]): sends input and closes stdin, reads stdout and
-- stderr to their end (those that are pipes), awaits the exit; returns
-- stdout, stderr (nil for one that is no pipe).
Process.communicate = async(function(self, input)
  if input ~= nil and type(input) ~= "string" then
    error(Error("TypeError", "input must be a string"), 2)
  end
  local feed, out, err
  if self.stdin then
    feed = create_task(function()
      if input and input ~= "" then
        local ok, e = pcall(function()
          self.stdin:write(input)
          await(self.stdin:drain())
        end)
        -- a child that exits without reading all is no error (CPython)
        if not ok and not asyncio.iserror(e, "ConnectionError") and
           not asyncio.iserror(e, "OSError") then error(e, 0) end
      end
      self.stdin:close()
    end)
  end
  if self.stdout then out = create_task(function() return await(self.stdout:read()) end) end
  if self.stderr then err = create_task(function() return await(self.stderr:read()) end) end
  if feed then await(feed) end
  local o = out and await(out)
  local e = err and await(err)
  await(self:wait())
  return o, e
end, "Process.communicate")

function Process:send_signal(sig) self._p:kill(sig) end
function Process:terminate() self._p:kill(C.signals.SIGTERM) end
function Process:kill() self._p:kill(C.signals.SIGKILL) end

local MODES = { pipe = true, devnull = true, stdout = true, inherit = true }

-- The spawn options of opts: stdin, stdout, stderr (nil: `default`; false
-- or "inherit": this process's), cwd, env.
local function spawn_opts(opts, default, level)
  if type(opts) ~= "table" then
    error(Error("TypeError", "options must be a table"), level + 1)
  end
  local c_opts = { cwd = opts.cwd }
  for _, name in ipairs { "stdin", "stdout", "stderr" } do
    local m = opts[name]
    if m == nil then m = default elseif m == false then m = "inherit" end
    if m ~= nil and not MODES[m] then
      error(Error("ValueError", ("%s must be PIPE, DEVNULL%s or nil, got %s")
                  :format(name, name == "stderr" and ", STDOUT" or "", tostring(m))), level + 1)
    end
    c_opts[name] = m
  end
  if opts.env ~= nil then
    if type(opts.env) ~= "table" then error(Error("TypeError", "env must be a table"), level + 1) end
    local env = {}
    for k, v in pairs(opts.env) do env[#env + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(env)
    c_opts.env = env
  end
  return c_opts
end

local function spawn(file, args, opts)
  opts = opts or {}
  local c_opts = spawn_opts(opts, nil, 3)
  local limit = opts.limit
  local p, i, o, e = C.spawn(file, args, c_opts)
  local self = setmetatable({ _p = p, pid = p:pid() }, Process)
  if i then self.stdin = streams._writer(i) end
  if o then self.stdout = streams._reader(o, limit) end
  if e then self.stderr = streams._reader(e, limit) end
  return self
end

-- program, args... [, opts] -> the argument list, and opts (a table last)
local function exec_args(program, ...)
  if type(program) ~= "string" then
    error(Error("TypeError", "program must be a string"), 3)
  end
  local n = select("#", ...)
  local opts = n > 0 and type(select(n, ...)) == "table" and select(n, ...) or nil
  local args = { program }
  for k = 1, opts and n - 1 or n do args[#args + 1] = tostring((select(k, ...))) end
  return args, opts
end

-- create_subprocess_exec(program, args... [, opts]): opts (a table last)
-- are stdin, stdout, stderr (PIPE, DEVNULL, STDOUT for stderr, or nil or
-- false to inherit), cwd, env (a table of name = value: the whole
-- environment) and limit; the program is looked up in PATH.
M.create_subprocess_exec = async(function(program, ...)
  local args, opts = exec_args(program, ...)
  return spawn(program, args, opts)
end, "create_subprocess_exec")

-- create_subprocess_shell(cmd [, opts]): cmd run by /bin/sh -c.
M.create_subprocess_shell = async(function(cmd, opts)
  if type(cmd) ~= "string" then error(Error("TypeError", "cmd must be a string"), 2) end
  return spawn("/bin/sh", { "/bin/sh", "-c", cmd }, opts)
end, "create_subprocess_shell")

-- ---- loop:subprocess_exec and subprocess_shell: transports, protocols ----

-- (asyncio.SubprocessProtocol, their base, is protocols.lua's.)

local Transport = { __name = "SubprocessTransport" }
Transport.__index = Transport

-- protocol:name(...) as a callback of the loop: what it raises goes to the
-- exception handler.
local function call(self, name, ...)
  local p = self._protocol
  local f = p[name]
  if f == nil then return end
  local ok, e = xpcall(f, debug.traceback, p, ...)
  if not ok then
    self._loop:call_exception_handler {
      message = ("Exception in callback %s.%s()"):format(
        (getmetatable(p) or {}).__name or "protocol", name),
      exception = e, transport = self, protocol = p }
  end
end

-- connection_lost(nil), once the child exited and every pipe is closed.
local function try_finish(self)
  if self._finished or self._p:returncode() == nil then return end
  for _, pipe in pairs(self._pipes) do
    if not pipe.lost then return end
  end
  self._finished = true
  call(self, "connection_lost", nil)
end

-- The protocol of pipe fd's transport: it hands what it gets to the
-- subprocess protocol.
local function pipe_protocol(self, fd)
  local pipe = { fd = fd, lost = false }
  function pipe.data_received(_, data) call(self, "pipe_data_received", fd, data) end
  function pipe.eof_received() end
  function pipe.pause_writing() call(self, "pause_writing") end
  function pipe.resume_writing() call(self, "resume_writing") end
  function pipe.connection_lost(_, exc)
    pipe.lost = true
    call(self, "pipe_connection_lost", fd, exc)
    try_finish(self)
  end
  return pipe
end

function Transport:get_pid() return self._pid end
function Transport:get_returncode() return self._p:returncode() end
-- transport:get_pipe_transport(fd) -> the transport of the child's stdin
-- (0), stdout (1) or stderr (2), or nil if that is no pipe.
function Transport:get_pipe_transport(fd)
  local pipe = self._pipes[fd]
  return pipe and pipe.transport
end
function Transport:is_closing() return self._closed end

local function check_running(self)
  if self._closed or self._p:returncode() ~= nil then
    error(Error("ProcessLookupError", "the process has exited"), 3)
  end
end
function Transport:send_signal(sig) check_running(self); self._p:kill(sig) end
function Transport:terminate() check_running(self); self._p:kill(C.signals.SIGTERM) end
function Transport:kill() check_running(self); self._p:kill(C.signals.SIGKILL) end

-- transport:close(): closes the pipes and kills a child that still runs,
-- as CPython's.
function Transport:close()
  if self._closed then return end
  self._closed = true
  for _, pipe in pairs(self._pipes) do pipe.transport:close() end
  if self._p:returncode() == nil then self._p:kill(C.signals.SIGKILL) end
end
Transport.__close = Transport.close

function Transport:__tostring()
  local rc = self._p:returncode()
  return ("<SubprocessTransport pid=%d %s>"):format(self._pid,
    rc == nil and "running" or "returncode=" .. rc)
end

-- The transport of a child spawned with args and opts (stdin, stdout and
-- stderr PIPE unless told, as CPython's), with its protocol made by
-- factory() before the child is (as CPython's): the pipes' transports
-- first, then connection_made, then what the pipes bring; process_exited
-- when the child exits (its stdin pipe, which nobody reads then, closes
-- with it); connection_lost(nil) once it exited and every pipe closed.
local function subprocess(loop, factory, file, args, opts)
  local protocols = require "asyncio.protocols"
  local protocol = factory()
  if protocol == nil then
    error(Error("TypeError", "protocol_factory returned nil"), 0)
  end
  local p, i, o, e = C.spawn(file, args, spawn_opts(opts or {}, "pipe", 3))
  local self = setmetatable({ _p = p, _pid = p:pid(), _loop = loop, _pipes = {},
                              _protocol = protocol, _closed = false,
                              _finished = false }, Transport)
  local ok, err = pcall(function()
    for fd, c in pairs { [0] = i, [1] = o, [2] = e } do
      local pipe = pipe_protocol(self, fd)
      pipe.transport = protocols._start(loop, function() return pipe end, c, fd == 0)
      self._pipes[fd] = pipe
    end
    call(self, "connection_made", self)
    p:wait():add_done_callback(function()
      if loop:is_closed() then return end  -- (a closed loop calls nothing)
      call(self, "process_exited")
      local stdin = self._pipes[0]
      if stdin and not stdin.lost then stdin.transport:abort() end
      try_finish(self)
    end)
  end)
  if not ok then
    for _, c in pairs { i, o, e } do c:close() end
    if p:returncode() == nil then p:kill(C.signals.SIGKILL) end
    error(err, 0)
  end
  return self, self._protocol
end

-- loop:subprocess_exec(protocol_factory, program, args... [, opts]) ->
-- transport, protocol: opts as create_subprocess_exec's, but stdin, stdout
-- and stderr are PIPE unless told (false: inherit), as in CPython.
M.subprocess_exec = async(function(loop, factory, program, ...)
  require("asyncio.protocols")._check_factory(factory)
  local args, opts = exec_args(program, ...)
  return subprocess(loop, factory, program, args, opts)
end, "subprocess_exec")

-- loop:subprocess_shell(protocol_factory, cmd [, opts]): cmd run by /bin/sh -c.
M.subprocess_shell = async(function(loop, factory, cmd, opts)
  require("asyncio.protocols")._check_factory(factory)
  if type(cmd) ~= "string" then error(Error("TypeError", "cmd must be a string"), 2) end
  return subprocess(loop, factory, "/bin/sh", { "/bin/sh", "-c", cmd }, opts)
end, "subprocess_shell")

return M
