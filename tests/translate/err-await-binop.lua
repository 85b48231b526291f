local y = await * 2
