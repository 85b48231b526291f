"""W6 on aiohttp: the recursive concurrent crawl of the tutorial -- from a
base URL, fetch the page, write it to DEST, then crawl its unseen href links
on the same host concurrently, to DEPTH levels (depth 1 fetches only the
base, as scripts/crawler.lua counts), with at most K requests in flight
(a semaphore); a failed fetch counts as an empty page.  Usage: w6_crawl.py URL DEPTH K DEST [--uvloop]"""
import asyncio
import hashlib
import os
import re
import urllib.parse

import aiohttp
from common import args, clock, result, rss_kb, run

a = args()
BASE, DEPTH, K, DEST = a[0], int(a[1]), int(a[2]), a[3]
HREF = re.compile(r'href="([^"#]*)', re.I)
HOST = urllib.parse.urlsplit(BASE).netloc


async def fetch(session, sem, url, stats):
    async with sem:
        try:
            async with session.get(url) as resp:
                body = await resp.read()
                if resp.status >= 400:
                    stats["errors"] += 1
        except aiohttp.ClientError:
            stats["errors"] += 1
            return url, b""
    name = hashlib.sha1(url.encode()).hexdigest()[:16] + ".html"
    with open(os.path.join(DEST, name), "wb") as f:
        f.write(body)
    stats["bytes"] += len(body)
    return url, body


def links(url, body):
    out = []
    for ref in HREF.findall(body.decode("utf-8", "replace")):
        u = urllib.parse.urljoin(url, ref)
        if urllib.parse.urlsplit(u).netloc == HOST:
            out.append(u)
    return out


async def crawl(session, sem, url, depth, seen, stats):
    url, body = await fetch(session, sem, url, stats)
    if depth <= 1:
        return
    todo = [u for u in links(url, body) if u not in seen]
    seen.update(todo)
    await asyncio.gather(*(crawl(session, sem, u, depth - 1, seen, stats)
                           for u in todo))


async def main():
    stats = {"bytes": 0, "errors": 0}
    sem = asyncio.Semaphore(K)
    seen = {BASE}
    t0 = clock()
    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=K)) as session:
        await crawl(session, sem, BASE, DEPTH, seen, stats)
    dt = clock() - t0
    result(pages=len(seen), time=dt, bytes=stats["bytes"], errors=stats["errors"],
           hwm_kb=rss_kb("VmHWM"))

run(main())
