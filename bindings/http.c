/*
** http.c -- the C half of asyncio.http (`require "aiolua.http"`).
** A Client owns one curl multi (bindings/http_multi.c) and a pool of slots,
** each an easy handle with its body and header buffers, reused from one
** request to the next.  A request is a Request userdata bound to a slot
** plus a future that its completion resolves; Lua (bindings/http.lua)
** awaits the future and then asks the Request for the Response or error.
** Curl callbacks only fill C buffers; futures are settled after curl
** returns, from the adapter's events, so no Lua runs inside curl.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include "curl_lazy.h"

#include "aiolua.h"
#include "http_multi.h"

#define HTTP_CLIENT_MT "aiolua.http.Client"
#define HTTP_REQUEST_MT "aiolua.http.Request"

#define POOL_MAX 256            /* idle slots kept per client */
#define BUF_KEEP (256 * 1024)   /* larger buffers are freed on recycling */
#define PRESIZE_MAX (64 << 20)  /* most we reserve from Content-Length */
#define STREAM_HIGH (256 * 1024) /* pause a stream above this many bytes */
#define STREAM_LOW (64 * 1024)   /* and resume it below this many */
#define USER_AGENT "aiolua/" AIOLUA_VERSION

/* ---- records --------------------------------------------------------- */

typedef struct buf {
  char *p;
  size_t off, len, cap;  /* unread data is p[off .. len) */
} buf_t;

enum { S_FREE, S_RUNNING, S_DONE };

typedef struct client client_t;
typedef struct request request_t;

/* One transfer: an easy handle and its buffers.  Owned by its client;
** active while a Request uses it, pooled otherwise. */
typedef struct slot {
  http_xfer_t x;            /* first member: (slot_t *)xfer */
  client_t *cl;
  request_t *req;           /* the Request bound to it, or NULL */
  aiolua_future_t *fut;     /* pending future to settle, or NULL */
  struct slot *prev, *next; /* client's active list; idle list uses next */
  struct curl_slist *hdrs;  /* this request's own header list, or NULL */
  buf_t body, head;         /* body; status line + headers of the response */
  curl_off_t max_body;      /* -1: no limit */
  curl_off_t got;           /* body bytes received */
  uint64_t t0, t1;          /* uv_hrtime at start and at completion */
  CURLcode rc;
  unsigned char state;
  unsigned char stream;     /* deliver the body in chunks */
  unsigned char want_head;  /* stream: the future waits for the headers */
  unsigned char headers_done, paused, too_large, nomem, follow;
  unsigned char fresh;      /* easy has only the constant options + plain GET
                               ones: the next request needs no reset */
  char err[CURL_ERROR_SIZE];
} slot_t;

struct client {
  aiolua_runtime_t *rt;
  http_multi_t *m;
  CURLU *u;                 /* scratch handle for checking URLs */
  CURLSH *share;            /* TLS sessions (and cookies) shared by the
                               client's handles */
  struct curl_slist *defhdrs; /* default header lines, or NULL */
  char *lasturl;            /* the last URL check_url accepted, and its */
  size_t lasturl_len;       /* length and scheme, so repeating a URL is */
  int lasturl_https;        /* not parsed again */
  slot_t *active, *idle;
  int nactive, nidle;
  int closed, debug;
  int cookies;              /* a cookie jar: Set-Cookie sticks, as in a
                               session of aiohttp's or httpx's */
};

typedef struct { client_t *cl; } lclient_t;  /* Client userdata */

/* Request userdata.  Once s is released, `lost` says what reading on
** gives: NULL for the end (the body was all read, or the Request closed
** itself), else why the rest of the body is lost. */
struct request {
  slot_t *s;
  const char *lost;
};

#define DBG(cl, ...) \
  do { if ((cl)->debug) fprintf(stderr, "aiolua http: " __VA_ARGS__); } while (0)

/* ---- buffers ----------------------------------------------------------- */

/* Makes room for `extra` more bytes.  0, or -1 when out of memory. */
static int buf_reserve(buf_t *b, size_t extra) {
  size_t need = b->len + extra, cap;
  char *p;
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 1024;
  while (cap < need) cap *= 2;
  if ((p = realloc(b->p, cap)) == NULL) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int buf_add(buf_t *b, const char *s, size_t n) {
  if (n == 0) return 0;
  if (buf_reserve(b, n) < 0) return -1;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

static void buf_clear(buf_t *b, size_t keep) {
  if (b->cap > keep) {
    free(b->p);
    b->p = NULL;
    b->cap = 0;
  }
  b->off = b->len = 0;
}

/* ---- curl callbacks: C only, never Lua --------------------------------- */

/* The status code of the status line at the head of h, or 0. */
static int head_status(const buf_t *h) {
  const char *p = h->len ? memchr(h->p, ' ', h->len) : NULL;
  if (p == NULL || (size_t)(p - h->p) + 4 > h->len) return 0;
  return atoi(p + 1);
}

/* 1 if h has a Location header. */
static int head_has_location(const buf_t *h) {
  size_t i = 0;
  while (i < h->len) {
    const char *line = h->p + i, *nl = memchr(line, '\n', h->len - i);
    size_t n = nl ? (size_t)(nl - line) + 1 : h->len - i;
    if (n > 9 && strncasecmp(line, "location:", 9) == 0) return 1;
    i += n;
  }
  return 0;
}

/* At the blank line ending a header block: 1 if it is the final response,
** not an interim 1xx or a redirect curl is about to follow. */
static int head_is_final(slot_t *s) {
  int st = head_status(&s->head);
  if (st < 200) return 0;
  if (s->follow && (st == 301 || st == 302 || st == 303 || st == 307 ||
                    st == 308) && head_has_location(&s->head))
    return 0;
  return 1;
}

/* CURLOPT_HEADERFUNCTION: keeps the status line and header lines of the
** latest response (a status line starts a new one); drops trailers. */
static size_t header_cb(char *p, size_t size, size_t n, void *ud) {
  slot_t *s = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    s->head.len = 0;
    s->headers_done = 0;
  } else if (s->headers_done) {
    return len;
  }
  if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
    if (head_is_final(s)) {
      s->headers_done = 1;
      if (s->want_head) http_multi_signal(&s->x);
    }
    return len;
  }
  if (buf_add(&s->head, p, len) < 0) {
    s->nomem = 1;
    return 0;
  }
  return len;
}

