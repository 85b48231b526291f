/*
** datagram.c -- UDP on libuv's uv_udp_t for loop:create_datagram_endpoint
** (require "aiolua.datagram"; bindings/datagram.lua makes CPython's
** transport and drives the protocol with it).
**   open(local_host, local_port, remote_host, remote_port, opts) -> Endpoint
**   Endpoint: take() -> data, {host, port} | nil   set_reader(fn, ...)
**             send(data [, host, port])  address(peer)  close()  closed()
**             error() -> the OSError of a failed receive, taken
** Design note: datagrams are received into a queue in C and the reader, a
** loop handle, is queued (handles.h); it takes them and calls the
** protocol, so no Lua runs in libuv's callbacks, and no task nor future
** runs for a datagram.  The queue is bounded (QUEUE_MAX
** datagrams): past it, receiving stops until the Lua side has taken some,
** and the kernel drops what comes meanwhile, as UDP may.  The record is
** malloc'd (libuv closes a handle after the userdata may be gone).
*/
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "handles.h"
#include "streams.h"

#define ENDPOINT_MT "aiolua.Endpoint"
#define QUEUE_MAX 1024               /* datagrams waiting for Lua */
#define RECV_SIZE (64 * 1024)        /* the largest datagram */

typedef struct dgram {
  struct dgram *next;
  struct sockaddr_storage from;
  size_t len;
  char data[];
} dgram_t;

typedef struct lendpoint lendpoint_t;

typedef struct endpoint {
  uv_udp_t h;                        /* first: (endpoint_t *)handle */
  aiolua_runtime_t *rt;
  lendpoint_t *u;                    /* its Lua object, until released */
  dgram_t *head, *tail;              /* received, not yet taken */
  int queued;
  int err;                           /* a failed receive, until taken */
  unsigned receiving : 1, closing : 1, gone : 1, connected : 1;
  aiolua_handle_t *reader;           /* runs for a datagram or an error */
  char buf[RECV_SIZE];
} endpoint_t;

struct lendpoint { endpoint_t *e; };

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out) {
  (void)hint;
  *out = uv_buf_init(((endpoint_t *)h)->buf, RECV_SIZE);
}

static void wake(endpoint_t *e) {
  if (!e->gone && e->reader) aiolua__handle_wake(e->reader);
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
                    const struct sockaddr *from, unsigned flags) {
  endpoint_t *e = (endpoint_t *)h;
  (void)buf;
  if (n < 0) {
    e->err = (int)n;
  } else if (from == NULL) {
    return;                          /* nothing more to read now */
  } else {
    if (flags & UV_UDP_PARTIAL) n = RECV_SIZE;
    dgram_t *d = malloc(sizeof *d + (size_t)n);
    if (d == NULL) return;           /* dropped, as the kernel would */
    d->next = NULL;
    d->len = (size_t)n;
    memcpy(d->data, e->buf, (size_t)n);
    memset(&d->from, 0, sizeof d->from);
    memcpy(&d->from, from, from->sa_family == AF_INET6
                               ? sizeof(struct sockaddr_in6)
                               : sizeof(struct sockaddr_in));
    if (e->tail) e->tail->next = d; else e->head = d;
    e->tail = d;
    if (++e->queued >= QUEUE_MAX) {  /* Lua is behind: let the kernel */
      uv_udp_recv_stop(h);           /* hold (or drop) the rest */
      e->receiving = 0;
    }
  }
  wake(e);
}

static void free_queue(endpoint_t *e) {
  while (e->head) {
    dgram_t *d = e->head;
    e->head = d->next;
    free(d);
  }
  e->tail = NULL;
  e->queued = 0;
}

static void on_closed(uv_handle_t *h) {
  endpoint_t *e = (endpoint_t *)h;
  free_queue(e);
  free(e);
}

static void endpoint_close(endpoint_t *e) {
  if (e->closing) return;
  e->closing = 1;
  uv_close((uv_handle_t *)&e->h, on_closed);
}

static endpoint_t *checkendpoint(lua_State *L) {
  lendpoint_t *u = aiolua__checkself(L, ENDPOINT_MT);
  if (u->e == NULL || u->e->closing)
    aiolua_error(L, "OSError", "the endpoint is closed");
  return u->e;
}

