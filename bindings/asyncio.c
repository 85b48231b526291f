/*
** asyncio.c -- the C half of the `asyncio` module (require "aiolua.asyncio"):
** run, create_task, sleep, Future, current_task, all_tasks, the loop object
** and its call_soon/call_later/call_at handles.  The combinators (gather,
** wait_for, TaskGroup...) are in asyncio.lua, built on these.
*/
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "fdwatch.h"
#include "signals.h"

#define LOOP_MT "aiolua.Loop"
#define HANDLE_MT "aiolua.Handle"


static void check_running(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  if (!rt->running && !rt->current)
    aiolua_error(L, "RuntimeError", "no running event loop");
}

/* create_task(coro [, opts]) or create_task(fn, ...), in the running
** loop; loop:create_task also in one that is not running yet. */
static int create_task(lua_State *L) {
  int nargs = lua_gettop(L) - 1;
  int opts = 0;
  if (aiolua__iscoro(L, 1) || aiolua_tofuture(L, 1)) {
    opts = lua_istable(L, 2);
    lua_settop(L, opts ? 2 : 1);
    if (opts) lua_insert(L, 1);          /* stack: opts, coro */
    nargs = 0;
  }
  aiolua__task_new(L, nargs);            /* stack: [opts,] task */
  if (opts && lua_getfield(L, 1, "name") != LUA_TNIL) {
    luaL_tolstring(L, -1, NULL);
    aiolua__setextra(L, -3, "name");
  }
  lua_settop(L, opts ? 2 : 1);
  return 1;
}

static int l_create_task(lua_State *L) {
  check_running(L);
  return create_task(L);
}

/* sleep(delay, ...) -> a sleep future resolving to ... */
static int l_sleep(lua_State *L) {
  double delay = luaL_checknumber(L, 1);
  int n = lua_gettop(L) - 1;
  if (n == 0 && !(delay > 0)) {          /* sleep(0): the shared yield */
    lua_pushvalue(L, lua_upvalueindex(1));
    return 1;
  }
  aiolua_sleep_t *s = (aiolua_sleep_t *)aiolua__future_new(
      L, KIND_SLEEP, sizeof(aiolua_sleep_t), FUTURE_NUV);
  s->delay = delay;
  s->fut.nres = n;
  if (n == 1) {
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, UV_RESULT);
  } else if (n > 1) {
    lua_createtable(L, n, 0);
    for (int i = 1; i <= n; i++) {
      lua_pushvalue(L, i + 1);
      lua_rawseti(L, -2, i);
    }
    lua_setiuservalue(L, -2, UV_RESULT);
  }
  return 1;
}

static int l_future(lua_State *L) {
  aiolua__future_new(L, KIND_FUTURE, sizeof(aiolua_future_t), FUTURE_NUV);
  return 1;
}

static int l_current_task(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  if (rt->current) aiolua__pushtask(L, rt->current); else lua_pushnil(L);
  return 1;
}

/* A sleep is a coroutine in Python, not a Future. */
static int l_isfuture(lua_State *L) {
  aiolua_future_t *f = aiolua_tofuture(L, 1);
  lua_pushboolean(L, f != NULL && f->kind != KIND_SLEEP);
  return 1;
}

static int l_isawaitable(lua_State *L) {
  lua_pushboolean(L, aiolua_tofuture(L, 1) || aiolua__iscoro(L, 1) ||
                     aiolua__isawaitable_obj(L, 1));
  return 1;
}

/* iscoroutinefunction(f): f was made by asyncio.async. */
static int l_iscoroutinefunction(lua_State *L) {
  lua_pushboolean(L, aiolua__push_async_body(L, 1));
  return 1;
}

/* 1 if the value at idx is a coroutine as Python sees it: a coroutine
** object, or a sleep (a coroutine in Python). */
static int is_coroutine(lua_State *L, int idx) {
  aiolua_future_t *f = aiolua_tofuture(L, idx);
  return aiolua__iscoro(L, idx) || (f && f->kind == KIND_SLEEP);
}

