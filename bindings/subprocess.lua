-- subprocess.lua -- asyncio's subprocesses (require "asyncio.subprocess",
-- and the names asyncio.create_subprocess_exec, create_subprocess_shell):
-- a child process whose pipes are streams, ported from CPython's
-- asyncio/subprocess.py over bindings/subprocess.c.
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

local function spawn(file, args, opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    error(Error("TypeError", "options must be a table"), 3)
  end
  local c_opts = { cwd = opts.cwd }
  for _, name in ipairs { "stdin", "stdout", "stderr" } do
    local m = opts[name]
    if m ~= nil and not MODES[m] then
      error(Error("ValueError", ("%s must be PIPE, DEVNULL%s or nil, got %s")
                  :format(name, name == "stderr" and ", STDOUT" or "", tostring(m))), 3)
    end
    c_opts[name] = m
  end
  if opts.env ~= nil then
    if type(opts.env) ~= "table" then error(Error("TypeError", "env must be a table"), 3) end
    local env = {}
    for k, v in pairs(opts.env) do env[#env + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(env)
    c_opts.env = env
  end
  local limit = opts.limit
  local p, i, o, e = C.spawn(file, args, c_opts)
  local self = setmetatable({ _p = p, pid = p:pid() }, Process)
  if i then self.stdin = streams._writer(i) end
  if o then self.stdout = streams._reader(o, limit) end
  if e then self.stderr = streams._reader(e, limit) end
  return self
end

-- create_subprocess_exec(program, args... [, opts]): opts (a table last)
-- are stdin, stdout, stderr (PIPE, DEVNULL, STDOUT for stderr, or nil to
-- inherit), cwd, env (a table of name = value: the whole environment)
-- and limit; the program is looked up in PATH.
M.create_subprocess_exec = async(function(program, ...)
  if type(program) ~= "string" then
    error(Error("TypeError", "program must be a string"), 2)
  end
  local n = select("#", ...)
  local opts = n > 0 and type(select(n, ...)) == "table" and select(n, ...) or nil
  local args = { program }
  for k = 1, opts and n - 1 or n do args[#args + 1] = tostring((select(k, ...))) end
  return spawn(program, args, opts)
end, "create_subprocess_exec")

-- create_subprocess_shell(cmd [, opts]): cmd run by /bin/sh -c.
M.create_subprocess_shell = async(function(cmd, opts)
  if type(cmd) ~= "string" then error(Error("TypeError", "cmd must be a string"), 2) end
  return spawn("/bin/sh", { "/bin/sh", "-c", cmd }, opts)
end, "create_subprocess_shell")

return M
