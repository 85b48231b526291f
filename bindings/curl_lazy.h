/*
** curl_lazy.h -- libcurl, loaded on first use.  Linking libcurl costs a
** few milliseconds of start-up in the dynamic loader (its whole dependency
** tree), so libaiolua is built with AIOLUA_CURL_LAZY: the HTTP binding
** dlopens libcurl when `asyncio.http` is first required, and the curl_*
** names below call through a table of pointers.  Without the macro (the
** adapter's own C test) this is just <curl/curl.h>.
*/
#ifndef AIOLUA_CURL_LAZY_H
#define AIOLUA_CURL_LAZY_H

#ifdef AIOLUA_CURL_LAZY
#define CURL_DISABLE_TYPECHECK 1  /* its macros would hide the names */
#endif
#include <curl/curl.h>

#ifdef AIOLUA_CURL_LAZY

#define AIOLUA_CURL_FUNCS(X)                                                 \
  X(global_init) X(version) X(free)                                          \
  X(easy_init) X(easy_setopt) X(easy_getinfo) X(easy_cleanup)                \
  X(easy_reset) X(easy_pause) X(easy_strerror)                               \
  X(multi_init) X(multi_setopt) X(multi_add_handle) X(multi_remove_handle)   \
  X(multi_cleanup) X(multi_info_read) X(multi_socket_action)                 \
  X(multi_assign)                                                            \
  X(share_init) X(share_setopt) X(share_cleanup)                             \
  X(slist_append) X(slist_free_all)                                          \
  X(url) X(url_cleanup) X(url_get) X(url_set) X(url_strerror)

#define AIOLUA_CURL_FIELD(name) __typeof__(curl_##name) *name;
typedef struct aiolua_curl_api {
  AIOLUA_CURL_FUNCS(AIOLUA_CURL_FIELD)
} aiolua_curl_api_t;
#undef AIOLUA_CURL_FIELD

extern aiolua_curl_api_t aiolua__curl;

/* Loads libcurl and initialises it once.  NULL, or why it failed. */
const char *aiolua__curl_load(void);

/* curl.h's own macros checking the arity of the variadic setters */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#undef curl_share_setopt

#define curl_global_init (aiolua__curl.global_init)
#define curl_version (aiolua__curl.version)
#define curl_free (aiolua__curl.free)
#define curl_easy_init (aiolua__curl.easy_init)
#define curl_easy_setopt (aiolua__curl.easy_setopt)
#define curl_easy_getinfo (aiolua__curl.easy_getinfo)
#define curl_easy_cleanup (aiolua__curl.easy_cleanup)
#define curl_easy_reset (aiolua__curl.easy_reset)
#define curl_easy_pause (aiolua__curl.easy_pause)
#define curl_easy_strerror (aiolua__curl.easy_strerror)
#define curl_multi_init (aiolua__curl.multi_init)
#define curl_multi_setopt (aiolua__curl.multi_setopt)
#define curl_multi_add_handle (aiolua__curl.multi_add_handle)
#define curl_multi_remove_handle (aiolua__curl.multi_remove_handle)
#define curl_multi_cleanup (aiolua__curl.multi_cleanup)
#define curl_multi_info_read (aiolua__curl.multi_info_read)
#define curl_multi_socket_action (aiolua__curl.multi_socket_action)
#define curl_multi_assign (aiolua__curl.multi_assign)
#define curl_share_init (aiolua__curl.share_init)
#define curl_share_setopt (aiolua__curl.share_setopt)
#define curl_share_cleanup (aiolua__curl.share_cleanup)
#define curl_slist_append (aiolua__curl.slist_append)
#define curl_slist_free_all (aiolua__curl.slist_free_all)
#define curl_url (aiolua__curl.url)
#define curl_url_cleanup (aiolua__curl.url_cleanup)
#define curl_url_get (aiolua__curl.url_get)
#define curl_url_set (aiolua__curl.url_set)
#define curl_url_strerror (aiolua__curl.url_strerror)

#else
#define aiolua__curl_load() ((const char *)NULL)
#endif

#endif
