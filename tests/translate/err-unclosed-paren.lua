await f(1
