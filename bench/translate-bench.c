/*
** translate-bench.c -- throughput of the dialect translator (issue 5).
** Generates a large dialect source (async functions, awaits, strings,
** long strings, comments, numerals) and a plain one, translates each a
** few times and prints the best rate in MB/s (target: >= 50 MB/s).
** Usage: translate-bench [MB (default 32)] [runs (default 5)] [--check]
** --check exits 1 when the dialect rate is below 50 MB/s.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aiolua.h"

#define TARGET_MBS 50.0

/* About 1 KB of typical dialect code; %d makes every copy's names differ. */
static const char chunk_dialect[] =
  "-- worker %d: fetches pages and awaits them (await in a comment)\n"
  "local async function fetch_%d(client, url, opts)\n"
  "  local resp <close> = await client:get(url, { timeout = 5, retries = 3 })\n"
  "  if resp.status ~= 200 then\n"
  "    error(string.format(\"bad status %%d for %%s\", resp.status, url))\n"
  "  end\n"
  "  local body = await resp:text() .. [[ await ]] .. '\\x41\\u{48}'\n"
  "  for i = 1, #opts.items do\n"
  "    await asyncio.sleep(0.001 * i ^ 2, 0x1p-4, 3.5e+2)\n"
  "  end\n"
  "  return body, await f(x).y + 1, await -n, await not ok\n"
  "end\n"
  "async function pool_%d.run(self, urls)\n"
  "  local tasks = {}\n"
  "  for _, u in ipairs(urls) do\n"
  "    tasks[#tasks + 1] = asyncio.create_task(async function()\n"
  "      return await fetch_%d(self.client, u, { items = { 1, 2, 3 } })\n"
  "    end)\n"
  "  end\n"
  "  --[==[ a long comment with ]] and await inside ]==]\n"
  "  local results = await asyncio.gather(table.unpack(tasks))\n"
  "  repeat local v = await self.queue:get() until v == nil\n"
  "  while not self.done do await self.event:wait() end\n"
  "  return results\n"
  "end\n"
  "async function Pool_%d:close() self.closed = true end\n";

/* The same shape of code without any async/await (the fast path). */
static const char chunk_plain[] =
  "-- worker %d: fetches pages and waits for them\n"
  "local function fetch_%d(client, url, opts)\n"
  "  local resp <close> = client:get(url, { timeout = 5, retries = 3 })\n"
  "  if resp.status ~= 200 then\n"
  "    error(string.format(\"bad status %%d for %%s\", resp.status, url))\n"
  "  end\n"
  "  local body = resp:text() .. [[ text ]] .. '\\x41\\u{48}'\n"
  "  for i = 1, #opts.items do\n"
  "    sleep(0.001 * i ^ 2, 0x1p-4, 3.5e+2)\n"
  "  end\n"
  "  return body, f(x).y + 1, -n, not ok\n"
  "end\n"
  "function pool_%d.run(self, urls)\n"
  "  local tasks = {}\n"
  "  for _, u in ipairs(urls) do\n"
  "    tasks[#tasks + 1] = spawn(function()\n"
  "      return fetch_%d(self.client, u, { items = { 1, 2, 3 } })\n"
  "    end)\n"
  "  end\n"
  "  --[==[ a long comment with ]] inside ]==]\n"
  "  local results = gather(table.unpack(tasks))\n"
  "  repeat local v = self.queue:get() until v == nil\n"
  "  while not self.done do self.event:wait() end\n"
  "  return results\n"
  "end\n"
  "function Pool_%d:close() self.closed = true end\n";

/* Builds about `size` bytes of copies of `fmt`.  Caller frees. */
static char *generate(const char *fmt, size_t size, size_t *len) {
  char *buf = malloc(size + 4096);
  size_t n = 0;
  int i = 0;
  if (!buf) abort();
  while (n < size) {
    n += (size_t)snprintf(buf + n, size + 4096 - n, fmt, i, i, i, i, i);
    i++;
  }
  *len = n;
  return buf;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Best rate over `runs` translations of src, in MB/s (1 MB = 1e6 bytes). */
static double measure(const char *what, const char *src, size_t len,
                      int runs) {
  double best = 0;
  size_t outlen = 0;
  int i;
  for (i = 0; i < runs; i++) {
    char *out, err[256];
    double t0 = now(), dt, rate;
    int line = aiolua_translate(src, len, &out, &outlen, err, sizeof err);
    dt = now() - t0;
    if (line) {
      fprintf(stderr, "translate-bench: %s: line %d: %s\n", what, line, err);
      exit(2);
    }
    free(out);
    rate = (double)len / 1e6 / dt;
    if (rate > best) best = rate;
  }
  printf("translate %-8s %7.1f MB in, %7.1f MB out: %8.1f MB/s (best of %d)\n",
         what, (double)len / 1e6, (double)outlen / 1e6, best, runs);
  return best;
}

int main(int argc, char **argv) {
  size_t mb = 32, len;
  int runs = 5, check = 0, i, pos = 0;
  char *src;
  double rate;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--check") == 0) check = 1;
    else if (pos++ == 0) mb = (size_t)atoi(argv[i]);
    else runs = atoi(argv[i]);
  }
  if (mb < 1) mb = 1;
  if (runs < 1) runs = 1;
  src = generate(chunk_dialect, mb << 20, &len);
  rate = measure("dialect", src, len, runs);
  free(src);
  src = generate(chunk_plain, mb << 20, &len);
  measure("plain", src, len, runs);
  free(src);
  if (check && rate < TARGET_MBS) {
    printf("FAIL: dialect translation below %.0f MB/s\n", TARGET_MBS);
    return 1;
  }
  return 0;
}
