"""W5 on aiohttp: N GETs of URL with K in flight (K worker tasks sharing one
ClientSession).  Usage: w5_http.py URL N K [--uvloop]"""
import asyncio
import aiohttp
from common import args, clock, result, rss_kb, run

a = args()
URL, N, K = a[0], int(a[1]), int(a[2])


async def worker(session, todo, stats):
    while todo[0] > 0:
        todo[0] -= 1
        async with session.get(URL) as resp:
            body = await resp.read()
            if resp.status != 200:
                stats["failed"] += 1
            stats["bytes"] += len(body)


async def main():
    todo, stats = [N], {"bytes": 0, "failed": 0}
    connector = aiohttp.TCPConnector(limit=K)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = clock()
        await asyncio.gather(*(worker(session, todo, stats) for _ in range(K)))
        dt = clock() - t0
    result(n=N, time=dt, rps=N / dt, bytes=stats["bytes"], failed=stats["failed"],
           hwm_kb=rss_kb("VmHWM"))

run(main())
