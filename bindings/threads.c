/*
** threads.c -- asyncio.to_thread's engine (require "aiolua.threads";
** bindings/threads.lua): a function run on libuv's thread pool, in a Lua
** state of its own.
**   run(fn, args...) -> a future of fn's results
** Design note: a Lua state belongs to one thread, so the function cannot
** share the caller's: it is copied into a fresh state made on the worker
** thread (its bytecode, or a C function's address), with its arguments,
** and its results are copied back, as a process pool does in Python.  So
** the function may have no upvalues but _ENV (it sees the worker state's
** own globals, with the standard libraries), and values cross as nil,
** booleans, numbers, strings and tables of them.  Copies are made into
** plain byte buffers on the thread that owns each state; nothing touches
** the caller's state off its thread.  A run that has begun cannot be
** stopped: cancelling the future abandons its results.
*/
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "internal.h"
#include "streams.h"

#define MAX_DEPTH 100                /* nesting of copied tables */

/* ---- a byte buffer, and values copied through it ---------------------- */

typedef struct bytes {
  char *p;
  size_t len, cap, pos;              /* pos: where reading is */
} bytes_t;

static int bytes_put(bytes_t *b, const void *src, size_t n) {
  if (b->cap - b->len < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
  return 0;
}

static int bytes_get(bytes_t *b, void *dst, size_t n) {
  if (b->len - b->pos < n) return -1;
  memcpy(dst, b->p + b->pos, n);
  b->pos += n;
  return 0;
}

/* Appends the value at idx to b, or raises what cannot be copied. */
static void put_value(lua_State *L, bytes_t *b, int idx, int depth) {
  char tag = 0;
  int r = 0;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: tag = 'n'; r = bytes_put(b, &tag, 1); break;
    case LUA_TBOOLEAN:
      tag = lua_toboolean(L, idx) ? 't' : 'f';
      r = bytes_put(b, &tag, 1);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        tag = 'i';
        r = bytes_put(b, &tag, 1) || bytes_put(b, &i, sizeof i);
      } else {
        lua_Number d = lua_tonumber(L, idx);
        tag = 'd';
        r = bytes_put(b, &tag, 1) || bytes_put(b, &d, sizeof d);
      }
      break;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      tag = 's';
      r = bytes_put(b, &tag, 1) || bytes_put(b, &n, sizeof n) ||
          bytes_put(b, s, n);
      break;
    }
    case LUA_TTABLE:
      if (depth >= MAX_DEPTH)
        luaL_error(L, "to_thread: tables nested too deep (or a cycle)");
      luaL_checkstack(L, 3, "to_thread");
      tag = '{';
      if (bytes_put(b, &tag, 1)) break;
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        put_value(L, b, -2, depth + 1);
        put_value(L, b, -1, depth + 1);
        lua_pop(L, 1);
      }
      tag = '}';
      r = bytes_put(b, &tag, 1);
      break;
    default:
      luaL_error(L, "to_thread: a %s cannot cross to another thread",
                 luaL_typename(L, idx));
  }
  if (r) luaL_error(L, "not enough memory");
}

/* [] -> [v] : reads one value from b (raises on a bad buffer or no
** memory). */
static void get_value(lua_State *L, bytes_t *b) {
  char tag = 0;
  if (bytes_get(b, &tag, 1)) luaL_error(L, "to_thread: truncated value");
  switch (tag) {
    case 'n': lua_pushnil(L); return;
    case 't': lua_pushboolean(L, 1); return;
    case 'f': lua_pushboolean(L, 0); return;
    case 'i': {
      lua_Integer i;
      if (bytes_get(b, &i, sizeof i)) break;
      lua_pushinteger(L, i);
      return;
    }
    case 'd': {
      lua_Number d;
      if (bytes_get(b, &d, sizeof d)) break;
      lua_pushnumber(L, d);
      return;
    }
    case 's': {
      size_t n;
      if (bytes_get(b, &n, sizeof n) || b->len - b->pos < n) break;
      lua_pushlstring(L, b->p + b->pos, n);
      b->pos += n;
      return;
    }
    case '{':
      luaL_checkstack(L, 3, "to_thread");
      lua_newtable(L);
      while (b->pos < b->len && b->p[b->pos] != '}') {
        get_value(L, b);
        get_value(L, b);
        if (!lua_isnil(L, -2)) lua_rawset(L, -3); else lua_pop(L, 2);
      }
      b->pos++;
      return;
  }
  luaL_error(L, "to_thread: truncated value");
}

