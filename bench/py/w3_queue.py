"""W3 on Python asyncio: 4 producers and 4 consumers move N items through an
asyncio.Queue(100).  Usage: w3_queue.py N [--uvloop]"""
import asyncio
from common import args, clock, result, rss_kb, run

N = int((args() or [1000000])[0])
P, C, MAX = 4, 4, 100


async def producer(q, count):
    for i in range(count):
        await q.put(i)


async def consumer(q):
    n = 0
    while True:
        x = await q.get()
        if x is None:
            return n
        n += 1


async def main():
    q = asyncio.Queue(MAX)
    t0 = clock()
    consumers = [asyncio.create_task(consumer(q)) for _ in range(C)]
    await asyncio.gather(*(producer(q, N // P) for _ in range(P)))
    for _ in range(C):
        await q.put(None)
    got = sum(await asyncio.gather(*consumers))
    dt = clock() - t0
    assert got == N // P * P
    result(n=got, time=dt, items_per_s=got / dt, hwm_kb=rss_kb("VmHWM"))

run(main())
