/*
** bare-coroutines.c -- the architecture limits for W1, W3 and W4.
** `spawn N` and `pingpong N` are bare Lua 5.4 coroutines created, resumed
** and finished from C, with no scheduler, no futures and no event loop:
** spawn mirrors W1 (create N coroutines, run each to its first yield, then
** resume each to the end and collect its result), pingpong W4 (N resumes
** alternating between two coroutines).  The floors `spawn-api`,
** `pingpong-api` and `queue-api` run the workload's own Lua code over the
** least C its API can have; `queue-lazy-api` is W3's with put and get
** lazy, as Python's.  Prints one RESULT line.
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

/* pingpong-api: W4's own Lua code (a new future per switch, wake the
** other player, await) over the least C a futures design can have: a
** userdata of a future's size, set_result that flips a field, await that
** yields.  No scheduler: C resumes the two coroutines in turn.  This is
** the floor of W4 for any runtime built on Lua 5.4 and its C API. */
typedef struct bc_fut { void *rt; int state, nres; void *w[4]; } bc_fut;

static int bc_newfut(lua_State *L) {
  bc_fut *f = lua_newuserdatauv(L, sizeof(bc_fut), 3);
  memset(f, 0, sizeof *f);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  return 1;
}

static int bc_set_result(lua_State *L) {
  ((bc_fut *)lua_touserdata(L, 1))->state = 1;
  return 0;
}

static int bc_await(lua_State *L) {
  return lua_yield(L, 0);
}

static void bc_pingpong_api(lua_State *L, long n) {
  int nres;
  bc_load(L, "return function(newfut)\n"   /* stack: maker */
             "  return function(me, other, box)\n"
             "    while true do\n"
             "      local f = newfut()\n"
             "      box[me] = f\n"
             "      local o = box[other]\n"
             "      if o then box[other] = nil; o:set_result(true) end\n"
             "      f:await()\n"
             "    end\n"
             "  end\n"
             "end");
  luaL_newmetatable(L, "bc_fut");          /* stack: maker, mt */
  lua_newtable(L);
  lua_pushcfunction(L, bc_set_result);
  lua_setfield(L, -2, "set_result");
  lua_pushcfunction(L, bc_await);
  lua_setfield(L, -2, "await");
  lua_setfield(L, -2, "__index");
  lua_pushcclosure(L, bc_newfut, 1);       /* stack: maker, newfut */
  lua_call(L, 1, 1);                       /* stack: body */
  lua_newtable(L);                         /* stack: body, box */
  lua_State *co[2];
  for (int k = 0; k < 2; k++) {
    co[k] = lua_newthread(L);               /* anchored on L's stack */
    lua_pushvalue(L, 1);
    lua_pushinteger(L, k + 1);
    lua_pushinteger(L, 2 - k);
    lua_pushvalue(L, 2);
    lua_xmove(L, co[k], 4);
  }
  double t0 = bc_now();
  for (long i = 0; i < n; i++) {
    lua_State *c = co[i & 1];
    bc_resume(L, c, i < 2 ? 3 : 0, &nres);
    lua_pop(c, nres);
  }
  double dt = bc_now() - t0;
  lua_settop(L, 0);
  printf("RESULT n=%ld time=%.6f switches_per_s=%.0f hwm_kb=%ld\n", n, dt,
         (double)n / dt, bc_status_kb("VmHWM:"));
}

/* queue-api: W3's own Lua code (q:put(i):await(), q:get():await()) over
** the least C a queue can have: a ring of 100 Lua values, put and get
** that yield only when the ring is full or empty, await that returns what
** the operation left.  C resumes the 4 producers and 4 consumers in turn,
** with no futures, so this is W3's floor on Lua 5.4 and its C API. */
typedef struct bc_queue { int head, len, max; } bc_queue;

/* W3's producer and consumer, as one function of (q, count, producer). */
static const char bc_queue_body[] =
    "return function(q, count, producer)\n"
    "  if producer then\n"
    "    for i = 1, count do q:put(i):await() end\n"
    "    return\n"
    "  end\n"
    "  local n = 0\n"
    "  while n < count do local x = q:get():await(); n = n + 1 end\n"
    "end";

