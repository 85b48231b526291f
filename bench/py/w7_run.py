"""W7b on Python asyncio: import asyncio and run an empty main coroutine."""
import asyncio


async def main():
    pass

asyncio.run(main())
