/*
** edit_lazy.c -- dlopens libedit for the REPL and fills the table of
** pointers that edit_lazy.h routes the rl_* names through.  Part of the
** `aiolua` binary only, like the REPL; called on its thread alone.
*/
#include "edit_lazy.h"

#ifdef AIOLUA_HAVE_LIBEDIT
#include <dlfcn.h>

aiolua_edit_api_t aiolua__edit;

/* The library the build compiled against (libedit-dev), by soname. */
static const char *const names[] = {"libedit.so.2", "libedit.so"};

static int load(void) {
  void *h = NULL;
  for (size_t i = 0; h == NULL && i < sizeof names / sizeof *names; i++)
    h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) return 0;
#define LOAD(name)                                                   \
  if ((*(void **)&aiolua__edit.p_##name = dlsym(h, #name)) == NULL) { \
    dlclose(h);                                                      \
    return 0;                                                        \
  }
  AIOLUA_EDIT_NAMES(LOAD)
#undef LOAD
  return 1;
}

int aiolua__edit_load(void) {
  static int loaded = -1;  /* -1: not tried yet */
  if (loaded < 0) loaded = load();
  return loaded;
}
#endif
