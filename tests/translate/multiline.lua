-- Every line stays on its line.
local x = await
  fetch(
    1,
    2)
local y = await -- a comment
  f()
async
function
  a.
  b
  :
  c
  (
  x
  )
  return x
end
local async --[[ a
comment ]] function
f(
)
end
local z = async --[[ c ]] function()
end
error("line 26")
