-- json_codec.lua -- asyncio.json's speed on a document of N records (the
-- one bench/py/json_codec.py makes, for CPython's json module beside it).
-- Usage: aiolua json_codec.lua [N].  Prints one RESULT line.
local json = require "asyncio.json"
local N = tonumber(arg[1]) or 10000
local recs = {}
for i = 0, N - 1 do
  recs[#recs + 1] = { id = i, name = ("item %d é"):format(i), tags = { "a", "b", "c" },
                      price = i * 1.25, ok = i % 2 == 0, none = json.null,
                      nested = { x = i, y = { 1, 2, 3 } } }
end
local text = json.encode(recs)
local function best(fn)
  local t = math.huge
  for _ = 1, 5 do
    local c0 = os.clock()
    fn()
    t = math.min(t, os.clock() - c0)
  end
  return t
end
local td = best(function() json.decode(text) end)
local te = best(function() json.encode(recs) end)
print(("RESULT bytes=%d decode_mb_s=%.1f encode_mb_s=%.1f"):format(
  #text, #text / 1e6 / td, #text / 1e6 / te))
