-- `local async function f` keeps f visible inside its own body.
local async function fib(n)
  if n < 2 then return n end
  return await fib(n - 1) + await fib(n - 2)
end

local async function noargs() end
local async function varargs(a, ...) return a, ... end

do
  local async function inner()
    return await noargs()
  end
end
