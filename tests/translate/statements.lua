-- `await` in statement and expression positions.
await asyncio.sleep(1)
await task
await (t)
return await f(
  await g())
