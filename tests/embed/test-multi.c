/*
** test-multi.c -- several independent runtimes in one process: two runtimes
** with loops of their own stepped in turn, two runtimes sharing one
** application loop, a runtime run to completion from inside a task of
** another, (with threads) one runtime per thread at the same time, and
** the runtime's SIGPIPE policy.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "aiolua.h"
#ifdef EMBED_THREADS
#include <pthread.h>
#endif

static int failures;

#define CHECK(cond, ...)                                          \
  do {                                                            \
    if (!(cond)) {                                                \
      failures++;                                                 \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,      \
              __LINE__, #cond);                                   \
      fprintf(stderr, __VA_ARGS__);                               \
      fputc('\n', stderr);                                        \
    }                                                             \
  } while (0)

/* An async function(name, n) exercising sleeps, a future settled by a loop
** callback, gather and plain yields; returns a string that depends on its
** arguments only. */
static const char *workload =
    "local state = 0                           -- private to this runtime\n"
    "return async function(name, n)\n"
    "  state = state + 1\n"
    "  local loop = asyncio.get_running_loop()\n"
    "  local f = asyncio.Future()\n"
    "  loop:call_later(0.002, function() f:set_result(n) end)\n"
    "  local r = await asyncio.gather(asyncio.sleep(0.01, name .. '-a'),\n"
    "                                 asyncio.sleep(0.005, name .. '-b'), f)\n"
    "  local total = 0\n"
    "  for i = 1, n do\n"
    "    total = total + i\n"
    "    if i % 100 == 0 then await asyncio.sleep(0) end\n"
    "  end\n"
    "  who = name                               -- a global, per runtime\n"
    "  return table.concat({r[1], r[2], r[3], total, state}, ',')\n"
    "end\n";

/* Loads the workload: pushes the async function. */
static int push_workload(aiolua_runtime_t *rt) {
  lua_State *L = aiolua_runtime_lua(rt);
  int status = aiolua_load(rt, workload, strlen(workload), "=workload", 0);
  if (status == LUA_OK) status = lua_pcall(L, 0, 1, 0);
  CHECK(status == LUA_OK, "%s", lua_tostring(L, -1));
  return status;
}

typedef struct { char s[128]; } want_t;

/* What workload(name, n) returns. */
static want_t expected(const char *name, int n) {
  want_t w;
  snprintf(w.s, sizeof w.s, "%s-a,%s-b,%d,%d,1", name, name, n,
           n * (n + 1) / 2);
  return w;
}

/* Spawns workload(name, n) as a task; leaves the Task on the stack. */
static void spawn_workload(aiolua_runtime_t *rt, const char *name, int n) {
  lua_State *L = aiolua_runtime_lua(rt);
  if (push_workload(rt) != LUA_OK) return;
  lua_pushstring(L, name);
  lua_pushinteger(L, n);
  CHECK(aiolua_spawn(rt, 2) == LUA_OK, "spawn: %s", lua_tostring(L, -1));
}

/* [task] -> [] : checks task:result() == want. */
static void check_task(aiolua_runtime_t *rt, const char *want) {
  lua_State *L = aiolua_runtime_lua(rt);
  lua_getfield(L, -1, "done");
  lua_pushvalue(L, -2);
  lua_call(L, 1, 1);
  CHECK(lua_toboolean(L, -1), "task not done (want %s)", want);
  lua_pop(L, 1);
  lua_getfield(L, -1, "result");
  lua_insert(L, -2);
  int status = lua_pcall(L, 1, 1, 0);
  const char *got = lua_tostring(L, -1);
  CHECK(status == LUA_OK && got && strcmp(got, want) == 0, "got %s, want %s",
        got ? got : "(nil)", want);
  lua_pop(L, 1);
}

