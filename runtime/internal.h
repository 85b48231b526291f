/*
** internal.h -- records shared by the files of the core (runtime/ and the
** core binding bindings/asyncio.c).  Nothing here is public API.
*/
#ifndef AIOLUA_INTERNAL_H
#define AIOLUA_INTERNAL_H

#include <stdint.h>
#include <lauxlib.h>
#include "aiolua.h"

#define AIOLUA_FUTURE_MT "aiolua.Future"
#define AIOLUA_TASK_MT "aiolua.Task"
#define AIOLUA_CORO_MT "aiolua.Coroutine"
#define AIOLUA_ERROR_MT "aiolua.Error"

/* Future states. */
enum { FUT_PENDING, FUT_DONE, FUT_FAILED, FUT_CANCELLED };

/* Future kinds: plain, task, sleep (a timer armed when first awaited). */
enum { KIND_FUTURE, KIND_TASK, KIND_SLEEP };

#define FUT_MAGIC 0x46757455u  /* "UtuF" */

/* Future flags. */
#define FUT_RETRIEVED 0x01 /* its exception was seen by someone */
#define FUT_HASCB 0x02     /* uservalue UV_CBS holds extra waiters */
#define FUT_ARMED 0x04     /* sleep: timer in the heap */
#define FUT_ANCHORED 0x08  /* held by a registry ref (anchor) */
#define FUT_LUACANCEL 0x10 /* extras.cancel overrides cancel() */
#define FUT_CBLIST 0x20    /* UV_CBS is a list, not a single waiter */
#define FUT_MARK 0x40      /* scratch mark (gather's duplicate check) */
#define FUT_SHARED 0x80    /* the shared sleep(0): never changes state */
#define FUT_CWONLY 0x100   /* UV_CBS is one C waiter and nothing else */
#define FUT_CWHOLD 0x200   /* done, its C waiter queued: held (anchor, or a
                              task's slot) until the waiter runs */

/* Uservalue slots of future and task userdata. */
#define UV_RESULT 1 /* nil, the single result, a table of results, or error */
#define UV_CBS 2    /* list of waiters: Task userdata or functions */
#define UV_EXTRA 3  /* table of rarely used fields (name, tb, cancel...) */
#define UV_THREAD 4 /* task only: what it will call (a coroutine object or
                       a pack of fn and args) until its first step, then
                       its coroutine until it finishes */
#define FUTURE_NUV 3
#define TASK_NUV 4

typedef struct aiolua_task aiolua_task_t;

/* Integer keys of a Lua table managed from C: a stack of free ones, much
** cheaper than luaL_ref's free list kept in a large table (which costs a
** border search per call). */
typedef struct aiolua_slots {
  int *free;
  int nfree, cap, top;
} aiolua_slots_t;
typedef struct aiolua_alloc aiolua_alloc_t;

/* A timer; embedded in what owns it (timer.c keeps it in the list of
** its duration). */
typedef struct aiolua_tlist aiolua_tlist_t;
typedef struct aiolua_timer {
  uint64_t when;                     /* loop time, ms */
  uint64_t seq;                      /* start order: FIFO among equal deadlines */
  struct aiolua_timer *prev, *next;  /* in its list */
  aiolua_tlist_t *list;              /* NULL when not started */
  void (*fire)(aiolua_runtime_t *rt, struct aiolua_timer *t);
} aiolua_timer_t;

struct aiolua_future {
  aiolua_runtime_t *rt;
  uint8_t kind, state;
  uint16_t flags;
  int nres;               /* number of results when DONE */
  aiolua_task_t *waiter;  /* the first task awaiting it (fast path) */
  int anchor;             /* registry ref while anchored */
  uint32_t magic;         /* FUT_MAGIC: tells a future without its
                             metatable (aiolua_tofuture) */
  aiolua_cancel_cb cancel_cb;
  void *cancel_data;
  struct aiolua_cwaiter *cw;  /* the C waiter in UV_CBS, if FUT_CWONLY */
};

