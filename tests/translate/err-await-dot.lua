local y = await a.
