/*
** http_multi.c -- libcurl's multi-socket API on a libuv loop.
** curl says which sockets to watch (sock_cb) and when to time out
** (timer_cb); libuv reports readiness (poll_cb) and expiry (timeout_cb) back
** through curl_multi_socket_action.  After every such call, dispatch()
** delivers the events curl callbacks queued and drains
** curl_multi_info_read.  Socket contexts are keyed by curl_multi_assign and
** freed in their close callbacks.  No Lua here.
*/
#include <stdlib.h>

#include "http_multi.h"

/* A watched socket. */
typedef struct sock {
  uv_poll_t poll;
  curl_socket_t fd;
  http_multi_t *m;
  struct sock *prev, *next;  /* the multi's live list (not while closing) */
} sock_t;

struct http_multi {
  CURLM *curlm;              /* NULL once cleaned up */
  uv_loop_t *loop;
  uv_timer_t timer;
  http_event_cb on_event;
  http_done_cb on_done;
  void *data;
  http_xfer_t *qhead, *qtail;  /* transfers with a pending event */
  sock_t *socks;             /* live socket contexts */
  int nsocks, nxfers;
  int nhandles;              /* uv handles not yet through their close_cb */
  int depth;                 /* dispatch() nesting */
  curl_socket_t *errs;       /* sockets we failed to watch, to report to */
  int nerrs, caperrs;        /* curl as CURL_CSELECT_ERR from timeout_cb */
  int closing;
  http_closed_cb closed_cb;
  void *closed_data;
};

static void finish_close(http_multi_t *m);

/* ---- event queue --------------------------------------------------- */

static void unqueue(http_multi_t *m, http_xfer_t *x) {
  http_xfer_t **pp, *prev = NULL;
  if (!x->queued) return;
  for (pp = &m->qhead; *pp; prev = *pp, pp = &(*pp)->next) {
    if (*pp == x) {
      *pp = x->next;
      if (m->qtail == x) m->qtail = prev;
      break;
    }
  }
  x->next = NULL;
  x->queued = 0;
}

void http_multi_signal(http_xfer_t *x) {
  http_multi_t *m = x->multi;
  if (m == NULL || x->queued) return;
  x->queued = 1;
  x->next = NULL;
  if (m->qtail) m->qtail->next = x; else m->qhead = x;
  m->qtail = x;
}

/* Delivers queued events, then completions, until there are none.  The
** callbacks may add, remove or resume transfers and close the multi:
** every step re-reads the state, and the close finishes at depth 0.
** Messages from curl_multi_info_read are copied before the handle is
** removed (the message dies with it). */
static void dispatch(http_multi_t *m) {
  m->depth++;
  for (;;) {
    http_xfer_t *x = m->qhead;
    CURLMsg *msg;
    int left;
    if (x) {
      m->qhead = x->next;
      if (m->qtail == x) m->qtail = NULL;
      x->next = NULL;
      x->queued = 0;
      m->on_event(x, m->data);
      continue;
    }
    if (m->closing) break;
    msg = curl_multi_info_read(m->curlm, &left);
    if (msg == NULL) break;
    if (msg->msg == CURLMSG_DONE) {
      CURLcode rc = msg->data.result;
      void *priv = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      x = priv;
      http_multi_remove(x);
      m->on_done(x, rc, m->data);
    }
  }
  if (--m->depth == 0 && m->closing && m->curlm) finish_close(m);
}

/* ---- handles --------------------------------------------------------- */

static void handle_closed(http_multi_t *m) {
  if (--m->nhandles == 0 && m->closing) {
    if (m->closed_cb) m->closed_cb(m->closed_data);
    free(m->errs);
    free(m);
  }
}

static void sock_close_cb(uv_handle_t *h) {
  sock_t *c = h->data;
  http_multi_t *m = c->m;
  free(c);
  handle_closed(m);
}

static void timer_close_cb(uv_handle_t *h) {
  handle_closed(h->data);
}

