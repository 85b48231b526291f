-- test-fs.lua -- asyncio.fs: every function, every error, cancellation of
-- queued and running requests (a FIFO whose open blocks a pool thread),
-- descriptor leaks, and many concurrent operations.
local t = require "t"
local asyncio = require "asyncio"
local fs = require "asyncio.fs"

local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. TMP))
local function p(name) return TMP .. "/" .. name end
local function sh(cmd) assert(os.execute(cmd), cmd) end

-- Open descriptors of this process (Linux).
-- Open descriptors of this process (Linux; scandir's own is counted in
-- every call alike).
local function nfds() return #fs.listdir("/proc/self/fd"):await() end

local function oserror(code, fn, ...)
  local err = t.raises("OSError", fn, ...)
  t.eq(err.code, code, "code")
  t.eq(type(err.errno), "number", "errno")
  return err
end

t.test("write_file, read_file, append_file", function()
  t.eq(fs.write_file(p("a.txt"), "hello\n"):await(), 6, "bytes written")
  t.eq(fs.read_file(p("a.txt")):await(), "hello\n")
  t.eq(fs.append_file(p("a.txt"), "world\n"):await(), 6)
  t.eq(fs.read_file(p("a.txt")):await(), "hello\nworld\n")
  fs.append_file(p("new.txt"), 42):await()
  t.eq(fs.read_file(p("new.txt")):await(), "42")
  fs.write_file(p("empty"), ""):await()
  t.eq(fs.read_file(p("empty")):await(), "")
end)

