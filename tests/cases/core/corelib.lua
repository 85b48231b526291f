-- A module for the -l golden case.
local M = { name = "corelib", loaded_with = ... }
return M