/* CURLOPT_WRITEFUNCTION: appends to the body, enforcing max_body.  A stream
** whose unread data reaches STREAM_HIGH pauses (curl keeps this piece and
** hands it over again on resume). */
static size_t write_cb(char *p, size_t size, size_t n, void *ud) {
  slot_t *s = ud;
  size_t len = size * n;
  if (s->max_body >= 0 && s->got + (curl_off_t)len > s->max_body) {
    s->too_large = 1;
    return CURL_WRITEFUNC_ERROR;
  }
  if (s->stream) {
    if (s->body.len - s->body.off >= STREAM_HIGH) {
      s->paused = 1;
      return CURL_WRITEFUNC_PAUSE;
    }
    if (s->body.off > 0) {               /* compact: unread data to front */
      memmove(s->body.p, s->body.p + s->body.off, s->body.len - s->body.off);
      s->body.len -= s->body.off;
      s->body.off = 0;
    }
  } else if (s->got == 0) {
    curl_off_t cl = -1;
    curl_easy_getinfo(s->x.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    if (cl > 0 && cl <= PRESIZE_MAX && buf_reserve(&s->body, (size_t)cl) < 0)
      s->nomem = 1;
  }
  if (s->nomem || buf_add(&s->body, p, len) < 0) {
    s->nomem = 1;
    return CURL_WRITEFUNC_ERROR;
  }
  s->got += (curl_off_t)len;
  if (s->stream) {
    s->headers_done = 1;
    http_multi_signal(&s->x);
  }
  return len;
}

/* ---- slots --------------------------------------------------------------- */

static void slot_free(slot_t *s) {
  curl_easy_cleanup(s->x.easy);
  free(s->body.p);
  free(s->head.p);
  free(s);
}

/* The options every request of s has; set on a new or reset easy handle. */
static void slot_constant_options(slot_t *s) {
  CURL *e = s->x.easy;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, s->cl->share);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)s);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->err);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
  curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  if (s->cl->cookies) curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
  s->fresh = 1;
}

/* Takes a slot from the pool (or makes one) and links it active.  Its easy
** handle has the constant options and no request-specific ones but those
** every request sets.  NULL when out of memory. */
static slot_t *slot_get(client_t *cl) {
  slot_t *s = cl->idle;
  if (s) {
    cl->idle = s->next;
    cl->nidle--;
    if (!s->fresh) {
      /* curl 7.88 (Debian 12) loses the COOKIEFILE list in a reset
         (curl#10694): free it first; the client's jar is in the share */
      if (cl->cookies) curl_easy_setopt(s->x.easy, CURLOPT_COOKIEFILE, NULL);
      curl_easy_reset(s->x.easy);
      slot_constant_options(s);
    }
  } else {
    if ((s = calloc(1, sizeof *s)) == NULL) return NULL;
    if ((s->x.easy = curl_easy_init()) == NULL) {
      free(s);
      return NULL;
    }
    s->cl = cl;
    slot_constant_options(s);
  }
  s->req = NULL;
  s->fut = NULL;
  s->hdrs = NULL;
  s->got = 0;
  s->rc = CURLE_OK;
  s->state = S_FREE;
  s->stream = s->want_head = s->headers_done = s->paused = 0;
  s->too_large = s->nomem = s->follow = 0;
  s->err[0] = '\0';
  s->body.off = s->body.len = 0;
  s->head.off = s->head.len = 0;
  s->prev = NULL;
  s->next = cl->active;
  if (cl->active) cl->active->prev = s;
  cl->active = s;
  cl->nactive++;
  return s;
}

/* Stops the transfer of s at once (removing its easy handle), unbinds it
** from its Request and future, and recycles it.  The future, if still
** pending, is left unsettled with its hook removed: callers settle it
** when someone may be waiting.
** Any Lua allocation may run a finalizer that closes the Client or the
** Request and so calls this: a C function holding s across one checks
** afterwards that its Request still has s. */
static void slot_put(slot_t *s) {
  client_t *cl = s->cl;
  http_multi_remove(&s->x);
  if (s->fut) {
    aiolua_future_on_cancel(s->fut, NULL, NULL);
    s->fut = NULL;
  }
  if (s->req) {
    s->req->s = NULL;
    s->req->lost = cl->closed ? "client closed" : "response closed";
    s->req = NULL;
  }
  curl_slist_free_all(s->hdrs);
  s->hdrs = NULL;
  s->state = S_FREE;
  if (s->prev) s->prev->next = s->next; else cl->active = s->next;
  if (s->next) s->next->prev = s->prev;
  cl->nactive--;
  if (cl->closed || cl->nidle >= POOL_MAX) {
    slot_free(s);
    return;
  }
  buf_clear(&s->body, BUF_KEEP);
  buf_clear(&s->head, BUF_KEEP);
  s->prev = NULL;
  s->next = cl->idle;
  cl->idle = s;
  cl->nidle++;
}

/* Resolves the pending future of s (with no values). */
static void slot_settle(slot_t *s) {
  aiolua_future_t *f = s->fut;
  s->fut = NULL;
  aiolua_future_resolve(f, aiolua_runtime_lua(s->cl->rt), 0);
}

/* Cancel hook of a request's future: the transfer is torn down at once and
** the Request unbound (a cancelled stream cannot be read on). */
static void slot_cancel(aiolua_future_t *f, void *data) {
  slot_t *s = data;
  (void)f;
  s->fut = NULL;
  DBG(s->cl, "%p cancelled\n", (void *)s);
  slot_put(s);
}

