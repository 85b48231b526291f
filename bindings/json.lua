-- json.lua -- asyncio.json (require "asyncio.json"): JSON text to Lua
-- values and back, as Python's json module does (RFC 8259), for HTTP
-- bodies (request option `json`, Response:json()).
--   json.decode(s) -> value       objects and arrays are tables; null is
--                                  json.null; arrays carry json.array's mark
--   json.encode(v) -> string      keys sorted, no spaces (", " and ": " with
--                                  {indent = n} for one per line)
--   json.null, json.array(t)       the null value; marks t as an array
-- A bad document raises JSONDecodeError (a ValueError) with Python's
-- message ("Expecting value: line 1 column 1 (char 0)") and pos (0-based,
-- as Python's), lineno and colno; a value JSON cannot hold raises
-- TypeError or ValueError.
local asyncio = require "asyncio"
local Error = asyncio.Error
local byte, char, find, format, sub, gsub, rep =
  string.byte, string.char, string.find, string.format, string.sub,
  string.gsub, string.rep
local concat, sort = table.concat, table.sort
local type, next, pairs, tostring, tonumber, getmetatable, setmetatable =
  type, next, pairs, tostring, tonumber, getmetatable, setmetatable
local mtype, huge, utf8char, utf8len = math.type, math.huge, utf8.char, utf8.len

local json = {}

-- null: a value of its own, so that it can stand in a table (nil cannot).
json.null = setmetatable({}, {
  __name = "json.null",
  __tostring = function() return "null" end,
  __newindex = function() error("json.null is read-only", 2) end,
})
local null = json.null

-- The mark of arrays: decoded arrays carry it, and json.array(t) gives it
-- to a table, so that an empty one encodes as [] rather than {}.
local array_mt = { __name = "json.array" }
function json.array(t)
  t = t or {}
  if type(t) ~= "table" then
    error(Error("TypeError", "json.array: a table expected, got " .. type(t)), 2)
  end
  return setmetatable(t, array_mt)
end
function json.isarray(t) return getmetatable(t) == array_mt end

local MAX_DEPTH = 1000

-- ---- decoding ------------------------------------------------------------

local function fail(s, pos, what)
  local before = sub(s, 1, pos - 1)
  local lineno = select(2, gsub(before, "\n", "")) + 1
  local colno = pos - (before:match(".*\n()") or 1) + 1
  error(Error("JSONDecodeError",
              format("%s: line %d column %d (char %d)", what, lineno, colno, pos - 1),
              { pos = pos - 1, lineno = lineno, colno = colno }), 0)
end

local function skip(s, i)
  local _, e = find(s, "^[ \t\r\n]*", i)
  return e + 1
end

local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b",
                  f = "\f", n = "\n", r = "\r", t = "\t" }

-- The string whose opening quote is at i; returns it and the position after.
local function decode_string(s, i)
  local j = i + 1
  local _, e = find(s, '^[^"\\\0-\31]*"', j)
  if e then return sub(s, j, e - 1), e + 1 end   -- no escapes: one piece
  local parts, n = {}, 0
  while true do
    local a, b = find(s, '^[^"\\\0-\31]*', j)
    if b >= a then n = n + 1; parts[n] = sub(s, a, b) end
    j = b + 1
    local c = sub(s, j, j)
    if c == '"' then return concat(parts), j + 1 end
    if c == "" then fail(s, i, "Unterminated string starting at") end
    if c ~= "\\" then fail(s, j, "Invalid control character at") end
    local e1 = sub(s, j + 1, j + 1)
    local plain = ESCAPES[e1]
    if plain then
      n = n + 1; parts[n] = plain
      j = j + 2
    elseif e1 == "u" then
      local hex = s:match("^%x%x%x%x", j + 2)
      if not hex then fail(s, j + 1, "Invalid \\uXXXX escape") end
      local cp = tonumber(hex, 16)
      j = j + 6
      if cp >= 0xD800 and cp <= 0xDBFF then  -- a pair makes one code point
        local lo = s:match("^\\u([Dd][C-Fc-f]%x%x)", j)
        if lo then
          cp = 0x10000 + ((cp - 0xD800) << 10) + (tonumber(lo, 16) - 0xDC00)
          j = j + 6
        end
      end
      n = n + 1; parts[n] = utf8char(cp)
    else
      fail(s, j, "Invalid \\escape")
    end
  end
end

local decode_value

local function decode_array(s, i, depth)
  local t, n = setmetatable({}, array_mt), 0
  i = skip(s, i + 1)
  if sub(s, i, i) == "]" then return t, i + 1 end
  while true do
    local v
    v, i = decode_value(s, i, depth)
    n = n + 1
    t[n] = v
    i = skip(s, i)
    local c = sub(s, i, i)
    if c == "]" then return t, i + 1 end
    if c ~= "," then fail(s, i, "Expecting ',' delimiter") end
    i = skip(s, i + 1)
  end
end

local function decode_object(s, i, depth)
  local t = {}
  i = skip(s, i + 1)
  if sub(s, i, i) == "}" then return t, i + 1 end
  while true do
    if sub(s, i, i) ~= '"' then
      fail(s, i, "Expecting property name enclosed in double quotes")
    end
    local k
    k, i = decode_string(s, i)
    i = skip(s, i)
    if sub(s, i, i) ~= ":" then fail(s, i, "Expecting ':' delimiter") end
    local v
    v, i = decode_value(s, skip(s, i + 1), depth)
    t[k] = v
    i = skip(s, i)
    local c = sub(s, i, i)
    if c == "}" then return t, i + 1 end
    if c ~= "," then fail(s, i, "Expecting ',' delimiter") end
    i = skip(s, i + 1)
  end
