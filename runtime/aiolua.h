/*
** aiolua.h -- public API of libaiolua.
** An aiolua runtime is one libuv loop (owned or borrowed) plus one Lua 5.4
** state whose coroutines run as asyncio-style tasks.  Everything an
** embedding application needs is declared here; the `aiolua` binary and the
** bindings in bindings/ use nothing else.
*/
#ifndef AIOLUA_H
#define AIOLUA_H

#include <stddef.h>
#include <lua.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AIOLUA_VERSION_MAJOR 0
#define AIOLUA_VERSION_MINOR 1
#define AIOLUA_VERSION_PATCH 0
#define AIOLUA_VERSION "0.1.0"

#if defined(_WIN32)
#define AIOLUA_API __declspec(dllexport)
#else
#define AIOLUA_API __attribute__((visibility("default")))
#endif

typedef struct aiolua_runtime aiolua_runtime_t;
typedef struct aiolua_future aiolua_future_t;

/* Flags for aiolua_runtime_new. */
#define AIOLUA_PLAIN 0x1 /* do not translate the async/await dialect */
#define AIOLUA_DEBUG 0x2 /* slow-callback warnings and extra checks */

/* ------------------------------------------------------------------ */
/* Runtime                                                             */
/* ------------------------------------------------------------------ */

/* Creates a runtime.  With loop == NULL it creates and owns a loop;
** otherwise it borrows `loop`, which must outlive the runtime.  Opens the
** standard libraries and makes `asyncio` a global.  NULL on failure. */
AIOLUA_API aiolua_runtime_t *aiolua_runtime_new(uv_loop_t *loop, int flags);

/* Cancels every task, runs their cleanup, closes every handle the runtime
** opened, closes the Lua state and, if owned, the loop.  On a borrowed loop
** it runs that loop (UV_RUN_NOWAIT) for its close callbacks: call it
** outside the loop's callbacks; the loop is then free of aiolua's handles,
** so uv_loop_close succeeds.  NULL is a no-op. */
AIOLUA_API void aiolua_runtime_free(aiolua_runtime_t *rt);

/* The main thread of the runtime's Lua state: use it from C outside tasks
** (loading, aiolua_spawn, pushing values to settle futures). */
AIOLUA_API lua_State *aiolua_runtime_lua(aiolua_runtime_t *rt);

/* The loop the runtime runs on (its own, or the one it borrowed). */
AIOLUA_API uv_loop_t *aiolua_runtime_loop(aiolua_runtime_t *rt);

/* The flags given to aiolua_runtime_new (AIOLUA_PLAIN, AIOLUA_DEBUG). */
AIOLUA_API int aiolua_runtime_flags(aiolua_runtime_t *rt);

/* The runtime that owns L (any thread of its state). */
AIOLUA_API aiolua_runtime_t *aiolua_runtime_from_lua(lua_State *L);

/* Runs the loop in `mode` (as uv_run), running ready tasks as it goes.
** Returns what uv_run returns.  Applications that run the loop themselves
** need not call this: the runtime's handles run tasks from any uv_run. */
AIOLUA_API int aiolua_runtime_run(aiolua_runtime_t *rt, uv_run_mode mode);

/* ------------------------------------------------------------------ */
/* Loading and running Lua                                             */
/* ------------------------------------------------------------------ */

/* Loads a chunk, translating the dialect unless the runtime is PLAIN or
** `plain` is set.  Pushes the function, or an error message; returns a
** lua_load status.  `chunkname` as for lua_load ("@file", "=stdin"). */
AIOLUA_API int aiolua_load(aiolua_runtime_t *rt, const char *buf, size_t len,
                           const char *chunkname, int plain);

/* Loads a file (NULL = stdin), like luaL_loadfile plus the dialect: skips
** a UTF-8 BOM and a first line starting with '#'; chunkname "@path" (or
** "=stdin").  Pushes the function or an error message; LUA_ERRFILE when
** the file cannot be read. */
AIOLUA_API int aiolua_loadfile(aiolua_runtime_t *rt, const char *path);

/* Like asyncio.run: the function (or coroutine object) at the top of the
** stack, below its `nargs` arguments, becomes the main task; the loop runs
** until it finishes, leftover tasks are cancelled and awaited.  On success
** returns LUA_OK and leaves `nresults` results (LUA_MULTRET for all); on
** failure returns an error status and leaves the error value, whose
** traceback is available from aiolua_traceback.  Never raises. */
AIOLUA_API int aiolua_run(aiolua_runtime_t *rt, int nargs, int nresults);

/* Schedules the function (or awaitable) at the top of the stack, below its
** `nargs` arguments, as a new task; replaces them with the Task.  Does not
** run the loop: the task starts at the loop's next iteration, from
** whatever runs it (aiolua_run, aiolua_runtime_run or the application's
** own uv_run).  Returns LUA_OK, or an error status with the message in
** place of the Task.  Never raises; safe from a libuv callback. */
AIOLUA_API int aiolua_spawn(aiolua_runtime_t *rt, int nargs);

/* Pushes the traceback string of the last error aiolua_run returned, or
** nil.  The traceback follows the chain of awaits. */
AIOLUA_API void aiolua_traceback(aiolua_runtime_t *rt);

/* Requests the cancellation of the main task of aiolua_run (as Ctrl-C).
** Call it from the loop's thread (a uv_signal_t or uv_async_t callback). */
AIOLUA_API void aiolua_interrupt(aiolua_runtime_t *rt);

/* 1 while aiolua_run (asyncio.run, run_until_complete) runs the loop. */
AIOLUA_API int aiolua_runtime_running(aiolua_runtime_t *rt);

