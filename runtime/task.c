/*
** task.c -- tasks: a Lua thread plus a future for its outcome.
** Design note: a task is anchored in the runtime's task table from creation
** until it finishes, so the scheduler may hold it by pointer.  Only
** aiolua__task_step resumes a task's thread; it runs from the ready queue.
** The thread is made at the task's first step, not at creation (start()).
** The thread yields only through await (a private marker); any other yield
** fails the task.  When the thread finishes, its results move into the
** task's UV_RESULT, the thread is dropped (a finished task holds only its
** results), and the task is unanchored.  Cancellation is a request:
** cancel() cancels the future the task awaits, or sets must_cancel, and the
** task sees a CancelledError at its await, so its pcall and <close> cleanup
** run.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

aiolua_task_t *aiolua__totask(lua_State *L, int idx) {
  aiolua_future_t *f = aiolua_tofuture(L, idx);
  return f && f->kind == KIND_TASK ? (aiolua_task_t *)f : NULL;
}

static aiolua_task_t *checktask(lua_State *L, int idx) {
  aiolua_task_t *t = aiolua__totask(L, idx);
  if (t == NULL) luaL_typeerror(L, idx, "Task");
  return t;
}

/* Pushes the userdata of an alive task. */
void aiolua__pushtask(lua_State *L, aiolua_task_t *t) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->fut.rt->tasks_ref);
  lua_rawgeti(L, -1, t->ref);
  lua_replace(L, -2);          /* as lua_remove(L, -2), without a rotate */
}

/* A task's thread runs aiolua__task_entry(msgh, fn, args...) (its stack
** is laid out so at creation): it calls fn under a pcall inside the
** thread itself: an error unwinds the task's frames while
** they are still a task, so <close> handlers and pcall cleanup run in the
** task and may await (as Python's finally blocks).  It returns fn's
** results, or FAIL_MARKER and the error. */
static const char fail_marker = 0;
#define FAIL_MARKER ((void *)&fail_marker)

static void push_chained_traceback(lua_State *L, int tidx, aiolua_task_t *t,
                                   int erridx, int level);

/* Message handler of a task body: records the traceback where the error
** was raised, before the stack unwinds; returns the error unchanged. */
static int body_msgh(lua_State *L) {
  aiolua_task_t *t = aiolua__rt(L)->current;
  if (t && t->co == L && !aiolua_iserror(L, 1, "CancelledError")) {
    aiolua__pushtask(L, t);                  /* stack: err, task */
    push_chained_traceback(L, 2, t, 1, 1);
    aiolua__setextra(L, 2, "traceback");
  }
  lua_settop(L, 1);
  return 1;
}

static int body_k(lua_State *L, int status, lua_KContext ctx) {
  (void)ctx;
  if (status != LUA_OK && status != LUA_YIELD) {  /* stack: msgh, err */
    lua_pushlightuserdata(L, FAIL_MARKER);
    lua_insert(L, -2);
    return 2;
  }
  return lua_gettop(L) - 1;                   /* the results, after msgh */
}

int aiolua__task_entry(lua_State *L) {      /* stack: msgh, fn, args... */
  int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 1, 0, body_k);
  return body_k(L, status, 0);
}

