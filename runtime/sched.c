/*
** sched.c -- the ready queue and the loop runner.
** Design note: the ready queue is a FIFO ring of entries: a task to step,
** a done callback (its fn and future wait in the cbq table), a C waiter,
** or a C call (a call_soon/call_later handle).  A uv_idle_t is active exactly
** while the queue is not empty, so libuv polls without blocking and then
** calls drain(), from any uv_run (ours or an embedding application's).
** drain() runs under one lua_pcall, so no Lua error can longjmp across a
** libuv frame; each Lua callback also runs under its own pcall.  Tasks are
** stepped only here (task.c's aiolua__task_step is the only lua_resume).
** A drain runs what was queued when it started (one generation, as
** CPython's _run_once), then further generations only while no timer is
** due, up to a bound: ping-pong between tasks does not pay a poll per
** switch, due timers run in the order CPython runs them, and a task that
** loops on sleep(0) cannot starve I/O.
*/
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

#define DRAIN_EXTRA 8192 /* entries queued during a drain that it may run */

/* Gives the ring room for at least n entries; -1 if out of memory (the
** ring is then as it was). */
int aiolua__rq_reserve(aiolua_runtime_t *rt, size_t n) {
  if (n <= rt->rq_cap) return 0;
  size_t cap = rt->rq_cap ? rt->rq_cap : 256;
  while (cap < n) cap *= 2;
  rq_entry_t *q = malloc(cap * sizeof *q);
  if (q == NULL) return -1;
  for (size_t i = 0; i < rt->rq_len; i++)
    q[i] = rt->rq[(rt->rq_head + i) % rt->rq_cap];
  free(rt->rq);
  rt->rq = q;
  rt->rq_head = 0;
  rt->rq_cap = cap;
  return 0;
}

/* Room for what may be queued where no error can be raised, with `tasks`
** more tasks alive and `handles` more handles armed: each task and as
** many callbacks, and each handle.  -1 if out of memory. */
int aiolua__rq_reserve_more(aiolua_runtime_t *rt, int tasks, int handles) {
  return aiolua__rq_reserve(rt, 2 * ((size_t)rt->ntasks + (size_t)tasks) +
                                    (size_t)rt->nhandles + (size_t)handles);
}

static void idle_cb(uv_idle_t *h);

/* A push cannot fail: it may run where no error can be raised (a settle,
** a libuv callback, a timer firing).  create_task reserves room for twice
** the tasks alive, call_soon and call_later for each handle, so only a
** flood of done callbacks can still meet a full ring with no memory left,
** which ends the process with a message. */
static rq_entry_t *rq_push(aiolua_runtime_t *rt) {
  if (rt->rq_len == rt->rq_cap && aiolua__rq_reserve(rt, rt->rq_cap + 1) < 0) {
    fprintf(stderr, "aiolua: out of memory for the ready queue\n");
    abort();
  }
  if (rt->rq_len == 0 && !rt->closing) uv_idle_start(&rt->idle, idle_cb);
  return &rt->rq[(rt->rq_head + rt->rq_len++) % rt->rq_cap];
}

/* The newest entry. */
static rq_entry_t *rt_last(aiolua_runtime_t *rt) {
  return &rt->rq[(rt->rq_head + rt->rq_len - 1) % rt->rq_cap];
}

void aiolua__rq_push_task(aiolua_runtime_t *rt, aiolua_task_t *t) {
  if (t->scheduled) return;
  t->scheduled = 1;
  rq_entry_t *e = rq_push(rt);
  e->kind = RQ_TASK;
  e->p = t;
}

void aiolua__rq_push_c(aiolua_runtime_t *rt, aiolua_rqcall_t *call) {
  rq_entry_t *e = rq_push(rt);
  e->kind = RQ_C;
  e->p = call;
}

/* [fn, arg] -> [] : queues fn(arg) (done callbacks).  The pair waits in
** the cbq table, in the same FIFO order as its RQ_CB entry. */
void aiolua__rq_push_cb(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->cbq_ref);
  lua_insert(L, -3);                     /* stack: cbq, fn, arg */
  lua_rawseti(L, -3, rt->cbq_tail + 2);
  lua_rawseti(L, -2, rt->cbq_tail + 1);
  lua_pop(L, 1);
  rt->cbq_tail += 2;
  rq_push(rt)->kind = RQ_CB;
}