static int l_iscoroutine(lua_State *L) {
  lua_pushboolean(L, is_coroutine(L, 1));
  return 1;
}

/* ---- handles: call_soon, call_later, call_at -------------------------- */

typedef struct loop loop_t;

typedef struct aiolua_handle {
  aiolua_timer_t timer;
  aiolua_rqcall_t rq;           /* its entry in the ready queue */
  aiolua_runtime_t *rt;
  int cancelled, queued;
  int anchor;                   /* registry ref while armed or queued */
  int repeat;                   /* a signal's: runs each time it is queued */
  int pending;                  /* signals that came while it was queued */
  loop_t *loop;                 /* whose close cancels it, while anchored */
  struct aiolua_handle *next, **prevp;  /* in loop->handles */
  struct aiolua_handle *dnext;  /* in loop->deferred */
  aiolua_handle_owner_fn owner; /* its owner's hook (set_owner) */
  void *owner_data;
} handle_t;

/* A loop object; uservalue 1: the future run_forever waits on. */
struct loop {
  int closed;
  int stopping;   /* stop() came before run_forever */
  aiolua_sig_t *sigs;  /* its signal handlers */
  aiolua_watch_t *watches;  /* its readers and writers */
  handle_t *handles;  /* its handles, anchored: cancelled as it closes */
  handle_t *deferred, **dtail;  /* due while another loop was current:
                                   queued when this one is */
};

/* Takes h out of its loop's list (a closed or collected loop's are out). */
static void handle_unlink(handle_t *h) {
  if (h->loop == NULL) return;
  if (h->next) h->next->prevp = h->prevp;
  *h->prevp = h->next;
  h->loop = NULL;
}

static void handle_unanchor(lua_State *L, handle_t *h) {
  if (h->anchor == LUA_NOREF) return;
  handle_unlink(h);
  luaL_unref(L, LUA_REGISTRYINDEX, h->anchor);
  h->anchor = LUA_NOREF;
  h->rt->nhandles--;
}

static void handle_queue(handle_t *h);

/* The handle's turn in the ready queue (protected by the drain): runs the
** callback unless cancelled meanwhile; an error is reported, as CPython's
** loop does. */
static void handle_run(aiolua_runtime_t *rt, aiolua_rqcall_t *rq) {
  handle_t *h = (handle_t *)((char *)rq - offsetof(handle_t, rq));
  lua_State *L = rt->L;
  h->queued = 0;
  if (h->cancelled) {
    handle_unanchor(L, h);
    return;
  }
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->anchor);
  lua_pushcfunction(L, aiolua__msgh);
  lua_pushcfunction(L, aiolua__callback_entry);
  lua_getiuservalue(L, top + 1, 1);      /* stack: h, msgh, entry, pack */
  int n = (int)(lua_getfield(L, -1, "n"), lua_tointeger(L, -1));
  lua_pop(L, 1);
  if (!h->repeat) h->cancelled = 1;      /* a handle runs once */
  if (!lua_checkstack(L, n + 2)) {       /* no room for its arguments */
    if (!h->repeat) handle_unanchor(L, h);
    lua_pushliteral(L, "stack overflow (too many callback arguments)");
    aiolua__report_failure(L, LUA_ERRERR, "Exception in callback", "handle",
                           top + 1, NULL, 0);
    lua_settop(L, top);
    return;
  }
  for (int i = 1; i <= n + 1; i++) lua_rawgeti(L, top + 4, i);
  lua_remove(L, top + 4);                /* stack: h, msgh, entry, fn, args */
  int status = aiolua__cb_call(L, n + 1, top + 2);
  if (rt->cb_again) {                    /* not called: queued again */
    h->cancelled = 0;
    h->queued = 1;
  } else {
    if (status != LUA_OK) {
      aiolua__report_failure(L, status, "Exception in callback", "handle",
                             top + 1, NULL, 0);
      if (h->owner && !h->cancelled) h->owner(L, h->owner_data, 0);
    }
    if (!h->repeat) handle_unanchor(L, h);
    else if (h->pending > 0 && !h->cancelled) {  /* one run per signal */
      h->pending--;
      handle_queue(h);
    }
  }
  lua_settop(L, top);
}

