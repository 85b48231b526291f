#!/usr/bin/env python3
"""demo_site.py -- the local web site the crawler demo and areq crawl.

Serves a generated site of several hundred linked HTML pages on 127.0.0.1
with a fixed latency per response (20 ms by default), so that a sequential
crawl pays it once per page and a concurrent crawl once per level.  Some
links are broken (404), lead to an error page (500), to a redirect, to a
closed port, or are not HTTP at all (mailto:, javascript:).

Prints the port on stdout (a free one unless --port is given), serves any
number of connections at once from one asyncio loop (HTTP/1.1 keep-alive;
each response is held back by a timer, so concurrent requests wait in
parallel, as from a remote server), and stops when stdin reaches EOF
(unless --forever) or on SIGINT/SIGTERM.

Shape (default --sections 10 --pages 500): "/" links to the 10 section
pages; section s links to 9 of its own pages, to its neighbour sections and
to "/", and some sections link to the broken targets; every other page links
to about 12 random pages of its section and 2 of other sections.  Crawled
to depth 3 (levels 0, 1, 2) that is 1 + 10 + 94 fetches, under 100 per
level; depth 4 reaches most of the site.
"""
import argparse
import asyncio
import random
import signal
import socket
import sys
import threading

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua café "
         "naïve coroutine event loop future task await async — libuv").split()


class Site:
    """The generated pages: path -> (status, html)."""

    def __init__(self, pages, sections, seed):
        self.rng = random.Random(seed)
        self.pages = pages
        self.sections = sections
        per = (pages - sections) // sections
        # section s (1-based) owns the page numbers in own[s]
        self.own = {s: list(range(sections + 1 + (s - 1) * per,
                                  sections + 1 + s * per))
                    for s in range(1, sections + 1)}
        self.section_of = {p: s for s, ps in self.own.items() for p in ps}
        self.bodies = {}
        self.bodies["/"] = self.page("Demo site", "index",
                                     [self.href(s) for s in range(1, sections + 1)])
        for s in range(1, sections + 1):
            links = [self.href(p) for p in self.own[s][:9]]
            links += [self.href(s % sections + 1), self.href((s - 2) % sections + 1),
                      "/", "#top", "mailto:webmaster@example.invalid"]
            if s == 3 or s == 7:
                links.append("/page/%d.html" % (pages + 100 + s))  # 404
            if s == 5:
                links.append("/error/500")
                links.append("javascript:void(0)")
            if s == 9:
                links.append("http://127.0.0.1:1/unreachable")  # refused
            self.bodies[self.path(s)] = self.page("Section %d" % s, s, links)
        for p in range(sections + 1, sections + 1 + per * sections):
            s = self.section_of[p]
            targets = self.rng.sample(self.own[s], 12)
            targets += self.rng.sample(range(1, sections + 1 + per * sections), 2)
            links = [self.href(q, p) for q in targets if q != p]
            links.append(self.href(s))
            if p % 37 == 0:
                links.append("/page/%d.html" % (pages + p))  # 404
            if p % 53 == 0:
                links.append("/error/500")
            if p % 41 == 0:
                links.append("/redirect/%d" % targets[0])
            self.bodies[self.path(p)] = self.page("Page %d" % p, p, links)
        self.server_error = self.page("Internal Server Error", 500, ["/", self.href(1)])
        self.not_found = self.page("Not Found", 404, ["/"])

    @staticmethod
    def path(n):
        return "/page/%d.html" % n

    def href(self, n, here=None):
        """A link to page n, written in one of several equivalent forms."""
        form = self.rng.randrange(4) if here is not None else 0
        if form == 1:
            return "%d.html" % n                 # relative to /page/
        if form == 2:
            return "../page/%d.html#top" % n     # dot-dot and a fragment
        if form == 3:
            return "./%d.html" % n
        return self.path(n)

    def page(self, title, n, links):
        rng = self.rng
        paras = []
        for _ in range(rng.randint(2, 6)):
            paras.append("<p>%s.</p>" % " ".join(rng.choice(WORDS)
                                                  for _ in range(rng.randint(40, 120))))
        items = "\n".join('<li><a href="%s">link %d</a></li>' % (h, i)
                          for i, h in enumerate(links))
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                "<title>%s</title></head>\n<body id=\"top\"><h1>%s</h1>\n%s\n"
                "<ul>\n%s\n</ul>\n<p>page %s</p></body></html>\n"
                % (title, title, "\n".join(paras), items, n))

    def get(self, path):
        """(status, extra headers, html) for a request path."""
        path = path.split("?", 1)[0]
        if path in self.bodies:
            return 200, {}, self.bodies[path]
        if path.startswith("/redirect/"):
            return 302, {"Location": "/page/%s.html" % path[10:]}, ""
        if path.startswith("/error/"):
            return 500, {}, self.server_error
        return 404, {}, self.not_found


REASONS = {200: "OK", 302: "Found", 404: "Not Found", 405: "Method Not Allowed",
           500: "Internal Server Error"}


class Site_Protocol(asyncio.Protocol):
    """One HTTP/1.1 connection: parses requests (keep-alive, pipelined) and
    sends each response `latency` seconds after its request arrived, in
    order.  A timer per response, no thread: 100 requests in flight cost
    one latency, as they would from a real remote server."""

    def __init__(self, site, latency):
        self.site, self.latency = site, latency
        self.buf = b""
        self.ready_at = 0.0    # responses leave in request order
        self.closing = False

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.buf += data
        while not self.closing:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self.transport.close()
                return
            head = self.buf[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length:]
            self.respond(head[0].split(), headers)

    def respond(self, request, headers):
        method = request[0] if request else ""
        path = request[1] if len(request) > 1 else "/"
        close = (headers.get("connection", "").lower() == "close"
                 or (len(request) > 2 and request[2] == "HTTP/1.0"))
        if method in ("GET", "HEAD"):
            status, extra, html = self.site.get(path)
        else:
            status, extra, html = 405, {"Allow": "GET, HEAD"}, ""
        body = html.encode("utf-8")
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown")),
                 "Server: demo-site/1.0",
                 "Content-Type: text/html; charset=utf-8",
                 "Content-Length: %d" % len(body)]
        lines += ["%s: %s" % kv for kv in extra.items()]
        if close:
            lines.append("Connection: close")
            self.closing = True
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if method != "HEAD":
            data += body
        loop = asyncio.get_running_loop()
        self.ready_at = max(loop.time() + self.latency, self.ready_at)
        loop.call_at(self.ready_at, self.send, data, close)

    def send(self, data, close):
        if self.transport.is_closing():
            return
        self.transport.write(data)
        if close:
            self.transport.close()


async def serve(args, site, stop):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Site_Protocol(site, args.latency / 1000.0),
        "127.0.0.1", args.port, backlog=1024, reuse_address=True)
    print(server.sockets[0].getsockname()[1], flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not args.forever:
        def wait_eof():  # stdin EOF: the parent is gone or done
            while sys.stdin.buffer.read1(65536):
                pass
            loop.call_soon_threadsafe(stop.set)
        threading.Thread(target=wait_eof, daemon=True).start()
    await stop.wait()
    server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--latency", type=float, default=20.0,
                    help="milliseconds before each response (default 20)")
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--sections", type=int, default=10)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--forever", action="store_true",
                    help="ignore stdin; stop only on a signal")
    args = ap.parse_args()

    site = Site(args.pages, args.sections, args.seed)
    try:  # a faster loop when Debian's python3-uvloop is there
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args, site, asyncio.Event()))


if __name__ == "__main__":
    main()
