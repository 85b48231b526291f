/*
** await.c -- async functions, coroutine objects and await.
** asyncio.async(fn) makes an async function; calling it makes a coroutine
** object (fn and its arguments, not started).  Awaiting a coroutine object
** calls fn inline in the current task, as Python does: no new thread.
** Awaiting a future parks the task on it with lua_yieldk (yielding a private
** marker); the scheduler resumes it once the future is done, and the
** continuation returns the results or raises the error.  Awaiting a done
** future returns at once without yielding.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

const char aiolua__await_marker = 0;
const char aiolua__cawait_magic = 0;

/* Coroutine object: uservalues 1 = the body of the async function, 2.. =
** the arguments.  `magic` tells one from other userdata without a
** metatable fetch (the create_task path tests every argument). */
enum { CORO_CREATED, CORO_RUNNING, CORO_DONE, CORO_CLOSED };
static const char coro_magic = 0;
typedef struct coro {
  const void *magic;  /* &coro_magic */
  int nargs;
  int state;
} coro_t;

/* The coroutine object in block p of rawlen len, or NULL. */
static coro_t *ascoro(void *p, size_t len) {
  coro_t *c = p;
  return len == sizeof(coro_t) && c->magic == &coro_magic ? c : NULL;
}

/* The coroutine object at idx, or NULL. */
static coro_t *tocoro(lua_State *L, int idx) {
  void *p = lua_touserdata(L, idx);
  return p ? ascoro(p, lua_rawlen(L, idx)) : NULL;
}

int aiolua__iscoro(lua_State *L, int idx) {
  return tocoro(L, idx) != NULL;
}

/* 1 if the value at idx is an object with its own await method (a table,
** or a userdata whose metatable gives one), other than futures and
** coroutine objects. */
int aiolua__isawaitable_obj(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TTABLE) {
    lua_getfield(L, idx, "await");
  } else if (t == LUA_TUSERDATA && luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
    lua_pop(L, 1);
    lua_getfield(L, idx, "await");
  } else {
    return 0;
  }
  int r = lua_isfunction(L, -1) && lua_tocfunction(L, -1) != aiolua__await;
  lua_pop(L, 1);
  return r;
}

/* "Never awaited" without a finalizer on every coroutine object.  A
** finalizer costs an object two collections and a call of __gc, and
** almost every coroutine object is awaited (or handed to create_task)
** right where it was made.  So a new one goes on the runtime's fresh list
** (a C array, and a registry table that keeps the objects alive), and is
** taken off again when it is claimed straight away, the last one made.  A
** flush -- after each task step, each drain of the ready queue, before
** the state closes, and when the list is long -- gives those still not
** awaited the metatable with __gc (coro_gc reports them when collected)
** and lets the others go. */
#define FRESH_MAX 4096

static void fresh_push(lua_State *L, aiolua_runtime_t *rt, coro_t *c) {
  if (rt->nfresh == FRESH_MAX) aiolua__coro_flush(L, rt);
  if (rt->nfresh == rt->fresh_cap) {
    int cap = rt->fresh_cap ? rt->fresh_cap * 2 : 16;
    void **a = realloc(rt->fresh, (size_t)cap * sizeof *a);
    if (a == NULL) luaL_error(L, "not enough memory");
    rt->fresh = a;
    rt->fresh_cap = cap;
  }
  rt->fresh[rt->nfresh++] = c;           /* stack: coro */
  lua_pushvalue(L, lua_upvalueindex(2)); /* the fresh table */
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, rt->nfresh);
  lua_pop(L, 1);
  if (rt->nfresh > rt->fresh_hw) rt->fresh_hw = rt->nfresh;
}

/* Flushes the fresh list, working on L's stack. */
void aiolua__coro_flush(lua_State *L, aiolua_runtime_t *rt) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->fresh_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->mt_coro_gc_ref);
  for (int i = 0; i < rt->nfresh; i++) {   /* stack: fresh, mt */
    if (((coro_t *)rt->fresh[i])->state != CORO_CREATED) continue;
    lua_rawgeti(L, -2, i + 1);
    lua_pushvalue(L, -2);
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  for (int i = 1; i <= rt->fresh_hw; i++) {  /* slots of claimed ones too */
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
  }
  lua_pop(L, 1);
  rt->nfresh = rt->fresh_hw = 0;
}

