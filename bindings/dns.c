/*
** dns.c -- name resolution on libuv's thread pool for the loop's
** getaddrinfo and getnameinfo (require "aiolua.dns"), as CPython's loop
** methods: the system resolver, without blocking the loop.
**   getaddrinfo(host, port [, {family =, type =, proto =, flags =}])
**     -> future of a list of {family, type, proto, canonname, {host, port}}
**        (also as fields family, type, proto, canonname, sockaddr)
**   getnameinfo({host, port} [, flags]) -> future of host, service
** Design note: the request record is malloc'd and outlives a cancelled
** future: libuv calls back once whatever happens, and the callback frees
** it; it touches Lua only to settle a future still waited for.
*/
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "streams.h"

typedef struct dnsreq {
  union {
    uv_getaddrinfo_t gai;
    uv_getnameinfo_t gni;
  } req;
  aiolua_runtime_t *rt;
  aiolua_future_t *fut;              /* NULL once cancelled */
  char what[300];
} dnsreq_t;

static void cancel_req(aiolua_future_t *f, void *data) {
  dnsreq_t *d = data;
  (void)f;
  d->fut = NULL;
  uv_cancel((uv_req_t *)&d->req);    /* if not begun; else ignored */
}

/* [] -> [future] : a request record whose future waits for it. */
static dnsreq_t *new_req(lua_State *L, const char *fmt, const char *a, int b) {
  aiolua_future_t *f = aiolua_future_new(L);
  dnsreq_t *d = calloc(1, sizeof *d);
  if (d == NULL) {
    aiolua_future_cancel(f, NULL);
    luaL_error(L, "not enough memory");
  }
  d->rt = aiolua_runtime_from_lua(L);
  d->fut = f;
  snprintf(d->what, sizeof d->what, fmt, a, b);
  return d;
}

/* Rejects d's future with the OSError of libuv error r (protected: from
** a libuv callback too). */
static void reject(lua_State *L, dnsreq_t *d, int r) {
  aiolua__reject_uverror(L, d->fut, d->what, r);
}

/* [v] -> [] : t[i] = v and t[name] = v (a tuple's place and name). */
static void set2(lua_State *L, int t, int i, const char *name) {
  lua_pushvalue(L, -1);
  lua_rawseti(L, t, i);
  lua_setfield(L, t, name);
}

/* [ai, nil] -> [list] (protected: it allocates) */
static int push_addrinfo(lua_State *L) {
  const struct addrinfo *ai = lua_touserdata(L, 1);
  lua_settop(L, 1);
  lua_newtable(L);                       /* 2: the list */
  int n = 0;
  for (; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    lua_createtable(L, 5, 5);            /* 3: the entry */
    lua_pushinteger(L, ai->ai_family);
    set2(L, 3, 1, "family");
    lua_pushinteger(L, ai->ai_socktype);
    set2(L, 3, 2, "type");
    lua_pushinteger(L, ai->ai_protocol);
    set2(L, 3, 3, "proto");
    lua_pushstring(L, ai->ai_canonname ? ai->ai_canonname : "");
    set2(L, 3, 4, "canonname");
    aiolua__push_addr(L, &ss, 1);
    set2(L, 3, 5, "sockaddr");
    lua_rawseti(L, 2, ++n);
  }
  return 1;
}

/* The end of request d (a libuv callback): unless it was cancelled, its
** future gets fn(a, b)'s nres values, pushed under a protected call, or
** the error of status. */
static void finish(dnsreq_t *d, int status, lua_CFunction fn, void *a,
                   void *b, int nres) {
  if (d->fut == NULL) return;
  lua_State *L = aiolua_runtime_lua(d->rt);
  aiolua_future_on_cancel(d->fut, NULL, NULL);
  if (status < 0) {
    reject(L, d, status);
    return;
  }
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, a);
  lua_pushlightuserdata(L, b);
  if (lua_pcall(L, 2, nres, 0) == LUA_OK) aiolua_future_resolve(d->fut, L, nres);
  else aiolua_future_reject(d->fut, L);
}

static void on_addrinfo(uv_getaddrinfo_t *req, int status, struct addrinfo *ai) {
  dnsreq_t *d = (dnsreq_t *)req;
  finish(d, status, push_addrinfo, ai, NULL, 1);
  uv_freeaddrinfo(ai);
  free(d);
}

static int opt_int(lua_State *L, int opts, const char *name) {
  if (lua_isnoneornil(L, opts)) return 0;
  lua_getfield(L, opts, name);
  int v = (int)luaL_optinteger(L, -1, 0);
  lua_pop(L, 1);
  return v;
}

