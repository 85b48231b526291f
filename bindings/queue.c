/*
** queue.c -- the engine of asyncio.Queue, LifoQueue and PriorityQueue
** (require "aiolua.queue"; bindings/queues.lua makes the classes with it).
** Design note: a queue's state is a userdata (counts, ring indices, waiter
** list bounds) whose uservalues hold its storage and its waiter lists; the
** Lua queue object gets its methods as C closures over it (no table lookup
** on the hot path).  put(x), get() and join() return an operation, an
** awaitable that does the work when awaited, inline in the awaiting task as
** a coroutine object would; each queue hands the same operation out again
** once it was awaited, so a put or get that need not wait allocates nothing.
** (So an operation awaited a second time, a mistake that raises "cannot
** reuse", may instead do the put or get the queue handed it out for since.)
** Waiting follows CPython 3.13: a waiter is a future in a FIFO list, only
** ever woken ("try again"), never handed an item, so a cancelled getter
** cannot swallow an item nor a cancelled putter leave a phantom one; one
** woken and then cancelled passes the wake-up on.
*/
#include <math.h>
#include <string.h>
#include "internal.h"

#define QUEUE_OP_MT "aiolua.QueueOp"

/* Storage kinds, which are also the classes. */
enum { ST_RING, ST_STACK, ST_HEAP };
static const char *const class_names[] = {"Queue", "LifoQueue",
                                          "PriorityQueue", NULL};

/* Operation kinds, and the waiter list each one waits in. */
enum { OP_PUT, OP_GET, OP_JOIN };
static const char *const op_names[] = {"put", "get", "join"};
enum { W_GETTERS, W_PUTTERS, W_JOINERS };
static const int op_list[] = {W_PUTTERS, W_GETTERS, W_JOINERS};
static const char *const list_fields[] = {"_getters", "_putters",
                                          "_joiners"};

/* Uservalues of a queue: its storage table, then its three waiter lists. */
enum { QUV_STORE = 1, QUV_LISTS = 2, QUV_N = 4 };

/* Uservalues of an operation. */
enum { OUV_QUEUE = 1, OUV_STORE, OUV_ITEM, OUV_N = 3 };

/* A waiter list: futures at [first..last] of its table; empty: 1, 0.  The
** table shows `first` and `last` as fields (for introspection, as len()
** of CPython's deque) through its metatable, whose __index reads them
** from the queue, so that no push or shift writes them. */
typedef struct wlist {
  lua_Integer first, last;
} wlist_t;

typedef struct queue {
  lua_Number maxsize;       /* <= 0: unbounded */
  lua_Number limit;         /* put's fast path runs while n < limit */
  lua_Integer n;            /* items held */
  lua_Integer unfinished;   /* items put and not yet task_done() */
  lua_Integer head, mask;   /* ring: n items from slot head (0-based) of
                               mask + 1 slots */
  int kind;                 /* ST_* */
  int shut;                 /* shut down */
  wlist_t w[3];
  const void *self;         /* the Lua queue object */
} queue_t;

/* An operation: a C awaitable (its header tells it from other userdata
** more cheaply than a metatable test, in l_op_await and in await). */
static int op_await(lua_State *L);
typedef struct op {
  aiolua_cawait_t h;        /* magic, op_await */
  queue_t *q;
  int kind;                 /* OP_* */
  int pending;              /* made and not yet awaited nor closed */
} op_t;

static int is_full(const queue_t *q) {
  return q->maxsize > 0 && (lua_Number)q->n >= q->maxsize;
}

static int waiting(const queue_t *q, int list) {
  return q->w[list].last >= q->w[list].first;
}

/* ---- waiter lists ----------------------------------------------------- */

/* Pushes the table of a waiter list of the queue at qi; returns its index. */
static int wl_table(lua_State *L, int qi, int list) {
  lua_getiuservalue(L, qi, QUV_LISTS + list);
  return lua_gettop(L);
}