/* Unlinks c and closes its poll handle (which stops it at once). */
static void sock_close(sock_t *c) {
  http_multi_t *m = c->m;
  if (c->prev) c->prev->next = c->next; else m->socks = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = NULL;
  m->nsocks--;
  uv_close((uv_handle_t *)&c->poll, sock_close_cb);
}

static sock_t *sock_find(http_multi_t *m, curl_socket_t fd) {
  sock_t *c;
  for (c = m->socks; c; c = c->next)
    if (c->fd == fd) return c;
  return NULL;
}

/* A new context for fd, or NULL.  A context of ours still watching the
** same descriptor belongs to a socket curl closed without telling us
** (curl issues #3597, #14976): it is stale, so close it and retry. */
static sock_t *sock_open(http_multi_t *m, curl_socket_t fd) {
  sock_t *c = malloc(sizeof *c);
  int uverr;
  if (c == NULL) return NULL;
  uverr = uv_poll_init_socket(m->loop, &c->poll, fd);
  if (uverr == UV_EEXIST) {
    sock_t *stale = sock_find(m, fd);
    if (stale) {
      sock_close(stale);
      uverr = uv_poll_init_socket(m->loop, &c->poll, fd);
    }
  }
  if (uverr < 0) {
    free(c);
    return NULL;
  }
  c->poll.data = c;
  c->fd = fd;
  c->m = m;
  c->prev = NULL;
  c->next = m->socks;
  if (m->socks) m->socks->prev = c;
  m->socks = c;
  m->nsocks++;
  m->nhandles++;
  return c;
}

/* ---- libuv -> curl ------------------------------------------------- */

/* A poll error goes to curl as CURL_CSELECT_ERR: libuv reports a dead
** socket once (UV_EBADF) and then goes quiet, so curl must learn of it
** now or the transfer hangs. */
static void poll_cb(uv_poll_t *p, int status, int events) {
  sock_t *c = p->data;
  http_multi_t *m = c->m;
  int flags = 0, running;
  if (m->closing) return;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  }
  curl_multi_socket_action(m->curlm, c->fd, flags, &running);
  dispatch(m);
}

static void timeout_cb(uv_timer_t *t) {
  http_multi_t *m = t->data;
  int running;
  if (m->closing) return;
  while (m->nerrs > 0 && !m->closing) {
    curl_socket_t fd = m->errs[--m->nerrs];
    curl_multi_socket_action(m->curlm, fd, CURL_CSELECT_ERR, &running);
    dispatch(m);
  }
  if (m->closing) return;
  curl_multi_socket_action(m->curlm, CURL_SOCKET_TIMEOUT, 0, &running);
  dispatch(m);
}

/* A socket curl wants watched cannot be (out of memory, or libuv refuses
** it).  Returning -1 from sock_cb would mark the whole multi dead
** (CURLM_ABORTED_BY_CALLBACK forever), so instead the socket is reported
** to curl as failed on the next timer run, which fails only its transfer. */
static void sock_failed(http_multi_t *m, curl_socket_t fd) {
  if (m->nerrs == m->caperrs) {
    int cap = m->caperrs ? m->caperrs * 2 : 4;
    curl_socket_t *p = realloc(m->errs, (size_t)cap * sizeof *p);
    if (p == NULL) return;  /* the transfer's own timeout will end it */
    m->errs = p;
    m->caperrs = cap;
  }
  m->errs[m->nerrs++] = fd;
  uv_timer_start(&m->timer, timeout_cb, 0, 0);
}

/* ---- curl -> libuv ------------------------------------------------- */

/* CURLMOPT_SOCKETFUNCTION.  Always returns 0 (see sock_failed). */
static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
                   void *socketp) {
  http_multi_t *m = userp;
  sock_t *c = socketp;
  int events = 0;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (c) {
      if (!m->closing) curl_multi_assign(m->curlm, fd, NULL);
      sock_close(c);
    }
    return 0;
  }
  if (m->closing) return 0;
  if (c == NULL) {
    if ((c = sock_open(m, fd)) == NULL) {
      sock_failed(m, fd);
      return 0;
    }
    curl_multi_assign(m->curlm, fd, c);
  }
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  if (events == 0)
    uv_poll_stop(&c->poll);
  else if (uv_poll_start(&c->poll, events, poll_cb) < 0)
    sock_failed(m, fd);
  return 0;
}

