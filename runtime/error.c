/*
** error.c -- aiolua's error values: tables {type=, message=, ...} with a
** shared metatable whose __tostring reads "Type: message".  User error
** values (strings, tables) are never wrapped: they cross awaits unchanged.
*/
#include <stdarg.h>
#include <string.h>
#include "internal.h"

static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "type");
  lua_getfield(L, 1, "message");
  const char *msg = lua_tostring(L, -1);
  if (msg && *msg)
    lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "Error"), msg);
  else
    lua_pushstring(L, luaL_optstring(L, -2, "Error"));
  return 1;
}

/* [] -> [err] : a new error table of `type` with message `msg`. */
static void push_error(lua_State *L, const char *type, const char *msg) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, type);
  lua_setfield(L, -2, "type");
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  luaL_setmetatable(L, AIOLUA_ERROR_MT);
}

/* [] -> [err] : push_error with a formatted message. */
static void push_errorv(lua_State *L, const char *type, const char *fmt,
                        va_list ap) {
  const char *msg = lua_pushvfstring(L, fmt, ap);
  push_error(L, type, msg);
  lua_remove(L, -2);
}

void aiolua_pusherror(lua_State *L, const char *type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_errorv(L, type, fmt, ap);
  va_end(ap);
}

int aiolua_error(lua_State *L, const char *type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_errorv(L, type, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

/* Python's classes that error types stand for, with their bases (PEP
** 3151 for OSError's, aiohttp's ClientError for the HTTP client's): an
** error is of its own type and of each base, so iserror(e, "OSError")
** holds for a TimeoutError, as `except OSError` catches one in Python.  A
** class may have more than one base (a row each). */
static const struct { const char *name, *base; } error_bases[] = {
  {"TimeoutError", "OSError"}, {"ConnectionError", "OSError"},
  {"ConnectionError", "ClientError"}, {"HTTPStatusError", "ClientError"},
  {"TooManyRedirects", "ClientError"}, {"InvalidURL", "ClientError"},
  {"ResponseTooLarge", "ClientError"},
  {"BlockingIOError", "OSError"}, {"ChildProcessError", "OSError"},
  {"FileExistsError", "OSError"}, {"FileNotFoundError", "OSError"},
  {"InterruptedError", "OSError"}, {"IsADirectoryError", "OSError"},
  {"NotADirectoryError", "OSError"}, {"PermissionError", "OSError"},
  {"ProcessLookupError", "OSError"}, {"gaierror", "OSError"},
  {"BrokenPipeError", "ConnectionError"},
  {"ConnectionAbortedError", "ConnectionError"},
  {"ConnectionRefusedError", "ConnectionError"},
  {"ConnectionResetError", "ConnectionError"},
  {"BrokenBarrierError", "RuntimeError"},
  {"JSONDecodeError", "ValueError"}, {"IncompleteReadError", "EOFError"},
};

/* The class of an OSError's errno code (e.code), as Python picks it. */
static const struct { const char *code, *name; } errno_classes[] = {
  {"EAGAIN", "BlockingIOError"}, {"EALREADY", "BlockingIOError"},
  {"EWOULDBLOCK", "BlockingIOError"}, {"EINPROGRESS", "BlockingIOError"},
  {"ECHILD", "ChildProcessError"}, {"EPIPE", "BrokenPipeError"},
  {"ESHUTDOWN", "BrokenPipeError"}, {"ECONNABORTED", "ConnectionAbortedError"},
  {"ECONNREFUSED", "ConnectionRefusedError"},
  {"ECONNRESET", "ConnectionResetError"}, {"EEXIST", "FileExistsError"},
  {"ENOENT", "FileNotFoundError"}, {"EINTR", "InterruptedError"},
  {"EISDIR", "IsADirectoryError"}, {"ENOTDIR", "NotADirectoryError"},
  {"EACCES", "PermissionError"}, {"EPERM", "PermissionError"},
  {"ESRCH", "ProcessLookupError"}, {"ETIMEDOUT", "TimeoutError"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* 1 if class `name` is `type` or derives from it. */
static int derives(const char *name, const char *type) {
  if (strcmp(name, type) == 0) return 1;
  for (size_t i = 0; i < COUNT(error_bases); i++)
    if (strcmp(error_bases[i].name, name) == 0 &&
        derives(error_bases[i].base, type))
      return 1;
  return 0;
}

/* 1 if the error table at idx, of type `name`, is of class `type`: by its
** type, or for an OSError by the class of its errno code. */
static int is_of(lua_State *L, int idx, const char *name, const char *type) {
  if (derives(name, type)) return 1;
  if (!derives(name, "OSError")) return 0;
  if (lua_getfield(L, idx, "code") != LUA_TSTRING) {
    lua_pop(L, 1);
    return 0;
  }
  const char *code = lua_tostring(L, -1), *cls = NULL;
  for (size_t i = 0; i < COUNT(errno_classes); i++)
    if (strcmp(errno_classes[i].code, code) == 0) cls = errno_classes[i].name;
  if (strncmp(code, "EAI_", 4) == 0) cls = "gaierror";  /* the resolver's */
  lua_pop(L, 1);
  return cls && derives(cls, type);
}

int aiolua_iserror(lua_State *L, int idx, const char *type) {
  idx = lua_absindex(L, idx);
  int r = lua_type(L, idx) == LUA_TTABLE && lua_getmetatable(L, idx);
  if (r) {
    luaL_getmetatable(L, AIOLUA_ERROR_MT);
    r = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (type && strcmp(type, "Exception") == 0)  /* all but cancellation */
    return !(r && aiolua_iserror(L, idx, "CancelledError"));
  if (r && type) {
    lua_getfield(L, idx, "type");
    const char *name = lua_tostring(L, -1);
    r = name && (strcmp(name, type) == 0 || is_of(L, idx, name, type));
    lua_pop(L, 1);
  }
  return r;
}

/* [f] -> [] : pushes "module.name" if f is a field of a loaded module,
** as luaL_traceback names global functions; returns 1 if found. */
static int push_global_name(lua_State *L) {
  int top = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {              /* stack: f, loaded, mod, table */
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {          /* stack: ..., table, k, v */
        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, top)) {
          const char *mod = lua_tostring(L, -4), *k = lua_tostring(L, -2);
          if (strcmp(mod, LUA_GNAME) == 0)
            lua_pushstring(L, k);
          else
            lua_pushfstring(L, "%s.%s", mod, k);
          lua_replace(L, top);
          lua_settop(L, top);
          return 1;
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_settop(L, top - 1);
  return 0;
}

/* [f] -> [name] : how a traceback names the function of frame ar. */
static void push_frame_name(lua_State *L, lua_Debug *ar) {
  lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.asyncnames");
  lua_pushvalue(L, -2);
  if (lua_rawget(L, -2) == LUA_TSTRING) {  /* the body of an async function */
    lua_pushfstring(L, "async function '%s'", lua_tostring(L, -1));
    lua_replace(L, -4);
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 2);                           /* stack: f */
  if (push_global_name(L)) {
    lua_pushfstring(L, "function '%s'", lua_tostring(L, -1));
    lua_remove(L, -2);
  } else if (*ar->namewhat) {
    lua_pushfstring(L, "%s '%s'", ar->namewhat, ar->name);
  } else if (*ar->what == 'm') {
    lua_pushliteral(L, "main chunk");
  } else if (*ar->what != 'C') {
    lua_pushfstring(L, "function <%s:%d>", ar->short_src, ar->linedefined);
  } else {
    lua_pushliteral(L, "?");
  }
}

/* [f] -> [name] : the name of the coroutine function f (ar: its "S"
** info) as a task's repr and stack give it: an async function's, or its
** field in a loaded module; returns 1 for those, else 0 and "function
** <src:line>". */
int aiolua__push_coro_name(lua_State *L, const lua_Debug *ar) {
  lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.asyncnames");
  lua_pushvalue(L, -2);
  if (lua_rawget(L, -2) == LUA_TSTRING) {  /* stack: f, names, name */
    lua_replace(L, -3);
    lua_pop(L, 1);
    return 1;
  }
  lua_pop(L, 2);
  lua_pushvalue(L, -1);                    /* stack: f, f */
  if (push_global_name(L)) {               /* stack: f, name */
    lua_replace(L, -2);
    return 1;
  }
  lua_pushfstring(L, "function <%s:%d>", ar->short_src, ar->linedefined);
  lua_replace(L, -2);
  return 0;
}

#define TB_FIRST 10  /* frames shown before skipping, as luaL_traceback */
#define TB_LAST 11   /* frames shown after skipping */

/* The number of the last level of L1's stack.  lua_getstack walks the
** frames from the top, so counting them one by one is quadratic (minutes
** after a stack overflow): find a bound, then search, as lauxlib does. */
static int last_level(lua_State *L1) {
  lua_Debug ar;
  int li = 1, le = 1;
  while (lua_getstack(L1, le, &ar)) {
    li = le;
    le *= 2;
  }
  while (li < le) {
    int m = (li + le) / 2;
    if (lua_getstack(L1, m, &ar)) li = m + 1;
    else le = m;
  }
  return le - 1;
}

static int noop(lua_State *L) { (void)L; return 0; }

#define CB_ROOM 260  /* stack slots a Lua frame may need (MAXREGS is 255) */

/* The entry of callbacks run from the loop: [fn, args...] -> [], calls
** fn(args...).  A traceback stops at its frame: what lies below is the
** loop, not the callback's story.  What the call of fn may allocate is
** taken first: the stack room of its frame, and the CallInfo of its level
** (a dummy call leaves it in L's list, whose first free one the collector
** keeps).  So once cb_entered is set, fn's body runs: a callback dropped
** without running left a TaskGroup waiting forever for a child. */
int aiolua__callback_entry(lua_State *L) {
  luaL_checkstack(L, CB_ROOM, NULL);
  lua_pushcfunction(L, noop);
  lua_call(L, 0, 0);
  aiolua__rt(L)->cb_entered = 1;
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

#define TB_FLOOR 32  /* the bottom frames searched for a callback entry */

/* The level of a callback entry frame of L1 among its bottom frames,
** where the loop calls one, or `last` (one past the last level). */
static int callback_floor(lua_State *L1, int level, int last) {
  lua_Debug ar;
  for (int i = last - 1; i >= level && i >= last - TB_FLOOR; i--) {
    if (!lua_getstack(L1, i, &ar)) continue;
    lua_getinfo(L1, "f", &ar);
    int entry = lua_tocfunction(L1, -1) == aiolua__callback_entry;
    lua_pop(L1, 1);
    if (entry) return i;
  }
  return last;
}

/* [] -> [tb] : a traceback of thread L1 from `level`, as luaL_traceback
** writes it, but async functions are named ("in async function 'f'"), the
** task's own entry frame (a C function marked internal) is left out, and
** it ends at the entry of a callback run by the loop. */
void aiolua_traceback_of(lua_State *L, lua_State *L1, const char *msg,
                         int level) {
  luaL_Buffer b;
  lua_Debug ar;
  int last = last_level(L1) + 1;          /* one past the last level */
  if (last < level) last = level;
  last = callback_floor(L1, level, last);
  int skip_from = (last - level > TB_FIRST + TB_LAST) ? level + TB_FIRST : -1;
  luaL_buffinit(L, &b);
  if (msg) {
    luaL_addstring(&b, msg);
    luaL_addchar(&b, '\n');
  }
  luaL_addstring(&b, "stack traceback:");
  for (int i = level; i < last && lua_getstack(L1, i, &ar); i++) {
    if (i == skip_from) {
      int n = last - TB_LAST - i;
      lua_pushfstring(L, "\n\t...\t(skipping %d levels)", n);
      luaL_addvalue(&b);
      i += n - 1;
      continue;
    }
    lua_getinfo(L1, "Slntf", &ar);
    lua_xmove(L1, L, 1);                   /* the frame's function */
    if (lua_tocfunction(L, -1) == aiolua__task_entry) {
      lua_pop(L, 1);
      continue;
    }
    if (ar.currentline <= 0)
      lua_pushfstring(L, "\n\t%s: in ", ar.short_src);
    else
      lua_pushfstring(L, "\n\t%s:%d: in ", ar.short_src, ar.currentline);
    lua_insert(L, -2);
    push_frame_name(L, &ar);
    lua_concat(L, 2);
    luaL_addvalue(&b);
    if (ar.istailcall) luaL_addstring(&b, "\n\t(...tail calls...)");
  }
  luaL_pushresult(&b);
}

/* [] -> [tb] : "message\nstack traceback:..." for the error at erridx
** raised in thread co. */
void aiolua__pushtraceback(lua_State *L, lua_State *co, int erridx,
                           int level) {
  const char *msg = luaL_tolstring(L, erridx, NULL);
  aiolua_traceback_of(L, co, msg, level);
  lua_remove(L, -2);
}

/* asyncio.Error(type, message [, fields]) -> error table (not raised) */
static int l_error(lua_State *L) {
  const char *type = luaL_checkstring(L, 1);
  const char *msg = luaL_optstring(L, 2, "");
  push_error(L, type, msg);
  if (lua_istable(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -4);
    }
  }
  return 1;
}

/* ---- errors nobody can catch: the loop's exception handler ------------ */

/* Message handler of callbacks: [err] -> [ctx], a context {exception =
** err, traceback = err's text and where it was raised}. */
int aiolua__msgh(lua_State *L) {
  lua_settop(L, 1);
  lua_createtable(L, 0, 4);              /* 2: ctx */
  lua_pushvalue(L, 1);
  lua_setfield(L, 2, "exception");
  const char *msg = luaL_tolstring(L, 1, NULL);
  aiolua_traceback_of(L, L, msg, 1);
  lua_setfield(L, 2, "traceback");
  lua_settop(L, 2);
  return 1;
}

/* Prints the context at ctx as CPython's default handler does: its
** message, then its traceback or its exception. */
static void report_default(lua_State *L, int ctx) {
  lua_getfield(L, ctx, "message");
  const char *msg = lua_tostring(L, -1);
  if (msg == NULL) msg = "Unhandled error in the event loop";
  if (lua_getfield(L, ctx, "traceback") != LUA_TSTRING) {
    lua_pop(L, 1);
    if (lua_getfield(L, ctx, "exception") == LUA_TNIL) lua_pushliteral(L, "");
    else luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
  }
  const char *detail = lua_tostring(L, -1);
  fprintf(stderr, "%s%s%s\n", msg, *detail ? "\n" : "", detail);
  fflush(stderr);
  lua_pop(L, 2);
}

/* Gives the context at ctx to the exception handler of the loop at
** loopidx, or if 0 of the running loop (registry aiolua.loop), through
** registry aiolua.exc_handlers[loop], or prints it.  A handler that fails
** is reported with the context, as CPython does. */
static void report_ctx(lua_State *L, int ctx, int loopidx) {
  int top = lua_gettop(L);
  if (loopidx) lua_pushvalue(L, loopidx);
  else lua_getfield(L, LUA_REGISTRYINDEX, "aiolua.loop");
  if (lua_getfield(L, LUA_REGISTRYINDEX, AIOLUA_EXC_HANDLERS) == LUA_TTABLE &&
      !lua_isnil(L, top + 1)) {
    lua_pushvalue(L, top + 1);
    if (lua_rawget(L, top + 2) != LUA_TNIL) {  /* stack: loop, t, handler */
      lua_pushvalue(L, top + 1);
      lua_pushvalue(L, ctx);
      if (lua_pcall(L, 2, 0, 0) == LUA_OK) {
        lua_settop(L, top);
        return;
      }
      fprintf(stderr, "Unhandled error in exception handler: %s\n",
              luaL_tolstring(L, -1, NULL));
    }
  }
  lua_settop(L, top);
  report_default(L, ctx);
}

typedef struct failure {
  int status;
  const char *message, *k1, *k2;
} failure_t;

/* 1: the failure, 2: the error (a context from aiolua__msgh after
** LUA_ERRRUN), 3 and 4: the objects to name k1 and k2. */
static int failure_protected(lua_State *L) {
  const failure_t *a = lua_touserdata(L, 1);
  if (a->status != LUA_ERRRUN || lua_type(L, 2) != LUA_TTABLE) {
    lua_createtable(L, 0, 4);            /* no context: out of memory, */
    lua_pushvalue(L, 2);                 /* or an error in the handler */
    lua_setfield(L, -2, "exception");
    lua_replace(L, 2);
  }
  lua_pushstring(L, a->message);
  lua_setfield(L, 2, "message");
  if (a->k1) {
    lua_pushvalue(L, 3);
    lua_setfield(L, 2, a->k1);
  }
  if (a->k2) {
    lua_pushvalue(L, 4);
    lua_setfield(L, 2, a->k2);
  }
  report_ctx(L, 2, 0);
  return 0;
}

/* [err] -> [] : reports the error of a pcall (status; with aiolua__msgh as
** its handler) that no one can catch, with `message` and the values at i1
** and i2 as fields k1 and k2 of the context (k NULL: none).  Never
** raises: if even that fails, the error is printed as it is. */
void aiolua__report_failure(lua_State *L, int status, const char *message,
                            const char *k1, int i1, const char *k2, int i2) {
  failure_t a = {status, message, k1, k2};
  i1 = k1 ? lua_absindex(L, i1) : 0;
  i2 = k2 ? lua_absindex(L, i2) : 0;
  int err = lua_gettop(L);
  lua_pushcfunction(L, failure_protected);
  lua_pushlightuserdata(L, &a);
  lua_pushvalue(L, err);
  if (i1) lua_pushvalue(L, i1); else lua_pushnil(L);
  if (i2) lua_pushvalue(L, i2); else lua_pushnil(L);
  if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
    const char *e = lua_tostring(L, err);
    fprintf(stderr, "%s\n%s\n", message, e ? e : "(error object is not a string)");
    fflush(stderr);
  }
  lua_settop(L, err - 1);
}

/* loop:call_exception_handler(ctx), loop:default_exception_handler(ctx):
** the loop at 1, ctx at 2, a table. */
int aiolua__call_exception_handler(lua_State *L) {
  luaL_checktype(L, 2, LUA_TTABLE);
  report_ctx(L, 2, 1);
  return 0;
}

int aiolua__default_exception_handler(lua_State *L) {
  luaL_checktype(L, 2, LUA_TTABLE);
  report_default(L, 2);
  return 0;
}

/* asyncio.iserror(v [, type]) */
static int l_iserror(lua_State *L) {
  lua_pushboolean(L, aiolua_iserror(L, 1, luaL_optstring(L, 2, NULL)));
  return 1;
}

void aiolua__error_open(lua_State *L) {
  luaL_newmetatable(L, AIOLUA_ERROR_MT);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, "aiolua.Error");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

/* Adds Error and iserror to the table on top. */
void aiolua__error_funcs(lua_State *L) {
  lua_pushcfunction(L, l_error);
  lua_setfield(L, -2, "Error");
  lua_pushcfunction(L, l_iserror);
  lua_setfield(L, -2, "iserror");
}
