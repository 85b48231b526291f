/*
** streams.c -- TCP and Unix sockets on libuv for asyncio's streams
** (require "aiolua.streams"; bindings/streams.lua makes StreamReader,
** StreamWriter, open_connection and start_server of them).  A connection
** may also be a pipe to a subprocess (subprocess.c makes those, streams.h).
**   connect(host, port) -> future of a Conn     listen(host, port, backlog)
**   connect_unix(path) -> future of a Conn      listen_unix(path, backlog)
**   open_fd(fd, writable) -> Conn (this process's pipes: stdin, stdout)
**   Conn: buffered, find(sep), take(n), eof, error, wait_data, write,
**         write_size, wait_drain(low), shutdown, close, closing,
**         wait_closed, address(peer), set_limit(n),
**         recv, status, send, set_reader(fn, ...), pause_reading(paused),
**         abort
**   Server: accept() -> future of a Conn, address(), close()
** Design note: a handle's memory is malloc'd, not the Lua userdata's: libuv
** closes a handle asynchronously, after the userdata may be gone, so the
** userdata holds a pointer and close_cb frees the record.  Callbacks only
** touch Lua to settle futures, which is protected (aiolua_future_resolve);
** none runs once the Lua object was collected (`gone`).  Received bytes
** wait in a buffer; reading pauses while it holds `limit` bytes or more.
** A connection is read in one of two ways: a StreamReader waits for a
** future (wait_data), a protocol's transport has a reader, a loop handle
** that the read callback queues (set_reader): no future, no task step a
** read, as CPython calls data_received from its selector's callback.
*/
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "internal.h"
#include "fdwatch.h"
#include "handles.h"
#include "streams.h"

#define CONN_MT "aiolua.Conn"
#define SERVER_MT "aiolua.Server"
#define DEFAULT_LIMIT (64 * 1024)   /* asyncio's stream limit */

struct conn {
  union {                      /* first: (conn_t *)handle */
    uv_tcp_t tcp;
    uv_pipe_t pipe;            /* a subprocess's stdin, stdout or stderr */
    uv_tty_t tty;              /* a terminal (open_fd) */
  } h;
  aiolua_runtime_t *rt;
  char *buf;                   /* received bytes buf[off..len) */
  size_t off, len, cap, limit;
  int err;                     /* a libuv error of a read or write, or 0 */
  unsigned eof : 1, reading : 1, closing : 1, closed : 1, gone : 1;
  unsigned shut : 1, paused : 1;
  unsigned close_pending : 1;  /* closing once the queued writes are out */
  aiolua_future_t *data_w;     /* waits for bytes, EOF or an error */
  aiolua_handle_t *reader;     /* or runs for them (set_reader) */
  aiolua_future_t *drain_w;    /* waits for the write queue to shrink */
  size_t drain_low;
  aiolua_future_t *closed_w;   /* waits for the close to complete */
};

typedef struct { conn_t *c; } lconn_t;

typedef struct server {
  union {                      /* first: (server_t *)handle */
    uv_tcp_t tcp;
    uv_pipe_t pipe;            /* a Unix socket's */
  } h;
  char *path;                  /* a Unix socket's, unlinked at close */
  aiolua_runtime_t *rt;
  int pending;                 /* connections libuv holds for accept() */
  int err;
  unsigned closing : 1, gone : 1;
  aiolua_future_t *accept_w;
} server_t;

typedef struct { server_t *s; } lserver_t;

static lua_State *rt_L(aiolua_runtime_t *rt) { return aiolua_runtime_lua(rt); }

/* [what, uverr] -> [err] */
static int push_uverror_protected(lua_State *L) {
  aiolua__push_uverror(L, lua_touserdata(L, 1), (int)lua_tointeger(L, 2));
  return 1;
}

void aiolua__reject_uverror(lua_State *L, aiolua_future_t *f,
                            const char *what, int uverr) {
  lua_pushcfunction(L, push_uverror_protected);
  lua_pushlightuserdata(L, (void *)what);
  lua_pushinteger(L, uverr);
  lua_pcall(L, 2, 1, 0);                 /* the error, or the memory error */
  aiolua_future_reject(f, L);
}

int aiolua__raise_uverror(lua_State *L, int uverr, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *what = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  aiolua__push_uverror(L, what, uverr);
  return lua_error(L);
}

void aiolua__push_uverror(lua_State *L, const char *what, int uverr) {
  aiolua_pusherror(L, "OSError", "%s: %s", what, uv_strerror(uverr));
  lua_pushstring(L, uv_err_name(uverr));
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, -uverr);
  lua_setfield(L, -2, "errno");
}

void aiolua__wake(lua_State *L, aiolua_future_t **slot) {
  aiolua_future_t *f = *slot;
  if (f == NULL) return;
  *slot = NULL;
  aiolua_future_on_cancel(f, NULL, NULL);
  aiolua_future_resolve(f, L, 0);
}

void aiolua__drop_event(aiolua_future_t **slot) {
  aiolua_future_t *f = *slot;
  if (f == NULL) return;
  *slot = NULL;
  aiolua_future_on_cancel(f, NULL, NULL);
  aiolua_future_cancel(f, NULL);
}

static void wake(aiolua_runtime_t *rt, aiolua_future_t **slot) {
  aiolua__wake(rt_L(rt), slot);
}