/* Queues the anchored handle h.  Allocates nothing (the ring has room for
** it or aborts): a timer that fires cannot fail half-way and lose it.  A
** handle of a loop that is not the current one waits for that loop to be
** (CPython's callbacks run when their loop runs; the ready queue is the
** runtime's). */
static void handle_queue(handle_t *h) {
  h->queued = 1;
  loop_t *lp = h->loop;
  if (lp && (void *)lp != h->rt->cur_loop) {
    h->dnext = NULL;
    *lp->dtail = h;
    lp->dtail = &h->dnext;
    return;
  }
  aiolua__rq_push_c(h->rt, &h->rq);
}

void aiolua__handle_signal(handle_t *h) {
  if (h->cancelled) return;
  if (h->queued) h->pending++;
  else handle_queue(h);
}

void aiolua__handle_wake(handle_t *h) {
  if (!h->cancelled && !h->queued) handle_queue(h);
}

static void handle_fire(aiolua_runtime_t *rt, aiolua_timer_t *t) {
  aiolua__timer_stop(rt, t);
  handle_queue((handle_t *)t);
}

/* [fn, args...] at `first`.. -> [handle] : a new handle of loop lp (or of
** none: NULL), anchored, with room in the ready queue. */
static handle_t *new_handle(lua_State *L, int first, loop_t *lp) {
  luaL_checktype(L, first, LUA_TFUNCTION);
  int n = lua_gettop(L) - first;
  aiolua_runtime_t *rt = aiolua__rt(L);
  if (aiolua__rq_reserve_more(rt, 0, 1) < 0) luaL_error(L, "not enough memory");
  handle_t *h = lua_newuserdatauv(L, sizeof *h, 1);
  memset(h, 0, sizeof *h);
  h->rt = aiolua__rt(L);
  h->rq.fn = handle_run;
  h->anchor = LUA_NOREF;
  luaL_setmetatable(L, HANDLE_MT);
  lua_createtable(L, n + 1, 1);
  for (int i = 0; i <= n; i++) {
    lua_pushvalue(L, first + i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, -1);
  h->anchor = luaL_ref(L, LUA_REGISTRYINDEX);
  rt->nhandles++;
  if (lp) {
    h->loop = lp;
    h->next = lp->handles;
    if (h->next) h->next->prevp = &h->next;
    h->prevp = &lp->handles;
    lp->handles = h;
  }
  return h;
}

static loop_t *running_loop(lua_State *L);
static loop_t *open_loop(lua_State *L);

aiolua_handle_t *aiolua__handle_new_repeat(lua_State *L, int first) {
  handle_t *h = new_handle(L, first, running_loop(L));
  h->repeat = 1;
  return h;
}

void aiolua__handle_set_owner(handle_t *h, aiolua_handle_owner_fn fn,
                              void *data) {
  h->owner = fn;
  h->owner_data = data;
}

static int l_call_soon(lua_State *L) {
  handle_queue(new_handle(L, 2, open_loop(L)));
  return 1;
}

static handle_t *call_later(lua_State *L, double delay) {
  handle_t *h = new_handle(L, 3, open_loop(L));
  h->timer.fire = handle_fire;
  if (aiolua__timer_start(h->rt, &h->timer, aiolua__ms(delay)) < 0) {
    handle_unanchor(L, h);
    luaL_error(L, "not enough memory");
  }
  return h;
}

static double loop_time(void) { return (double)uv_hrtime() / 1e9; }

static int l_call_later(lua_State *L) {
  call_later(L, luaL_checknumber(L, 2));
  return 1;
}

static int l_call_at(lua_State *L) {
  call_later(L, luaL_checknumber(L, 2) - loop_time());
  return 1;
}

void aiolua__handle_cancel(lua_State *L, handle_t *h) {
  h->cancelled = 1;
  h->pending = 0;
  aiolua__timer_stop(h->rt, &h->timer);
  if (!h->queued) handle_unanchor(L, h); /* else the queue's turn does */
}

static int l_handle_cancel(lua_State *L) {
  aiolua__handle_cancel(L, aiolua__checkself(L, HANDLE_MT));
  return 0;
}

static int l_handle_cancelled(lua_State *L) {
  lua_pushboolean(L, ((handle_t *)aiolua__checkself(L, HANDLE_MT))->cancelled);
  return 1;
}

static int l_handle_when(lua_State *L) {
  handle_t *h = aiolua__checkself(L, HANDLE_MT);
  lua_pushnumber(L, loop_time() +
                        ((double)h->timer.when - (double)uv_now(h->rt->loop)) / 1e3);
  return 1;
}

/* ---- the loop object --------------------------------------------------- */

static loop_t *checkloop(lua_State *L) {
  return luaL_checkudata(L, 1, LOOP_MT);  /* not checkself: a lazy method's
                                            upvalue is its index */
}

/* The loop at 1, which must not be closed (CPython's _check_closed). */
static loop_t *open_loop(lua_State *L) {
  loop_t *lp = checkloop(L);
  if (lp->closed) aiolua_error(L, "RuntimeError", "Event loop is closed");
  return lp;
}

static int new_loop(lua_State *L) {
  loop_t *lp = lua_newuserdatauv(L, sizeof *lp, 1);
  lp->closed = lp->stopping = 0;
  lp->sigs = NULL;
  lp->watches = NULL;
  lp->handles = NULL;
  lp->deferred = NULL;
  lp->dtail = &lp->deferred;
  luaL_setmetatable(L, LOOP_MT);
  return 1;
}

/* Makes the loop object at idx (or nil) the current one (registry
** "aiolua.loop"), and queues its handles that came due meanwhile. */
static void set_current_loop(lua_State *L, int idx) {
  loop_t *lp = lua_touserdata(L, idx);
  lua_pushvalue(L, idx);
  lua_setfield(L, LUA_REGISTRYINDEX, "aiolua.loop");
  aiolua__rt(L)->cur_loop = lp;
  if (lp == NULL) return;
  for (handle_t *h = lp->deferred; h; h = h->dnext)
    aiolua__rq_push_c(h->rt, &h->rq);
  lp->deferred = NULL;
  lp->dtail = &lp->deferred;
}

/* Forgets lp's deferred handles (it closes): they are in no queue. */
static void drop_deferred(loop_t *lp) {
  for (handle_t *h = lp->deferred; h; h = h->dnext) h->queued = 0;
  lp->deferred = NULL;
  lp->dtail = &lp->deferred;
}

/* The loop of the current run (registry "aiolua.loop"), made on demand. */
static void push_current_loop(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.loop") == LUA_TNIL) {
    lua_pop(L, 1);
    new_loop(L);
    set_current_loop(L, lua_gettop(L));
  }
}

