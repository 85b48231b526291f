/*
** runtime.c -- the runtime object: one uv loop (owned or borrowed), one Lua
** state, the ready queue and the timers; creation, asyncio.run's engine
** (aiolua__run_main) and teardown.
** Design note: the runtime pointer lives in the Lua state's extra space, so
** any thread finds it in O(1).  Teardown order matters: tasks are cancelled
** and allowed to clean up, the timer heap is dropped, lua_close runs every
** binding's __gc (which uv_close their handles), then the loop runs until
** every close callback has run; only then is the runtime freed.
*/
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "internal.h"
#include "modules.h"

/* The extra space of every thread holds the runtime pointer; task threads
** have its low bit set (see coroutine guards below). */
aiolua_runtime_t *aiolua__rt(lua_State *L) {
  return (aiolua_runtime_t *)(*(uintptr_t *)lua_getextraspace(L) & ~(uintptr_t)1);
}

void aiolua__mark_task_thread(lua_State *co) {
  *(uintptr_t *)lua_getextraspace(co) |= 1;
}

static int is_task_thread(lua_State *co) {
  return (*(uintptr_t *)lua_getextraspace(co) & 1) != 0;
}

/* coroutine.resume and coroutine.close refuse a task's coroutine: only
** the scheduler resumes a task (STYLE 3.10).  Upvalue 1: the original. */
static int guarded_resume(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  if (co && is_task_thread(co) && co != L) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "cannot resume the coroutine of a task (use await)");
    return 2;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

static int guarded_close(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  if (co && is_task_thread(co))
    return luaL_error(L, "cannot close the coroutine of a task (use cancel)");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

static void guard_coroutines(lua_State *L) {
  lua_getglobal(L, "coroutine");
  lua_getfield(L, -1, "resume");
  lua_pushcclosure(L, guarded_resume, 1);
  lua_setfield(L, -2, "resume");
  lua_getfield(L, -1, "close");
  lua_pushcclosure(L, guarded_close, 1);
  lua_setfield(L, -2, "close");
  lua_pop(L, 1);
}

aiolua_runtime_t *aiolua_runtime_from_lua(lua_State *L) { return aiolua__rt(L); }
lua_State *aiolua_runtime_lua(aiolua_runtime_t *rt) { return rt->L; }
uv_loop_t *aiolua_runtime_loop(aiolua_runtime_t *rt) { return rt->loop; }
int aiolua_runtime_flags(aiolua_runtime_t *rt) { return rt->flags; }

static int panic(lua_State *L) {
  fprintf(stderr, "aiolua: PANIC: unprotected error in call to Lua API (%s)\n",
          lua_tostring(L, -1));
  return 0;  /* then abort */
}

/* A registry table, referenced by an integer ref. */
static int new_registry_table(lua_State *L) {
  lua_newtable(L);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* package.preload loader of an embedded Lua module: upvalue 1 = entry. */
static int load_embedded(lua_State *L) {
  const aiolua__module_t *m = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbuffer(L, m->src, m->len, m->chunkname) != LUA_OK)
    return lua_error(L);
  lua_pushstring(L, m->name);
  lua_call(L, 1, 1);
  return 1;
}

void aiolua_preload(aiolua_runtime_t *rt, const char *name, lua_CFunction open) {
  lua_State *L = rt->L;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, open);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

static void preload_modules(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const aiolua__module_t *m = aiolua__modules; m->name; m++) {
    if (m->open) {
      lua_pushcfunction(L, m->open);
    } else {
      lua_pushlightuserdata(L, (void *)m);
      lua_pushcclosure(L, load_embedded, 1);
    }
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}

static void close_leftover(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* [fn, args...] -> [task] */
static int aiolua__spawn_protected(lua_State *L) {
  aiolua__task_new(L, lua_gettop(L) - 1);
  return 1;
}

/* Everything that can raise, under protection. */
static int init_protected(lua_State *L) {
  aiolua_runtime_t *rt = lua_touserdata(L, 1);
  /* No collection while start-up builds the heap from nothing: run
     incrementally, the collector went through cycle after cycle of a
     small, growing heap; one full collection at the end costs less (an
     empty script -20 k instructions) and starts the script at the pause. */
  lua_gc(L, LUA_GCSTOP);
  luaL_openlibs(L);
  guard_coroutines(L);
  rt->tasks_ref = new_registry_table(L);
  rt->anchors_ref = new_registry_table(L);
  rt->cbq_ref = new_registry_table(L);
  rt->fresh_ref = new_registry_table(L);
  luaL_newmetatable(L, "aiolua.Waiter");  /* C waiters */
  rt->mt_cwaiter_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushboolean(L, 0);                 /* a slot that storing the loop's */
  rt->loop_err_ref = luaL_ref(L, LUA_REGISTRYINDEX);  /* error never grows */
  lua_newtable(L);                       /* async function bodies -> names */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "aiolua.asyncnames");
  /* Incremental, not generational: a minor collection re-traverses every
     live thread, which costs more than it saves with many parked tasks.
     A cycle starts when the heap reaches 4x (not 2x) what the last one
     left: measured, W1 takes 25% less time and peak RSS does not move
     (W1, W4 and W3 alike), since parked tasks, not garbage, fill it. */
  lua_gc(L, LUA_GCINC, 400, 0, 0);
  aiolua__error_open(L);
  aiolua__future_open(L);
  aiolua__task_open(L);
  aiolua__await_open(L);
  preload_modules(L);
  aiolua__load_open(rt);
  lua_getglobal(L, "require");
  lua_pushstring(L, "asyncio");
  lua_call(L, 1, 1);
  lua_setglobal(L, "asyncio");
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}

int aiolua__slot_alloc(aiolua_slots_t *s) {
  return s->nfree > 0 ? s->free[--s->nfree] : ++s->top;
}

void aiolua__slot_release(aiolua_slots_t *s, int slot) {
  if (s->nfree == s->cap) {
    int cap = s->cap ? s->cap * 2 : 256;
    int *a = realloc(s->free, (size_t)cap * sizeof *a);
    if (a == NULL) return;               /* the slot is lost, not reused */
    s->free = a;
    s->cap = cap;
  }
  s->free[s->nfree++] = slot;
}

/* Empties key *slot of the table at index t and frees the key. */
void aiolua__slot_clear(lua_State *L, int t, aiolua_slots_t *s, int *slot) {
  t = lua_absindex(L, t);
  lua_pushnil(L);
  lua_rawseti(L, t, *slot);
  aiolua__slot_release(s, *slot);
  *slot = LUA_NOREF;
}

/* A write to a socket or pipe whose peer has gone raises SIGPIPE, whose
** default action ends the process at once: ignore it, as Python and
** Node.js do, so that the write fails with EPIPE (BrokenPipeError) -- but
** leave a host's own handler alone. */
static void ignore_sigpipe(void) {
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
      !(sa.sa_flags & SA_SIGINFO)) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
}

