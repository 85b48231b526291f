/*
** signals.h -- Unix signals for the loop object (signals.c):
** loop:add_signal_handler runs its callback as a call_soon handle at each
** signal, as CPython's does (handles.h).
*/
#ifndef AIOLUA_SIGNALS_H
#define AIOLUA_SIGNALS_H

#include <lua.h>
#include "handles.h"

typedef struct aiolua_sig aiolua_sig_t;

/* The signal number at idx: an integer or a name ("SIGTERM");
** raises CPython's TypeError or ValueError for anything else. */
int aiolua__sig_check(lua_State *L, int idx);
/* Makes handle h the handler of signal signum in *list (a loop's),
** replacing (and cancelling) the one it had; raises RuntimeError for a
** signal that cannot be caught (SIGKILL, SIGSTOP). */
void aiolua__sig_add(lua_State *L, aiolua_sig_t **list, int signum,
                     aiolua_handle_t *h);
/* Removes the handler of signum from *list: 1 if it had one.  The signal
** does what it did before aiolua caught it. */
int aiolua__sig_remove(lua_State *L, aiolua_sig_t **list, int signum);
/* Removes every handler of *list (the loop closes or goes away). */
void aiolua__sig_remove_all(lua_State *L, aiolua_sig_t **list);

#endif
