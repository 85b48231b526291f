// w4_pingpong.mjs -- W4 on Node.js: two async functions hand control to
// each other through promises, N switches in all.
import { clock, result, rssKb } from './common.mjs';

const N = Number(process.argv[2] ?? 1000000);
const box = new Map();

function wake(other) {
  const r = box.get(other);
  if (r) { box.delete(other); r(); }
}

async function player(me, other, rounds) {
  for (let i = 0; i < rounds; i++) {
    const p = new Promise((resolve) => box.set(me, resolve));
    wake(other);
    await p;
  }
  wake(other);
}

const t0 = clock();
await Promise.all([player(1, 2, N / 2), player(2, 1, N / 2)]);
const dt = clock() - t0;
result({ n: N, time: dt, switches_per_s: N / dt, hwm_kb: rssKb('VmHWM') });