/* open(lhost, lport, rhost, rport, broadcast) -> Endpoint: bound to the
** local address (nil: any, port 0), connected to the remote one if given;
** receiving. */
static int l_open(lua_State *L) {
  const char *lhost = luaL_optstring(L, 1, NULL);
  int lport = (int)luaL_optinteger(L, 2, 0);
  const char *rhost = luaL_optstring(L, 3, NULL);
  int rport = (int)luaL_optinteger(L, 4, 0);
  int broadcast = lua_toboolean(L, 5);
  luaL_argcheck(L, lport >= 0 && lport < 65536, 2, "port out of range");
  luaL_argcheck(L, rhost == NULL || (rport > 0 && rport < 65536), 4,
                "port out of range");
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  uv_loop_t *loop = aiolua_runtime_loop(rt);
  struct sockaddr_storage local, remote;
  int r;
  if (rhost && (r = aiolua__sockaddr(loop, rhost, rport, &remote)) < 0)
    return aiolua__raise_uverror(L, r, "resolve %s:%d", rhost, rport);
  if (lhost == NULL)                 /* any address of the remote's family */
    lhost = rhost && remote.ss_family == AF_INET6 ? "::" : "0.0.0.0";
  if ((r = aiolua__sockaddr(loop, lhost, lport, &local)) < 0)
    return aiolua__raise_uverror(L, r, "resolve %s:%d", lhost, lport);
  lendpoint_t *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->e = NULL;
  luaL_setmetatable(L, ENDPOINT_MT);
  endpoint_t *e = calloc(1, sizeof *e);
  if (e == NULL) return luaL_error(L, "not enough memory");
  e->rt = rt;
  uv_udp_init(loop, &e->h);
  u->e = e;
  e->u = u;
  const char *what = "bind", *host = lhost;
  int port = lport;
  r = uv_udp_bind(&e->h, (struct sockaddr *)&local, 0);
  if (r == 0 && broadcast) {
    what = "broadcast on";
    r = uv_udp_set_broadcast(&e->h, 1);
  }
  if (r == 0 && rhost) {
    what = "connect to", host = rhost, port = rport;
    r = uv_udp_connect(&e->h, (struct sockaddr *)&remote);
    e->connected = r == 0;
  }
  if (r == 0) {
    what = "receive on", host = lhost, port = lport;
    r = uv_udp_recv_start(&e->h, on_alloc, on_recv);
  }
  if (r < 0) {
    endpoint_close(e);
    u->e = NULL;
    e->u = NULL;
    return aiolua__raise_uverror(L, r, "%s %s:%d", what, host, port);
  }
  e->receiving = 1;
  return 1;
}

/* ep:take() -> data, {host, port} of the oldest datagram, or nil */
static int l_take(lua_State *L) {
  endpoint_t *e = checkendpoint(L);
  dgram_t *d = e->head;
  if (d == NULL) return 0;
  lua_pushlstring(L, d->data, d->len);   /* may raise: d stays queued */
  aiolua__push_addr(L, &d->from, 1);
  e->head = d->next;
  if (e->head == NULL) e->tail = NULL;
  free(d);
  if (--e->queued < QUEUE_MAX / 2 && !e->receiving && !e->closing) {
    if (uv_udp_recv_start(&e->h, on_alloc, on_recv) == 0) e->receiving = 1;
  }
  return 2;
}

/* ep:error() -> the OSError of a failed receive (taken), or nil */
static int l_error(lua_State *L) {
  endpoint_t *e = checkendpoint(L);
  if (e->err == 0) return 0;
  aiolua__push_uverror(L, "receive", e->err);
  e->err = 0;
  return 1;
}

static void release(lendpoint_t *u);

/* The owner's hook of e's reader: the loop closes, so e does (CPython's
** closed loop receives no more); or the reader raised (out of memory), so
** the protocol hears of it next turn (error_received). */
static void reader_hook(lua_State *L, void *data, int closing) {
  endpoint_t *e = data;
  (void)L;
  if (closing) {
    release(e->u);
  } else {
    if (!e->err) e->err = UV_ENOMEM;
    aiolua__handle_wake(e->reader);
  }
}

