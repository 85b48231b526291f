/*
** subprocess.c -- child processes on libuv's uv_spawn for asyncio's
** subprocesses (require "aiolua.subprocess"; bindings/subprocess.lua makes
** create_subprocess_exec and create_subprocess_shell of them).
**   spawn(file, args, opts) -> Proc, stdin, stdout, stderr (connections of
**     streams.c for the streams opts asks "pipe" of, else nil)
**   opts: cwd, env (a list of "K=V", or nil to inherit), stdin, stdout,
**     stderr: "pipe", "devnull", "inherit", or (stderr) "stdout"
**   Proc: pid(), returncode() (nil while it runs; -signal if a signal
**     ended it, as Python's), wait() -> future, kill(signal)
** Design note: pipes are made here (uv_pipe) rather than by uv_spawn, so
** that stderr can share stdout's; the child ends are closed in the parent
** once it is spawned.  The uv_process_t is malloc'd and outlives its Lua
** object until the child exits (or the runtime closes).
*/
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "streams.h"

#define PROC_MT "aiolua.Process"

typedef struct proc {
  uv_process_t h;
  aiolua_runtime_t *rt;
  int exited, code, signal;
  unsigned gone : 1, closing : 1, closed : 1;
  aiolua_future_t *wait_w;
} proc_t;

typedef struct { proc_t *p; } lproc_t;

/* The record goes with the later of the handle's close and the Lua
** object's collection. */
static void on_proc_closed(uv_handle_t *h) {
  proc_t *p = (proc_t *)h;
  p->closed = 1;
  if (p->gone) free(p);
}

static void proc_close(proc_t *p) {
  if (p->closing) return;
  p->closing = 1;
  uv_close((uv_handle_t *)&p->h, on_proc_closed);
}

static void on_exit_cb(uv_process_t *h, int64_t status, int signal) {
  proc_t *p = (proc_t *)h;
  p->exited = 1;
  p->code = (int)status;
  p->signal = signal;
  if (p->gone) {
    proc_close(p);
    return;
  }
  aiolua__wake(aiolua_runtime_lua(p->rt), &p->wait_w);
  proc_close(p);
}

static proc_t *checkproc(lua_State *L) {
  lproc_t *u = aiolua__checkself(L, PROC_MT);
  if (u->p == NULL) luaL_error(L, "the process is gone");
  return u->p;
}

/* The mode of stream `name` in opts at 3: 0 inherit, 1 pipe, 2 devnull,
** 3 stdout. */
static int stdio_mode(lua_State *L, const char *name) {
  static const char *const modes[] = {"inherit", "pipe", "devnull", "stdout", NULL};
  lua_getfield(L, 3, name);
  int m = lua_isnil(L, -1) ? 0 : luaL_checkoption(L, -1, NULL, modes);
  lua_pop(L, 1);
  if (m == 3 && strcmp(name, "stderr") != 0)
    luaL_error(L, "only stderr can go to stdout");
  return m;
}

/* Opens the connection c on fd, the parent's end of a pipe.  On failure
** fd is closed (and the connection's collector closes its handle). */
static int open_pipe_conn(conn_t *c, uv_loop_t *loop, uv_file fd) {
  uv_pipe_t *pipe = (uv_pipe_t *)c;      /* the handle opens the record */
  int r = uv_pipe_init(loop, pipe, 0);
  if (r == 0) r = uv_pipe_open(pipe, fd);
  if (r < 0) close(fd);
  return r;
}