/* __index of a queue's waiter lists (upvalue 1: the queue): `first` and
** `last` of the list at 1. */
static int wl_index(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  const char *k = lua_tostring(L, 2);
  int last = strcmp(k, "last") == 0;
  if (!last && strcmp(k, "first") != 0) return 0;
  queue_t *q = lua_touserdata(L, lua_upvalueindex(1));
  for (int i = 0; i < 3; i++) {
    lua_getiuservalue(L, lua_upvalueindex(1), QUV_LISTS + i);
    int found = lua_rawequal(L, 1, -1);
    lua_pop(L, 1);
    if (found) {
      lua_pushinteger(L, last ? q->w[i].last : q->w[i].first);
      return 1;
    }
  }
  return 0;
}

/* Appends the value at vi to a waiter list. */
static void wl_push(lua_State *L, queue_t *q, int qi, int list, int vi) {
  wlist_t *w = &q->w[list];
  int ti = wl_table(L, qi, list);
  lua_pushvalue(L, vi);
  lua_rawseti(L, ti, ++w->last);
  lua_pop(L, 1);
}

/* [] -> [first] : removes the first waiter of a non-empty list. */
static void wl_shift(lua_State *L, queue_t *q, int qi, int list) {
  wlist_t *w = &q->w[list];
  int ti = wl_table(L, qi, list);
  lua_rawgeti(L, ti, w->first);
  lua_pushnil(L);
  lua_rawseti(L, ti, w->first);
  if (w->first == w->last) {
    w->first = 1;
    w->last = 0;
  } else {
    w->first++;
  }
  lua_remove(L, ti);
}

/* Removes the value at vi from a waiter list, if there, keeping the order. */
static void wl_remove(lua_State *L, queue_t *q, int qi, int list, int vi) {
  wlist_t *w = &q->w[list];
  int ti = wl_table(L, qi, list);
  for (lua_Integer i = w->first; i <= w->last; i++) {
    lua_rawgeti(L, ti, i);
    int found = lua_rawequal(L, -1, vi);
    lua_pop(L, 1);
    if (!found) continue;
    for (lua_Integer j = i; j < w->last; j++) {
      lua_rawgeti(L, ti, j + 1);
      lua_rawseti(L, ti, j);
    }
    lua_pushnil(L);
    lua_rawseti(L, ti, w->last);
    if (--w->last < w->first) {
      w->first = 1;
      w->last = 0;
    }
    break;
  }
  lua_pop(L, 1);
}

/* Wakes the first waiter that is not done (cancelled), if any. */
static void wakeup_next(lua_State *L, queue_t *q, int qi, int list) {
  while (waiting(q, list)) {
    wl_shift(L, q, qi, list);            /* stack: fut */
    /* Lua code can write to the list (q._getters...): skip what is not
    ** a plain future. */
    aiolua_future_t *f = aiolua_tofuture(L, -1);
    if (f && f->kind == KIND_FUTURE && f->state == FUT_PENDING) {
      aiolua__future_settle(L, f, FUT_DONE, 0);  /* pops it */
      return;
    }
    lua_pop(L, 1);
  }
}

/* Wakes every waiter of a list and empties it. */
static void wakeup_all(lua_State *L, queue_t *q, int qi, int list) {
  while (waiting(q, list)) wakeup_next(L, q, qi, list);
}

/* The same for an operation at 1, whose queue is pushed only if needed. */
static void op_wakeup_next(lua_State *L, queue_t *q, int list) {
  if (!waiting(q, list)) return;
  lua_getiuservalue(L, 1, OUV_QUEUE);
  wakeup_next(L, q, lua_gettop(L), list);
  lua_pop(L, 1);
}

/* ---- PriorityQueue order ---------------------------------------------- */

