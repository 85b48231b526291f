-- no keywords here at all, CR onlylocal s = [[
]]return "\"
