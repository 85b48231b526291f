/*
** repl.c -- the interactive prompt of the `aiolua` binary (DESIGN.md §8).
** Design note: the REPL is the main task of an aiolua_run, so the loop runs
** (and asyncio counts as running) for its whole life.  libedit's readline
** callback interface is fed by a uv_poll_t on stdin: the loop keeps running
** tasks while the user types.  A complete input is compiled by aiolua_load
** (dialect included; `return <line>;` first, as lua.c) and runs as a task of
** its own; the prompt comes back when that task is done, with its results
** printed.  Output of background tasks hides the prompt line and a
** uv_prepare_t redraws it before the loop blocks again.  Ctrl-C cancels the
** running input (or interrupts Lua code that never yields), or clears the
** line at an idle prompt; Ctrl-D ends the main task, and aiolua_run then
** cancels the tasks that are left.
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <lauxlib.h>
#include "aiolua.h"

#include "edit_lazy.h"

int aiolua_repl(aiolua_runtime_t *rt);

#define REPL_PROMPT "> "
#define REPL_PROMPT2 ">> "
#define REPL_HISTORY_MAX 1000
#define REPL_EOFMARK "<eof>"

/* What the prompt is doing. */
enum { R_OFF, R_PROMPT, R_RUNNING };

/* What comes after a line (see take_line). */
enum { NEXT_FIRST, NEXT_MORE, NEXT_RUN };

typedef struct repl {
  aiolua_runtime_t *rt;
  lua_State *L;              /* main thread */
  uv_poll_t poll;            /* stdin readable */
  uv_async_t sigint;         /* SIGINT, from the signal handler */
  uv_prepare_t redraw;       /* redraws a hidden prompt */
  uv_signal_t winch;         /* terminal resized */
  int state;
  int reading;               /* line editor installed, poll started */
  int hidden, at_bol;        /* prompt erased by output; output ended in \n */
  int prompt_len;
  int ansi;                  /* the terminal understands ESC [ K */
  char *chunk;               /* lines of an incomplete input, or NULL */
  char *line;                /* the line the editor just delivered */
  int got_line;
  int task_ref;              /* registry ref of the running input's Task */
  int cancel_requested;      /* Ctrl-C cancelled the running input */
  aiolua_future_t *quit;     /* the main task awaits it; resolved on EOF */
  lua_State *volatile input_co;   /* thread of the running input */
  volatile sig_atomic_t sigints;  /* SIGINTs not yet seen by the loop */
  volatile sig_atomic_t sig_at_prompt;  /* one came at an idle prompt */
  struct sigaction old_sigint;
  struct termios tty;
  int have_tty, fd_flags;
  const char *history;       /* history file, or NULL */
  char buf[4096];            /* plain editor: bytes read so far */
  size_t buflen;
} repl_t;

static repl_t R;

static void show_prompt(int first);

/* ---- the line editor ---------------------------------------------------
** Two editors: libedit's, loaded when the REPL starts, and plain lines in
** the terminal's cooked mode where libedit is missing or TERM is "dumb"
** (as Python 3.13 falls back to its basic REPL).  start shows a prompt and
** starts reading; a complete line (malloc'd, without its newline; NULL on
** end of file) arrives in R.line.  stop stops reading and gives the
** terminal back in its normal mode. */

typedef struct editor {
  void (*init)(void);
  void (*start)(const char *prompt);
  void (*stop)(void);
  void (*readable)(void);               /* stdin is readable */
  void (*redraw)(void);                 /* the prompt and the line again */
  void (*history_add)(const char *chunk);
  int (*cursor_row)(void);              /* rows from the prompt's first */
  void (*erase_eof)(void);              /* what start printed, ^D at EOF */
  void (*close)(void);
  void (*resize)(void);                 /* the terminal was resized */
} editor_t;

static const editor_t *ED;

#ifdef AIOLUA_HAVE_LIBEDIT

/* rl_callback_read_char calls this with a whole line, then prints the
** prompt again: an empty prompt keeps it silent until we decide. */
static void le_line_cb(char *line) {
  R.line = line;
  R.got_line = 1;
  rl_set_prompt("");
}

static void le_init(void) {
  rl_readline_name = "aiolua";
  rl_catch_signals = 0;      /* the REPL handles SIGINT itself */
  rl_catch_sigwinch = 0;
  rl_instream = stdin;
  rl_outstream = stdout;
  rl_initialize();
  rl_bind_key('\t', rl_insert);   /* no file-name completion */
  using_history();
  stifle_history(REPL_HISTORY_MAX);
  if (R.history) read_history(R.history);
}

