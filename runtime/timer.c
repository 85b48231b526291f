/*
** timer.c -- the runtime's timers: a binary min-heap of aiolua_timer_t
** ordered by (deadline, insertion order), driven by one uv_timer_t armed
** for the earliest deadline.  A heap entry costs one pointer, so 100,000
** sleeping tasks cost 100,000 pointers, not 100,000 uv handles.
** Design note: fire() callbacks run from the uv timer callback; they only
** settle futures or queue work (never run Lua), so removal during the
** sweep is safe: the sweep re-reads the heap top each time.
*/
#include <math.h>
#include <stdlib.h>
#include "internal.h"

static int before(const aiolua_timer_t *a, const aiolua_timer_t *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(aiolua_runtime_t *rt, aiolua_timer_t *t, int i) {
  rt->heap[i] = t;
  t->idx = i;
}

static void sift_up(aiolua_runtime_t *rt, int i) {
  aiolua_timer_t *t = rt->heap[i];
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (!before(t, rt->heap[parent])) break;
    place(rt, rt->heap[parent], i);
    i = parent;
  }
  place(rt, t, i);
}

static void sift_down(aiolua_runtime_t *rt, int i) {
  aiolua_timer_t *t = rt->heap[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= rt->nheap) break;
    if (c + 1 < rt->nheap && before(rt->heap[c + 1], rt->heap[c])) c++;
    if (!before(rt->heap[c], t)) break;
    place(rt, rt->heap[c], i);
    i = c;
  }
  place(rt, t, i);
}

/* Arms the uv timer for the heap's top, or stops it when the heap is empty. */
static void rearm(aiolua_runtime_t *rt);


static void uvtimer_cb(uv_timer_t *h) {
  aiolua_runtime_t *rt = h->data;
  uint64_t now = uv_now(rt->loop);
  rt->in_sweep = 1;
  while (rt->nheap > 0 && rt->heap[0]->when <= now) {
    aiolua_timer_t *t = rt->heap[0];
    aiolua__timer_stop(rt, t);
    t->fire(rt, t);
  }
  rt->in_sweep = 0;
  rearm(rt);
}

static void rearm(aiolua_runtime_t *rt) {
  if (rt->nheap == 0) {
    uv_timer_stop(&rt->uvtimer);
    return;
  }
  uint64_t now = uv_now(rt->loop), when = rt->heap[0]->when;
  uv_timer_start(&rt->uvtimer, uvtimer_cb, when > now ? when - now : 0, 0);
}

uint64_t aiolua__ms(double seconds) {
  if (!(seconds > 0)) return 0;  /* also NaN */
  if (seconds > 1e12) return (uint64_t)1e15;
  return (uint64_t)ceil(seconds * 1000.0);
}

/* Starts t to fire `ms` milliseconds from now. */
void aiolua__timer_start(aiolua_runtime_t *rt, aiolua_timer_t *t, uint64_t ms) {
  if (rt->nheap == rt->heap_cap) {
    int cap = rt->heap_cap ? rt->heap_cap * 2 : 64;
    aiolua_timer_t **h = realloc(rt->heap, cap * sizeof *h);
    if (h == NULL) abort();  /* XXX: no way to report OOM from here */
    rt->heap = h;
    rt->heap_cap = cap;
  }
  uv_update_time(rt->loop);  /* deadlines count from now, not from the
                                start of this loop iteration */
  t->when = uv_now(rt->loop) + ms;
  t->seq = rt->timer_seq++;
  place(rt, t, rt->nheap++);
  sift_up(rt, t->idx);
  if (t->idx == 0) rearm(rt);
}

/* Removes t from the heap if it is there.  Idempotent. */
void aiolua__timer_stop(aiolua_runtime_t *rt, aiolua_timer_t *t) {
  int i = t->idx;
  if (i < 0) return;
  t->idx = -1;
  aiolua_timer_t *last = rt->heap[--rt->nheap];
  if (i != rt->nheap) {
    place(rt, last, i);
    sift_up(rt, i);
    sift_down(rt, last->idx);
  }
  /* A stale uv timer would keep the loop alive until a deadline that no
     longer exists. */
  if (i == 0 && !rt->in_sweep) rearm(rt);
}

void aiolua__timer_init(aiolua_runtime_t *rt) {
  uv_timer_init(rt->loop, &rt->uvtimer);
  rt->uvtimer.data = rt;
}

void aiolua__timer_close(aiolua_runtime_t *rt) {
  uv_close((uv_handle_t *)&rt->uvtimer, NULL);
  free(rt->heap);
  rt->heap = NULL;
  rt->nheap = rt->heap_cap = 0;
}