t.test("binary and large files round-trip", function()
  local bin = {}
  for i = 0, 255 do bin[#bin + 1] = string.char(i) end
  bin = table.concat(bin):rep(4099) -- ~1 MB, not a multiple of the chunk
  fs.write_file(p("big.bin"), bin):await()
  local back = fs.read_file(p("big.bin")):await()
  t.eq(#back, #bin, "size")
  t.ok(back == bin, "same bytes")
  t.eq(fs.stat(p("big.bin")):await().size, #bin, "stat size")
end)

t.test("open and read formats", function()
  fs.write_file(p("lines.txt"), "one\ntwo\n\nfour\nlast"):await()
  local f <close> = fs.open(p("lines.txt")):await()
  t.eq(f:read():await(), "one", "default is a line")
  t.eq(f:read("L"):await(), "two\n")
  t.eq(f:read("l"):await(), "")
  t.eq(f:read(2):await(), "fo")
  t.eq(f:read(0):await(), "")
  local a, b = f:read("l", 2):await()
  t.eq(a, "ur"); t.eq(b, "la")
  t.eq(f:read("a"):await(), "st")
  t.eq(f:read("a"):await(), "", "'a' at EOF")
  t.eq(f:read("l"):await(), nil, "'l' at EOF")
  t.eq(f:read(1):await(), nil, "n at EOF")
  t.eq(f:read(0):await(), nil, "0 at EOF")
  f:close():await()
  t.ok(f:closed(), "closed")
  f:close():await() -- twice is fine
  t.raises("closed file", function() f:read("a"):await() end)
end)

t.test("lines() iterates inside a task, a line per await", function()
  local want = {}
  for i = 1, 5000 do want[i] = "line " .. i end
  fs.write_file(p("many.txt"), table.concat(want, "\n") .. "\n"):await()
  local got = {}
  local f <close> = fs.open(p("many.txt"), "r"):await()
  for line in f:lines() do got[#got + 1] = line end
  t.same_as(got, want)
  -- a long line, over several read chunks
  local long = ("x"):rep(200000)
  fs.write_file(p("long.txt"), "a\n" .. long .. "\nb"):await()
  local g <close> = fs.open(p("long.txt")):await()
  local ls = {}
  for l in g:lines("L") do ls[#ls + 1] = l end
  t.eq(#ls, 3); t.eq(ls[1], "a\n"); t.ok(ls[2] == long .. "\n", "long line")
  t.eq(ls[3], "b")
end)

t.test("write(...) chains, r+ mixes reads and writes, seek", function()
  local f <close> = fs.open(p("rw.txt"), "w+"):await()
  t.eq(f:write("abc", 12, "def\n"):await(), f, "write returns the file")
  t.eq(f:seek("cur"):await(), 9)
  t.eq(f:seek("set"):await(), 0)
  t.eq(f:read(3):await(), "abc")
  f:write("XY"):await() -- at position 3, after the buffered read
  t.eq(f:seek("set", 0):await(), 0)
  t.eq(f:read("a"):await(), "abcXYdef\n")
  t.eq(f:seek("end", -4):await(), 5)
  t.eq(f:read("l"):await(), "def")
  t.eq(f:stat():await().size, 9)
  f:sync():await()
  f:close():await()
  t.eq(fs.read_file(p("rw.txt")):await(), "abcXYdef\n")
  local g <close> = fs.open(p("rw.txt"), "a"):await()
  g:write("tail"):await()
  g:close():await()
  t.eq(fs.read_file(p("rw.txt")):await(), "abcXYdef\ntail")
  t.raises("invalid option", function() f:seek("bogus"):await() end)
end)

t.test("x mode creates only", function()
  local f = fs.open(p("excl"), "x"):await()
  f:close():await()
  oserror("EEXIST", function() fs.open(p("excl"), "x"):await() end)
end)

t.test("stat: size, mtime, type, mode", function()
  fs.write_file(p("s.txt"), "12345"):await()
  sh("chmod 640 " .. p("s.txt"))
  local st = fs.stat(p("s.txt")):await()
  t.eq(st.size, 5); t.eq(st.type, "file"); t.eq(st.mode, 416, "mode 0640")
  t.ok(math.abs(st.mtime - os.time()) < 5, "mtime is now")
  t.eq(fs.stat(TMP):await().type, "directory")
  sh("ln -s s.txt " .. p("link"))
  t.eq(fs.stat(p("link")):await().type, "file", "stat follows links")
  t.eq(fs.lstat(p("link")):await().type, "link")
  t.eq(fs.stat(p("link"), { follow_symlinks = false }):await().type, "link")
  t.eq(fs.stat("/dev/null"):await().type, "other")
  t.eq(fs.exists(p("s.txt")):await(), true)
  t.eq(fs.exists(p("nope")):await(), false)
end)

t.test("mkdir, listdir, rename, remove", function()
  fs.mkdir(p("d")):await()
  for _, n in ipairs { "c", "a", "b", "B" } do
    fs.write_file(p("d/" .. n), n):await()
  end
  fs.mkdir(p("d/sub")):await()
  t.same_as(fs.listdir(p("d")):await(), { "B", "a", "b", "c", "sub" })
  fs.rename(p("d/a"), p("d/z")):await()
  t.same_as(fs.listdir(p("d")):await(), { "B", "b", "c", "sub", "z" })
  t.eq(fs.read_file(p("d/z")):await(), "a")
  fs.remove(p("d/z")):await()
  fs.remove(p("d/sub")):await() -- an empty directory
  t.same_as(fs.listdir(p("d")):await(), { "B", "b", "c" })
  fs.mkdir(p("deep/er/est"), { parents = true }):await()
  fs.mkdir(p("deep/er/est"), { parents = true }):await() -- exists: fine
  fs.mkdir(p("deep/er/est2/"), { parents = true, mode = 448 }):await()
  t.eq(fs.stat(p("deep/er/est2")):await().mode & 448, 448)
  t.same_as(fs.listdir(p("deep/er")):await(), { "est", "est2" })
  fs.rmdir(p("deep/er/est2")):await()
  t.same_as(fs.listdir(p("deep/er")):await(), { "est" })
end)

t.test("errors carry path, code, errno and the OS message", function()
  local missing = p("missing/file.txt")
  local err = oserror("ENOENT", function() fs.read_file(missing):await() end)
  t.eq(err.path, missing)
  t.ok(err.message:find("no such file or directory", 1, true), err.message)
  t.ok(tostring(err):find("^OSError: .*missing/file.txt"), tostring(err))
  t.eq(err.errno, 2)
  -- Python's classes: `except FileNotFoundError` ports as iserror
  t.ok(asyncio.iserror(err, "FileNotFoundError"))
  t.eq(asyncio.iserror(err, "PermissionError"), false)
  local exists = oserror("EEXIST", function() fs.mkdir(TMP):await() end)
  t.ok(asyncio.iserror(exists, "FileExistsError"))
  t.ok(asyncio.iserror(oserror("EISDIR", function() fs.read_file(TMP):await() end),
                       "IsADirectoryError"))
  oserror("ENOENT", function() fs.open(missing, "w"):await() end)
  oserror("EISDIR", function() fs.write_file(TMP, "x"):await() end)
  oserror("EISDIR", function() fs.read_file(TMP):await() end)
  oserror("ENOENT", function() fs.stat(missing):await() end)
  oserror("ENOENT", function() fs.lstat(missing):await() end)
  oserror("ENOENT", function() fs.listdir(missing):await() end)
  fs.write_file(p("plain"), "x"):await()
  oserror("ENOTDIR", function() fs.listdir(p("plain")):await() end)
  oserror("ENOENT", function() fs.remove(missing):await() end)
  oserror("EEXIST", function() fs.mkdir(p("plain")):await() end)
  oserror("EEXIST", function() fs.mkdir(p("plain"), { parents = true }):await() end)
  oserror("ENOTDIR", function() fs.mkdir(p("plain/sub"), { parents = true }):await() end)
  oserror("ENOENT", function() fs.mkdir(missing):await() end)
  fs.mkdir(p("full")):await(); fs.write_file(p("full/x"), ""):await()
  oserror("ENOTEMPTY", function() fs.remove(p("full")):await() end)
  local e = oserror("ENOENT", function() fs.rename(missing, p("to")):await() end)
  t.eq(e.path, missing); t.eq(e.path2, p("to"))
  local f <close> = fs.open(p("plain"), "r"):await()
  oserror("EBADF", function() f:write("no"):await() end)
  t.raises("invalid mode", function() fs.open(p("plain"), "rw"):await() end)
  t.raises("string expected", function() f:write({}):await() end)
  t.raises("invalid format", function() f:read("z"):await() end)
end)

t.test("a file closes on <close>, on close() and when collected", function()
  fs.write_file(p("c.txt"), "c"):await()
  local base = nfds()
  do
    local f <close> = fs.open(p("c.txt")):await()
    t.eq(nfds(), base + 1, "open")
  end
  t.eq(nfds(), base, "closed by <close>")
  local f = fs.open(p("c.txt")):await()
  f:close():await()
  t.eq(nfds(), base, "closed by close()")
  for _ = 1, 20 do fs.open(p("c.txt")):await() end
  collectgarbage(); collectgarbage()
  t.eq(nfds(), base, "closed when collected")
  -- an error inside the scope closes too
  pcall(function()
    local g <close> = fs.open(p("c.txt")):await()
    error("boom")
  end)
  t.eq(nfds(), base, "closed on error")
end)

-- FIFOs whose open(2) blocks a pool thread until a writer opens them.
local POOL = tonumber(os.getenv("UV_THREADPOOL_SIZE")) or 4
local function fifo(name)
  sh("rm -f " .. p(name) .. " && mkfifo " .. p(name))
  return p(name)
end
-- Unblocks the reader of a FIFO (its open returns, then reads EOF).
local function release(path) local w = io.open(path, "w"); w:close() end

t.test("cancelling a running request discards its result", function()
  collectgarbage()
  local base = nfds()
  local ff = fifo("running")
  local opened = false
  local task = asyncio.create_task(function()
    local f = fs.open(ff, "r"):await() -- blocks in the thread pool
    opened = f
  end)
  asyncio.sleep(0.05):await()
  t.eq(task:done(), false, "open is blocked")
  task:cancel()
  t.raises("CancelledError", function() task:await() end)
  t.ok(task:cancelled(), "cancelled")
  release(ff) -- the open completes now, in the pool
  asyncio.sleep(0.05):await()
  t.eq(opened, false, "the task never resumed")
  collectgarbage()
  local now = nfds()
  t.ok(now <= base, ("the descriptor was closed (%d, then %d)"):format(base, now))
end)

t.test("cancelling a queued request removes it; wait_for times out", function()
  fs.write_file(p("q.txt"), "queued"):await()
  local fifos, blockers = {}, {}
  for i = 1, POOL do
    fifos[i] = fifo("block" .. i)
    blockers[i] = asyncio.create_task(function()
      local f <close> = fs.open(fifos[i], "r"):await()
      return f:read("a"):await()
    end)
  end
  asyncio.sleep(0.05):await() -- every pool thread is now blocked
  local ok, err = pcall(function()
    local task = asyncio.create_task(function() -- queued behind them
      return fs.read_file(p("q.txt")):await()
    end)
    asyncio.sleep(0.02):await()
    t.eq(task:done(), false, "queued")
    task:cancel()
    t.raises("CancelledError", function() task:await() end)
    t.raises("TimeoutError", function()
      asyncio.wait_for(fs.stat(p("q.txt")), 0.02):await()
    end)
  end)
  for i = 1, POOL do release(fifos[i]) end
  for i = 1, POOL do t.eq(blockers[i]:await(), "", "blocker " .. i) end
  if not ok then error(err, 0) end
  t.eq(fs.read_file(p("q.txt")):await(), "queued", "the pool works again")
end)

t.test("many concurrent operations", function()
  local N = 300
  fs.mkdir(p("many")):await()
  local tasks = {}
  for i = 1, N do
    tasks[i] = asyncio.create_task(function()
      local name = p(string.format("many/%04d", i))
      fs.write_file(name, ("%d\n"):format(i):rep(i)):await()
      local st = fs.stat(name):await()
      local data = fs.read_file(name):await()
      return st.size == #data and #data == #tostring(i) * i + i and i
    end)
  end
  local res = asyncio.gather(table.unpack(tasks)):await()
  t.eq(res.n, N)
  for i = 1, N do t.eq(res[i], i, "task " .. i) end
  local names = fs.listdir(p("many")):await()
  t.eq(#names, N); t.eq(names[1], "0001"); t.eq(names[N], string.format("%04d", N))
  -- all at once in one file, with appends
  local gs = {}
  for i = 1, N do gs[i] = fs.append_file(p("log"), "x") end
  asyncio.gather(table.unpack(gs)):await()
  t.eq(fs.stat(p("log")):await().size, N)
end)

t.test("cancelling half of many pending operations", function()
  collectgarbage()
  local base = nfds()
  local N = 200
  local tasks = {}
  for i = 1, N do
    tasks[i] = asyncio.create_task(function()
      local f <close> = fs.open(p(string.format("many/%04d", i))):await()
      return f:read("l"):await()
    end)
  end
  asyncio.sleep(0):await() -- every task has started its open
  for i = 2, N, 2 do tasks[i]:cancel() end
  local res = asyncio.gather { return_exceptions = true, table.unpack(tasks) }:await()
  for i = 1, N do
    if i % 2 == 1 then t.eq(res[i], tostring(i), "result " .. i)
    else t.ok(asyncio.iserror(res[i], "CancelledError"), "cancelled " .. i) end
  end
  asyncio.sleep(0.05):await() -- let discarded requests finish
  collectgarbage()
  t.eq(nfds(), base, "no descriptor leaked")
end)

-- Runs Lua source in a child aiolua process (for what crashes or needs its
-- own collector settings or its own lua_close) -> output, exit status.
local S = require "scriptrun"
local function child(name, src)
  local path = p(name)
  local f = assert(io.open(path, "w"))
  f:write(src)
  f:close()
  local h = assert(io.popen(S.shquote(S.BIN) .. " " .. S.shquote(path) .. " 2>&1"))
  local out = h:read("a")
  local _, _, status = h:close()
  return out, status
end

t.test("a finalizer run while a result is pushed cancels its future", function()
  -- Pushing a 3 MB read runs a GC step inside the fs callback; the
  -- finalizers of the garbage made beside the reads cancel them then.
  fs.write_file(p("big3m"), ("0123456789abcdef"):rep(3000000 // 16)):await()
  local out, status = child("fin-cancel.lua", ([[
    local C = require "aiolua.fs"
    collectgarbage("incremental", 100, 400)
    asyncio.run(function()
      local h = C.open(%q):await()
      for _ = 1, 3 do
        local futs = {}
        for i = 1, 8 do
          local fut = h:read(-1)
          futs[i] = fut
          setmetatable({}, { __gc = function() fut:cancel() end })
        end
        asyncio.sleep(0.05):await() -- GC steps run in the fs callbacks
        for i = 1, 8 do pcall(futs[i].result, futs[i]) end
      end
      h:close_now()
    end)
    print("done")
  ]]):format(p("big3m")))
  t.eq(out, "done\n", "output")
  t.eq(status, 0, "exit status")
end)

t.test("a request started by a finalizer at lua_close", function()
  -- `early` is marked for finalization before aiolua.fs makes its list
  -- of requests, so it runs after that list's __gc: refused.  `late` runs
  -- before it: its request is detached and freed when it completes.
  local out, status = child("fin-close.lua", [[
    local early = setmetatable({}, { __gc = function()
      local ok, err = pcall(require("aiolua.fs").stat, "/")
      print("early", ok, tostring(err))
    end })
    local fs = require "asyncio.fs"
    local late = setmetatable({}, { __gc = function()
      print("late", pcall(function() fs.stat("/") end))
    end })
    asyncio.run(function() fs.stat("/"):await() end)
    print("end")
  ]])
  t.eq(out, "end\nlate\ttrue\n"
            .. "early\tfalse\tRuntimeError: fs.stat: the runtime is closing\n",
       "output")
  t.eq(status, 0, "exit status")
end)

t.test("a cancelled close still closes the descriptor", function()
  local C = require "aiolua.fs"
  fs.write_file(p("cl.txt"), "x"):await()
  collectgarbage()
  local base = nfds()
  local hs, files = {}, {}
  for i = 1, 10 do
    hs[i] = C.open(p("cl.txt")):await()
    files[i] = fs.open(p("cl.txt")):await()
  end
  local fifos, blockers = {}, {}
  for i = 1, POOL do
    fifos[i] = fifo("cblock" .. i)
    blockers[i] = asyncio.create_task(function()
      C.open(fifos[i], "r"):await():close_now()
    end)
  end
  asyncio.sleep(0.05):await() -- every pool thread is now blocked
  local ok, err = pcall(function()
    for i = 1, 10 do -- queued behind the blockers, then cancelled
      t.eq(hs[i]:close():cancel(), true, "cancelled")
      t.ok(hs[i]:closed(), "closed")
      t.raises("TimeoutError", function()
        asyncio.wait_for(files[i]:close(), 0.001):await()
      end)
    end
  end)
  for i = 1, POOL do release(fifos[i]) end
  for i = 1, POOL do blockers[i]:await() end
  if not ok then error(err, 0) end
  asyncio.sleep(0.05):await() -- the closes run now
  collectgarbage()
  t.eq(nfds(), base, "no descriptor leaked")
end)

t.test("read(n) with a negative n reads to end of file, as read(-1)", function()
  fs.write_file(p("neg.txt"), "abc\ndef"):await()
  local f <close> = fs.open(p("neg.txt")):await()
  t.eq(f:read(1):await(), "a")
  t.eq(f:read(-1):await(), "bc\ndef", "the rest")
  t.eq(f:read(-1):await(), "", "\"\" at end of file, as \"a\"")
  f:seek("set", 2):await()
  local a, b = f:read(1, -3.5):await()
  t.eq(a, "c"); t.eq(b, "\ndef")
end)

t.test("clean up", function()
  sh("rm -rf " .. TMP)
  t.eq(fs.exists(TMP):await(), false)
end)

t.run()
