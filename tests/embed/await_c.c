/*
** await_c.c -- embedding example (b): C functions that Lua awaits.
** work.sum(n) adds 1..n on libuv's thread pool (uv_queue_work) and
** work.delay(ms, text) waits on a uv_timer_t; each returns a future that
** its libuv callback resolves.  When Lua cancels the await (task:cancel,
** wait_for's timeout), the hook given to aiolua_future_on_cancel tears the
** work down.  Here aiolua runs the loop (aiolua_run, as asyncio.run).
*/
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <aiolua.h>

/* ---- work.sum(n): thread pool ------------------------------------------ */

typedef struct sum_op {
  uv_work_t req;
  aiolua_runtime_t *rt;
  aiolua_future_t *fut;      /* NULL once cancelled */
  atomic_int stop;           /* read by the worker thread */
  long long n, total;
} sum_op_t;

static void sum_work(uv_work_t *req) {       /* a pool thread: no Lua */
  sum_op_t *op = req->data;
  long long total = 0;
  for (long long i = 1; i <= op->n; i++) {
    total += i;
    if ((i & 0xfffff) == 0 && atomic_load(&op->stop)) break;
  }
  op->total = total;
}

static void sum_done(uv_work_t *req, int status) {  /* the loop thread */
  sum_op_t *op = req->data;
  (void)status;                 /* UV_ECANCELED if it never started */
  if (op->fut) {
    lua_State *L = aiolua_runtime_lua(op->rt);
    lua_pushinteger(L, (lua_Integer)op->total);
    aiolua_future_resolve(op->fut, L, 1);
  }
  free(op);
}

static void sum_cancel(aiolua_future_t *f, void *data) {
  sum_op_t *op = data;
  (void)f;
  op->fut = NULL;               /* the handle is invalid from now on */
  atomic_store(&op->stop, 1);
  uv_cancel((uv_req_t *)&op->req);  /* sum_done runs either way, frees */
  printf("C: sum cancelled\n");
}

static int l_sum(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  aiolua_future_t *f = aiolua_future_new(L);    /* stack: n, fut */
  sum_op_t *op = n >= 0 ? calloc(1, sizeof *op) : NULL;
  if (op == NULL) {             /* a failed future: await raises */
    aiolua_pusherror(L, "ValueError", n < 0 ? "sum of a negative count"
                                            : "out of memory");
    aiolua_future_reject(f, L);
    return 1;
  }
  op->rt = rt;
  op->fut = f;
  op->n = n;
  op->req.data = op;
  uv_queue_work(aiolua_runtime_loop(rt), &op->req, sum_work, sum_done);
  aiolua_future_on_cancel(f, sum_cancel, op);
  return 1;
}

/* ---- work.delay(ms, text): a timer ------------------------------------- */

typedef struct delay_op {
  uv_timer_t timer;
  aiolua_runtime_t *rt;
  aiolua_future_t *fut;
  char text[64];
} delay_op_t;

static void delay_free(uv_handle_t *h) { free(h->data); }  /* no Lua here */

static void delay_cb(uv_timer_t *t) {
  delay_op_t *op = t->data;
  lua_State *L = aiolua_runtime_lua(op->rt);
  lua_pushstring(L, op->text);
  aiolua_future_resolve(op->fut, L, 1);
  uv_close((uv_handle_t *)t, delay_free);
}

static void delay_cancel(aiolua_future_t *f, void *data) {
  delay_op_t *op = data;
  (void)f;
  uv_timer_stop(&op->timer);
  uv_close((uv_handle_t *)&op->timer, delay_free);
  printf("C: delay cancelled\n");
}

static int l_delay(lua_State *L) {
  lua_Integer ms = luaL_checkinteger(L, 1);
  const char *text = luaL_optstring(L, 2, "");
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  aiolua_future_t *f = aiolua_future_new(L);
  delay_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    aiolua_pusherror(L, "MemoryError", "out of memory");
    aiolua_future_reject(f, L);
    return 1;
  }
  op->rt = rt;
  op->fut = f;
  snprintf(op->text, sizeof op->text, "%s", text);
  uv_timer_init(aiolua_runtime_loop(rt), &op->timer);
  op->timer.data = op;
  uv_timer_start(&op->timer, delay_cb, (uint64_t)(ms > 0 ? ms : 0), 0);
  aiolua_future_on_cancel(f, delay_cancel, op);
  return 1;
}

static int luaopen_work(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"sum", l_sum}, {"delay", l_delay}, {NULL, NULL}
  };
  luaL_newlib(L, funcs);
  return 1;
}

/* ---- the program ------------------------------------------------------- */

static const char *script =
    "local work = require 'work'\n"
    "return async function()\n"
    "  print('sum', await work.sum(1000000))\n"
    "  print('delay', await work.delay(20, 'hello from a timer'))\n"
    "  local both = await asyncio.gather(work.sum(10), work.delay(5, 'x'))\n"
    "  print('gather', both[1], both[2])\n"
    "  local ok, err = pcall(asyncio.await,\n"
    "                        asyncio.wait_for(work.delay(5000, 'never'), 0.02))\n"
    "  print('wait_for', ok, err.type)\n"
    "  local t = asyncio.create_task(function()\n"
    "    return await work.sum(1 << 40)    -- long: cancelled below\n"
    "  end)\n"
    "  await asyncio.sleep(0.02)\n"
    "  t:cancel()\n"
    "  print('task', pcall(asyncio.await, t))\n"
    "  print('reject', pcall(asyncio.await, work.sum(-1)))\n"
    "  return 'done'\n"
    "end\n";

int main(void) {
  aiolua_runtime_t *rt = aiolua_runtime_new(NULL, 0);  /* owns its loop */
  if (rt == NULL) return 1;
  lua_State *L = aiolua_runtime_lua(rt);
  aiolua_preload(rt, "work", luaopen_work);
  int status = aiolua_load(rt, script, strlen(script), "=await_c", 0);
  if (status == LUA_OK) status = lua_pcall(L, 0, 1, 0);  /* main */
  if (status == LUA_OK) status = aiolua_run(rt, 0, 1);
  if (status == LUA_OK) {
    printf("main returned %s\n", lua_tostring(L, -1));
  } else {
    fprintf(stderr, "await_c: %s\n", luaL_tolstring(L, -1, NULL));
    aiolua_traceback(rt);                   /* where a task raised it */
    if (lua_isstring(L, -1)) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  }
  lua_settop(L, 0);
  aiolua_runtime_free(rt);
  return status == LUA_OK ? 0 : 1;
}