/* The hook of a future kept in a slot (data): a waiter's task was
** cancelled, so the future goes away; forget it. */
static void forget(aiolua_future_t *f, void *data) {
  aiolua_future_t **slot = data;
  if (*slot == f) *slot = NULL;
}

/* [] -> [future] : a new future for the one waiter of *slot. */
static void push_waiter(lua_State *L, aiolua_future_t **slot) {
  *slot = aiolua_future_new(L);
  aiolua_future_on_cancel(*slot, forget, slot);
}

void aiolua__push_event(lua_State *L, aiolua_future_t **slot, int done) {
  if (*slot) {
    aiolua_future_push(L, *slot);
  } else if (done) {
    aiolua_future_resolve(aiolua_future_new(L), L, 0);
  } else {
    push_waiter(L, slot);
  }
}

/* ---- connections: reading ------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out) {
  conn_t *c = (conn_t *)h;
  (void)hint;
  if (c->off > 0 && c->off == c->len) c->off = c->len = 0;
  if (c->cap - c->len < 16 * 1024) {
    if (c->off > 0) {                    /* compact first */
      memmove(c->buf, c->buf + c->off, c->len - c->off);
      c->len -= c->off;
      c->off = 0;
    }
    if (c->cap - c->len < 16 * 1024) {
      size_t cap = c->cap ? c->cap * 2 : 64 * 1024;
      char *nb = realloc(c->buf, cap);
      if (nb == NULL) {                  /* libuv reports UV_ENOBUFS */
        *out = uv_buf_init(NULL, 0);
        return;
      }
      c->buf = nb;
      c->cap = cap;
    }
  }
  *out = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void stop_reading(conn_t *c) {
  if (!c->reading) return;
  uv_read_stop((uv_stream_t *)&c->h.tcp);
  c->reading = 0;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  conn_t *c = (conn_t *)st;
  (void)b;
  if (n > 0) {
    c->len += (size_t)n;
    if (c->len - c->off >= c->limit) stop_reading(c);
  } else if (n == UV_EOF) {
    c->eof = 1;
    stop_reading(c);
  } else if (n < 0) {
    c->err = (int)n;
    stop_reading(c);
  } else {
    return;                              /* EAGAIN: nothing */
  }
  if (c->gone) return;
  if (c->reader) aiolua__handle_wake(c->reader);
  else wake(c->rt, &c->data_w);
}

static int start_reading(lua_State *L, conn_t *c) {
  if (c->reading || c->eof || c->err || c->closing || c->paused) return 0;
  int r = uv_read_start((uv_stream_t *)&c->h.tcp, on_alloc, on_read);
  if (r < 0) {
    aiolua__push_uverror(L, "read", r);
    return lua_error(L);
  }
  c->reading = 1;
  return 0;
}

/* ---- connections: the Lua object ----------------------------------------- */

static conn_t *checkconn(lua_State *L) {    /* in conn methods only */
  lconn_t *u = aiolua__checkself(L, CONN_MT);
  if (u->c == NULL) luaL_error(L, "the connection is gone");
  return u->c;
}

static void on_closed(uv_handle_t *h) {
  conn_t *c = (conn_t *)h;
  c->closed = 1;
  if (c->gone) {
    free(c->buf);
    free(c);
    return;
  }
  wake(c->rt, &c->closed_w);
}

/* Cancels c's reader handle (if any): its callback runs no more. */
static void drop_reader(lua_State *L, conn_t *c) {
  if (c->reader == NULL) return;
  aiolua__handle_cancel(L, c->reader);
  c->reader = NULL;
}

static size_t queued(conn_t *c);

/* Closes c's handle now: writes still queued are cancelled. */
static void close_now(conn_t *c) {
  c->close_pending = 0;
  if (!uv_is_closing((uv_handle_t *)&c->h.tcp))
    uv_close((uv_handle_t *)&c->h.tcp, on_closed);
}

/* Closes c (once): it reads no more and takes no writes; the handle closes
** once what is queued is written (on_written), as CPython's transports
** flush before they close, or at once (abort, or a failed connection).
** Wakes a reader and a drainer, who see it (a reader handle has seen the
** end: cancelled). */
static void conn_end(conn_t *c, int abort) {
  if (c->closing) {
    if (abort && c->close_pending) close_now(c);
    return;
  }
  c->closing = 1;
  stop_reading(c);
  if (!abort && !c->err && queued(c) > 0) c->close_pending = 1;
  else close_now(c);
  if (!c->gone) {
    drop_reader(rt_L(c->rt), c);
    wake(c->rt, &c->data_w);
    wake(c->rt, &c->drain_w);
  }
}

/* [] -> [conn] : a Lua object for a new connection record (its handle not
** yet initialised); raises when out of memory. */
conn_t *aiolua__conn_push(lua_State *L) {
  lconn_t *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->c = NULL;
  luaL_setmetatable(L, CONN_MT);
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) luaL_error(L, "not enough memory");
  c->rt = aiolua_runtime_from_lua(L);
  c->limit = DEFAULT_LIMIT;
  u->c = c;
  return c;
}

