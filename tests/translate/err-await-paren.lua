f(1,
  await)