/* Room in the cbq table for `pairs` more pairs: its next slots get false
** placeholders, so that queueing there allocates nothing.  Raises when out
** of memory, before anything is queued. */
void aiolua__cbq_reserve(lua_State *L, aiolua_runtime_t *rt, int pairs) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->cbq_ref);
  for (lua_Integer i = rt->cbq_tail + 1; i <= rt->cbq_tail + 2 * pairs; i++) {
    if (lua_rawgeti(L, -1, i) == LUA_TNIL) {
      lua_pushboolean(L, 0);
      lua_rawseti(L, -3, i);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* [w, fut] -> [] : queues the C waiter w for fut; the pair waits in the
** cbq table as RQ_CB's do. */
void aiolua__rq_push_cw(lua_State *L) {
  ((aiolua_cwaiter_t *)lua_touserdata(L, -2))->queued++;
  aiolua__rq_push_cb(L);
  rt_last(aiolua__rt(L))->kind = RQ_CW;
}

/* Queues the one C waiter that the held future f keeps in its UV_CBS
** (FUT_CWONLY, FUT_CWHOLD). */
void aiolua__rq_push_cw1(aiolua_runtime_t *rt, aiolua_future_t *f) {
  f->cw->queued++;
  rq_entry_t *e = rq_push(rt);
  e->kind = RQ_CW1;
  e->p = f;
}

/* [] -> [w] : a new C waiter of `size` bytes (its record first). */
aiolua_cwaiter_t *aiolua__new_cwaiter(lua_State *L, size_t size, int nuv) {
  aiolua_cwaiter_t *w = lua_newuserdatauv(L, size, nuv);
  w->early = NULL;
  w->queued = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, aiolua__rt(L)->mt_cwaiter_ref);
  lua_setmetatable(L, -2);
  return w;
}

/* [] -> [a, b] : takes the oldest pair out of the cbq table. */
static void cbq_take(lua_State *L, aiolua_runtime_t *rt) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->cbq_ref);
  lua_Integer i = rt->cbq_head;
  lua_rawgeti(L, -1, i + 1);
  lua_rawgeti(L, -2, i + 2);             /* stack: cbq, a, b */
  lua_pushnil(L);
  lua_rawseti(L, -4, i + 1);
  lua_pushnil(L);
  lua_rawseti(L, -4, i + 2);
  lua_remove(L, -3);                     /* stack: a, b */
  rt->cbq_head = i + 2;
  if (rt->cbq_head == rt->cbq_tail) rt->cbq_head = rt->cbq_tail = 0;
}

/* Runs the oldest C waiter of the cbq table: no Lua call, no pcall (the
** drain is protected as a whole). */
static void run_cw(lua_State *L, aiolua_runtime_t *rt) {
  int top = lua_gettop(L);
  cbq_take(L, rt);                    /* stack: w, fut */
  aiolua_cwaiter_t *w = lua_touserdata(L, top + 1);
  w->queued--;
  w->fn(L, top + 1, top + 2);
  lua_settop(L, top);
}

/* The same for a held future whose one C waiter is in its UV_CBS. */
static void run_cw1(lua_State *L, aiolua_future_t *f) {
  int top = lua_gettop(L);
  aiolua__future_push_held(L, f);        /* stack: fut */
  aiolua__future_release(L, f);
  lua_getiuservalue(L, top + 1, UV_CBS); /* stack: fut, w */
  lua_pushnil(L);
  lua_setiuservalue(L, top + 1, UV_CBS);
  aiolua_cwaiter_t *w = lua_touserdata(L, top + 2);
  w->queued--;
  w->fn(L, top + 2, top + 1);
  lua_settop(L, top);
}

#define CB_RETRIES 64  /* tries of a callback that cannot even be called */

/* [entry, fn, args...] -> [] or [err] : lua_pcall of a callback through
** aiolua__callback_entry (nargs: fn and its arguments).  When the call
** itself failed before the callback began (a transient shortage: the
** entry could not take the stack room or the CallInfo of the call), sets
** rt->cb_again and returns LUA_OK with the stack as it was before the
** entry: the caller leaves its callback queued, to be tried first at the
** next turn of the loop, up to CB_RETRIES times in a row; then it is
** reported as failed, as an error of the callback would be.  A lost done
** callback left a TaskGroup waiting forever for a child. */
int aiolua__cb_call(lua_State *L, int nargs, int msgh) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  rt->cb_entered = 0;
  int status = lua_pcall(L, nargs, 0, msgh);
  if (status == LUA_OK || rt->cb_entered) {
    if (rt->cb_entered) rt->cb_misses = 0;
    return status;
  }
  if (++rt->cb_misses > CB_RETRIES) {   /* out of memory: stack, CallInfo */
    rt->cb_misses = 0;
    return status;
  }
  lua_pop(L, 1);
  rt->cb_again = 1;
  return LUA_OK;
}