/* [] -> [] : metatable `name` with methods in its __index, and gc as its
** __gc (unless NULL): the class of a binding's userdata.  Each method has
** the metatable as its upvalue 1, for aiolua__checkself. */
void aiolua__new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                       lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  lua_pushvalue(L, -2);                  /* each method's upvalue 1 */
  luaL_setfuncs(L, methods, 1);
  lua_setfield(L, -2, "__index");
  if (gc) {
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}

/* The userdata at 1 if its metatable is upvalue 1 of the running method
** (a method of aiolua__new_class), else a type error naming tname: what
** luaL_checkudata checks, without making the name a string and looking it
** up in the registry, which was a tenth of an echo's round trip. */
void *aiolua__checkself(lua_State *L, const char *tname) {
  void *p = lua_touserdata(L, 1);
  int ok = p != NULL && lua_getmetatable(L, 1);
  if (ok) {                              /* two tables: same if same address */
    ok = lua_topointer(L, -1) == lua_topointer(L, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!ok) luaL_typeerror(L, 1, tname);
  return p;
}

aiolua_runtime_t *aiolua_runtime_new(uv_loop_t *loop, int flags) {
  aiolua_runtime_t *rt = calloc(1, sizeof *rt);
  if (rt == NULL) return NULL;
  ignore_sigpipe();
  rt->flags = flags;
  if (loop) {
    rt->loop = loop;
  } else {
    if (uv_loop_init(&rt->own_loop) != 0) {
      free(rt);
      return NULL;
    }
    rt->loop = &rt->own_loop;
  }
  rt->L = aiolua__newstate(&rt->alloc);
  if (rt->L == NULL) {
    if (!loop) uv_loop_close(&rt->own_loop);
    free(rt);
    return NULL;
  }
  *(aiolua_runtime_t **)lua_getextraspace(rt->L) = rt;
  lua_atpanic(rt->L, panic);
  aiolua__sched_init(rt);
  aiolua__timer_init(rt);
  lua_pushcfunction(rt->L, init_protected);
  lua_pushlightuserdata(rt->L, rt);
  if (lua_pcall(rt->L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "aiolua: cannot initialise: %s\n", lua_tostring(rt->L, -1));
    aiolua_runtime_free(rt);
    return NULL;
  }
  return rt;
}

/* [] -> [list] : the alive tasks, in creation order. */
static void push_alive_tasks(lua_State *L, aiolua_runtime_t *rt) {
  lua_newtable(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->tasks_ref);
  lua_pushnil(L);
  int n = 0;
  while (lua_next(L, -2)) {              /* stack: list, tasks, k, v */
    aiolua_task_t *t = aiolua__totask(L, -1);
    if (t && t->fut.state == FUT_PENDING) {
      lua_rawseti(L, -4, ++n);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  /* the table is keyed by refs, which are reused: sort by task id */
  for (int i = 2; i <= n; i++) {         /* insertion sort, small n usual */
    for (int j = i; j > 1; j--) {
      lua_rawgeti(L, -1, j - 1);
      lua_rawgeti(L, -2, j);
      aiolua_task_t *a = lua_touserdata(L, -2), *b = lua_touserdata(L, -1);
      if (a->id < b->id) {
        lua_pop(L, 2);
        break;
      }
      lua_rawseti(L, -3, j - 1);
      lua_rawseti(L, -2, j);
    }
  }
}

/* asyncio.all_tasks() */
int aiolua__all_tasks(lua_State *L) {
  push_alive_tasks(L, aiolua__rt(L));
  return 1;
}

/* Cancels every alive task and runs the loop until they are all done. */
static void cancel_all(lua_State *L, aiolua_runtime_t *rt) {
  if (rt->ntasks == 0) return;
  push_alive_tasks(L, rt);
  int n = (int)lua_rawlen(L, -1);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    aiolua__task_cancel(L, lua_touserdata(L, -1), 0);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  aiolua__loop_run(L, rt, NULL);
}

/* [t, keep_tasks] -> [deadlock] : runs the loop until main task t is
** done, then, unless keep_tasks, cancels the tasks left and runs them to
** their end.  Called protected, so that run_main leaves the runtime not
** running even if this raises (out of memory). */
static int run_loop(lua_State *L) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  aiolua_task_t *t = lua_touserdata(L, 1);
  int deadlock = 0;
  if (aiolua__loop_run(L, rt, t) < 0) {     /* nothing can wake main */
    deadlock = 1;
    aiolua__task_cancel(L, t, 0);
    aiolua__loop_run(L, rt, t);
  }
  if (!lua_toboolean(L, 2)) cancel_all(L, rt);
  lua_pushboolean(L, deadlock);
  return 1;
}

/* [fn, args...] -> [results...] : asyncio.run's engine (and, with
** keep_tasks, loop:run_until_complete's).  Raises main's error, and
** RuntimeError when called inside a running loop. */
int aiolua__run_main(lua_State *L, int nargs, int keep_tasks) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  if (rt->running || rt->current)
    return aiolua_error(L, "RuntimeError",
                        "asyncio.run() cannot be called from a running "
                        "event loop");
  if (rt->closing)                       /* a finalizer at exit: no loop */
    return aiolua_error(L, "RuntimeError",
                        "asyncio.run() cannot be called while the runtime "
                        "closes");
  int base = lua_gettop(L) - nargs;
  aiolua_task_t *t = aiolua__task_new(L, nargs);  /* stack: task (at base) */
  aiolua_task_t *prev = rt->main;
  rt->main = t;
  rt->running++;
  lua_pushcfunction(L, run_loop);
  lua_pushlightuserdata(L, t);
  lua_pushboolean(L, keep_tasks);
  int status = lua_pcall(L, 2, 1, 0);
  rt->running--;                         /* even if the loop raised */
  rt->main = prev;
  if (status != LUA_OK) return lua_error(L);
  int deadlock = lua_toboolean(L, -1);
  lua_settop(L, base);
  if (t->fut.state == FUT_FAILED) {      /* for the host's error report */
    lua_getiuservalue(L, base, UV_RESULT);
    lua_setfield(L, LUA_REGISTRYINDEX, "aiolua.last_err");
    aiolua__getextra(L, base, "traceback");
    lua_setfield(L, LUA_REGISTRYINDEX, "aiolua.last_tb");
  }
  if (deadlock && t->fut.state == FUT_CANCELLED)
    return aiolua_error(L, "RuntimeError",
                        "deadlock: the main task waits for something that "
                        "nothing left on the event loop can complete");
  return aiolua__outcome(L, base, &t->fut);
}

static int run_protected(lua_State *L) {
  return aiolua__run_main(L, lua_gettop(L) - 1, 0);
}

int aiolua_run(aiolua_runtime_t *rt, int nargs, int nresults) {
  lua_State *L = rt->L;
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "aiolua.last_tb");
  lua_pushcfunction(L, run_protected);
  lua_insert(L, -nargs - 2);
  return lua_pcall(L, nargs + 1, nresults, 0);
}

