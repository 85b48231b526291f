#!/usr/bin/env python3
"""Ctrl-C (SIGINT) against a running `aiolua`: the main task is cancelled,
its cleanup (pcall handlers, <close> variables, awaits inside them) and the
leftover tasks' cleanup run, "KeyboardInterrupt" goes to stderr and the exit
status is 130, as with Python's asyncio.run.  Code that never yields needs a
second Ctrl-C (as in Python); a third one stops waiting for cleanup.

usage: sigint_test.py path/to/aiolua"""
import os, signal, subprocess, sys, tempfile, time

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


class Proc:
    def __init__(self, binary, src):
        fd, self.path = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(src)
        self.p = subprocess.Popen([binary, self.path], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = []

    def wait_line(self, want, timeout=5):
        """Reads stdout until a line equal to `want`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if self.lines[-1] == want:
                return
        raise AssertionError(f"never printed {want!r}; got {self.lines}")

    def sigint(self):
        self.p.send_signal(signal.SIGINT)

    def finish(self, timeout=3):
        t0 = time.monotonic()
        try:
            out, err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
            raise AssertionError(f"still running {timeout} s after SIGINT; "
                                 f"stdout {self.lines + out.splitlines()}, stderr {err!r}")
        finally:
            os.unlink(self.path)
        self.lines += out.splitlines()
        return self.p.returncode, self.lines, err, time.monotonic() - t0


def check(cond, what, ctx):
    if not cond:
        raise AssertionError(f"{what}\n  context: {ctx}")


@case
def main_task_cleanup(binary):
    """pcall handler and <close> of the main task run; status 130."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
asyncio.run(function()
  local guard <close> = setmetatable({}, { __close = function() print("close ran") end })
  print("ready")
  local ok, err = pcall(function() asyncio.sleep(10):await() end)
  print("pcall handler ran: " .. tostring(asyncio.iserror(err, "CancelledError")))
  error(err, 0)
end)
print("not reached")
''')
    p.wait_line("ready")
    p.sigint()
    status, out, err, dt = p.finish()
    ctx = (status, out, err)
    check(status == 130, "exit status 130", ctx)
    check("pcall handler ran: true" in out, "the pcall handler saw a CancelledError", ctx)
    check("close ran" in out, "the <close> variable was closed", ctx)
    check(out.index("pcall handler ran: true") < out.index("close ran"), "handler, then close", ctx)
    check("not reached" not in out, "the script stopped", ctx)
    check("KeyboardInterrupt" in err, "KeyboardInterrupt on stderr", ctx)
    check(dt < 2, f"exited promptly ({dt:.2f} s)", ctx)


@case
def cleanup_may_await(binary):
    """The main task's cleanup may await before it exits."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
asyncio.run(function()
  print("ready")
  local ok, err = pcall(function() asyncio.sleep(10):await() end)
  asyncio.sleep(0.05):await()
  print("async cleanup done")
  error(err, 0)
end)
''')
    p.wait_line("ready")
    p.sigint()
    status, out, err, _ = p.finish()
    ctx = (status, out, err)
    check(status == 130, "exit status 130", ctx)
    check("async cleanup done" in out, "the cleanup awaited and finished", ctx)


@case
def leftover_tasks_cleanup(binary):
    """Other tasks are cancelled too and their cleanup runs."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
local function worker(n)
  local guard <close> = setmetatable({}, { __close = function() print("worker " .. n .. " closed") end })
  local ok, err = pcall(function() asyncio.sleep(10):await() end)
  print("worker " .. n .. " handler")
  error(err, 0)
end
asyncio.run(function()
  asyncio.create_task(worker, 1)
  asyncio.create_task(worker, 2)
  asyncio.sleep(0):await()
  print("ready")
  asyncio.sleep(10):await()
end)
''')
    p.wait_line("ready")
    p.sigint()
    status, out, err, _ = p.finish()
    ctx = (status, out, err)
    check(status == 130, "exit status 130", ctx)
    for n in (1, 2):
        check(f"worker {n} handler" in out, f"worker {n}'s pcall handler ran", ctx)
        check(f"worker {n} closed" in out, f"worker {n}'s <close> ran", ctx)


@case
def busy_main_needs_second_sigint(binary):
    """A main task that never yields cannot see the cancellation; the
    second Ctrl-C interrupts the Lua code (Python behaves the same)."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