/* CURLMOPT_TIMERFUNCTION.  Calling curl from here is forbidden
** (CURLMOPT_TIMERFUNCTION.md), so even a 0 ms timeout goes through the uv
** timer and runs on the loop's next timer phase. */
static int timer_cb(CURLM *cm, long timeout_ms, void *userp) {
  http_multi_t *m = userp;
  (void)cm;
  if (m->nerrs > 0) timeout_ms = 0;     /* failed sockets to report first */
  if (timeout_ms < 0)
    uv_timer_stop(&m->timer);
  else
    uv_timer_start(&m->timer, timeout_cb, (uint64_t)timeout_ms, 0);
  return 0;
}

/* ---- public API ---------------------------------------------------- */

http_multi_t *http_multi_new(uv_loop_t *loop, http_event_cb on_event,
                             http_done_cb on_done, void *data) {
  http_multi_t *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->curlm = curl_multi_init();
  if (m->curlm == NULL) {
    free(m);
    return NULL;
  }
  m->loop = loop;
  m->on_event = on_event;
  m->on_done = on_done;
  m->data = data;
  uv_timer_init(loop, &m->timer);
  m->timer.data = m;
  m->nhandles = 1;
  curl_multi_setopt(m->curlm, CURLMOPT_SOCKETFUNCTION, sock_cb);
  curl_multi_setopt(m->curlm, CURLMOPT_SOCKETDATA, m);
  curl_multi_setopt(m->curlm, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(m->curlm, CURLMOPT_TIMERDATA, m);
  return m;
}

CURLM *http_multi_curlm(http_multi_t *m) { return m->curlm; }

CURLMcode http_multi_add(http_multi_t *m, http_xfer_t *x) {
  CURLMcode mc;
  if (m->closing) return CURLM_BAD_HANDLE;
  curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (void *)x);
  mc = curl_multi_add_handle(m->curlm, x->easy);
  if (mc == CURLM_OK) {
    x->multi = m;
    x->queued = 0;
    x->next = NULL;
    m->nxfers++;
  }
  return mc;
}

void http_multi_remove(http_xfer_t *x) {
  http_multi_t *m = x->multi;
  if (m == NULL) return;
  unqueue(m, x);
  x->multi = NULL;
  m->nxfers--;
  curl_multi_remove_handle(m->curlm, x->easy);
}

CURLcode http_multi_resume(http_xfer_t *x) {
  http_multi_t *m = x->multi;
  CURLcode rc = curl_easy_pause(x->easy, CURLPAUSE_CONT);
  if (m && !m->closing) dispatch(m);
  return rc;
}

void http_multi_stats(const http_multi_t *m, int *nxfers, int *nsockets) {
  if (nxfers) *nxfers = m->nxfers;
  if (nsockets) *nsockets = m->nsocks;
}

/* Cleans up the CURLM (which may still report sockets to sock_cb), then
** closes what is left.  handle_closed frees m after the last close_cb. */
static void finish_close(http_multi_t *m) {
  CURLM *cm = m->curlm;
  curl_multi_cleanup(cm);
  m->curlm = NULL;
  while (m->socks) sock_close(m->socks);
  uv_timer_stop(&m->timer);
  uv_close((uv_handle_t *)&m->timer, timer_close_cb);
}

void http_multi_close(http_multi_t *m, http_closed_cb cb, void *data) {
  if (m->closing) return;
  m->closing = 1;
  m->closed_cb = cb;
  m->closed_data = data;
  m->qhead = m->qtail = NULL;
  if (m->depth == 0) finish_close(m);
}