static int l_conn_gc(lua_State *L) {
  lconn_t *u = lua_touserdata(L, 1);
  conn_t *c = u->c;
  if (c == NULL) return 0;
  u->c = NULL;
  drop_reader(L, c);                     /* (at lua_close: its handle lives on) */
  aiolua__drop_event(&c->data_w);        /* no hook may point into c */
  aiolua__drop_event(&c->drain_w);
  aiolua__drop_event(&c->closed_w);
  c->gone = 1;                           /* no Lua from callbacks now */
  if (!c->h.tcp.loop) {                  /* never initialised */
    free(c);
  } else if (c->closed) {
    free(c->buf);
    free(c);
  } else {                               /* on_closed frees it */
    if (!uv_is_closing((uv_handle_t *)&c->h.tcp)) {
      stop_reading(c);
      uv_close((uv_handle_t *)&c->h.tcp, on_closed);
    }
  }
  return 0;
}

static int l_buffered(lua_State *L) {
  conn_t *c = checkconn(L);
  lua_pushinteger(L, (lua_Integer)(c->len - c->off));
  return 1;
}

/* conn:find(sep) -> the 1-based position of the end of the first sep in
** the buffer, or nil */
static int l_find(lua_State *L) {
  conn_t *c = checkconn(L);
  size_t n;
  const char *sep = luaL_checklstring(L, 2, &n);
  if (n == 0) return luaL_argerror(L, 2, "separator should be at least one-byte string");
  if (c->buf == NULL) {                  /* nothing received yet */
    lua_pushnil(L);
    return 1;
  }
  const char *p = c->buf + c->off, *end = c->buf + c->len;
  for (const char *q = p; (size_t)(end - q) >= n;) {
    q = memchr(q, sep[0], (size_t)(end - q) - n + 1);
    if (q == NULL) break;
    if (memcmp(q, sep, n) == 0) {
      lua_pushinteger(L, (lua_Integer)(q - p + n));
      return 1;
    }
    q++;
  }
  lua_pushnil(L);
  return 1;
}

/* conn:take(n) -> the first n buffered bytes (n <= buffered), removed;
** reading resumes if the buffer is below its limit again. */
static int l_take(lua_State *L) {
  conn_t *c = checkconn(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  size_t have = c->len - c->off;
  if (n < 0 || (size_t)n > have) return luaL_argerror(L, 2, "out of range");
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  lua_pushlstring(L, c->buf + c->off, (size_t)n);
  c->off += (size_t)n;
  if (c->off == c->len) c->off = c->len = 0;
  return 1;
}

static int l_eof(lua_State *L) {
  conn_t *c = checkconn(L);
  lua_pushboolean(L, c->eof);
  return 1;
}

/* [] -> [err] : nil, or the OSError of a failed read or write (closing
** gives a "closed" error) */
static void push_error(lua_State *L, conn_t *c) {
  if (c->err) aiolua__push_uverror(L, "connection", c->err);
  else if (c->closing) aiolua_pusherror(L, "ConnectionResetError", "Connection lost: closed");
  else lua_pushnil(L);
}

/* conn:error() -> nil, or the connection's error (push_error) */
static int l_error(lua_State *L) {
  push_error(L, checkconn(L));
  return 1;
}

/* conn:status() -> bytes buffered, at EOF, and nil or the error (push_error):
** what a StreamReader's wait for data checks, in one call. */
static int l_status(lua_State *L) {
  conn_t *c = checkconn(L);
  lua_pushinteger(L, (lua_Integer)(c->len - c->off));
  lua_pushboolean(L, c->eof);
  push_error(L, c);
  return 3;
}

/* conn:recv() -> everything buffered (a string, removed), or false at EOF,
** or nil and the error of a failed or closed connection, or nil when
** nothing came yet: the one call a protocol's reader (protocols.lua)
** makes a turn.  With bytes, a reader handle runs again for an end that
** came behind them, and reading goes on if the buffer's limit stopped it. */
static int l_recv(lua_State *L) {
  conn_t *c = checkconn(L);
  size_t have = c->len - c->off;
  if (have > 0) {
    lua_pushlstring(L, c->buf + c->off, have);
    c->off = c->len = 0;
    if (c->reader) {
      if (c->eof || c->err) aiolua__handle_wake(c->reader);
      else start_reading(L, c);
    }
    return 1;
  }
  if (c->eof) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushnil(L);
  if (!c->err && !c->closing) return 1;
  push_error(L, c);
  return 2;
}

/* conn:wait_data() -> a future settled when bytes arrive, or EOF, or an
** error; one waiter at a time, as asyncio's StreamReader. */
static int l_wait_data(lua_State *L) {
  conn_t *c = checkconn(L);
  if (c->data_w || c->reader)
    return aiolua_error(L, "RuntimeError", "read() called while another "
                        "coroutine is already waiting for incoming data");
  start_reading(L, c);
  aiolua__push_event(L, &c->data_w, c->eof || c->err || c->closing);
  return 1;
}

/* Queues c's reader (if any) when recv has something to give it. */
static void wake_reader(conn_t *c) {
  if (c->reader && (c->len > c->off || c->eof || c->err))
    aiolua__handle_wake(c->reader);
}

/* The owner's hook of c's reader handle: the loop closes, so c does (as
** CPython's closed loop reads no more); or the reader raised (out of
** memory), so recv gives it an error next: the transport ends, its
** protocol told (connection_lost), rather than wait for bytes that came. */
static void reader_hook(lua_State *L, void *data, int closing) {
  conn_t *c = data;
  (void)L;
  if (closing) {
    conn_end(c, 1);
  } else {
    if (!c->err) c->err = UV_ENOMEM;
    stop_reading(c);
    wake_reader(c);
  }
}

/* conn:set_reader(fn, args...): fn(args...) runs as a callback of the loop
** once bytes, the end or an error came (a level: once a turn at most, while
** recv has something to give), until the connection or the loop closes; it
** reads at once.  A transport's way to read; wait_data is a StreamReader's. */
static int l_set_reader(lua_State *L) {
  conn_t *c = checkconn(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (c->data_w || c->reader)
    return aiolua_error(L, "RuntimeError", "the connection has a reader already");
  if (c->closing)
    return aiolua_error(L, "RuntimeError", "the connection is closed");
  start_reading(L, c);
  c->reader = aiolua__handle_new_repeat(L, 2);
  aiolua__handle_set_owner(c->reader, reader_hook, c);
  wake_reader(c);
  return 0;
}

/* conn:pause_reading(paused): stops reading from the socket (paused), or
** goes on, and the reader runs for what waits already. */
static int l_pause_reading(lua_State *L) {
  conn_t *c = checkconn(L);
  c->paused = lua_toboolean(L, 2);
  if (c->paused) {
    stop_reading(c);
  } else {
    start_reading(L, c);
    wake_reader(c);
  }
  return 0;
}

/* ---- connections: writing ------------------------------------------------ */

typedef struct wreq {
  uv_write_t req;
  conn_t *c;
  char data[];
} wreq_t;

static size_t queued(conn_t *c) {
  return uv_stream_get_write_queue_size((uv_stream_t *)&c->h.tcp);
}

static void on_written(uv_write_t *req, int status) {
  wreq_t *w = (wreq_t *)req;
  conn_t *c = w->c;
  free(w);
  if (status < 0 && status != UV_ECANCELED && !c->err) c->err = status;
  if (c->close_pending && (status < 0 || queued(c) == 0)) close_now(c);
  if (c->gone) return;
  if (c->drain_w && (status < 0 || queued(c) <= c->drain_low))
    wake(c->rt, &c->drain_w);
}

/* [] -> [n] : the bytes queued to be written */
static int queued_size(lua_State *L, conn_t *c) {
  lua_pushinteger(L, (lua_Integer)queued(c));
  return 1;
}

/* Sends what the socket takes of s[0..n) now and queues the rest (a copy):
** 0, or a libuv error (the connection's error now).  Raises only when out
** of memory. */
static int send_or_queue(lua_State *L, conn_t *c, const char *s, size_t n) {
  int done = 0;
  if (queued(c) == 0) {                  /* nothing ahead: try at once */
    uv_buf_t b = uv_buf_init((char *)s, (unsigned)n);
    done = uv_try_write((uv_stream_t *)&c->h.tcp, &b, 1);
    if (done == UV_EAGAIN) done = 0;
    if (done < 0) return c->err = done;
  }
  if ((size_t)done == n) return 0;
  wreq_t *w = malloc(sizeof *w + (n - (size_t)done));
  if (w == NULL) return luaL_error(L, "not enough memory");
  w->c = c;
  memcpy(w->data, s + done, n - (size_t)done);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)(n - (size_t)done));
  int r = uv_write(&w->req, (uv_stream_t *)&c->h.tcp, &b, 1, on_written);
  if (r < 0) {
    free(w);
    c->err = r;
  }
  return r < 0 ? r : 0;
}

