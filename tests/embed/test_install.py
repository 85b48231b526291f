#!/usr/bin/env python3
"""test_install.py -- installs aiolua from a build tree into a fresh prefix,
builds the examples of tests/embed/ against that installed copy (with
pkg-config, or as an outside CMake project using find_package(aiolua)),
runs them and compares their output with the .expect files.
usage: test_install.py --build DIR --how pkgconfig|cmake [--cc CC] [--flags F]
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = ["app_loop", "await_c"]


def sh(cmd, env=None, cwd=None):
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("command failed (%d):\n%s" % (r.returncode, r.stdout))
    return r.stdout


def check_run(exe, name, env):
    r = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60, env=env)
    with open(os.path.join(HERE, name + ".expect")) as f:
        want = f.read()
    if r.returncode != 0 or r.stdout != want:
        sys.exit("%s: status %d\n--- stdout\n%s--- expected\n%s--- stderr\n%s"
                 % (exe, r.returncode, r.stdout, want, r.stderr))
    print("ok - %s" % exe, flush=True)


def find_libdir(prefix):
    for root, _, files in os.walk(prefix):
        if "aiolua.pc" in files:
            return os.path.dirname(root)            # <libdir>/pkgconfig
    sys.exit("no aiolua.pc under " + prefix)


def via_pkgconfig(prefix, work, args, env):
    libdir = find_libdir(prefix)
    env = dict(env, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
    cflags = sh(["pkg-config", "--cflags", "aiolua"], env).split()
    libs = sh(["pkg-config", "--libs", "aiolua"], env).split()
    slibs = sh(["pkg-config", "--static", "--libs", "aiolua"], env).split()
    # libcurl is dlopened on first use of asyncio.http, never linked
    if "-ldl" not in slibs or "-lm" not in slibs or "-lcurl" in slibs:
        sys.exit("pkg-config --static --libs aiolua: want -lm -ldl and no "
                 "-lcurl: %s" % slibs)
    # libcurl.pc's own private libraries are static-only on some systems:
    # link libaiolua.a with the shared system libraries it needs
    dlibs = sh(["pkg-config", "--libs", "aiolua", "libcurl"], env).split()
    flags = args.flags.split()
    for name in EXAMPLES:
        src = os.path.join(HERE, name + ".c")
        shared = os.path.join(work, name + "-shared")
        sh([args.cc] + flags + cflags + [src, "-o", shared] + libs
           + ["-Wl,-rpath," + libdir], env)
        check_run(shared, name, env)
        static = os.path.join(work, name + "-static")
        # -Bstatic for aiolua only: the system libraries stay shared
        sl = ["-Wl,-Bstatic", "-laiolua", "-Wl,-Bdynamic"] + \
             [x for x in dlibs if x != "-laiolua"] + ["-lm"]
        sh([args.cc] + flags + cflags + [src, "-o", static] + sl, env)
        check_run(static, name, env)


def via_cmake(prefix, work, args, env):
    cmake = shutil.which("cmake") or "cmake"
    for kind, static in (("shared", "OFF"), ("static", "ON")):
        out = os.path.join(work, "cmake-" + kind)
        sh([cmake, "-S", HERE, "-B", out, "-DCMAKE_PREFIX_PATH=" + prefix,
            "-DCMAKE_C_COMPILER=" + args.cc, "-DAIOLUA_STATIC=" + static,
            "-DCMAKE_C_FLAGS=" + args.flags,
            "-DCMAKE_EXE_LINKER_FLAGS=" + args.flags], env)
        sh([cmake, "--build", out], env)
        for name in EXAMPLES:
            check_run(os.path.join(out, name), name, env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--how", choices=["pkgconfig", "cmake"], required=True)
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--flags", default="")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="aiolua-install-")
    prefix = os.path.join(work, "prefix")
    env = dict(os.environ)
    env.pop("PKG_CONFIG_PATH", None)
    try:
        sh(["cmake", "--install", args.build, "--prefix", prefix], env)
        if not os.path.exists(os.path.join(prefix, "include", "aiolua.h")):
            sys.exit("aiolua.h was not installed")
        if args.how == "pkgconfig":
            via_pkgconfig(prefix, work, args, env)
        else:
            via_cmake(prefix, work, args, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
