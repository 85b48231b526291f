#!/usr/bin/env node
// queue-node.js -- the queue benchmark for Node.js (the peer of
// bench/queue-aiolua.lua): 4 producers and 4 consumers move N items (default
// 1,000,000) through a hand-written bounded async queue of 100 slots, built
// like asyncio.Queue (ring buffer, FIFO waiter lists, a promise only when a
// task must wait).  Prints one line:
//   node queue: N items in S s: R items/s
// Usage: node queue-node.js [N]
'use strict';

const PRODUCERS = 4;
const CONSUMERS = 4;
const MAXSIZE = 100;

class Cancelled extends Error {}

class AsyncQueue {
  constructor(maxsize) {
    this.maxsize = maxsize;
    this.buf = new Array(maxsize > 0 ? maxsize : 16);
    this.head = 0;
    this.size = 0;
    this.getters = [];   // resolve functions of waiting get() calls
    this.putters = [];   // resolve functions of waiting put() calls
    this.unfinished = 0;
    this.joiners = [];
  }

  full() { return this.maxsize > 0 && this.size >= this.maxsize; }

  grow() {
    const old = this.buf, n = old.length, buf = new Array(n * 2);
    for (let i = 0; i < this.size; i++) buf[i] = old[(this.head + i) % n];
    this.buf = buf;
    this.head = 0;
  }

  putNowait(item) {
    if (this.full()) throw new Error('QueueFull');
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) % this.buf.length] = item;
    this.size++;
    this.unfinished++;
    if (this.getters.length > 0) this.getters.shift()();
  }

  getNowait() {
    if (this.size === 0) throw new Error('QueueEmpty');
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    if (this.putters.length > 0) this.putters.shift()();
    return item;
  }

  async put(item) {
    while (this.full()) {
      await new Promise((resolve) => this.putters.push(resolve));
    }
    this.putNowait(item);
  }

  async get() {
    while (this.size === 0) {
      await new Promise((resolve, reject) => this.getters.push(resolve));
      if (this.closed) throw new Cancelled();
    }
    return this.getNowait();
  }

  taskDone() {
    if (this.unfinished <= 0) throw new Error('task_done() called too many times');
    if (--this.unfinished === 0) {
      const js = this.joiners;
      this.joiners = [];
      for (const j of js) j();
    }
  }

  join() {
    if (this.unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.joiners.push(resolve));
  }

  // Stands in for cancelling the consumers: wakes every getter, which throws.
  close() {
    this.closed = true;
    const gs = this.getters;
    this.getters = [];
    for (const g of gs) g();
  }
}

async function producer(q, count) {
  for (let i = 0; i < count; i++) await q.put(i);
}

async function consumer(q) {
  let got = 0;
  try {
    for (;;) {
      await q.get();
      got++;
      q.taskDone();
    }
  } catch (e) {
    if (!(e instanceof Cancelled)) throw e;
  }
  return got;
}

async function main() {
  const n = process.argv[2] ? parseInt(process.argv[2], 10) : 1000000;
  const per = Math.floor(n / PRODUCERS);
  const q = new AsyncQueue(MAXSIZE);
  const t0 = process.hrtime.bigint();
  const consumers = [];
  for (let i = 0; i < CONSUMERS; i++) consumers.push(consumer(q));
  const producers = [];
  for (let i = 0; i < PRODUCERS; i++) producers.push(producer(q, per));
  await Promise.all(producers);
  await q.join();
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  q.close();
  const counts = await Promise.all(consumers);
  const total = per * PRODUCERS;
  const got = counts.reduce((a, b) => a + b, 0);
  if (got !== total) throw new Error(`consumed ${got}, expected ${total}`);
  console.log(`node queue: ${total} items in ${elapsed.toFixed(3)} s: ` +
              `${Math.round(total / elapsed)} items/s`);
}

main();