static void le_start(const char *prompt) {
  rl_callback_handler_install(prompt, le_line_cb);
  rl_point = rl_end = 0;            /* libedit updates them on each key */
}

static void le_stop(void) { rl_callback_handler_remove(); }

static void le_readable(void) { rl_callback_read_char(); }

static void le_redraw(void) { rl_forced_update_display(); }

static void le_history_add(const char *chunk) { add_history(chunk); }

static int le_cursor_row(void) {
  int rows = 0, cols = 0;
  rl_get_screen_size(&rows, &cols);
  return cols > 0 ? (R.prompt_len + rl_point) / cols : 0;
}

static void le_erase_eof(void) {
  if (R.ansi) fputs("\b\b\033[K", stdout);
}

static void le_close(void) {
  if (R.history) write_history(R.history);
}

static void le_resize(void) { rl_resize_terminal(); }

static const editor_t libedit_editor = {
    le_init, le_start, le_stop, le_readable, le_redraw,
    le_history_add, le_cursor_row, le_erase_eof, le_close, le_resize};

#endif

static char *pl_prompt;  /* a copy: the Lua string may be collected */

static void pl_nothing(void) {}

/* Delivers the first buffered line, if there is one. */
static int pl_take(void) {
  char *nl = memchr(R.buf, '\n', R.buflen);
  if (nl == NULL) return 0;
  size_t n = (size_t)(nl - R.buf);
  R.line = malloc(n + 1);
  if (R.line) {
    memcpy(R.line, R.buf, n);
    R.line[n] = '\0';
  }
  memmove(R.buf, nl + 1, R.buflen - n - 1);
  R.buflen -= n + 1;
  R.got_line = 1;
  return 1;
}

static void pl_start(const char *prompt) {
  char *copy = strdup(prompt);
  if (copy) {                              /* else keep the last one */
    free(pl_prompt);
    pl_prompt = copy;
  }
  fputs(prompt, stdout);
  fflush(stdout);
}

static void pl_readable(void) {
  if (pl_take()) return;
  ssize_t n = read(0, R.buf + R.buflen, sizeof R.buf - R.buflen - 1);
  if (n <= 0 && R.buflen == 0) {           /* end of file */
    R.line = NULL;
    R.got_line = 1;
    return;
  }
  if (n > 0) R.buflen += (size_t)n;
  if (!pl_take() && (n <= 0 || R.buflen == sizeof R.buf - 1)) {
    R.buf[R.buflen] = '\n';                /* a last or overlong line */
    R.buflen++;
    pl_take();
  }
}

static void pl_redraw(void) {
  if (pl_prompt) fputs(pl_prompt, stdout);
  fflush(stdout);
}

static void pl_history_add(const char *chunk) { (void)chunk; }

static int pl_cursor_row(void) { return 0; }

static void pl_close(void) {
  free(pl_prompt);
  pl_prompt = NULL;
}

static const editor_t plain_editor = {
    pl_nothing, pl_start, pl_nothing, pl_readable, pl_redraw,
    pl_history_add, pl_cursor_row, pl_nothing, pl_close, pl_nothing};

/* libedit's editor if it loads and stdin is a terminal that can show it
** (fed from a pipe, its callback reader never delivers a line). */
static const editor_t *choose_editor(void) {
#ifdef AIOLUA_HAVE_LIBEDIT
  if (R.ansi && R.have_tty && aiolua__edit_load()) return &libedit_editor;
#endif
  return &plain_editor;
}

/* ---- the prompt and background output ---------------------------------- */

static void poll_cb(uv_poll_t *h, int status, int events);

/* Pushes the prompt string: _PROMPT/_PROMPT2 if they are strings, as lua.c
** (read raw: a strict _G must not raise here). */
static const char *get_prompt(lua_State *L, int first) {
  lua_pushglobaltable(L);
  lua_pushstring(L, first ? "_PROMPT" : "_PROMPT2");
  lua_rawget(L, -2);
  lua_remove(L, -2);
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushstring(L, first ? REPL_PROMPT : REPL_PROMPT2);
  }
  return lua_tostring(L, -1);
}

static void show_prompt(int first) {
  fflush(stderr);
  fflush(stdout);
  R.state = R_PROMPT;
  R.hidden = 0;
  R.at_bol = 1;
  const char *prompt = get_prompt(R.L, first);
  R.prompt_len = (int)strlen(prompt);
  ED->start(prompt);
  lua_pop(R.L, 1);
  R.reading = 1;
  uv_poll_start(&R.poll, UV_READABLE, poll_cb);
}