/* ---- a run ------------------------------------------------------------- */

typedef struct run {
  uv_work_t req;
  aiolua_runtime_t *rt;
  aiolua_future_t *fut;              /* NULL once cancelled */
  lua_CFunction cfn;                 /* a C function, or */
  bytes_t code;                      /* a Lua function's bytecode */
  bytes_t args;                      /* the arguments, then the results */
  int nargs, nres;
  int failed;                        /* the results are the error */
} run_t;

static int dump_writer(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  return bytes_put(ud, p, n);
}

/* On the worker's state: [run] -> [] : loads, calls, copies the results. */
static int work_protected(lua_State *L) {
  run_t *w = lua_touserdata(L, 1);
  if (w->cfn) {
    lua_pushcfunction(L, w->cfn);
  } else if (luaL_loadbufferx(L, w->code.p, w->code.len, "=to_thread", "b")) {
    return lua_error(L);
  }
  if (lua_getupvalue(L, -1, 1)) {        /* its _ENV: this state's */
    lua_pop(L, 1);
    lua_pushglobaltable(L);
    lua_setupvalue(L, -2, 1);
  }
  luaL_checkstack(L, w->nargs + LUA_MINSTACK, "to_thread: too many arguments");
  w->args.pos = 0;
  for (int i = 0; i < w->nargs; i++) get_value(L, &w->args);
  int base = lua_gettop(L) - w->nargs - 1;  /* below the function */
  int status = lua_pcall(L, w->nargs, LUA_MULTRET, 0);
  w->args.len = w->args.pos = 0;         /* the results go in its place */
  w->failed = status != LUA_OK;
  w->nres = lua_gettop(L) - base;
  for (int i = base + 1; i <= lua_gettop(L); i++) {
    if (w->failed && !lua_isstring(L, i) && lua_type(L, i) != LUA_TTABLE) {
      luaL_tolstring(L, i, NULL);        /* an error that cannot cross */
      lua_replace(L, i);
    }
    put_value(L, &w->args, i, 0);
  }
  return 0;
}

static void work_cb(uv_work_t *req) {
  run_t *w = req->data;
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    w->failed = -1;
    return;
  }
  luaL_openlibs(L);
  lua_pushcfunction(L, work_protected);
  lua_pushlightuserdata(L, w);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) { /* the copy failed: that error */
    w->args.len = w->args.pos = 0;
    w->failed = 1;
    w->nres = 1;
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    char tag = 's';
    if (s == NULL) s = "to_thread: the call failed", n = strlen(s);
    if (bytes_put(&w->args, &tag, 1) || bytes_put(&w->args, &n, sizeof n) ||
        bytes_put(&w->args, s, n))
      w->failed = -1;
  }
  lua_close(L);
}

static void run_free(run_t *w) {
  free(w->code.p);
  free(w->args.p);
  free(w);
}

/* On the loop's state: [run] -> [results...] */
static int results_protected(lua_State *L) {
  run_t *w = lua_touserdata(L, 1);
  lua_settop(L, 0);
  luaL_checkstack(L, w->nres + LUA_MINSTACK, "to_thread: too many results");
  w->args.pos = 0;
  for (int i = 0; i < w->nres; i++) get_value(L, &w->args);
  return w->nres;
}

