/*
** gather.c -- asyncio.gather (require "aiolua.gather"), in C because it is
** on the hot path of every fan-out: CPython's _GatheringFuture semantics
** (results in argument order, first error propagates unless
** return_exceptions, cancelling the gather cancels the children and then
** raises CancelledError) with one C closure as the done callback of every
** child and no per-child Lua table.
*/
#include <limits.h>
#include "internal.h"

/* The gather's state, a C waiter on every child; uservalue 1 = outer
** future, 2 = children list (which keeps them alive).  kids[] holds the
** same children as C pointers, so the passes over them can read their
** records without a Lua call and prefetch ahead: a fan-out of 100,000
** children is mostly cache misses on those records. */
typedef struct gather {
  aiolua_cwaiter_t w;
  aiolua_future_t *outer;      /* = uservalue 1 */
  int n, nunique, ndone;
  int return_exceptions, cancel_requested;
  int next;                    /* pass 4: kids[next..n) still tagged */
  aiolua_future_t *kids[];
} gather_t;

#define PREFETCH_AHEAD 8
#define prefetch_kid(g, i) \
  do { if ((i) + PREFETCH_AHEAD < (g)->n) \
         __builtin_prefetch((g)->kids[(i) + PREFETCH_AHEAD], 1); } while (0)

/* While l_gather runs, the low bit of a kids[] entry tags the first place
** of its future (a userdata block is aligned, so the bit is free). */
#define tag_first(f) ((aiolua_future_t *)((uintptr_t)(f) | 1))
#define is_first(f) ((uintptr_t)(f) & 1)
#define untag(f) ((aiolua_future_t *)((uintptr_t)(f) & ~(uintptr_t)1))

/* Called (by the scheduler) when a child is done: the gather state at sidx,
** the child at cidx. */
static void on_done(lua_State *L, int sidx, int cidx) {
  gather_t *g = lua_touserdata(L, sidx);
  aiolua_future_t *child = lua_touserdata(L, cidx), *outer = g->outer;
  g->ndone++;
  if (outer->state != FUT_PENDING) {
    if (child->state == FUT_FAILED) child->flags |= FUT_RETRIEVED;
    return;
  }
  if (g->ndone < g->nunique && (g->return_exceptions ||
                                child->state == FUT_DONE))
    return;                                /* the common case: not yet */
  lua_getiuservalue(L, sidx, 1);           /* stack: ..., outer */
  int oidx = lua_gettop(L);
  if (!g->return_exceptions) {
    if (child->state == FUT_CANCELLED) {   /* CancelledError, as is */
      lua_pushvalue(L, oidx);
      aiolua__push_cancelled(L, cidx);
      aiolua__future_settle(L, outer, FUT_FAILED, 1);
      return;
    }
    if (child->state == FUT_FAILED) {
      aiolua__adopt_exception(L, oidx, outer, cidx, child);
      return;
    }
  }
  if (g->ndone < g->nunique) return;
  lua_pushvalue(L, oidx);                  /* stack: ..., outer, outer */
  lua_createtable(L, g->n, 1);             /* the results */
  lua_getiuservalue(L, sidx, 2);           /* stack: ..., results, children */
  for (int i = 1; i <= g->n; i++) {
    prefetch_kid(g, i - 1);
    lua_rawgeti(L, -1, i);
    aiolua_future_t *c = g->kids[i - 1];
    if (c->state == FUT_CANCELLED) {
      aiolua__push_cancelled(L, -1);
    } else if (c->state == FUT_FAILED) {
      c->flags |= FUT_RETRIEVED;
      lua_getiuservalue(L, -1, UV_RESULT);
    } else {
      aiolua__push_first_result(L, -1, c);
    }
    lua_rawseti(L, -4, i);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);                           /* stack: ..., outer, results */
  lua_pushinteger(L, g->n);
  lua_setfield(L, -2, "n");
  if (g->cancel_requested) {
    lua_pop(L, 1);
    aiolua_pusherror(L, "CancelledError", "");
    aiolua__future_settle(L, outer, FUT_FAILED, 1);
  } else {
    aiolua__future_settle(L, outer, FUT_DONE, 1);
  }
}

/* A child done with a result, not the last one: only the count changes,
** which nothing can see before the last child's call, so it need not wait
** for its turn in the ready queue (see aiolua_cwaiter_t). */
static int on_done_early(aiolua_cwaiter_t *w, aiolua_future_t *child) {
  gather_t *g = (gather_t *)w;
  if (child->state != FUT_DONE || g->outer->state != FUT_PENDING ||
      g->ndone + 1 >= g->nunique)
    return 0;
  g->ndone++;
  return 1;
}

