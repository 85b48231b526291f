/*
** memlimit.c -- a Lua module for the tests (require "memlimit"): wraps the
** state's allocator so that a script can make every allocation that
** grows memory fail, and see that running out of memory anywhere ends in
** a Lua error, never a longjmp through libuv or a runtime left broken.
**   memlimit.install()      wrap the allocator (once per state)
**   memlimit.fail(on)       from now on, growing allocations fail (or not)
**   memlimit.fail_after(n)  n more growing allocations succeed, then fail
**   memlimit.fail_once(n)   n more succeed, the next fails (and so does
**                           Lua's retry of it after an emergency collection),
**                           the rest succeed: a transient shortage
**   memlimit.failures()     how many failed so far
*/
#include <lua.h>
#include <lauxlib.h>

static lua_Alloc orig;
static void *orig_ud;
static int failing, failures;
static long allowed = -1;              /* successes left before failing */
static int once;                       /* fail only that one */
static struct { void *p; size_t osize, nsize; int armed; } retry;

static void *limited_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  (void)ud;
  size_t old = p ? osize : 0;
  if (retry.armed && nsize > old) {    /* lmem.c's tryagain: the same call
                                          after a collection's frees */
    retry.armed = 0;
    if (p == retry.p && osize == retry.osize && nsize == retry.nsize) {
      failures++;
      return NULL;
    }
  }
  if (allowed >= 0 && nsize > old && allowed-- == 0) {
    allowed = -1;
    if (once) {
      retry.p = p;
      retry.osize = osize;
      retry.nsize = nsize;
      retry.armed = 1;
      failures++;
      return NULL;
    }
    failing = 1;
  }
  if (failing && nsize > old) {
    failures++;
    return NULL;
  }
  return orig(orig_ud, p, osize, nsize);
}

static int l_install(lua_State *L) {
  if (orig == NULL) {
    orig = lua_getallocf(L, &orig_ud);
    lua_setallocf(L, limited_alloc, NULL);
  }
  return 0;
}

static int l_fail(lua_State *L) {
  failing = lua_toboolean(L, 1);
  allowed = -1;
  once = 0;
  return 0;
}

static int l_fail_after(lua_State *L) {
  allowed = (long)luaL_checkinteger(L, 1);
  failing = once = 0;
  return 0;
}

static int l_fail_once(lua_State *L) {
  allowed = (long)luaL_checkinteger(L, 1);
  failing = 0;
  once = 1;
  return 0;
}

static int l_failures(lua_State *L) {
  lua_pushinteger(L, failures);
  return 1;
}

int luaopen_memlimit(lua_State *L);
int luaopen_memlimit(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"install", l_install}, {"fail", l_fail}, {"fail_after", l_fail_after},
    {"fail_once", l_fail_once},
    {"failures", l_failures},
    {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