/* The Lua thread running now: the current task's coroutine, or the main
** thread.  Safe to call from a signal handler, e.g. to lua_sethook it. */
AIOLUA_API lua_State *aiolua_runtime_thread(aiolua_runtime_t *rt);

/* ------------------------------------------------------------------ */
/* Futures from C: awaitable C functions                               */
/* ------------------------------------------------------------------ */

/* A C function that Lua awaits creates a future, starts its work, and
** returns the future; Lua awaits it.  The work's completion callback
** (a libuv callback, say) settles the future.  Settling never runs Lua code
** inline: waiters are scheduled on the ready queue, so it is safe from any
** libuv callback.
**
**   static int l_work(lua_State *L) {
**     aiolua_future_t *f = aiolua_future_new(L);     -- pushes the future
**     op->fut = f; start(op);
**     aiolua_future_on_cancel(f, op_cancel, op);
**     return 1;
**   }
**   static void op_done(op *op) {
**     lua_State *L = aiolua_runtime_lua(op->rt);
**     lua_pushinteger(L, 42);
**     aiolua_future_resolve(op->fut, L, 1);
**   }
*/

/* Threads: a runtime belongs to the thread that runs its loop.  Call this
** API from that thread only (libuv callbacks on it are fine); another
** thread hands results over with a uv_async_t.  Runtimes are independent:
** several may live in one thread or in several threads. */

typedef void (*aiolua_cancel_cb)(aiolua_future_t *f, void *data);

/* Creates a pending future and pushes it.  The handle stays valid (the
** runtime anchors the future) until the future is settled through this API
** or cancelled, whichever comes first. */
AIOLUA_API aiolua_future_t *aiolua_future_new(lua_State *L);

/* Called once if the future is cancelled while pending (task cancelled,
** wait_for timed out, runtime shut down), or settled by Lua code
** (set_result, set_exception) before the C side settled it.  The callback
** tears the work down; after it returns the handle is invalid and must
** not be settled.
** Replaces any previous hook; fn == NULL removes it. */
AIOLUA_API void aiolua_future_on_cancel(aiolua_future_t *f, aiolua_cancel_cb fn,
                                        void *data);

/* Pops `n` values from L and makes them the future's results.  Returns 0,
** or -1 (values still popped) if the future was already done. */
AIOLUA_API int aiolua_future_resolve(aiolua_future_t *f, lua_State *L, int n);

/* Pops an error value from L and makes it the future's exception (await
** raises it).  Returns 0, or -1 (value still popped) if the future was
** already done. */
AIOLUA_API int aiolua_future_reject(aiolua_future_t *f, lua_State *L);

/* Cancels a future made by aiolua_future_new (runs its cancel hook, then
** its waiters get a CancelledError), or requests the cancellation of an
** unfinished Task.  1 if it was pending; 0 if it was done, and for a
** future made in Lua (cancel that with its Lua method cancel). */
AIOLUA_API int aiolua_future_cancel(aiolua_future_t *f, const char *msg);

/* 1 once the future has a result, an exception or was cancelled. */
AIOLUA_API int aiolua_future_done(const aiolua_future_t *f);

/* Pushes the Lua object of a pending future made by aiolua_future_new, or
** of an unfinished Task; nil once it is settled or finished, and for a
** Future made in Lua (keep those in the registry yourself). */
AIOLUA_API void aiolua_future_push(lua_State *L, aiolua_future_t *f);

/* The future or task at idx, or NULL.  The pointer lives as long as the
** Lua object; resolve, reject and cancel act only on futures made by
** aiolua_future_new (for others they return -1 or 0). */
AIOLUA_API aiolua_future_t *aiolua_tofuture(lua_State *L, int idx);

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* Pushes an aiolua error: a table {type = type, message = msg} whose
** tostring is "type: message".  Add fields (status, url, path...) to it
** with lua_setfield before raising or rejecting with it. */
AIOLUA_API void aiolua_pusherror(lua_State *L, const char *type,
                                 const char *fmt, ...);

/* Pushes an error as aiolua_pusherror and raises it.  Never returns. */
AIOLUA_API int aiolua_error(lua_State *L, const char *type, const char *fmt,
                            ...);

/* As luaL_traceback (pushes "msg\nstack traceback:..." for thread L1 from
** `level`), but frames of async functions are named after them, the
** runtime's own task entry frames are left out, and the frames of the
** loop under a callback it runs are too. */
AIOLUA_API void aiolua_traceback_of(lua_State *L, lua_State *L1,
                                    const char *msg, int level);

/* 1 if the value at idx is an aiolua error of that type (any type if
** type == NULL), or of a type that derives from it in Python's classes
** (TimeoutError and ConnectionError are OSErrors; an OSError is also of
** the class of its errno code, FileNotFoundError for ENOENT...).  With
** type "Exception", 1 for every error value but a CancelledError. */
AIOLUA_API int aiolua_iserror(lua_State *L, int idx, const char *type);

/* ------------------------------------------------------------------ */
/* Dialect                                                             */
/* ------------------------------------------------------------------ */

/* Translates aiolua Lua (async function / await) to plain Lua 5.4, line
** for line.  On success returns 0 and sets *out to a malloc'd buffer of
** *outlen bytes (plus a terminating NUL) that the caller frees.  On a
** syntax error returns the line number (> 0) and writes a message of at
** most errsize bytes into err; *out is NULL. */
AIOLUA_API int aiolua_translate(const char *src, size_t len, char **out,
                                size_t *outlen, char *err, size_t errsize);

/* Registers a Lua module implemented in C, as package.preload[name]. */
AIOLUA_API void aiolua_preload(aiolua_runtime_t *rt, const char *name,
                               lua_CFunction open);

#ifdef __cplusplus
}
#endif
#endif