static void check_global(aiolua_runtime_t *rt, const char *want) {
  lua_State *L = aiolua_runtime_lua(rt);
  lua_getglobal(L, "who");
  const char *got = lua_tostring(L, -1);
  CHECK(got && strcmp(got, want) == 0, "who = %s, want %s", got ? got : "nil",
        want);
  lua_pop(L, 1);
}

/* 1. Two runtimes, each with its own loop, stepped in turn by the caller. */
static void test_two_loops(void) {
  aiolua_runtime_t *a = aiolua_runtime_new(NULL, 0);
  aiolua_runtime_t *b = aiolua_runtime_new(NULL, AIOLUA_DEBUG);
  CHECK(a && b && aiolua_runtime_loop(a) != aiolua_runtime_loop(b), "new");
  CHECK(aiolua_runtime_lua(a) != aiolua_runtime_lua(b), "states");
  CHECK(aiolua_runtime_from_lua(aiolua_runtime_lua(b)) == b, "from_lua");
  spawn_workload(a, "A", 500);
  spawn_workload(b, "B", 300);
  int alive_a = 1, alive_b = 1;
  while (alive_a || alive_b) {
    if (alive_a) alive_a = aiolua_runtime_run(a, UV_RUN_NOWAIT);
    if (alive_b) alive_b = aiolua_runtime_run(b, UV_RUN_NOWAIT);
  }
  check_task(a, expected("A", 500).s);
  check_task(b, expected("B", 300).s);
  check_global(a, "A");
  check_global(b, "B");
  aiolua_runtime_free(a);
  aiolua_runtime_free(b);
  printf("ok 1 - two runtimes with their own loops, stepped in turn\n");
}

/* 2. Two runtimes borrowing one application loop, run by uv_run. */
static void test_shared_loop(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  aiolua_runtime_t *a = aiolua_runtime_new(&loop, 0);
  aiolua_runtime_t *b = aiolua_runtime_new(&loop, 0);
  CHECK(aiolua_runtime_loop(a) == &loop && aiolua_runtime_loop(b) == &loop,
        "borrowed loop");
  spawn_workload(a, "A", 200);
  spawn_workload(b, "B", 700);
  spawn_workload(a, "A2", 100);
  uv_run(&loop, UV_RUN_DEFAULT);
  check_task(a, expected("A2", 100).s);
  check_task(b, expected("B", 700).s);
  check_task(a, expected("A", 200).s);
  aiolua_runtime_free(a);
  aiolua_runtime_free(b);
  CHECK(uv_loop_close(&loop) == 0, "the runtimes left handles on the loop");
  printf("ok 2 - two runtimes on one application loop\n");
}

