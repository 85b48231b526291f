#!/usr/bin/env python3
# queue-python.py -- the queue benchmark for Python asyncio (the peer of
# bench/queue-aiolua.lua): 4 producers and 4 consumers move N items (default
# 1,000,000) through asyncio.Queue(100).  Prints one line:
#   python-asyncio queue: N items in S s: R items/s
# Usage: queue-python.py [N] [--uvloop]
import asyncio
import sys
import time

PRODUCERS = 4
CONSUMERS = 4
MAXSIZE = 100


async def producer(q, count):
    for i in range(count):
        await q.put(i)


async def consumer(q, box):
    got = 0
    try:
        while True:
            await q.get()
            got += 1
            q.task_done()
    finally:
        box.append(got)


async def main(n):
    q = asyncio.Queue(MAXSIZE)
    box = []
    per = n // PRODUCERS
    t0 = time.perf_counter()
    consumers = [asyncio.create_task(consumer(q, box)) for _ in range(CONSUMERS)]
    producers = [asyncio.create_task(producer(q, per)) for _ in range(PRODUCERS)]
    await asyncio.gather(*producers)
    await q.join()
    elapsed = time.perf_counter() - t0
    for c in consumers:
        c.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    total = per * PRODUCERS
    assert sum(box) == total, (sum(box), total)
    return total, elapsed


def run():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    name = "python-asyncio"
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
        name = "python-uvloop"
    total, elapsed = asyncio.run(main(n))
    print(f"{name} queue: {total} items in {elapsed:.3f} s: "
          f"{total / elapsed:.0f} items/s")


if __name__ == "__main__":
    run()
