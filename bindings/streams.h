/*
** streams.h -- the connections of streams.c, for subprocess.c: a
** subprocess's pipes are connections too, read and written as sockets.
*/
#ifndef AIOLUA_STREAMS_H
#define AIOLUA_STREAMS_H

#include <uv.h>
#include <lua.h>

typedef struct conn conn_t;

/* [] -> [conn] : a connection object whose handle (at the start of the
** record) the caller initialises, a uv_tcp_t or a uv_pipe_t; raises when
** out of memory.  Needs require "aiolua.streams" first (its metatable). */
conn_t *aiolua__conn_push(lua_State *L);

/* Closes the connection's handle (idempotent). */
void aiolua__conn_close(conn_t *c);

#endif