/* [fn, args...] -> [task] : creates a task that will call fn(args...) and
** schedules it.  fn may also be a coroutine object (then nargs is 0). */
aiolua_task_t *aiolua__task_new(lua_State *L, int nargs) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  int base = lua_gettop(L) - nargs;  /* index of fn */
  int coro = 0;
  /* room in the ready queue for every task alive and as many callbacks,
  ** so that scheduling one later never needs memory it cannot get */
  if (aiolua__rq_reserve_more(rt, 1, 0) < 0)
    luaL_error(L, "not enough memory");
  if (aiolua__iscoro(L, base)) {
    if (nargs > 0) luaL_error(L, "create_task: a coroutine takes no arguments");
    coro = 1;
  } else if (aiolua_tofuture(L, base) &&
             ((aiolua_future_t *)lua_touserdata(L, base))->kind == KIND_SLEEP) {
    /* sleep() is a coroutine in Python: a task may run it */
    if (nargs > 0) luaL_error(L, "create_task: sleep() takes no arguments");
    lua_pushcfunction(L, aiolua__await);
    lua_insert(L, base);
    nargs = 1;
  } else if (aiolua__isawaitable_obj(L, base)) {
    /* any object with an await method: a task awaits it */
    if (nargs > 0) luaL_error(L, "create_task: an awaitable takes no arguments");
    lua_pushcfunction(L, aiolua__await);
    lua_insert(L, base);
    nargs = 1;
  } else if (aiolua__push_async_body(L, base)) {
    lua_replace(L, base);                /* an async function: its body */
  } else if (lua_type(L, base) != LUA_TFUNCTION) {
    aiolua_error(L, "TypeError", "a coroutine was expected, got %s",
                 aiolua_tofuture(L, base) ? "Future" : luaL_typename(L, base));
  }
  if (coro) aiolua__coro_claim(L, base);  /* stack: coro */
  else aiolua__coro_pack(L, nargs);       /* stack: pack */
  aiolua_task_t *t = (aiolua_task_t *)aiolua__future_new(
      L, KIND_TASK, sizeof(aiolua_task_t), TASK_NUV);
  lua_insert(L, base);                   /* stack: task, pack */
  lua_setiuservalue(L, base, UV_THREAD); /* its thread comes at its start */
  t->id = ++rt->task_seq;
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->tasks_ref);
  lua_pushvalue(L, -2);
  t->ref = aiolua__slot_alloc(&rt->task_slots);
  lua_rawseti(L, -2, t->ref);            /* anchored while alive */
  lua_pop(L, 1);
  rt->ntasks++;
  aiolua__rq_push_task(rt, t);
  return t;
}

static void push_name(lua_State *L, int idx, aiolua_task_t *t) {
  if (aiolua__getextra(L, idx, "name") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushfstring(L, "Task-%d", (int)t->id);
  }
}

/* Pushes the traceback of a failing task: its own, preceded by that of the
** task it awaited when the error came out of that await unchanged. */
static void push_chained_traceback(lua_State *L, int tidx, aiolua_task_t *t,
                                   int erridx, int level) {
  aiolua__pushtraceback(L, t->co, erridx, level);  /* stack: own */
  if (aiolua__getextra(L, tidx, "cause_err") != LUA_TNIL &&
      lua_rawequal(L, -1, erridx)) {
    const char *own = lua_tostring(L, -2), *nl = strchr(own, '\n');
    lua_pop(L, 1);
    aiolua__getextra(L, tidx, "cause_tb");   /* stack: own, cause */
    push_name(L, tidx, t);
    lua_pushfstring(L, "\n(awaited in task '%s')%s", lua_tostring(L, -1),
                    nl ? nl : "");
    lua_remove(L, -2);
    lua_concat(L, 2);                        /* stack: own, full */
    lua_remove(L, -2);
  } else {
    lua_pop(L, 1);
  }
}

/* [] -> [tasks, task, task] : the task table and, twice, the userdata of
** alive task t (one to settle, one to keep); returns the table's index. */
static int push_task_twice(aiolua_runtime_t *rt, aiolua_task_t *t) {
  lua_State *L = rt->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->tasks_ref);
  int tt = lua_gettop(L);
  lua_rawgeti(L, tt, t->ref);
  lua_pushvalue(L, tt + 1);
  return tt;
}