/* Parks f on s until the transfer makes progress. */
static void slot_park(slot_t *s, aiolua_future_t *f) {
  s->fut = f;
  aiolua_future_on_cancel(f, slot_cancel, s);
}

/* ---- adapter events -------------------------------------------------- */

static void on_event(http_xfer_t *x, void *data) {
  slot_t *s = (slot_t *)x;
  (void)data;
  if (s->fut == NULL) return;
  if (s->want_head ? s->headers_done : s->body.len > s->body.off)
    slot_settle(s);
}

static void on_done(http_xfer_t *x, CURLcode rc, void *data) {
  slot_t *s = (slot_t *)x;
  (void)data;
  s->rc = rc;
  s->state = S_DONE;
  s->t1 = uv_hrtime();
  DBG(s->cl, "%p done: %d\n", (void *)s, (int)rc);
  if (s->fut) slot_settle(s);
}

/* ---- client -------------------------------------------------------------- */

/* Frees what is left once the multi and its handles are gone. */
static void client_free(void *data) {
  client_t *cl = data;
  while (cl->idle) {
    slot_t *s = cl->idle;
    cl->idle = s->next;
    slot_free(s);
  }
  curl_slist_free_all(cl->defhdrs);
  curl_url_cleanup(cl->u);
  if (cl->share) curl_share_cleanup(cl->share);
  free(cl->lasturl);
  free(cl);
}

static client_t *client_new(aiolua_runtime_t *rt) {
  client_t *cl = calloc(1, sizeof *cl);
  if (cl == NULL) return NULL;
  cl->rt = rt;
  cl->debug = (aiolua_runtime_flags(rt) & AIOLUA_DEBUG) != 0;
  cl->u = curl_url();
  cl->share = curl_share_init();
  cl->m = http_multi_new(aiolua_runtime_loop(rt), on_event, on_done, NULL);
  if (cl->u == NULL || cl->share == NULL || cl->m == NULL) {
    if (cl->m) http_multi_close(cl->m, NULL, NULL);
    curl_url_cleanup(cl->u);
    if (cl->share) curl_share_cleanup(cl->share);
    free(cl);
    return NULL;
  }
  curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(http_multi_curlm(cl->m), CURLMOPT_PIPELINING,
                    (long)CURLPIPE_MULTIPLEX);
  return cl;
}

/* Closes cl: every transfer stops now.  With L, pending futures are
** rejected with a ConnectionError; without (from __gc, where nobody can be
** waiting), they are just unhooked.  Memory goes in client_free. */
static void client_close(client_t *cl, lua_State *L) {
  cl->closed = 1;
  while (cl->active) {
    slot_t *s = cl->active;
    aiolua_future_t *f = s->fut;
    slot_put(s);                /* before any allocation (see slot_put) */
    if (f && L) {               /* still anchored by the runtime */
      aiolua_pusherror(L, "ConnectionError", "client closed");
      aiolua_future_reject(f, L);
    }
  }
  DBG(cl, "client %p closed\n", (void *)cl);
  http_multi_close(cl->m, client_free, cl);
}

static client_t *check_client(lua_State *L, int idx) {
  lclient_t *u = luaL_checkudata(L, idx, HTTP_CLIENT_MT);
  if (u->cl == NULL) luaL_error(L, "http client is closed");
  return u->cl;
}

/* Raises the ConnectionError of reading r once its slot is gone early. */
static int request_lost(lua_State *L, request_t *r) {
  return aiolua_error(L, "ConnectionError", "%s",
                      r->lost ? r->lost : "response closed");
}

/* client(max_connections, max_per_host, cookies) -> Client */
static int l_client(lua_State *L) {
  lua_Integer maxconn = luaL_optinteger(L, 1, 0);
  lua_Integer maxhost = luaL_optinteger(L, 2, 0);
  int cookies = lua_toboolean(L, 3);
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  lclient_t *u = lua_newuserdatauv(L, sizeof *u, 0);
  CURLM *cm;
  u->cl = NULL;
  luaL_setmetatable(L, HTTP_CLIENT_MT);
  if ((u->cl = client_new(rt)) == NULL) return luaL_error(L, "out of memory");
  if (cookies) {
    u->cl->cookies = 1;
    curl_share_setopt(u->cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
  }
  cm = http_multi_curlm(u->cl->m);
  if (maxconn > 0)
    curl_multi_setopt(cm, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)maxconn);
  if (maxhost > 0)
    curl_multi_setopt(cm, CURLMOPT_MAX_HOST_CONNECTIONS, (long)maxhost);
  return 1;
}

/* Builds a curl_slist from the array of header lines at idx.  NULL for an
** empty array; raises when out of memory (after freeing the list). */
static struct curl_slist *make_slist(lua_State *L, int idx) {
  struct curl_slist *list = NULL, *t;
  lua_Integer i, n = luaL_len(L, idx);
  for (i = 1; i <= n; i++) {
    const char *line;
    lua_rawgeti(L, idx, i);
    line = lua_tostring(L, -1);
    t = line ? curl_slist_append(list, line) : NULL;
    lua_pop(L, 1);
    if (t == NULL) {
      curl_slist_free_all(list);
      luaL_error(L, line ? "out of memory" : "header line must be a string");
    }
    list = t;
  }
  return list;
}

/* Client:set_headers(lines): the default header lines. */
static int l_client_set_headers(lua_State *L) {
  client_t *cl = check_client(L, 1);
  struct curl_slist *list;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (cl->nactive > 0) return luaL_error(L, "requests are running");
  list = make_slist(L, 2);
  curl_slist_free_all(cl->defhdrs);
  cl->defhdrs = list;
  return 0;
}

