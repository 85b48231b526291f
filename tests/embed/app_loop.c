/*
** app_loop.c -- embedding example (a): a C application that owns its
** uv_loop_t and its own libuv timer, and runs Lua tasks side by side on it.
** The application runs the loop itself (uv_run); aiolua's handles run the
** ready tasks from inside that uv_run.  Each C tick hands an event to Lua,
** which handles it in a task of its own, while a Lua task keeps ticking
** with asyncio.sleep on the same loop.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <aiolua.h>

#define C_TICKS 5

static const char *script =
    "local handled = 0\n"
    "function on_tick(n)                    -- a task per C tick\n"
    "  await asyncio.sleep(0)\n"
    "  handled = handled + 1\n"
    "  print('lua: handled C tick ' .. n)\n"
    "end\n"
    "function ticker()                      -- runs beside the C timer\n"
    "  local beats = 0\n"
    "  while handled < 5 do\n"
    "    await asyncio.sleep(0.003)\n"
    "    beats = beats + 1\n"
    "  end\n"
    "  print('lua: ticker stopped, C ticks handled: ' .. handled)\n"
    "  return beats\n"
    "end\n";

typedef struct app {
  aiolua_runtime_t *rt;
  uv_timer_t timer;
  int ticks;
} app_t;

/* Schedules global function `name`(arg) as a task; 0 on success. */
static int spawn_global(aiolua_runtime_t *rt, const char *name, int arg) {
  lua_State *L = aiolua_runtime_lua(rt);
  lua_getglobal(L, name);
  lua_pushinteger(L, arg);
  if (aiolua_spawn(rt, 1) != LUA_OK) {
    fprintf(stderr, "spawn %s: %s\n", name, lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  lua_pop(L, 1);                           /* the Task */
  return 0;
}

/* The application's own timer: every tick starts a Lua task. */
static void tick_cb(uv_timer_t *t) {
  app_t *app = t->data;
  printf("C: tick %d\n", ++app->ticks);
  fflush(stdout);
  spawn_global(app->rt, "on_tick", app->ticks);
  if (app->ticks == C_TICKS) uv_timer_stop(t);
}

int main(void) {
  uv_loop_t loop;
  app_t app = {0};
  uv_loop_init(&loop);

  app.rt = aiolua_runtime_new(&loop, 0);   /* borrows the app's loop */
  if (app.rt == NULL) return 1;
  lua_State *L = aiolua_runtime_lua(app.rt);
  if (aiolua_load(app.rt, script, strlen(script), "=app", 0) != LUA_OK ||
      lua_pcall(L, 0, 0, 0) != LUA_OK) {
    fprintf(stderr, "app: %s\n", lua_tostring(L, -1));
    return 1;
  }

  lua_getglobal(L, "ticker");
  aiolua_spawn(app.rt, 0);                 /* stack: ticker task */
  int ticker = luaL_ref(L, LUA_REGISTRYINDEX);

  uv_timer_init(&loop, &app.timer);
  app.timer.data = &app;
  uv_timer_start(&app.timer, tick_cb, 10, 10);

  uv_run(&loop, UV_RUN_DEFAULT);           /* the application's loop */

  lua_rawgeti(L, LUA_REGISTRYINDEX, ticker);
  lua_getfield(L, -1, "result");
  lua_insert(L, -2);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK)
    printf("C: loop done after %d ticks; the ticker beat between them: %s\n",
           app.ticks, lua_tointeger(L, -1) >= C_TICKS - 1 ? "yes" : "no");
  lua_pop(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, ticker);

  aiolua_runtime_free(app.rt);
  uv_close((uv_handle_t *)&app.timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
