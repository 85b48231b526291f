/*
** future.c -- the future: the one thing a task waits on.
** Design note: a future is a userdata (aiolua_future_t at its head) with
** uservalues for its results, its extra waiters and rarely used fields.
** - It is settled once, by settle() or cancel(); a second settle is an
**   InvalidStateError in Lua and a -1 in C.
** - Settling never runs Lua code: the waiting task (`waiter`, the fast
**   path) and the waiters in UV_CBS are moved to the ready queue, and the
**   scheduler runs them later in FIFO order (CPython's call_soon).
** - A future that C code holds by pointer is anchored in the registry until
**   it is settled or cancelled; the cancel hook runs once, before waiters.
*/
#include <stdio.h>
#include <string.h>
#include "internal.h"

/* Pushes the userdata of an anchored future. */
static void push_anchored(lua_State *L, aiolua_future_t *f) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, f->rt->anchors_ref);
  lua_rawgeti(L, -1, f->anchor);
  lua_replace(L, -2);
}

void aiolua__future_anchor(lua_State *L, aiolua_future_t *f, int idx) {
  if (f->flags & FUT_ANCHORED) return;
  idx = lua_absindex(L, idx);
  lua_rawgeti(L, LUA_REGISTRYINDEX, f->rt->anchors_ref);
  lua_pushvalue(L, idx);
  f->anchor = aiolua__slot_alloc(&f->rt->anchor_slots);
  lua_rawseti(L, -2, f->anchor);
  lua_pop(L, 1);
  f->flags |= FUT_ANCHORED;
}

void aiolua__future_unanchor(lua_State *L, aiolua_future_t *f) {
  if ((f->flags & (FUT_ANCHORED | FUT_CWHOLD)) != FUT_ANCHORED) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, f->rt->anchors_ref);
  aiolua__slot_clear(L, -1, &f->rt->anchor_slots, &f->anchor);
  lua_pop(L, 1);
  f->flags &= ~FUT_ANCHORED;
}

/* Creates a future-like userdata of `size` bytes and pushes it. */
aiolua_future_t *aiolua__future_new(lua_State *L, int kind, size_t size,
                                    int nuv) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  aiolua_future_t *f = lua_newuserdatauv(L, size, nuv);
  memset(f, 0, size);
  f->rt = rt;
  f->kind = (uint8_t)kind;
  f->anchor = LUA_NOREF;
  f->magic = FUT_MAGIC;
  lua_rawgeti(L, LUA_REGISTRYINDEX,
              kind == KIND_TASK ? rt->mt_task_ref : rt->mt_future_ref);
  lua_setmetatable(L, -2);
  return f;
}

/* A future is a full userdata of one of three sizes with FUT_MAGIC and
** this runtime in its record: cheaper than fetching its metatable, and no
** other userdata can pass (a light userdata has length 0).  p and len are
** the block and rawlen of a value (NULL and 0 if it is no userdata). */
aiolua_future_t *aiolua__asfuture(lua_State *L, void *p, size_t len) {
  aiolua_future_t *f = p;
  if (len != sizeof(aiolua_future_t) && len != sizeof(aiolua_task_t) &&
      len != sizeof(aiolua_sleep_t))
    return NULL;
  return f->magic == FUT_MAGIC && f->rt == aiolua__rt(L) ? f : NULL;
}

aiolua_future_t *aiolua_tofuture(lua_State *L, int idx) {
  void *p = lua_touserdata(L, idx);
  return p ? aiolua__asfuture(L, p, lua_rawlen(L, idx)) : NULL;
}

aiolua_future_t *aiolua__checkfuture(lua_State *L, int idx) {
  aiolua_future_t *f = aiolua_tofuture(L, idx);
  if (f == NULL) luaL_typeerror(L, idx, "Future");
  return f;
}

/* Extras: a table in UV_EXTRA created on first write.
** getextra: pushes extras[field] of the future at idx (nil if none). */
int aiolua__getextra(lua_State *L, int idx, const char *field) {
  if (lua_getiuservalue(L, idx, UV_EXTRA) != LUA_TTABLE) return LUA_TNIL;
  int t = lua_getfield(L, -1, field);
  lua_remove(L, -2);
  return t;
}

