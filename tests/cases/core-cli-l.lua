-- -l: require a module into a global (-l mod, -l g=mod), in order with -e.
local cli = dofile("core/cli.lua")

cli.show("-l g=mod", { "-l", "g=core.corelib", "-e", "print(g.name, g.loaded_with)" })
cli.show("-l mod sets the global mod", { "-l", "string", "-e", "print(string == require('string'))" })
cli.show("-l of the asyncio module", { "-l", "aio=asyncio", "-e", "print(aio == asyncio)" })
cli.show("-l glued", { "-laio=asyncio", "-e", "print(aio == asyncio)" })
cli.show("-l and -e run in order", { "-e", "print(type(g))", "-l", "g=core.corelib", "-e", "print(type(g))" })
cli.show("-l of a missing module", { "-l", "no_such_module_xyz" }, nil,
  { "module 'no_such_module_xyz' not found" })
