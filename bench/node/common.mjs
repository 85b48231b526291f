// common.mjs -- helpers shared by the Node.js peers: a monotonic clock in
// seconds, memory from /proc, RESULT lines.
import { readFileSync } from 'node:fs';

export const clock = () => performance.now() / 1000;

export function rssKb(field = 'VmRSS') {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(field + ':\\s*(\\d+)'));
  return m ? Number(m[1]) : 0;
}

export function result(kv) {
  console.log('RESULT ' + Object.entries(kv)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(6)}`).join(' '));
}