/* [v] -> [] : extras[field] = v for the future at idx. */
void aiolua__setextra(lua_State *L, int idx, const char *field) {
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, UV_EXTRA) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, UV_EXTRA);
  }
  lua_insert(L, -2);          /* stack: extras, v */
  lua_setfield(L, -2, field);
  lua_pop(L, 1);
}

/* Pushes a CancelledError for a cancelled future at idx. */
void aiolua__push_cancelled(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, UV_RESULT);  /* message or nil */
  const char *msg = lua_tostring(L, -1);
  aiolua_pusherror(L, "CancelledError", "%s", msg ? msg : "");
  lua_remove(L, -2);
}

/* The outcome of the future at idx: pushes its results and returns their
** number, or raises its error (marking it retrieved). */
int aiolua__outcome(lua_State *L, int idx, aiolua_future_t *f) {
  switch (f->state) {
    case FUT_DONE:
      if (f->nres == 1) {
        lua_getiuservalue(L, idx, UV_RESULT);
        return 1;
      }
      if (f->nres == 0) return 0;
      luaL_checkstack(L, f->nres, "too many results");
      lua_getiuservalue(L, idx, UV_RESULT);
      for (int i = 1; i <= f->nres; i++) lua_rawgeti(L, -i, i);
      lua_remove(L, -f->nres - 1);
      return f->nres;
    case FUT_FAILED:
      f->flags |= FUT_RETRIEVED;
      lua_getiuservalue(L, idx, UV_RESULT);
      return lua_error(L);
    case FUT_CANCELLED:
      aiolua__push_cancelled(L, idx);
      return lua_error(L);
    default:
      return aiolua_error(L, "InvalidStateError", "Result is not set.");
  }
}

/* Pushes the first result of the DONE future at idx (nil if none). */
int aiolua__push_first_result(lua_State *L, int idx, aiolua_future_t *f) {
  if (f->nres == 0) {
    lua_pushnil(L);
  } else {
    lua_getiuservalue(L, idx, UV_RESULT);
    if (f->nres > 1) {
      lua_rawgeti(L, -1, 1);
      lua_remove(L, -2);
    }
  }
  return 1;
}

/* A done future whose lone C waiter is queued is held until the waiter
** runs: a task keeps its slot in the task table (finish() leaves it), any
** other future is anchored.  The queue then holds only the pointer. */
static void hold(lua_State *L, int idx, aiolua_future_t *f) {
  if (f->kind != KIND_TASK) aiolua__future_anchor(L, f, idx);
  f->flags |= FUT_CWHOLD;
}

/* Pushes a held future. */
void aiolua__future_push_held(lua_State *L, aiolua_future_t *f) {
  if (f->kind == KIND_TASK) aiolua__pushtask(L, (aiolua_task_t *)f);
  else push_anchored(L, f);
}

/* Ends the hold of a future. */
void aiolua__future_release(lua_State *L, aiolua_future_t *f) {
  f->flags &= ~FUT_CWHOLD;
  if (f->kind != KIND_TASK) {
    aiolua__future_unanchor(L, f);
  } else {                               /* as finish() would have done */
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->rt->tasks_ref);
    aiolua__slot_clear(L, -1, &f->rt->task_slots, &((aiolua_task_t *)f)->ref);
    lua_pop(L, 1);
  }
}

/* Makes sure that scheduling the waiters of the future at idx will need
** no memory: room in the callback queue for its callbacks, and the anchor
** that holding a future for its lone C waiter takes.  Called before a
** settle changes anything: raising here (out of memory) leaves the future
** as it was. */
static void reserve_waiters(lua_State *L, int idx, aiolua_future_t *f) {
  if (!(f->flags & FUT_HASCB)) return;
  if (f->flags & FUT_CWONLY) {
    if (f->kind != KIND_TASK) aiolua__future_anchor(L, f, idx);
    return;
  }
  int n = 1;
  if (f->flags & FUT_CBLIST) {
    lua_getiuservalue(L, idx, UV_CBS);
    n = (int)lua_rawlen(L, -1);
    lua_pop(L, 1);
  }
  aiolua__cbq_reserve(L, f->rt, n);
}

