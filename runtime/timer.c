/*
** timer.c -- the runtime's timers, driven by one uv_timer_t armed for the
** earliest deadline.  As Node.js does, timers are kept in one FIFO list
** per duration: a timer started later with the same duration is due later
** (the loop's clock never goes back), so a list is sorted by itself and a
** start or a stop is O(1).  A small binary min-heap orders the lists by
** their first deadline, and a hash table finds the list of a duration.
** 100,000 sleep(1) calls make one list and touch no timer but their own,
** where a heap of timers paid a cache miss per level on every removal.
** Ties between lists go by start order (seq), so timers fire in the order
** CPython's heap gives: by deadline, then first started first.
** Design note: fire() callbacks run from the uv timer callback; they only
** settle futures or queue work (never run Lua), so a stop during the
** sweep is safe: the sweep re-reads the earliest list each time.  A fire()
** stops its timer itself once it cannot fail: one that runs out of memory
** first is started again to retry 1 ms later, and the sweep goes on with
** the others.  So a timer is never lost half-fired, nor holds up the rest.
*/
#include <math.h>
#include <stdlib.h>
#include "internal.h"

/* The timers of one duration, in start order. */
struct aiolua_tlist {
  uint64_t ms;
  aiolua_timer_t *head, *tail;
  int hidx;                     /* position in the heap */
};

/* ---- the heap of lists, by (first deadline, start order) ------------- */

static int before(const aiolua_tlist_t *a, const aiolua_tlist_t *b) {
  const aiolua_timer_t *x = a->head, *y = b->head;
  return x->when < y->when || (x->when == y->when && x->seq < y->seq);
}

static void place(aiolua_runtime_t *rt, aiolua_tlist_t *l, int i) {
  rt->heap[i] = l;
  l->hidx = i;
}

static void sift_up(aiolua_runtime_t *rt, int i) {
  aiolua_tlist_t *l = rt->heap[i];
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (!before(l, rt->heap[parent])) break;
    place(rt, rt->heap[parent], i);
    i = parent;
  }
  place(rt, l, i);
}

static void sift_down(aiolua_runtime_t *rt, int i) {
  aiolua_tlist_t *l = rt->heap[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= rt->nheap) break;
    if (c + 1 < rt->nheap && before(rt->heap[c + 1], rt->heap[c])) c++;
    if (!before(rt->heap[c], l)) break;
    place(rt, rt->heap[c], i);
    i = c;
  }
  place(rt, l, i);
}

static void heap_remove(aiolua_runtime_t *rt, aiolua_tlist_t *l) {
  int i = l->hidx;
  aiolua_tlist_t *last = rt->heap[--rt->nheap];
  if (i != rt->nheap) {
    place(rt, last, i);
    sift_up(rt, i);
    sift_down(rt, last->hidx);
  }
}

/* ---- duration -> list: open addressing, linear probing --------------- */

static size_t slot_of(const aiolua_runtime_t *rt, uint64_t ms) {
  return (size_t)((ms * 0x9E3779B97F4A7C15u) >> 32) & (rt->tmap_cap - 1);
}

static aiolua_tlist_t *map_get(const aiolua_runtime_t *rt, uint64_t ms) {
  if (rt->tmap_cap == 0) return NULL;
  for (size_t i = slot_of(rt, ms);; i = (i + 1) & (rt->tmap_cap - 1)) {
    aiolua_tlist_t *l = rt->tmap[i];
    if (l == NULL || l->ms == ms) return l;
  }
}

static void map_insert(aiolua_runtime_t *rt, aiolua_tlist_t *l) {
  size_t i = slot_of(rt, l->ms);
  while (rt->tmap[i]) i = (i + 1) & (rt->tmap_cap - 1);
  rt->tmap[i] = l;
  rt->tmap_len++;
}