/* A coroutine record holds its body and arguments as uservalues, of which
** a userdata has fewer than USHRT_MAX. */
#define CORO_MAXARGS (USHRT_MAX - 2)

/* [] -> [coro] : a coroutine record for nargs arguments in `state`, with
** no metatable and its uservalues still to be set. */
static coro_t *new_coro(lua_State *L, int nargs, int state) {
  if (nargs > CORO_MAXARGS)
    luaL_error(L, "too many arguments (%d; a coroutine takes at most %d)",
               nargs, CORO_MAXARGS);
  coro_t *c = lua_newuserdatauv(L, sizeof(coro_t), nargs + 1);
  c->magic = &coro_magic;
  c->nargs = nargs;
  c->state = state;
  return c;
}

/* An async function's upvalues: its body and the fresh table. */
static int async_call(lua_State *L) {
  int nargs = lua_gettop(L);
  aiolua_runtime_t *rt = aiolua__rt(L);
  coro_t *c = new_coro(L, nargs, CORO_CREATED);
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->mt_coro_ref);
  lua_setmetatable(L, -2);               /* stack: args..., coro */
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setiuservalue(L, -2, 1);           /* the body */
  for (int i = 1; i <= nargs; i++) {
    lua_pushvalue(L, i);
    lua_setiuservalue(L, -2, i + 1);
  }
  fresh_push(L, rt, c);
  return 1;
}

/* The body of the async function at idx, or 0 (nothing pushed) if it is
** not an async function.  Pushes the body. */
int aiolua__push_async_body(lua_State *L, int idx) {
  if (lua_tocfunction(L, idx) != async_call) return 0;
  lua_getupvalue(L, idx, 1);
  return 1;
}

/* asyncio.async(fn [, name]) -> async function */
int aiolua__async(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 2);
  if (lua_isstring(L, 2)) {              /* name the body in tracebacks */
    lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.asyncnames");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  lua_settop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, aiolua__rt(L)->fresh_ref);
  lua_pushcclosure(L, async_call, 2);
  return 1;
}

/* Claims the coroutine object at idx for the one run it may have: marks it
** running, or raises if it was already awaited (or closed). */
void aiolua__coro_claim(lua_State *L, int idx) {
  coro_t *c = lua_touserdata(L, idx);
  if (c->state != CORO_CREATED)
    aiolua_error(L, "RuntimeError", "cannot reuse already awaited coroutine");
  c->state = CORO_RUNNING;
  aiolua_runtime_t *rt = aiolua__rt(L);
  if (rt->nfresh > 0 && rt->fresh[rt->nfresh - 1] == c)
    rt->nfresh--;                        /* made just now: off the list */
}

/* [] -> [body, args...] : pushes what the claimed coroutine object (or
** pack) at idx holds; returns nargs. */
int aiolua__coro_push_body(lua_State *L, int idx) {
  coro_t *c = lua_touserdata(L, idx);
  idx = lua_absindex(L, idx);
  if (c->nargs > LUA_MINSTACK / 2)      /* a C frame has LUA_MINSTACK */
    luaL_checkstack(L, c->nargs + 2, "too many arguments");
  for (int i = 1; i <= c->nargs + 1; i++) lua_getiuservalue(L, idx, i);
  return c->nargs;
}

/* [] -> [body, args...] : claims the coroutine object at idx and unpacks
** it; returns nargs. */
int aiolua__coro_unpack(lua_State *L, int idx) {
  aiolua__coro_claim(L, idx);
  return aiolua__coro_push_body(L, idx);
}

/* [fn, args...] -> [pack] : fn and its nargs arguments in a claimed
** coroutine record with no metatable, for a task to call at its first
** step (create_task(fn, ...)).  Never seen by Lua code. */
void aiolua__coro_pack(lua_State *L, int nargs) {
  int base = lua_gettop(L) - nargs;
  new_coro(L, nargs, CORO_RUNNING);
  lua_insert(L, base);                   /* stack: pack, fn, args... */
  for (int i = nargs + 1; i >= 1; i--) lua_setiuservalue(L, base, i);
}