/* Stack: body, q.  Runs 4 producers and 4 consumers of n / 4 items each
** over q, resumed in turn from C until all are done; prints RESULT. */
static void bc_queue_run(lua_State *L, long n) {
  int nres, nco = 8;
  lua_State *co[8];
  int alive[8];
  for (int k = 0; k < nco; k++) {
    co[k] = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushinteger(L, n / 4);
    lua_pushboolean(L, k < 4);
    lua_xmove(L, co[k], 4);
    alive[k] = 1;
  }
  double t0 = bc_now();
  for (int left = nco, first = 1; left > 0; first = 0)
    for (int k = 0; k < nco; k++) {
      if (!alive[k]) continue;
      if (bc_resume(L, co[k], first ? 3 : 0, &nres) == LUA_OK) {
        alive[k] = 0;
        left--;
      }
      lua_pop(co[k], nres);
    }
  double dt = bc_now() - t0;
  lua_settop(L, 0);
  printf("RESULT n=%ld time=%.6f items_per_s=%.0f hwm_kb=%ld\n", n / 4 * 4,
         dt, (double)(n / 4 * 4) / dt, bc_status_kb("VmHWM:"));
}


static int bc_put_k(lua_State *L, int status, lua_KContext ctx) {
  bc_queue *q = lua_touserdata(L, 1);
  (void)status; (void)ctx;
  if (q->len == q->max) return lua_yieldk(L, 0, 0, bc_put_k);
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, (q->head + q->len++) % q->max + 1);
  lua_settop(L, 1);
  return 1;
}

static int bc_put(lua_State *L) { return bc_put_k(L, LUA_OK, 0); }

static int bc_get_k(lua_State *L, int status, lua_KContext ctx) {
  bc_queue *q = lua_touserdata(L, 1);
  (void)status; (void)ctx;
  if (q->len == 0) return lua_yieldk(L, 0, 0, bc_get_k);
  lua_getiuservalue(L, 1, 1);
  lua_rawgeti(L, -1, q->head + 1);        /* the value, kept for await */
  lua_setiuservalue(L, 1, 2);
  q->head = (q->head + 1) % q->max;
  q->len--;
  lua_settop(L, 1);
  return 1;
}

static int bc_get(lua_State *L) { return bc_get_k(L, LUA_OK, 0); }

static int bc_qawait(lua_State *L) {
  lua_getiuservalue(L, 1, 2);
  return 1;
}

static void bc_queue_api(lua_State *L, long n) {
  bc_load(L, bc_queue_body);               /* stack: body */
  bc_queue *q = lua_newuserdatauv(L, sizeof *q, 2);
  q->head = q->len = 0;
  q->max = 100;
  lua_createtable(L, q->max, 0);
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);                         /* stack: body, q, mt */
  lua_newtable(L);
  lua_pushcfunction(L, bc_put);
  lua_setfield(L, -2, "put");
  lua_pushcfunction(L, bc_get);
  lua_setfield(L, -2, "get");
  lua_pushcfunction(L, bc_qawait);
  lua_setfield(L, -2, "await");
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, 2);                  /* stack: body, q */
  bc_queue_run(L, n);
}

/* queue-lazy-api: the same, with the operations of Python's asyncio.Queue
** (and aiolua's): q:put(x) and q:get() only make an operation, a userdata
** that does the work when awaited; the queue hands out one reusable
** operation per kind, and put's carries its item in a uservalue.  Still
** no futures, no waiter lists, no checks: the least C an API whose put
** and get are lazy can have on Lua 5.4. */
typedef struct bc_lop {
  bc_queue *q;
  int put;
} bc_lop;

