-- test-producer-consumer.lua -- scripts/producer_consumer.lua run in a child
-- aiolua: its exact output for a seed (items come out of the FIFO queue in
-- the order they were put, so a seeded run always prints the same), and,
-- for many seeds and sizes, the structure of the verbose trace: every item
-- put is got exactly once, after it was put, each producer's items in
-- order, and the consumers are cancelled once the queue is joined.
local t = require "t"
local S = require "scriptrun"

local SCRIPT = "producer_consumer.lua"

local function run(args, what)
  local r = S.run(SCRIPT, args)
  if r.status ~= 0 then
    error(("%s exited with %s\nstdout:\n%s\nstderr:\n%s"):format(
      what or SCRIPT, tostring(r.status), r.out, r.err), 2)
  end
  return S.lines(r.out), r
end

t.test("seeded run: exact output", function()
  local lines, r = run { "--seed", "42", "--unit", "0.01" }
  t.same_as(lines, {
    "producer 1: 5 items",
    "producer 2: 1 item",
    "producer 3: 3 items",
    "p1.0", "p2.0", "p3.0",
    "p1.1", "p3.1",
    "p1.2", "p3.2",
    "p1.3",
    "p1.4",
    "all items processed; cancelling 3 consumers",
    "3 consumers cancelled",
  })
  -- Five rounds of 2 units, then the last consumer's unit: about 0.11 s.
  t.ok(r.elapsed >= 0.1 and r.elapsed < 2, "took " .. r.elapsed .. " s")
end)

-- Checks a verbose trace; returns the number of items.
local function check_trace(lines, nprod, ncons)
  local planned, put_at, got_at, last_of = {}, {}, {}, {}
  local nitems, closing = 0, nil
  for i, l in ipairs(lines) do
    local p, n = l:match("^producer (%d+): (%d+) items?$")
    if p then
      t.eq(planned[tonumber(p)], nil, "one plan per producer")
      planned[tonumber(p)] = tonumber(n)
      nitems = nitems + tonumber(n)
    end
    local pp, item = l:match("^producer (%d+) put (p(%d+)%.%d+)$")
    if pp then
      t.eq(put_at[item], nil, "each item put once: " .. item)
      t.ok(item:match("^p" .. pp .. "%."), "a producer puts its own items")
      put_at[item] = i
    end
    local c, gitem = l:match("^consumer (%d+) got (p%d+%.%d+)$")
    if c then
      t.ok(tonumber(c) >= 1 and tonumber(c) <= ncons, "consumer id " .. c)
      t.eq(got_at[gitem], nil, "each item got once: " .. gitem)
      t.ok(put_at[gitem] and put_at[gitem] < i, "got after put: " .. gitem)
      local prod, idx = gitem:match("^p(%d+)%.(%d+)$")
      local prev = last_of[prod] or -1
      t.eq(tonumber(idx), prev + 1, "producer " .. prod .. "'s items in order")
      last_of[prod] = tonumber(idx)
      got_at[gitem] = i
    end
    if l:match("^all items processed") then closing = i end
  end
  for p = 1, nprod do t.ok(planned[p], "producer " .. p .. " planned") end
  local nput, ngot = 0, 0
  for item in pairs(put_at) do
    nput = nput + 1
    t.ok(got_at[item], "item got: " .. item)
    t.ok(got_at[item] < closing, "got before the join returned: " .. item)
  end
  for _ in pairs(got_at) do ngot = ngot + 1 end
  t.eq(nput, nitems, "items put")
  t.eq(ngot, nitems, "items got")
  t.eq(lines[#lines - 1], ("all items processed; cancelling %d consumers"):format(ncons))
  t.eq(lines[#lines], ("%d consumers cancelled"):format(ncons))
  return nitems
end

t.test("verbose traces over many seeds", function()
  local total = 0
  for seed = 1, 12 do
    local nprod, ncons = 1 + seed % 4, 1 + (seed * 7) % 4
    local lines = run({ "--seed", seed, "--unit", "0.002", "-v",
                        "--producers", nprod, "--consumers", ncons },
                      "seed " .. seed)
    total = total + check_trace(lines, nprod, ncons)
  end
  t.ok(total > 0, "some items moved")
end)

t.test("seeded runs repeat exactly", function()
  local a = run { "--seed", "7", "--unit", "0.002", "--producers", "5" }
  local b = run { "--seed", "7", "--unit", "0.002", "--producers", "5" }
  t.same_as(a, b, "same seed, same output")
end)

t.test("AIOLUA_TIME_SCALE scales the tutorial's 2 s and 1 s", function()
  local r = S.run(SCRIPT, { "--seed", "42" }, { env = { AIOLUA_TIME_SCALE = "0.005" } })
  t.eq(r.status, 0)
  t.eq(#S.lines(r.out), 14)
  t.ok(r.elapsed < 2, "took " .. r.elapsed .. " s")
end)

t.test("bad options exit with status 2", function()
  local r = S.run(SCRIPT, { "--bogus", "1" })
  t.eq(r.status, 2)
  t.ok(r.err:find("bad option"), r.err)
  r = S.run(SCRIPT, { "stray" })
  t.eq(r.status, 2)
end)

t.run()