static int has_lt(lua_State *L, int idx) {
  if (luaL_getmetafield(L, idx, "__lt") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

/* Tuples nested deeper than this raise (cyclic ones would recurse
** forever), as Lua's own C calls do. */
#define MAX_TUPLE_DEPTH 200

/* 1 if the value at a sorts before the one at b: `<`, except that plain
** tables (no __lt) compare like Python tuples, element by element, so
** that pq:put({priority, data}) ports pq.put((priority, data)). */
static int less_at(lua_State *L, int a, int b, int depth) {
  a = lua_absindex(L, a);
  b = lua_absindex(L, b);
  if (lua_type(L, a) != LUA_TTABLE || lua_type(L, b) != LUA_TTABLE ||
      has_lt(L, a) || has_lt(L, b))
    return lua_compare(L, a, b, LUA_OPLT);
  if (depth >= MAX_TUPLE_DEPTH) luaL_error(L, "tuples nested too deep");
  luaL_checkstack(L, 4, "tuples nested too deep");
  lua_Integer na = luaL_len(L, a), nb = luaL_len(L, b);
  for (lua_Integer i = 1; i <= (na > nb ? na : nb); i++) {
    int tx = lua_geti(L, a, i), ty = lua_geti(L, b, i), r = -1;
    if (tx == LUA_TNIL)
      r = ty != LUA_TNIL;                /* the shorter tuple first */
    else if (ty == LUA_TNIL)
      r = 0;
    else if (!lua_compare(L, -2, -1, LUA_OPEQ))
      r = less_at(L, -2, -1, depth + 1);
    lua_pop(L, 2);
    if (r >= 0) return r;
  }
  return 0;
}

static int less(lua_State *L, int a, int b) {
  return less_at(L, a, b, 0);
}

static int l_less(lua_State *L) {
  luaL_checkany(L, 2);
  lua_pushboolean(L, less(L, 1, 2));
  return 1;
}

/* [item] -> [] : a binary min-heap push.  Every comparison comes before
** the first move, so an error in `<` leaves the heap as it was. */
static void heap_push(lua_State *L, queue_t *q, int si) {
  int it = lua_gettop(L);
  lua_Integer i = q->n + 1;
  while (i > 1) {                        /* find the slot */
    lua_rawgeti(L, si, i / 2);
    int up = less(L, it, -1);
    lua_pop(L, 1);
    if (!up) break;
    i /= 2;
  }
  for (lua_Integer j = q->n + 1; j > i; j /= 2) {  /* move parents down */
    lua_rawgeti(L, si, j / 2);
    lua_rawseti(L, si, j);
  }
  lua_rawseti(L, si, i);
}

/* [] -> [top] : a binary min-heap pop, error-safe as heap_push. */
static void heap_pop(lua_State *L, queue_t *q, int si) {
  lua_Integer n = q->n - 1, path[64], i = 1;
  int depth = 0;
  lua_rawgeti(L, si, 1);                 /* stack: top */
  lua_rawgeti(L, si, q->n);              /* stack: top, last */
  int li = lua_gettop(L);
  while (2 * i <= n) {                   /* sift `last` down from the root */
    lua_Integer c = 2 * i;
    lua_rawgeti(L, si, c);
    if (c < n) {
      lua_rawgeti(L, si, c + 1);
      if (less(L, -1, -2)) {
        c++;
        lua_remove(L, -2);
      } else {
        lua_pop(L, 1);
      }
    }
    int down = less(L, -1, li);
    lua_pop(L, 1);
    if (!down) break;
    path[depth++] = i = c;
  }
  lua_pushnil(L);
  lua_rawseti(L, si, q->n);
  if (n == 0) {
    lua_pop(L, 1);
    return;
  }
  lua_Integer at = 1;
  for (int d = 0; d < depth; d++) {
    lua_rawgeti(L, si, path[d]);
    lua_rawseti(L, si, at);
    at = path[d];
  }
  lua_rawseti(L, si, at);                /* stack: top */
}

/* ---- storage ---------------------------------------------------------- */

/* Doubles the ring, which is full, in place: the slots before head move
** after the old end, and the new half is filled first so that the table's
** array part covers it. */
static void ring_grow(lua_State *L, queue_t *q, int si) {
  lua_Integer cap = q->mask + 1;
  for (lua_Integer i = cap + 1; i <= 2 * cap; i++) {
    lua_pushboolean(L, 0);
    lua_rawseti(L, si, i);
  }
  for (lua_Integer i = 1; i <= q->head; i++) {
    lua_rawgeti(L, si, i);
    lua_rawseti(L, si, cap + i);
    lua_pushnil(L);
    lua_rawseti(L, si, i);
  }
  q->mask = 2 * cap - 1;
}

/* [item] -> [] : stores an item (the storage table is at si). */
static void store_push(lua_State *L, queue_t *q, int si) {
  switch (q->kind) {
    case ST_RING:
      if (q->n > q->mask) ring_grow(L, q, si);
      lua_rawseti(L, si, ((q->head + q->n) & q->mask) + 1);
      break;
    case ST_STACK:
      lua_rawseti(L, si, q->n + 1);
      break;
    default:
      heap_push(L, q, si);
  }
  q->n++;
}

/* [] -> [item] : takes the next item out (n > 0). */
static void store_pop(lua_State *L, queue_t *q, int si) {
  switch (q->kind) {
    case ST_RING: {
      lua_Integer h = q->head + 1;
      lua_rawgeti(L, si, h);
      lua_pushnil(L);
      lua_rawseti(L, si, h);
      q->head = h & q->mask;
      break;
    }
    case ST_STACK:
      lua_rawgeti(L, si, q->n);
      lua_pushnil(L);
      lua_rawseti(L, si, q->n);
      break;
    default:
      heap_pop(L, q, si);
  }
  q->n--;
}

/* Drops every item. */
static void store_clear(lua_State *L, queue_t *q, int si) {
  for (lua_Integer i = 0; i < q->n; i++) {
    lua_pushnil(L);
    lua_rawseti(L, si, q->kind == ST_RING ? ((q->head + i) & q->mask) + 1
                                          : i + 1);
  }
  q->n = 0;
  q->head = 0;
}

/* [] -> [list] : the items in the order get() would return them (a
** PriorityQueue's in heap order: the caller sorts them). */
static void store_items(lua_State *L, queue_t *q, int si) {
  lua_createtable(L, (int)q->n, 0);
  for (lua_Integer i = 0; i < q->n; i++) {
    lua_Integer at = q->kind == ST_RING    ? ((q->head + i) & q->mask) + 1
                     : q->kind == ST_STACK ? q->n - i
                                           : i + 1;
    lua_rawgeti(L, si, at);
    lua_rawseti(L, -2, i + 1);
  }
}

/* ---- put_nowait and get_nowait ---------------------------------------- */

static int raise_shutdown(lua_State *L, int kind) {
  return aiolua_error(L, "QueueShutDown", "%s on a shut-down queue",
                      op_names[kind]);
}

/* [item] -> [] : put_nowait.  qi: the queue, or 0 when an operation at 1
** is running (the queue is then pushed only to wake a getter). */
static void put_now(lua_State *L, queue_t *q, int qi, int si) {
  if (q->shut) raise_shutdown(L, OP_PUT);
  if (is_full(q)) aiolua_error(L, "QueueFull", "queue is full");
  store_push(L, q, si);
  q->unfinished++;
  if (!waiting(q, W_GETTERS)) return;
  if (qi) wakeup_next(L, q, qi, W_GETTERS);
  else op_wakeup_next(L, q, W_GETTERS);
}

/* [] -> [item] : get_nowait (qi as put_now). */
static void get_now(lua_State *L, queue_t *q, int qi, int si) {
  if (q->n == 0) {
    if (q->shut) raise_shutdown(L, OP_GET);
    aiolua_error(L, "QueueEmpty", "queue is empty");
  }
  store_pop(L, q, si);
  if (!waiting(q, W_PUTTERS)) return;
  if (qi) wakeup_next(L, q, qi, W_PUTTERS);
  else op_wakeup_next(L, q, W_PUTTERS);
}

/* ---- operations ------------------------------------------------------- */

/* [] -> [op] : a new operation of `kind` on the queue at qi. */
static op_t *op_new(lua_State *L, queue_t *q, int qi, int si, int kind) {
  op_t *op = lua_newuserdatauv(L, sizeof *op, OUV_N);
  op->h.magic = &aiolua__cawait_magic;
  op->h.await = op_await;
  op->q = q;
  op->kind = kind;
  op->pending = 0;
  luaL_setmetatable(L, QUEUE_OP_MT);
  lua_pushvalue(L, qi);
  lua_setiuservalue(L, -2, OUV_QUEUE);
  lua_pushvalue(L, si);
  lua_setiuservalue(L, -2, OUV_STORE);
  return op;
}

/* The waiting parts of the operations (CPython's loops), on the stack
** 1 op, 2 storage, 3 item (nil for get and join), 4 the waiter future. */
static int put_wait(lua_State *L);
static int get_wait(lua_State *L);

/* After a wake-up, tries again; after an error (cancellation), unlinks
** the future and re-raises. */
static int park_k(lua_State *L, int status, lua_KContext kind) {
  op_t *op = lua_touserdata(L, 1);
  queue_t *q = op->q;
  int list = op_list[kind];
  if (status != LUA_OK && status != LUA_YIELD) {  /* stack: .., fut, err */
    aiolua_future_t *f = lua_touserdata(L, 4);
    lua_getiuservalue(L, 1, OUV_QUEUE);  /* 6 */
    if (kind != OP_JOIN) {
      lua_pushvalue(L, 4);
      aiolua__future_cancel(L, f, 0);    /* in case it is still pending */
      lua_pop(L, 1);
    }
    wl_remove(L, q, 6, list, 4);
    /* Woken, then cancelled: pass the wake-up on if it is still useful. */
    if (kind != OP_JOIN && f->state != FUT_CANCELLED &&
        (kind == OP_PUT ? !is_full(q) : q->n > 0))
      wakeup_next(L, q, 6, list);
    lua_settop(L, 5);
    return lua_error(L);
  }
  if (kind == OP_JOIN) return 0;
  lua_settop(L, 3);
  return kind == OP_PUT ? put_wait(L) : get_wait(L);
}

/* Parks the task on a new future at the end of the operation's list, then
** goes on in park_k.  Stack: op, storage, item. */
static int park(lua_State *L, op_t *op, int kind) {
  lua_settop(L, 3);
  aiolua__future_new(L, KIND_FUTURE, sizeof(aiolua_future_t), FUTURE_NUV);
  lua_getiuservalue(L, 1, OUV_QUEUE);    /* stack: op, st, item, fut, q */
  wl_push(L, op->q, 5, op_list[kind], 4);
  lua_pop(L, 1);
  lua_pushcfunction(L, aiolua__await);
  lua_pushvalue(L, 4);
  return park_k(L, lua_pcallk(L, 1, 0, 0, kind, park_k), kind);
}

/* put: waits while the queue is full, then puts with put_nowait (which
** raises if the queue was shut down meanwhile). */
static int put_wait(lua_State *L) {
  op_t *op = lua_touserdata(L, 1);
  if (is_full(op->q)) {
    if (op->q->shut) return raise_shutdown(L, OP_PUT);
    return park(L, op, OP_PUT);
  }
  lua_settop(L, 3);
  put_now(L, op->q, 0, 2);
  return 0;
}

/* get: waits while the queue is empty, then gets with get_nowait. */
static int get_wait(lua_State *L) {
  op_t *op = lua_touserdata(L, 1);
  if (op->q->n == 0) {
    if (op->q->shut) return raise_shutdown(L, OP_GET);
    return park(L, op, OP_GET);
  }
  lua_settop(L, 2);
  get_now(L, op->q, 0, 2);
  return 1;
}

/* Awaits the operation at 1 (await's C awaitable entry, which has told
** it by its header): does the put, get or join. */
static int op_await(lua_State *L) {
  op_t *op = lua_touserdata(L, 1);
  aiolua__check_in_task(L);
  if (!op->pending)
    return aiolua_error(L, "RuntimeError",
                        "cannot reuse already awaited coroutine");
  op->pending = 0;
  queue_t *q = op->q;
  if (lua_gettop(L) != 1) lua_settop(L, 1);
  lua_getiuservalue(L, 1, OUV_STORE);    /* stack: op, storage */
  switch (op->kind) {
    case OP_PUT:
      lua_getiuservalue(L, 1, OUV_ITEM);  /* stack: op, storage, item */
      lua_pushnil(L);
      lua_setiuservalue(L, 1, OUV_ITEM);
      if ((lua_Number)q->n >= q->limit) return put_wait(L);
      store_push(L, q, 2);
      q->unfinished++;
      op_wakeup_next(L, q, W_GETTERS);
      return 0;
    case OP_GET:
      if (q->n == 0) {
        lua_pushnil(L);
        return get_wait(L);
      }
      store_pop(L, q, 2);                /* stack: op, storage, item */
      op_wakeup_next(L, q, W_PUTTERS);
      return 1;
    default:
      if (q->unfinished == 0) return 0;
      lua_pushnil(L);
      return park(L, op, OP_JOIN);
  }
}

/* op:await() */
static int l_op_await(lua_State *L) {
  op_t *op = lua_touserdata(L, 1);
  if (op == NULL || lua_rawlen(L, 1) != sizeof *op ||
      op->h.magic != &aiolua__cawait_magic || op->h.await != op_await)
    return luaL_typeerror(L, 1, "queue operation");
  return op_await(L);
}

static op_t *checkop(lua_State *L) {
  return luaL_checkudata(L, 1, QUEUE_OP_MT);
}

/* op:close(): drops an operation that will not be awaited. */
static int l_op_close(lua_State *L) {
  checkop(L)->pending = 0;
  lua_pushnil(L);
  lua_setiuservalue(L, 1, OUV_ITEM);
  return 0;
}

static int l_op_tostring(lua_State *L) {
  op_t *op = checkop(L);
  lua_pushfstring(L, "<coroutine %s.%s %s>", class_names[op->q->kind],
                  op_names[op->kind], op->pending ? "created" : "done");
  return 1;
}

/* ---- queue methods: closures, upvalues 1 the queue, 2 its storage, 3 the
** reusable operation of put, get and join; they check that self is the
** queue object they belong to ------------------------------------------- */

#define QUEUE_UV lua_upvalueindex(1)
#define STORE_UV lua_upvalueindex(2)
#define OP_UV lua_upvalueindex(3)

static void check_self(lua_State *L, const queue_t *q) {
  if (lua_topointer(L, 1) != q->self) luaL_typeerror(L, 1, "queue (use ':')");
}

static queue_t *self_queue(lua_State *L) {
  queue_t *q = lua_touserdata(L, QUEUE_UV);
  check_self(L, q);
  return q;
}

/* [] -> [op] : q:put(item), q:get(), q:join() -> operation.  The
** closure's operation is handed out again once it is no longer pending.
** A pending one may never be awaited (a task cancelled before it ran):
** the new operation made in its place becomes the closure's, so the queue
** keeps no reference to the old one. */
static int make_op(lua_State *L, int kind) {
  lua_pushvalue(L, OP_UV);               /* one upvalue access, not two */
  op_t *op = lua_touserdata(L, -1);
  check_self(L, op->q);
  if (op->pending) {
    lua_pop(L, 1);
    op = op_new(L, op->q, QUEUE_UV, STORE_UV, kind);
    lua_pushvalue(L, -1);
    lua_replace(L, OP_UV);
  }
  op->pending = 1;
  return 1;
}

static int l_put(lua_State *L) {
  make_op(L, OP_PUT);                    /* stack: self, item, .., op */
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, OUV_ITEM);
  return 1;
}

static int l_get(lua_State *L) {
  return make_op(L, OP_GET);
}

static int l_join(lua_State *L) {
  return make_op(L, OP_JOIN);
}

static int l_put_nowait(lua_State *L) {
  queue_t *q = self_queue(L);
  lua_settop(L, 2);
  put_now(L, q, QUEUE_UV, STORE_UV);
  return 0;
}

static int l_get_nowait(lua_State *L) {
  get_now(L, self_queue(L), QUEUE_UV, STORE_UV);
  return 1;
}

/* Marks one item taken by get() as processed; join() returns when every
** item put has been marked.  Raises ValueError when called too often. */
static int l_task_done(lua_State *L) {
  queue_t *q = self_queue(L);
  if (q->unfinished <= 0)
    return aiolua_error(L, "ValueError", "task_done() called too many times");
  if (--q->unfinished == 0 && waiting(q, W_JOINERS))
    wakeup_all(L, q, QUEUE_UV, W_JOINERS);
  return 0;
}

static int l_qsize(lua_State *L) {
  lua_pushinteger(L, self_queue(L)->n);
  return 1;
}

static int l_empty(lua_State *L) {
  lua_pushboolean(L, self_queue(L)->n == 0);
  return 1;
}

static int l_full(lua_State *L) {
  lua_pushboolean(L, is_full(self_queue(L)));
  return 1;
}

/* Shuts the queue down: put raises QueueShutDown from now on, get does
** once the queue is empty; waiting putters and getters wake to find out.
** With `immediate` the items left are dropped (and count as done). */
static int l_shutdown(lua_State *L) {
  queue_t *q = self_queue(L);
  q->shut = 1;
  q->limit = -1;                         /* every put takes the slow path */
  if (lua_toboolean(L, 2)) {
    q->unfinished = q->unfinished > q->n ? q->unfinished - q->n : 0;
    store_clear(L, q, STORE_UV);
    if (q->unfinished == 0) wakeup_all(L, q, QUEUE_UV, W_JOINERS);
  }
  wakeup_all(L, q, QUEUE_UV, W_GETTERS);
  wakeup_all(L, q, QUEUE_UV, W_PUTTERS);
  return 0;
}

/* q:_state() -> n, unfinished, shut down, list of the items (tostring). */
static int l_state(lua_State *L) {
  queue_t *q = self_queue(L);
  lua_pushinteger(L, q->n);
  lua_pushinteger(L, q->unfinished);
  lua_pushboolean(L, q->shut);
  store_items(L, q, STORE_UV);
  return 4;
}

/* new(q, class, maxsize) -> q : makes the table q a queue of `class`
** ("Queue", "LifoQueue" or "PriorityQueue"): sets its waiter lists and
** its methods. */
static int l_new(lua_State *L) {
  static const struct { const char *name; lua_CFunction fn; int op; } m[] = {
    {"put", l_put, OP_PUT}, {"get", l_get, OP_GET}, {"join", l_join, OP_JOIN},
    {"put_nowait", l_put_nowait, -1}, {"get_nowait", l_get_nowait, -1},
    {"task_done", l_task_done, -1}, {"qsize", l_qsize, -1},
    {"empty", l_empty, -1}, {"full", l_full, -1},
    {"shutdown", l_shutdown, -1}, {"_state", l_state, -1}};
  luaL_checktype(L, 1, LUA_TTABLE);
  int kind = luaL_checkoption(L, 2, NULL, class_names);
  lua_Number maxsize = luaL_checknumber(L, 3);
  lua_settop(L, 3);
  queue_t *q = lua_newuserdatauv(L, sizeof *q, QUV_N);  /* 4: queue */
  memset(q, 0, sizeof *q);
  q->kind = kind;
  q->self = lua_topointer(L, 1);
  q->maxsize = maxsize;
  q->limit = maxsize > 0 ? maxsize : HUGE_VAL;
  lua_Integer cap = 16;
  while (kind == ST_RING && maxsize > 0 && cap < maxsize && cap < 1024)
    cap *= 2;
  q->mask = cap - 1;
  lua_createtable(L, kind == ST_RING ? (int)cap : 0, 0);  /* 5: storage */
  lua_pushvalue(L, 5);
  lua_setiuservalue(L, 4, QUV_STORE);
  lua_createtable(L, 0, 1);              /* 6: the lists' metatable */
  lua_pushvalue(L, 4);
  lua_pushcclosure(L, wl_index, 1);
  lua_setfield(L, 6, "__index");
  for (int i = 0; i < 3; i++) {
    q->w[i].first = 1;
    lua_newtable(L);
    lua_pushvalue(L, 6);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 4, QUV_LISTS + i);
    lua_setfield(L, 1, list_fields[i]);
  }
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 5);
    if (m[i].op >= 0) op_new(L, q, 4, 5, m[i].op);
    lua_pushcclosure(L, m[i].fn, m[i].op >= 0 ? 3 : 2);
    lua_setfield(L, 1, m[i].name);
  }
  lua_pushvalue(L, 3);
  lua_setfield(L, 1, "maxsize");
  lua_settop(L, 1);
  return 1;
}

int luaopen_aiolua_queue(lua_State *L);
int luaopen_aiolua_queue(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"new", l_new}, {"less", l_less}, {NULL, NULL}};
  luaL_newmetatable(L, QUEUE_OP_MT);     /* stack: mt */
  lua_createtable(L, 0, 2);              /* stack: mt, methods */
  lua_pushcfunction(L, l_op_await);
  lua_setfield(L, -2, "await");
  lua_pushcfunction(L, l_op_close);
  lua_setfield(L, -2, "close");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_op_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
