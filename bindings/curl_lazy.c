/*
** curl_lazy.c -- dlopens libcurl on first use and fills the table of
** pointers that curl_lazy.h routes the curl_* names through.  Runs once
** per process (uv_once), whatever the number of runtimes and threads.
*/
#include "curl_lazy.h"

#ifdef AIOLUA_CURL_LAZY
#include <dlfcn.h>
#include <stdio.h>
#include <uv.h>

aiolua_curl_api_t aiolua__curl;

static uv_once_t once = UV_ONCE_INIT;
static const char *load_error;
static char errbuf[256];

/* The same library the build compiled against (libcurl4-openssl-dev). */
static const char *const names[] = {"libcurl.so.4", "libcurl.so"};

static void load(void) {
  void *h = NULL;
  for (size_t i = 0; h == NULL && i < sizeof names / sizeof *names; i++)
    h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(errbuf, sizeof errbuf, "cannot load libcurl: %s", dlerror());
    load_error = errbuf;
    return;
  }
#define LOAD(name)                                                         \
  if ((*(void **)&aiolua__curl.name = dlsym(h, "curl_" #name)) == NULL) {  \
    snprintf(errbuf, sizeof errbuf, "libcurl lacks curl_%s", #name);       \
    load_error = errbuf;                                                   \
    return;                                                                \
  }
  AIOLUA_CURL_FUNCS(LOAD)
#undef LOAD
  if (aiolua__curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    load_error = "curl_global_init failed";
}

const char *aiolua__curl_load(void) {
  uv_once(&once, load);
  return load_error;
}
#endif
