-- test-fdwatch.lua -- loop:add_reader / add_writer / remove_reader /
-- remove_writer on pipes and a FIFO: callbacks once a turn while the
-- descriptor is ready (level-triggered, as CPython's selector loop),
-- replacing, removal, a broken pipe, the loop's close, the blocking mode
-- kept, and CPython's errors for bad files and callbacks.
local asyncio = require "asyncio"
local fs = require "asyncio.fs"
local t = require "t"

local until_ = t.until_

-- A FIFO opened read-write (it never blocks, and is both readable once
-- written and writable): the asyncio.fs file (it has fileno()), a Lua
-- file to write into it, and a function that closes both and removes the
-- FIFO.
local function fifo()
  local path = os.tmpname()
  os.remove(path)
  t.ok(os.execute("mkfifo " .. path), "mkfifo")
  local f = fs.open(path, "r+"):await()
  local w = assert(io.open(path, "w"))
  w:setvbuf("no")
  return f, w, function()
    w:close()
    f:close():await()
    os.remove(path)
  end
end

-- The O_NONBLOCK bit of descriptor fd, from /proc.
local function nonblocking(fd)
  local s = io.open("/proc/self/fdinfo/" .. fd):read("a")
  return tonumber(s:match("flags:%s*(%d+)"), 8) & 2048 ~= 0
end

t.test("a reader runs while a pipe has data, as a callback with its arguments", function()
  local loop = asyncio.get_running_loop()
  local p = io.popen("sleep 0.02; echo hello; sleep 0.02; echo world")
  local done, lines = loop:create_future(), {}
  loop:add_reader(p, function(a, b)
    t.ok(asyncio.current_task() == nil, "a callback, not a task")
    t.eq(a .. b, "xy")
    local l = p:read("l")
    if l then
      lines[#lines + 1] = l
    else                                 -- end of file: the pipe is readable
      t.eq(loop:remove_reader(p), true)
      done:set_result(true)
    end
  end, "x", "y")
  asyncio.wait_for(done, 5):await()
  t.same_as(lines, { "hello", "world" })
  t.eq(loop:remove_reader(p), false, "nothing left to remove")
  p:close()
end)

t.test("level-triggered: a reader that does not read runs again at each turn", function()
  local loop = asyncio.get_running_loop()
  local f, w, close = fifo()
  local calls = 0
  loop:add_reader(f, function() calls = calls + 1 end)
  asyncio.sleep(0.02):await()
  t.eq(calls, 0, "nothing to read yet")
  w:write("x")
  t.ok(until_(function() return calls >= 3 end), "called again and again")
  t.eq(loop:remove_reader(f), true)
  local n = calls
  asyncio.sleep(0.02):await()
  t.eq(calls, n, "no call once removed")
  close()
end)

t.test("a reader and a writer on one descriptor; removing one keeps the other", function()
  local loop = asyncio.get_running_loop()
  local f, w, close = fifo()
  local fd = f:fileno()
  local reads, writes = 0, 0
  loop:add_writer(fd, function() writes = writes + 1 end)
  loop:add_reader(fd, function() reads = reads + 1 end)
  t.ok(until_(function() return writes >= 2 end), "a FIFO with room is writable")
  t.eq(reads, 0, "not readable yet")
  t.eq(loop:remove_writer(fd), true)
  w:write("data")
  t.ok(until_(function() return reads >= 1 end), "the reader still runs")
  local n = writes
  asyncio.sleep(0.02):await()
  t.eq(writes, n, "the writer is gone")
  t.eq(loop:remove_writer(fd), false)
  t.eq(loop:remove_reader(fd), true)
  close()
end)

t.test("a second reader replaces the first", function()
  local loop = asyncio.get_running_loop()
  local f, w, close = fifo()
  local got = {}
  loop:add_reader(f, function() got[#got + 1] = "first" end)
  loop:add_reader(f, function() got[#got + 1] = "second" end)
  w:write("x")
  t.ok(until_(function() return #got >= 2 end))
  for _, v in ipairs(got) do t.eq(v, "second") end
  t.eq(loop:remove_reader(f), true)
  t.eq(loop:remove_reader(f), false, "one reader, removed once")
  close()
end)

t.test("the descriptor keeps its blocking mode (a Lua read must not get EAGAIN)", function()
  local loop = asyncio.get_running_loop()
  local f, _, close = fifo()
  local before = nonblocking(f:fileno())
  loop:add_reader(f, function() end)
  t.eq(nonblocking(f:fileno()), before)
  loop:remove_reader(f)
  close()
end)

t.test("a writer to a pipe whose reader is gone runs and sees the broken pipe", function()
  local loop = asyncio.get_running_loop()
  local p = io.popen("exec true", "w")
  asyncio.sleep(0.05):await()            -- true has exited
  local done = loop:create_future()
  loop:add_writer(p, function()
    local ok, err = p:write("x\n"):flush()
    if not ok then
      loop:remove_writer(p)
      done:set_result(err)
    end
  end)
  t.ok(tostring(asyncio.wait_for(done, 5):await()):find("Broken pipe"), "EPIPE")
  p:close()
end)

t.test("an error in a callback goes to the exception handler; the reader stays", function()
  local loop = asyncio.get_running_loop()
  local f, w, close = fifo()
  local seen, calls = {}, 0
  loop:set_exception_handler(function(_, ctx) seen[#seen + 1] = ctx end)
  loop:add_reader(f, function()
    calls = calls + 1
    if calls == 1 then error("boom") end
  end)
  w:write("x")
  t.ok(until_(function() return calls >= 2 end), "called after its error")
  loop:remove_reader(f)
  loop:set_exception_handler(nil)
  t.eq(#seen, 1)
  t.ok(tostring(seen[1].exception):find("boom"), "the error")
  close()
end)

t.test("a file closed before its reader is removed: a dead reader, no crash", function()
  local loop = asyncio.get_running_loop()
  local f, _, close = fifo()
  local lf = assert(io.open("/proc/self/fd/" .. f:fileno(), "r+"))
  loop:add_reader(lf, function() end)
  loop:add_writer(lf, function() end)
  lf:close()                             -- before the loop ever polled it
  asyncio.sleep(0.02):await()            -- the loop polls on
  local again <close> = assert(io.open("/dev/null"))  -- may reuse the number
  asyncio.sleep(0.02):await()
  close()
end)

t.test_outside("a loop's close removes its readers and writers", function()
  local loop = asyncio.new_event_loop()
  local calls = 0
  local f, w, close
  loop:run_until_complete(function()
    f, w, close = fifo()
    loop:add_reader(f, function() calls = calls + 1 end)
    loop:add_writer(f, function() end)
  end)
  loop:close()
  t.eq(loop:remove_reader(f), false, "a closed loop has none")
  t.raises("Event loop is closed", loop.add_reader, loop, f, print)
  asyncio.run(function()
    w:write("x")
    local again = 0
    asyncio.get_running_loop():add_reader(f, function() again = again + 1 end)
    t.ok(until_(function() return again >= 1 end), "watched again")
    asyncio.get_running_loop():remove_reader(f)
    close()
  end)
  t.eq(calls, 0, "the closed loop's reader never ran")
end)

t.test("bad files and callbacks: CPython's errors", function()
  local loop = asyncio.get_running_loop()
  local path = os.tmpname()
  local reg = io.open(path)
  local e = t.raises("OSError", loop.add_reader, loop, reg, print)
  t.ok(asyncio.iserror(e, "PermissionError"), "a regular file: " .. tostring(e))
  reg:close()
  os.remove(path)
  t.raises("I/O operation on closed file", loop.add_reader, loop, reg, print)
  t.raises("Invalid file descriptor: %-1", loop.add_reader, loop, -1, print)
  t.raises("Invalid file object", loop.add_reader, loop, {}, print)
  t.raises("Invalid file object", loop.add_writer, loop, "stdin", print)
  t.raises("Invalid file object", loop.add_reader, loop,
           { fileno = function() return "x" end }, print)
  local f, _, close = fifo()
  t.raises("TypeError", loop.add_reader, loop, f, asyncio.async(function() end))
  t.raises("coroutines cannot be used with add_writer", loop.add_writer, loop, f,
           asyncio.sleep(0))
  t.raises("a function was expected", loop.add_reader, loop, f, 42)
  t.eq(loop:remove_reader(f), false, "nothing was added")
  close()
  t.raises("I/O operation on closed file", loop.add_reader, loop, f, print)
end)

t.run()