/* Raises unless L is the thread of the running task: an await (of a
** future, a coroutine object or a C awaitable) runs in that task. */
void aiolua__check_in_task(lua_State *L) {
  aiolua_task_t *t = aiolua__rt(L)->current;
  if (t == NULL)
    aiolua_error(L, "RuntimeError",
                 "await outside a task (use asyncio.run or create_task)");
  if (t->co != L)
    aiolua_error(L, "RuntimeError",
                 "await inside a coroutine that is not the task's own");
}

static int all_k(lua_State *L, int status, lua_KContext ctx) {
  return lua_gettop(L);
}

static int coro_k(lua_State *L, int status, lua_KContext ctx) {
  coro_t *c = lua_touserdata(L, 1);
  c->state = CORO_DONE;
  return lua_gettop(L) - 1;
}

static int await_k(lua_State *L, int status, lua_KContext ctx);

/* Parks the current task on the future at 1 and yields. */
static int park(lua_State *L, aiolua_task_t *t, aiolua_future_t *f) {
  lua_settop(L, 1);
  aiolua__future_add_waiter(L, f, t);
  t->awaiting = f;
  lua_pushlightuserdata(L, AIOLUA_AWAIT_MARKER);
  return lua_yieldk(L, 1, 0, await_k);
}

/* Records where the error of a failed awaited task came from, so the
** awaiting task's traceback can show the chain. */
static void note_cause(lua_State *L, aiolua_task_t *t, aiolua_future_t *f) {
  if (f->state != FUT_FAILED) return;
  int top = lua_gettop(L);
  aiolua__pushtask(L, t);
  if (aiolua__getextra(L, 1, "traceback") == LUA_TSTRING) {
    aiolua__setextra(L, top + 1, "cause_tb");
    lua_getiuservalue(L, 1, UV_RESULT);
    aiolua__setextra(L, top + 1, "cause_err");
  }
  lua_settop(L, top);
}

static int await_k(lua_State *L, int status, lua_KContext ctx) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  aiolua_task_t *t = rt->current;
  aiolua_future_t *f = lua_touserdata(L, 1);
  t->awaiting = NULL;
  if (t->must_cancel && f->state == FUT_CANCELLED) {
    t->must_cancel = 0;                  /* the first cancel's message wins */
  } else if (t->must_cancel) {           /* cancel() while not parked */
    t->must_cancel = 0;
    aiolua__pushtask(L, t);
    aiolua__getextra(L, -1, "cancel_msg");
    return aiolua_error(L, "CancelledError", "%s",
                        lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
  }
  if (f->flags & FUT_SHARED) return 0;   /* sleep(0): yielded once */
  if (f->state == FUT_PENDING) return park(L, t, f);  /* spurious wake-up */
  note_cause(L, t, f);
  return aiolua__outcome(L, 1, f);
}

/* Awaits the future at 1. */
static int await_future(lua_State *L, aiolua_future_t *f) {
  aiolua_runtime_t *rt = f->rt;
  aiolua__check_in_task(L);
  if (f->state != FUT_PENDING) {         /* done: no need to yield */
    lua_settop(L, 1);
    return aiolua__outcome(L, 1, f);
  }
  aiolua_task_t *t = rt->current;
  if (&t->fut == f)
    return aiolua_error(L, "RuntimeError", "a task cannot await itself");
  if (!lua_isyieldable(L))
    return aiolua_error(L, "RuntimeError",
                        "await across a C call boundary (metamethod or "
                        "C function that is not yieldable)");
  if (f->kind == KIND_SLEEP) {
    aiolua_sleep_t *s = (aiolua_sleep_t *)f;
    if (!(s->delay > 0)) {               /* sleep(0): just yield */
      if (!(f->flags & FUT_SHARED)) f->state = FUT_DONE;
      lua_settop(L, 1);
      t->awaiting = f;
      aiolua__rq_push_task(rt, t);
      lua_pushlightuserdata(L, AIOLUA_AWAIT_MARKER);
      return lua_yieldk(L, 1, 0, await_k);
    }
    lua_settop(L, 1);
    aiolua__sleep_arm(L, s);
  }
  return park(L, t, f);
}