/* The outer future's cancel(): cancels the children (upvalue 1 = state). */
static int on_cancel(lua_State *L) {
  gather_t *g = lua_touserdata(L, lua_upvalueindex(1));
  aiolua_future_t *outer = lua_touserdata(L, 1);
  int msgidx = lua_isnil(L, 2) ? 0 : 2, ret = 0;
  if (outer->state != FUT_PENDING) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_getiuservalue(L, lua_upvalueindex(1), 2);   /* children */
  for (int i = 1; i <= g->n; i++) {
    lua_rawgeti(L, 3, i);
    if (aiolua__future_cancel(L, g->kids[i - 1], msgidx)) ret = 1;
    lua_pop(L, 1);
  }
  if (ret) g->cancel_requested = 1;
  lua_pushboolean(L, ret);
  return 1;
}

/* [aw] -> [future] : CPython's ensure_future; a coroutine or a sleep()
** (a coroutine in Python) becomes a task. */
static aiolua_future_t *ensure_future(lua_State *L) {
  aiolua_future_t *f = aiolua_tofuture(L, -1);
  if (f && f->kind != KIND_SLEEP) return f;
  return &aiolua__task_new(L, 0)->fut;
}

/* Undoes the marks and tags pass 1 set on kids[0..k). */
static void unmark(gather_t *g, int k) {
  for (int j = 0; j < k; j++) {
    if (!is_first(g->kids[j])) continue;
    g->kids[j] = untag(g->kids[j]);
    g->kids[j]->flags &= ~FUT_MARK;
    g->nunique--;
  }
}

/* __close of pass 4's guard, [guard, err]: after an error (out of
** memory) untags and unmarks kids[next..n), so that no mark outlives the
** call, and makes the half-made gather inert: the callbacks it added
** already neither complete it nor take a child's error. */
static int guard_close(lua_State *L) {
  gather_t *g = *(gather_t **)lua_touserdata(L, 1);
  if (g->next >= g->n) return 0;
  for (int j = g->next; j < g->n; j++) {
    if (!is_first(g->kids[j])) continue;
    g->kids[j] = untag(g->kids[j]);
    g->kids[j]->flags &= ~FUT_MARK;
  }
  g->nunique = INT_MAX;
  g->return_exceptions = 1;
  return 0;
}

