f(await, 1)