/* Runs the oldest fn(arg) pair of the cbq table (a done callback, arg its
** future); an error goes to the exception handler, as CPython's loop does. */
static void run_cb(lua_State *L, aiolua_runtime_t *rt) {
  int top = lua_gettop(L);
  lua_Integer head = rt->cbq_head, tail = rt->cbq_tail;
  cbq_take(L, rt);                       /* stack: fn, fut */
  lua_pushcfunction(L, aiolua__msgh);
  lua_pushcfunction(L, aiolua__callback_entry);
  lua_pushvalue(L, top + 1);
  lua_pushvalue(L, top + 2);       /* stack: fn, fut, msgh, entry, fn, fut */
  int status = aiolua__cb_call(L, 2, top + 3);
  if (rt->cb_again) {                    /* back in its place: the keys */
    rt->cbq_head = head;                 /* are still in the table, so */
    rt->cbq_tail = tail;                 /* this allocates nothing */
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->cbq_ref);
    lua_pushvalue(L, top + 1);
    lua_rawseti(L, -2, head + 1);
    lua_pushvalue(L, top + 2);
    lua_rawseti(L, -2, head + 2);
  } else if (status != LUA_OK)
    aiolua__report_failure(L, status, "Exception in callback", "callback",
                           top + 1, "future", top + 2);
  lua_settop(L, top);
}

/* 1 if the earliest timer is due. */
static int timer_due(aiolua_runtime_t *rt) {
  uint64_t when;
  if (!aiolua__timer_next(rt, &when)) return 0;
  uv_update_time(rt->loop);
  return when <= uv_now(rt->loop);
}

/* Runs queued entries (see the design note for the bound).  Returns how
** many ran.  Must run in protected mode. */
int aiolua__rq_run(aiolua_runtime_t *rt) {
  lua_State *L = rt->L;
  size_t limit = rt->rq_len + DRAIN_EXTRA, n = 0, gen_end = rt->rq_len;
  while (rt->rq_len > 0 && n < limit) {
    if (n == gen_end) {                  /* a generation boundary */
      if (timer_due(rt)) break;
      gen_end = n + rt->rq_len;
    }
    rq_entry_t e = rt->rq[rt->rq_head];
    rt->rq_head = (rt->rq_head + 1) % rt->rq_cap;
    rt->rq_len--;
    n++;
    switch (e.kind) {
      case RQ_TASK: aiolua__task_step(rt, e.p); break;
      case RQ_CB: run_cb(L, rt); break;
      case RQ_CW: run_cw(L, rt); break;
      case RQ_CW1: run_cw1(L, e.p); break;
      default: ((aiolua_rqcall_t *)e.p)->fn(rt, e.p); break;
    }
    if (rt->cb_again) {                  /* it could not be called: first */
      rt->cb_again = 0;                  /* again, at the next turn */
      rt->rq_head = (rt->rq_head + rt->rq_cap - 1) % rt->rq_cap;
      rt->rq[rt->rq_head] = e;
      rt->rq_len++;
      break;
    }
  }
  if (rt->fresh_hw) aiolua__coro_flush(L, rt);  /* from callbacks */
  return (int)n;
}

static int drain_protected(lua_State *L) {
  aiolua__rq_run(lua_touserdata(L, 1));
  return 0;
}

static void idle_cb(uv_idle_t *h) {
  aiolua_runtime_t *rt = h->data;
  lua_State *L = rt->L;
  lua_pushcfunction(L, drain_protected);
  lua_pushlightuserdata(L, rt);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK && !aiolua__task_step_failed(rt)) {
    if (rt->running && !rt->loop_err) {  /* loop_run raises it */
      lua_rawseti(L, LUA_REGISTRYINDEX, rt->loop_err_ref);
      rt->loop_err = 1;
      uv_stop(rt->loop);
    } else {                             /* no Lua caller to raise in */
      fprintf(stderr, "aiolua: internal error in the scheduler: %s\n",
              lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  if (rt->rq_len == 0) uv_idle_stop(h);
}

/* Runs the loop until task `until` is done (or, with until == NULL, until
** no task is alive).  Returns 0, or -1 if the loop ran out of work first:
** nothing left could ever wake the awaited task.  Raises in L what the
** drain raised (out of memory where a task could not take it), rather
** than run on with work lost. */
int aiolua__loop_run(lua_State *L, aiolua_runtime_t *rt, aiolua_task_t *until) {
  for (;;) {
    if (until ? until->fut.state != FUT_PENDING : rt->ntasks == 0) return 0;
    int alive = uv_run(rt->loop, UV_RUN_ONCE);
    if (rt->loop_err) {
      rt->loop_err = 0;
      lua_rawgeti(L, LUA_REGISTRYINDEX, rt->loop_err_ref);
      lua_pushboolean(L, 0);
      lua_rawseti(L, LUA_REGISTRYINDEX, rt->loop_err_ref);
      lua_error(L);
    }
    if (!alive && rt->rq_len == 0) {
      if (until ? until->fut.state != FUT_PENDING : rt->ntasks == 0) return 0;
      return -1;
    }
  }
}

void aiolua__sched_init(aiolua_runtime_t *rt) {
  uv_idle_init(rt->loop, &rt->idle);
  rt->idle.data = rt;
}

void aiolua__sched_close(aiolua_runtime_t *rt) {
  uv_close((uv_handle_t *)&rt->idle, NULL);
  free(rt->rq);
  rt->rq = NULL;
  rt->rq_len = rt->rq_cap = rt->rq_head = 0;
}