/* Makes room for one more list (load at most 1/2).  0 on OOM. */
static int map_reserve(aiolua_runtime_t *rt) {
  if (2 * (rt->tmap_len + 1) <= rt->tmap_cap) return 1;
  size_t cap = rt->tmap_cap ? rt->tmap_cap * 2 : 16;
  aiolua_tlist_t **old = rt->tmap, **m = calloc(cap, sizeof *m);
  if (m == NULL) return 0;
  size_t oldcap = rt->tmap_cap;
  rt->tmap = m;
  rt->tmap_cap = cap;
  rt->tmap_len = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i]) map_insert(rt, old[i]);
  free(old);
  return 1;
}

/* Removes l, shifting back the entries of its probe run. */
static void map_remove(aiolua_runtime_t *rt, aiolua_tlist_t *l) {
  size_t mask = rt->tmap_cap - 1, i = slot_of(rt, l->ms);
  while (rt->tmap[i] != l) i = (i + 1) & mask;
  for (size_t j = (i + 1) & mask; rt->tmap[j]; j = (j + 1) & mask) {
    size_t home = slot_of(rt, rt->tmap[j]->ms);
    /* move j back to i unless its home lies cyclically in (i, j] */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      rt->tmap[i] = rt->tmap[j];
      i = j;
    }
  }
  rt->tmap[i] = NULL;
  rt->tmap_len--;
}

/* ---- the uv timer ------------------------------------------------------ */

/* Arms the uv timer for the earliest deadline, or stops it. */
static void rearm(aiolua_runtime_t *rt);

/* Fires the timers that are due; each fire() stops its timer.
** Protected: a fire() may run out of memory (making room for a future's
** callbacks), and a Lua error must not unwind through libuv's frames. */
static int fire_due(lua_State *L) {
  aiolua_runtime_t *rt = lua_touserdata(L, 1);
  uint64_t now = uv_now(rt->loop);
  while (rt->nheap > 0 && rt->heap[0]->head->when <= now) {
    aiolua_timer_t *t = rt->heap[0]->head;
    rt->firing = t;
    t->fire(rt, t);
  }
  rt->firing = NULL;
  return 0;
}

static void uvtimer_cb(uv_timer_t *h) {
  aiolua_runtime_t *rt = h->data;
  lua_State *L = rt->L;
  rt->in_sweep = 1;
  lua_pushcfunction(L, fire_due);
  lua_pushlightuserdata(L, rt);
  int stuck = 0;
  while (lua_pcall(L, 1, 0, 0) != LUA_OK) {  /* a fire() ran out of */
    lua_pop(L, 1);                            /* memory: its timer again */
    aiolua_timer_t *t = rt->firing;           /* in 1 ms, then the rest */
    rt->firing = NULL;
    if (t == NULL) {                          /* the call itself failed */
      stuck = 1;
      break;
    }
    if (t->list && aiolua__timer_start(rt, t, 1) < 0)
      fprintf(stderr, "aiolua: out of memory: a timer is lost\n");
    lua_pushcfunction(L, fire_due);
    lua_pushlightuserdata(L, rt);
  }
  rt->in_sweep = 0;
  if (stuck)                  /* later, and not in this pass of the loop */
    uv_timer_start(&rt->uvtimer, uvtimer_cb, 1, 0);
  else
    rearm(rt);
}

static void rearm(aiolua_runtime_t *rt) {
  if (rt->nheap == 0) {
    uv_timer_stop(&rt->uvtimer);
    return;
  }
  uint64_t now = uv_now(rt->loop), when = rt->heap[0]->head->when;
  uv_timer_start(&rt->uvtimer, uvtimer_cb, when > now ? when - now : 0, 0);
}

uint64_t aiolua__ms(double seconds) {
  if (!(seconds > 0)) return 0;  /* also NaN */
  if (seconds > 1e12) return (uint64_t)1e15;
  return (uint64_t)ceil(seconds * 1000.0);
}

