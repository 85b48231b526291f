/*
** test-lifecycle.c -- creates and frees runtimes again and again, each
** time leaving work behind on purpose: tasks still sleeping, a task never
** started, a pending future with a C cancel hook, loop callbacks, queue and
** lock waiters, a failed task.  Run under valgrind (cmake/install.cmake) it
** must leak nothing; on a borrowed loop the runtime must leave no handle.
** usage: embed-lifecycle [rounds]
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "aiolua.h"

static int failures, hooks_run;

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

/* A C operation that never completes by itself: a malloc'd record whose
** cancel hook frees it (so valgrind sees a leak if the hook never runs). */
static void never_cancel(aiolua_future_t *f, void *data) {
  (void)f;
  free(data);
  hooks_run++;
}

static int l_never(lua_State *L) {
  aiolua_future_t *f = aiolua_future_new(L);
  void *op = malloc(64);
  aiolua_future_on_cancel(f, never_cancel, op);
  return 1;
}

static const char *script =
    "local q = asyncio.Queue(1)\n"
    "local lock = asyncio.Lock()\n"
    "return async function(n)\n"
    "  local loop = asyncio.get_running_loop()\n"
    "  -- left running when main returns: cancelled by run\n"
    "  asyncio.create_task(function() await asyncio.sleep(60) end)\n"
    "  asyncio.create_task(function() await never() end)\n"
    "  asyncio.create_task(function() await q:put(1); await q:put(2) end)\n"
    "  local g = await lock:acquire()\n"
    "  asyncio.create_task(function() await lock:acquire() end)\n"
    "  loop:call_later(60, print, 'never printed')\n"
    "  loop:call_soon(function() end)\n"
    "  -- a failed task whose error is retrieved\n"
    "  local bad = asyncio.create_task(function() error('expected') end)\n"
    "  local ok = pcall(asyncio.await, bad)\n"
    "  assert(not ok)\n"
    "  -- a cancelled wait_for and a gather\n"
    "  pcall(asyncio.await, asyncio.wait_for(asyncio.sleep(10), 0.001))\n"
    "  local r = await asyncio.gather(asyncio.sleep(0, n), asyncio.sleep(0.001, 2))\n"
    "  return r[1] + r[2]\n"
    "end\n";

/* One round on an owned loop: aiolua_run, leftovers cancelled by it. */
static void round_owned(int i) {
  aiolua_runtime_t *rt = aiolua_runtime_new(NULL, i % 2 ? AIOLUA_DEBUG : 0);
  CHECK(rt != NULL, "new");
  lua_State *L = aiolua_runtime_lua(rt);
  lua_register(L, "never", l_never);
  int status = aiolua_load(rt, script, strlen(script), "=lifecycle", 0);
  if (status == LUA_OK) status = lua_pcall(L, 0, 1, 0);
  lua_pushinteger(L, i);
  if (status == LUA_OK) status = aiolua_run(rt, 1, 1);
  CHECK(status == LUA_OK && lua_tointeger(L, -1) == i + 2, "round %d: %s", i,
        lua_tostring(L, -1));
  lua_pop(L, 1);
  /* left for aiolua_runtime_free: a spawned task that never ran */
  lua_getglobal(L, "print");
  lua_pushliteral(L, "never printed either");
  aiolua_spawn(rt, 1);
  lua_pop(L, 1);
  aiolua_runtime_free(rt);
}

/* One round on a borrowed loop, run by the caller and stopped early. */
static void round_borrowed(int i) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  aiolua_runtime_t *rt = aiolua_runtime_new(&loop, AIOLUA_PLAIN);
  lua_State *L = aiolua_runtime_lua(rt);
  lua_register(L, "never", l_never);
  static const char *plain =                /* no dialect: AIOLUA_PLAIN */
      "return function()\n"
      "  asyncio.create_task(function() asyncio.sleep(60):await() end)\n"
      "  asyncio.create_task(function() never():await() end)\n"
      "  asyncio.sleep(0.001):await()\n"
      "end\n";
  int status = aiolua_load(rt, plain, strlen(plain), "=borrowed", 0);
  if (status == LUA_OK) status = lua_pcall(L, 0, 1, 0);
  if (status == LUA_OK) status = aiolua_spawn(rt, 0);
  CHECK(status == LUA_OK, "borrowed %d: %s", i, lua_tostring(L, -1));
  lua_pop(L, 1);
  for (int k = 0; k < 5; k++) uv_run(&loop, UV_RUN_NOWAIT);
  aiolua_runtime_free(rt);                 /* tasks still pending */
  CHECK(uv_loop_close(&loop) == 0, "round %d: handles left on the loop", i);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 50;
  for (int i = 0; i < rounds; i++) {
    round_owned(i);
    round_borrowed(i);
  }
  CHECK(hooks_run == 2 * rounds, "cancel hooks ran %d times, want %d",
        hooks_run, 2 * rounds);
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("ok - %d rounds\n", rounds);
  return failures ? 1 : 0;
}
