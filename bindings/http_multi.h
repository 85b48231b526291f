/*
** http_multi.h -- libcurl multi-socket API driven by a libuv loop.
** One http_multi_t owns one CURLM: a uv_poll_t per socket curl asks to
** watch and one uv_timer_t for curl's timeout.  Transfers are http_xfer_t
** records embedded in the caller's structures.  Their events reach the
** caller only after curl has returned, never from inside a curl callback,
** so the caller may add, remove and pause transfers from its callbacks.
** No Lua in here; bindings/http.c wraps it.
*/
#ifndef AIOLUA_HTTP_MULTI_H
#define AIOLUA_HTTP_MULTI_H

#include "curl_lazy.h"
#include <uv.h>

typedef struct http_multi http_multi_t;
typedef struct http_xfer http_xfer_t;

/* A transfer: the easy handle plus the adapter's bookkeeping.  Embed it
** in a larger record; the adapter sets CURLOPT_PRIVATE to it. */
struct http_xfer {
  CURL *easy;
  http_multi_t *multi;     /* non-NULL while added to a multi */
  http_xfer_t *next;       /* event queue link */
  unsigned char queued;    /* in the event queue */
};

/* The transfer's state changed (http_multi_signal was called for it from
** a curl callback).  Runs after curl returned. */
typedef void (*http_event_cb)(http_xfer_t *x, void *data);

/* The transfer finished with `rc`; it has already been removed from the
** multi, so its connection is back in the pool. */
typedef void (*http_done_cb)(http_xfer_t *x, CURLcode rc, void *data);

/* The multi is closed and every libuv handle of it has been freed. */
typedef void (*http_closed_cb)(void *data);

/* Creates a multi on `loop`.  `data` is passed to the callbacks.  NULL on
** failure. */
http_multi_t *http_multi_new(uv_loop_t *loop, http_event_cb on_event,
                             http_done_cb on_done, void *data);

/* The CURLM, for curl_multi_setopt (limits, pipelining). */
CURLM *http_multi_curlm(http_multi_t *m);

/* Adds x->easy; the transfer starts at the next loop iteration. */
CURLMcode http_multi_add(http_multi_t *m, http_xfer_t *x);

/* Removes x from its multi, aborting the transfer if it still runs, and
** drops its pending event.  Idempotent.  Never call it from inside a curl
** callback. */
void http_multi_remove(http_xfer_t *x);

/* From inside a curl callback of x (write, header): queues one event for x,
** delivered once curl has returned. */
void http_multi_signal(http_xfer_t *x);

/* Unpauses x (curl_easy_pause with CURLPAUSE_CONT) and delivers the events
** this raised.  Not from inside a curl callback. */
CURLcode http_multi_resume(http_xfer_t *x);

/* Counts for tests and debugging: transfers added, sockets watched. */
void http_multi_stats(const http_multi_t *m, int *nxfers, int *nsockets);

/* Closes the multi: the caller must have removed its transfers.  Cleans up
** the CURLM, closes every handle and calls `cb(data)` from the last close
** callback, after which m is freed.  Safe from the adapter's own callbacks
** (the close then completes when they return). */
void http_multi_close(http_multi_t *m, http_closed_cb cb, void *data);

#endif
