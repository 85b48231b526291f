-- json.lua -- asyncio.json (require "asyncio.json"): JSON text to Lua
-- values and back, as Python's json module does (RFC 8259), for HTTP
-- bodies (request option `json`, Response:json()); the codec is C
-- (bindings/json.c).
--   json.decode(s) -> value       objects and arrays are tables; null is
--                                  json.null; arrays carry json.array's mark
--   json.encode(v) -> string      keys sorted, no spaces (", " and ": " with
--                                  {indent = n} for one per line); NaN and
--                                  the infinities as Python writes them
--                                  (ValueError with {allow_nan = false})
--   json.null, json.array(t)       the null value; marks t as an array
-- A bad document raises JSONDecodeError (a ValueError) with Python's
-- message ("Expecting value: line 1 column 1 (char 0)") and pos (0-based,
-- as Python's), lineno and colno; a value JSON cannot hold raises
-- TypeError or ValueError.
local asyncio = require "asyncio"
local Error = asyncio.Error
local type, getmetatable, setmetatable = type, getmetatable, setmetatable
local mtype = math.type

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

-- The codec is C (bindings/json.c), with null and the array mark.
local decode, encode = require("aiolua.json").codec(null, array_mt)
json.decode = decode

function json.encode(v, opts)
  local indent = opts and opts.indent
  if indent ~= nil and (mtype(indent) ~= "integer" or indent < 0) then
    error(Error("TypeError", "indent must be a non-negative integer"), 2)
  end
  local allow_nan = opts and opts.allow_nan
  if allow_nan ~= nil and type(allow_nan) ~= "boolean" then
    error(Error("TypeError", "allow_nan must be a boolean"), 2)
  end
  return encode(v, indent, allow_nan)
end

return json