/* spawn(file, args, opts) -> Proc, stdin, stdout, stderr */
static int l_spawn(lua_State *L) {
  const char *file = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  uv_loop_t *loop = aiolua_runtime_loop(rt);
  int mode[3] = {stdio_mode(L, "stdin"), stdio_mode(L, "stdout"),
                 stdio_mode(L, "stderr")};
  /* args and env as C arrays, kept in userdata (freed by the collector) */
  lua_Integer nargs = (lua_Integer)lua_rawlen(L, 2);
  char **args = lua_newuserdatauv(L, (size_t)(nargs + 1) * sizeof *args, 0);
  for (lua_Integer i = 1; i <= nargs; i++) {
    lua_rawgeti(L, 2, i);
    args[i - 1] = (char *)luaL_checkstring(L, -1);  /* kept alive by arg 2 */
    lua_pop(L, 1);
  }
  args[nargs] = NULL;
  char **env = NULL;
  if (lua_getfield(L, 3, "env") == LUA_TTABLE) {
    int envi = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, envi);
    env = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *env, 0);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, envi, i);
      env[i - 1] = (char *)luaL_checkstring(L, -1);  /* kept by the table */
      lua_pop(L, 1);
    }
    env[n] = NULL;
  }
  const char *cwd = NULL;
  if (lua_getfield(L, 3, "cwd") != LUA_TNIL) cwd = luaL_checkstring(L, -1);
  /* the Lua objects first (what may raise), then the descriptors */
  lproc_t *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->p = NULL;
  luaL_setmetatable(L, PROC_MT);
  conn_t *conns[3] = {NULL, NULL, NULL};  /* pushed after the Proc */
  for (int i = 0; i < 3; i++) {
    if (mode[i] == 1) conns[i] = aiolua__conn_push(L);
    else lua_pushnil(L);
  }
  proc_t *p = calloc(1, sizeof *p);
  if (p == NULL) return luaL_error(L, "not enough memory");
  p->rt = rt;
  u->p = p;
  int fds[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};  /* [i][0]: parent end */
  int child[3] = {-1, -1, -1}, devnull = -1, r = 0;
  for (int i = 0; i < 3 && r == 0; i++) {
    if (mode[i] == 1) {
      uv_file pair[2];
      r = uv_pipe(pair, 0, 0);          /* pair[0] reads, pair[1] writes */
      if (r < 0) break;
      fds[i][0] = i == 0 ? pair[1] : pair[0];
      fds[i][1] = i == 0 ? pair[0] : pair[1];
      child[i] = fds[i][1];
    } else if (mode[i] == 2) {
      if (devnull < 0) devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
      if (devnull < 0) r = UV_EMFILE;
      child[i] = devnull;
    } else if (mode[i] == 3) {
      child[i] = child[1] >= 0 ? child[1] : 1;  /* stderr to stdout */
    } else {
      child[i] = i;
    }
  }
  uv_stdio_container_t stdio[3];
  for (int i = 0; i < 3; i++) {
    stdio[i].flags = UV_INHERIT_FD;
    stdio[i].data.fd = child[i];
  }
  uv_process_options_t o;
  memset(&o, 0, sizeof o);
  o.exit_cb = on_exit_cb;
  o.file = file;
  o.args = args;
  o.env = env;
  o.cwd = cwd;
  o.stdio_count = 3;
  o.stdio = stdio;
  if (r == 0) r = uv_spawn(loop, &p->h, &o);
  for (int i = 0; i < 3; i++)            /* the child's ends are its own */
    if (fds[i][1] >= 0) close(fds[i][1]);
  if (devnull >= 0) close(devnull);
  if (r < 0) {
    for (int i = 0; i < 3; i++)
      if (fds[i][0] >= 0) close(fds[i][0]);
    u->p = NULL;
    p->gone = 1;
    if (p->h.loop) proc_close(p);        /* uv_spawn inits the handle */
    else free(p);
    aiolua__push_uverror(L, file, r);
    return lua_error(L);
  }
  for (int i = 0; i < 3; i++) {          /* stack: Proc, conns */
    if (fds[i][0] < 0) continue;
    r = open_pipe_conn(conns[i], loop, fds[i][0]);
    fds[i][0] = -1;
    if (r < 0) {
      for (int j = i + 1; j < 3; j++)
        if (fds[j][0] >= 0) close(fds[j][0]);
      aiolua__push_uverror(L, "pipe", r);
      return lua_error(L);
    }
  }
  return 4;
}

static int l_pid(lua_State *L) {
  lua_pushinteger(L, checkproc(L)->h.pid);
  return 1;
}

static int l_returncode(lua_State *L) {
  proc_t *p = checkproc(L);
  if (!p->exited) lua_pushnil(L);
  else lua_pushinteger(L, p->signal ? -p->signal : p->code);
  return 1;
}

/* proc:wait() -> a future settled once the child has exited */
static int l_wait(lua_State *L) {
  proc_t *p = checkproc(L);
  aiolua__push_event(L, &p->wait_w, p->exited);
  return 1;
}

/* proc:kill(signal): sends it (ProcessLookupError once the child is gone). */
static int l_kill(lua_State *L) {
  proc_t *p = checkproc(L);
  int sig = (int)luaL_checkinteger(L, 2);
  if (p->exited || p->closing) {
    aiolua_pusherror(L, "ProcessLookupError", "the process has exited");
    return lua_error(L);
  }
  int r = uv_process_kill(&p->h, sig);
  if (r < 0) {
    aiolua__push_uverror(L, "kill", r);
    return lua_error(L);
  }
  return 0;
}

static int l_proc_gc(lua_State *L) {
  lproc_t *u = lua_touserdata(L, 1);
  proc_t *p = u->p;
  if (p == NULL) return 0;
  u->p = NULL;
  aiolua__drop_event(&p->wait_w);        /* no hook may point into p */
  p->gone = 1;
  if (p->closed) free(p);
  else proc_close(p);   /* a child that still runs is left to itself:
                           watching it would keep the loop alive, and the
                           runtime may be closing */
  return 0;
}

int luaopen_aiolua_subprocess(lua_State *L);
int luaopen_aiolua_subprocess(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"pid", l_pid}, {"returncode", l_returncode}, {"wait", l_wait},
    {"kill", l_kill}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"spawn", l_spawn}, {NULL, NULL}};
  aiolua__new_class(L, PROC_MT, methods, l_proc_gc);
  luaL_newlib(L, funcs);
  lua_createtable(L, 0, 3);              /* signal numbers */
  lua_pushinteger(L, SIGTERM);
  lua_setfield(L, -2, "SIGTERM");
  lua_pushinteger(L, SIGKILL);
  lua_setfield(L, -2, "SIGKILL");
  lua_pushinteger(L, SIGINT);
  lua_setfield(L, -2, "SIGINT");
  lua_setfield(L, -2, "signals");
  return 1;
}