/* Checks that url is an absolute http(s) URL; raises InvalidURL if not.
** Returns 1 for https. */
static int check_url(lua_State *L, client_t *cl, const char *url,
                     size_t len) {
  char *scheme = NULL;
  int https = 0, bad = 0;
  CURLUcode uc;
  if (len == cl->lasturl_len && cl->lasturl && memcmp(url, cl->lasturl, len) == 0)
    return cl->lasturl_https;
  uc = curl_url_set(cl->u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
  if (uc == CURLUE_OK)
    uc = curl_url_get(cl->u, CURLUPART_SCHEME, &scheme, 0);
  if (uc == CURLUE_OK) {
    https = strcmp(scheme, "https") == 0;
    bad = !https && strcmp(scheme, "http") != 0;
  }
  curl_free(scheme);
  if (uc != CURLUE_OK || bad) {
    aiolua_pusherror(L, "InvalidURL", "%s: %s",
                     bad ? "unsupported scheme (only http and https)"
                         : curl_url_strerror(uc), url);
    lua_pushstring(L, url);
    lua_setfield(L, -2, "url");
    lua_error(L);
  }
  if (len < 4096) {
    char *p = realloc(cl->lasturl, len + 1);
    if (p) {
      memcpy(p, url, len + 1);
      cl->lasturl = p;
      cl->lasturl_len = len;
      cl->lasturl_https = https;
    }
  }
  return https;
}

/* A timeout argument in seconds as curl's milliseconds: 0 (none) for nil,
** <= 0 or NaN, at least 1, at most about 24 days. */
static long opt_ms(lua_State *L, int idx) {
  lua_Number t = luaL_optnumber(L, idx, 0);
  if (!(t > 0)) return 0;
  if (t >= 2e6) return 2000000000L;
  return t * 1000 < 1 ? 1 : (long)(t * 1000 + 0.5);
}

/* 1 if p[0..n) is an RFC 9110 token (what a method is): no CR, LF,
** space or other separator can reach the request line. */
static int is_token(const char *p, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    int c = (unsigned char)p[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c))))
      return 0;
  }
  return 1;
}

/* Sets the options of one request on s->x.easy from the arguments of
** l_client_start (see there).  A plain GET (no body, default TLS, no proxy)
** only sets options every request sets, so its handle stays `fresh`.
** Allocates nothing in Lua (the arguments are already strings where it
** reads strings), so s cannot be released under it. */
static void slot_setup(lua_State *L, slot_t *s, int https) {
  CURL *e = s->x.easy;
  const char *method = lua_tostring(L, 2);
  size_t bodylen = 0;
  const char *body = lua_tolstring(L, 6, &bodylen);   /* a string or nil */
  lua_Integer maxredirs = luaL_optinteger(L, 10, 10);
  lua_Integer maxbody = luaL_optinteger(L, 11, -1);
  int get = strcmp(method, "GET") == 0;
  curl_easy_setopt(e, CURLOPT_URL, lua_tostring(L, 3));
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, (long)https);
  /* method and body */
  s->fresh = get && !body;
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
  } else if (!get || body) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  }
  if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
      strcmp(method, "PATCH") == 0) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
  }
  /* headers: s->hdrs, or the client's */
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs ? s->hdrs : s->cl->defhdrs);
  /* limits */
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, opt_ms(L, 7));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, opt_ms(L, 8));
  s->follow = lua_isnoneornil(L, 9) || lua_toboolean(L, 9);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, (long)s->follow);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)(maxredirs < 0 ? -1 : maxredirs));
  s->max_body = maxbody < 0 ? -1 : (curl_off_t)maxbody;
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                   (curl_off_t)(maxbody < 0 ? 0 : maxbody));
  /* TLS: verify is true (default), false, or a CA bundle path */
  if (lua_type(L, 12) == LUA_TSTRING) {
    curl_easy_setopt(e, CURLOPT_CAINFO, lua_tostring(L, 12));
    s->fresh = 0;
  } else if (!lua_isnoneornil(L, 12) && !lua_toboolean(L, 12)) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    s->fresh = 0;
  }
  if (lua_type(L, 13) == LUA_TSTRING) {
    curl_easy_setopt(e, CURLOPT_PROXY, lua_tostring(L, 13));
    s->fresh = 0;
  }
}

/* Client:start(method, url, stream, headers, body, timeout, connect_timeout,
**              follow, max_redirects, max_body, verify, proxy)
**   -> Request, Future
** Starts a transfer.  The future resolves (with no values) when it is done,
** or for a stream when the response headers are in.  `headers` is an array
** of "Name: value" lines or nil for the client's defaults; `body` a
** string or nil (curl keeps a pointer to it: the Request holds it).
** Raises InvalidURL before anything starts. */
static int l_client_start(lua_State *L) {
  client_t *cl = check_client(L, 1);
  size_t urllen, mlen;
  const char *method = luaL_checklstring(L, 2, &mlen);
  const char *url = luaL_checklstring(L, 3, &urllen);
  int https, stream = lua_toboolean(L, 4);
  struct curl_slist *hdrs = NULL;
  request_t *r;
  slot_t *s;
  aiolua_future_t *f;
  luaL_argcheck(L, is_token(method, mlen), 2, "invalid method");
  if (!lua_isnoneornil(L, 6)) luaL_checktype(L, 6, LUA_TSTRING);
  https = check_url(L, cl, url, urllen);
  lua_settop(L, 13);
  r = lua_newuserdatauv(L, sizeof *r, 2);   /* stack: args, req */
  r->s = NULL;
  r->lost = NULL;
  luaL_setmetatable(L, HTTP_REQUEST_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, 14, 1);               /* keeps the client alive */
  lua_pushvalue(L, 6);
  lua_setiuservalue(L, 14, 2);               /* keeps the body alive */
  if (lua_istable(L, 5)) hdrs = make_slist(L, 5);
  /* A finalizer run by the allocations above may have closed the client
  ** (cl itself is freed only from a later loop callback). */
  if (cl->closed || (s = slot_get(cl)) == NULL) {
    curl_slist_free_all(hdrs);
    return luaL_error(L, cl->closed ? "http client is closed" : "out of memory");
  }
  s->req = r;
  r->s = s;
  s->hdrs = hdrs;
  s->stream = s->want_head = (unsigned char)stream;
  slot_setup(L, s, https);
  f = aiolua_future_new(L);                  /* stack: args, req, fut */
  if (r->s != s) {                           /* released by a finalizer */
    aiolua_future_resolve(f, L, 0);
    return request_lost(L, r);
  }
  s->t0 = uv_hrtime();
  if (http_multi_add(cl->m, &s->x) != CURLM_OK) {
    slot_put(s);
    aiolua_future_resolve(f, L, 0);
    return aiolua_error(L, "ConnectionError", "cannot start a transfer");
  }
  s->state = S_RUNNING;
  slot_park(s, f);
  DBG(cl, "%p started %s %s\n", (void *)s, method, url);
  return 2;
}