/* Starts t to fire `ms` milliseconds from now (again, if it ran).  0, or
** -1 when out of memory for the list of a new duration (t is then
** stopped, nothing else changed). */
int aiolua__timer_start(aiolua_runtime_t *rt, aiolua_timer_t *t, uint64_t ms) {
  aiolua__timer_stop(rt, t);
  aiolua_tlist_t *l = map_get(rt, ms);
  if (l == NULL) {                        /* memory first, then changes */
    if (rt->nheap == rt->heap_cap) {
      int cap = rt->heap_cap ? rt->heap_cap * 2 : 16;
      aiolua_tlist_t **h = realloc(rt->heap, cap * sizeof *h);
      if (h == NULL) return -1;
      rt->heap = h;
      rt->heap_cap = cap;
    }
    if (!map_reserve(rt) || (l = malloc(sizeof *l)) == NULL) return -1;
    l->head = NULL;
  }
  uv_update_time(rt->loop);  /* deadlines count from now, not from the
                                start of this loop iteration */
  t->when = uv_now(rt->loop) + ms;
  t->seq = rt->timer_seq++;
  t->next = NULL;
  if (l->head) {                          /* due after every timer in l */
    t->prev = l->tail;
    l->tail->next = t;
    l->tail = t;
    t->list = l;
    return 0;
  }
  l->ms = ms;
  l->head = l->tail = t;
  t->prev = NULL;
  t->list = l;
  map_insert(rt, l);
  place(rt, l, rt->nheap++);
  sift_up(rt, l->hidx);
  if (l->hidx == 0) rearm(rt);
  return 0;
}

/* Removes t from its list if it is started.  Idempotent. */
void aiolua__timer_stop(aiolua_runtime_t *rt, aiolua_timer_t *t) {
  aiolua_tlist_t *l = t->list;
  if (l == NULL) return;
  t->list = NULL;
  int first = l->head == t, was_top = l->hidx == 0;
  if (t->prev) t->prev->next = t->next; else l->head = t->next;
  if (t->next) t->next->prev = t->prev; else l->tail = t->prev;
  if (!first) return;                     /* l's deadline did not move */
  if (l->head == NULL) {
    heap_remove(rt, l);
    map_remove(rt, l);
    free(l);
  } else {
    sift_down(rt, l->hidx);
  }
  /* A stale uv timer would keep the loop alive until a deadline that no
     longer exists. */
  if (was_top && !rt->in_sweep) rearm(rt);
}

/* 1 and the earliest deadline in *when, or 0 if no timer is started. */
int aiolua__timer_next(const aiolua_runtime_t *rt, uint64_t *when) {
  if (rt->nheap == 0) return 0;
  *when = rt->heap[0]->head->when;
  return 1;
}

void aiolua__timer_init(aiolua_runtime_t *rt) {
  uv_timer_init(rt->loop, &rt->uvtimer);
  rt->uvtimer.data = rt;
}

/* Forgets every started timer (marks it stopped) and frees the lists: the
** timers live in Lua memory, so this runs while the Lua state is open. */
/* Frees the lists and the duration map, touching no timer. */
static void free_lists(aiolua_runtime_t *rt) {
  for (int i = 0; i < rt->nheap; i++) free(rt->heap[i]);
  rt->nheap = 0;
  free(rt->tmap);
  rt->tmap = NULL;
  rt->tmap_cap = rt->tmap_len = 0;
}

void aiolua__timer_clear(aiolua_runtime_t *rt) {
  for (int i = 0; i < rt->nheap; i++)
    for (aiolua_timer_t *t = rt->heap[i]->head; t; t = t->next) t->list = NULL;
  free_lists(rt);
  uv_timer_stop(&rt->uvtimer);
}

void aiolua__timer_close(aiolua_runtime_t *rt) {
  uv_close((uv_handle_t *)&rt->uvtimer, NULL);
  /* lists made after aiolua__timer_clear, by finalizers that armed a
  ** timer during lua_close (their timers went with the Lua memory) */
  free_lists(rt);
  free(rt->heap);
  rt->heap = NULL;
  rt->heap_cap = 0;
}