/* Moves the waiters of the future at idx to the ready queue. */
static void schedule_waiters(lua_State *L, int idx, aiolua_future_t *f) {
  aiolua_runtime_t *rt = f->rt;
  if (f->waiter) {
    aiolua__rq_push_task(rt, f->waiter);
    f->waiter = NULL;
  }
  if (!(f->flags & FUT_HASCB)) return;
  if (f->flags & FUT_CWONLY) {
    aiolua_cwaiter_t *w = f->cw;
    f->flags &= ~(FUT_HASCB | FUT_CWONLY);
    if (w->queued == 0 && w->early && w->early(w, f)) {
      lua_pushnil(L);                    /* taken now: let the waiter go */
      lua_setiuservalue(L, idx, UV_CBS);
      return;
    }
    hold(L, idx, f);                     /* it stays in UV_CBS till it runs */
    aiolua__rq_push_cw1(rt, f);
    return;
  }
  int list = f->flags & FUT_CBLIST;
  f->flags &= ~(FUT_HASCB | FUT_CBLIST);
  lua_getiuservalue(L, idx, UV_CBS);      /* take ownership of the list */
  lua_pushnil(L);
  lua_setiuservalue(L, idx, UV_CBS);
  int n = list ? (int)lua_rawlen(L, -1) : 1;
  for (int i = 1; i <= n; i++) {
    if (list) lua_rawgeti(L, -1, i); else lua_pushvalue(L, -1);
    aiolua_task_t *t;
    if (lua_type(L, -1) != LUA_TUSERDATA) {  /* a done callback: fn(fut) */
      lua_pushvalue(L, idx);
      aiolua__rq_push_cb(L);
    } else if ((t = aiolua__totask(L, -1)) != NULL) {
      lua_pop(L, 1);
      aiolua__rq_push_task(rt, t);
    } else {                              /* a C waiter */
      lua_pushvalue(L, idx);
      aiolua__rq_push_cw(L);
    }
  }
  lua_pop(L, 1);
}

/* [values...] -> [] : settles the future at idx with `n` values: results
** (state FUT_DONE) or one error (FUT_FAILED). */
static void settle(lua_State *L, int idx, aiolua_future_t *f, int state,
                   int n) {
  reserve_waiters(L, idx, f);
  if (state != FUT_DONE || n == 1) {
    lua_setiuservalue(L, idx, UV_RESULT);
  } else if (n > 1) {
    lua_createtable(L, n, 0);
    lua_insert(L, -n - 1);
    for (int i = n; i >= 1; i--) lua_rawseti(L, -i - 1, i);
    lua_setiuservalue(L, idx, UV_RESULT);
  }
  f->nres = state == FUT_DONE ? n : 1;
  f->state = (uint8_t)state;
  f->cancel_cb = NULL;
  if (state == FUT_FAILED && !(f->flags & FUT_RETRIEVED)) {
    /* only a failed future needs a finalizer: "never retrieved" */
    aiolua_runtime_t *rt = f->rt;
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->kind == KIND_TASK
                                          ? rt->mt_task_gc_ref
                                          : rt->mt_future_gc_ref);
    lua_setmetatable(L, idx);
  }
  schedule_waiters(L, idx, f);
  aiolua__future_unanchor(L, f);
}

void aiolua__future_settle(lua_State *L, aiolua_future_t *f, int state, int n) {
  /* stack: fut, values... */
  settle(L, lua_absindex(L, -n - 1), f, state, n);
  lua_pop(L, 1);
}

/* Runs the cancel hook of a future that C holds (aiolua_future_new with a
** hook: a file or HTTP request in flight), once: on cancel(), and when
** Lua settles the future itself, so that C lets go of it and stops its
** work; otherwise C would settle it again, or touch it after its
** collection. */
static void release_from_c(aiolua_future_t *f) {
  aiolua_cancel_cb cb = f->cancel_cb;
  f->cancel_cb = NULL;
  if (cb) cb(f, f->cancel_data);
}