/* ep:set_reader(fn, args...): fn(args...) runs as a callback of the loop
** once a datagram or an error is there (once a turn at most), until the
** endpoint or the loop closes. */
static int l_set_reader(lua_State *L) {
  endpoint_t *e = checkendpoint(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (e->reader)
    return aiolua_error(L, "RuntimeError", "the endpoint has a reader already");
  e->reader = aiolua__handle_new_repeat(L, 2);
  aiolua__handle_set_owner(e->reader, reader_hook, e);
  if (e->head || e->err) aiolua__handle_wake(e->reader);
  return 0;
}

typedef struct sreq {
  uv_udp_send_t req;
  char data[];
} sreq_t;

static void on_sent(uv_udp_send_t *req, int status) {
  (void)status;                      /* UDP: a lost send is a lost datagram */
  free(req);
}

/* ep:send(data [, host, port]): sends what the socket takes now, queues
** the rest; raises OSError for a bad address or a socket error. */
static int l_send(lua_State *L) {
  endpoint_t *e = checkendpoint(L);
  size_t n;
  const char *data = luaL_checklstring(L, 2, &n);
  struct sockaddr_storage to;
  const struct sockaddr *addr = NULL;
  if (!lua_isnoneornil(L, 3)) {
    const char *host = luaL_checkstring(L, 3);
    lua_Integer port = luaL_checkinteger(L, 4);
    luaL_argcheck(L, port > 0 && port < 65536, 4, "port out of range");
    int r = aiolua__sockaddr(aiolua_runtime_loop(e->rt), host, (int)port, &to);
    if (r < 0) return aiolua__raise_uverror(L, r, "send to %s:%d", host, (int)port);
    addr = (const struct sockaddr *)&to;
  }
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
  int r = uv_udp_try_send(&e->h, &b, 1, addr);
  if (r == UV_EAGAIN || r == UV_ENOSYS) {  /* queue a copy */
    sreq_t *s = malloc(sizeof *s + n);
    if (s == NULL) return luaL_error(L, "not enough memory");
    memcpy(s->data, data, n);
    b = uv_buf_init(s->data, (unsigned)n);
    r = uv_udp_send(&s->req, &e->h, &b, 1, addr, on_sent);
    if (r < 0) free(s);
  }
  if (r < 0) {
    aiolua__push_uverror(L, "send", r);
    return lua_error(L);
  }
  return 0;
}

/* ep:address(peer) -> {host, port} of this end, or of the connected peer */
static int l_address(lua_State *L) {
  endpoint_t *e = checkendpoint(L);
  struct sockaddr_storage ss;
  int len = sizeof ss, r;
  if (lua_toboolean(L, 2)) {
    if (!e->connected) return 0;
    r = uv_udp_getpeername(&e->h, (struct sockaddr *)&ss, &len);
  } else {
    r = uv_udp_getsockname(&e->h, (struct sockaddr *)&ss, &len);
  }
  aiolua__push_addr(L, &ss, r == 0);
  return 1;
}

/* Lets the endpoint of u go (closed, collected, or its loop closed): its
** reader cancelled, the handle closed. */
static void release(lendpoint_t *u) {
  endpoint_t *e = u->e;
  u->e = NULL;
  e->u = NULL;
  if (e->reader) {                   /* no hook may point into e */
    aiolua__handle_cancel(aiolua_runtime_lua(e->rt), e->reader);
    e->reader = NULL;
  }
  e->gone = 1;
  endpoint_close(e);
}

static int l_close(lua_State *L) {
  lendpoint_t *u = aiolua__checkself(L, ENDPOINT_MT);
  if (u->e) release(u);
  return 0;
}

static int l_closed(lua_State *L) {
  lendpoint_t *u = aiolua__checkself(L, ENDPOINT_MT);
  lua_pushboolean(L, u->e == NULL);
  return 1;
}

static int l_gc(lua_State *L) {
  lendpoint_t *u = lua_touserdata(L, 1);
  if (u->e) release(u);
  return 0;
}

int luaopen_aiolua_datagram(lua_State *L);
int luaopen_aiolua_datagram(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"take", l_take}, {"error", l_error}, {"set_reader", l_set_reader},
    {"send", l_send}, {"address", l_address}, {"close", l_close},
    {"closed", l_closed}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"open", l_open}, {NULL, NULL}};
  aiolua__new_class(L, ENDPOINT_MT, methods, l_gc);
  luaL_newlib(L, funcs);
  return 1;
}