/* The end of a finished task, whose userdata is at tt + 1 over the task
** table at tt: drops its thread (or its unused pack) and unanchors it;
** pops both. */
static void release(aiolua_runtime_t *rt, aiolua_task_t *t, int tt) {
  lua_State *L = rt->L;
  lua_pushnil(L);
  lua_setiuservalue(L, tt + 1, UV_THREAD);
  t->co = NULL;
  if (!(t->fut.flags & FUT_CWHOLD))          /* else when its waiter runs */
    aiolua__slot_clear(L, tt, &rt->task_slots, &t->ref);  /* unanchor */
  rt->ntasks--;
  lua_settop(L, tt - 1);
  if (rt->running && (t == rt->main || rt->ntasks == 0)) uv_stop(rt->loop);
}

/* Finishes task t after its thread returned `status` with `nres` values
** (results, or one error value) on top of its stack. */
static void finish(aiolua_runtime_t *rt, aiolua_task_t *t, int status,
                   int nres) {
  lua_State *L = rt->L, *co = t->co;
  if (!lua_checkstack(L, nres + 5)) {       /* more results than the */
    lua_pop(co, nres);                       /* loop's stack takes: the */
    lua_pushfstring(co, "too many results to return from a task (%d)", nres);
    status = LUA_ERRRUN;                     /* task fails */
    nres = 1;
    luaL_checkstack(L, nres + 5, "too many results");
  }
  int tt = push_task_twice(rt, t);           /* stack: tasks, task, task */
  int tidx = tt + 1;
  int closed = 0;                            /* unwound by the task entry? */
  if (status == LUA_OK && nres == 2 &&
      lua_touserdata(co, -2) == FAIL_MARKER) {
    status = LUA_ERRRUN;
    closed = 1;
    lua_remove(co, -2);
  }
  if (status == LUA_OK) {
    lua_xmove(co, L, nres);
    aiolua__future_settle(L, &t->fut, FUT_DONE, nres);
  } else {
    lua_xmove(co, L, 1);                     /* stack: task, task, err */
    if (aiolua_iserror(L, -1, "CancelledError")) {
      lua_getfield(L, -1, "message");
      lua_remove(L, -2);                     /* stack: task, task, msg */
      t->fut.flags |= FUT_RETRIEVED;
      aiolua__future_settle(L, &t->fut, FUT_CANCELLED, 1);
    } else {
      if (aiolua__getextra(L, tidx, "traceback") == LUA_TNIL) {
        lua_pop(L, 1);                       /* not recorded by body_msgh */
        push_chained_traceback(L, tidx, t, lua_gettop(L), 0);
        aiolua__setextra(L, tidx, "traceback");
      } else {
        lua_pop(L, 1);
      }
      aiolua__future_settle(L, &t->fut, FUT_FAILED, 1);
    }
    if (!closed) {
#if LUA_VERSION_RELEASE_NUM >= 50406
      lua_closethread(co, L);                /* runs pending <close> */
#else
      lua_resetthread(co);
#endif
    }
  }
  release(rt, t, tt);
}

/* Finishes task t, cancelled before its first step, without a thread. */
static void finish_unstarted(aiolua_runtime_t *rt, aiolua_task_t *t) {
  lua_State *L = rt->L;
  int tt = push_task_twice(rt, t);           /* stack: tasks, task, task */
  aiolua__getextra(L, tt + 1, "cancel_msg");
  if (lua_tostring(L, -1) == NULL) {         /* as CancelledError's message: */
    lua_pop(L, 1);                           /* a string or number, or "" */
    lua_pushliteral(L, "");
  }                                          /* stack: tasks, task, task, msg */
  t->fut.flags |= FUT_RETRIEVED;
  aiolua__future_settle(L, &t->fut, FUT_CANCELLED, 1);
  release(rt, t, tt);
}

/* Fails task t, whose start or end ran out of memory (rt->starting,
** rt->finishing), with the error at 2 (1: t as a light userdata), and
** drops its thread; protected.  Settling allocates nothing for a task that
** only tasks and C waiters wait on, so this succeeds where finish() did
** not. */
static int fail_task(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  aiolua_task_t *t = lua_touserdata(L, 1);
  int tt = push_task_twice(rt, t);
  if (t->fut.state == FUT_PENDING) {
    lua_pushvalue(L, 2);                     /* stack: t, err, tasks, task,
                                                task, err */
    aiolua__future_settle(L, &t->fut, FUT_FAILED, 1);
  } else {
    lua_pop(L, 1);
  }
  release(rt, t, tt);
  return 0;
}

