-- scriptrun.lua -- runs scripts/*.lua in a child aiolua process for the
-- script tests (test-scripts.lua, test-crawler.lua): captures stdout,
-- stderr, the exit status and the wall time.  The child blocks this
-- process (io.popen): fine in a test, where nothing else runs meanwhile.
local M = {}

M.SCRIPTS = "../../scripts/"
M.PYTHON = io.open("/usr/bin/python3") and "/usr/bin/python3" or "python3"

local function shquote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.shquote = shquote

-- The aiolua binary running this test: arg[-1] as lua sets it, else
-- $AIOLUA.
local function binary()
  local b = os.getenv("AIOLUA")
  if b and b ~= "" then return b end
  local i = -1
  while arg and arg[i - 1] do i = i - 1 end -- the interpreter is the lowest
  return assert(arg and arg[i], "cannot find the aiolua binary (set AIOLUA)")
end
M.BIN = binary()

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end
M.slurp = slurp

-- run(script, {args...}, {env = {K = V}}) -> {out, err, status, elapsed}
function M.run(script, args, opts)
  opts = opts or {}
  local env = {}
  for k, v in pairs(opts.env or {}) do env[#env + 1] = k .. "=" .. shquote(v) end
  local words = { shquote(M.BIN), shquote(M.SCRIPTS .. script) }
  for _, a in ipairs(args or {}) do words[#words + 1] = shquote(a) end
  local errf = os.tmpname()
  local cmd = ("s=$(date +%%s%%N); %s %s </dev/null 2>%s; rc=$?; "
               .. "e=$(date +%%s%%N); echo; echo \"@@ $rc $(( (e - s) / 1000 ))\"")
              :format(table.concat(env, " "), table.concat(words, " "), errf)
  local h = assert(io.popen(cmd))
  local all = h:read("a")
  h:close()
  local out, rc, us = all:match("^(.*)\n@@ (%d+) (%d+)\n$")
  local r = { out = out or all, status = tonumber(rc), elapsed = (tonumber(us) or 0) / 1e6,
              err = slurp(errf) }
  os.remove(errf)
  return r
end

function M.lines(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- A demo site for a test: returns an object with url and :stop().
function M.demo_site(extra)
  local portfile = os.tmpname()
  local proc = assert(io.popen(("exec %s %s %s > %s"):format(
    M.PYTHON, shquote(M.SCRIPTS .. "demo_site.py"), extra or "", shquote(portfile)), "w"))
  local port
  for _ = 1, 1000 do
    port = tonumber(slurp(portfile):match("^(%d+)\n"))
    if port then break end
    os.execute("sleep 0.01")
  end
  os.remove(portfile)
  assert(port, "the demo site did not start")
  return { url = ("http://127.0.0.1:%d/"):format(port), port = port,
           stop = function() proc:close() end }
end

return M