/* Stack: op, item (put) or op (get); uservalue 2 of an op is the ring. */
static int bc_lop_k(lua_State *L, int status, lua_KContext ctx) {
  bc_lop *op = lua_touserdata(L, 1);
  bc_queue *q = op->q;
  (void)status; (void)ctx;
  if (op->put ? q->len == q->max : q->len == 0)
    return lua_yieldk(L, 0, 0, bc_lop_k);
  lua_getiuservalue(L, 1, 2);
  if (op->put) {
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, (q->head + q->len++) % q->max + 1);
    return 0;
  }
  lua_rawgeti(L, -1, q->head + 1);
  q->head = (q->head + 1) % q->max;
  q->len--;
  return 1;
}

static int bc_lop_await(lua_State *L) {
  bc_lop *op = lua_touserdata(L, 1);
  lua_settop(L, 1);
  if (op->put) lua_getiuservalue(L, 1, 1);  /* the item, to stack 2 */
  return bc_lop_k(L, LUA_OK, 0);
}

/* q:put(x) and q:get(): upvalue 1 is the queue's operation. */
static int bc_lput(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static int bc_lget(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  return 1;
}

static void bc_queue_lazy_api(lua_State *L, long n) {
  bc_load(L, bc_queue_body);               /* stack: body */
  bc_queue *q = lua_newuserdatauv(L, sizeof *q, 0);  /* 2: queue state */
  q->head = q->len = 0;
  q->max = 100;
  lua_createtable(L, q->max, 0);                     /* 3: the ring */
  lua_newtable(L);                                   /* 4: op metatable */
  lua_newtable(L);
  lua_pushcfunction(L, bc_lop_await);
  lua_setfield(L, -2, "await");
  lua_setfield(L, -2, "__index");
  lua_newtable(L);                                   /* 5: the queue */
  for (int put = 1; put >= 0; put--) {
    bc_lop *op = lua_newuserdatauv(L, sizeof *op, 2);
    op->q = q;
    op->put = put;
    lua_pushvalue(L, 4);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, -2, 2);
    lua_pushvalue(L, 2);                             /* keeps q alive */
    lua_setiuservalue(L, -2, 1);
    lua_pushcclosure(L, put ? bc_lput : bc_lget, 1);
    lua_setfield(L, 5, put ? "put" : "get");
  }
  lua_replace(L, 2);
  lua_settop(L, 2);                                  /* stack: body, q */
  bc_queue_run(L, n);
}

/* spawn-api: W1's own Lua code (create_task(child(i)) for i = 1..N, each
** task awaiting sleep(0) and returning i, then gather(tasks):await()) over
** the least C an asyncio API can have: async functions that make a
** coroutine object (a userdata holding the function and its arguments),
** tasks that are a userdata holding a thread, a FIFO ready ring of
** threads, sleep(0) that yields, and gather that numbers its tasks, parks
** the main coroutine and fills a results table as they return.  No futures,
** no callbacks, no event loop, no error handling.  This is W1's floor on
** Lua 5.4 and its C API: every GC object it makes per task (coroutine
** object, task, thread) the asyncio API itself requires. */
typedef struct bc_task { lua_State *co; long idx; } bc_task;
typedef struct bc_sched {
  bc_task **ring;
  long head, len, cap;
  long pending;                 /* tasks gather still waits for */
  int results;                  /* registry ref of gather's results */
} bc_sched;

static bc_sched *bc_sched_of(lua_State *L) {
  return lua_touserdata(L, lua_upvalueindex(1));
}

static void bc_ready(bc_sched *s, bc_task *t) {
  if (s->len == s->cap) {
    long cap = s->cap ? s->cap * 2 : 1024;
    bc_task **r = malloc((size_t)cap * sizeof *r);
    if (r == NULL) abort();
    for (long i = 0; i < s->len; i++) r[i] = s->ring[(s->head + i) % s->cap];
    free(s->ring);
    s->ring = r;
    s->head = 0;
    s->cap = cap;
  }
  s->ring[(s->head + s->len++) % s->cap] = t;
}

