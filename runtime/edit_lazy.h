/*
** edit_lazy.h -- libedit's readline interface, loaded when the REPL starts.
** Linking libedit (and libtinfo, libbsd and libmd behind it) cost every
** script a quarter of a millisecond in the dynamic loader, a sixth of the
** binary's start-up, for a library only the prompt uses: the REPL dlopens
** it (aiolua__edit_load) and the rl_* names below go through a table of
** pointers, as bindings/curl_lazy.h does for libcurl.  Built without
** libedit's headers (no AIOLUA_HAVE_LIBEDIT) the REPL reads plain lines.
*/
#ifndef AIOLUA_EDIT_LAZY_H
#define AIOLUA_EDIT_LAZY_H

#ifdef AIOLUA_HAVE_LIBEDIT
#include <stdio.h>
#include <editline/readline.h>

#define AIOLUA_EDIT_NAMES(X)                                                 \
  X(rl_initialize) X(rl_set_prompt) X(rl_bind_key) X(rl_insert)              \
  X(rl_callback_handler_install) X(rl_callback_handler_remove)               \
  X(rl_callback_read_char) X(rl_forced_update_display)                       \
  X(rl_get_screen_size) X(rl_resize_terminal)                                \
  X(using_history) X(stifle_history) X(read_history) X(write_history)        \
  X(add_history)                                                             \
  /* variables */                                                            \
  X(rl_readline_name) X(rl_catch_signals) X(rl_catch_sigwinch)               \
  X(rl_instream) X(rl_outstream) X(rl_point) X(rl_end)

/* A pointer to each function and variable, as p_<name>. */
#define AIOLUA_EDIT_FIELD(name) __typeof__(name) *p_##name;
typedef struct aiolua_edit_api {
  AIOLUA_EDIT_NAMES(AIOLUA_EDIT_FIELD)
} aiolua_edit_api_t;
#undef AIOLUA_EDIT_FIELD

extern aiolua_edit_api_t aiolua__edit;

/* Loads libedit once; 1 if it is there with every name above. */
int aiolua__edit_load(void);

#define rl_initialize (*aiolua__edit.p_rl_initialize)
#define rl_set_prompt (*aiolua__edit.p_rl_set_prompt)
#define rl_bind_key (*aiolua__edit.p_rl_bind_key)
#define rl_insert (*aiolua__edit.p_rl_insert)
#define rl_callback_handler_install (*aiolua__edit.p_rl_callback_handler_install)
#define rl_callback_handler_remove (*aiolua__edit.p_rl_callback_handler_remove)
#define rl_callback_read_char (*aiolua__edit.p_rl_callback_read_char)
#define rl_forced_update_display (*aiolua__edit.p_rl_forced_update_display)
#define rl_get_screen_size (*aiolua__edit.p_rl_get_screen_size)
#define rl_resize_terminal (*aiolua__edit.p_rl_resize_terminal)
#define using_history (*aiolua__edit.p_using_history)
#define stifle_history (*aiolua__edit.p_stifle_history)
#define read_history (*aiolua__edit.p_read_history)
#define write_history (*aiolua__edit.p_write_history)
#define add_history (*aiolua__edit.p_add_history)
#define rl_readline_name (*aiolua__edit.p_rl_readline_name)
#define rl_catch_signals (*aiolua__edit.p_rl_catch_signals)
#define rl_catch_sigwinch (*aiolua__edit.p_rl_catch_sigwinch)
#define rl_instream (*aiolua__edit.p_rl_instream)
#define rl_outstream (*aiolua__edit.p_rl_outstream)
#define rl_point (*aiolua__edit.p_rl_point)
#define rl_end (*aiolua__edit.p_rl_end)

#endif
#endif