/* gather(aw1, aw2, ...) or gather{aw1, ..., return_exceptions = b};
** upvalue 1 = the guard's metatable */
static int l_gather(lua_State *L) {
  int n = lua_gettop(L), list = 0, rexc = 0;
  if (n == 1 && lua_type(L, 1) == LUA_TTABLE && !lua_getmetatable(L, 1)) {
    list = 1;
    lua_getfield(L, 1, "return_exceptions");
    rexc = lua_toboolean(L, -1);
    lua_getfield(L, 1, "n");
    lua_Integer ln = lua_isinteger(L, -1) ? lua_tointeger(L, -1)
                                          : (lua_Integer)lua_rawlen(L, 1);
    if (ln < 0) return luaL_argerror(L, 1, "field 'n' is negative");
    if (ln > INT_MAX / 2) return luaL_argerror(L, 1, "too many awaitables");
    n = (int)ln;
    lua_settop(L, 1);
  }
  int base = lua_gettop(L);
  aiolua_future_t *outer = aiolua__future_new(L, KIND_FUTURE,
                                              sizeof(aiolua_future_t), FUTURE_NUV);
  int oidx = base + 1;
  if (n == 0) {
    lua_pushvalue(L, oidx);
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "n");
    aiolua__future_settle(L, outer, FUT_DONE, 1);
    return 1;
  }
  if ((size_t)n > (SIZE_MAX - sizeof(gather_t)) / sizeof(aiolua_future_t *))
    return luaL_error(L, "gather: too many awaitables");
  gather_t *g = (gather_t *)aiolua__new_cwaiter(
      L, sizeof *g + (size_t)n * sizeof(aiolua_future_t *), 2);
  int sidx = oidx + 1;                     /* stack: outer, state */
  g->w.fn = on_done;
  g->w.early = on_done_early;
  g->outer = outer;
  g->n = n;
  g->nunique = g->ndone = g->cancel_requested = 0;
  g->return_exceptions = rexc;
  lua_pushvalue(L, oidx);
  lua_setiuservalue(L, sidx, 1);
  lua_createtable(L, n, 0);                /* stack: outer, state, children */
  int cidx = sidx + 1;
  /* Pass 4 may run out of memory after passes 1 and 3 marked futures: a
  ** to-be-closed guard then clears the marks left (made here, since making
  ** it may fail too; inert until pass 4 sets g->next). */
  g->next = n;
  gather_t **guard = lua_newuserdatauv(L, sizeof *guard, 0);
  *guard = g;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  int gidx = cidx + 1;
  lua_toclose(L, gidx);                    /* stack: ..., children, guard */
  /* Pass 1 checks every argument before anything happens to any (no task
  ** is created for a gather that raises).  A check may run Lua code (an
  ** object's __index), which may change the list: so each argument is
  ** copied to the children list first, and the passes after it read that
  ** list only, which also keeps alive what kids[] points to.  While every
  ** argument so far is a future, no Lua code has run and none will before
  ** pass 4: pass 3's marking is done here, on records still in the cache
  ** (`early`), and undone at the first argument that is not a future. */
  int early = 1;
  for (int i = 1; i <= n; i++) {
    if (list) lua_rawgeti(L, 1, i); else lua_pushvalue(L, i);
    lua_pushvalue(L, -1);
    lua_rawseti(L, cidx, i);
    aiolua_future_t *f = aiolua_tofuture(L, -1);
    if (f == NULL || f->kind == KIND_SLEEP) {     /* a task, in pass 2 */
      if (early) unmark(g, i - 1);
      early = 0;
      if (f == NULL && !aiolua__iscoro(L, -1) && !aiolua__isawaitable_obj(L, -1))
        return aiolua_error(L, "TypeError", "gather: argument #%d is not "
                            "awaitable (a %s)", i, luaL_typename(L, -1));
      f = NULL;
    } else if (early && !(f->flags & FUT_MARK)) {
      f->flags |= FUT_MARK;
      f = tag_first(f);
      g->nunique++;
    }
    g->kids[i - 1] = f;
    lua_pop(L, 1);
  }
  /* Pass 2: tasks for the coroutines (which may raise, and run Lua code);
  ** a new task is in no other place, so it is a first place. */
  for (int i = 1; i <= n; i++) {
    if (g->kids[i - 1]) continue;
    lua_rawgeti(L, cidx, i);
    g->kids[i - 1] = tag_first(ensure_future(L));
    g->nunique++;
    lua_rawseti(L, cidx, i);
  }
  /* Pass 3 marks each future given the first time it is seen, so that a
  ** repeated one gets one callback, and tags that first place.  Marks are
  ** set only now, when nothing left can run Lua code or raise (but out of
  ** memory) before pass 4 clears them: none outlives this call. */
  for (int i = 0; i < n && !early; i++) {
    prefetch_kid(g, i);
    aiolua_future_t *f = g->kids[i];
    if (!is_first(f) && !(f->flags & FUT_MARK)) {
      f->flags |= FUT_MARK;
      g->kids[i] = tag_first(f);
      g->nunique++;
    }
  }
  /* Pass 4: a callback on each future, at its first place.  The state is
  ** complete before the first is added (its children set), and the guard
  ** active: adding one may run out of memory. */
  lua_pushvalue(L, cidx);
  lua_setiuservalue(L, sidx, 2);
  g->next = 0;
  lua_pushvalue(L, sidx);                  /* stack: ..., guard, waiter */
  for (int i = 1; i <= n; i++) {
    prefetch_kid(g, i - 1);
    aiolua_future_t *f = g->kids[i - 1];
    if (!is_first(f)) continue;
    f = g->kids[i - 1] = untag(f);
    f->flags &= ~FUT_MARK;
    g->next = i;
    lua_rawgeti(L, cidx, i);               /* stack: ..., waiter, child */
    lua_pushvalue(L, -2);
    aiolua__future_add_callback(L, -2, f);
    lua_pop(L, 1);
  }
  g->next = n;
  lua_pop(L, 1);
  lua_closeslot(L, gidx);
  lua_settop(L, sidx);                     /* stack: outer, state */
  lua_pushcclosure(L, on_cancel, 1);       /* stack: outer, cancel */
  aiolua__setextra(L, oidx, "cancel");
  outer->flags |= FUT_LUACANCEL;
  return 1;
}

int luaopen_aiolua_gather(lua_State *L);
int luaopen_aiolua_gather(lua_State *L) {
  lua_createtable(L, 0, 1);                /* the guard's metatable */
  lua_pushcfunction(L, guard_close);
  lua_setfield(L, -2, "__close");
  lua_pushcclosure(L, l_gather, 1);
  return 1;
}
