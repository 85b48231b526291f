"""echo.py -- bench/echo.lua in CPython: TCP echo round trips in one
process.  Usage: python3 echo.py [streams|protocols] [C] [R] [--uvloop]"""
import asyncio
import sys

args = [a for a in sys.argv[1:] if a != "--uvloop"]
MODE = args[0] if args else "streams"
C = int(args[1]) if len(args) > 1 else 50
R = int(args[2]) if len(args) > 2 else 2000
MSG = b"x" * 63 + b"\n"


async def streams(loop):
    async def handle(reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(R):
            writer.write(MSG)
            await writer.drain()
            assert await reader.readline() == MSG
        writer.close()

    t0 = loop.time()
    await asyncio.gather(*(client() for _ in range(C)))
    dt = loop.time() - t0
    server.close()
    return dt


class Echo(asyncio.Protocol):
    def connection_made(self, tr):
        self.tr = tr

    def data_received(self, data):
        self.tr.write(data)


class Client(asyncio.Protocol):
    def __init__(self, done):
        self.done = done

    def connection_made(self, tr):
        self.tr, self.left, self.got = tr, R, 0
        tr.write(MSG)

    def data_received(self, data):
        self.got += len(data)
        if self.got < len(MSG):
            return
        self.got -= len(MSG)
        self.left -= 1
        if self.left == 0:
            self.tr.close()
        else:
            self.tr.write(MSG)

    def connection_lost(self, exc):
        self.done.set_result(True)


async def protocols(loop):
    server = await loop.create_server(Echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    dones = []
    t0 = loop.time()
    for _ in range(C):
        done = loop.create_future()
        dones.append(done)
        await loop.create_connection(lambda d=done: Client(d), "127.0.0.1", port)
    await asyncio.gather(*dones)
    dt = loop.time() - t0
    server.close()
    return dt


async def main():
    loop = asyncio.get_running_loop()
    dt = await (protocols if MODE == "protocols" else streams)(loop)
    print("RESULT mode=%s conns=%d rounds=%d time=%.3f round_trips_per_s=%.0f"
          % (MODE, C, R, dt, C * R / dt))


if "--uvloop" in sys.argv:
    import uvloop
    uvloop.install()
asyncio.run(main())
