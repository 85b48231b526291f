-- fs.lua -- asynchronous files (module "asyncio.fs"), aiofiles-like.
-- Built on the uv_fs_* primitives of aiolua.fs (bindings/fs.c): this file
-- adds the buffered File object (read formats, lines, seek) and the
-- one-call helpers (read_file, write_file, mkdir with parents...).  Every
-- function that can suspend returns an awaitable; errors are OSError
-- tables with `path`, `code` ("ENOENT"...), `errno` and the OS message.
local asyncio = require "asyncio"
local C = require "aiolua.fs"

local async, await = asyncio.async, asyncio.await

local fs = {}

local CHUNK = 65536 -- bytes read at a time to fill the line buffer

-- File: a C handle plus a read buffer.  `_pos` is the file offset just
-- after the buffered data; the logical position is `_pos` minus what is
-- left in the buffer (`_buf` from index `_bi`).
local File = {}
File.__index = File
File.__name = "asyncio.fs.File"

local function new_file(h, path, mode)
  return setmetatable({
    _h = h, _path = path, _mode = mode, _buf = "", _bi = 1, _pos = 0,
    _append = mode:find("a", 1, true) ~= nil,
  }, File)
end

local function buffered(self) return #self._buf - self._bi + 1 end

local function tell(self) return self._pos - buffered(self) end

local function drop_buffer(self)
  self._pos = tell(self)
  self._buf, self._bi = "", 1
end

-- Takes up to n bytes from the buffer.
local function take(self, n)
  local s = self._buf:sub(self._bi, self._bi + n - 1)
  self._bi = self._bi + #s
  if self._bi > #self._buf then self._buf, self._bi = "", 1 end
  return s
end

-- Reads one more chunk into the buffer; false at end of file.
local function fill(self)
  local s = await(self._h:read(CHUNK, self._pos))
  if #s == 0 then return false end
  self._pos = self._pos + #s
  self._buf, self._bi = self._buf:sub(self._bi) .. s, 1
  return true
end

local function read_line(self, keep)
  local from = self._bi
  while true do
    local nl = self._buf:find("\n", from, true)
    if nl then
      local line = take(self, nl - self._bi + 1)
      return keep and line or line:sub(1, -2)
    end
    from = #self._buf - self._bi + 2 -- buffer restarts at 1 after fill
    if not fill(self) then
      if buffered(self) == 0 then return nil end
      return take(self, buffered(self))
    end
  end
end

local function read_n(self, n)
  local have = buffered(self)
  if n == 0 then
    if have > 0 or fill(self) then return "" end
    return nil
  end
  if have >= n then return take(self, n) end
  local head = take(self, have)
  local rest = await(self._h:read(n - have, self._pos))
  self._pos = self._pos + #rest
  local s = head .. rest
  if #s == 0 then return nil end
  return s
end

local function read_all(self)
  local head = take(self, buffered(self))
  local rest = await(self._h:read(-1, self._pos))
  self._pos = self._pos + #rest
  return head .. rest
end

local function read_one(self, fmt)
  if type(fmt) == "number" then
    local n = math.floor(fmt)
    if n < 0 then return read_all(self) end -- as Python's read(-1)
    return read_n(self, n)
  end
  local f = type(fmt) == "string" and fmt:gsub("^%*", ""):sub(1, 1)
  if f == "l" then return read_line(self, false) end
  if f == "L" then return read_line(self, true) end
  if f == "a" then return read_all(self) end
  error("bad argument to 'read' (invalid format " .. tostring(fmt) .. ")", 3)
end

