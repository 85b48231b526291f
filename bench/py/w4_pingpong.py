"""W4 on Python asyncio: two tasks hand control to each other through
futures, N switches in all.  Usage: w4_pingpong.py N [--uvloop]"""
import asyncio
from common import args, clock, result, rss_kb, run

N = int((args() or [1000000])[0])
box = {}


async def player(me, other, rounds):
    loop = asyncio.get_running_loop()
    for _ in range(rounds):
        f = loop.create_future()
        box[me] = f
        o = box.pop(other, None)
        if o is not None:
            o.set_result(True)
        await f
    o = box.pop(other, None)
    if o is not None:
        o.set_result(True)


async def main():
    t0 = clock()
    await asyncio.gather(player(1, 2, N // 2), player(2, 1, N // 2))
    dt = clock() - t0
    result(n=N, time=dt, switches_per_s=N / dt, hwm_kb=rss_kb("VmHWM"))

run(main())