asyncio.run(function()
  print("ready")
  io.stdout:flush()
  local x = 0
  while true do x = x + 1 end
end)
''')
    p.wait_line("ready")
    p.sigint()
    time.sleep(0.3)
    p.sigint()
    status, out, err, _ = p.finish()
    ctx = (status, out, err)
    check(status == 130, "exit status 130", ctx)


@case
def second_sigint_spares_the_loop(binary):
    """A second Ctrl-C while the main task awaits (it swallows the first
    cancellation) interrupts no task, and must not break the loop's own
    code: timers and the scheduler go on, the task ends by itself."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
asyncio.run(function()
  local loop = asyncio.get_running_loop()
  print("ready")
  io.stdout:flush()
  local start = loop:time()
  while loop:time() - start < 1.5 do
    pcall(function() asyncio.sleep(0.001):await() end)
  end
  print("loop alive")
end)
print("after run")
''')
    p.wait_line("ready")
    time.sleep(0.2)
    p.sigint()
    time.sleep(0.3)
    p.sigint()
    status, out, err, _ = p.finish(timeout=5)
    ctx = (status, out, err)
    check("loop alive" in out, "the task ran on after the second SIGINT", ctx)
    check("internal error" not in err and "error while firing" not in err,
          "no error inside the runtime", ctx)


@case
def busy_top_level(binary):
    """Outside any loop, Ctrl-C interrupts the Lua code at once, as lua and
    python do."""
    p = Proc(binary, r'''
print("ready")
io.stdout:flush()
local x = 0
while true do x = x + 1 end
''')
    p.wait_line("ready")
    p.sigint()
    status, out, err, _ = p.finish(timeout=3)
    ctx = (status, out, err)
    check(status == 130, "exit status 130", ctx)


@case
def third_sigint_gives_up(binary):
    """A cleanup that hangs: the third Ctrl-C exits at once with 130."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
asyncio.run(function()
  print("ready")
  local ok, err = pcall(function() asyncio.sleep(10):await() end)
  print("cleanup hangs")
  asyncio.sleep(10):await()
end)
''')
    p.wait_line("ready")
    p.sigint()
    p.wait_line("cleanup hangs")
    p.sigint()
    time.sleep(0.2)
    p.sigint()
    status, out, err, dt = p.finish(timeout=3)
    ctx = (status, out, err)
    check(status == 130, "exit status 130", ctx)


@case
def signal_handlers_replace_and_restore(binary):
    """loop:add_signal_handler(SIGINT) takes Ctrl-C over (no
    KeyboardInterrupt: the callback runs, once per signal); SIGTERM stops
    the server-like main through a future (the graceful shutdown idiom);
    after remove_signal_handler, Ctrl-C is KeyboardInterrupt again."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
local signal = asyncio.signal
asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local stop = loop:create_future()
  loop:add_signal_handler(signal.SIGINT, function() print("sigint handler") end)
  loop:add_signal_handler("SIGTERM", function(why) stop:set_result(why) end, "terminated")
  print("ready")
  print("stopped: " .. stop:await())
  print("removed: " .. tostring(loop:remove_signal_handler(signal.SIGINT)))
  print("default again")
  asyncio.sleep(10):await()
end)
print("not reached")
''')
    p.wait_line("ready")
    p.sigint()
    p.wait_line("sigint handler")
    p.sigint()
    p.wait_line("sigint handler")
    p.p.send_signal(signal.SIGTERM)
    p.wait_line("stopped: terminated")
    p.wait_line("default again")
    p.sigint()
    status, out, err, _ = p.finish()
    ctx = (status, out, err)
    check(status == 130, "exit status 130", ctx)
    check("removed: true" in out, "remove_signal_handler returned true", ctx)
    check(err.count("KeyboardInterrupt") == 1, "one KeyboardInterrupt, the last", ctx)
    check("not reached" not in out, "the script stopped", ctx)


@case
def signal_handlers_go_with_the_loop(binary):
    """asyncio.run's loop closes with its handlers: a later SIGTERM does what
    it did before (here: ends the process), and a callback error goes to
    the exception handler without ending the loop."""
    p = Proc(binary, r'''
local asyncio = require "asyncio"
asyncio.run(function()
  local loop = asyncio.get_running_loop()
  local n = 0
  loop:add_signal_handler("SIGUSR1", function() n = n + 1; error("handler error " .. n) end)
  print("ready")
  while n < 2 do asyncio.sleep(0.01):await() end
  print("survived " .. n)
end)
print("after run")
while true do end
''')
    p.wait_line("ready")
    p.p.send_signal(signal.SIGUSR1)
    time.sleep(0.2)
    p.p.send_signal(signal.SIGUSR1)
    p.wait_line("survived 2")
    p.wait_line("after run")
    p.p.send_signal(signal.SIGTERM)
    status, out, err, _ = p.finish()
    ctx = (status, out, err)
    check(status == -signal.SIGTERM, "SIGTERM's default action ended it", ctx)
    check(err.count("Exception in callback") == 2 and "handler error 2" in err,
          "each callback error was reported", ctx)


def main():
    binary = sys.argv[1]
    failed = 0
    for i, fn in enumerate(CASES, 1):
        try:
            fn(binary)
            print(f"ok {i} - {fn.__name__}")
        except Exception as e:  # report every case, not just the first
            failed += 1
            print(f"not ok {i} - {fn.__name__}: {fn.__doc__.splitlines()[0]}\n# {e}")
    print(f"1..{len(CASES)}")
    print(f"{len(CASES) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