/* Client:close(): stops every transfer (their awaiters get a
** ConnectionError) and frees the client.  Idempotent. */
static int l_client_close(lua_State *L) {
  lclient_t *u = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
  client_t *cl = u->cl;
  if (cl == NULL) return 0;
  u->cl = NULL;
  client_close(cl, L);
  return 0;
}

static int l_client_gc(lua_State *L) {
  lclient_t *u = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
  client_t *cl = u->cl;
  if (cl == NULL) return 0;
  u->cl = NULL;
  client_close(cl, NULL);
  return 0;
}

/* Client:stats() -> {active, idle, transfers, sockets, closed} */
/* [] -> [list] : the cookies of curl's list at 1 (a light userdata):
** Netscape lines of domain, tailmatch, path, secure, expires, name, value. */
static int push_cookies(lua_State *L) {
  const struct curl_slist *c = lua_touserdata(L, 1);
  int n = 0;
  lua_newtable(L);
  for (; c; c = c->next) {
    const char *f[7], *p = c->data;
    size_t len[7];
    int k = 0;
    while (k < 7) {
      const char *tab = k < 6 ? strchr(p, '\t') : NULL;
      f[k] = p;
      len[k] = tab ? (size_t)(tab - p) : strlen(p);
      k++;
      if (!tab) break;
      p = tab + 1;
    }
    if (k < 7) continue;
    int httponly = len[0] > 10 && memcmp(f[0], "#HttpOnly_", 10) == 0;
    if (httponly) {
      f[0] += 10;
      len[0] -= 10;
    }
    int dot = len[0] > 0 && f[0][0] == '.';
    lua_createtable(L, 0, 8);
    lua_pushlstring(L, f[5], len[5]);
    lua_setfield(L, -2, "name");
    lua_pushlstring(L, f[6], len[6]);
    lua_setfield(L, -2, "value");
    lua_pushlstring(L, f[0] + dot, len[0] - (size_t)dot);
    lua_setfield(L, -2, "domain");
    lua_pushboolean(L, len[1] == 5 && memcmp(f[1], "FALSE", 5) == 0);
    lua_setfield(L, -2, "host_only");
    lua_pushlstring(L, f[2], len[2]);
    lua_setfield(L, -2, "path");
    lua_pushboolean(L, len[3] == 4 && memcmp(f[3], "TRUE", 4) == 0);
    lua_setfield(L, -2, "secure");
    lua_pushboolean(L, httponly);
    lua_setfield(L, -2, "httponly");
    lua_pushinteger(L, (lua_Integer)strtoll(f[4], NULL, 10));
    lua_setfield(L, -2, "expires");
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

/* An easy handle on the client's share, to reach its cookies: a pooled
** slot's, or a new one (NULL when out of memory). */
static slot_t *cookie_slot(client_t *cl) {
  slot_t *s = slot_get(cl);
  if (s) s->fresh = 0;                   /* reset before its next request */
  return s;
}

/* client:cookies() -> list of {name, value, domain, path, secure,
** httponly, host_only, expires (0: a session cookie)} */
static int l_client_cookies(lua_State *L) {
  client_t *cl = check_client(L, 1);
  struct curl_slist *list = NULL;
  if (!cl->cookies) {
    lua_newtable(L);
    return 1;
  }
  slot_t *s = cookie_slot(cl);
  if (s == NULL) return luaL_error(L, "out of memory");
  curl_easy_getinfo(s->x.easy, CURLINFO_COOKIELIST, &list);
  slot_put(s);
  lua_pushcfunction(L, push_cookies);    /* protected: list is freed */
  lua_pushlightuserdata(L, list);        /* whatever happens */
  int status = lua_pcall(L, 1, 1, 0);
  curl_slist_free_all(list);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

/* client:set_cookie(line): a "Set-Cookie: ..." header line or a
** Netscape cookie line (curl's CURLOPT_COOKIELIST); "ALL" clears the jar,
** "FLUSH"/"RELOAD" are refused (no file here). */
static int l_client_set_cookie(lua_State *L) {
  client_t *cl = check_client(L, 1);
  const char *line = luaL_checkstring(L, 2);
  if (!cl->cookies) return luaL_error(L, "this client keeps no cookies");
  if (strcmp(line, "FLUSH") == 0 || strcmp(line, "RELOAD") == 0 ||
      strcmp(line, "SESS") == 0)
    return luaL_argerror(L, 2, "a cookie line or \"ALL\" expected");
  slot_t *s = cookie_slot(cl);
  if (s == NULL) return luaL_error(L, "out of memory");
  CURLcode rc = curl_easy_setopt(s->x.easy, CURLOPT_COOKIELIST, line);
  slot_put(s);
  if (rc != CURLE_OK) return luaL_error(L, "set_cookie: %s", curl_easy_strerror(rc));
  return 0;
}

static int l_client_stats(lua_State *L) {
  lclient_t *u = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
  int nx = 0, ns = 0;
  lua_createtable(L, 0, 5);
  lua_pushboolean(L, u->cl == NULL);
  lua_setfield(L, -2, "closed");
  if (u->cl == NULL) return 1;
  http_multi_stats(u->cl->m, &nx, &ns);
  lua_pushinteger(L, u->cl->nactive);
  lua_setfield(L, -2, "active");
  lua_pushinteger(L, u->cl->nidle);
  lua_setfield(L, -2, "idle");
  lua_pushinteger(L, nx);
  lua_setfield(L, -2, "transfers");
  lua_pushinteger(L, ns);
  lua_setfield(L, -2, "sockets");
  return 1;
}

static int l_client_tostring(lua_State *L) {
  lclient_t *u = luaL_checkudata(L, 1, HTTP_CLIENT_MT);
  if (u->cl == NULL)
    lua_pushliteral(L, "http.Client (closed)");
  else
    lua_pushfstring(L, "http.Client (%d active)", u->cl->nactive);
  return 1;
}

/* ---- requests ------------------------------------------------------------ */

static request_t *check_request(lua_State *L) {
  return luaL_checkudata(L, 1, HTTP_REQUEST_MT);
}

/* Pushes the error of a failed transfer.  s is read before the first Lua
** allocation only (one may release it, see slot_put): what is needed is
** copied first, and Lua copies the URL before it can run a finalizer. */
static void push_xfer_error(lua_State *L, slot_t *s) {
  const char *type = "ConnectionError", *url = NULL;
  char msg[CURL_ERROR_SIZE];
  CURLcode rc = s->rc;
  int too_large = s->too_large || rc == CURLE_FILESIZE_EXCEEDED;
  int nomem = s->nomem;
  curl_off_t max_body = s->max_body;
  long oserr = 0;                        /* errno of a failed connect... */
  snprintf(msg, sizeof msg, "%s", s->err[0] ? s->err : curl_easy_strerror(rc));
  curl_easy_getinfo(s->x.easy, CURLINFO_OS_ERRNO, &oserr);
  curl_easy_getinfo(s->x.easy, CURLINFO_EFFECTIVE_URL, &url);
  lua_pushstring(L, url ? url : "");     /* stack: url; s unused from here */
  if (too_large) {
    aiolua_pusherror(L, "ResponseTooLarge",
                     "response body exceeds max_body (%I bytes)",
                     (lua_Integer)max_body);
  } else if (nomem) {
    aiolua_pusherror(L, "ConnectionError", "out of memory");
  } else {
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT: type = "TimeoutError"; break;
      case CURLE_TOO_MANY_REDIRECTS: type = "TooManyRedirects"; break;
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL: type = "InvalidURL"; break;
      default: break;
    }
    aiolua_pusherror(L, type, "%s", msg);
  }
  lua_insert(L, -2);                     /* stack: err, url */
  lua_setfield(L, -2, "url");
  lua_pushinteger(L, (lua_Integer)rc);
  lua_setfield(L, -2, "curl_code");
  if (oserr > 0 && !too_large && !nomem) {
    /* as an OSError's: iserror(e, "ConnectionRefusedError") by its code */
    char name[64];
    uv_err_name_r(-(int)oserr, name, sizeof name);
    lua_pushinteger(L, oserr);
    lua_setfield(L, -2, "errno");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "code");
  }
}

/* Raises the error of r's transfer if it failed, recycling its slot. */
static void check_failed(lua_State *L, request_t *r) {
  slot_t *s = r->s;
  if (s->state != S_DONE) return;
  if (s->rc == CURLE_OK && !s->too_large && !s->nomem) return;
  push_xfer_error(L, s);
  if (r->s == s) slot_put(s);            /* unless a finalizer did */
  lua_error(L);
}

/* Copies the trimmed s[0..n) into a Lua string and pushes it. */
static void push_trimmed(lua_State *L, const char *p, size_t n) {
  while (n > 0 && (*p == ' ' || *p == '\t')) p++, n--;
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' ||
                   p[n - 1] == '\n'))
    n--;
  lua_pushlstring(L, p, n);
}