/* The loop of the current run (the registry keeps it). */
static loop_t *running_loop(lua_State *L) {
  push_current_loop(L);
  loop_t *lp = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return lp;
}

/* Cancels every handle of lp, as CPython's closed loop runs none: a
** callback due later, a reader (its owner closes what it reads). */
static void cancel_handles(lua_State *L, loop_t *lp) {
  drop_deferred(lp);
  while (lp->handles) {
    handle_t *h = lp->handles;
    handle_unlink(h);
    if (h->cancelled) continue;          /* a queued one, unanchored later */
    if (h->owner) h->owner(L, h->owner_data, 1);
    aiolua__handle_cancel(L, h);
  }
}

static int l_get_running_loop(lua_State *L) {
  check_running(L);
  push_current_loop(L);
  return 1;
}

static int l_new_event_loop(lua_State *L) { return new_loop(L); }

/* [keep, fn, args...] -> [results...] */
static int run_protected(lua_State *L) {
  int keep = lua_toboolean(L, 1);
  lua_remove(L, 1);
  return aiolua__run_main(L, lua_gettop(L) - 1, keep);
}

/* [fn, args...] (nargs args) -> [results...] or [err] : runs fn as the
** main task with the loop object at loopidx as the running loop, and
** restores the previous one even when the run fails.  Returns a pcall
** status; on success *nres is the number of results. */
static int run_in_loop(lua_State *L, int loopidx, int nargs, int keep,
                       int *nres) {
  int base = lua_gettop(L) - nargs;      /* index of fn */
  lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.loop");
  lua_insert(L, base);                   /* stack: prev, fn, args... */
  loopidx = lua_absindex(L, loopidx);
  set_current_loop(L, loopidx < base ? loopidx : loopidx + 1);
  lua_pushcfunction(L, run_protected);
  lua_pushboolean(L, keep);
  lua_rotate(L, base + 1, 2);            /* stack: prev, run, keep, fn, args */
  int status = lua_pcall(L, nargs + 2, LUA_MULTRET, 0);
  set_current_loop(L, base);
  lua_remove(L, base);
  *nres = lua_gettop(L) - base + 1;
  return status;
}