/* async_fn(args...) -> coroutine object: uservalue 1 the body, 2.. args */
static int bc_coro_new(lua_State *L) {
  int nargs = lua_gettop(L);
  lua_newuserdatauv(L, sizeof(int), nargs + 1);
  *(int *)lua_touserdata(L, -1) = nargs;
  lua_insert(L, 1);
  for (int i = nargs; i >= 1; i--) lua_setiuservalue(L, 1, i + 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setiuservalue(L, 1, 1);
  return 1;
}

static int bc_async(lua_State *L) {
  lua_settop(L, 1);
  lua_pushcclosure(L, bc_coro_new, 1);
  return 1;
}

/* create_task(coro) -> task: a thread running the body with its args */
static int bc_create_task(lua_State *L) {
  bc_sched *s = bc_sched_of(L);
  int nargs = *(int *)lua_touserdata(L, 1);
  bc_task *t = lua_newuserdatauv(L, sizeof *t, 1);  /* stack: coro, task */
  lua_State *co = t->co = lua_newthread(L);
  t->idx = 0;
  for (int i = 1; i <= nargs + 1; i++) lua_getiuservalue(L, 1, i);
  lua_xmove(L, co, nargs + 1);                      /* co: body, args... */
  lua_setiuservalue(L, 2, 1);                       /* the task holds co */
  bc_ready(s, t);
  return 1;
}

static int bc_sleep0_await(lua_State *L) {
  return lua_yield(L, 0);
}

static int bc_sleep(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));    /* the one sleep(0) object */
  return 1;
}

/* gather(tasks) -> an object whose await numbers the tasks, makes the
** results table and parks the main coroutine. */
static int bc_gather(lua_State *L) {
  lua_settop(L, 1);
  lua_newuserdatauv(L, 0, 1);
  lua_insert(L, 1);
  lua_setiuservalue(L, 1, 1);
  lua_pushvalue(L, lua_upvalueindex(1));    /* its metatable */
  lua_setmetatable(L, 1);
  return 1;
}

static int bc_gather_await(lua_State *L) {
  bc_sched *s = bc_sched_of(L);
  lua_getiuservalue(L, 1, 1);               /* stack: gather, tasks */
  long n = (long)luaL_len(L, 2);
  for (long i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    ((bc_task *)lua_touserdata(L, -1))->idx = i;
    lua_pop(L, 1);
  }
  lua_createtable(L, (int)n, 1);
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  s->results = luaL_ref(L, LUA_REGISTRYINDEX);
  s->pending = n;
  return lua_yield(L, 0);
}