/* Fails task t with the error on top of L (popped); a task that cannot
** even be failed stays a zombie, tried again when it is stepped. */
static void fail_in_step(aiolua_runtime_t *rt, aiolua_task_t *t) {
  lua_State *L = rt->L;
  lua_pushcfunction(L, fail_task);
  lua_pushlightuserdata(L, t);
  lua_rotate(L, -3, 2);                      /* stack: fail_task, t, err */
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    t->zombie = 1;
  } else {
    t->zombie = 0;
  }
}

/* [err] -> [] : the drain stopped on err; if it came from a task's start
** (a thread it could not make) or its end (an outcome it could not
** record), that task fails with it rather than stay pending for good.
** Returns 1 if it did. */
int aiolua__task_step_failed(aiolua_runtime_t *rt) {
  aiolua_task_t *t = rt->starting ? rt->starting : rt->finishing;
  if (t == NULL) return 0;
  rt->starting = rt->finishing = NULL;
  fail_in_step(rt, t);
  return 1;
}

/* --debug: warns about a step that held the loop too long. */
static void slow_check(aiolua_runtime_t *rt, aiolua_task_t *t, uint64_t t0) {
  double dt = (double)(uv_hrtime() - t0) / 1e9;
  if (dt >= 0.1)
    fprintf(stderr, "Executing <Task name='Task-%u'> took %.3f seconds\n",
            t->id, dt);
  (void)rt;
}

/* Gives task t its thread, at its first step: the thread is made just
** before it runs (its memory still in the cache), a task cancelled before
** it starts never makes one, and spawning many tasks touches only their
** records.  The task's UV_THREAD held the pack (a coroutine object, or fn
** and its arguments); the thread replaces it.  Returns the thread, its
** stack laid out for aiolua__task_entry. */
static lua_State *start(aiolua_runtime_t *rt, aiolua_task_t *t) {
  lua_State *L = rt->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->tasks_ref);
  lua_rawgeti(L, -1, t->ref);            /* stack: tasks, task */
  lua_State *co = lua_newthread(L);      /* stack: tasks, task, co */
  aiolua__mark_task_thread(co);
  lua_pushcfunction(co, aiolua__task_entry);
  lua_pushcfunction(co, body_msgh);      /* entry's first argument */
  lua_getiuservalue(L, -2, UV_THREAD);   /* stack: tasks, task, co, pack */
  int nargs = aiolua__coro_push_body(L, -1);
  if (!lua_checkstack(co, nargs + 1))    /* a new thread has ~40 free */
    luaL_error(L, "too many arguments for a task (%d)", nargs);
  lua_xmove(L, co, nargs + 1);           /* co: entry, msgh, fn, args... */
  lua_settop(L, -2);                     /* stack: tasks, task, co */
  lua_setiuservalue(L, -2, UV_THREAD);
  lua_settop(L, -3);
  t->co = co;
  return co;
}

