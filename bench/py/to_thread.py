"""to_thread.py -- CPython's asyncio.to_thread cost per call, as
bench/to_thread.lua measures aiolua's.  Usage: python3 to_thread.py [N]."""
import asyncio
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


async def main():
    f = lambda x: x + 1
    t0 = time.perf_counter()
    for i in range(N):
        await asyncio.to_thread(f, i)
    seq = (time.perf_counter() - t0) / N
    aws = [asyncio.to_thread(f, i) for i in range(N)]
    t0 = time.perf_counter()
    await asyncio.gather(*aws)
    par = (time.perf_counter() - t0) / N
    print(f"RESULT n={N} seq_us={seq * 1e6:.1f} par_us={par * 1e6:.1f}")

asyncio.run(main())