end

local LITERALS = { t = { "true", true }, f = { "false", false },
                   n = { "null", null } }

-- The value at i (no space before it); returns it and the position after.
function decode_value(s, i, depth)
  local c = byte(s, i)
  if c == 34 then return decode_string(s, i) end          -- "
  if c == 123 or c == 91 then                               -- { [
    if depth >= MAX_DEPTH then fail(s, i, "Nesting too deep") end
    if c == 123 then return decode_object(s, i, depth + 1) end
    return decode_array(s, i, depth + 1)
  end
  local lit = c and LITERALS[char(c)]
  if lit then
    local word = lit[1]
    if sub(s, i, i + #word - 1) == word then return lit[2], i + #word end
    fail(s, i, "Expecting value")
  end
  -- a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)?
  local _, e = find(s, "^-?0", i)
  if not e then _, e = find(s, "^-?[1-9]%d*", i) end
  if not e then fail(s, i, "Expecting value") end
  local _, f = find(s, "^%.%d+", e + 1)
  if f then e = f end
  _, f = find(s, "^[eE][-+]?%d+", e + 1)
  if f then e = f end
  return tonumber(sub(s, i, e)), e + 1     -- an integer beyond 64 bits
                                           -- reads as a float, as in Lua
end

function json.decode(s)
  if type(s) ~= "string" then
    error(Error("TypeError", "the JSON object must be a string, not " .. type(s)), 2)
  end
  local v, i = decode_value(s, skip(s, 1), 0)
  i = skip(s, i)
  if i <= #s then fail(s, i, "Extra data") end
  return v
end

-- ---- encoding ------------------------------------------------------------

local ESCAPED = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b",
                  ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
                  ["\t"] = "\\t" }
for c = 0, 31 do
  local ch = char(c)
  if not ESCAPED[ch] then ESCAPED[ch] = format("\\u%04x", c) end
end
ESCAPED["\127"] = "\\u007f"

local function encode_string(s)
  if not utf8len(s, 1, -1, true) then
    error(Error("ValueError", "a string to encode is not UTF-8"), 0)
  end
  if not find(s, '[\0-\31"\\\127]') then return '"' .. s .. '"' end
  return '"' .. gsub(s, '[\0-\31"\\\127]', ESCAPED) .. '"'
end

local function encode_number(v)
  if mtype(v) == "integer" then return format("%d", v) end
  if v ~= v or v == huge or v == -huge then
    error(Error("ValueError", "Out of range float values are not JSON compliant: "
                .. (v ~= v and "nan" or tostring(v))), 0)
  end
  local text = format("%.15g", v)          -- the shortest that reads back
  if tonumber(text) ~= v then text = format("%.17g", v) end
  if not find(text, "[.eEn]") then text = text .. ".0" end  -- stays a float
  return text
end

-- The keys of an object, as strings, sorted; raises on a key JSON cannot have.
local function object_keys(t)
  local keys, n = {}, 0
  for k in pairs(t) do
    local tk = type(k)
    if tk == "number" then
      k = mtype(k) == "integer" and format("%d", k) or encode_number(k)
    elseif tk ~= "string" then
      error(Error("TypeError", "keys must be str, int, float, bool or None, not "
                  .. tk), 0)
    end
    n = n + 1
    keys[n] = k
  end
  sort(keys)
  return keys, n
end

-- An array: marked, or a non-empty sequence 1..n with no other key.
local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local encode_value

local function encode_table(t, out, seen, depth, indent)
  if seen[t] then error(Error("ValueError", "Circular reference detected"), 0) end
  if depth >= MAX_DEPTH then error(Error("ValueError", "Nesting too deep"), 0) end
  seen[t] = true
  local nl, sep, colon = "", ",", ":"
  if indent then
    nl = "\n" .. rep(" ", indent * (depth + 1))
    colon = ": "
  end
  if is_array(t) then
    local n = #t
    if n == 0 then
      out[#out + 1] = "[]"
    else
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = sep end
        out[#out + 1] = nl
        encode_value(t[i], out, seen, depth + 1, indent)
      end
      if indent then out[#out + 1] = "\n" .. rep(" ", indent * depth) end
      out[#out + 1] = "]"
    end
  else
    local keys, n = object_keys(t)
    if n == 0 then
      out[#out + 1] = "{}"
    else
      out[#out + 1] = "{"
      for i = 1, n do
        local k = keys[i]
        if i > 1 then out[#out + 1] = sep end
        out[#out + 1] = nl
        out[#out + 1] = encode_string(k)
        out[#out + 1] = colon
        local v = t[k]
        if v == nil then v = t[tonumber(k)] end  -- a number key
        encode_value(v, out, seen, depth + 1, indent)
      end
      if indent then out[#out + 1] = "\n" .. rep(" ", indent * depth) end
      out[#out + 1] = "}"
    end
  end
  seen[t] = nil
end

function encode_value(v, out, seen, depth, indent)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == null or v == nil then
    out[#out + 1] = "null"
  elseif tv == "table" then
    encode_table(v, out, seen, depth, indent)
  else
    error(Error("TypeError", "Object of type " .. tv .. " is not JSON serializable"), 0)
  end
end

function json.encode(v, opts)
  local indent = opts and opts.indent
  if indent ~= nil and (mtype(indent) ~= "integer" or indent < 0) then
    error(Error("TypeError", "indent must be a non-negative integer"), 2)
  end
  local out = {}
  local ok, err = pcall(encode_value, v, out, {}, 0, indent)
  if not ok then error(err, 2) end
  return concat(out)
end

return json
