-- "-" runs stdin as the script with arg like lua's; without a script and
-- with stdin not a terminal, stdin runs too; "--" ends the options.
local cli = dofile("core/cli.lua")

cli.show("- with arguments", { "-", "a", "b" },
  "print('from stdin', arg[0], #arg, ...)")
cli.show("stdin with no script", {}, "print('implicit stdin')")
cli.show("stdin may use asyncio and the dialect", { "-" },
  "local async function f(x) await asyncio.sleep(0) return x end\nprint(asyncio.run(f('awaited')))")
cli.show("stdin error names its line", { "-" }, "local x = 1\nerror('in stdin')",
  { "stdin:2: in stdin" })
cli.show("-- then a script", { "--", "core/hello.lua", "-x" })
cli.show("-e then - ", { "-e", "print('e first')", "-" }, "print('then stdin')")
