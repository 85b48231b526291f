-- subprocess_date.lua -- CPython's "loop.subprocess_exec() and
-- SubprocessProtocol" example (asyncio documentation, "Transports and
-- Protocols"): run `date` and read its output through a protocol, waiting
-- for both the pipe's end and the process's exit, whichever comes first.
-- Usage: aiolua scripts/subprocess_date.lua
local asyncio = require "asyncio"

local DateProtocol = setmetatable({}, { __index = asyncio.SubprocessProtocol })
DateProtocol.__index = DateProtocol

function DateProtocol.new(exit_future)
  return setmetatable({ exit_future = exit_future, output = {},
                        pipe_closed = false, exited = false }, DateProtocol)
end

function DateProtocol:pipe_data_received(fd, data)
  self.output[#self.output + 1] = data
end

function DateProtocol:pipe_connection_lost(fd, exc)
  self.pipe_closed = true
  self:check_for_exit()
end

function DateProtocol:process_exited()
  self.exited = true
  -- process_exited() can come before pipe_connection_lost(): wait until
  -- both have
  self:check_for_exit()
end

function DateProtocol:check_for_exit()
  if self.pipe_closed and self.exited then
    self.exit_future:set_result(true)
  end
end

local get_date = asyncio.async(function()
  local loop = asyncio.get_running_loop()
  -- Create the subprocess controlled by DateProtocol; redirect only its
  -- standard output into a pipe.
  local exit_future = loop:create_future()
  local transport, protocol = loop:subprocess_exec(function()
    return DateProtocol.new(exit_future)
  end, "date", "+%Y-%m-%d %H:%M:%S", { stdin = false, stderr = false }):await()
  -- Wait for the subprocess exit using the process_exited() method of the
  -- protocol.
  exit_future:await()
  -- Close the stdout pipe.
  transport:close()
  -- Read the output which was collected by the pipe_data_received() method
  -- of the protocol.
  return (table.concat(protocol.output):gsub("%s+$", ""))
end)

local date = asyncio.run(get_date)
print(("Current date: %s"):format(date))
