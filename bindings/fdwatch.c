/*
** fdwatch.c -- loop:add_reader, add_writer, remove_reader and
** remove_writer, on libuv's uv_poll_t: one poll handle a descriptor,
** watching for what its reader and its writer want.  The poll callback
** only queues their handles (handles.h); the callbacks run from the ready
** queue, once a turn while the descriptor stays ready, as with CPython's
** level-triggered selector.
** The poll is on a copy of the descriptor (dup): libuv aborts the process
** when a descriptor it polls is closed under it, and a script that closes
** its file before remove_reader must get a dead reader, not a crash.  The
** copy shares the file description, so it is ready when the file is.
** The file keeps the blocking mode it had: uv_poll_init makes it
** non-blocking, and then a Lua file read in a callback could fail with
** EAGAIN, or lose half a line, where Python's would not.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>
#include <lauxlib.h>
#include <lualib.h>
#include "internal.h"
#include "fdwatch.h"
#include "streams.h"

struct aiolua_watch {
  uv_poll_t h;                 /* first: the record is the handle */
  int fd;                      /* the caller's descriptor */
  int copy;                    /* the one h polls, owned */
  aiolua_handle_t *cb[2];      /* the reader's and the writer's handles */
  aiolua_watch_t *next;        /* in its loop's list */
};

static const int wanted[2] = {UV_READABLE, UV_WRITABLE};
static const char *const side[2] = {"reader", "writer"};

int aiolua__fileno(lua_State *L, int idx) {
  lua_Integer fd = -1;
  luaL_Stream *s;
  if (lua_isinteger(L, idx)) {
    fd = lua_tointeger(L, idx);
  } else if ((s = luaL_testudata(L, idx, LUA_FILEHANDLE)) != NULL) {
    if (s->closef == NULL)
      return aiolua_error(L, "ValueError", "I/O operation on closed file");
    fd = fileno(s->f);
  } else {                               /* Python's protocol: fileno() */
    int t = lua_type(L, idx);
    if ((t != LUA_TTABLE && t != LUA_TUSERDATA) ||
        lua_getfield(L, idx, "fileno") == LUA_TNIL)
      return aiolua_error(L, "ValueError", "Invalid file object: %s",
                          luaL_tolstring(L, idx, NULL));
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1))                /* asyncio.fs's closed file */
      return aiolua_error(L, "ValueError", "I/O operation on closed file");
    if (!lua_isinteger(L, -1))
      return aiolua_error(L, "ValueError", "Invalid file object: %s",
                          luaL_tolstring(L, idx, NULL));
    fd = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (fd < 0 || fd > INT_MAX)
    return aiolua_error(L, "ValueError", "Invalid file descriptor: %I", fd);
  return (int)fd;
}

/* The events the watcher w polls for. */
static int events_of(const aiolua_watch_t *w) {
  return (w->cb[0] ? UV_READABLE : 0) | (w->cb[1] ? UV_WRITABLE : 0);
}

/* Queues the handles of what is ready.  An error (POLLERR) stopped the
** poll: both sides are told, as a selector reports an error, and the
** polling goes on until they remove themselves. */
static void on_poll(uv_poll_t *p, int status, int events) {
  aiolua_watch_t *w = (aiolua_watch_t *)p;
  if (status < 0) {
    events = UV_READABLE | UV_WRITABLE;
    uv_poll_start(p, events_of(w), on_poll);
  }
  for (int i = 0; i < 2; i++)
    if ((events & wanted[i]) && w->cb[i]) aiolua__handle_wake(w->cb[i]);
}

static void on_closed(uv_handle_t *h) {
  close(((aiolua_watch_t *)h)->copy);
  free(h);
}

/* Polls for what the watcher at *at still wants, or unlinks and closes it
** when it wants nothing. */
static void update(aiolua_watch_t **at) {
  aiolua_watch_t *w = *at;
  if (events_of(w)) {
    uv_poll_start(&w->h, events_of(w), on_poll);
    return;
  }
  *at = w->next;
  uv_close((uv_handle_t *)&w->h, on_closed);
}

static aiolua_watch_t **find(aiolua_watch_t **list, int fd) {
  while (*list && (*list)->fd != fd) list = &(*list)->next;
  return list;
}

typedef struct { int fd, found; } probe_t;

static void probe(uv_handle_t *h, void *arg) {
  probe_t *p = arg;
  uv_os_fd_t fd;
  if (!uv_is_closing(h) && uv_fileno(h, &fd) == 0 && fd == p->fd) p->found = 1;
}

/* A new watcher of fd, not yet polling, or raises (handle h cancelled). */
static aiolua_watch_t *new_watch(lua_State *L, int fd, int writing,
                                 aiolua_handle_t *h) {
  uv_loop_t *loop = aiolua__rt(L)->loop;
  probe_t p = {fd, 0};
  aiolua_watch_t *w = NULL;
  int r = UV_EEXIST;                     /* fd is a handle's of the loop */
  uv_walk(loop, probe, &p);
  if (!p.found) {
    w = malloc(sizeof *w);
    if (w == NULL) {
      aiolua__handle_cancel(L, h);
      luaL_error(L, "not enough memory");
    }
    int flags = fcntl(fd, F_GETFL);
    w->copy = flags < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
    r = w->copy < 0 ? uv_translate_sys_error(errno)
                    : uv_poll_init(loop, &w->h, w->copy);
    if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags);
    if (r < 0 && w->copy >= 0) close(w->copy);
  }
  if (r == 0) {
    w->fd = fd;
    w->cb[0] = w->cb[1] = NULL;
    w->next = NULL;
    return w;
  }
  free(w);
  aiolua__handle_cancel(L, h);
  if (r == UV_EEXIST)
    aiolua_error(L, "RuntimeError", "File descriptor %d is used by another "
                 "handle of the loop", fd);
  aiolua__raise_uverror(L, r, "add_%s(%d)", side[writing], fd);
  return NULL;
}

/* Cancels and forgets side i's handle of w (if any). */
static void drop(lua_State *L, aiolua_watch_t *w, int i) {
  if (w->cb[i]) aiolua__handle_cancel(L, w->cb[i]);
  w->cb[i] = NULL;
}

void aiolua__watch_add(lua_State *L, aiolua_watch_t **list, int fd,
                       int writing, aiolua_handle_t *h) {
  aiolua_watch_t **at = find(list, fd);
  if (*at == NULL) *at = new_watch(L, fd, writing, h);  /* at the end */
  drop(L, *at, writing);
  (*at)->cb[writing] = h;
  update(at);
}

int aiolua__watch_remove(lua_State *L, aiolua_watch_t **list, int fd,
                         int writing) {
  aiolua_watch_t **at = find(list, fd);
  if (*at == NULL || (*at)->cb[writing] == NULL) return 0;
  drop(L, *at, writing);
  update(at);
  return 1;
}

void aiolua__watch_remove_all(lua_State *L, aiolua_watch_t **list) {
  while (*list) {
    drop(L, *list, 0);
    drop(L, *list, 1);
    update(list);
  }
}