/* [] -> [name] : pushes the lower-cased header name p[0..n). */
static void push_lower(lua_State *L, const char *p, size_t n) {
  char small[64];
  luaL_Buffer b;
  char *d;
  size_t i;
  if (n <= sizeof small) {
    d = small;
  } else {
    d = luaL_buffinitsize(L, &b, n);
  }
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    d[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  if (d == small) lua_pushlstring(L, small, n); else luaL_pushresultsize(&b, n);
}

/* parse_head(head) -> headers, http_version, reason
** Parses a response head (status line, then header lines, as kept by
** header_cb): header names lower-cased, repeated headers joined with ", ",
** folded lines unfolded.  http_version and reason are nil if absent.  The
** Response calls it on first use of one of these fields (bindings/http.lua),
** so a request whose headers nobody reads never builds the table. */
static int l_parse_head(lua_State *L) {
  size_t len, i, n, status_len;
  const char *p = luaL_checklstring(L, 1, &len);
  const char *line, *nl, *colon, *sp = NULL, *sp2 = NULL;
  int hidx, lidx;
  lua_settop(L, 1);
  /* status line: HTTP/<version> <status> [<reason>] */
  nl = memchr(p, '\n', len);
  n = nl ? (size_t)(nl - p) + 1 : len;
  if (n > 5 && memcmp(p, "HTTP/", 5) == 0) sp = memchr(p, ' ', n);
  if (sp) sp2 = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p));
  status_len = n;
  lua_createtable(L, 0, 8);              /* stack: head, headers */
  hidx = 2;
  lua_pushnil(L);                        /* stack: head, headers, lastname */
  lidx = 3;
  for (i = n; i < len; i += n) {
    line = p + i;
    nl = memchr(line, '\n', len - i);
    n = nl ? (size_t)(nl - line) + 1 : len - i;
    if (line[0] == ' ' || line[0] == '\t') {
      /* obsolete line folding: continues the previous value */
      if (lua_isnil(L, lidx)) continue;
      lua_pushvalue(L, lidx);
      lua_pushvalue(L, lidx);
      lua_rawget(L, hidx);               /* stack: ..., name, old */
      lua_pushliteral(L, " ");
      push_trimmed(L, line, n);
      lua_concat(L, 3);                  /* stack: ..., name, value */
      lua_rawset(L, hidx);
      continue;
    }
    colon = memchr(line, ':', n);
    if (colon == NULL || colon == line) continue;
    push_lower(L, line, (size_t)(colon - line));   /* stack: ..., name */
    lua_copy(L, -1, lidx);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, hidx) == LUA_TSTRING) {       /* stack: ..., name, old */
      lua_pushliteral(L, ", ");
      push_trimmed(L, colon + 1, n - (size_t)(colon + 1 - line));
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      push_trimmed(L, colon + 1, n - (size_t)(colon + 1 - line));
    }
    lua_rawset(L, hidx);                            /* headers[name] = v */
  }
  lua_settop(L, 2);                      /* stack: head, headers */
  if (sp) lua_pushlstring(L, p + 5, (size_t)(sp - p) - 5); else lua_pushnil(L);
  if (sp2) push_trimmed(L, sp2 + 1, status_len - (size_t)(sp2 + 1 - p));
  else lua_pushnil(L);
  return 3;
}

