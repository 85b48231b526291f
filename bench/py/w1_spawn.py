"""W1 on Python asyncio: spawn N tasks that each sleep(0) and return, then
gather them.  Usage: w1_spawn.py N [--uvloop]"""
import asyncio
from common import args, clock, result, rss_kb, run

N = int((args() or [100000])[0])


async def child(i):
    await asyncio.sleep(0)
    return i


async def main():
    rss0 = rss_kb()
    t0 = clock()
    tasks = [asyncio.create_task(child(i)) for i in range(N)]
    res = await asyncio.gather(*tasks)
    dt = clock() - t0
    assert len(res) == N and res[-1] == N - 1
    result(n=N, time=dt, rss0_kb=rss0, hwm_kb=rss_kb("VmHWM"))

run(main())