static void stop_reading(void) {
  if (!R.reading) return;
  R.reading = 0;
  ED->stop();
  uv_poll_stop(&R.poll);
}

/* Erases the prompt line before a background task writes to the
** terminal; the prepare handle draws it again. */
static void hide_prompt(void) {
  if (R.state != R_PROMPT || R.hidden) return;
  R.hidden = 1;
  if (!R.ansi) {
    fputc('\n', stdout);
    return;
  }
  int up = ED->cursor_row();
  if (up > 0) fprintf(stdout, "\r\033[%dA\033[J", up);
  else fputs("\r\033[J", stdout);
}

/* Before the loop blocks: draws the prompt again after output. */
static void redraw_cb(uv_prepare_t *h) {
  (void)h;
  if (R.state != R_PROMPT || !R.hidden) return;
  fflush(stderr);
  if (!R.at_bol) fputc('\n', stdout);
  fflush(stdout);
  R.hidden = 0;
  R.at_bol = 1;
  ED->redraw();
}

/* Is the value at idx the stdout or stderr file handle? */
static int is_terminal_file(lua_State *L, int idx) {
  FILE **fp = luaL_testudata(L, idx, LUA_FILEHANDLE);
  return fp && (*fp == stdout || *fp == stderr);
}

/* Remembers whether the output ended a line: the last string argument. */
static void note_line_end(lua_State *L, int first, int nargs) {
  for (int i = first + nargs - 1; i >= first; i--) {
    size_t len;
    if (lua_type(L, i) != LUA_TSTRING && lua_type(L, i) != LUA_TNUMBER)
      continue;
    const char *s = lua_tolstring(L, i, &len);
    if (len > 0) {
      R.at_bol = s[len - 1] == '\n';
      return;
    }
  }
}

/* Wraps print (kind 0), io.write (1) and the files' write method (2):
** hides the prompt when the output goes to the terminal, then calls the
** original, upvalue 1. */
static int guard_output(lua_State *L) {
  int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
  int n = lua_gettop(L), term = 1;
  if (kind == 1) {
    lua_getfield(L, LUA_REGISTRYINDEX, "_IO_output");
    term = is_terminal_file(L, -1);
    lua_pop(L, 1);
  } else if (kind == 2) {
    term = is_terminal_file(L, 1);
  }
  if (term && R.state == R_PROMPT) {
    hide_prompt();
    if (kind == 0) R.at_bol = 1;
    else note_line_end(L, kind == 2 ? 2 : 1, kind == 2 ? n - 1 : n);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* [t] -> [t] : wraps t[name] with guard_output of that kind. */
static void wrap_field(lua_State *L, const char *name, int kind) {
  if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return;
  }
  lua_pushinteger(L, kind);
  lua_pushcclosure(L, guard_output, 2);
  lua_setfield(L, -2, name);
}

static int install_guards(lua_State *L) {
  lua_pushglobaltable(L);
  wrap_field(L, "print", 0);
  if (lua_getfield(L, -1, "io") == LUA_TTABLE) wrap_field(L, "write", 1);
  lua_pop(L, 2);
  if (luaL_getmetatable(L, LUA_FILEHANDLE) == LUA_TTABLE &&
      lua_getfield(L, -1, "__index") == LUA_TTABLE)
    wrap_field(L, "write", 2);
  return 0;
}

/* ---- running an input -------------------------------------------------- */

/* Message handler of an input: the message with a traceback, except for a
** CancelledError, kept as is so the REPL can tell Ctrl-C apart. */
static int input_msgh(lua_State *L) {
  if (aiolua_iserror(L, 1, "CancelledError")) return 1;
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, 1));
  }
  aiolua_traceback_of(L, L, msg, 1);
  /* the frames below the chunk are the REPL's and the task's */
  size_t len;
  const char *tb = lua_tolstring(L, -1, &len), *tail = "\n\t[C]: in ?";
  size_t tlen = strlen(tail), end = len;
  while (end >= tlen && memcmp(tb + end - tlen, tail, tlen) == 0) end -= tlen;
  if (end < len) lua_pushlstring(L, tb, end);
  return 1;
}