/* conn:write(s) -> the bytes queued after it: sends what the socket takes
** now, queues the rest.  Raises if the connection is closing or failed. */
static int l_write(lua_State *L) {
  conn_t *c = checkconn(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  if (c->closing || c->shut)
    return aiolua_error(L, "RuntimeError", "the writer is closing");
  int r = c->err ? c->err : n > 0 ? send_or_queue(L, c, s, n) : 0;
  if (r < 0) {
    aiolua__push_uverror(L, "write", r);
    return lua_error(L);
  }
  return queued_size(L, c);
}

/* conn:send(s) -> the bytes queued after it, as write; or nil and the
** error (push_error) of a failed or closed connection, which write raises:
** a transport's write, which takes a failure as the end of its connection. */
static int l_send(lua_State *L) {
  conn_t *c = checkconn(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  if (c->err || c->closing || (n > 0 && send_or_queue(L, c, s, n) < 0)) {
    lua_pushnil(L);
    push_error(L, c);
    return 2;
  }
  return queued_size(L, c);
}

/* conn:write_size() -> the bytes queued, and nil or the error (push_error) */
static int l_write_size(lua_State *L) {
  conn_t *c = checkconn(L);
  lua_pushinteger(L, c->closing ? 0 : (lua_Integer)queued(c));
  push_error(L, c);
  return 2;
}

/* conn:wait_drain(low) -> a future settled once at most low bytes wait to
** be written (or the connection failed or closed). */
static int l_wait_drain(lua_State *L) {
  conn_t *c = checkconn(L);
  lua_Integer low = luaL_checkinteger(L, 2);
  if (c->drain_w)
    return aiolua_error(L, "RuntimeError", "drain() called while another "
                        "coroutine is already waiting for it");
  c->drain_low = (size_t)(low < 0 ? 0 : low);
  aiolua__push_event(L, &c->drain_w,
                     c->closing || c->err || queued(c) <= c->drain_low);
  return 1;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  free(req);
  (void)status;
}

/* 1 if c's descriptor is a socket (a pipe or a terminal is not). */
static int is_socket(conn_t *c) {
  uv_os_fd_t fd;
  struct stat st;
  return uv_fileno((uv_handle_t *)&c->h.tcp, &fd) == 0 &&
         fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* conn:shutdown() -> closed: no more writes; the peer reads EOF after the
** queue.  A pipe's (or terminal's) EOF is its close, so such a connection
** closes (once the queue is written) and this returns true. */
static int l_shutdown(lua_State *L) {
  conn_t *c = checkconn(L);
  if (c->shut || c->closing) return 0;
  if (!is_socket(c)) {
    c->shut = 1;
    conn_end(c, 0);
    lua_pushboolean(L, 1);
    return 1;
  }
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req == NULL) return luaL_error(L, "not enough memory");
  int r = uv_shutdown(req, (uv_stream_t *)&c->h.tcp, on_shutdown);
  if (r < 0) {
    free(req);
    aiolua__push_uverror(L, "shutdown", r);
    return lua_error(L);
  }
  c->shut = 1;
  return 0;
}

/* conn:close(): closes once what is queued is written (conn_end). */
static int l_close(lua_State *L) {
  conn_end(checkconn(L), 0);
  return 0;
}

/* conn:abort(): closes at once; what is queued is lost. */
static int l_abort(lua_State *L) {
  conn_end(checkconn(L), 1);
  return 0;
}

static int l_closing(lua_State *L) {
  lua_pushboolean(L, checkconn(L)->closing);
  return 1;
}

/* conn:wait_closed() -> a future settled once the handle is closed */
static int l_wait_closed(lua_State *L) {
  conn_t *c = checkconn(L);
  aiolua__push_event(L, &c->closed_w, c->closed);
  return 1;
}

void aiolua__push_addr(lua_State *L, const struct sockaddr_storage *ss, int ok) {
  char host[64];
  int port = 0;
  if (!ok) {
    lua_pushnil(L);
    return;
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    uv_ip6_name(a, host, sizeof host);
    port = ntohs(a->sin6_port);
  } else {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    uv_ip4_name(a, host, sizeof host);
    port = ntohs(a->sin_port);
  }
  lua_createtable(L, 2, 0);
  lua_pushstring(L, host);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, port);
  lua_rawseti(L, -2, 2);
}