--- file:read(...) -> awaitable: like Lua's file:read, with formats n
-- (bytes; nil at end of file; a negative n is "a", as Python's read(-1)),
-- "a" (the rest; "" at end), "l" (a line without its newline; nil at end;
-- the default) and "L" (with it).
File.read = async(function(self, ...)
  local n = select("#", ...)
  if n == 0 then return read_one(self, "l") end
  local out = {}
  for i = 1, n do
    out[i] = read_one(self, (select(i, ...)))
    if out[i] == nil then return table.unpack(out, 1, i) end
  end
  return table.unpack(out, 1, n)
end)

--- file:write(...) -> awaitable resolving to the file: writes each string
-- or number argument, in order, at the current position (at the end in
-- append mode).
File.write = async(function(self, ...)
  local parts = table.pack(...)
  for i = 1, parts.n do
    local v = parts[i]
    if type(v) == "number" then parts[i] = tostring(v)
    elseif type(v) ~= "string" then
      error("bad argument #" .. i .. " to 'write' (string expected, got "
            .. type(v) .. ")", 2)
    end
  end
  local data = table.concat(parts, "", 1, parts.n)
  drop_buffer(self)
  if self._append then
    await(self._h:write(data))
  else
    local n = await(self._h:write(data, self._pos))
    self._pos = self._pos + n
  end
  return self
end)

--- file:lines([fmt]) -> an iterator for a generic `for` inside a task;
-- each step awaits the next line (or item read with fmt).
function File:lines(fmt)
  fmt = fmt or "l"
  return function() return await(self:read(fmt)) end
end

--- file:seek([whence [, offset]]) -> awaitable resolving to the new
-- position; whence is "set", "cur" (the default) or "end".
File.seek = async(function(self, whence, offset)
  whence, offset = whence or "cur", offset or 0
  local base
  if whence == "set" then base = 0
  elseif whence == "cur" then base = tell(self)
  elseif whence == "end" then base = await(self._h:stat()).size
  else error("bad argument #1 to 'seek' (invalid option '"
             .. tostring(whence) .. "')", 2) end
  local pos = base + offset
  if pos < 0 then error("bad argument #2 to 'seek' (negative position)", 2) end
  self._buf, self._bi, self._pos = "", 1, pos
  return pos
end)

--- file:stat() -> awaitable stat table of the open file.
function File:stat() return self._h:stat() end

--- file:sync() -> awaitable: flushes the file to the disk (fsync).
function File:sync() return self._h:sync() end

--- file:close() -> awaitable; closing twice does nothing.
function File:close() return self._h:close() end

function File:closed() return self._h:closed() end

function File:fileno() return self._h:fileno() end

-- `local f <close> = fs.open(...):await()` closes at once on scope exit.
function File:__close() self._h:close_now() end

function File:__tostring()
  if self._h:closed() then return "asyncio.fs.File (closed)" end
  return string.format("asyncio.fs.File (%s, %s)", self._path, self._mode)
end

--- fs.open(path [, mode]) -> awaitable File.  mode as in io.open: "r",
-- "w", "a", "r+", "w+", "a+" ("b" ignored), and "x" (create, fail if it
-- exists).
fs.open = async(function(path, mode)
  mode = mode or "r"
  return new_file(await(C.open(path, mode)), path, mode)
end)

--- fs.read_file(path) -> awaitable string: the whole file.
fs.read_file = async(function(path)
  local h <close> = await(C.open(path, "r"))
  local data = await(h:read(-1))
  await(h:close())
  return data
end)

local function put(path, mode, data)
  if type(data) == "number" then data = tostring(data) end
  if type(data) ~= "string" then
    error("bad argument #2 (string expected, got " .. type(data) .. ")", 3)
  end
  local h <close> = await(C.open(path, mode))
  local n = await(h:write(data))
  await(h:close())
  return n
end

--- fs.write_file(path, data) -> awaitable number of bytes: creates or
-- truncates the file and writes data.
fs.write_file = async(function(path, data) return put(path, "w", data) end)

--- fs.append_file(path, data) -> awaitable number of bytes written at the
-- end of the file (created if missing).
fs.append_file = async(function(path, data) return put(path, "a", data) end)

--- fs.stat(path [, {follow_symlinks = false}]) -> awaitable table with
-- size, mtime, atime, ctime (seconds), type ("file", "directory", "link",
-- "other"), mode (permission bits), nlink, uid, gid, ino, dev.  Like
-- Python's os.stat it follows symbolic links unless told not to.
function fs.stat(path, opts)
  if opts and opts.follow_symlinks == false then return C.lstat(path) end
  return C.stat(path)
end

--- fs.lstat(path) -> awaitable stat table of a link itself.
function fs.lstat(path) return C.lstat(path) end

--- fs.exists(path) -> awaitable boolean.
fs.exists = async(function(path)
  local ok, err = pcall(await, C.stat(path))
  if ok then return true end
  if asyncio.iserror(err, "OSError") and
     (err.code == "ENOENT" or err.code == "ENOTDIR") then
    return false
  end
  error(err, 0)
end)

local function is_dir(path)
  local ok, st = pcall(await, C.stat(path))
  return ok and st.type == "directory"
end

-- Creates path and its missing parents; an existing directory is fine.
local function makedirs(path, mode)
  local ok, err = pcall(await, C.mkdir(path, mode))
  if ok then return end
  if not asyncio.iserror(err, "OSError") then error(err, 0) end
  if err.code == "EEXIST" and is_dir(path) then return end
  local parent = path:match("^(.*[^/])/+[^/]+/*$")
  if err.code ~= "ENOENT" or not parent then error(err, 0) end
  makedirs(parent, mode)
  ok, err = pcall(await, C.mkdir(path, mode))
  if not ok and not (asyncio.iserror(err, "OSError") and
                     err.code == "EEXIST" and is_dir(path)) then
    error(err, 0)
  end
end

--- fs.mkdir(path [, {parents = true, mode = 0x1ff}]) -> awaitable.  With
-- parents, creates missing parent directories too and accepts an existing
-- directory (as `mkdir -p`).
fs.mkdir = async(function(path, opts)
  local mode = opts and opts.mode
  if opts and opts.parents then return makedirs(path, mode) end
  await(C.mkdir(path, mode))
end)

--- fs.listdir(path) -> awaitable list of the names in a directory, sorted
-- (without "." and "..").
fs.listdir = async(function(path)
  local names = await(C.scandir(path))
  table.sort(names)
  return names
end)

--- fs.remove(path) -> awaitable: removes a file, or an empty directory
-- (as Lua's os.remove).
fs.remove = async(function(path)
  local ok, err = pcall(await, C.unlink(path))
  if ok then return end
  if asyncio.iserror(err, "OSError") and
     (err.code == "EISDIR" or err.code == "EPERM") and is_dir(path) then
    return await(C.rmdir(path))
  end
  error(err, 0)
end)

--- fs.rmdir(path) -> awaitable: removes an empty directory.
function fs.rmdir(path) return C.rmdir(path) end

--- fs.rename(from, to) -> awaitable: renames or moves, replacing `to`.
function fs.rename(from, to) return C.rename(from, to) end

fs.File = File
return fs