/* Runs task t until its next await.  The only caller of lua_resume. */
void aiolua__task_step(aiolua_runtime_t *rt, aiolua_task_t *t) {
  t->scheduled = 0;
  lua_State *co = t->co;
  int nargs = 0, nres = 0, status;
  if (t->zombie) {                       /* its end, again */
    lua_pushliteral(rt->L, "not enough memory");
    fail_in_step(rt, t);
    return;
  }
  if (!t->started) {
    t->started = 1;
    if (t->must_cancel) {                /* cancelled before it ran */
      finish_unstarted(rt, t);
      return;
    }
    rt->starting = t;                    /* until its thread is made */
    co = start(rt, t);
    rt->starting = NULL;
    nargs = lua_gettop(co) - 1;
  } else if (co == NULL) {
    return;                              /* finished meanwhile */
  }
  aiolua_task_t *prev = rt->current;
  rt->current = t;
  uint64_t t0 = (rt->flags & AIOLUA_DEBUG) ? uv_hrtime() : 0;
  status = lua_resume(co, rt->L, nargs, &nres);
  rt->current = prev;
  if (rt->fresh_hw) aiolua__coro_flush(rt->L, rt);
  if (t0) slow_check(rt, t, t0);
  if (status == LUA_YIELD) {
    if (nres == 1 && lua_touserdata(co, -1) == AIOLUA_AWAIT_MARKER) {
      lua_pop(co, 1);
      return;                            /* parked, or queued again */
    }
    lua_pop(co, nres);
    lua_pushfstring(co, "a task yielded with coroutine.yield; use await "
                        "(or run the generator in its own coroutine)");
    status = LUA_ERRRUN;
    nres = 1;
  }
  rt->finishing = t;                     /* until its outcome is recorded */
  finish(rt, t, status, nres);
  rt->finishing = NULL;
}

/* Requests cancellation of task t; msgidx is the message or 0.  Returns 1
** if the request was taken (the task was not done). */
int aiolua__task_cancel(lua_State *L, aiolua_task_t *t, int msgidx) {
  /* As CPython's Task.cancel: a task parked on a future cancels that
  ** future instead, recursively down a chain of tasks awaiting tasks; the
  ** last one that cannot pass it on takes the request itself.  Walked in
  ** a loop, marking the chain: a recursion overflowed the C stack on long
  ** chains and never ended on a cycle of tasks awaiting each other. */
  aiolua_task_t *cur = t, *prev = NULL;
  int taken = 0;
  for (;;) {
    if (cur->fut.state != FUT_PENDING || cur->cancel_walk) {
      cur = prev;                        /* done, or a cycle: prev takes it */
      break;
    }
    cur->cancel_walk = 1;
    cur->ncancel++;
    aiolua_future_t *f = cur->awaiting;
    if (f && f->kind == KIND_TASK) {
      prev = cur;
      cur = (aiolua_task_t *)f;
      continue;
    }
    if (f) {
      /* the awaited future is argument 1 of await, the parked frame */
      lua_pushvalue(cur->co, 1);
      lua_xmove(cur->co, L, 1);
      taken = aiolua__future_cancel(L, f, msgidx);
      lua_pop(L, 1);
    }
    break;
  }
  if (!taken && cur != NULL && cur->zombie) {  /* its end, again */
    aiolua__rq_push_task(aiolua__rt(L), cur);
    taken = 1;
  }
  if (!taken && cur != NULL) {
    cur->must_cancel = 1;
    aiolua__pushtask(L, cur);
    if (msgidx) lua_pushvalue(L, msgidx); else lua_pushnil(L);
    aiolua__setextra(L, -2, "cancel_msg");
    lua_pop(L, 1);
    /* parked on a task of its cycle, nothing would wake it: its await
    ** raises CancelledError when it runs (await_k) */
    if (cur->awaiting && cur->awaiting->state == FUT_PENDING)
      aiolua__rq_push_task(aiolua__rt(L), cur);
    taken = 1;
  }
  for (aiolua_task_t *x = t; x && x->cancel_walk;) {  /* unmark */
    x->cancel_walk = 0;
    aiolua_future_t *f = x->awaiting;
    x = f && f->kind == KIND_TASK ? (aiolua_task_t *)f : NULL;
  }
  return taken;
}

/* ---- Lua methods ----------------------------------------------------- */

static int l_cancel(lua_State *L) {
  aiolua_task_t *t = checktask(L, 1);
  lua_settop(L, 2);
  lua_pushboolean(L, aiolua__task_cancel(L, t, lua_isnil(L, 2) ? 0 : 2));
  return 1;
}

static int l_cancelling(lua_State *L) {
  lua_pushinteger(L, checktask(L, 1)->ncancel);
  return 1;
}

