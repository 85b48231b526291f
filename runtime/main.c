/*
** main.c -- the `aiolua` host binary, in the manner of lua.c:
**   aiolua [options] [script [args]]
** A thin client of aiolua.h.  Ctrl-C cancels the main task of a running
** asyncio.run (exit status 130 after cleanup); outside the loop it
** interrupts the Lua code, as lua.c does.
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <lauxlib.h>
#include <lualib.h>
#include "aiolua.h"

static const char *progname = "aiolua";
static aiolua_runtime_t *g_rt;
static uv_async_t g_sigint_async;
static volatile sig_atomic_t g_sigints;

/* The REPL lives in repl.c; a build without it has none. */
int aiolua_repl(aiolua_runtime_t *rt) __attribute__((weak));

static void usage(void) {
  fprintf(stderr,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat       execute string 'stat'\n"
          "  -i            enter interactive mode after executing 'script'\n"
          "  -l mod        require library 'mod' into global 'mod'\n"
          "  -l g=mod      require library 'mod' into global 'g'\n"
          "  -v            show version information\n"
          "  --plain       plain Lua: no async/await dialect\n"
          "  --translate   print the plain Lua of 'script' and exit\n"
          "  --debug       slow-callback warnings and extra checks\n"
          "  --            stop handling options\n"
          "  -             stop handling options and execute stdin\n",
          progname);
}

static void print_version(void) {
  printf("aiolua %s (%s, libuv %s)\n", AIOLUA_VERSION, LUA_RELEASE,
         uv_version_string());
}

/* ---- signals ------------------------------------------------------------ */

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* Ctrl-C inside asyncio.run cancels the main task through the loop
** (uv_async_send is signal-safe), so its cleanup runs; a second one, or
** the first outside the loop, interrupts the running Lua code with lua.c's
** hook (lua_sethook is signal-safe); a third gives up waiting. */
static void on_sigint(int sig) {
  (void)sig;
  g_sigints++;
  if (g_sigints >= 3) _exit(130);
  int running = aiolua_runtime_running(g_rt);
  int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT;
  lua_State *L = aiolua_runtime_lua(g_rt), *co = aiolua_runtime_thread(g_rt);
  if (running) uv_async_send(&g_sigint_async);
  if (!running) {
    lua_sethook(L, lstop, mask, 1);
    lua_sethook(co, lstop, mask, 1);
  } else if (g_sigints >= 2 && co != L) {
    /* only a task busy in Lua code: the loop's own calls on the main
    ** thread (scheduler, timers) must not be interrupted midway */
    lua_sethook(co, lstop, mask, 1);
  }
}

static void sigint_async_cb(uv_async_t *h) {
  (void)h;
  aiolua_interrupt(g_rt);
}

/* ---- running chunks ----------------------------------------------------- */

/* Message handler: the error with a traceback, preferring the one recorded
** where a task raised it (it follows the chain of awaits). */
static int msghandler(lua_State *L) {
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.last_err");
  int from_task = lua_rawequal(L, -1, 1);
  lua_pop(L, 1);
  if (from_task) {
    aiolua_traceback(rt);
    if (lua_isstring(L, -1)) {
      aiolua_traceback_of(L, L, NULL, 1);
      const char *rest = lua_tostring(L, -1);
      const char *nl = strchr(rest, '\n');  /* drop "stack traceback:" */
      lua_pushfstring(L, "%s\n(from asyncio.run)%s", lua_tostring(L, -2),
                      nl ? nl : "");
      return 1;
    }
    lua_pop(L, 1);
  }
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) msg = luaL_tolstring(L, 1, NULL);
  aiolua_traceback_of(L, L, msg, 1);
  return 1;
}

static int report(lua_State *L, int status) {
  if (status != LUA_OK && g_sigints > 0) {   /* as Python: no traceback */
    fprintf(stderr, "KeyboardInterrupt\n");
    lua_settop(L, 0);
  } else if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = luaL_tolstring(L, -1, NULL);
    fprintf(stderr, "%s: %s\n", progname, msg);
    fflush(stderr);
    lua_settop(L, 0);
  }
  return status;
}

static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dostring(aiolua_runtime_t *rt, const char *s, const char *name) {
  return dochunk(aiolua_runtime_lua(rt),
                 aiolua_load(rt, s, strlen(s), name, 0));
}

/* -l mod or -l g=mod */
static int dolibrary(lua_State *L, char *spec) {
  char *eq = strchr(spec, '=');
  const char *mod = spec, *glob = spec;
  if (eq) {
    *eq = '\0';
    mod = eq + 1;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, glob);
  return report(L, status);
}

/* Creates the `arg` table as lua.c does: script at 0, options negative. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int handle_script(aiolua_runtime_t *rt, char **argv, int argc,
                         int script) {
  lua_State *L = aiolua_runtime_lua(rt);
  const char *fname = argv[script];
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0)
    fname = NULL;                        /* stdin */
  int status = aiolua_loadfile(rt, fname);
  if (status == LUA_OK) {
    int n = argc - script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_pushstring(L, argv[script + i]);
    status = docall(L, n, 0);
  }
  return report(L, status);
}

static int has_e_option(int argc, char **argv) {
  for (int i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (argv[i][1] == 'e') return 1;
    if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "-e") == 0) i++;
  }
  return 0;
}