/* Closes loop lp: its signal handlers, readers and writers go, as
** CPython's close() removes them. */
static void loop_close(lua_State *L, loop_t *lp) {
  lp->closed = 1;
  aiolua__sig_remove_all(L, &lp->sigs);
  aiolua__watch_remove_all(L, &lp->watches);
  cancel_handles(L, lp);
}

/* asyncio.run(main, ...): each run has a new loop, closed when it ends. */
static int l_run(lua_State *L) {
  luaL_checkany(L, 1);
  int nargs = lua_gettop(L) - 1, nres;
  new_loop(L);
  lua_insert(L, 1);                      /* stack: loop, main, args... */
  int status = run_in_loop(L, 1, nargs, 0, &nres);
  loop_close(L, lua_touserdata(L, 1));
  if (status != LUA_OK) return lua_error(L);
  return nres;
}

/* loop:run_until_complete(aw), or (fn, args...) as asyncio.run takes */
static int l_run_until_complete(lua_State *L) {
  checkloop(L);
  luaL_checkany(L, 2);
  open_loop(L);
  if (aiolua_tofuture(L, 2)) {           /* a future: a task awaiting it */
    lua_settop(L, 2);
    lua_pushcfunction(L, aiolua__await);
    lua_insert(L, 2);
  }
  int nres, status = run_in_loop(L, 1, lua_gettop(L) - 2, 1, &nres);
  if (status != LUA_OK) return lua_error(L);
  return nres;
}

/* 1 if the loop object at 1 is the one running. */
static int loop_running(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.loop");
  int r = (rt->running || rt->current) && lua_rawequal(L, -1, 1);
  lua_pop(L, 1);
  return r;
}

/* loop:run_forever(): runs the loop until loop:stop() (its tasks go on
** across runs, as with run_until_complete).  After a stop() that came
** first, what is already scheduled runs once, then it returns. */
static int l_run_forever(lua_State *L) {
  loop_t *lp = open_loop(L);
  lua_settop(L, 1);
  if (loop_running(L))
    return aiolua_error(L, "RuntimeError", "This event loop is already running");
  aiolua_future_t *f = aiolua__future_new(L, KIND_FUTURE,  /* 2: what */
      sizeof(aiolua_future_t), FUTURE_NUV);                /* stop() sets */
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, 1, 1);
  if (lp->stopping) {
    lp->stopping = 0;
    lua_pushvalue(L, 2);
    aiolua__future_settle(L, f, FUT_DONE, 0);
  }
  lua_pushcfunction(L, aiolua__await);
  lua_insert(L, 2);                      /* stack: loop, await, f */
  int nres, status = run_in_loop(L, 1, 1, 1, &nres);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 1);
  if (status != LUA_OK) return lua_error(L);
  return 0;
}

