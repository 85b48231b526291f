#!/usr/bin/python3
"""Local HTTP test server for asyncio.http (Python 3 standard library only).

  server.py serve [--state FILE] [--port-line] [--watch-parent]
                  [--idle-timeout S] [--nginx]
      Serves on 127.0.0.1, free ports.  Writes key=value lines (pid, http,
      blackhole, closed and, with --nginx, https and cafile) to FILE once
      ready, or prints them on stdout then a blank line (--port-line).
      --watch-parent exits when the parent process goes away; with
      --port-line it also exits once its stdout is closed (pclose).
  server.py start --state FILE [--nginx]   (ctest fixture set-up)
      Starts `serve` detached and returns once it is ready.
  server.py stop --state FILE               (ctest fixture clean-up)

HTTP/1.1 with keep-alive (ThreadingHTTPServer, one thread a connection).
Endpoints: /get, /status/N, /delay/S, /redirect/N, /absolute-redirect/N,
/redirect-to?url=U&status=N, /loop, /bytes/N, /chunked/N?size=S&delay=D,
/slow/N?size=S&delay=D, /drop/N, /headers, /response-headers?K=V&..., /echo
(any method), /anything (the request as JSON), /cookies[/set|/delete], /conn, /gzip, /__shutdown.  --nginx adds an HTTPS + HTTP/2
nginx (self-signed certificate, CA file in `cafile`) serving /conn (the
connection number) and /file/1k.
"""
import email.parser
import email.policy
import gzip
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

BASE = bytes(range(251))
last_request = time.monotonic()