/* Cancels the plain future at idx; msgidx is its message or 0.  1 if it was
** pending.  The cancel hook runs before the waiters are scheduled. */
static int cancel(lua_State *L, int idx, aiolua_future_t *f, int msgidx) {
  if (f->state != FUT_PENDING || (f->flags & FUT_SHARED)) return 0;
  if (f->flags & FUT_LUACANCEL) {        /* e.g. gather: cancel children */
    aiolua__getextra(L, idx, "cancel");
    lua_pushvalue(L, idx);
    if (msgidx) lua_pushvalue(L, msgidx); else lua_pushnil(L);
    lua_call(L, 2, 1);
    int r = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return r;
  }
  reserve_waiters(L, idx, f);
  if (f->kind == KIND_SLEEP && (f->flags & FUT_ARMED))
    aiolua__timer_stop(f->rt, &((aiolua_sleep_t *)f)->timer);
  if (msgidx) lua_pushvalue(L, msgidx); else lua_pushnil(L);
  lua_setiuservalue(L, idx, UV_RESULT);
  f->state = FUT_CANCELLED;
  release_from_c(f);
  schedule_waiters(L, idx, f);
  aiolua__future_unanchor(L, f);
  return 1;
}

int aiolua__future_cancel(lua_State *L, aiolua_future_t *f, int msgidx) {
  int idx = lua_absindex(L, -1);  /* the future is on top */
  if (f->kind == KIND_TASK)
    return aiolua__task_cancel(L, (aiolua_task_t *)f, msgidx);
  return cancel(L, idx, f, msgidx);
}

/* [v] -> [] : adds v (a Task or a function) to the extra waiters of the
** future at fidx.  One waiter is kept as is; more make a list. */
static void cbs_add(lua_State *L, int fidx, aiolua_future_t *f) {
  if (!(f->flags & FUT_HASCB)) {
    lua_setiuservalue(L, fidx, UV_CBS);
    f->flags |= FUT_HASCB;
    return;
  }
  if (!(f->flags & FUT_CBLIST)) {
    f->flags &= ~FUT_CWONLY;
    lua_createtable(L, 4, 0);            /* stack: v, list */
    lua_getiuservalue(L, fidx, UV_CBS);
    lua_rawseti(L, -2, 1);
    lua_insert(L, -2);                   /* stack: list, v */
    lua_rawseti(L, -2, 2);
    lua_setiuservalue(L, fidx, UV_CBS);
    f->flags |= FUT_CBLIST;
    return;
  }
  lua_getiuservalue(L, fidx, UV_CBS);
  lua_insert(L, -2);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
}

/* Registers task t as a waiter of f, whose userdata is on top. */
void aiolua__future_add_waiter(lua_State *L, aiolua_future_t *f,
                               aiolua_task_t *t) {
  if (f->waiter == NULL && !(f->flags & FUT_HASCB)) {
    f->waiter = t;
    return;
  }
  int fidx = lua_absindex(L, -1);
  aiolua__pushtask(L, t);
  cbs_add(L, fidx, f);
}

/* ---- sleep futures --------------------------------------------------- */

static void sleep_fire(aiolua_runtime_t *rt, aiolua_timer_t *timer) {
  aiolua_sleep_t *s = (aiolua_sleep_t *)((char *)timer -
                                         offsetof(aiolua_sleep_t, timer));
  lua_State *L = rt->L;
  push_anchored(L, &s->fut);
  reserve_waiters(L, lua_gettop(L), &s->fut);  /* may raise: t stays due */
  aiolua__timer_stop(rt, timer);
  s->fut.flags &= ~FUT_ARMED;
  s->fut.state = FUT_DONE;
  schedule_waiters(L, lua_gettop(L), &s->fut);
  aiolua__future_unanchor(L, &s->fut);
  lua_pop(L, 1);
}

