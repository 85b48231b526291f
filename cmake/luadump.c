/*
** luadump.c -- build tool: compiles a Lua source file with the very Lua
** library the runtime links (so the bytecode format is the one it loads)
** and writes the bytecode, debug information kept so that tracebacks keep
** their file names and lines.  The built-in modules are embedded as
** bytecode because undumping it costs a small part of parsing the source,
** which was most of the start-up of an empty script.
** Usage: luadump IN OUT CHUNKNAME
*/
#include <stdio.h>
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>

static int write_out(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  return fwrite(p, 1, n, ud) == n ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s IN OUT CHUNKNAME\n", argv[0]);
    return 2;
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) return 1;
  FILE *in = fopen(argv[1], "rb");
  if (in == NULL) {
    perror(argv[1]);
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t n;
  char *p;
  do {
    p = luaL_prepbuffer(&b);
    n = fread(p, 1, LUAL_BUFFERSIZE, in);
    luaL_addsize(&b, n);
  } while (n == LUAL_BUFFERSIZE);
  fclose(in);
  luaL_pushresult(&b);
  size_t len;
  const char *src = lua_tolstring(L, -1, &len);
  if (luaL_loadbufferx(L, src, len, argv[3], "t") != LUA_OK) {
    fprintf(stderr, "luadump: %s\n", lua_tostring(L, -1));
    return 1;
  }
  FILE *out = fopen(argv[2], "wb");
  if (out == NULL) {
    perror(argv[2]);
    return 1;
  }
  int bad = lua_dump(L, write_out, out, 0) != 0;
  if (fclose(out) != 0 || bad) {
    fprintf(stderr, "luadump: cannot write %s\n", argv[2]);
    remove(argv[2]);
    return 1;
  }
  lua_close(L);
  return 0;
}
