"""ptyterm.py -- runs a program on a pseudo-terminal and keeps what a terminal
would show: a small VT100/xterm screen (cursor moves, erase, insert/delete,
wrap, scroll), enough for libedit's output.  Tests wait for text to appear on
the screen and look at its lines.
"""
import os
import pty
import re
import select
import signal
import struct
import time
import fcntl
import termios


CSI = re.compile(r"\x1b\[([?>=]?)([0-9;]*)([ -/]*)([@-~])")
PARTIAL_CSI = re.compile(r"\x1b\[[?>=]?[0-9;]*[ -/]*")


class Screen:
    """A rows x cols character grid fed with terminal output."""

    def __init__(self, rows=24, cols=80):
        self.rows, self.cols = rows, cols
        self.grid = [[" "] * cols for _ in range(rows)]
        self.y = self.x = 0
        self.scrolled = []          # lines that scrolled off the top
        self.pending = ""           # an incomplete escape sequence
        self.wrap_next = False

    def _scroll(self):
        self.scrolled.append("".join(self.grid.pop(0)).rstrip())
        self.grid.append([" "] * self.cols)

    def _linefeed(self):
        if self.y == self.rows - 1:
            self._scroll()
        else:
            self.y += 1

    def _put(self, ch):
        if self.wrap_next:
            self.x = 0
            self._linefeed()
            self.wrap_next = False
        self.grid[self.y][self.x] = ch
        if self.x == self.cols - 1:
            self.wrap_next = True
        else:
            self.x += 1

    def _csi(self, params, final):
        args = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        n = args[0] if args and args[0] > 0 else 1
        row = self.grid[self.y]
        self.wrap_next = False
        if final == "A":
            self.y = max(0, self.y - n)
        elif final == "B":
            self.y = min(self.rows - 1, self.y + n)
        elif final == "C":
            self.x = min(self.cols - 1, self.x + n)
        elif final == "D":
            self.x = max(0, self.x - n)
        elif final == "G":
            self.x = min(self.cols - 1, n - 1)
        elif final in "Hf":
            r = args[0] if len(args) > 0 and args[0] else 1
            c = args[1] if len(args) > 1 and args[1] else 1
            self.y, self.x = min(self.rows, r) - 1, min(self.cols, c) - 1
        elif final == "K":
            mode = args[0] if args else 0
            lo, hi = {0: (self.x, self.cols), 1: (0, self.x + 1), 2: (0, self.cols)}.get(mode, (0, 0))
            for i in range(lo, hi):
                row[i] = " "
        elif final == "J":
            mode = args[0] if args else 0
            if mode == 0:
                for i in range(self.x, self.cols):
                    row[i] = " "
                for r in range(self.y + 1, self.rows):
                    self.grid[r] = [" "] * self.cols
            elif mode == 2:
                self.grid = [[" "] * self.cols for _ in range(self.rows)]
        elif final == "P":
            del row[self.x:self.x + n]
            row.extend([" "] * (self.cols - len(row)))
        elif final == "@":
            for _ in range(n):
                row.insert(self.x, " ")
            del row[self.cols:]
        elif final == "X":
            for i in range(self.x, min(self.cols, self.x + n)):
                row[i] = " "
        # m (colours), h/l (modes) and the rest change nothing we check

    def feed(self, data):
        s = self.pending + data
        self.pending = ""
        i = 0
        while i < len(s):
            ch = s[i]
            if ch == "\x1b":
                m = CSI.match(s, i)
                if m:
                    if not m.group(1):
                        self._csi(m.group(2), m.group(4))
                    i = m.end()
                    continue
                if i + 1 >= len(s) or PARTIAL_CSI.fullmatch(s, i):
                    self.pending = s[i:]
                    return
                i += 2                          # ESC = , ESC > and the like
                continue
            if ch == "\r":
                self.x = 0
                self.wrap_next = False
            elif ch == "\n":
                self._linefeed()
                self.wrap_next = False
            elif ch == "\b":
                if self.wrap_next:
                    self.wrap_next = False
                else:
                    self.x = max(0, self.x - 1)
            elif ch == "\t":
                self.x = min(self.cols - 1, (self.x // 8 + 1) * 8)
            elif ch == "\a" or ord(ch) < 32:
                pass
            else:
                self._put(ch)
            i += 1

    def lines(self):
        """All lines: those scrolled away, then the screen, trailing blanks cut."""
        out = self.scrolled + ["".join(r).rstrip() for r in self.grid]
        while out and out[-1] == "":
            out.pop()
        return out

    def text(self):
        return "\n".join(self.lines())

    def cursor_line(self):
        return "".join(self.grid[self.y]).rstrip()


class Term:
    """A program running on a pty of its own (its controlling terminal)."""

    def __init__(self, argv, env=None, cwd=None, rows=24, cols=80):
        self.screen = Screen(rows, cols)
        self.raw = b""
        pid, fd = pty.fork()
        if pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.execve(argv[0], argv, env or os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.status = None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:                         # EIO: the child is gone
            data = b""
        if not data:
            self._reap(block=True)
            return None
        self.raw += data
        self.screen.feed(data.decode("utf-8", "replace"))
        return True

    def pump(self, seconds):
        """Reads output for `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self._read(max(0.0, end - time.monotonic())) is None:
                return

    def wait_for(self, pred, timeout=10.0, what=None):
        """Reads until pred(screen) is true; fails with the screen if not."""
        end = time.monotonic() + timeout
        while True:
            if pred(self.screen):
                return True
            left = end - time.monotonic()
            if left <= 0 or self._read(min(left, 0.1)) is None:
                if pred(self.screen):
                    return True
                raise AssertionError("timed out waiting for %s; screen:\n%s\nraw: %r"
                                     % (what or pred, self.screen.text(), self.raw[-2000:]))

    def expect(self, text, timeout=10.0, count=1):
        """Waits until `text` appears `count` times on the screen."""
        return self.wait_for(lambda s: s.text().count(text) >= count, timeout, repr(text))

    def send(self, data):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def _reap(self, block):
        if self.status is not None:
            return self.status
        pid, st = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        if pid:
            self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def wait_exit(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._reap(block=False) is not None:
                while self._read(0.2):          # what is left in the pty
                    pass
                return self.status
            self._read(0.05)
        raise AssertionError("the program did not exit; screen:\n" + self.screen.text())

    def close(self):
        if self._reap(block=False) is None:
            os.kill(self.pid, signal.SIGKILL)
            self._reap(block=True)
        os.close(self.fd)