/* conn:address(peer) -> {host, port} of the peer (true) or this end */
static int l_address(lua_State *L) {
  conn_t *c = checkconn(L);
  struct sockaddr_storage ss;
  int len = sizeof ss, r;
  if (!c->closing && c->h.tcp.type == UV_NAMED_PIPE) {  /* a path */
    char path[1024];
    size_t n = sizeof path;
    r = lua_toboolean(L, 2) ? uv_pipe_getpeername(&c->h.pipe, path, &n)
                            : uv_pipe_getsockname(&c->h.pipe, path, &n);
    if (r == 0) lua_pushlstring(L, path, n); else lua_pushliteral(L, "");
    return 1;
  }
  if (c->closing || c->h.tcp.type != UV_TCP) {
    lua_pushnil(L);
    return 1;
  }
  if (lua_toboolean(L, 2))
    r = uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len);
  else
    r = uv_tcp_getsockname(&c->h.tcp, (struct sockaddr *)&ss, &len);
  aiolua__push_addr(L, &ss, r == 0);
  return 1;
}

static int l_set_limit(lua_State *L) {
  conn_t *c = checkconn(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n > 0, 2, "limit must be positive");
  c->limit = (size_t)n;
  return 0;
}

/* ---- connecting ---------------------------------------------------------- */

/* A connect in progress: the name lookup, then each address in turn. */
typedef struct connecting {
  uv_getaddrinfo_t gai;
  uv_connect_t req;
  aiolua_runtime_t *rt;
  aiolua_future_t *fut;        /* NULL once cancelled */
  conn_t *c;                   /* the connection being made */
  int cref;                    /* registry ref of its Lua object */
  struct addrinfo *ai, *next;
  int lasterr;
  char what[300];
} connecting_t;


/* The end of a connect: the future gets the Conn or the error (unless
** it was cancelled); a socket that did not connect is closed. */
static void connect_finish(connecting_t *k, int err) {
  lua_State *L = rt_L(k->rt);
  conn_t *c = k->c;
  if (k->ai) uv_freeaddrinfo(k->ai);
  if ((err || k->fut == NULL) && c->h.tcp.loop && !c->closing) conn_end(c, 0);
  if (k->fut) {
    aiolua_future_on_cancel(k->fut, NULL, NULL);
    if (err == 0) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, k->cref);
      aiolua_future_resolve(k->fut, L, 1);
    } else {                             /* a libuv callback: protected */
      aiolua__reject_uverror(L, k->fut, k->what, err);
    }
  }
  luaL_unref(L, LUA_REGISTRYINDEX, k->cref);
  free(k);
}

static int connect_start(connecting_t *k);

/* The socket of a failed address is closed: the next address. */
static void on_retry_closed(uv_handle_t *h) {
  connecting_t *k = h->data;
  memset(h, 0, sizeof(uv_tcp_t));
  if (k->fut == NULL || k->next == NULL) {  /* cancelled, or none left */
    connect_finish(k, k->fut ? k->lasterr : UV_ECANCELED);
    return;
  }
  int r = connect_start(k);
  if (r < 0) connect_finish(k, r);
}