/* A sleep future: its timer and delay. */
typedef struct aiolua_sleep {
  aiolua_future_t fut;
  aiolua_timer_t timer;
  double delay;
} aiolua_sleep_t;

struct aiolua_task {
  aiolua_future_t fut;
  lua_State *co;             /* its coroutine, NULL once finished */
  aiolua_future_t *awaiting; /* the future it is parked on */
  int ref;                   /* anchor in the task table while alive */
  unsigned id;
  int ncancel;               /* pending cancel requests (cancelling()) */
  uint8_t started, scheduled, must_cancel;
  uint8_t cancel_walk;       /* on the chain a cancel() is walking */
  uint8_t zombie;            /* its thread ended but its end could not be
                                recorded (out of memory): retried */
};

/* A C waiter: a userdata whose block starts with this record, put in a
** future's waiter list (aiolua__future_add_callback).  When the future is
** done, the scheduler calls fn in FIFO order with the waiter at widx and
** the future at fidx: a done callback in C, without a Lua call.
** early, if set, is offered the call first, when the future settles as
** the waiter's lone callback and no earlier call of the waiter is still
** queued: it may take it (returns 1) if running it then cannot be told
** from running it in its turn, as gather counting a child that is not its
** last.  It must not touch the Lua state. */
typedef struct aiolua_cwaiter {
  void (*fn)(lua_State *L, int widx, int fidx);
  int (*early)(struct aiolua_cwaiter *w, aiolua_future_t *f);
  int queued;   /* its calls waiting in the ready queue */
} aiolua_cwaiter_t;

/* A C awaitable: a full userdata whose block starts with this record (the
** queue's operations).  aiolua__await tells one by its magic word and
** calls `await` in its own frame, the awaitable at index 1: no metatable
** lookup on the path of every `await q:get()`. */
typedef struct aiolua_cawait {
  const void *magic;       /* &aiolua__cawait_magic */
  lua_CFunction await;
} aiolua_cawait_t;
extern const char aiolua__cawait_magic;

/* A C call for the ready queue (RQ_C): a record whose first field is the
** function, which gets the record itself. */
typedef struct aiolua_rqcall {
  void (*fn)(aiolua_runtime_t *rt, struct aiolua_rqcall *self);
} aiolua_rqcall_t;

/* Ready queue entries: 16 bytes, as the ring holds one per task alive. */
enum { RQ_TASK, RQ_CB, RQ_CW, RQ_CW1, RQ_C };
typedef struct rq_entry {
  void *p;      /* task (RQ_TASK), held future (RQ_CW1), aiolua_rqcall_t */
  uint8_t kind;
} rq_entry_t;

struct aiolua_runtime {
  uv_loop_t *loop, own_loop;
  lua_State *L;     /* main thread */
  aiolua_alloc_t *alloc;
  int flags;
  /* ready queue: a ring buffer */
  rq_entry_t *rq;
  size_t rq_head, rq_len, rq_cap;
  uv_idle_t idle;   /* active while the ready queue is not empty */
  /* timers: a list per duration, a min-heap of the lists, a hash table
     from duration to list, one uv timer for the earliest deadline */
  aiolua_tlist_t **heap;
  int nheap, heap_cap;
  aiolua_tlist_t **tmap;
  size_t tmap_cap, tmap_len;
  uint64_t timer_seq;
  int in_sweep;
  struct aiolua_timer *firing;  /* the timer whose fire() runs */
  uv_timer_t uvtimer;
  /* tasks */
  aiolua_task_t *current;
  aiolua_task_t *starting;  /* a task making its thread (task.c's start) */
  aiolua_task_t *finishing; /* a task settling its outcome (task.c's finish) */
  unsigned task_seq;
  int ntasks;            /* alive (not done) tasks */
  int nhandles;          /* call_soon/call_later handles armed or queued */
  void *cur_loop;        /* the loop object current now (asyncio.c) */
  int tasks_ref;         /* registry: alive tasks, by slot */
  aiolua_slots_t task_slots;
  int anchors_ref;       /* registry: table of anchored futures */
  aiolua_slots_t anchor_slots;
  int cbq_ref;           /* registry: fn, arg pairs of RQ_CB entries */
  lua_Integer cbq_head, cbq_tail;
  int mt_future_ref, mt_task_ref, mt_coro_ref; /* plain metatables */
  int mt_future_gc_ref, mt_task_gc_ref;  /* the same with __gc */
  int mt_coro_gc_ref;                    /* the same with __gc */
  void **fresh;          /* coroutine objects not yet flushed (await.c) */
  int nfresh, fresh_cap, fresh_hw;
  int fresh_ref;         /* registry: table holding them */
  int mt_cwaiter_ref;                    /* C waiters */
  /* run state */
  int running;           /* inside aiolua_run / run_until_complete */
  int loop_err;          /* the drain raised inside a run: the error is */
  int loop_err_ref;      /* in the registry at this ref, for loop_run */
  aiolua_task_t *main;   /* the main task of the innermost run */
  int cb_entered;        /* set by aiolua__callback_entry */
  int cb_again;          /* the entry just run goes back to the queue */
  int cb_misses;         /* callbacks in a row that could not be called */
  uv_async_t interrupt;
  int closing;
};

