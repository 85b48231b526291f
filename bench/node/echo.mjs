// echo.mjs -- bench/echo.lua in Node.js: TCP echo round trips in one
// process, with net's event callbacks (the counterpart of protocols).
// Usage: node echo.mjs [C] [R].  Prints one RESULT line.
import net from "node:net";

const C = Number(process.argv[2] ?? 50), R = Number(process.argv[3] ?? 2000);
const MSG = Buffer.from("x".repeat(63) + "\n");

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on("data", (d) => sock.write(d));
  sock.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => {
  const port = server.address().port;
  const t0 = performance.now();
  let left = C;
  for (let i = 0; i < C; i++) {
    const sock = net.connect(port, "127.0.0.1", () => sock.write(MSG));
    sock.setNoDelay(true);
    let rounds = R, got = 0;
    sock.on("data", (d) => {
      got += d.length;
      if (got < MSG.length) return;
      got -= MSG.length;
      if (--rounds === 0) sock.end(); else sock.write(MSG);
    });
    sock.on("close", () => {
      if (--left === 0) {
        const dt = (performance.now() - t0) / 1000;
        console.log(`RESULT mode=net conns=${C} rounds=${R} time=${dt.toFixed(3)} ` +
                    `round_trips_per_s=${Math.round(C * R / dt)}`);
        server.close();
      }
    });
  }
});
