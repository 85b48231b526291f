-- dofile, loadfile and load go through the dialect translator, as scripts,
-- require and -e do (DESIGN §7: every chunk the host loads).
local t = require "t"
local asyncio = require "asyncio"

local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write("async function double(x)\n  await asyncio.sleep(0)\n  return x * 2\nend\nreturn double\n")
f:close()

t.test("dofile translates and may await inside a task", function()
  local double = dofile(path)
  t.eq(double(21):await(), 42)
end)

t.test("loadfile translates; env argument honoured", function()
  local chunk = assert(loadfile(path))
  t.eq(chunk()(2):await(), 4)
  local env = { asyncio = asyncio }
  local c2 = assert(loadfile(path, "t", env))
  c2()
  t.eq(type(env.double), "function")
end)

t.test("load of a string translates await", function()
  local chunk = assert(load("return await asyncio.sleep(0, 'v')", "=chunk"))
  t.eq(chunk(), "v")
end)

t.test("load reports translation errors as nil, message", function()
  local fn, err = load("return await", "=bad")
  t.eq(fn, nil)
  t.ok(err:find("bad:1:", 1, true), err)
end)

t.test("load with a reader function and binary mode still works", function()
  local parts = { "return ", "1 + 1" }
  local i = 0
  local fn = assert(load(function() i = i + 1; return parts[i] end))
  t.eq(fn(), 2)
  local bin = string.dump(function() return 7 end)
  t.eq(assert(load(bin, "b", "b"))(), 7)
end)

t.test("loadfile honours its mode for precompiled chunks", function()
  -- a binary chunk can crash the VM if crafted: mode "t" must refuse it,
  -- as Lua's own loadfile does
  local bc = os.tmpname()
  local out = assert(io.open(bc, "wb"))
  out:write(string.dump(function() return "dumped" end))
  out:close()
  local fn, err = loadfile(bc, "t")
  t.eq(fn, nil)
  t.ok(err:find("binary chunk", 1, true), err)
  t.eq(loadfile(bc, "b")(), "dumped")
  t.eq(loadfile(bc, "bt")(), "dumped")
  t.eq(loadfile(bc)(), "dumped")
  os.remove(bc)
end)

t.test("the binary runs with stdin, stdout or stderr closed", function()
  -- libuv asserted that its descriptors lie above stderr (abort)
  local run = require "scriptrun"
  local bin = run.shquote(run.BIN)
  for _, redir in ipairs { "<&-", ">&-", "2>&-", "<&- >&- 2>&-" } do
    local cmd = ("%s -e 'asyncio.run(function() asyncio.sleep(0):await() end)' %s; echo rc=$?")
                :format(bin, redir)
    local h = assert(io.popen("sh -c " .. run.shquote(cmd) .. " 2>&1"))
    local got = h:read("a")
    h:close()
    t.ok(got:find("rc=0", 1, true), redir .. ": " .. got)
  end
end)

t.test("--translate of a directory is an error, not empty output", function()
  local run = require "scriptrun"
  local h = assert(io.popen(("%s --translate . 2>&1; echo rc=$?")
                            :format(run.shquote(run.BIN))))
  local got = h:read("a")
  h:close()
  t.ok(got:find("cannot read", 1, true) and got:find("rc=1", 1, true), got)
end)

t.test("(clean up the temporary file)", function() t.ok(os.remove(path)) end)

t.run()