/* Arms the sleep future at the top of the stack (idempotent). */
void aiolua__sleep_arm(lua_State *L, aiolua_sleep_t *s) {
  if (s->fut.flags & FUT_ARMED || s->fut.state != FUT_PENDING) return;
  aiolua__future_anchor(L, &s->fut, -1); /* first: it may raise */
  s->timer.fire = sleep_fire;
  if (aiolua__timer_start(s->fut.rt, &s->timer, aiolua__ms(s->delay)) < 0) {
    aiolua__future_unanchor(L, &s->fut);
    luaL_error(L, "not enough memory");
  }
  s->fut.flags |= FUT_ARMED;
}

/* ---- public C API ---------------------------------------------------- */

aiolua_future_t *aiolua_future_new(lua_State *L) {
  aiolua_future_t *f = aiolua__future_new(L, KIND_FUTURE,
                                          sizeof(aiolua_future_t), FUTURE_NUV);
  aiolua__future_anchor(L, f, -1);
  return f;
}

void aiolua_future_on_cancel(aiolua_future_t *f, aiolua_cancel_cb fn,
                             void *data) {
  f->cancel_cb = fn;
  f->cancel_data = data;
}

/* Protected part of resolve/reject.  stack: fut, state, values... */
static int settle_protected(lua_State *L) {
  aiolua_future_t *f = lua_touserdata(L, 1);
  int state = (int)lua_tointeger(L, 2);
  settle(L, 1, f, state, lua_gettop(L) - 2);
  return 0;
}

