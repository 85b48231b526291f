#!/usr/bin/env python3
"""test_repl.py -- drives `aiolua`'s REPL through a pseudo-terminal and checks
what appears on the screen.
usage: test_repl.py AIOLUA CASE    (CASE "all" runs every case)
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptyterm import Term  # noqa: E402

AIOLUA = None
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def start(*args, env=None):
    home = tempfile.mkdtemp(prefix="aiolua-repl-")
    e = dict(os.environ, TERM="xterm", HOME=home, AIOLUA_HISTORY="")
    e.update(env or {})
    t = Term([AIOLUA] + list(args), env=e, cwd=home)
    prompts(t)
    return t


def line_after(t, prefix):
    """The screen line following the last line that starts with prefix."""
    lines = t.screen.lines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith(prefix):
            return lines[i + 1] if i + 1 < len(lines) else None
    raise AssertionError("no line %r on the screen:\n%s" % (prefix, t.screen.text()))


def prompts(t):
    """Waits for a fresh prompt: the cursor line is exactly '> '."""
    t.wait_for(lambda s: s.cursor_line() == ">", what="a fresh prompt")


def more(t):
    """Waits for the continuation prompt."""
    t.wait_for(lambda s: s.cursor_line() == ">>", what="a '>>' prompt")


def run(t, text):
    """Types one line and waits for the next prompt.  The line must be echoed
    (wrapped or not) before Enter, so a late redraw of the previous line
    cannot pass for this line's output."""
    t.send(text)
    t.wait_for(lambda s: text in s.text().replace("\n", ""),
               what="the echo of %r" % text)
    n = t.screen.text().count("\n")
    t.send("\r")
    t.wait_for(lambda s: s.text().count("\n") > n and s.cursor_line() == ">",
               what="the prompt after %r" % text)


def quit_ok(t):
    t.send("\x04")
    status = t.wait_exit()
    assert status == 0, "exit status %r\n%s" % (status, t.screen.text())


@case
def expressions(t):
    run(t, "1 + 2")
    assert line_after(t, "> 1 + 2") == "3", t.screen.text()
    run(t, "'a', nil, 4")
    assert line_after(t, "> 'a', nil, 4") == "a\tnil\t4".expandtabs(), t.screen.text()
    run(t, "x = 20")
    assert line_after(t, "> x = 20") == ">"
    run(t, "=x * 2 + 2")
    assert line_after(t, "> =x * 2 + 2") == "42"
    run(t, "print('hi')")
    assert line_after(t, "> print('hi')") == "hi"
    run(t, "error('boom')")
    assert line_after(t, "> error('boom')") == "aiolua: stdin:1: boom"
    run(t, "x = = 1")
    assert line_after(t, "> x = = 1").startswith("aiolua: stdin:1: unexpected symbol")
    run(t, "asyncio.Error('TimeoutError', 'late')")
    assert line_after(t, "> asyncio.Error(") == "TimeoutError: late", t.screen.text()
    quit_ok(t)


@case
def multiline(t):
    t.send("for i = 1, 3 do\r")
    more(t)
    t.send("print('i=' .. i)\r")
    t.wait_for(lambda s: s.lines()[-1] == ">>", what="second >>")
    t.send("end\r")
    t.expect(">> end\ni=1\ni=2\ni=3\n>")
    t.send("async function double(x)\r")
    more(t)
    t.send("  await asyncio.sleep(0.05)\r")
    t.send("  return x * 2\r")
    run(t, "end")
    run(t, "await double(21)")
    assert line_after(t, "> await double(21)") == "42", t.screen.text()
    t.send("s = [[one\r")
    more(t)
    t.send("two]]\r")
    t.expect(">> two]]\n>")
    t.send("s\r")
    t.expect("> s\none\ntwo\n>")
    quit_ok(t)


@case
def toplevel_await(t):
    t.send("await asyncio.sleep(0.6, 'done')\r")
    t.pump(0.3)
    assert t.screen.cursor_line() == "", "prompt shown while running:\n" + t.screen.text()
    t.expect("done")
    prompts(t)
    run(t, "asyncio.await(asyncio.sleep(0.1, 7, 8))")
    assert line_after(t, "> asyncio.await(") == "7\t8".expandtabs()
    run(t, "local loop = asyncio.get_running_loop(); local t0 = loop:time()")
    run(t, "t0 = asyncio.get_running_loop():time(); await asyncio.sleep(0.2)")
    run(t, "asyncio.get_running_loop():time() - t0 >= 0.19")
    assert line_after(t, "> asyncio.get_running_loop():time() - t0") == "true", t.screen.text()
    # the REPL counts as a running loop, also outside a task
    run(t, "asyncio.get_running_loop():call_soon(function() "
           "asyncio.create_task(function() print('from callback') end) end)")
    t.expect("from callback")
    run(t, "f = asyncio.Future(); asyncio.get_running_loop():call_later(0.1, "
           "function() f:set_result('settled') end)")
    run(t, "await f")
    assert line_after(t, "> await f") == "settled"
    run(t, "await asyncio.gather(asyncio.sleep(0.1, 'a'), asyncio.sleep(0.05, 'b'))")
    run(t, "asyncio.run(function() end)")
    assert "RuntimeError" in line_after(t, "> asyncio.run("), t.screen.text()
    quit_ok(t)


