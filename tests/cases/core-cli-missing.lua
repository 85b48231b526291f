-- A missing script gives a clear message and exit status 1; so do an
-- unknown option and a directory.
local cli = dofile("core/cli.lua")

cli.show("missing script", { "no_such_script.lua" }, nil,
  { "aiolua: cannot open no_such_script.lua" })
cli.show("missing script with args", { "no_such_script.lua", "a" }, nil,
  { "cannot open no_such_script.lua" })
cli.show("unknown option", { "-Z" }, nil, { "unrecognized option '-Z'", "usage:" })
cli.show("a directory as script", { "core" }, nil, { "cannot read core" })