/* getaddrinfo(host, port [, opts]) -> future of the addresses */
static int l_getaddrinfo(lua_State *L) {
  const char *host = luaL_optstring(L, 1, NULL);
  char service[32] = "";
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer p = luaL_checkinteger(L, 2);
    luaL_argcheck(L, p >= 0 && p < 65536, 2, "port out of range");
    snprintf(service, sizeof service, "%d", (int)p);
  } else if (!lua_isnoneornil(L, 2)) {
    snprintf(service, sizeof service, "%s", luaL_checkstring(L, 2));
  }
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  if (host == NULL && !*service)
    return aiolua_error(L, "OSError", "getaddrinfo: a host or a port is needed");
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = opt_int(L, 3, "family");
  hints.ai_socktype = opt_int(L, 3, "type");
  hints.ai_protocol = opt_int(L, 3, "proto");
  hints.ai_flags = opt_int(L, 3, "flags");
  dnsreq_t *d = new_req(L, "getaddrinfo %s:%d", host ? host : "",
                        (int)luaL_optinteger(L, 2, 0));
  aiolua_future_on_cancel(d->fut, cancel_req, d);
  int r = uv_getaddrinfo(aiolua_runtime_loop(d->rt), &d->req.gai, on_addrinfo,
                         host, *service ? service : NULL, &hints);
  if (r < 0) {                           /* no callback will come */
    aiolua_future_on_cancel(d->fut, NULL, NULL);
    reject(L, d, r);
    free(d);
  }
  return 1;
}

/* [host, service] -> [host, service] as Lua strings (protected: strings
** allocate, and no error may leave a libuv callback). */
static int push_names(lua_State *L) {
  const char *host = lua_touserdata(L, 1), *service = lua_touserdata(L, 2);
  lua_pushstring(L, host);
  lua_pushstring(L, service);
  return 2;
}

static void on_nameinfo(uv_getnameinfo_t *req, int status, const char *host,
                        const char *service) {
  dnsreq_t *d = (dnsreq_t *)req;
  finish(d, status, push_names, (void *)host, (void *)service, 2);
  free(d);
}

/* getnameinfo({host, port} [, flags]) -> future of host, service */
static int l_getnameinfo(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_rawgeti(L, 1, 1);
  lua_rawgeti(L, 1, 2);
  const char *host = lua_tostring(L, -2);
  if (host == NULL || !lua_isinteger(L, -1))
    return aiolua_error(L, "TypeError", "getnameinfo: sockaddr must be "
                        "{host, port}");
  lua_Integer port = lua_tointeger(L, -1);
  luaL_argcheck(L, port >= 0 && port < 65536, 1, "port out of range");
  struct sockaddr_storage ss;
  int r = uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss);
  if (r < 0) r = uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss);
  if (r < 0)
    return aiolua_error(L, "OSError", "getnameinfo: %s is not an IP address",
                        host);
  int flags = (int)luaL_optinteger(L, 2, 0);
  dnsreq_t *d = new_req(L, "getnameinfo %s:%d", host, (int)port);
  aiolua_future_on_cancel(d->fut, cancel_req, d);
  r = uv_getnameinfo(aiolua_runtime_loop(d->rt), &d->req.gni, on_nameinfo,
                     (struct sockaddr *)&ss, flags);
  if (r < 0) {
    aiolua_future_on_cancel(d->fut, NULL, NULL);
    reject(L, d, r);
    free(d);
  }
  return 1;
}

int luaopen_aiolua_dns(lua_State *L);
int luaopen_aiolua_dns(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"getaddrinfo", l_getaddrinfo}, {"getnameinfo", l_getnameinfo},
    {NULL, NULL}};
  luaL_newlib(L, funcs);
  static const struct { const char *name; int v; } k[] = {
    {"AF_UNSPEC", AF_UNSPEC}, {"AF_INET", AF_INET}, {"AF_INET6", AF_INET6},
    {"SOCK_STREAM", SOCK_STREAM}, {"SOCK_DGRAM", SOCK_DGRAM},
    {"IPPROTO_TCP", IPPROTO_TCP}, {"IPPROTO_UDP", IPPROTO_UDP},
    {"AI_PASSIVE", AI_PASSIVE}, {"AI_CANONNAME", AI_CANONNAME},
    {"AI_NUMERICHOST", AI_NUMERICHOST}, {"NI_NUMERICHOST", NI_NUMERICHOST},
    {"NI_NUMERICSERV", NI_NUMERICSERV}, {"NI_NAMEREQD", NI_NAMEREQD}};
  lua_createtable(L, 0, (int)(sizeof k / sizeof k[0]));
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    lua_pushinteger(L, k[i].v);
    lua_setfield(L, -2, k[i].name);
  }
  lua_setfield(L, -2, "socket");
  return 1;
}
