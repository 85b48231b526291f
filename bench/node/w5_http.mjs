// w5_http.mjs -- W5 on Node.js: N GETs of URL with K in flight (K async
// workers using the built-in fetch).  Usage: node w5_http.mjs URL N K
import { clock, result, rssKb } from './common.mjs';

const [URL, N, K] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
let todo = N, bytes = 0, failed = 0;

async function worker() {
  while (todo > 0) {
    todo--;
    const resp = await fetch(URL);
    const body = await resp.arrayBuffer();
    if (resp.status !== 200) failed++;
    bytes += body.byteLength;
  }
}

const t0 = clock();
await Promise.all(Array.from({ length: K }, worker));
const dt = clock() - t0;
result({ n: N, time: dt, rps: N / dt, bytes, failed, hwm_kb: rssKb('VmHWM') });
