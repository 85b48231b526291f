-- t.lua -- the test harness of the Lua suite.
-- A test file registers cases with t.test(name, fn) and ends with t.run().
-- Each case runs as its own asyncio.run(fn) (so fn may await), and after it
-- the harness checks that no task was left behind.  Prints TAP and a closing
-- "N passed, N failed" line; exits 1 on any failure.
local asyncio = require "asyncio"
local t = {}
local cases = {}

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function t.test(name, fn) cases[#cases + 1] = { name = name, fn = fn } end
-- A case that runs outside any event loop (it makes its own).
function t.test_outside(name, fn)
  cases[#cases + 1] = { name = name, fn = fn, outside = true }
end

function t.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: expected %s, got %s", what or "value",
                        show(want), show(got)), 2)
  end
end

function t.ok(v, what)
  if not v then error((what or "assertion") .. " failed", 2) end
  return v
end

-- Deep comparison of plain tables.
local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
t.same = same

local function dump(v)
  if type(v) ~= "table" then return show(v) end
  local keys, parts = {}, {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. dump(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
t.dump = dump

function t.same_as(got, want, what)
  if not same(got, want) then
    error(string.format("%s: expected %s, got %s", what or "value",
                        dump(want), dump(got)), 2)
  end
end

-- Calls fn(...) (it may await) and expects it to raise.  `want` is an error
-- type ("TimeoutError"), a Lua pattern matched against tostring(err), or
-- nil.  Returns the error.
function t.raises(want, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error" .. (want and (" " .. want) or ""), 2) end
  if want then
    local ty = type(err) == "table" and err.type
    if ty ~= want and not tostring(err):find(want) then
      error(string.format("expected error %s, got %s", want, tostring(err)), 2)
    end
  end
  return err
end

-- Waits (polling every 5 ms, for up to `seconds`, 3 by default) until
-- cond() holds; returns whether it did.  For what a callback or another
-- process does in its own time.
function t.until_(cond, seconds)
  for _ = 1, math.ceil((seconds or 3) / 0.005) do
    if cond() then return true end
    asyncio.sleep(0.005):await()
  end
  return cond() and true or false
end

-- Records the order of events: t.log("x"); t.same_as(t.events(), {...}).
local events = {}
function t.log(e) events[#events + 1] = e end
function t.events() local e = events; events = {}; return e end

function t.run()
  local passed, failed = 0, 0
  for i, c in ipairs(cases) do
    events = {}
    local ok, err
    if c.outside then ok, err = pcall(c.fn) else ok, err = pcall(asyncio.run, c.fn) end
    if ok then
      local left = #asyncio.all_tasks()
      if left > 0 then ok, err = false, left .. " task(s) left behind" end
    end
    if ok then
      passed = passed + 1
      print(string.format("ok %d - %s", i, c.name))
    else
      failed = failed + 1
      print(string.format("not ok %d - %s\n# %s", i, c.name, tostring(err)))
    end
  end
  print(string.format("1..%d", #cases))
  print(string.format("%d passed, %d failed", passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

return t
