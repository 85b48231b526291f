// w2_sleep.mjs -- W2 on Node.js: N concurrent 1 s sleeps (timers/promises);
// overshoot past 1 s and memory per pending task.
import { setTimeout as sleep } from 'node:timers/promises';
import { clock, result, rssKb } from './common.mjs';

const N = Number(process.argv[2] ?? 100000);
const DELAY = Number(process.argv[3] ?? 1.0);

async function child(i) {
  await sleep(DELAY * 1000);
  return i;
}

const rss0 = rssKb();
const t0 = clock();
const tasks = [];
for (let i = 0; i < N; i++) tasks.push(child(i));
const spawned = clock();
await null;                     // every child is parked on its timer already
const rss1 = rssKb();
const res = await Promise.all(tasks);
const t1 = clock();
if (res.length !== N) throw new Error('bad result');
result({ n: N, overshoot: t1 - t0 - DELAY, spawn: spawned - t0,
         per_task_b: (rss1 - rss0) * 1024 / N, rss0_kb: rss0,
         hwm_kb: rssKb('VmHWM') });
