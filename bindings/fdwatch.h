/*
** fdwatch.h -- loop:add_reader / add_writer (fdwatch.c): a file
** descriptor watched with libuv's uv_poll_t; while it is ready its
** callback runs as a call_soon handle (handles.h), as CPython's selector
** loop does.
*/
#ifndef AIOLUA_FDWATCH_H
#define AIOLUA_FDWATCH_H

#include <lua.h>
#include "handles.h"

typedef struct aiolua_watch aiolua_watch_t;

/* The descriptor of the file object at idx: an integer, a Lua file
** (io.stdin, io.popen's), or anything with a fileno() method; raises
** CPython's ValueError for anything else.  (The loop's readers and
** writers take files so, and so do pipe transports and streams.) */
int aiolua__fileno(lua_State *L, int idx);
/* Makes h the reader (writing == 0) or the writer of fd in *list (a
** loop's), replacing (and cancelling) the one it had.  Raises OSError
** when fd cannot be polled (a regular file: PermissionError, as epoll's
** EPERM in CPython) and RuntimeError when another handle of the loop
** uses fd; h is cancelled then. */
void aiolua__watch_add(lua_State *L, aiolua_watch_t **list, int fd,
                       int writing, aiolua_handle_t *h);
/* Removes the reader (or writer) of fd from *list: 1 if it had one. */
int aiolua__watch_remove(lua_State *L, aiolua_watch_t **list, int fd,
                         int writing);
/* Removes every watcher of *list (the loop closes or goes away). */
void aiolua__watch_remove_all(lua_State *L, aiolua_watch_t **list);

#endif
