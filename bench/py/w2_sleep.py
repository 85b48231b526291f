"""W2 on Python asyncio: N concurrent 1 s sleeps; overshoot past 1 s and
memory per pending task.  Usage: w2_sleep.py N [DELAY] [--uvloop]"""
import asyncio
from common import args, clock, result, rss_kb, run

a = args()
N = int(a[0]) if a else 100000
DELAY = float(a[1]) if len(a) > 1 else 1.0


async def child(i):
    await asyncio.sleep(DELAY)
    return i


async def main():
    rss0 = rss_kb()
    t0 = clock()
    tasks = [asyncio.create_task(child(i)) for i in range(N)]
    spawned = clock()
    await asyncio.sleep(0)          # every child is now parked on its timer
    rss1 = rss_kb()
    res = await asyncio.gather(*tasks)
    t1 = clock()
    assert len(res) == N
    result(n=N, overshoot=t1 - t0 - DELAY, spawn=spawned - t0,
           per_task_b=(rss1 - rss0) * 1024.0 / N, rss0_kb=rss0,
           hwm_kb=rss_kb("VmHWM"))

run(main())