/* Request:response([head_only]) -> table
** The fields of the Response: status, url, elapsed, _head (the raw head,
** for l_parse_head) and, unless head_only, body.  Raises
** the transfer's error if it failed (with head_only, if it failed before
** the headers were in).  Recycles the slot unless head_only
** (a stream keeps it for its body).  The strings are copied out of s
** first, checking after each copy that s is still r's (see slot_put);
** the table is built once s is no longer used. */
static int l_request_response(lua_State *L) {
  request_t *r = check_request(L);
  int head_only = lua_toboolean(L, 2);
  slot_t *s = r->s;
  long status = 0;
  const char *url = NULL;
  lua_Number elapsed;
  if (s == NULL) return request_lost(L, r);
  if (!head_only || !s->headers_done) check_failed(L, r);  /* a stream with
    its headers reports a failure after its body, from next_chunk */
  if (!head_only && s->state != S_DONE)
    return luaL_error(L, "request is not finished");
  lua_settop(L, 1);
  luaL_checkstack(L, 8, NULL);
  curl_easy_getinfo(s->x.easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(s->x.easy, CURLINFO_EFFECTIVE_URL, &url);
  elapsed = (lua_Number)((s->state == S_DONE ? s->t1 : uv_hrtime()) - s->t0)
            / 1e9;
  lua_pushstring(L, url);                             /* stack: r, url */
  if (r->s == s)
    lua_pushlstring(L, s->head.p ? s->head.p : "", s->head.len);  /* head */
  if (r->s == s && !head_only)
    lua_pushlstring(L, s->body.p ? s->body.p : "", s->body.len);  /* body */
  if (r->s != s) return request_lost(L, r);
  if (!head_only) {
    slot_put(s);
    r->lost = NULL;
  }
  lua_createtable(L, 0, 6);              /* stack: r, url, head, [body,] t */
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "url");
  lua_pushnumber(L, elapsed);
  lua_setfield(L, -2, "elapsed");
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "_head");          /* parsed on demand: l_parse_head */
  if (!head_only) {
    lua_pushvalue(L, 4);
    lua_setfield(L, -2, "body");
  }
  return 1;
}

/* Request:next_chunk([n]) -> chunk | nil | false, Future
** A stream's next piece of body (at most n bytes if n > 0), nil at its
** end, or false and a future to await before asking again.  Raises the
** transfer's error if it failed, and ConnectionError if the rest of the
** body is lost (the Client was closed, say).  Resumes a paused transfer
** once the unread data falls below STREAM_LOW. */
static int l_request_next_chunk(lua_State *L) {
  request_t *r = check_request(L);
  lua_Integer max = luaL_optinteger(L, 2, 0);
  slot_t *s = r->s;
  aiolua_future_t *f;
  size_t avail, take;
  if (s == NULL) return r->lost ? request_lost(L, r) : 0;
  avail = s->body.len - s->body.off;
  if (avail > 0) {
    take = max > 0 && (size_t)max < avail ? (size_t)max : avail;
    lua_pushlstring(L, s->body.p + s->body.off, take);
    if (r->s != s) return 1;     /* released meanwhile: the next call says */
    s->body.off += take;
    if (s->body.off == s->body.len) s->body.off = s->body.len = 0;
    if (s->paused && avail - take < STREAM_LOW && s->state == S_RUNNING) {
      s->paused = 0;
      http_multi_resume(&s->x);
    }
    return 1;
  }
  check_failed(L, r);
  if (s->state == S_DONE) {
    slot_put(s);
    r->lost = NULL;                          /* read to the end */
    return 0;
  }
  if (s->fut) return luaL_error(L, "stream is already being read");
  s->want_head = 0;
  lua_pushboolean(L, 0);
  f = aiolua_future_new(L);
  if (r->s == s)
    slot_park(s, f);
  else                           /* released meanwhile: the next call says */
    aiolua_future_resolve(f, L, 0);
  return 2;
}

/* Request:close(): stops the transfer (if it runs) and recycles its slot;
** reading on gives nil.  A reader parked on the next chunk (in another
** task) gets a ConnectionError: the rest of its body is lost. */
static int l_request_close(lua_State *L) {
  request_t *r = check_request(L);
  slot_t *s = r->s;
  aiolua_future_t *f;
  if (s == NULL) return 0;
  f = s->fut;
  slot_put(s);
  r->lost = NULL;
  if (f) {                                   /* still anchored */
    aiolua_pusherror(L, "ConnectionError", "response closed");
    aiolua_future_reject(f, L);
  }
  return 0;
}