/* runtime.c */
void aiolua__new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                       lua_CFunction gc);
void *aiolua__checkself(lua_State *L, const char *tname);
int aiolua__slot_alloc(aiolua_slots_t *s);
void aiolua__slot_release(aiolua_slots_t *s, int slot);
void aiolua__slot_clear(lua_State *L, int t, aiolua_slots_t *s, int *slot);
aiolua_runtime_t *aiolua__rt(lua_State *L);
void aiolua__mark_task_thread(lua_State *co);
int aiolua__run_main(lua_State *L, int nargs, int keep_tasks);
int aiolua__all_tasks(lua_State *L);

/* sched.c: the ready queue and the only lua_resume caller */
int aiolua__cb_call(lua_State *L, int nargs, int msgh);
int aiolua__rq_reserve(aiolua_runtime_t *rt, size_t n);
int aiolua__rq_reserve_more(aiolua_runtime_t *rt, int tasks, int handles);
void aiolua__rq_push_task(aiolua_runtime_t *rt, aiolua_task_t *t);
void aiolua__rq_push_c(aiolua_runtime_t *rt, aiolua_rqcall_t *call);
void aiolua__rq_push_cb(lua_State *L);  /* [fn, arg] -> [] */
void aiolua__cbq_reserve(lua_State *L, aiolua_runtime_t *rt, int pairs);
void aiolua__rq_push_cw(lua_State *L);  /* [cwaiter, fut] -> [] */
void aiolua__rq_push_cw1(aiolua_runtime_t *rt, aiolua_future_t *f);
aiolua_cwaiter_t *aiolua__new_cwaiter(lua_State *L, size_t size, int nuv);
int aiolua__rq_run(aiolua_runtime_t *rt);
int aiolua__loop_run(lua_State *L, aiolua_runtime_t *rt, aiolua_task_t *until);
void aiolua__sched_init(aiolua_runtime_t *rt);
void aiolua__sched_close(aiolua_runtime_t *rt);

/* timer.c */
int aiolua__timer_start(aiolua_runtime_t *rt, aiolua_timer_t *t, uint64_t ms);
void aiolua__timer_stop(aiolua_runtime_t *rt, aiolua_timer_t *t);
int aiolua__timer_next(const aiolua_runtime_t *rt, uint64_t *when);
void aiolua__timer_init(aiolua_runtime_t *rt);
void aiolua__timer_clear(aiolua_runtime_t *rt);
void aiolua__timer_close(aiolua_runtime_t *rt);
uint64_t aiolua__ms(double seconds);

/* future.c */
aiolua_future_t *aiolua__future_new(lua_State *L, int kind, size_t size,
                                    int nuv);
aiolua_future_t *aiolua__asfuture(lua_State *L, void *p, size_t len);
aiolua_future_t *aiolua__checkfuture(lua_State *L, int idx);
int aiolua__outcome(lua_State *L, int idx, aiolua_future_t *f);
void aiolua__future_methods(lua_State *L);
void aiolua__report_unretrieved(lua_State *L, int idx, const char *what);
void aiolua__future_settle(lua_State *L, aiolua_future_t *f, int state,
                           int n);