int aiolua_spawn(aiolua_runtime_t *rt, int nargs) {
  lua_State *L = rt->L;
  lua_pushcfunction(L, aiolua__spawn_protected);
  lua_insert(L, -nargs - 2);
  return lua_pcall(L, nargs + 1, 1, 0);
}

void aiolua_traceback(aiolua_runtime_t *rt) {
  lua_getfield(rt->L, LUA_REGISTRYINDEX, "aiolua.last_tb");
}

static void interrupt_cb(aiolua_runtime_t *rt, aiolua_rqcall_t *self) {
  (void)self;
  if (rt->main && rt->main->fut.state == FUT_PENDING) {
    lua_pushliteral(rt->L, "KeyboardInterrupt");
    aiolua__task_cancel(rt->L, rt->main, lua_gettop(rt->L));
    lua_pop(rt->L, 1);
  }
}

void aiolua_interrupt(aiolua_runtime_t *rt) {
  static aiolua_rqcall_t interrupt = {interrupt_cb};
  aiolua__rq_push_c(rt, &interrupt);
}

int aiolua_runtime_running(aiolua_runtime_t *rt) {
  return rt->running > 0;
}

lua_State *aiolua_runtime_thread(aiolua_runtime_t *rt) {
  aiolua_task_t *t = rt->current;
  return t && t->co ? t->co : rt->L;
}

