/*
** bare-coroutines.c -- the architecture limit for W1 and W4: bare Lua 5.4
** coroutines created, resumed and finished from C, with no scheduler, no
** futures and no event loop.  `spawn N` mirrors W1 (create N coroutines, run
** each to its first yield, then resume each to the end and collect its
** result); `pingpong N` mirrors W4 (N resumes alternating between two
** coroutines).  Prints one RESULT line.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static double bc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A field of /proc/self/status in kB ("VmRSS:", "VmHWM:"). */
static long bc_status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, strlen(field)) == 0)
      kb = strtol(line + strlen(field), NULL, 10);
  fclose(f);
  return kb;
}

/* Runs `chunk` and leaves its one result (the coroutine body) on L. */
static void bc_load(lua_State *L, const char *chunk) {
  if (luaL_loadstring(L, chunk) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "bare-coroutines: %s\n", lua_tostring(L, -1));
    exit(1);
  }
}

/* Resumes `co` with its stack as is; dies on an error.  Returns the
** status (LUA_YIELD or LUA_OK) and leaves the results on co's stack. */
static int bc_resume(lua_State *L, lua_State *co, int nargs, int *nres) {
  int status = lua_resume(co, L, nargs, nres);
  if (status != LUA_OK && status != LUA_YIELD) {
    fprintf(stderr, "bare-coroutines: %s\n", lua_tostring(co, -1));
    exit(1);
  }
  return status;
}

/* W1: N coroutines each yield once (the sleep(0)) then return their
** argument; the results are gathered into a table. */
static void bc_spawn(lua_State *L, long n) {
  long rss0 = bc_status_kb("VmRSS:");
  double t0 = bc_now();
  int nres;
  bc_load(L, "return function(i) coroutine.yield() return i end");
  lua_createtable(L, (int)n, 0);            /* stack: fn, threads */
  for (long i = 1; i <= n; i++) {
    lua_State *co = lua_newthread(L);       /* stack: fn, threads, co */
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);                    /* co: fn */
    lua_pushinteger(co, i);                 /* co: fn, i */
    bc_resume(L, co, 1, &nres);             /* runs to the yield */
    lua_pop(co, nres);
    lua_rawseti(L, 2, i);                   /* threads[i] = co */
  }
  lua_createtable(L, (int)n, 0);            /* stack: fn, threads, results */
  for (long i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);                   /* stack: ..., results, co */
    lua_State *co = lua_tothread(L, -1);
    if (bc_resume(L, co, 0, &nres) != LUA_OK || nres != 1) {
      fprintf(stderr, "bare-coroutines: coroutine %ld did not finish\n", i);
      exit(1);
    }
    lua_xmove(co, L, 1);                    /* stack: ..., results, co, r */
    lua_rawseti(L, 3, i);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, 2, i);                   /* a finished task is dropped */
  }
  double dt = bc_now() - t0;
  lua_settop(L, 0);
  printf("RESULT n=%ld time=%.6f rss0_kb=%ld hwm_kb=%ld\n", n, dt, rss0,
         bc_status_kb("VmHWM:"));
}

/* W4: two coroutines that yield forever; C resumes them in turn. */
static void bc_pingpong(lua_State *L, long n) {
  int nres;
  bc_load(L, "return function() while true do coroutine.yield() end end");
  lua_State *co[2];
  for (int k = 0; k < 2; k++) {
    co[k] = lua_newthread(L);               /* anchored on L's stack */
    lua_pushvalue(L, 1);
    lua_xmove(L, co[k], 1);
  }
  double t0 = bc_now();
  for (long i = 0; i < n; i++) {
    bc_resume(L, co[i & 1], 0, &nres);
    lua_pop(co[i & 1], nres);
  }
  double dt = bc_now() - t0;
  lua_settop(L, 0);
  printf("RESULT n=%ld time=%.6f switches_per_s=%.0f hwm_kb=%ld\n", n, dt,
         (double)n / dt, bc_status_kb("VmHWM:"));
}

/* BC_GC=gen|stop selects Lua's generational collector or none, to show
** how much of a workload is garbage collection (default: incremental). */
static void bc_gcmode(lua_State *L, const char *mode) {
  if (mode && strcmp(mode, "gen") == 0) lua_gc(L, LUA_GCGEN, 0, 0);
  else if (mode && strcmp(mode, "stop") == 0) lua_gc(L, LUA_GCSTOP);
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "spawn") && strcmp(argv[1], "pingpong"))) {
    fprintf(stderr, "usage: %s spawn|pingpong [N]\n", argv[0]);
    return 2;
  }
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  bc_gcmode(L, getenv("BC_GC"));
  if (argv[1][0] == 's') bc_spawn(L, n);
  else bc_pingpong(L, n);
  lua_close(L);
  return 0;
}