static void after_cb(uv_work_t *req, int status) {
  run_t *w = req->data;
  aiolua_future_t *f = w->fut;
  if (f == NULL || status == UV_ECANCELED) {  /* nobody waits for it */
    run_free(w);
    return;
  }
  aiolua_future_on_cancel(f, NULL, NULL);
  lua_State *L = aiolua_runtime_lua(w->rt);
  int top = lua_gettop(L);
  if (w->failed < 0) {                  /* ENOMEM, made under a pcall */
    aiolua__reject_uverror(L, f, "to_thread", UV_ENOMEM);
  } else {
    lua_pushcfunction(L, results_protected);
    lua_pushlightuserdata(L, w);
    if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK || w->failed) {
      lua_settop(L, top + 1);            /* the error (the first value) */
      aiolua_future_reject(f, L);
    } else {
      aiolua_future_resolve(f, L, lua_gettop(L) - top);
    }
  }
  lua_settop(L, top);
  run_free(w);
}

/* A run not yet begun is taken off the pool's queue; one that runs goes
** on, and its results are dropped (after_cb). */
static void cancel_run(aiolua_future_t *f, void *data) {
  run_t *w = data;
  (void)f;
  w->fut = NULL;
  uv_cancel((uv_req_t *)&w->req);
}

/* [w, fn, args...] -> [] : fills run w with fn and its arguments */
static int prepare_protected(lua_State *L) {
  run_t *w = lua_touserdata(L, 1);       /* stack: w, fn, args... */
  if (lua_iscfunction(L, 2)) {
    w->cfn = lua_tocfunction(L, 2);
  } else {
    lua_pushvalue(L, 2);
    if (lua_dump(L, dump_writer, &w->code, 0) != 0)
      luaL_error(L, "not enough memory");
    lua_pop(L, 1);
  }
  w->nargs = lua_gettop(L) - 2;
  for (int i = 3; i <= lua_gettop(L); i++) put_value(L, &w->args, i, 0);
  return 0;
}

/* run(fn, args...) -> future of fn(args...)'s results, from a worker */
static int l_run(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  const char *up1 = lua_getupvalue(L, 1, 1);
  if (up1) lua_pop(L, 1);
  const char *up2 = up1 ? lua_getupvalue(L, 1, 2) : NULL;
  if (up2) lua_pop(L, 1);
  if (lua_iscfunction(L, 1) ? up1 != NULL
                            : (up1 && (strcmp(up1, "_ENV") != 0 || up2)))
    return aiolua_error(L, "ValueError", "to_thread: the function has "
                        "upvalues, which cannot cross to another thread "
                        "(pass what it needs as arguments)");
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  aiolua_future_t *f = aiolua_future_new(L);  /* first: it may raise */
  lua_insert(L, 1);                      /* stack: f, fn, args... */
  run_t *w = calloc(1, sizeof *w);
  if (w == NULL) {
    aiolua_future_cancel(f, NULL);
    return luaL_error(L, "not enough memory");
  }
  lua_pushcfunction(L, prepare_protected);
  lua_pushlightuserdata(L, w);
  lua_rotate(L, 2, 2);                   /* stack: f, prep, w, fn, args... */
  int status = lua_pcall(L, lua_gettop(L) - 2, 0, 0);
  int r = status == LUA_OK ? 0 : -1;
  if (r == 0) {
    w->rt = rt;
    w->fut = f;
    w->req.data = w;
    r = uv_queue_work(aiolua_runtime_loop(rt), &w->req, work_cb, after_cb);
    if (r < 0) aiolua__push_uverror(L, "to_thread", r);
  }
  if (r < 0) {                           /* stack: f, err */
    run_free(w);
    aiolua_future_cancel(f, NULL);
    return lua_error(L);
  }
  aiolua_future_on_cancel(f, cancel_run, w);
  return 1;                              /* f */
}

int luaopen_aiolua_threads(lua_State *L);
int luaopen_aiolua_threads(lua_State *L) {
  static const luaL_Reg funcs[] = {{"run", l_run}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