/* __gc of a Request: as close, but settles no future from a finalizer
** (bindings/http.lua awaits a Request's future only while holding it). */
static int l_request_gc(lua_State *L) {
  request_t *r = check_request(L);
  if (r->s) slot_put(r->s);
  return 0;
}

/* Request:done() -> bool: the transfer has finished (or was closed). */
static int l_request_done(lua_State *L) {
  request_t *r = check_request(L);
  lua_pushboolean(L, r->s == NULL || r->s->state == S_DONE);
  return 1;
}

/* Request:buffered() -> bytes, paused: a stream's unread data held in C,
** and whether curl is paused for it (backpressure). */
static int l_request_buffered(lua_State *L) {
  request_t *r = check_request(L);
  slot_t *s = r->s;
  lua_pushinteger(L, s ? (lua_Integer)(s->body.len - s->body.off) : 0);
  lua_pushboolean(L, s && s->paused);
  return 2;
}

static int l_request_tostring(lua_State *L) {
  request_t *r = check_request(L);
  lua_pushfstring(L, "http.Request (%s)",
                  r->s == NULL ? "closed" :
                  r->s->state == S_DONE ? "done" : "running");
  return 1;
}

/* ---- URLs ---------------------------------------------------------------- */

/* Raises InvalidURL for uc. */
static int url_error(lua_State *L, CURLUcode uc, const char *url) {
  aiolua_pusherror(L, "InvalidURL", "%s: %s", curl_url_strerror(uc), url);
  lua_pushstring(L, url);
  lua_setfield(L, -2, "url");
  return lua_error(L);
}

/* urljoin(base, ref) -> string: ref resolved against base (RFC 3986). */
static int l_urljoin(lua_State *L) {
  const char *base = luaL_checkstring(L, 1);
  const char *ref = luaL_checkstring(L, 2);
  const char *bad = base;
  char *out = NULL;
  CURLU *u = curl_url();
  CURLUcode uc;
  if (u == NULL) return luaL_error(L, "out of memory");
  uc = curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME);
  if (uc == CURLUE_OK && *ref) {
    bad = ref;
    uc = curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME);
  }
  if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_URL, &out, 0);
  curl_url_cleanup(u);
  if (uc != CURLUE_OK) return url_error(L, uc, bad);
  lua_pushstring(L, out);
  curl_free(out);
  return 1;
}

/* urlparse(url) -> {scheme, user, password, host, port, path, query,
** fragment}; parts the URL lacks are nil, port is a number. */
static int l_urlparse(lua_State *L) {
  static const struct { CURLUPart part; const char *name; } parts[] = {
    { CURLUPART_SCHEME, "scheme" }, { CURLUPART_USER, "user" },
    { CURLUPART_PASSWORD, "password" }, { CURLUPART_HOST, "host" },
    { CURLUPART_PORT, "port" }, { CURLUPART_PATH, "path" },
    { CURLUPART_QUERY, "query" }, { CURLUPART_FRAGMENT, "fragment" },
  };
  const char *url = luaL_checkstring(L, 1);
  CURLU *u = curl_url();
  CURLUcode uc;
  size_t i;
  if (u == NULL) return luaL_error(L, "out of memory");
  uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
  if (uc != CURLUE_OK) {
    curl_url_cleanup(u);
    return url_error(L, uc, url);
  }
  lua_createtable(L, 0, 8);
  for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    char *v = NULL;
    if (curl_url_get(u, parts[i].part, &v, 0) != CURLUE_OK || v == NULL)
      continue;
    if (parts[i].part == CURLUPART_PORT)
      lua_pushinteger(L, strtol(v, NULL, 10));
    else
      lua_pushstring(L, v);
    curl_free(v);
    lua_setfield(L, -2, parts[i].name);
  }
  curl_url_cleanup(u);
  return 1;
}

/* ---- registration ---------------------------------------------------- */

static const luaL_Reg client_methods[] = {
  { "start", l_client_start },
  { "set_headers", l_client_set_headers },
  { "close", l_client_close },
  { "stats", l_client_stats },
  { "cookies", l_client_cookies },
  { "set_cookie", l_client_set_cookie },
  { NULL, NULL }
};

static const luaL_Reg client_metamethods[] = {
  { "__gc", l_client_gc },
  { "__close", l_client_close },
  { "__tostring", l_client_tostring },
  { NULL, NULL }
};

static const luaL_Reg request_methods[] = {
  { "response", l_request_response },
  { "next_chunk", l_request_next_chunk },
  { "close", l_request_close },
  { "done", l_request_done },
  { "buffered", l_request_buffered },
  { NULL, NULL }
};

static const luaL_Reg request_metamethods[] = {
  { "__gc", l_request_gc },
  { "__close", l_request_close },
  { "__tostring", l_request_tostring },
  { NULL, NULL }
};

static const luaL_Reg http_funcs[] = {
  { "client", l_client },
  { "urljoin", l_urljoin },
  { "urlparse", l_urlparse },
  { "parse_head", l_parse_head },
  { NULL, NULL }
};

/* [] -> [] : creates metatable `name` with methods in __index. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      const luaL_Reg *meta) {
  luaL_newmetatable(L, name);            /* stack: mt */
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);                       /* stack: mt, methods */
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

int luaopen_aiolua_http(lua_State *L);
int luaopen_aiolua_http(lua_State *L) {
  const char *err = aiolua__curl_load();   /* libcurl, once, on first use */
  if (err) return luaL_error(L, "asyncio.http: %s", err);
  new_class(L, HTTP_CLIENT_MT, client_methods, client_metamethods);
  new_class(L, HTTP_REQUEST_MT, request_methods, request_metamethods);
  luaL_newlib(L, http_funcs);
  lua_pushstring(L, curl_version());
  lua_setfield(L, -2, "curl_version");
  return 1;
}