@case
def background(t):
    run(t, "t = asyncio.create_task(function() for i = 1, 4 do "
           "asyncio.sleep(0.3):await(); print('tick ' .. i) end end)")
    t.send("abc")
    t.expect("tick 4", timeout=5)
    t.pump(0.2)
    lines = t.screen.lines()
    assert lines[-5:] == ["tick 1", "tick 2", "tick 3", "tick 4", "> abc"], t.screen.text()
    t.send("\x15")                          # Ctrl-U: kill the line
    run(t, "t:done()")
    assert line_after(t, "> t:done()") == "true"
    # a long input wrapping on two rows stays whole under output
    run(t, "t = asyncio.create_task(function() for i = 1, 2 do "
           "asyncio.sleep(0.3):await(); io.write('tock ', i, '\\n') end end)")
    long = "x" * 100
    t.send(long)
    t.expect("tock 2", timeout=5)
    t.pump(0.2)
    lines = t.screen.lines()
    assert lines[-4:] == ["tock 1", "tock 2", "> " + long[:78], long[78:]], t.screen.text()
    t.send("\x15")
    prompts(t)
    quit_ok(t)


@case
def ctrl_c(t):
    t.send("await asyncio.sleep(30)\r")
    t.pump(0.3)
    t0 = time.monotonic()
    t.send("\x03")
    t.expect("KeyboardInterrupt")
    prompts(t)
    assert time.monotonic() - t0 < 3
    run(t, "1 + 1")
    assert line_after(t, "> 1 + 1") == "2"
    # code that never yields: lua.c's hook
    t.send("while true do end\r")
    t.pump(0.3)
    t.send("\x03")
    t.expect("interrupted!")
    prompts(t)
    t.pump(0.2)
    assert "^C\n>" not in t.screen.text(), t.screen.text()
    # cleanup in the cancelled input runs
    t.send("local ok, e = pcall(asyncio.await, asyncio.sleep(30)); print('caught', e)\r")
    t.pump(0.3)
    t.send("\x03")
    t.expect("CancelledError: KeyboardInterrupt")
    assert line_after(t, "> local ok, e").startswith("^Ccaught ")
    prompts(t)
    # background tasks survive a cancelled input
    run(t, "bg = asyncio.create_task(function() asyncio.sleep(30):await() end)")
    t.send("await asyncio.sleep(30)\r")
    t.pump(0.2)
    t.send("\x03")
    t.expect("KeyboardInterrupt", count=2)
    prompts(t)
    run(t, "bg:done()")
    assert line_after(t, "> bg:done()") == "false", t.screen.text()
    # at an idle prompt Ctrl-C clears the line and a pending multi-line input
    # (each key waits for the last one's effect, as a typist does: the tty
    # flushes input queued behind a ^C, and the SIGINT reaches the loop
    # through libuv's signal pipe, after keys already read)
    t.send("abc")
    t.wait_for(lambda s: s.cursor_line() == "> abc", what="the echo of 'abc'")
    t.send("\x03")
    prompts(t)
    run(t, "1 + 2")
    assert line_after(t, "> 1 + 2") == "3", t.screen.text()
    t.send("for i = 1, 2 do\r")
    more(t)
    t.send("\x03")
    prompts(t)
    run(t, "10")
    assert line_after(t, "> 10") == "10"
    quit_ok(t)


@case
def ctrl_d(t):
    run(t, "asyncio.create_task(function() local ok, e = pcall(asyncio.await, "
           "asyncio.sleep(100)); print('cleanup', e) end)")
    run(t, "asyncio.create_task(function() while true do asyncio.sleep(0.05):await() end end)")
    t0 = time.monotonic()
    t.send("\x04")
    status = t.wait_exit()
    assert status == 0, status
    assert time.monotonic() - t0 < 3
    assert "cleanup\tCancelledError".expandtabs() in t.screen.text(), t.screen.text()
    assert "^D" not in t.screen.text()


@case
def ctrl_d_stubborn(t):
    # a task that swallows its cancellation: three Ctrl-C give up (130)
    run(t, "asyncio.create_task(function() while true do "
           "pcall(asyncio.await, asyncio.sleep(10)) end end)")
    t.send("\x04")
    t.pump(0.3)
    for _ in range(3):
        t.send("\x03")
        t.pump(0.1)
    assert t.wait_exit() == 130
    assert "aiolua: interrupted" in t.screen.text(), t.screen.text()


@case
def history(t):
    run(t, "10 + 1")
    run(t, "20 + 2")
    t.send("\x1b[A\x1b[A\r")                # up, up: 10 + 1
    t.expect("11", count=2)
    prompts(t)
    quit_ok(t)


