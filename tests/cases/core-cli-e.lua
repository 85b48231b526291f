-- -e: chunks run in order, before the script; an error exits 1 with the
-- message and a traceback on stderr (as lua does).
local cli = dofile("core/cli.lua")

cli.show("two -e in order", { "-e", "x = 1", "-e", "print('x is', x)" })
cli.show("-e glued to its chunk", { "-eprint('glued')" })
cli.show("-e runs before the script and sees arg", {
  "-e", "print('e:', arg[0], #arg)", "core/hello.lua", "p1" })
cli.show("-e may use asyncio.run", {
  "-e", "print(asyncio.run(function() asyncio.sleep(0.001):await() return 'ran' end))" })
cli.show("-e may use the dialect", {
  "-e", "local async function f() return 7 end print(asyncio.run(f()))" })
cli.show("-e error", { "-e", "error('bad chunk')" }, nil,
  { "aiolua: (command line):1: bad chunk", "stack traceback" })
cli.show("-e syntax error", { "-e", "x = = 1" }, nil, { "(command line):1:" })
cli.show("-e without a chunk", { "-e" }, nil, { "usage:" })
cli.show("an error in -e stops before the script", {
  "-e", "error('stop')", "core/hello.lua" }, nil, { "stop" })