static int l_uncancel(lua_State *L) {
  aiolua_task_t *t = checktask(L, 1);
  if (t->ncancel > 0) t->ncancel--;
  if (t->ncancel == 0) t->must_cancel = 0;
  lua_pushinteger(L, t->ncancel);
  return 1;
}

static int l_get_name(lua_State *L) {
  push_name(L, 1, checktask(L, 1));
  return 1;
}

static int l_set_name(lua_State *L) {
  checktask(L, 1);
  luaL_tolstring(L, 2, NULL);
  aiolua__setextra(L, 1, "name");
  return 0;
}

static int l_result(lua_State *L) {
  aiolua_task_t *t = checktask(L, 1);
  lua_settop(L, 1);
  return aiolua__outcome(L, 1, &t->fut);
}

/* task:get_coro() is not provided: the coroutine is consumed. */

/* [] -> [desc] : "coro=<f() running at src:line> " for a pending task: its
** body and where it is suspended (the line of its await), or where it
** starts; "" when that is not known (a C body, a finished task). */
static void push_coro_desc(lua_State *L, int idx, aiolua_task_t *t) {
  lua_Debug ar, body;
  int found = 0;
  if (t->co && lua_checkstack(t->co, 2)) {  /* the outermost Lua frame */
    for (int level = 0; lua_getstack(t->co, level, &ar); level++) {
      lua_getinfo(t->co, "Slf", &ar);
      if (*ar.what != 'C') {
        body = ar;
        lua_settop(L, lua_gettop(L) - found);   /* at most one kept */
        lua_xmove(t->co, L, 1);
        found = 1;
      } else {
        lua_pop(t->co, 1);
      }
    }
  } else if (!t->started && lua_getiuservalue(L, idx, UV_THREAD) == LUA_TUSERDATA) {
    lua_getiuservalue(L, -1, 1);         /* the pack's body */
    lua_remove(L, -2);
    if (lua_isfunction(L, -1)) {
      lua_pushvalue(L, -1);
      lua_getinfo(L, ">S", &body);
      body.currentline = body.linedefined;
      found = *body.what != 'C';
    }
    if (!found) lua_pop(L, 1);
  } else if (!t->started) {
    lua_pop(L, 1);
  }
  if (!found) {
    lua_pushliteral(L, "");
    return;
  }
  int named = aiolua__push_coro_name(L, &body);  /* stack: name */
  lua_pushfstring(L, " coro=<%s%s running at %s:%d>", lua_tostring(L, -1),
                  named ? "()" : "", body.short_src, body.currentline);
  lua_replace(L, -2);
}

/* <Task pending name='Task-2' coro=<say_after() running at t.lua:5>>, or
** finished with its result= or exception=, as CPython's repr. */
static int l_tostring(lua_State *L) {
  aiolua_task_t *t = checktask(L, 1);
  static const char *const st[] = {"pending", "finished", "finished",
                                   "cancelled"};
  push_name(L, 1, t);                    /* 2 */
  if (t->fut.state == FUT_PENDING) {
    push_coro_desc(L, 1, t);
  } else if (t->fut.state == FUT_FAILED) {
    lua_getiuservalue(L, 1, UV_RESULT);
    lua_pushfstring(L, " exception=%s", luaL_tolstring(L, -1, NULL));
  } else if (t->fut.state == FUT_DONE) {
    aiolua__outcome(L, 1, &t->fut);
    lua_settop(L, 3);
    lua_pushfstring(L, " result=%s", luaL_tolstring(L, 3, NULL));
  } else {
    lua_pushliteral(L, "");
  }
  lua_pushfstring(L, "<Task %s name='%s'%s>", st[t->fut.state],
                  lua_tostring(L, 2), lua_tostring(L, -1));
  return 1;
}