/* run_other(code): runs `code` to completion in runtime B, from a task of
** runtime A (upvalue 1: B), and returns its result. */
static int l_run_other(lua_State *L) {
  aiolua_runtime_t *b = lua_touserdata(L, lua_upvalueindex(1));
  size_t len;
  const char *code = luaL_checklstring(L, 1, &len);
  lua_State *LB = aiolua_runtime_lua(b);
  int status = aiolua_load(b, code, len, "=other", 0);
  if (status == LUA_OK) status = aiolua_run(b, 0, 1);
  lua_pushstring(L, lua_tostring(LB, -1));
  lua_pop(LB, 1);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

/* 3. asyncio.run in one runtime while another one runs: both loops are
** independent, so B may run to completion inside a task of A. */
static void test_nested(void) {
  aiolua_runtime_t *a = aiolua_runtime_new(NULL, 0);
  aiolua_runtime_t *b = aiolua_runtime_new(NULL, 0);
  lua_State *L = aiolua_runtime_lua(a);
  lua_pushlightuserdata(L, b);
  lua_pushcclosure(L, l_run_other, 1);
  lua_setglobal(L, "run_other");
  static const char *code =
      "return async function()\n"
      "  await asyncio.sleep(0.001)\n"
      "  local r = run_other([[await asyncio.sleep(0.002)\n"
      "    return tostring(asyncio.current_task() ~= nil)]])\n"
      "  await asyncio.sleep(0.001)\n"
      "  return 'inner ran in a task: ' .. r\n"
      "end\n";
  int status = aiolua_load(a, code, strlen(code), "=nested", 0);
  if (status == LUA_OK) status = lua_pcall(L, 0, 1, 0);
  if (status == LUA_OK) status = aiolua_run(a, 0, 1);
  const char *got = lua_tostring(L, -1);
  CHECK(status == LUA_OK && got &&
            strcmp(got, "inner ran in a task: true") == 0,
        "%s", got ? got : "(nil)");
  lua_pop(L, 1);
  aiolua_runtime_free(a);
  aiolua_runtime_free(b);
  printf("ok 3 - a runtime run to completion inside a task of another\n");
}

#ifdef EMBED_THREADS
#define NTHREADS 4
#define NROUNDS 5

typedef struct worker {
  pthread_t thread;
  int id, ok;
} worker_t;

/* One thread: NROUNDS runtimes in turn, each running the workload. */
static void *worker_main(void *arg) {
  worker_t *w = arg;
  char name[16];
  snprintf(name, sizeof name, "T%d", w->id);
  for (int round = 0; round < NROUNDS; round++) {
    aiolua_runtime_t *rt = aiolua_runtime_new(NULL, round % 2 ? AIOLUA_DEBUG : 0);
    if (rt == NULL) return NULL;
    lua_State *L = aiolua_runtime_lua(rt);
    if (push_workload(rt) != LUA_OK) return NULL;
    lua_pushstring(L, name);
    lua_pushinteger(L, 100 * (w->id + 1));
    int status = aiolua_run(rt, 2, 1);
    const char *got = lua_tostring(L, -1);
    want_t wv = expected(name, 100 * (w->id + 1));
    const char *want = wv.s;
    if (status != LUA_OK || got == NULL || strcmp(got, want) != 0) {
      fprintf(stderr, "thread %d: got %s, want %s\n", w->id,
              got ? got : "(nil)", want);
      aiolua_runtime_free(rt);
      return NULL;
    }
    aiolua_runtime_free(rt);
  }
  w->ok = 1;
  return NULL;
}

/* 4. One runtime per thread, all running at once. */
static void test_threads(void) {
  worker_t w[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    w[i].id = i;
    w[i].ok = 0;
    CHECK(pthread_create(&w[i].thread, NULL, worker_main, &w[i]) == 0,
          "pthread_create");
  }
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(w[i].thread, NULL);
    CHECK(w[i].ok, "thread %d failed", i);
  }
  printf("ok 4 - %d threads with a runtime each, at the same time\n",
         NTHREADS);
}
#endif

/* 5. SIGPIPE: ignored by a runtime when it has its default action (a
** write to a peer that has gone fails with EPIPE instead of ending the
** process), kept when the host has its own handler. */
static void on_sigpipe(int sig) { (void)sig; }

static void test_sigpipe(void) {
  struct sigaction sa, got;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigpipe;
  sigaction(SIGPIPE, &sa, NULL);
  aiolua_runtime_t *rt = aiolua_runtime_new(NULL, 0);
  sigaction(SIGPIPE, NULL, &got);
  CHECK(got.sa_handler == on_sigpipe, "the host's handler was replaced");
  aiolua_runtime_free(rt);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &sa, NULL);
  rt = aiolua_runtime_new(NULL, 0);
  sigaction(SIGPIPE, NULL, &got);
  CHECK(got.sa_handler == SIG_IGN, "SIGPIPE still ends the process");
  aiolua_runtime_free(rt);
  printf("ok 5 - SIGPIPE ignored unless the host handles it\n");
}

int main(void) {
  test_two_loops();
  test_shared_loop();
  test_nested();
#ifdef EMBED_THREADS
  test_threads();
#endif
  test_sigpipe();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