/* [msgh, results...] or [msgh, err] -> [ok, results...] or [false, err] */
static int input_k(lua_State *L, int status, lua_KContext ctx) {
  (void)ctx;
  R.input_co = NULL;                /* before the hook: see on_sigint */
  lua_sethook(L, NULL, 0, 0);
  lua_pushboolean(L, status == LUA_OK || status == LUA_YIELD);
  lua_replace(L, 1);
  return lua_gettop(L);
}

/* The body of an input's task: calls the compiled chunk under a message
** handler; may await (lua_pcallk).  Returns ok, results... */
static int input_main(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  R.input_co = L;
  lua_pushcfunction(L, input_msgh);
  lua_insert(L, 1);                 /* stack: msgh, chunk */
  return input_k(L, lua_pcallk(L, 0, LUA_MULTRET, 1, 0, input_k), 0);
}

static void print_message(const char *msg) {
  if (msg == NULL) msg = "(error object is not a string)";  /* lua.c's */
  fprintf(stderr, "aiolua: %s\n", msg);
  fflush(stderr);
}

/* [v] -> [] : reports a failed input. */
static void report_error(lua_State *L) {
  if (R.cancel_requested && aiolua_iserror(L, -1, "CancelledError")) {
    fputs("KeyboardInterrupt\n", stderr);
    fflush(stderr);
  } else {
    print_message(luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* [task] -> [] : prints what the input returned, as lua.c's l_print. */
static int print_outcome(lua_State *L) {
  lua_getfield(L, 1, "result");
  lua_insert(L, 1);
  if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK) {  /* cancelled early */
    report_error(L);
    return 0;
  }
  if (!lua_toboolean(L, 1)) {       /* stack: false, err */
    report_error(L);
    return 0;
  }
  lua_remove(L, 1);                 /* stack: results... */
  int n = lua_gettop(L);
  if (n == 0) return 0;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_insert(L, 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    print_message(lua_pushfstring(L, "error calling 'print' (%s)",
                                  lua_tostring(L, -1)));
  return 0;
}

/* Done callback of an input's task: reports it and shows the prompt. */
static int on_input_done(lua_State *L) {
  luaL_unref(L, LUA_REGISTRYINDEX, R.task_ref);
  R.task_ref = LUA_NOREF;
  lua_pushcfunction(L, print_outcome);
  lua_pushvalue(L, 1);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    print_message(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  R.cancel_requested = 0;
  if (R.state == R_RUNNING) show_prompt(1);
  return 0;
}

/* [chunk] -> [] : runs the compiled chunk as a task. */
static void start_input(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "asyncio");
  lua_getfield(L, -1, "create_task");
  lua_pushcfunction(L, input_main);
  lua_pushvalue(L, -5);
  lua_call(L, 2, 1);                /* stack: chunk, loaded, asyncio, task */
  lua_getfield(L, -1, "add_done_callback");
  lua_pushvalue(L, -2);
  lua_pushcfunction(L, on_input_done);
  lua_call(L, 2, 0);
  R.task_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  R.state = R_RUNNING;
  lua_pop(L, 3);
}

/* ---- reading lines ----------------------------------------------------- */

/* lua.c's test: a syntax error at the end of the input. */
static int incomplete(lua_State *L, int status) {
  if (status != LUA_ERRSYNTAX) return 0;
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  size_t mlen = sizeof(REPL_EOFMARK) - 1;
  return len >= mlen && strcmp(msg + len - mlen, REPL_EOFMARK) == 0;
}

static int blank(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r') s++;
  return *s == '\0';
}

/* Appends a line to the pending chunk; 0 when out of memory. */
static int chunk_append(const char *line) {
  size_t old = R.chunk ? strlen(R.chunk) : 0, n = strlen(line);
  char *c = realloc(R.chunk, old + n + 2);
  if (c == NULL) return 0;
  if (old) c[old++] = '\n';
  memcpy(c + old, line, n + 1);
  R.chunk = c;
  return 1;
}

static void chunk_clear(void) {
  free(R.chunk);
  R.chunk = NULL;
}

/* [line] -> [next] : adds a line to the input, as lua.c's loadline: a
** first line is tried as `return line;`, then lines gather until they
** compile or fail other than at <eof>.  Complete input runs as a task.
** Runs in protected mode. */
static int take_line(lua_State *L) {
  const char *line = lua_tostring(L, 1);
  int next = NEXT_FIRST;
  if (R.chunk == NULL) {
    if (blank(line)) {
      lua_pushinteger(L, NEXT_FIRST);
      return 1;
    }
    const char *ret = line[0] == '='
                          ? lua_pushfstring(L, "return %s", line + 1)
                          : lua_pushfstring(L, "return %s;", line);
    if (aiolua_load(R.rt, ret, strlen(ret), "=stdin", 0) == LUA_OK) {
      ED->history_add(line);
      start_input(L);
      lua_pushinteger(L, NEXT_RUN);
      return 1;
    }
    lua_pop(L, 1);                  /* the error; keep ret for '=' lines */
    if (line[0] == '=') line = ret;
  }
  if (!chunk_append(line)) return luaL_error(L, "not enough memory");
  int status = aiolua_load(R.rt, R.chunk, strlen(R.chunk), "=stdin", 0);
  if (incomplete(L, status)) {
    next = NEXT_MORE;
  } else {
    ED->history_add(R.chunk);
    chunk_clear();
    if (status == LUA_OK) {
      start_input(L);
      next = NEXT_RUN;
    } else {
      print_message(lua_tostring(L, -1));
    }
  }
  lua_pushinteger(L, next);
  return 1;
}

static void quit(void) {
  stop_reading();
  R.state = R_OFF;
  chunk_clear();
  fputc('\n', stdout);
  fflush(stdout);
  if (R.quit) {
    aiolua_future_t *f = R.quit;
    R.quit = NULL;
    aiolua_future_resolve(f, R.L, 0);
  }
}

/* A line from the editor (NULL at end of file). */
static void handle_line(char *line) {
  lua_State *L = R.L;
  stop_reading();
  if (line == NULL) {
    ED->erase_eof();
    quit();
    return;
  }
  lua_pushcfunction(L, take_line);
  lua_pushstring(L, line);
  free(line);
  int next = NEXT_FIRST;
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    print_message(lua_tostring(L, -1));
    chunk_clear();
  } else {
    next = (int)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  if (next != NEXT_RUN) show_prompt(next == NEXT_FIRST);
}

static void handle_sigint(void);

static void poll_cb(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)events;
  if (status < 0) {                 /* stdin is gone: as end of file */
    handle_line(NULL);
    return;
  }
  if (R.sigints) {
    handle_sigint();
    if (R.state != R_PROMPT) return;
  }
  R.got_line = 0;
  ED->readable();
  if (R.got_line) {
    R.got_line = 0;
    handle_line(R.line);
  }
}

/* ---- Ctrl-C ------------------------------------------------------------ */

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* Wakes the loop (sigint_cb) and, for an input that never yields, arms
** lua.c's hook in its thread; sigint_cb disarms it when the loop is free.
** A third Ctrl-C the loop did not see gives up. */
static void on_sigint(int sig) {
  (void)sig;
  int n = ++R.sigints;
  if (R.state == R_PROMPT) R.sig_at_prompt = 1;
  if (n >= 3) {
    if (R.have_tty) tcsetattr(0, TCSANOW, &R.tty);
    static const char msg[] = "\naiolua: interrupted\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(130);
  }
  lua_State *co = R.input_co;
  if (co) lua_sethook(co, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  uv_async_send(&R.sigint);
}

/* [] -> [] : task:cancel("KeyboardInterrupt") for the running input. */
static int cancel_input(lua_State *L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, R.task_ref);
  lua_getfield(L, -1, "cancel");
  lua_insert(L, -2);
  lua_pushliteral(L, "KeyboardInterrupt");
  lua_call(L, 2, 0);
  return 0;
}

/* Acts on the SIGINTs the handler counted: from the async handle, and
** first thing when stdin is readable, so keys typed after a Ctrl-C are
** read after it. */
static void handle_sigint(void) {
  int at_prompt = R.sig_at_prompt;
  if (R.state == R_OFF) return;     /* exiting: a third Ctrl-C gives up */
  R.sigints = 0;
  R.sig_at_prompt = 0;
  lua_State *co = R.input_co;
  if (co) lua_sethook(co, NULL, 0, 0);  /* the loop is free: cancel instead */
  if (R.state == R_RUNNING && R.task_ref != LUA_NOREF) {
    R.cancel_requested = 1;
    lua_pushcfunction(R.L, cancel_input);
    if (lua_pcall(R.L, 0, 0, 0) != LUA_OK) {
      print_message(lua_tostring(R.L, -1));
      lua_pop(R.L, 1);
    }
  } else if (R.state == R_PROMPT && at_prompt) { /* clear line and input */
    stop_reading();
    chunk_clear();
    fputs("^C\n", stdout);
    show_prompt(1);
  }
}

static void sigint_cb(uv_async_t *h) {
  (void)h;
  if (R.sigints) handle_sigint();
}

static void winch_cb(uv_signal_t *h, int sig) {
  (void)h;
  (void)sig;
  if (R.state == R_PROMPT) ED->resize();
}

/* ---- the main task ----------------------------------------------------- */

static void quit_cancelled(aiolua_future_t *f, void *data) {
  (void)f;
  (void)data;
  R.quit = NULL;
}

static int repl_main_k(lua_State *L, int status, lua_KContext ctx) {
  (void)L;
  (void)status;
  (void)ctx;
  return 0;
}

/* The REPL's main task: shows the first prompt and awaits the end. */
static int repl_main(lua_State *L) {
  R.quit = aiolua_future_new(L);            /* stack: fut */
  aiolua_future_on_cancel(R.quit, quit_cancelled, NULL);
  show_prompt(1);
  lua_getfield(L, -1, "await");
  lua_insert(L, -2);                        /* stack: await, fut */
  lua_callk(L, 1, 0, 0, repl_main_k);
  return repl_main_k(L, LUA_OK, 0);
}

/* History file: $AIOLUA_HISTORY (empty: none) or ~/.aiolua_history. */
static const char *history_path(void) {
  static char path[4096];
  const char *env = getenv("AIOLUA_HISTORY");
  if (env) return *env ? env : NULL;
  const char *home = getenv("HOME");
  if (home == NULL || *home == '\0') return NULL;
  int n = snprintf(path, sizeof path, "%s/.aiolua_history", home);
  return n > 0 && (size_t)n < sizeof path ? path : NULL;
}

/* Sets the REPL up; -1 (with a message) if stdin cannot be polled. */
static int repl_open(aiolua_runtime_t *rt) {
  uv_loop_t *loop = aiolua_runtime_loop(rt);
  memset(&R, 0, sizeof R);
  R.rt = rt;
  R.L = aiolua_runtime_lua(rt);
  R.task_ref = LUA_NOREF;
  R.fd_flags = fcntl(0, F_GETFL);
  int uverr = uv_poll_init(loop, &R.poll, 0);
  if (R.fd_flags != -1) fcntl(0, F_SETFL, R.fd_flags); /* uv set O_NONBLOCK */
  if (uverr < 0) {
    print_message(lua_pushfstring(R.L, "cannot read the terminal: %s",
                                  uv_strerror(uverr)));
    lua_pop(R.L, 1);
    return -1;
  }
  R.history = history_path();
  const char *term = getenv("TERM");
  R.ansi = term == NULL || strcmp(term, "dumb") != 0;
  R.have_tty = tcgetattr(0, &R.tty) == 0;
  ED = choose_editor();
  ED->init();
  uv_async_init(loop, &R.sigint, sigint_cb);
  uv_prepare_init(loop, &R.redraw);
  uv_prepare_start(&R.redraw, redraw_cb);
  uv_signal_init(loop, &R.winch);
  uv_signal_start(&R.winch, winch_cb, SIGWINCH);
  uv_unref((uv_handle_t *)&R.winch);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &R.old_sigint);
  lua_pushcfunction(R.L, install_guards);
  if (lua_pcall(R.L, 0, 0, 0) != LUA_OK) lua_pop(R.L, 1);
  return 0;
}

static void repl_close(void) {
  stop_reading();
  R.state = R_OFF;
  chunk_clear();
  sigaction(SIGINT, &R.old_sigint, NULL);
  uv_close((uv_handle_t *)&R.poll, NULL);
  uv_close((uv_handle_t *)&R.sigint, NULL);
  uv_close((uv_handle_t *)&R.redraw, NULL);
  uv_close((uv_handle_t *)&R.winch, NULL);
  ED->close();
  if (R.fd_flags != -1) fcntl(0, F_SETFL, R.fd_flags);
  if (R.have_tty) tcsetattr(0, TCSADRAIN, &R.tty);
  fflush(stdout);
}

/* Runs the REPL on the terminal until end of file.  LUA_OK on a clean exit;
** otherwise an error status (its message was printed). */
int aiolua_repl(aiolua_runtime_t *rt) {
  lua_State *L = aiolua_runtime_lua(rt);
  if (repl_open(rt) < 0) return LUA_ERRRUN;
  lua_pushcfunction(L, repl_main);
  int status = aiolua_run(rt, 0, 0);
  if (status != LUA_OK) {
    print_message(luaL_tolstring(L, -1, NULL));
    lua_pop(L, 2);
  }
  repl_close();
  return status;
}
