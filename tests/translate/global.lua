-- Global and field async functions, with every kind of name.
async function main()
  print("hello")
end

async function util.fetch(url, opts)
  return await http.get(url, opts)
end

async function a.b.c.d(...)
  return ...
end

async function Client:get(path)
  return await self:request("GET", path)
end

async function Client:close()
  self.closed = true
end

async function obj:await(x) return x end
async function t.async.await() end
