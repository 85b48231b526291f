/*
** signals.c -- loop:add_signal_handler's signals, on libuv's uv_signal_t,
** and the `asyncio.signal` table of signal numbers (require
** "aiolua.signals").  libuv catches the signal and calls on_signal from
** the loop, where the handler's handle is queued to run as a callback: no
** Lua runs in the signal handler nor in libuv's callback.  When the last
** handler of a signal goes, the signal does what it did before aiolua
** caught it (the aiolua binary's Ctrl-C: KeyboardInterrupt), as CPython
** restores the default SIGINT handler.
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "internal.h"
#include "signals.h"

struct aiolua_sig {
  uv_signal_t h;               /* first: the record is the handle */
  aiolua_handle_t *handle;     /* what runs at each signal */
  aiolua_sig_t *next;          /* in its loop's list */
};

/* What each signal did before aiolua first caught it, process-wide: the
** runtimes of several threads may catch the same signal. */
static struct { int users; struct sigaction old; } saved[NSIG];
static uv_mutex_t saved_lock;
static uv_once_t saved_once = UV_ONCE_INIT;
static void saved_init(void) { uv_mutex_init(&saved_lock); }

static void save_action(int signum) {
  uv_once(&saved_once, saved_init);
  uv_mutex_lock(&saved_lock);
  if (saved[signum].users++ == 0) sigaction(signum, NULL, &saved[signum].old);
  uv_mutex_unlock(&saved_lock);
}

/* After libuv let go of signum (the handle closed): its last user puts
** back what was there, unless libuv still catches it for another handle
** (its own SIGCHLD watcher, the REPL's SIGWINCH). */
static void restore_action(int signum) {
  uv_mutex_lock(&saved_lock);
  if (--saved[signum].users == 0) {
    struct sigaction cur;
    if (sigaction(signum, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL &&
        !(cur.sa_flags & SA_SIGINFO))
      sigaction(signum, &saved[signum].old, NULL);
  }
  uv_mutex_unlock(&saved_lock);
}

static const struct { const char *name; int num; } signames[] = {
  {"SIGHUP", SIGHUP}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT},
  {"SIGILL", SIGILL}, {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT},
  {"SIGBUS", SIGBUS}, {"SIGFPE", SIGFPE}, {"SIGKILL", SIGKILL},
  {"SIGUSR1", SIGUSR1}, {"SIGSEGV", SIGSEGV}, {"SIGUSR2", SIGUSR2},
  {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM}, {"SIGTERM", SIGTERM},
  {"SIGCHLD", SIGCHLD}, {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP},
  {"SIGTSTP", SIGTSTP}, {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},
  {"SIGURG", SIGURG}, {"SIGXCPU", SIGXCPU}, {"SIGXFSZ", SIGXFSZ},
  {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH},
  {"SIGIO", SIGIO}, {"SIGSYS", SIGSYS},
  {NULL, 0}
};

int aiolua__sig_check(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    for (int i = 0; signames[i].name; i++)
      if (strcmp(signames[i].name, s) == 0) return signames[i].num;
    return aiolua_error(L, "ValueError", "unknown signal name '%s'", s);
  }
  if (!lua_isinteger(L, idx))
    return aiolua_error(L, "TypeError", "sig must be an int, not %s",
                        luaL_typename(L, idx));
  lua_Integer n = lua_tointeger(L, idx);
  if (n < 1 || n >= NSIG)
    return aiolua_error(L, "ValueError", "invalid signal number %d", (int)n);
  return (int)n;
}

static void on_signal(uv_signal_t *h, int signum) {
  (void)signum;
  aiolua__handle_signal(((aiolua_sig_t *)h)->handle);
}

static void on_closed(uv_handle_t *h) { free(h); }

static aiolua_sig_t **find(aiolua_sig_t **list, int signum) {
  while (*list && (*list)->h.signum != signum) list = &(*list)->next;
  return list;
}

void aiolua__sig_add(lua_State *L, aiolua_sig_t **list, int signum,
                     aiolua_handle_t *h) {
  aiolua_sig_t *s = *find(list, signum);
  if (s) {                               /* a new handler for it */
    aiolua__handle_cancel(L, s->handle);
    s->handle = h;
    return;
  }
  s = malloc(sizeof *s);
  if (s == NULL) {
    aiolua__handle_cancel(L, h);
    luaL_error(L, "not enough memory");
  }
  uv_signal_init(aiolua__rt(L)->loop, &s->h);
  save_action(signum);
  int r = uv_signal_start(&s->h, on_signal, signum);
  if (r < 0) {
    uv_close((uv_handle_t *)&s->h, on_closed);
    restore_action(signum);
    aiolua__handle_cancel(L, h);
    if (r == UV_EINVAL)
      aiolua_error(L, "RuntimeError", "sig %d cannot be caught", signum);
    aiolua_error(L, "OSError", "sig %d: %s", signum, uv_strerror(r));
  }
  s->handle = h;
  s->next = *list;
  *list = s;
}

static void unlink_sig(lua_State *L, aiolua_sig_t **at) {
  aiolua_sig_t *s = *at;
  int signum = s->h.signum;
  *at = s->next;
  aiolua__handle_cancel(L, s->handle);
  uv_close((uv_handle_t *)&s->h, on_closed);  /* stops it at once */
  restore_action(signum);
}

int aiolua__sig_remove(lua_State *L, aiolua_sig_t **list, int signum) {
  aiolua_sig_t **at = find(list, signum);
  if (*at == NULL) return 0;
  unlink_sig(L, at);
  return 1;
}

void aiolua__sig_remove_all(lua_State *L, aiolua_sig_t **list) {
  while (*list) unlink_sig(L, list);
}

/* require "aiolua.signals" -> {signal = {SIGINT = 2, ...}}: asyncio's
** lazy name `signal`, the port of Python's `import signal`. */
int luaopen_aiolua_signals(lua_State *L);
int luaopen_aiolua_signals(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_createtable(L, 0, (int)(sizeof signames / sizeof signames[0]));
  for (int i = 0; signames[i].name; i++) {
    lua_pushinteger(L, signames[i].num);
    lua_setfield(L, -2, signames[i].name);
  }
  lua_setfield(L, -2, "signal");
  return 1;
}
