-- test-json.lua -- asyncio.json against what Python's json module does:
-- values both ways, Python's error messages and positions, the Lua cases
-- JSON has no word for (null, empty arrays, holes, cycles), and bad input.
local asyncio = require "asyncio"
local json = require "asyncio.json"
local t = require "t"

local function decode_err(s)
  local e = t.raises("JSONDecodeError", json.decode, s)
  t.ok(asyncio.iserror(e, "ValueError"), "a JSONDecodeError is a ValueError")
  return e.message, e
end

t.test("decode: scalars, nesting, the array mark, null", function()
  t.eq(json.decode("1"), 1)
  t.eq(math.type(json.decode("1")), "integer")
  t.eq(math.type(json.decode("1.0")), "float")
  t.eq(json.decode("-2.5e3"), -2500.0)
  t.eq(json.decode(' "x" '), "x")
  t.eq(json.decode("true"), true)
  t.eq(json.decode("false"), false)
  t.eq(json.decode("null"), json.null)
  local v = json.decode('{"a": [1, {"b": null}, []], "c": {}}')
  t.eq(v.a[1], 1)
  t.eq(v.a[2].b, json.null)
  t.ok(json.isarray(v.a) and json.isarray(v.a[3]))
  t.eq(json.isarray(v.c), false)
  t.eq(next(v.c), nil)
  t.eq(#json.decode("[null, null, 3]"), 3, "nulls keep their places")
end)

t.test("decode: strings and their escapes, UTF-8 out", function()
  t.eq(json.decode([["a\"b\\c\/d\b\f\n\r\t"]]), "a\"b\\c/d\b\f\n\r\t")
  t.eq(json.decode([["\u00e9\u4e2d"]]), "é中")
  t.eq(json.decode([["\ud83d\ude00"]]), "😀", "a surrogate pair")
  t.eq(json.decode('"é raw"'), "é raw")
  t.eq(json.decode('"\127"'), "\127", "DEL needs no escape")
  t.eq(json.decode('{"k\\u0041": 1}').kA, 1, "escapes in keys")
end)

t.test("decode errors: Python's messages, positions from 0", function()
  t.eq(decode_err(""), "Expecting value: line 1 column 1 (char 0)")
  t.eq(decode_err("[1,]"), "Expecting value: line 1 column 4 (char 3)")
  t.eq(decode_err('{"a":1,}'),
       "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)")
  t.eq(decode_err("01"), "Extra data: line 1 column 2 (char 1)")
  t.eq(decode_err('"abc'), "Unterminated string starting at: line 1 column 1 (char 0)")
  t.eq(decode_err('"a\tb"'), "Invalid control character at: line 1 column 3 (char 2)")
  t.eq(decode_err([["\x"]]), "Invalid \\escape: line 1 column 2 (char 1)")
  t.eq(decode_err([["\u12"]]), "Invalid \\uXXXX escape: line 1 column 3 (char 2)")
  t.eq(decode_err("[1 2]"), "Expecting ',' delimiter: line 1 column 4 (char 3)")
  t.eq(decode_err('{"a" 1}'), "Expecting ':' delimiter: line 1 column 6 (char 5)")
  t.eq(decode_err("tru"), "Expecting value: line 1 column 1 (char 0)")
  t.eq(decode_err("Nan"), "Expecting value: line 1 column 1 (char 0)")
  t.eq(decode_err("-Inf"), "Expecting value: line 1 column 1 (char 0)")
  t.eq(decode_err("[-I]"), "Expecting value: line 1 column 2 (char 1)")
  t.eq(decode_err("-"), "Expecting value: line 1 column 1 (char 0)")
  t.eq(decode_err("1."), "Extra data: line 1 column 2 (char 1)")
  local _, e = decode_err('{\n  "a": x}')
  t.eq(e.pos, 9)
  t.eq(e.lineno, 2)
  t.eq(e.colno, 8)
  t.ok(decode_err(string.rep("[", 5000)):find("^Nesting too deep"))
  t.raises("TypeError", json.decode, 42)
end)

t.test("encode: scalars as Python writes them", function()
  t.eq(json.encode(1), "1")
  t.eq(json.encode(3.0), "3.0")
  t.eq(json.encode(-0.0), "-0.0")
  t.eq(json.encode(0.1), "0.1")
  t.eq(json.encode(0.1 + 0.2), "0.30000000000000004")
  t.eq(json.encode(1e16), "1e+16")
  t.eq(json.encode(math.maxinteger), "9223372036854775807")
  t.eq(json.encode(true), "true")
  t.eq(json.encode(nil), "null")
  t.eq(json.encode(json.null), "null")
  t.eq(json.encode('q"b\\\n\0\31\127/é'), [["q\"b\\\n\u0000\u001f\u007f/é"]])
  for _, v in ipairs { 0.1, 1 / 3, 1e300, 5e-324, 123456.789, -2.5e-8 } do
    t.eq(json.decode(json.encode(v)), v, "round trip of " .. v)
  end
end)

t.test("encode: tables are arrays or objects; keys sorted", function()
  t.eq(json.encode({ 1, "two", { 3 } }), '[1,"two",[3]]')
  t.eq(json.encode({ b = 1, a = { c = false } }), '{"a":{"c":false},"b":1}')
  t.eq(json.encode({}), "{}", "an empty table is an object")
  t.eq(json.encode(json.array()), "[]", "unless marked")
  t.eq(json.encode(json.array({ 1 })), "[1]")
  t.eq(json.encode({ [1] = "a", [3] = "c" }), '{"1":"a","3":"c"}', "holes: an object")
  t.eq(json.encode({ "a", x = 1 }), '{"1":"a","x":1}', "mixed keys: an object")
  t.eq(json.encode({ [2.5] = 1 }), '{"2.5":1}')
  t.eq(json.encode(json.decode('{"a":[],"b":{}}')), '{"a":[],"b":{}}', "round trip")
  t.eq(json.encode({ a = { 1, 2 }, b = "x" }, { indent = 2 }),
       '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "x"\n}')
end)

t.test("encode errors: what JSON cannot hold", function()
  t.raises("Object of type function is not JSON serializable", json.encode, { f = print })
  t.raises("TypeError", json.encode, coroutine.create(print))
  t.raises("keys must be str", json.encode, { [true] = 1 })
  local cyc = {}
  cyc.self = cyc
  t.raises("Circular reference detected", json.encode, cyc)
  local shared = { 1 }
  t.eq(json.encode({ shared, shared }), "[[1],[1]]", "shared is not circular")
  t.raises("Out of range float values are not JSON compliant: nan", json.encode, 0 / 0,
           { allow_nan = false })
  t.raises("not JSON compliant: inf", json.encode, { math.huge }, { allow_nan = false })
  t.raises("not JSON compliant: %-inf", json.encode, { x = -math.huge }, { allow_nan = false })
  t.raises("allow_nan must be a boolean", json.encode, 1, { allow_nan = "no" })
  t.raises("not UTF%-8", json.encode, "\255")
  t.raises("indent must be", json.encode, {}, { indent = "x" })
  local deep = {}
  for _ = 1, 2000 do deep = { deep } end
  t.raises("Nesting too deep", json.encode, deep)
  t.raises("read%-only", function() json.null.x = 1 end)
  t.raises("TypeError", json.array, 5)
end)

t.test("mangled documents: a value or a JSONDecodeError, never worse", function()
  local doc = json.encode({ a = { 1, -2.5e-3, "x\\u00e9\n", true, false, json.null },
                            ["k\"ey"] = { nested = { deep = json.array() } }, n = 12345678901 })
  math.randomseed(8)
  local pieces = { "[", "]", "{", "}", '"', "\\", "\\u", "\\ud83d", ",", ":", "-",
                   "0", "1e", ".", "\0", "\255", "é", " ", "true", "nul" }
  local values, errors = 0, 0
  for _ = 1, 20000 do
    local s, i = doc, math.random(#doc + 1)
    local op = math.random(3)
    if op == 1 then
      s = s:sub(1, i - 1) .. pieces[math.random(#pieces)] .. s:sub(i)
    elseif op == 2 then
      s = s:sub(1, i - 1) .. s:sub(i + math.random(4))
    else
      s = s:sub(1, math.random(#s))
    end
    local ok, v = pcall(json.decode, s)
    if ok then
      values = values + 1
      local ok2, text = pcall(json.encode, v)  -- what decodes encodes, but
      if ok2 then                              -- for the bytes of a string
        t.eq(json.encode(json.decode(text)), text, "stable")
      else
        t.ok(asyncio.iserror(text, "ValueError"), tostring(text))
      end
    else
      errors = errors + 1
      t.ok(asyncio.iserror(v, "JSONDecodeError"), tostring(v))
    end
  end
  t.ok(values > 100 and errors > 100, values .. " values, " .. errors .. " errors")
end)

t.test("NaN and the infinities, both ways, as Python's json (allow_nan)", function()
  local v = json.decode('[NaN, Infinity, -Infinity, {"x": -Infinity}, -1]')
  t.ok(v[1] ~= v[1], "NaN")
  t.eq(v[2], math.huge)
  t.eq(v[3], -math.huge)
  t.eq(v[4].x, -math.huge)
  t.eq(v[5], -1)
  t.eq(json.encode({ 0 / 0, math.huge, -math.huge, 1.5 }), "[NaN,Infinity,-Infinity,1.5]")
  t.eq(json.encode({ [math.huge] = 1, [-math.huge] = 2 }), '{"-Infinity":2,"Infinity":1}')
  t.eq(json.encode(json.decode("-Infinity")), "-Infinity", "round trip")
end)

t.run()