/* loop:stop(): run_forever returns (at once if it is not running yet:
** the next one runs what is scheduled once). */
static int l_loop_stop(lua_State *L) {
  loop_t *lp = checkloop(L);
  if (lua_getiuservalue(L, 1, 1) == LUA_TNIL) {
    lp->stopping = 1;
    return 0;
  }
  aiolua_future_t *f = aiolua_tofuture(L, -1);
  if (f && f->state == FUT_PENDING) aiolua__future_settle(L, f, FUT_DONE, 0);
  return 0;
}

/* loop:set_exception_handler(fn | nil): fn(loop, context) gets what no
** one can catch, as in CPython (an error in a callback, a task's error
** never retrieved); context: message, exception, traceback, and task,
** future, handle or callback. */
static int l_set_exception_handler(lua_State *L) {
  checkloop(L);
  if (!lua_isnil(L, 2) && !lua_isfunction(L, 2) &&
      !luaL_getmetafield(L, 2, "__call"))
    return aiolua_error(L, "TypeError",
                        "A callable object or nil is expected, got %s",
                        luaL_typename(L, 2));
  lua_settop(L, 2);
  if (lua_getfield(L, LUA_REGISTRYINDEX, AIOLUA_EXC_HANDLERS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);                     /* loop -> handler, weak keys */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, AIOLUA_EXC_HANDLERS);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_rawset(L, -3);
  return 0;
}

static int l_get_exception_handler(lua_State *L) {
  checkloop(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, AIOLUA_EXC_HANDLERS) != LUA_TTABLE)
    return 0;
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  return 1;
}

/* loop:call_exception_handler(context): its handler, or the default. */
static int l_call_exception_handler(lua_State *L) {
  checkloop(L);
  return aiolua__call_exception_handler(L);
}

static int l_default_exception_handler(lua_State *L) {
  checkloop(L);
  return aiolua__default_exception_handler(L);
}

static int l_loop_close(lua_State *L) {
  loop_t *lp = checkloop(L);
  aiolua_runtime_t *rt = aiolua__rt(L);
  if (rt->running || rt->current) {
    lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.loop");
    if (lua_rawequal(L, -1, 1))
      return aiolua_error(L, "RuntimeError", "Cannot close a running event loop");
  }
  loop_close(L, lp);
  return 0;
}

/* A loop collected without close() (or at exit) is closed: its signals,
** descriptors and handles go. */
static int l_loop_gc(lua_State *L) {
  loop_close(L, lua_touserdata(L, 1));
  return 0;
}

/* The callback at idx of `what` ("add_reader()"): a function, not a
** coroutine function nor a coroutine object (CPython's TypeError). */
static void check_callback(lua_State *L, int idx, const char *what) {
  if (is_coroutine(L, idx) || aiolua__push_async_body(L, idx))
    aiolua_error(L, "TypeError", "coroutines cannot be used with %s", what);
  if (!lua_isfunction(L, idx))
    aiolua_error(L, "TypeError", "a function was expected, got %s",
                 luaL_typename(L, idx));
}

/* loop:add_signal_handler(sig, callback, args...): callback(args...) runs
** as a callback of the loop each time signal sig (a number, or a name:
** "SIGTERM") comes, instead of what the signal does, until
** remove_signal_handler or the loop closes.  CPython's checks and errors. */
static int l_add_signal_handler(lua_State *L) {
  loop_t *lp = checkloop(L);
  int signum = aiolua__sig_check(L, 2);
  check_callback(L, 3, "add_signal_handler()");
  open_loop(L);
  handle_t *h = new_handle(L, 3, lp);    /* stack: loop, sig, fn, args, h */
  h->repeat = 1;
  aiolua__sig_add(L, &lp->sigs, signum, h);
  return 0;
}

/* loop:remove_signal_handler(sig) -> true if sig had a handler. */
static int l_remove_signal_handler(lua_State *L) {
  loop_t *lp = checkloop(L);
  lua_pushboolean(L, aiolua__sig_remove(L, &lp->sigs, aiolua__sig_check(L, 2)));
  return 1;
}

