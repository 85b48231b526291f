await f(1 end
