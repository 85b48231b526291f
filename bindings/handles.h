/*
** handles.h -- the loop handles of asyncio.c (call_soon's), as the
** watchers of other files queue them: a signal (signals.c) or a ready file
** descriptor (fdwatch.c) runs its callback as a handle, as CPython's loop
** does.  Queueing allocates nothing and raises nothing, so it may happen
** in a libuv callback.
*/
#ifndef AIOLUA_HANDLES_H
#define AIOLUA_HANDLES_H

#include <lua.h>

typedef struct aiolua_handle aiolua_handle_t;

/* Queues the signal handle h once more (a signal came): it runs once per
** signal. */
void aiolua__handle_signal(aiolua_handle_t *h);
/* Queues handle h unless it waits in the queue already (a descriptor is
** ready: a level, not a count). */
void aiolua__handle_wake(aiolua_handle_t *h);
/* Cancels handle h (idempotent). */
void aiolua__handle_cancel(lua_State *L, aiolua_handle_t *h);

#endif
