/*
** fuzz-json.c -- libFuzzer target over asyncio.json's C codec
** (bindings/json.c), which reads what HTTP servers send.
** On any input: no crash or sanitizer report; decoding gives a value or a
** JSONDecodeError; a value that encodes encodes to text that decodes and
** encodes to the same text again.  tests/fuzz/replay.c runs it without
** libFuzzer.  The codec is compiled into the target with small stand-ins
** for the runtime's error functions, so nothing else is needed.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int luaopen_aiolua_json(lua_State *L);

#define REQUIRE(cond, what)                          \
  do {                                               \
    if (!(cond)) {                                   \
      fprintf(stderr, "fuzz-json: %s\n", what);      \
      abort();                                       \
    }                                                \
  } while (0)

/* The runtime's error values, as json.c raises them: {type=, message=}. */
static void push_error(lua_State *L, const char *type, const char *fmt,
                       va_list ap) {
  lua_createtable(L, 0, 2);
  lua_pushstring(L, type);
  lua_setfield(L, -2, "type");
  lua_pushvfstring(L, fmt, ap);
  lua_setfield(L, -2, "message");
}

void aiolua_pusherror(lua_State *L, const char *type, const char *fmt, ...);
void aiolua_pusherror(lua_State *L, const char *type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_error(L, type, fmt, ap);
  va_end(ap);
}

int aiolua_error(lua_State *L, const char *type, const char *fmt, ...);
int aiolua_error(lua_State *L, const char *type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_error(L, type, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

static lua_State *L;
static int decode_ref, encode_ref;

static void init(void) {
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "aiolua.json", luaopen_aiolua_json, 0);
  lua_getfield(L, -1, "codec");
  lua_newtable(L);                       /* null */
  lua_newtable(L);                       /* the array mark */
  lua_call(L, 2, 2);
  encode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  decode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
}

/* The type of the error at the top, or "" for a non-table error. */
static const char *error_type(void) {
  if (!lua_istable(L, -1)) return "";
  lua_getfield(L, -1, "type");
  const char *t = lua_tostring(L, -1);
  lua_pop(L, 1);
  return t ? t : "";
}

/* [v] -> [text] or [err]: encode(v); 1 if it encoded. */
static int encode(void) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, encode_ref);
  lua_insert(L, -2);
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

/* [s] -> [v] or [err]: decode(s); 1 if it decoded. */
static int decode(void) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, decode_ref);
  lua_insert(L, -2);
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (L == NULL) init();
  int top = lua_gettop(L);
  lua_pushlstring(L, (const char *)data, size);
  if (!decode()) {
    REQUIRE(strcmp(error_type(), "JSONDecodeError") == 0,
            "a bad document raised something else than JSONDecodeError");
  } else if (encode()) {
    size_t n1, n2;
    const char *t1 = lua_tolstring(L, -1, &n1);
    lua_pushvalue(L, -1);
    REQUIRE(decode(), "what encode wrote does not decode");
    REQUIRE(encode(), "what encode wrote does not encode again");
    const char *t2 = lua_tolstring(L, -1, &n2);
    REQUIRE(n1 == n2 && memcmp(t1, t2, n1) == 0, "encode(decode(text)) ~= text");
  } else {                                /* a lone surrogate, -0 keys... */
    const char *t = error_type();
    REQUIRE(strcmp(t, "ValueError") == 0 || strcmp(t, "TypeError") == 0,
            "encode raised something else than ValueError or TypeError");
  }
  lua_settop(L, top);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