def history_file():
    home = tempfile.mkdtemp(prefix="aiolua-hist-")
    path = os.path.join(home, "hist")
    t = start(env={"AIOLUA_HISTORY": path})
    run(t, "'remembered'")
    quit_ok(t)
    t.close()
    t = start(env={"AIOLUA_HISTORY": path})
    t.send("\x1b[A\r")
    t.expect("remembered", count=2)
    prompts(t)
    quit_ok(t)
    return t


@case
def errors(t):
    run(t, "asyncio.create_task(function() error('bg failed') end)")
    run(t, "collectgarbage(); collectgarbage()")
    run(t, "await asyncio.wait_for(asyncio.sleep(1), 0.05)")
    assert "TimeoutError" in line_after(t, "> await asyncio.wait_for"), t.screen.text()
    run(t, "error(setmetatable({}, {__tostring = function() return 'custom' end}))")
    assert line_after(t, "> error(setmetatable") == "aiolua: custom"
    run(t, "error({})")
    assert line_after(t, "> error({})") == "aiolua: (error object is a table value)"
    # the REPL polls stdin itself: a reader there would steal its input
    run(t, "asyncio.get_running_loop():add_reader(io.stdin, print)")
    assert "RuntimeError: File descriptor 0 is used by another handle" in \
        line_after(t, "> asyncio.get_running_loop():add_reader"), t.screen.text()
    t.send("_PROMPT = 'lua> '\r")
    t.wait_for(lambda s: s.cursor_line() == "lua>", what="_PROMPT")
    t.send("1\r")
    t.wait_for(lambda s: s.cursor_line() == "lua>" and "1" in s.lines(), what="_PROMPT again")
    quit_ok(t)


def script_then_repl():
    d = tempfile.mkdtemp(prefix="aiolua-i-")
    script = os.path.join(d, "s.lua")
    with open(script, "w") as f:
        f.write("answer = asyncio.run(function() return asyncio.sleep(0.01, 42):await() end)\n")
    t = start("-i", script)
    run(t, "answer")
    assert line_after(t, "> answer") == "42"
    quit_ok(t)
    return t


def plain_lines():
    """TERM=dumb: no libedit (as Python 3.13's basic REPL), lines read in
    the terminal's cooked mode; everything but editing and history works."""
    home = tempfile.mkdtemp(prefix="aiolua-plain-")
    path = os.path.join(home, "hist")
    t = start(env={"TERM": "dumb", "AIOLUA_HISTORY": path})
    run(t, "1 + 2")
    assert line_after(t, "> 1 + 2") == "3", t.screen.text()
    t.send("for i = 1, 2 do\r")
    more(t)
    t.send("print(i * 10) end\r")
    t.wait_for(lambda s: "20" in s.lines() and s.cursor_line() == ">",
               what="the loop's output")
    assert line_after(t, ">> print(i * 10) end") == "10", t.screen.text()
    run(t, "await asyncio.sleep(0.01, 'slept')")
    assert line_after(t, "> await asyncio.sleep(0.01, 'slept')") == "slept"
    # output of a background task redraws the prompt, even when the string
    # it came from has been collected meanwhile
    t.send("_PROMPT = ('='):rep(3) .. '> '\r")
    t.wait_for(lambda s: s.cursor_line() == "===>", what="the new prompt")
    t.send("t = asyncio.create_task(function() asyncio.sleep(0.2):await(); "
           "_PROMPT = nil; collectgarbage(); collectgarbage(); print('bg', 'done') end)\r")
    t.expect("bg\tdone".expandtabs(), timeout=5)   # not the echo of the input
    t.wait_for(lambda s: s.cursor_line() == "===>", what="the prompt redrawn")
    t.send("\r")
    prompts(t)
    quit_ok(t)
    assert not os.path.exists(path), "the plain editor keeps no history"
    return t


class _Done:
    def close(self):
        pass


def piped_input():
    """-i with stdin a pipe (not a terminal): plain lines even with a TERM
    that libedit could drive (its reader never delivered a line from a
    pipe, then spun at end of input)."""
    import subprocess
    e = dict(os.environ, TERM="xterm", AIOLUA_HISTORY="")
    p = subprocess.run([AIOLUA, "-i"], input="print(1 + 1)\nx = 20\n=x * 2\n",
                       env=e, capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert "2\n" in p.stdout and "40\n" in p.stdout, (p.stdout, p.stderr)
    return _Done()


def main():
    global AIOLUA
    AIOLUA = os.path.abspath(sys.argv[1])
    names = sys.argv[2:] or ["all"]
    extra = {"history_file": history_file, "script_then_repl": script_then_repl,
             "plain_lines": plain_lines, "piped_input": piped_input}
    if names == ["all"]:
        names = list(CASES) + list(extra)
    for name in names:
        if name in extra:
            extra[name]().close()
        else:
            t = start()
            try:
                CASES[name](t)
            finally:
                t.close()
        print("ok -", name)


if __name__ == "__main__":
    main()