def pattern(n):
    """n bytes of the test pattern: byte i is i % 251."""
    return (BASE * (n // 251 + 1))[:n]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "aiolua-test/1"

    def log_message(self, fmt, *args):
        pass

    # -- helpers ---------------------------------------------------------
    def send(self, status, body=b"", headers=(), reason=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status, reason)
        has_type = False
        for k, v in headers:
            has_type |= k.lower() == "content-type"
            self.send_header(k, v)
        if not has_type:
            self.send_header("Content-Type", "text/plain")
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_chunked(self, pieces, delay):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            if delay:
                time.sleep(delay)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    # -- dispatch --------------------------------------------------------
    def handle_any(self):
        global last_request
        last_request = time.monotonic()
        url = urlsplit(self.path)
        q = dict(parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        name, arg = parts[0], (parts[1] if len(parts) > 1 else None)
        body = self.read_body()
        fn = getattr(self, "ep_" + name.replace("-", "_").replace("__", ""), None)
        if fn is None:
            return self.send(404, "no such endpoint\n")
        try:
            return fn(arg, q, body, url)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any
    do_HEAD = handle_any

    # -- endpoints -------------------------------------------------------
    def ep_get(self, arg, q, body, url):
        self.send(200, "ok\n", [("X-Method", self.command)])

    def ep_status(self, arg, q, body, url):
        code = int(arg)
        self.send(code, "status %d\n" % code)

    def ep_delay(self, arg, q, body, url):
        time.sleep(float(arg))
        self.send(200, "delayed %s\n" % arg)

    def ep_redirect(self, arg, q, body, url):
        n = int(arg)
        if n <= 0:
            return self.send(200, "redirected\n", [("X-Method", self.command)])
        self.send(302, "", [("Location", "/redirect/%d" % (n - 1))])

    def ep_absolute_redirect(self, arg, q, body, url):
        n = int(arg)
        if n <= 0:
            return self.send(200, "redirected\n")
        host = self.headers.get("Host")
        self.send(302, "", [("Location", "http://%s/absolute-redirect/%d" % (host, n - 1))])

    def ep_redirect_to(self, arg, q, body, url):
        self.send(int(q.get("status", 302)), "", [("Location", q["url"])])

    def ep_loop(self, arg, q, body, url):
        self.send(302, "", [("Location", "/loop")])

    def ep_bytes(self, arg, q, body, url):
        self.send(200, pattern(int(arg)), [("Content-Type", "application/octet-stream")])

    def ep_chunked(self, arg, q, body, url):
        n, size = int(arg), int(q.get("size", 4096))
        data = pattern(n)
        self.send_chunked([data[i:i + size] for i in range(0, n, size)],
                          float(q.get("delay", 0)))

    def ep_slow(self, arg, q, body, url):
        n, size, delay = int(arg), int(q.get("size", 1024)), float(q.get("delay", 0.05))
        data = pattern(n)
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        for i in range(0, n, size):
            time.sleep(delay)
            self.wfile.write(data[i:i + size])

    def ep_drop(self, arg, q, body, url):
        n = int(arg)
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.write(pattern(n // 2))
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def ep_headers(self, arg, q, body, url):
        lines = "".join("%s: %s\n" % (k.lower(), v) for k, v in self.headers.items())
        self.send(200, lines)

    def ep_response_headers(self, arg, q, body, url):
        self.send(200, "ok\n", parse_qsl(url.query))

    def ep_echo(self, arg, q, body, url):
        self.send(200, body, [("X-Method", self.command),
                              ("X-Content-Type", self.headers.get("Content-Type", "")),
                              ("X-Body-Length", str(len(body)))])

    def ep_cookies(self, arg, q, body, url):
        """/cookies: the Cookie header as is; /cookies/set?k=v&...: sets
        them (Path=/); /cookies/delete?k: expires k."""
        if arg == "set":
            return self.send(200, "set\n", [("Set-Cookie", "%s=%s; Path=/" % kv)
                                           for kv in parse_qsl(url.query)])
        if arg == "delete":
            return self.send(200, "deleted\n",
                             [("Set-Cookie", "%s=; Path=/; Max-Age=0" % k)
                              for k in url.query.split("&") if k])
        self.send(200, self.headers.get("Cookie", "") + "\n")

    def ep_anything(self, arg, q, body, url):
        """The request as JSON, made by Python's json module: method, args
        (the query, a list per name), form (a urlencoded body), json (the
        body parsed, canonical: keys sorted), data, content_type."""
        ctype = self.headers.get("Content-Type", "")
        args = {}
        for k, v in parse_qsl(url.query, keep_blank_values=True):
            args.setdefault(k, []).append(v)
        form = {}
        if ctype == "application/x-www-form-urlencoded":
            for k, v in parse_qsl(body.decode(), keep_blank_values=True):
                form.setdefault(k, []).append(v)
        files = {}
        if ctype.startswith("multipart/form-data"):
            # parsed by Python's email package, independently of aiolua
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                content = part.get_payload(decode=True)
                if part.get_filename() is None:
                    form.setdefault(name, []).append(content.decode())
                else:
                    files[name] = {"filename": part.get_filename(),
                                   "content_type": part.get_content_type(),
                                   "content": content.decode("latin-1"),
                                   "hex": content.hex()}
        parsed = None
        if ctype == "application/json":
            parsed = json.loads(body)
        doc = {"method": self.command, "args": args, "form": form,
               "files": files,
               "json": parsed, "data": body.decode("utf-8", "replace"),
               "content_type": ctype,
               "canonical": json.dumps(parsed, sort_keys=True,
                                       separators=(",", ":"),
                                       ensure_ascii=False)}
        self.send(200, json.dumps(doc).encode(),
                  [("Content-Type", "application/json")])

    def ep_conn(self, arg, q, body, url):
        self.send(200, "%d\n" % self.client_address[1])

    def ep_gzip(self, arg, q, body, url):
        data = b"compressed hello\n" * 100
        self.send(200, gzip.compress(data), [("Content-Encoding", "gzip")])

    def ep_shutdown(self, arg, q, body, url):
        self.send(200, "bye\n")
        self.close_connection = True
        threading.Thread(target=self.server.shutdown, daemon=True).start()


class Server(ThreadingHTTPServer):
    """One thread per connection, from a pool of started threads: starting
    a thread per accept (ThreadingMixIn) waits for it to run, which makes
    hundreds of simultaneous connects slow.  The pool grows when needed."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    prestart = 256

    def server_activate(self):
        super().server_activate()
        self.jobs = queue.SimpleQueue()
        self.idle = 0
        self.lock = threading.Lock()
        threading.stack_size(512 * 1024)
        for _ in range(self.prestart):
            self.add_worker()

    def add_worker(self):
        with self.lock:
            self.idle += 1
        threading.Thread(target=self.worker, daemon=True).start()

    def worker(self):
        while True:
            request, client_address = self.jobs.get()
            with self.lock:
                self.idle -= 1
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
            with self.lock:
                self.idle += 1

    def process_request(self, request, client_address):
        with self.lock:
            spare = self.idle - self.jobs.qsize()
        if spare <= 0:
            self.add_worker()
        self.jobs.put((request, client_address))

    def handle_error(self, request, client_address):
        # Clients that hang up (cancelled requests) are part of the tests.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def closed_port():
    """A socket bound to a port of 127.0.0.1 but not listening: connecting
    to the port is refused, and while the socket lives no server of a test
    running beside this one (nor a client's ephemeral port) can take it, as
    they could a port merely found free."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


def free_port():
    s = closed_port()
    port = s.getsockname()[1]
    s.close()
    return port


def blackhole():
    """A listening socket whose accept queue is full: connects hang."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(lsock.getsockname())
        fillers.append(c)
    time.sleep(0.05)
    return lsock, fillers


NGINX_CONF = """
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp;
  proxy_temp_path {d}/tmp;
  fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp;
  scgi_temp_path {d}/tmp;
  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_certificate {d}/cert.pem;
    ssl_certificate_key {d}/key.pem;
    location = /conn {{ return 200 "$connection\\n"; }}
    location /file/ {{ alias {d}/www/; }}
  }}
}}
"""


def start_nginx(d):
    """Starts nginx with HTTPS + HTTP/2 on a free port; (process, port)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    openssl = shutil.which("openssl")
    if not os.path.exists(nginx) or not openssl:
        return None, None
    os.makedirs(d + "/tmp", exist_ok=True)
    os.makedirs(d + "/www", exist_ok=True)
    with open(d + "/www/1k", "wb") as f:
        f.write(pattern(1024))
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-keyout", d + "/key.pem", "-out", d + "/cert.pem",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    with open(d + "/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port))
    proc = subprocess.Popen([nginx, "-p", d, "-e", d + "/error.log", "-c",
                             d + "/nginx.conf"], stdin=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                return None, None
            time.sleep(0.05)
    proc.kill()
    return None, None


def serve(args):
    state = opt(args, "--state")
    idle = float(opt(args, "--idle-timeout") or 0)
    httpd = Server(("127.0.0.1", 0), Handler)
    hole, fillers = blackhole()
    closed = closed_port()
    info = {"pid": os.getpid(), "http": httpd.server_address[1],
            "blackhole": hole.getsockname()[1], "closed": closed.getsockname()[1]}
    nginx, tmpdir = None, None
    if "--nginx" in args:
        tmpdir = tempfile.mkdtemp(prefix="aiolua-http-")
        os.chmod(tmpdir, 0o755)  # nginx workers may run as another user
        nginx, port = start_nginx(tmpdir)
        if nginx:
            info["https"] = port
            info["cafile"] = tmpdir + "/cert.pem"
    text = "".join("%s=%s\n" % kv for kv in info.items())
    if state:
        with open(state + ".tmp", "w") as f:
            f.write(text)
        os.replace(state + ".tmp", state)
    if "--port-line" in args:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    parent = os.getppid()
    pipe = None
    if "--port-line" in args:       # the reader closing stdout stops us too
        pipe = select.poll()
        pipe.register(sys.stdout.fileno(), select.POLLERR)

    def watchdog():
        while True:
            time.sleep(0.1)
            if "--watch-parent" in args and os.getppid() != parent:
                break
            if pipe and pipe.poll(0):
                break
            if idle and time.monotonic() - last_request > idle:
                break
        httpd.shutdown()

    threading.Thread(target=watchdog, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(
        target=httpd.shutdown, daemon=True).start())
    try:
        httpd.serve_forever(poll_interval=0.1)
    finally:
        if nginx:
            nginx.terminate()
            try:
                nginx.wait(5)
            except subprocess.TimeoutExpired:
                nginx.kill()
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        if state:
            try:
                os.remove(state)
            except OSError:
                pass


def opt(args, name):
    return args[args.index(name) + 1] if name in args else None


def read_state(path):
    with open(path) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


def start(args):
    state = opt(args, "--state")
    if os.path.exists(state):
        stop(args)
    cmd = [sys.executable, os.path.abspath(__file__), "serve", "--state", state,
           "--idle-timeout", "900"] + (["--nginx"] if "--nginx" in args else [])
    # No pipe of ours may stay open in the server, or ctest waits for it.
    with open(state + ".log", "w") as log:
        subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(state):
            print(open(state).read(), end="")
            return 0
        time.sleep(0.05)
    print("server did not start", file=sys.stderr)
    return 1


def stop(args):
    state = opt(args, "--state")
    try:
        pid = int(read_state(state)["pid"])
    except (OSError, KeyError, ValueError):
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(state):
        time.sleep(0.05)
    try:
        os.remove(state)
    except OSError:
        pass
    return 0


def main():
    args = sys.argv[1:]
    cmd = args[0] if args else "serve"
    if cmd == "serve":
        serve(args)
        return 0
    if cmd == "start":
        return start(args)
    if cmd == "stop":
        return stop(args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