/* No script and stdin is not a terminal: run stdin as the script. */
static int handle_script_stdin(aiolua_runtime_t *rt) {
  lua_State *L = aiolua_runtime_lua(rt);
  int status = aiolua_loadfile(rt, NULL);
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int translate_file(const char *path) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "%s: cannot open %s\n", progname, path);
    return 1;
  }
  size_t cap = 65536, len = 0, n;
  char *buf = malloc(cap);
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (nb == NULL) free(buf);
      buf = nb;
    }
  }
  int failed = buf == NULL || ferror(f);   /* a directory: EISDIR */
  int e = errno;
  if (f != stdin) fclose(f);
  if (failed) {
    fprintf(stderr, "%s: cannot read %s: %s\n", progname, path,
            buf ? strerror(e) : "not enough memory");
    free(buf);
    return 1;
  }
  char *out, err[256];
  size_t outlen;
  int line = aiolua_translate(buf, len, &out, &outlen, err, sizeof err);
  free(buf);
  if (line) {
    fprintf(stderr, "%s: %s:%d: %s\n", progname, path, line, err);
    return 1;
  }
  fwrite(out, 1, outlen, stdout);
  free(out);
  return 0;
}

/* Lua strings and tables larger than the allocator's small classes come
** from malloc, and the collector frees them in batches: glibc then gives
** the heap's top back to the kernel (above 128 KiB free) and faults it in
** again, page by page, for the next ones -- a third of the system time of
** 100 KB HTTP bodies.  The binary keeps up to 32 MiB of freed heap for
** reuse; setting the trim threshold disables glibc's sliding mmap
** threshold, so that one is set to the maximum it would slide to.  A
** process-wide policy, so the host sets it, not the library. */
static void tune_malloc(void) {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
}

/* Opens /dev/null on whichever of fds 0-2 is closed: libuv asserts that
** the descriptors it makes are above stderr, and output must not land in
** a file the program opens later. */
static void open_std_fds(void) {
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
        open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
      _exit(126);
}

int main(int argc, char **argv) {
  int flags = 0, interactive = 0, version = 0, script = 0;
  const char *translate = NULL;
  open_std_fds();
  if (argv[0] && argv[0][0]) progname = argv[0];
  /* first pass: options that shape the runtime */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) { script = i; break; }
    if (strcmp(a, "--") == 0) { if (i + 1 < argc) script = i + 1; break; }
    if (strcmp(a, "--plain") == 0) flags |= AIOLUA_PLAIN;
    else if (strcmp(a, "--debug") == 0) flags |= AIOLUA_DEBUG;
    else if (strcmp(a, "--translate") == 0) {
      if (i + 1 >= argc) { usage(); return 1; }
      translate = argv[i + 1];
      break;
    }
    else if (strcmp(a, "-i") == 0) interactive = version = 1;
    else if (strcmp(a, "-v") == 0) version = 1;
    else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
      if (++i >= argc) { usage(); return 1; }
    }
    else if ((a[1] == 'e' || a[1] == 'l') && a[2]) { /* -estat, -lmod */ }
    else {
      fprintf(stderr, "%s: unrecognized option '%s'\n", progname, a);
      usage();
      return 1;
    }
  }
  if (translate) return translate_file(translate);
  tune_malloc();
  int tty_stdin = isatty(0);
  if (version && !interactive) print_version();

  aiolua_runtime_t *rt = aiolua_runtime_new(NULL, flags);
  if (rt == NULL) {
    fprintf(stderr, "%s: cannot create the runtime\n", progname);
    return 1;
  }
  g_rt = rt;
  lua_State *L = aiolua_runtime_lua(rt);
  uv_async_init(aiolua_runtime_loop(rt), &g_sigint_async, sigint_async_cb);
  uv_unref((uv_handle_t *)&g_sigint_async);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);

  create_arg_table(L, argv, argc, script);
  int status = LUA_OK;
  /* second pass: -e and -l in order */
  int end = script ? script : argc;
  for (int i = 1; i < end && status == LUA_OK; i++) {
    char *a = argv[i];
    if (strcmp(a, "--translate") == 0) break;
    if (a[0] == '-' && (a[1] == 'e' || a[1] == 'l')) {
      char *val = a[2] ? a + 2 : argv[++i];
      status = a[1] == 'e' ? dostring(rt, val, "=(command line)")
                           : dolibrary(L, val);
    }
  }
  if (status == LUA_OK && script) status = handle_script(rt, argv, argc, script);
  int want_repl = interactive || (!script && !version && status == LUA_OK &&
                                  !has_e_option(argc, argv) && tty_stdin);
  if (status == LUA_OK && want_repl) {
    if (aiolua_repl) {
      if (interactive && !script) print_version();
      status = aiolua_repl(rt);
    } else {
      fprintf(stderr, "%s: this build has no REPL\n", progname);
    }
  } else if (status == LUA_OK && !script && !version &&
             !has_e_option(argc, argv) && !tty_stdin) {
    status = handle_script_stdin(rt);
  }
  int interrupted = g_sigints > 0;
  /* the handler uses the async handle and the state, both going away: a
  ** Ctrl-C during the teardown's cleanup ends the process at once */
  signal(SIGINT, SIG_DFL);
  uv_close((uv_handle_t *)&g_sigint_async, NULL);
  aiolua_runtime_free(rt);
  if (interrupted && status != LUA_OK) return 130;
  return status == LUA_OK ? 0 : 1;
}
