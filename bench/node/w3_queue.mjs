// w3_queue.mjs -- W3 on Node.js: 4 producers and 4 consumers move N items
// through a hand-written bounded async queue (maxsize 100).
import { clock, result, rssKb } from './common.mjs';

const N = Number(process.argv[2] ?? 1000000);
const P = 4, C = 4, MAX = 100;

// A bounded FIFO with asyncio.Queue's put/get: each side parks on a promise
// when the queue is full (put) or empty (get), and is woken in FIFO order.
class AsyncQueue {
  constructor(maxsize) {
    this.maxsize = maxsize; this.items = []; this.head = 0;
    this.getters = []; this.putters = [];
  }
  size() { return this.items.length - this.head; }
  async put(x) {
    while (this.maxsize > 0 && this.size() >= this.maxsize)
      await new Promise((resolve) => this.putters.push(resolve));
    this.items.push(x);
    this.getters.shift()?.();
  }
  async get() {
    while (this.size() === 0)
      await new Promise((resolve) => this.getters.push(resolve));
    const x = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head); this.head = 0;
    }
    this.putters.shift()?.();
    return x;
  }
}

async function producer(q, count) {
  for (let i = 0; i < count; i++) await q.put(i);
}

async function consumer(q) {
  let n = 0;
  for (;;) {
    const x = await q.get();
    if (x === null) return n;
    n++;
  }
}

const q = new AsyncQueue(MAX);
const t0 = clock();
const consumers = [];
for (let i = 0; i < C; i++) consumers.push(consumer(q));
const producers = [];
for (let i = 0; i < P; i++) producers.push(producer(q, Math.floor(N / P)));
await Promise.all(producers);
for (let i = 0; i < C; i++) await q.put(null);
const got = (await Promise.all(consumers)).reduce((a, b) => a + b, 0);
const dt = clock() - t0;
if (got !== Math.floor(N / P) * P) throw new Error(`moved ${got}`);
result({ n: got, time: dt, items_per_s: got / dt, hwm_kb: rssKb('VmHWM') });