int aiolua_runtime_run(aiolua_runtime_t *rt, uv_run_mode mode) {
  return uv_run(rt->loop, mode);
}

/* Cancels every future that C code still holds (anchored and pending), so
** that each binding's cancel hook stops its operation before the Lua state
** goes away: no callback may reach a closed state. */
static void cancel_anchored(lua_State *L, aiolua_runtime_t *rt) {
  lua_newtable(L);                       /* collect first: cancel unanchors */
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->anchors_ref);
  lua_pushnil(L);
  int n = 0;
  while (lua_next(L, -2)) {              /* stack: list, anchors, k, v */
    if (aiolua_tofuture(L, -1)) lua_rawseti(L, -4, ++n); else lua_pop(L, 1);
  }
  lua_pop(L, 1);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    aiolua_future_t *f = lua_touserdata(L, -1);
    if (f->state == FUT_PENDING && f->kind != KIND_TASK)
      aiolua__future_cancel(L, f, 0);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static int teardown_protected(lua_State *L) {
  aiolua_runtime_t *rt = lua_touserdata(L, 1);
  if (!rt->running) cancel_all(L, rt);
  cancel_anchored(L, rt);
  return 0;
}

void aiolua_runtime_free(aiolua_runtime_t *rt) {
  if (rt == NULL) return;
  if (rt->tasks_ref) {                   /* initialised: let tasks clean up */
    lua_pushcfunction(rt->L, teardown_protected);
    lua_pushlightuserdata(rt->L, rt);
    if (lua_pcall(rt->L, 1, 0, 0) != LUA_OK) lua_pop(rt->L, 1);
  }
  rt->closing = 1;
  if (rt->fresh_ref) aiolua__coro_flush(rt->L, rt);  /* then lua_close
                                            reports the never awaited */
  aiolua__timer_clear(rt);               /* timers live in Lua memory */
  rt->rq_len = 0;
  lua_close(rt->L);                      /* bindings' __gc close handles */
  rt->L = NULL;
  aiolua__alloc_free(rt->alloc);
  free(rt->task_slots.free);
  free(rt->anchor_slots.free);
  free(rt->fresh);
  aiolua__sched_close(rt);
  aiolua__timer_close(rt);
  if (rt->loop == &rt->own_loop) {
    uv_run(rt->loop, UV_RUN_DEFAULT);    /* close callbacks */
    if (uv_loop_close(rt->loop) != 0) {
      /* a handle someone forgot: close it rather than leak the loop */
      uv_walk(rt->loop, close_leftover, NULL);
      uv_run(rt->loop, UV_RUN_DEFAULT);
      uv_loop_close(rt->loop);
    }
  } else {
    uv_run(rt->loop, UV_RUN_NOWAIT);     /* our close callbacks */
  }
  free(rt);
}
