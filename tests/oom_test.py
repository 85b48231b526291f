#!/usr/bin/env python3
"""Running out of memory: tests/oom-spawn.lua spawns tasks until memory runs
out, under an address-space limit (RLIMIT_AS) of a few sizes, so that the
memory runs out in different places (making a task, making its thread at
its first step, cancelling the rest).  Each run must end with asyncio.run
raising "not enough memory", the program going on, and exit status 0: no
crash, no hang, no "internal error in the scheduler".  Not run under the
sanitizers, whose shadow memory needs far more address space.

usage: oom_test.py path/to/aiolua"""
import os, resource, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(binary, limit_mb):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))
    p = subprocess.run([binary, os.path.join(HERE, "oom-spawn.lua")],
                       capture_output=True, text=True, timeout=100,
                       preexec_fn=limit)
    where = f"limit {limit_mb} MB"
    assert p.returncode == 0, f"{where}: exit {p.returncode}\n{p.stdout}{p.stderr}"
    lines = p.stdout.splitlines()
    assert len(lines) == 2, f"{where}: stdout {p.stdout!r}"
    assert lines[0].startswith("run returned\tfalse\t") and \
        lines[0].endswith("not enough memory"), f"{where}: {lines[0]!r}"
    assert lines[1] == "after: memory is usable again\t1000", f"{where}: {lines[1]!r}"
    for bad in ("internal error", "PANIC"):
        assert bad not in p.stderr, f"{where}: {bad!r} in stderr:\n{p.stderr}"
    print(f"ok - {where}")


def main():
    binary = sys.argv[1]
    for mb in (300, 400, 600):
        run(binary, mb)


if __name__ == "__main__":
    main()