static void on_connect(uv_connect_t *req, int status) {
  connecting_t *k = (connecting_t *)((char *)req - offsetof(connecting_t, req));
  if (status < 0 && status != UV_ECANCELED && k->next && k->fut) {
    k->lasterr = status;
    k->c->h.tcp.data = k;                  /* try the next address */
    uv_close((uv_handle_t *)&k->c->h.tcp, on_retry_closed);
    return;
  }
  connect_finish(k, status);
}

/* Starts connecting to k->next, skipping addresses it cannot use. */
static int connect_start(connecting_t *k) {
  int r = UV_EINVAL;
  while (k->next) {
    struct addrinfo *a = k->next;
    k->next = a->ai_next;
    r = uv_tcp_init(aiolua_runtime_loop(k->rt), &k->c->h.tcp);
    if (r < 0) return r;
    r = uv_tcp_connect(&k->req, &k->c->h.tcp, a->ai_addr, on_connect);
    if (r == 0) return 0;
    /* this address failed at once: close the handle, next one */
    k->lasterr = r;
    k->c->h.tcp.data = k;
    uv_close((uv_handle_t *)&k->c->h.tcp, on_retry_closed);
    return 0;
  }
  return r;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai) {
  connecting_t *k = (connecting_t *)req;
  k->ai = ai;
  if (status < 0) {
    connect_finish(k, status);
    return;
  }
  if (k->fut == NULL) {                  /* cancelled while resolving */
    connect_finish(k, UV_ECANCELED);
    return;
  }
  k->next = ai;
  int r = connect_start(k);
  if (r < 0) connect_finish(k, r);
}

static void cancel_connect(aiolua_future_t *f, void *data) {
  connecting_t *k = data;
  (void)f;
  k->fut = NULL;
  if (k->gai.type == UV_GETADDRINFO)     /* a Unix connect has none */
    uv_cancel((uv_req_t *)&k->gai);      /* if still resolving */
}

/* [] -> [future] : a connect's record, its future (awaited for a Conn)
** and the Lua object of its connection (held by a reference), made in
** that order, so that nothing leaks if one raises. */
static connecting_t *new_connecting(lua_State *L) {
  conn_t *c = aiolua__conn_push(L);
  aiolua_future_t *f = aiolua_future_new(L);
  lua_insert(L, -2);                     /* stack: f, conn */
  int cref = luaL_ref(L, LUA_REGISTRYINDEX);
  connecting_t *k = calloc(1, sizeof *k);
  if (k == NULL) {
    luaL_unref(L, LUA_REGISTRYINDEX, cref);
    aiolua_future_cancel(f, NULL);
    luaL_error(L, "not enough memory");
  }
  k->rt = aiolua_runtime_from_lua(L);
  k->c = c;
  k->cref = cref;
  k->fut = f;
  aiolua_future_on_cancel(f, cancel_connect, k);
  return k;
}

/* connect(host, port) -> future of a Conn */
static int l_connect(lua_State *L) {
  const char *host = luaL_checkstring(L, 1);
  lua_Integer port = luaL_checkinteger(L, 2);
  luaL_argcheck(L, port > 0 && port < 65536, 2, "port out of range");
  connecting_t *k = new_connecting(L);
  char service[16];
  struct addrinfo hints;
  snprintf(k->what, sizeof k->what, "connect to %s:%d", host, (int)port);
  snprintf(service, sizeof service, "%d", (int)port);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int r = uv_getaddrinfo(aiolua_runtime_loop(k->rt), &k->gai, on_resolved,
                         host, service, &hints);
  if (r < 0) {                           /* no callback will come */
    aiolua_future_on_cancel(k->fut, NULL, NULL);
    aiolua_future_cancel(k->fut, NULL);
    luaL_unref(L, LUA_REGISTRYINDEX, k->cref);
    free(k);
    aiolua__push_uverror(L, "getaddrinfo", r);
    return lua_error(L);
  }
  return 1;
}

/* ---- servers ------------------------------------------------------------- */

static server_t *checkserver(lua_State *L) {
  lserver_t *u = aiolua__checkself(L, SERVER_MT);
  if (u->s == NULL) luaL_error(L, "the server is gone");
  return u->s;
}

static void on_connection(uv_stream_t *st, int status) {
  server_t *s = (server_t *)st;
  if (status < 0) {
    s->err = status;
  } else {
    s->pending++;
  }
  if (!s->gone) wake(s->rt, &s->accept_w);
}

static void on_server_closed(uv_handle_t *h) {
  server_t *s = (server_t *)h;
  free(s->path);
  free(s);
}

