/*
** cmod.c -- a C module for the aiolua binary (require "cmod"), built as Lua
** C modules are: linked to nothing, it takes the Lua API and aiolua's C
** API from the binary that loads it.
**   cmod.after(ms [, v])   an awaitable: a future settled with v (default
**                          "tick") by a libuv timer after ms milliseconds;
**                          cancelling it closes the timer
**   cmod.open_timers()     how many of its timers are not closed yet
*/
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>
#include "aiolua.h"

typedef struct {
  uv_timer_t timer;
  aiolua_future_t *fut;
  lua_State *L;        /* the main thread: callbacks push there */
  int ref;             /* the value to resolve with, in the registry */
} op_t;

static int open_timers;

static void op_free(uv_handle_t *h) {      /* no Lua here */
  free(h->data);
  open_timers--;
}

static void op_done(uv_timer_t *t) {       /* libuv callback: settle only */
  op_t *op = t->data;
  lua_rawgeti(op->L, LUA_REGISTRYINDEX, op->ref);
  luaL_unref(op->L, LUA_REGISTRYINDEX, op->ref);
  aiolua_future_resolve(op->fut, op->L, 1);
  uv_close((uv_handle_t *)t, op_free);
}

static void op_cancel(aiolua_future_t *f, void *data) {  /* Lua gave up */
  op_t *op = data;
  (void)f;
  luaL_unref(op->L, LUA_REGISTRYINDEX, op->ref);
  uv_close((uv_handle_t *)&op->timer, op_free);
}

static int l_after(lua_State *L) {         /* [ms, v] -> [future] */
  lua_Integer ms = luaL_checkinteger(L, 1);
  luaL_argcheck(L, ms >= 0, 1, "must not be negative");
  if (lua_isnoneornil(L, 2)) lua_pushliteral(L, "tick");
  else lua_pushvalue(L, 2);
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  op_t *op = calloc(1, sizeof *op);
  if (op == NULL) return luaL_error(L, "out of memory");
  op->L = aiolua_runtime_lua(rt);
  op->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  op->fut = aiolua_future_new(L);
  uv_timer_init(aiolua_runtime_loop(rt), &op->timer);
  op->timer.data = op;
  open_timers++;
  uv_timer_start(&op->timer, op_done, (uint64_t)ms, 0);
  aiolua_future_on_cancel(op->fut, op_cancel, op);
  return 1;
}

static int l_open_timers(lua_State *L) {
  lua_pushinteger(L, open_timers);
  return 1;
}

int luaopen_cmod(lua_State *L);
int luaopen_cmod(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"after", l_after}, {"open_timers", l_open_timers}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
