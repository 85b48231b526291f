/*
** handles.h -- the loop handles of asyncio.c (call_soon's), as the
** watchers of other files queue them: a signal (signals.c), a ready file
** descriptor (fdwatch.c) or a connection that received bytes (streams.c,
** for protocols) runs its callback as a handle, as CPython's loop does.
** Queueing allocates nothing and raises nothing, so it may happen
** in a libuv callback.
*/
#ifndef AIOLUA_HANDLES_H
#define AIOLUA_HANDLES_H

#include <lua.h>

typedef struct aiolua_handle aiolua_handle_t;

/* The hook of a handle's owner (set_owner): its callback raised (closing
** 0; after the report), or its loop closes (closing 1).  Either way the
** owner ends what it does, and at close it cancels the handle. */
typedef void (*aiolua_handle_owner_fn)(lua_State *L, void *data, int closing);

/* [fn, args...] at first.. -> [..., handle] : a new handle that runs
** fn(args...) each time it is queued (aiolua__handle_wake) until it is
** cancelled, or the running loop closes; anchored until then.  Raises when
** out of memory. */
aiolua_handle_t *aiolua__handle_new_repeat(lua_State *L, int first);

/* Sets the owner's hook of handle h (a connection's reader). */
void aiolua__handle_set_owner(aiolua_handle_t *h, aiolua_handle_owner_fn fn,
                              void *data);

/* Queues the signal handle h once more (a signal came): it runs once per
** signal. */
void aiolua__handle_signal(aiolua_handle_t *h);
/* Queues handle h unless it waits in the queue already (a descriptor is
** ready: a level, not a count). */
void aiolua__handle_wake(aiolua_handle_t *h);
/* Cancels handle h (idempotent). */
void aiolua__handle_cancel(lua_State *L, aiolua_handle_t *h);

#endif
