/*
** modules.h -- the table of built-in modules, generated into modules.c by
** cmake/embed.cmake from the files in bindings/.
*/
#ifndef AIOLUA_MODULES_H
#define AIOLUA_MODULES_H

#include <stddef.h>
#include <lua.h>

typedef struct aiolua__module {
  const char *name;    /* require name */
  lua_CFunction open;  /* C module, or NULL */
  const char *src;     /* Lua source, or NULL */
  size_t len;
  const char *chunkname;
} aiolua__module_t;

extern const aiolua__module_t aiolua__modules[];

#endif