/* task:get_stack() -> the Lua frames of a pending task, oldest first, as
** CPython's: {file =, line =, name =} each (name: as a traceback names
** the function); {} for a task that is done or not started. */
static int l_get_stack(lua_State *L) {
  aiolua_task_t *t = checktask(L, 1);
  lua_State *co = t->fut.state == FUT_PENDING ? t->co : NULL;
  lua_newtable(L);                       /* 2: frames, newest first */
  lua_Debug ar;
  int n = 0;
  for (int level = co == L; co && lua_getstack(co, level, &ar); level++) {
    lua_getinfo(co, "Slnf", &ar);
    lua_xmove(co, L, 1);                 /* stack: frames, f */
    if (*ar.what == 'C') {
      lua_pop(L, 1);
      continue;
    }
    if (ar.name) {
      lua_pushstring(L, ar.name);
      lua_replace(L, -2);
    } else {                             /* a task's body: "worker" */
      aiolua__push_coro_name(L, &ar);
    }
    lua_createtable(L, 0, 3);            /* stack: frames, name, frame */
    lua_insert(L, -2);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, ar.short_src);
    lua_setfield(L, -2, "file");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, -2, "line");
    lua_rawseti(L, 2, ++n);
  }
  for (int i = 1, j = n; i < j; i++, j--) {  /* oldest first */
    lua_rawgeti(L, 2, i);
    lua_rawgeti(L, 2, j);
    lua_rawseti(L, 2, i);
    lua_rawseti(L, 2, j);
  }
  return 1;
}

/* task:print_stack([file]): writes the stack of a pending task, or the
** traceback of a failed one, to file (io.stderr), as CPython's. */
static int l_print_stack(lua_State *L) {
  aiolua_task_t *t = checktask(L, 1);
  lua_settop(L, 2);
  if (lua_isnil(L, 2)) {
    lua_getglobal(L, "io");
    if (lua_istable(L, -1)) lua_getfield(L, -1, "stderr"); else lua_pushnil(L);
    lua_replace(L, 2);
    lua_settop(L, 2);
  }
  lua_getfield(L, 2, "write");           /* 3: file.write */
  lua_pushvalue(L, 2);
  luaL_tolstring(L, 1, NULL);            /* the task's repr */
  if (t->fut.state == FUT_PENDING && t->co) {
    lua_pushfstring(L, "Stack for %s (most recent call first):\n",
                    lua_tostring(L, -1));
    aiolua_traceback_of(L, t->co, NULL, t->co == L);
  } else if (t->fut.state == FUT_FAILED &&
             aiolua__getextra(L, 1, "traceback") == LUA_TSTRING) {
    lua_pushfstring(L, "Traceback for %s (most recent call first):\n",
                    lua_tostring(L, -2));
    lua_insert(L, -2);
  } else {
    if (t->fut.state == FUT_FAILED) lua_pop(L, 1);
    lua_pushfstring(L, "No stack for %s", lua_tostring(L, -1));
    lua_pushliteral(L, "");
  }
  lua_pushliteral(L, "\n");
  lua_concat(L, 3);                      /* stack: write, file, repr, text */
  lua_remove(L, -2);
  lua_call(L, 2, 0);
  return 0;
}

static int l_gc(lua_State *L) {
  aiolua__report_unretrieved(L, 1, "Task");
  return 0;
}

static const luaL_Reg task_methods[] = {
  {"cancel", l_cancel},
  {"cancelling", l_cancelling},
  {"uncancel", l_uncancel},
  {"get_name", l_get_name},
  {"set_name", l_set_name},
  {"result", l_result},
  {"get_stack", l_get_stack},
  {"print_stack", l_print_stack},
  {NULL, NULL}
};

void aiolua__task_open(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  lua_newtable(L);
  aiolua__future_methods(L);
  luaL_setfuncs(L, task_methods, 0);     /* overrides cancel and result */
  aiolua__new_metatables(L, AIOLUA_TASK_MT, -1, l_tostring, l_gc,
                         &rt->mt_task_ref, &rt->mt_task_gc_ref);
  lua_pop(L, 1);
}