int aiolua__sockaddr(uv_loop_t *loop, const char *host, int port,
                     struct sockaddr_storage *ss) {
  int r = uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
  if (r == 0 || uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
    return 0;
  uv_getaddrinfo_t req;                  /* a name: resolve it, at once */
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_PASSIVE;
  r = uv_getaddrinfo(loop, &req, NULL, host, NULL, &hints);
  if (r < 0) return r;
  memcpy(ss, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
  else
    ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
  return 0;
}

static void server_close(server_t *s);

/* [] -> [Server] : a server object and its record, whose handle is
** initialised (a pipe for a Unix socket, else TCP); raises when out of
** memory. */
static server_t *server_push(lua_State *L, int unix_socket) {
  lserver_t *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->s = NULL;
  luaL_setmetatable(L, SERVER_MT);
  server_t *s = calloc(1, sizeof *s);
  if (s == NULL) luaL_error(L, "not enough memory");
  s->rt = aiolua_runtime_from_lua(L);
  if (unix_socket) uv_pipe_init(aiolua_runtime_loop(s->rt), &s->h.pipe, 0);
  else uv_tcp_init(aiolua_runtime_loop(s->rt), &s->h.tcp);
  u->s = s;
  return s;
}

/* [Server] -> raises : the bind or listen of the server on top failed
** with uverr; it is closed, and the OSError says "listen on <where>". */
static int listen_failed(lua_State *L, int uverr, const char *where) {
  lserver_t *u = lua_touserdata(L, -1);
  server_close(u->s);
  u->s = NULL;
  return aiolua__raise_uverror(L, uverr, "listen on %s", where);
}

/* listen(host, port, backlog) -> Server (bound and listening) */
static int l_listen(lua_State *L) {
  const char *host = luaL_checkstring(L, 1);
  lua_Integer port = luaL_checkinteger(L, 2);
  lua_Integer backlog = luaL_optinteger(L, 3, 100);
  luaL_argcheck(L, port >= 0 && port < 65536, 2, "port out of range");
  struct sockaddr_storage ss;
  int r = aiolua__sockaddr(aiolua_runtime_loop(aiolua_runtime_from_lua(L)),
                           host, (int)port, &ss);
  if (r < 0)
    return aiolua__raise_uverror(L, r, "listen on %s:%d", host, (int)port);
  server_t *s = server_push(L, 0);
  r = uv_tcp_bind(&s->h.tcp, (struct sockaddr *)&ss, 0);
  if (r == 0) r = uv_listen((uv_stream_t *)&s->h.tcp, (int)backlog, on_connection);
  if (r < 0) {
    char where[300];
    snprintf(where, sizeof where, "%s:%d", host, (int)port);
    return listen_failed(L, r, where);
  }
  return 1;
}

/* server:accept() -> future of a Conn (or of the OSError of the listen) */
static int l_accept(lua_State *L) {
  server_t *s = checkserver(L);
  if (s->closing) return aiolua_error(L, "RuntimeError", "the server is closed");
  if (s->accept_w)
    return aiolua_error(L, "RuntimeError", "accept() called while another "
                        "coroutine is already waiting for it");
  if (s->pending == 0 && s->err == 0) {
    push_waiter(L, &s->accept_w);
    return 1;
  }
  aiolua_future_t *f = aiolua_future_new(L);   /* stack: ..., fut */
  if (s->pending == 0) {
    aiolua__push_uverror(L, "accept", s->err);
    s->err = 0;
    aiolua_future_reject(f, L);
    return 1;
  }
  conn_t *c = aiolua__conn_push(L);              /* stack: ..., fut, conn */
  if (s->h.tcp.type == UV_NAMED_PIPE)
    uv_pipe_init(aiolua_runtime_loop(s->rt), &c->h.pipe, 0);
  else
    uv_tcp_init(aiolua_runtime_loop(s->rt), &c->h.tcp);
  int r = uv_accept((uv_stream_t *)&s->h.tcp, (uv_stream_t *)&c->h.tcp);
  s->pending--;
  if (r < 0) {
    lua_pop(L, 1);
    aiolua__push_uverror(L, "accept", r);
    aiolua_future_reject(f, L);
    return 1;
  }
  aiolua_future_resolve(f, L, 1);
  return 1;
}

/* A waiting accept() settled: the caller calls accept() again, which
** then finds the connection pending. */

static int l_server_address(lua_State *L) {
  server_t *s = checkserver(L);
  if (s->h.tcp.type == UV_NAMED_PIPE) {  /* a Unix socket: its path */
    if (s->closing) lua_pushnil(L); else lua_pushstring(L, s->path);
    return 1;
  }
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int r = s->closing ? -1 : uv_tcp_getsockname(&s->h.tcp, (struct sockaddr *)&ss, &len);
  aiolua__push_addr(L, &ss, r == 0);
  return 1;
}

static void server_close(server_t *s) {
  if (s->closing) return;
  s->closing = 1;
  if (s->path) unlink(s->path);          /* as CPython 3.13's cleanup */
  uv_close((uv_handle_t *)&s->h.tcp, on_server_closed);
}

/* Lets the server of u go: its accept() waiter woken (it sees the server
** closed) or, from the collector, dropped; its handle closed, and
** on_server_closed frees it. */
static void server_release(lserver_t *u, int wake_waiter) {
  server_t *s = u->s;
  u->s = NULL;
  if (wake_waiter) wake(s->rt, &s->accept_w);
  aiolua__drop_event(&s->accept_w);      /* no hook may point into s */
  s->gone = 1;
  server_close(s);
}

static int l_server_close(lua_State *L) {
  lserver_t *u = aiolua__checkself(L, SERVER_MT);
  if (u->s != NULL) server_release(u, 1);
  return 0;
}

static int l_server_closed(lua_State *L) {
  lserver_t *u = aiolua__checkself(L, SERVER_MT);
  lua_pushboolean(L, u->s == NULL || u->s->closing);
  return 1;
}

static int l_server_gc(lua_State *L) {
  lserver_t *u = lua_touserdata(L, 1);
  if (u->s != NULL) server_release(u, 0);
  return 0;
}

/* ---- Unix sockets -------------------------------------------------------- */

/* The path at 1, which must fit a sockaddr_un (libuv would cut it). */
static const char *check_unix_path(lua_State *L, const char *what) {
  size_t n;
  const char *path = luaL_checklstring(L, 1, &n);
  if (strlen(path) != n)                 /* a zero byte inside */
    aiolua__raise_uverror(L, UV_EINVAL, "%s %s", what, path);
  if (n >= sizeof(((struct sockaddr_un *)0)->sun_path))
    aiolua__raise_uverror(L, UV_ENAMETOOLONG, "%s %s", what, path);
  return path;
}

/* connect_unix(path) -> future of a Conn: a connect as TCP's, with no
** name to resolve and one address (on_connect, connect_finish). */
static int l_connect_unix(lua_State *L) {
  const char *path = check_unix_path(L, "connect to");
  connecting_t *k = new_connecting(L);
  snprintf(k->what, sizeof k->what, "connect to %s", path);
  uv_pipe_init(aiolua_runtime_loop(k->rt), &k->c->h.pipe, 0);
  uv_pipe_connect(&k->req, &k->c->h.pipe, path, on_connect);
  return 1;
}

/* listen_unix(path, backlog) -> Server (bound and listening); a stale
** socket file at path is removed first, as CPython does. */
static int l_listen_unix(lua_State *L) {
  const char *path = check_unix_path(L, "listen on");
  lua_Integer backlog = luaL_optinteger(L, 2, 100);
  struct stat st;
  if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
  server_t *s = server_push(L, 1);
  int r = uv_pipe_bind(&s->h.pipe, path);
  if (r == 0 && (s->path = strdup(path)) == NULL) {  /* ours to unlink */
    unlink(path);
    r = UV_ENOMEM;
  }
  if (r == 0) r = uv_listen((uv_stream_t *)&s->h.pipe, (int)backlog, on_connection);
  if (r < 0) return listen_failed(L, r, path);
  return 1;
}

/* ---- the process's own pipes ----------------------------------------------- */

/* open_fd(file, writable) -> Conn on a copy of file's descriptor (file: a
** number, a Lua file such as io.stdin or io.popen's, or anything with
** fileno(); a pipe, a socket or a terminal): what connect_read_pipe and
** connect_write_pipe stream.  The copy shares the file description, which
** libuv makes non-blocking, as Python's pipe transports do. */
static int l_open_fd(lua_State *L) {
  int fd = aiolua__fileno(L, 1);
  int writable = lua_toboolean(L, 2);
  uv_handle_type type = uv_guess_handle((uv_file)fd);
  if (type != UV_NAMED_PIPE && type != UV_TTY && type != UV_TCP)
    return aiolua_error(L, "ValueError", "Pipe transport is only for pipes, "
                        "sockets and terminals (fd %d)", (int)fd);
  uv_loop_t *loop = aiolua_runtime_loop(aiolua_runtime_from_lua(L));
  conn_t *c = aiolua__conn_push(L);
  int copy = dup((int)fd), r;
  if (copy < 0) {
    r = uv_translate_sys_error(errno);
  } else if (type == UV_TTY) {
    r = uv_tty_init(loop, &c->h.tty, copy, !writable);
  } else if (type == UV_TCP) {
    r = uv_tcp_init(loop, &c->h.tcp);
    if (r == 0) r = uv_tcp_open(&c->h.tcp, copy);
  } else {
    r = uv_pipe_init(loop, &c->h.pipe, 0);
    if (r == 0) r = uv_pipe_open(&c->h.pipe, copy);
  }
  if (r < 0) {                           /* the handle does not own copy */
    if (copy >= 0) close(copy);
    return aiolua__raise_uverror(L, r, "open fd %d", (int)fd);
  }
  return 1;
}

/* ---- the module ---------------------------------------------------------- */

int luaopen_aiolua_streams(lua_State *L);
int luaopen_aiolua_streams(lua_State *L) {
  static const luaL_Reg conn_methods[] = {
    {"buffered", l_buffered}, {"find", l_find}, {"take", l_take},
    {"eof", l_eof}, {"error", l_error}, {"wait_data", l_wait_data},
    {"recv", l_recv}, {"status", l_status}, {"set_reader", l_set_reader},
    {"pause_reading", l_pause_reading},
    {"write", l_write}, {"send", l_send}, {"write_size", l_write_size},
    {"wait_drain", l_wait_drain}, {"shutdown", l_shutdown},
    {"close", l_close}, {"abort", l_abort}, {"closing", l_closing},
    {"wait_closed", l_wait_closed}, {"address", l_address},
    {"set_limit", l_set_limit}, {NULL, NULL}};
  static const luaL_Reg server_methods[] = {
    {"accept", l_accept}, {"address", l_server_address},
    {"close", l_server_close}, {"closed", l_server_closed}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {
    {"connect", l_connect}, {"listen", l_listen},
    {"connect_unix", l_connect_unix}, {"listen_unix", l_listen_unix},
    {"open_fd", l_open_fd}, {NULL, NULL}};
  aiolua__new_class(L, CONN_MT, conn_methods, l_conn_gc);
  aiolua__new_class(L, SERVER_MT, server_methods, l_server_gc);
  luaL_newlib(L, funcs);
  return 1;
}
