/*
** streams.h -- the connections of streams.c, for subprocess.c: a
** subprocess's pipes are connections too, read and written as sockets.
*/
#ifndef AIOLUA_STREAMS_H
#define AIOLUA_STREAMS_H

#include <uv.h>
#include <lua.h>
#include "aiolua.h"

typedef struct conn conn_t;

/* [] -> [conn] : a connection object whose handle (at the start of the
** record) the caller initialises, a uv_tcp_t or a uv_pipe_t; raises when
** out of memory.  Needs require "aiolua.streams" first (its metatable). */
conn_t *aiolua__conn_push(lua_State *L);

/* Pushes an OSError "what: message" for libuv error uverr, with its code
** ("ECONNREFUSED") and errno. */
void aiolua__push_uverror(lua_State *L, const char *what, int uverr);

/* Raises that OSError, its "what" formatted as lua_pushfstring does. */
int aiolua__raise_uverror(lua_State *L, int uverr, const char *fmt, ...);

/* Rejects f with that OSError, made under a protected call: for libuv
** callbacks, which no error may leave (out of memory, f gets that). */
void aiolua__reject_uverror(lua_State *L, aiolua_future_t *f,
                            const char *what, int uverr);

/* Pushes {host, port} of a socket address (ok), or nil. */
void aiolua__push_addr(lua_State *L, const struct sockaddr_storage *ss, int ok);

/* The address of host (an IP address, or a name resolved now: a name
** blocks, as CPython's local_addr does) and port; a libuv error or 0. */
int aiolua__sockaddr(uv_loop_t *loop, const char *host, int port,
                     struct sockaddr_storage *ss);

/* [] -> [future] : the future of a one-off event (a close, an exit)
** recorded in *slot: the pending one, which every waiter shares; a settled
** one if it has happened (done); else a new one, kept in *slot until it is
** settled or cancelled.  The record holding *slot must outlive the
** future's hook (the runtime cancels it, at the latest, as it closes). */
void aiolua__push_event(lua_State *L, aiolua_future_t **slot, int done);

/* Settles the future in *slot (if any) with no value, and clears *slot. */
void aiolua__wake(lua_State *L, aiolua_future_t **slot);

/* Cancels the future in *slot (if any), unhooked first, and clears *slot:
** for a record that goes away (its Lua object collected) while a future
** whose hook points into it is still pending. */
void aiolua__drop_event(aiolua_future_t **slot);

#endif
