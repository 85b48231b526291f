#!/usr/bin/env python3
"""Golden test: runs `aiolua X.lua [args]` and compares with X.out (exact
stdout), X.err (each line must appear in stderr), X.status (exit code,
default 0).  X.args holds extra command-line arguments, one per line;
X.in is fed to stdin; X.env holds NAME=value lines added to the environment."""
import os, subprocess, sys

def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None

def main():
    binary, script = sys.argv[1], sys.argv[2]
    base = script[:-4]
    args = (read(base + ".args") or "").splitlines()
    env = dict(os.environ)
    for line in (read(base + ".env") or "").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    stdin = read(base + ".in")
    p = subprocess.run([binary, os.path.basename(script)] + args,
                       input=(stdin or "").encode(), capture_output=True,
                       timeout=50, env=env)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    ok = True
    want_status = int((read(base + ".status") or "0").strip())
    if p.returncode != want_status:
        print(f"exit status {p.returncode}, expected {want_status}")
        ok = False
    want_out = read(base + ".out")
    if want_out is not None and out != want_out:
        print("stdout differs.\n--- expected\n" + want_out + "--- got\n" + out)
        ok = False
    for line in (read(base + ".err") or "").splitlines():
        if line and line not in err:
            print(f"stderr lacks: {line!r}")
            ok = False
    if not ok:
        print("--- stderr\n" + err)
        sys.exit(1)
    print("ok")

main()
