"""Helpers shared by the Python peers: choose the event loop (stock asyncio,
or uvloop with --uvloop), read memory from /proc, print RESULT lines."""
import asyncio
import sys
import time

clock = time.perf_counter


def rss_kb(field="VmRSS"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def args():
    """Positional arguments, with --uvloop removed."""
    return [a for a in sys.argv[1:] if a != "--uvloop"]


def run(main):
    if "--uvloop" in sys.argv:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return asyncio.run(main)


def result(**kv):
    print("RESULT " + " ".join(
        f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in kv.items()), flush=True)