/* Settles f from a C callback with the n values on top.  Out of memory,
** it tries once more with a copy of them (a shortage is often over once
** the emergency collection has run), so that one failed allocation does
** not lose the completion and leave its waiter parked for good. */
static int settle_from_c(aiolua_future_t *f, lua_State *L, int state, int n) {
  if (f->state != FUT_PENDING || !(f->flags & FUT_ANCHORED)) {
    lua_pop(L, n);
    return -1;
  }
  int tries = lua_checkstack(L, n + 3) ? 2 : 1, status = LUA_OK;
  for (int i = 1; i <= tries; i++) {
    if (i < tries)                       /* the copy for a second try */
      for (int k = 0; k < n; k++) lua_pushvalue(L, -n);
    lua_pushcfunction(L, settle_protected);
    push_anchored(L, f);
    lua_pushinteger(L, state);
    lua_rotate(L, -n - 3, 3);            /* fn, fut, state, values... */
    status = lua_pcall(L, n + 2, 0, 0);
    if (status == LUA_OK || i == tries || status != LUA_ERRMEM ||
        f->state != FUT_PENDING) {
      if (i < tries) lua_pop(L, n);      /* the copy not used */
      break;
    }
    lua_pop(L, 1);                       /* the memory error: again */
  }
  if (status != LUA_OK) {
    fprintf(stderr, "aiolua: settling a future failed: %s\n",
            lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

int aiolua_future_resolve(aiolua_future_t *f, lua_State *L, int n) {
  return settle_from_c(f, L, FUT_DONE, n);
}

int aiolua_future_reject(aiolua_future_t *f, lua_State *L) {
  return settle_from_c(f, L, FUT_FAILED, 1);
}

/* Protected part of aiolua_future_cancel.  stack: fut, msg */
static int cancel_protected(lua_State *L) {
  aiolua_future_t *f = lua_touserdata(L, 1);
  lua_pushvalue(L, 1);
  lua_pushboolean(L, aiolua__future_cancel(L, f, lua_isnil(L, 2) ? 0 : 2));
  return 1;
}

int aiolua_future_cancel(aiolua_future_t *f, const char *msg) {
  lua_State *L = f->rt->L;
  if (f->state != FUT_PENDING) return 0;
  lua_pushcfunction(L, cancel_protected);
  aiolua_future_push(L, f);
  if (lua_isnil(L, -1)) {                /* not held: nothing to cancel */
    lua_pop(L, 2);
    return 0;
  }
  if (msg) lua_pushstring(L, msg); else lua_pushnil(L);
  int r = 0;
  if (lua_pcall(L, 2, 1, 0) == LUA_OK) r = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

int aiolua_future_done(const aiolua_future_t *f) {
  return f->state != FUT_PENDING;
}

void aiolua_future_push(lua_State *L, aiolua_future_t *f) {
  if (f->kind == KIND_TASK && ((aiolua_task_t *)f)->ref != LUA_NOREF)
    aiolua__pushtask(L, (aiolua_task_t *)f);   /* alive tasks are held */
  else if (f->flags & FUT_ANCHORED)
    push_anchored(L, f);
  else
    lua_pushnil(L);
}

/* ---- Lua methods ----------------------------------------------------- */

static int check_pending(lua_State *L, aiolua_future_t *f) {
  if (f->state != FUT_PENDING)
    return aiolua_error(L, "InvalidStateError", "invalid state: %s",
                        f->state == FUT_CANCELLED ? "cancelled" : "finished");
  return 0;
}

static int l_set_result(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  check_pending(L, f);
  if (f->kind != KIND_FUTURE)
    return luaL_error(L, "set_result() is not allowed on a %s",
                      f->kind == KIND_TASK ? "Task" : "sleep");
  release_from_c(f);
  settle(L, 1, f, FUT_DONE, lua_gettop(L) - 1);
  return 0;
}

/* fut:_wake(values...): set_result unless done, tried once more if it
** runs out of memory -- for the library's done callbacks, which are not
** run twice: a lost wake-up would leave their waiter parked for good. */
static int l_wake(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  int n = lua_gettop(L);
  if (f->state != FUT_PENDING) return 0;
  luaL_checkstack(L, n + 1, "too many values");
  lua_pushcfunction(L, l_set_result);
  for (int i = 1; i <= n; i++) lua_pushvalue(L, i);
  if (lua_pcall(L, n, 0, 0) == LUA_OK || f->state != FUT_PENDING) return 0;
  lua_settop(L, n);                      /* again, unprotected */
  return l_set_result(L);
}

static int l_set_exception(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  luaL_checkany(L, 2);
  check_pending(L, f);
  if (f->kind != KIND_FUTURE)
    return luaL_error(L, "set_exception() is not allowed on a Task");
  lua_settop(L, 2);
  release_from_c(f);
  settle(L, 1, f, FUT_FAILED, 1);
  return 0;
}

static int l_result(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  lua_settop(L, 1);
  return aiolua__outcome(L, 1, f);
}

static int l_exception(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  switch (f->state) {
    case FUT_PENDING:
      return aiolua_error(L, "InvalidStateError", "Exception is not set.");
    case FUT_CANCELLED:
      aiolua__push_cancelled(L, 1);
      return lua_error(L);
    case FUT_FAILED:
      f->flags |= FUT_RETRIEVED;
      lua_getiuservalue(L, 1, UV_RESULT);
      return 1;
    default:
      lua_pushnil(L);
      return 1;
  }
}

static int l_done(lua_State *L) {
  lua_pushboolean(L, aiolua__checkfuture(L, 1)->state != FUT_PENDING);
  return 1;
}

static int l_cancelled(lua_State *L) {
  lua_pushboolean(L, aiolua__checkfuture(L, 1)->state == FUT_CANCELLED);
  return 1;
}

static int l_cancel(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  lua_settop(L, 2);
  lua_pushvalue(L, 1);
  lua_pushboolean(L, aiolua__future_cancel(L, f, lua_isnil(L, 2) ? 0 : 2));
  return 1;
}

/* [fn] -> [] : adds a done callback (a function, or a C waiter) to the
** future at fidx; a done future calls it soon, as CPython does. */
void aiolua__future_add_callback(lua_State *L, int fidx, aiolua_future_t *f) {
  fidx = lua_absindex(L, fidx);
  if (f->state != FUT_PENDING) {
    int cw = lua_type(L, -1) == LUA_TUSERDATA;
    lua_pushvalue(L, fidx);
    if (cw) aiolua__rq_push_cw(L); else aiolua__rq_push_cb(L);
    return;
  }
  if (f->kind == KIND_SLEEP) {
    lua_pushvalue(L, fidx);
    aiolua__sleep_arm(L, (aiolua_sleep_t *)f);
    lua_pop(L, 1);
  }
  aiolua_cwaiter_t *only = !(f->flags & FUT_HASCB) &&
      lua_type(L, -1) == LUA_TUSERDATA ? lua_touserdata(L, -1) : NULL;
  cbs_add(L, fidx, f);
  if (only) {                           /* a C waiter, alone (gather's) */
    f->flags |= FUT_CWONLY;
    f->cw = only;
  }
}

static int l_add_done_callback(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (f->flags & FUT_SHARED)
    return aiolua_error(L, "TypeError", "sleep(0) is a coroutine, not a "
                        "Future: wrap it in create_task to add callbacks");
  lua_settop(L, 2);
  aiolua__future_add_callback(L, 1, f);
  return 0;
}

static int l_remove_done_callback(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  int removed = 0;
  if ((f->flags & FUT_HASCB) && !(f->flags & FUT_CBLIST)) {
    lua_getiuservalue(L, 1, UV_CBS);
    if (lua_rawequal(L, -1, 2)) {
      removed = 1;
      lua_pushnil(L);
      lua_setiuservalue(L, 1, UV_CBS);
      f->flags &= ~FUT_HASCB;
    }
  } else if (f->flags & FUT_HASCB) {
    lua_getiuservalue(L, 1, UV_CBS);
    int n = (int)lua_rawlen(L, 3), j = 1;
    for (int i = 1; i <= n; i++) {
      lua_rawgeti(L, 3, i);
      if (lua_rawequal(L, -1, 2)) {
        removed++;
        lua_pop(L, 1);
      } else {
        lua_rawseti(L, 3, j++);
      }
    }
    for (; j <= n; j++) {
      lua_pushnil(L);
      lua_rawseti(L, 3, j);
    }
  }
  lua_pushinteger(L, removed);
  return 1;
}

/* fut:_set_exception_from(failed): takes over the error of another
** future, with its traceback (gather, shield). */
void aiolua__adopt_exception(lua_State *L, int idx, aiolua_future_t *f,
                             int srcidx, aiolua_future_t *src) {
  idx = lua_absindex(L, idx);
  srcidx = lua_absindex(L, srcidx);
  src->flags |= FUT_RETRIEVED;
  if (aiolua__getextra(L, srcidx, "traceback") != LUA_TNIL)
    aiolua__setextra(L, idx, "traceback");
  else
    lua_pop(L, 1);
  lua_getiuservalue(L, srcidx, UV_RESULT);
  settle(L, idx, f, FUT_FAILED, 1);
}

static int l_set_exception_from(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  aiolua_future_t *src = aiolua__checkfuture(L, 2);
  check_pending(L, f);
  if (f->kind != KIND_FUTURE)
    return luaL_error(L, "_set_exception_from() is not allowed on a %s",
                      f->kind == KIND_TASK ? "Task" : "sleep");
  luaL_argcheck(L, src->state == FUT_FAILED, 2, "future has no exception");
  release_from_c(f);
  aiolua__adopt_exception(L, 1, f, 2, src);
  return 0;
}

/* Lua's cancel override, used by gather: fut:_set_cancel(fn). */
static int l_set_cancel(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  aiolua__setextra(L, 1, "cancel");
  f->flags |= FUT_LUACANCEL;
  return 0;
}

/* sleep():close(), as a coroutine's: an unawaited sleep has nothing to
** release, so this only exists for code that closes coroutines. */
static int l_close(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  if (f->kind != KIND_SLEEP) return luaL_error(L, "close() is for coroutines");
  return 0;
}

/* Marks the exception as seen (gather with return_exceptions does). */
static int l_mark_retrieved(lua_State *L) {
  aiolua__checkfuture(L, 1)->flags |= FUT_RETRIEVED;
  return 0;
}

/* fut:_traceback() -> the traceback of its error, or nil (for a context
** given to the exception handler from Lua). */
static int l_traceback(lua_State *L) {
  aiolua__checkfuture(L, 1);
  if (aiolua__getextra(L, 1, "traceback") != LUA_TSTRING) lua_pushnil(L);
  return 1;
}

static const char *state_name(const aiolua_future_t *f) {
  static const char *const names[] = {"pending", "finished", "finished",
                                      "cancelled"};
  return names[f->state];
}

static int l_tostring(lua_State *L) {
  aiolua_future_t *f = aiolua__checkfuture(L, 1);
  if (f->state == FUT_FAILED) {
    lua_getiuservalue(L, 1, UV_RESULT);
    lua_pushfstring(L, "<Future finished exception=%s>", luaL_tolstring(L, -1, NULL));
  } else if (f->state == FUT_DONE && f->nres >= 1) {
    aiolua__outcome(L, 1, f);
    lua_settop(L, 2);
    lua_pushfstring(L, "<Future finished result=%s>", luaL_tolstring(L, 2, NULL));
  } else {
    lua_pushfstring(L, "<Future %s>", state_name(f));
  }
  return 1;
}

/* Reports an exception nobody retrieved, as CPython does on collection. */
void aiolua__report_unretrieved(lua_State *L, int idx, const char *what) {
  aiolua_future_t *f = aiolua_tofuture(L, idx);  /* __gc is callable */
  if (f == NULL || f->state != FUT_FAILED || (f->flags & FUT_RETRIEVED))
    return;
  f->flags |= FUT_RETRIEVED;
  idx = lua_absindex(L, idx);
  int tb = aiolua__getextra(L, idx, "traceback") == LUA_TSTRING;
  lua_getiuservalue(L, idx, UV_RESULT);   /* stack: tb, err */
  const char *msg = lua_pushfstring(L, "%s exception was never retrieved",
                                    what);
  lua_insert(L, -3);                      /* stack: msg, tb, err */
  aiolua__report_failure(L, LUA_ERRERR, msg,
                         f->kind == KIND_TASK ? "task" : "future", idx,
                         tb ? "traceback" : NULL, -2);
  lua_pop(L, 2);
}

static int l_gc(lua_State *L) {
  aiolua__report_unretrieved(L, 1, "Future");
  return 0;
}

static const luaL_Reg future_methods[] = {
  {"set_result", l_set_result},
  {"set_exception", l_set_exception},
  {"result", l_result},
  {"exception", l_exception},
  {"done", l_done},
  {"cancelled", l_cancelled},
  {"cancel", l_cancel},
  {"add_done_callback", l_add_done_callback},
  {"remove_done_callback", l_remove_done_callback},
  {"await", aiolua__await},
  {"close", l_close},
  {"_set_cancel", l_set_cancel},
  {"_set_exception_from", l_set_exception_from},
  {"_mark_retrieved", l_mark_retrieved},
  {"_traceback", l_traceback},
  {"_wake", l_wake},
  {NULL, NULL}
};

/* Fills the table on top with the Future methods (Task reuses them). */
void aiolua__future_methods(lua_State *L) {
  luaL_setfuncs(L, future_methods, 0);
}

/* Makes the two metatables of a future-like type, sharing the methods
** table at idx_methods: a plain one, and one with __gc that a future gets
** only when it fails (finalizers are costly; only failures need one). */
void aiolua__new_metatables(lua_State *L, const char *name, int idx_methods,
                            lua_CFunction tostring, lua_CFunction gc,
                            int *ref, int *gc_ref) {
  idx_methods = lua_absindex(L, idx_methods);
  for (int withgc = 0; withgc <= 1; withgc++) {
    if (withgc) lua_newtable(L); else luaL_newmetatable(L, name);
    lua_pushvalue(L, idx_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    if (withgc) {
      lua_pushcfunction(L, gc);
      lua_setfield(L, -2, "__gc");
    }
    *(withgc ? gc_ref : ref) = luaL_ref(L, LUA_REGISTRYINDEX);
  }
}

void aiolua__future_open(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  lua_newtable(L);
  aiolua__future_methods(L);
  aiolua__new_metatables(L, AIOLUA_FUTURE_MT, -1, l_tostring, l_gc,
                         &rt->mt_future_ref, &rt->mt_future_gc_ref);
  lua_pop(L, 1);
}