/* loop:add_reader(file, callback, args...) and add_writer: callback(args...)
** runs as a callback of the loop at each turn while file (a descriptor, a
** Lua file such as io.stdin, or anything with a fileno() method) can be
** read (written) without blocking, until remove_reader (remove_writer) or
** the loop closes.  A second one for the same file replaces the first. */
static int add_watch(lua_State *L, int writing) {
  loop_t *lp = checkloop(L);
  int fd = aiolua__fileno(L, 2);
  check_callback(L, 3, writing ? "add_writer()" : "add_reader()");
  open_loop(L);
  handle_t *h = new_handle(L, 3, lp);    /* stack: loop, file, fn, args, h */
  h->repeat = 1;
  aiolua__watch_add(L, &lp->watches, fd, writing, h);
  return 0;
}

static int l_add_reader(lua_State *L) { return add_watch(L, 0); }
static int l_add_writer(lua_State *L) { return add_watch(L, 1); }

/* loop:remove_reader(file) -> true if file had a reader (remove_writer:
** a writer); false on a closed loop, as in CPython. */
static int remove_watch(lua_State *L, int writing) {
  loop_t *lp = checkloop(L);
  int fd = aiolua__fileno(L, 2);
  lua_pushboolean(L, !lp->closed &&
                     aiolua__watch_remove(L, &lp->watches, fd, writing));
  return 1;
}

static int l_remove_reader(lua_State *L) { return remove_watch(L, 0); }
static int l_remove_writer(lua_State *L) { return remove_watch(L, 1); }

static int l_loop_is_closed(lua_State *L) {
  lua_pushboolean(L, checkloop(L)->closed);
  return 1;
}

static int l_loop_is_running(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  checkloop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.loop");
  lua_pushboolean(L, (rt->running || rt->current) && lua_rawequal(L, -1, 1));
  return 1;
}

static int l_loop_time(lua_State *L) {
  lua_pushnumber(L, loop_time());
  return 1;
}

static int l_loop_create_task(lua_State *L) {
  open_loop(L);
  lua_remove(L, 1);
  return create_task(L);
}

static int l_loop_create_future(lua_State *L) { return l_future(L); }

