-- core/cli.lua -- helper of the core-cli-* golden cases: runs the aiolua
-- binary (arg[-1] of the case) with options, stdin and a clean stderr
-- capture, and prints what a case wants to compare, with the binary's
-- path shown as "aiolua".
local M = {}

local bin = arg[-1]
M.bin = bin

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Replaces the binary's full path by "aiolua".
function M.norm(s)
  local b = bin:gsub("%p", "%%%0")
  return (s:gsub(b, "aiolua"))
end

-- run({args...} [, stdin]) -> stdout, stderr, exit status
function M.run(args, input)
  local errf = os.tmpname()
  local cmd = q(bin)
  for _, a in ipairs(args) do cmd = cmd .. " " .. q(a) end
  local inf
  if input then
    inf = os.tmpname()
    local f = assert(io.open(inf, "wb"))
    f:write(input)
    f:close()
    cmd = cmd .. " < " .. q(inf)
  else
    cmd = cmd .. " < /dev/null"
  end
  cmd = cmd .. " 2> " .. q(errf)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local err = slurp(errf)
  os.remove(errf)
  if inf then os.remove(inf) end
  return M.norm(out), M.norm(err), code
end

-- Prints a titled block: the command's stdout, its status, and whether
-- stderr contains each of `want` (a list of plain substrings).
function M.show(title, args, input, want)
  local out, err, code = M.run(args, input)
  print("== " .. title)
  io.write(out)
  print("status " .. tostring(code))
  for _, w in ipairs(want or {}) do
    print(string.format("stderr has %q: %s", w, tostring(err:find(w, 1, true) ~= nil)))
  end
  return out, err, code
end

return M
