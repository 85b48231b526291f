// w1_spawn.mjs -- W1 on Node.js: spawn N async calls that each `await null`
// and return, then Promise.all them.  Usage: node w1_spawn.mjs N
import { clock, result, rssKb } from './common.mjs';

const N = Number(process.argv[2] ?? 100000);

async function child(i) {
  await null;
  return i;
}

const rss0 = rssKb();
const t0 = clock();
const tasks = [];
for (let i = 0; i < N; i++) tasks.push(child(i));
const res = await Promise.all(tasks);
const dt = clock() - t0;
if (res.length !== N || res[N - 1] !== N - 1) throw new Error('bad result');
result({ n: N, time: dt, rss0_kb: rss0, hwm_kb: rssKb('VmHWM') });