/* [loop, args...] -> [results...] : calls module.name(args...) of a Lua
** module loaded at its first use. */
static int call_lazy(lua_State *L, const char *module, const char *name,
                     int skip_loop) {
  lua_getglobal(L, "require");
  lua_pushstring(L, module);
  lua_call(L, 1, 1);
  lua_getfield(L, -1, name);
  lua_replace(L, -2);
  if (skip_loop) lua_remove(L, 1);
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* Loop methods written in Lua, in modules loaded at their first use:
** CPython's names, and whether the module's function takes no loop. */
static const struct { const char *name, *module; int skip_loop; } lazy_methods[] = {
  {"create_datagram_endpoint", "asyncio.datagram", 0},
  {"create_connection", "asyncio.protocols", 0},
  {"create_server", "asyncio.protocols", 0},
  {"create_unix_connection", "asyncio.protocols", 0},
  {"create_unix_server", "asyncio.protocols", 0},
  {"connect_read_pipe", "asyncio.protocols", 0},
  {"connect_write_pipe", "asyncio.protocols", 0},
  {"subprocess_exec", "asyncio.subprocess", 0},
  {"subprocess_shell", "asyncio.subprocess", 0},
  {"getaddrinfo", "asyncio.dns", 1},
  {"getnameinfo", "asyncio.dns", 1},
};

/* [loop, args...] -> [results...] : a lazy method (upvalue 1: its index in
** lazy_methods). */
static int l_lazy_method(lua_State *L) {
  checkloop(L);
  int i = (int)lua_tointeger(L, lua_upvalueindex(1));
  return call_lazy(L, lazy_methods[i].module, lazy_methods[i].name,
                   lazy_methods[i].skip_loop);
}

/* [methods, k] -> [method] : the closure of lazy method k, made on its
** first use and kept in the methods table (the loop's __index): a script
** that uses none of them pays for none at start-up. */
static int l_lazy_index(lua_State *L) {
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  for (size_t i = 0; i < sizeof lazy_methods / sizeof lazy_methods[0]; i++) {
    if (strcmp(k, lazy_methods[i].name) != 0) continue;
    lua_pushinteger(L, (lua_Integer)i);
    lua_pushcclosure(L, l_lazy_method, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
  }
  return 0;
}

/* loop:run_in_executor(nil, fn, args...): Python's default executor is
** asyncio.to_thread's thread pool (fn runs in a Lua state of its own). */
static int l_run_in_executor(lua_State *L) {
  checkloop(L);
  if (!lua_isnil(L, 2))
    return aiolua_error(L, "ValueError", "the only executor is the default "
                        "one (nil): asyncio.to_thread's thread pool");
  lua_remove(L, 2);
  return call_lazy(L, "asyncio.threads", "to_thread", 1);
}

static int l_get_event_loop(lua_State *L) {
  push_current_loop(L);
  return 1;
}

static const luaL_Reg loop_methods[] = {
  {"run_until_complete", l_run_until_complete},
  {"run_forever", l_run_forever},
  {"stop", l_loop_stop},
  {"set_exception_handler", l_set_exception_handler},
  {"get_exception_handler", l_get_exception_handler},
  {"call_exception_handler", l_call_exception_handler},
  {"default_exception_handler", l_default_exception_handler},
  {"close", l_loop_close},
  {"is_closed", l_loop_is_closed},
  {"is_running", l_loop_is_running},
  {"time", l_loop_time},
  {"call_soon", l_call_soon},
  {"call_later", l_call_later},
  {"call_at", l_call_at},
  {"create_task", l_loop_create_task},
  {"create_future", l_loop_create_future},
  {"run_in_executor", l_run_in_executor},
  {"add_signal_handler", l_add_signal_handler},
  {"remove_signal_handler", l_remove_signal_handler},
  {"add_reader", l_add_reader}, {"remove_reader", l_remove_reader},
  {"add_writer", l_add_writer}, {"remove_writer", l_remove_writer},
  {NULL, NULL}
};

static const luaL_Reg handle_methods[] = {
  {"cancel", l_handle_cancel},
  {"cancelled", l_handle_cancelled},
  {"when", l_handle_when},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"async", aiolua__async},
  {"await", aiolua__await},
  {"run", l_run},
  {"create_task", l_create_task},
  {"ensure_task", l_create_task},
  {"Future", l_future},
  {"current_task", l_current_task},
  {"all_tasks", aiolua__all_tasks},
  {"isfuture", l_isfuture},
  {"iscoroutine", l_iscoroutine},
  {"iscoroutinefunction", l_iscoroutinefunction},
  {"isawaitable", l_isawaitable},
  {"get_running_loop", l_get_running_loop},
  {"get_event_loop", l_get_event_loop},
  {"new_event_loop", l_new_event_loop},
  {NULL, NULL}
};

int luaopen_aiolua_asyncio(lua_State *L);
int luaopen_aiolua_asyncio(lua_State *L) {
  aiolua__new_class(L, LOOP_MT, loop_methods, l_loop_gc);
  luaL_getmetatable(L, LOOP_MT);
  lua_getfield(L, -1, "__index");        /* the methods table */
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_lazy_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pop(L, 2);
  aiolua__new_class(L, HANDLE_MT, handle_methods, NULL);
  luaL_newlib(L, funcs);
  aiolua__error_funcs(L);
  /* sleep(0) with no result: one shared sleep future that only yields */
  aiolua_sleep_t *s = (aiolua_sleep_t *)aiolua__future_new(
      L, KIND_SLEEP, sizeof(aiolua_sleep_t), FUTURE_NUV);
  s->fut.flags |= FUT_SHARED;
  lua_pushcclosure(L, l_sleep, 1);
  lua_setfield(L, -2, "sleep");
  return 1;
}
