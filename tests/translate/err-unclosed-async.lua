-- line 1
async function f()
  if x then
  end