int aiolua__future_cancel(lua_State *L, aiolua_future_t *f, int msgidx);
void aiolua__future_add_waiter(lua_State *L, aiolua_future_t *f,
                               aiolua_task_t *t);
void aiolua__future_anchor(lua_State *L, aiolua_future_t *f, int idx);
void aiolua__future_unanchor(lua_State *L, aiolua_future_t *f);
void aiolua__future_push_held(lua_State *L, aiolua_future_t *f);
void aiolua__future_release(lua_State *L, aiolua_future_t *f);
void aiolua__sleep_arm(lua_State *L, aiolua_sleep_t *s);
int aiolua__getextra(lua_State *L, int idx, const char *field);
void aiolua__setextra(lua_State *L, int idx, const char *field);
void aiolua__future_open(lua_State *L);
void aiolua__new_metatables(lua_State *L, const char *name, int idx_methods,
                            lua_CFunction tostring, lua_CFunction gc,
                            int *ref, int *gc_ref);
void aiolua__future_add_callback(lua_State *L, int fidx, aiolua_future_t *f);
void aiolua__push_cancelled(lua_State *L, int idx);
int aiolua__push_first_result(lua_State *L, int idx, aiolua_future_t *f);
void aiolua__adopt_exception(lua_State *L, int idx, aiolua_future_t *f,
                             int srcidx, aiolua_future_t *src);

/* task.c */
aiolua_task_t *aiolua__task_new(lua_State *L, int nargs);
void aiolua__task_step(aiolua_runtime_t *rt, aiolua_task_t *t);
int aiolua__task_step_failed(aiolua_runtime_t *rt);
int aiolua__task_cancel(lua_State *L, aiolua_task_t *t, int msgidx);
aiolua_task_t *aiolua__totask(lua_State *L, int idx);
void aiolua__task_open(lua_State *L);
void aiolua__pushtask(lua_State *L, aiolua_task_t *t);
int aiolua__await(lua_State *L);
void aiolua__check_in_task(lua_State *L);
int aiolua__iscoro(lua_State *L, int idx);
int aiolua__coro_unpack(lua_State *L, int idx);
void aiolua__coro_claim(lua_State *L, int idx);
int aiolua__coro_push_body(lua_State *L, int idx);
void aiolua__coro_pack(lua_State *L, int nargs);
void aiolua__coro_flush(lua_State *L, aiolua_runtime_t *rt);
int aiolua__async(lua_State *L);
int aiolua__push_async_body(lua_State *L, int idx);
int aiolua__isawaitable_obj(lua_State *L, int idx);
void aiolua__await_open(lua_State *L);

/* error.c */
#define AIOLUA_EXC_HANDLERS "aiolua.exc_handlers"  /* registry: loop ->
                                                      exception handler */
int aiolua__msgh(lua_State *L);  /* [err] -> [ctx] */
int aiolua__callback_entry(lua_State *L);  /* [fn, args...] -> [] */
int aiolua__push_coro_name(lua_State *L, const lua_Debug *ar);  /* [f] -> [name] */
void aiolua__report_failure(lua_State *L, int status, const char *message,
                            const char *k1, int i1, const char *k2, int i2);
int aiolua__call_exception_handler(lua_State *L);
int aiolua__default_exception_handler(lua_State *L);
void aiolua__error_open(lua_State *L);
void aiolua__error_funcs(lua_State *L);
int aiolua__task_entry(lua_State *L);
void aiolua__pushtraceback(lua_State *L, lua_State *co, int erridx,
                           int level);

/* alloc.c */
lua_State *aiolua__newstate(aiolua_alloc_t **ap);
void aiolua__alloc_free(aiolua_alloc_t *a);

/* load.c */
void aiolua__load_open(aiolua_runtime_t *rt);

#define AIOLUA_AWAIT_MARKER ((void *)&aiolua__await_marker)
extern const char aiolua__await_marker;

#endif
