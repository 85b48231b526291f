/*
** load.c -- loading Lua chunks through the dialect translator: files,
** strings, `require`d modules (a package searcher that takes the place
** of Lua's own file searcher), and the dofile, loadfile and load (text
** chunks) that scripts call.  A translation error is a syntax error
** "chunk:line: message", as Lua's own.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* "@path" -> "path", "=name" -> "name", otherwise the string. */
static const char *short_name(const char *chunkname) {
  return (*chunkname == '@' || *chunkname == '=') ? chunkname + 1 : chunkname;
}

/* aiolua_load on any thread L of the runtime's state; mode as load's
** ("b", "t", "bt"; NULL: both), which Lua checks on binary chunks. */
static int load_on(lua_State *L, const char *buf, size_t len,
                   const char *chunkname, int plain, const char *mode) {
  aiolua_runtime_t *rt = aiolua__rt(L);
  if (plain || (rt->flags & AIOLUA_PLAIN))
    return luaL_loadbufferx(L, buf, len, chunkname, mode);
  if (len > 0 && buf[0] == LUA_SIGNATURE[0])  /* precompiled: as is */
    return luaL_loadbufferx(L, buf, len, chunkname, mode ? mode : "b");
  char *out = NULL, err[256];
  size_t outlen = 0;
  int line = aiolua_translate(buf, len, &out, &outlen, err, sizeof err);
  if (line != 0) {
    lua_pushfstring(L, "%s:%d: %s", short_name(chunkname), line, err);
    return LUA_ERRSYNTAX;
  }
  int status = luaL_loadbufferx(L, out, outlen, chunkname, "t");
  free(out);
  return status;
}

int aiolua_load(aiolua_runtime_t *rt, const char *buf, size_t len,
                const char *chunkname, int plain) {
  return load_on(rt->L, buf, len, chunkname, plain, NULL);
}

/* Reads a whole file (NULL: stdin) into a malloc'd buffer. */
static char *read_all(FILE *f, size_t *len) {
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL) return NULL;
  for (;;) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    char *nb = realloc(buf, cap *= 2);
    if (nb == NULL) {
      free(buf);
      return NULL;
    }
    buf = nb;
  }
  if (ferror(f)) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* aiolua_loadfile on any thread L of the runtime's state. */
static int loadfile_on(lua_State *L, const char *path, const char *mode) {
  FILE *f = path ? fopen(path, "rb") : stdin;
  if (f == NULL) {
    lua_pushfstring(L, "cannot open %s: %s", path, strerror(errno));
    return LUA_ERRFILE;
  }
  size_t len = 0;
  char *buf = read_all(f, &len);
  int e = errno;
  if (path) fclose(f);
  if (buf == NULL) {
    lua_pushfstring(L, "cannot read %s: %s", path ? path : "stdin",
                    strerror(e));
    return LUA_ERRFILE;
  }
  const char *src = buf;
  if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 BOM */
    src += 3;
    len -= 3;
  }
  if (len > 0 && *src == '#') {          /* skip a #! line, keep its \n */
    while (len > 0 && *src != '\n') src++, len--;
  }
  if (path)
    lua_pushfstring(L, "@%s", path);
  else
    lua_pushliteral(L, "=stdin");
  int status = load_on(L, src, len, lua_tostring(L, -1), 0, mode);
  lua_remove(L, -2);
  free(buf);
  return status;
}

int aiolua_loadfile(aiolua_runtime_t *rt, const char *path) {
  return loadfile_on(rt->L, path, NULL);
}

/* package.searchers[2]: finds name on package.path and loads it through
** the translator. */
static int searcher(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchpath");
  lua_pushstring(L, name);
  lua_getfield(L, -3, "path");
  lua_call(L, 2, 2);                     /* stack: name, package, path|nil, err */
  if (lua_isnil(L, -2)) return 1;        /* the error message */
  const char *path = lua_tostring(L, -2);
  if (loadfile_on(L, path, NULL) != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
                      name, path, lua_tostring(L, -1));
  lua_pushvalue(L, -3);                  /* stack: ..., loader, path */
  return 2;
}

/* [fn] -> [fn] : sets the optional env argument at envidx as the first
** upvalue of a loaded chunk, as load and loadfile do. */
static void set_env(lua_State *L, int envidx) {
  if (envidx && !lua_isnone(L, envidx)) {
    lua_pushvalue(L, envidx);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
}

/* loadfile([filename [, mode [, env]]]), through the translator. */
static int l_loadfile(lua_State *L) {
  const char *path = luaL_optstring(L, 1, NULL);
  const char *mode = luaL_optstring(L, 2, "bt");
  if (strchr(mode, 't') == NULL) {       /* binary only: Lua's own */
    if (luaL_loadfilex(L, path, mode) != LUA_OK) goto fail;
  } else if (loadfile_on(L, path, mode) != LUA_OK) {
    goto fail;
  }
  set_env(L, lua_gettop(L) >= 4 ? 3 : 0);
  return 1;
fail:
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

static int dofile_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  return lua_gettop(L) - (int)ctx;
}

/* dofile([filename]), through the translator; the chunk may await. */
static int l_dofile(lua_State *L) {
  const char *path = luaL_optstring(L, 1, NULL);
  lua_settop(L, 1);
  if (loadfile_on(L, path, NULL) != LUA_OK) return lua_error(L);
  lua_callk(L, 0, LUA_MULTRET, 1, dofile_k);
  return dofile_k(L, LUA_OK, 1);
}

/* load(chunk [, chunkname [, mode [, env]]]): string chunks go through the
** translator; reader functions and binary chunks to Lua's own load
** (upvalue 1). */
static int l_load(lua_State *L) {
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  const char *mode = luaL_optstring(L, 3, "bt");
  if (s == NULL || lua_type(L, 1) != LUA_TSTRING || strchr(mode, 't') == NULL ||
      (len > 0 && s[0] == LUA_SIGNATURE[0])) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  const char *chunkname = luaL_optstring(L, 2, s);
  int envidx = lua_gettop(L) >= 4 ? 4 : 0;
  if (load_on(L, s, len, chunkname, 0, mode) != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  set_env(L, envidx);
  return 1;
}

void aiolua__load_open(aiolua_runtime_t *rt) {
  lua_State *L = rt->L;
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  lua_pushcfunction(L, searcher);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
  if (rt->flags & AIOLUA_PLAIN) return;  /* Lua's own, untouched */
  lua_pushcfunction(L, l_loadfile);
  lua_setglobal(L, "loadfile");
  lua_pushcfunction(L, l_dofile);
  lua_setglobal(L, "dofile");
  lua_getglobal(L, "load");
  lua_pushcclosure(L, l_load, 1);
  lua_setglobal(L, "load");
}
