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

int aiolua_iserror(lua_State *L, int idx, const char *type) {
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  luaL_getmetatable(L, AIOLUA_ERROR_MT);
  int r = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (r && type) {
    lua_getfield(L, idx, "type");
    r = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), type) == 0;
    lua_pop(L, 1);
  }
  return r;
}

/* [] -> [tb] : "message\nstack traceback:..." for the error at erridx
** raised in thread co. */
void aiolua__pushtraceback(lua_State *L, lua_State *co, int erridx,
                           int level) {
  const char *msg = luaL_tolstring(L, erridx, NULL);
  luaL_traceback(L, co, msg, level);
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