/* Awaits the coroutine object at 1: calls its body inline. */
static int await_coro(lua_State *L) {
  aiolua__check_in_task(L);
  lua_settop(L, 1);
  int nargs = aiolua__coro_unpack(L, 1);  /* stack: coro, fn, args... */
  lua_callk(L, nargs, LUA_MULTRET, 0, coro_k);
  return coro_k(L, LUA_OK, 0);
}

/* asyncio.await(aw), aw:await().  Futures and tasks, coroutine objects and
** C awaitables are told by their records, from one look at the userdata
** (its block and its size; a light userdata has size 0): no metatable
** fetch.  A C awaitable's function runs in place of this one, in this
** frame.  Anything else with an await method is called as obj:await(). */
int aiolua__await(lua_State *L) {
  void *p = lua_touserdata(L, 1);
  size_t len = p ? lua_rawlen(L, 1) : 0;
  aiolua_future_t *f = aiolua__asfuture(L, p, len);
  if (f) return await_future(L, f);
  if (ascoro(p, len)) return await_coro(L);
  if (len >= sizeof(aiolua_cawait_t) &&
      ((aiolua_cawait_t *)p)->magic == &aiolua__cawait_magic) {
    lua_settop(L, 1);
    return ((aiolua_cawait_t *)p)->await(L);
  }
  /* any object with its own await method (not this function) */
  if (aiolua__isawaitable_obj(L, 1)) {
    lua_getfield(L, 1, "await");
    if (lua_isfunction(L, -1) && lua_tocfunction(L, -1) != aiolua__await) {
      lua_insert(L, 1);
      lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, all_k);
      return lua_gettop(L);
    }
  }
  return luaL_error(L, "object of type %s can't be awaited",
                    luaL_typename(L, 1));
}

/* ---- coroutine object methods ----------------------------------------- */

/* [] -> [name] : the name given to asyncio.async, or where the body is. */
static void push_coro_name(lua_State *L, int idx) {
  lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.asyncnames");
  lua_getiuservalue(L, idx, 1);          /* stack: names, body */
  lua_pushvalue(L, -1);
  if (lua_rawget(L, -3) != LUA_TSTRING) {  /* stack: names, body, name */
    lua_pop(L, 1);
    lua_Debug ar;
    lua_getinfo(L, ">S", &ar);           /* stack: names */
    lua_pushfstring(L, "function <%s:%d>", ar.short_src, ar.linedefined);
  } else {
    lua_remove(L, -2);
  }
  lua_remove(L, -2);
}

static coro_t *checkcoro(lua_State *L, int idx) {
  coro_t *c = tocoro(L, idx);
  if (c == NULL) luaL_typeerror(L, idx, "coroutine");
  return c;
}

static int coro_tostring(lua_State *L) {
  coro_t *c = checkcoro(L, 1);
  static const char *const st[] = {"created", "running", "done", "closed"};
  push_coro_name(L, 1);
  lua_pushfstring(L, "<coroutine %s %s>", lua_tostring(L, -1), st[c->state]);
  return 1;
}

static int coro_close(lua_State *L) {
  coro_t *c = checkcoro(L, 1);
  if (c->state == CORO_CREATED) c->state = CORO_CLOSED;
  return 0;
}

/* A coroutine object collected without ever being awaited is a bug in the
** program; CPython warns about it, and so do we (only objects flushed from
** the fresh list while still unawaited have this finalizer). */
static int coro_gc(lua_State *L) {
  coro_t *c = tocoro(L, 1);              /* __gc is callable: check */
  if (c == NULL || c->state != CORO_CREATED) return 0;
  push_coro_name(L, 1);
  fprintf(stderr, "RuntimeWarning: coroutine '%s' was never awaited\n",
          lua_tostring(L, -1));
  fflush(stderr);
  return 0;
}

void aiolua__await_open(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"await", aiolua__await}, {"close", coro_close}, {NULL, NULL}};
  aiolua_runtime_t *rt = aiolua__rt(L);
  luaL_newlib(L, methods);
  aiolua__new_metatables(L, AIOLUA_CORO_MT, -1, coro_tostring, coro_gc,
                         &rt->mt_coro_ref, &rt->mt_coro_gc_ref);
  lua_pop(L, 1);
}