static void bc_spawn_api(lua_State *L, long n) {
  int nres;
  bc_sched *s = lua_newuserdatauv(L, sizeof *s, 0);   /* stack: s */
  memset(s, 0, sizeof *s);
  lua_newtable(L);                                   /* stack: s, asyncio */
  lua_pushcfunction(L, bc_async);
  lua_setfield(L, -2, "async");
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, bc_create_task, 1);
  lua_setfield(L, -2, "create_task");
  lua_newuserdatauv(L, 0, 0);                        /* the sleep(0) */
  lua_newtable(L);
  lua_newtable(L);
  lua_pushcfunction(L, bc_sleep0_await);
  lua_setfield(L, -2, "await");
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushcclosure(L, bc_sleep, 1);
  lua_setfield(L, -2, "sleep");
  lua_newtable(L);                                   /* gather's metatable */
  lua_newtable(L);
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, bc_gather_await, 1);
  lua_setfield(L, -2, "await");
  lua_setfield(L, -2, "__index");
  lua_pushcclosure(L, bc_gather, 1);
  lua_setfield(L, -2, "gather");
  lua_State *main_co = lua_newthread(L);             /* stack: s, aio, main */
  bc_load(main_co,
          "return function(asyncio, N)\n"
          "  local function body(i)\n"
          "    asyncio.sleep(0):await()\n"
          "    return i\n"
          "  end\n"
          "  local child = asyncio.async(body)\n"
          "  local tasks = {}\n"
          "  for i = 1, N do tasks[i] = asyncio.create_task(child(i)) end\n"
          "  local res = asyncio.gather(tasks):await()\n"
          "  assert(res.n == N and res[N] == N)\n"
          "end");
  lua_pushvalue(L, 2);
  lua_pushinteger(L, n);
  lua_xmove(L, main_co, 2);
  long rss0 = bc_status_kb("VmRSS:");
  double t0 = bc_now();
  if (bc_resume(L, main_co, 2, &nres) != LUA_YIELD) {
    fprintf(stderr, "bare-coroutines: main did not reach gather\n");
    exit(1);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->results);     /* stack: .., results */
  int ri = lua_gettop(L);
  while (s->len > 0) {
    bc_task *t = s->ring[s->head];
    s->head = (s->head + 1) % s->cap;
    s->len--;
    if (bc_resume(L, t->co, lua_status(t->co) == LUA_OK ?
                  lua_gettop(t->co) - 1 : 0, &nres) == LUA_YIELD) {
      lua_pop(t->co, nres);
      bc_ready(s, t);
      continue;
    }
    lua_xmove(t->co, L, 1);
    lua_rawseti(L, ri, t->idx);
    t->co = NULL;
    if (--s->pending == 0) break;
  }
  lua_pushvalue(L, ri);
  lua_xmove(L, main_co, 1);
  if (bc_resume(L, main_co, 1, &nres) != LUA_OK) {
    fprintf(stderr, "bare-coroutines: main did not finish\n");
    exit(1);
  }
  double dt = bc_now() - t0;
  free(s->ring);
  lua_settop(L, 0);
  printf("RESULT n=%ld time=%.6f rss0_kb=%ld hwm_kb=%ld\n", n, dt, rss0,
         bc_status_kb("VmHWM:"));
}

/* The Lua state runs on aiolua's own allocator (runtime/alloc.c, linked
** in), as aiolua does, so a limit never differs from aiolua by allocator;
** BC_ALLOC=libc selects Lua's default, malloc. */
struct aiolua_alloc;
lua_State *aiolua__newstate(struct aiolua_alloc **ap);
void aiolua__alloc_free(struct aiolua_alloc *a);

/* BC_GC=gen|stop selects Lua's generational collector or none, to show
** how much of a workload is garbage collection (default: incremental). */
static void bc_gcmode(lua_State *L, const char *mode) {
  if (mode && strcmp(mode, "gen") == 0) lua_gc(L, LUA_GCGEN, 0, 0);
  else if (mode && strcmp(mode, "stop") == 0) lua_gc(L, LUA_GCSTOP);
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "spawn") && strcmp(argv[1], "pingpong") &&
                    strcmp(argv[1], "pingpong-api") &&
                    strcmp(argv[1], "queue-api") &&
                    strcmp(argv[1], "queue-lazy-api") &&
                    strcmp(argv[1], "spawn-api"))) {
    fprintf(stderr,
            "usage: %s spawn|spawn-api|pingpong|pingpong-api|queue-api|"
            "queue-lazy-api [N]\n",
            argv[0]);
    return 2;
  }
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
  struct aiolua_alloc *a = NULL;
  const char *alloc = getenv("BC_ALLOC");
  lua_State *L = alloc && strcmp(alloc, "libc") == 0 ? luaL_newstate()
                                                    : aiolua__newstate(&a);
  if (L == NULL) return 1;
  luaL_openlibs(L);
  bc_gcmode(L, getenv("BC_GC"));
  if (strcmp(argv[1], "spawn") == 0) bc_spawn(L, n);
  else if (strcmp(argv[1], "spawn-api") == 0) bc_spawn_api(L, n);
  else if (strcmp(argv[1], "pingpong-api") == 0) bc_pingpong_api(L, n);
  else if (strcmp(argv[1], "queue-api") == 0) bc_queue_api(L, n);
  else if (strcmp(argv[1], "queue-lazy-api") == 0) bc_queue_lazy_api(L, n);
  else bc_pingpong(L, n);
  lua_close(L);
  aiolua__alloc_free(a);
  return 0;
}
