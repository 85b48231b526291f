/*
** fs.c -- asynchronous file operations on uv_fs_* (module "aiolua.fs").
** One operation = one record (fs_op, embedding its uv_fs_t) + one future,
** settled from the fs callback.  Cancelled: uv_cancel, or, if already
** running, the result is discarded (a close is never stopped, only
** detached); the record is always freed in the fs callback.
** bindings/fs.lua builds asyncio.fs on these primitives.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <uv.h>

#include "aiolua.h"

#define FS_FILE_MT "aiolua.fs.File"
#define FS_CHUNK 65536              /* first buffer of a read to end of file */
#define FS_MAXSTEP (1u << 30)       /* largest single uv_fs_read/write */

typedef enum fs_kind {
  OP_OPEN, OP_CLOSE, OP_READ, OP_WRITE, OP_FSTAT, OP_FSYNC,
  OP_STAT, OP_LSTAT, OP_MKDIR, OP_RMDIR, OP_UNLINK, OP_RENAME, OP_SCANDIR
} fs_kind;

static const char *const fs_opnames[] = {
  "open", "close", "read", "write", "fstat", "fsync",
  "stat", "lstat", "mkdir", "rmdir", "unlink", "rename", "scandir"
};

/* An open descriptor.  The Lua userdata points to it; requests in flight
** count in `busy`, so that closing or collecting the userdata while a
** (cancelled but running) request still uses fd defers the close until the
** last request is done.  Freed by whoever drops the last use. */
typedef struct fs_file {
  uv_loop_t *loop;
  uv_file fd;      /* -1 once closed */
  int busy;        /* requests in flight on fd */
  int stream;      /* not seekable (pipe, FIFO, tty): offsets ignored */
  int orphan;      /* no userdata points here any more */
  char path[];     /* the name it was opened with, for errors */
} fs_file;

typedef struct fs_op fs_op;

/* The operations in flight of one Lua state, so that closing the state
** (whose __gc of this list runs in lua_close) detaches them from their
** futures even when no task was awaiting them. */
typedef struct fs_list {
  fs_op *head;
  int closed;      /* its __gc ran: no request may start any more */
} fs_list;

/* One operation.  `fut` is NULL once the future was cancelled or the state
** closed: the callback then frees the record without touching Lua. */
struct fs_op {
  uv_fs_t req;              /* req.data == this */
  fs_list *list;            /* NULL once the state is closed */
  fs_op *prev, *next;       /* in list */
  uv_loop_t *loop;
  aiolua_runtime_t *rt;
  aiolua_future_t *fut;
  fs_kind kind;
  fs_file *file;            /* READ/WRITE/FSTAT/FSYNC: holds a busy count */
  fs_file *opened;          /* OPEN: the file until Lua owns it */
  char *buf;                /* READ: data read; WRITE: data to write */
  size_t len, cap;          /* READ: bytes read, buffer size; WRITE: size */
  size_t done;              /* WRITE: bytes written */
  int64_t want;             /* READ: bytes wanted, -1 = to end of file */
  int64_t offset;           /* file offset of the first byte, -1 = current */
  ssize_t result;           /* < 0: a libuv error code */
  char *path, *path2;       /* names for error values */
};

static char fs_list_key; /* registry key of the fs_list userdata */

static void fs_cb(uv_fs_t *req);

/* ------------------------------------------------------------------ */
/* Descriptors                                                         */
/* ------------------------------------------------------------------ */

static void file_closefd(fs_file *f) {
  if (f->fd >= 0) {
    uv_fs_t req;
    uv_fs_close(f->loop, &req, f->fd, NULL); /* synchronous */
    uv_fs_req_cleanup(&req);
    f->fd = -1;
  }
}

/* Drops the use of a request; the last use of an orphan closes it. */
static void file_release(fs_file *f) {
  f->busy--;
  if (f->busy == 0 && f->orphan) {
    file_closefd(f);
    free(f);
  }
}

/* Detaches f from its userdata: closes it now, or when its last request
** completes. */
static void file_orphan(fs_file *f) {
  f->orphan = 1;
  if (f->busy == 0) {
    file_closefd(f);
    free(f);
  }
}

/* The open file at idx; raises if it is not one or is closed. */
static fs_file *checkfile(lua_State *L, int idx) {
  fs_file **ud = luaL_checkudata(L, idx, FS_FILE_MT);
  if (*ud == NULL) luaL_error(L, "attempt to use a closed file");
  return *ud;
}

/* ------------------------------------------------------------------ */
/* Records and their completion                                        */
/* ------------------------------------------------------------------ */

static void op_unlink(fs_op *op) {
  if (op->list == NULL) return;
  if (op->prev) op->prev->next = op->next;
  else op->list->head = op->next;
  if (op->next) op->next->prev = op->prev;
  op->list = NULL;
  op->prev = op->next = NULL;
}

static void op_free(fs_op *op) {
  op_unlink(op);
  if (op->opened) file_orphan(op->opened); /* closes the new descriptor */
  if (op->file) file_release(op->file);
  uv_fs_req_cleanup(&op->req);
  free(op->buf);
  free(op->path);
  free(op->path2);
  free(op);
}

/* Pushes an OSError for op failing with uverr.  Stack: +1. */
static void push_oserror(lua_State *L, const fs_op *op, int uverr) {
  const char *path = op->path ? op->path : "?";
  if (op->path2)
    aiolua_pusherror(L, "OSError", "%s -> %s: %s", path, op->path2,
                     uv_strerror(uverr));
  else
    aiolua_pusherror(L, "OSError", "%s: %s", path, uv_strerror(uverr));
  lua_pushstring(L, path);
  lua_setfield(L, -2, "path");
  if (op->path2) {
    lua_pushstring(L, op->path2);
    lua_setfield(L, -2, "path2");
  }
  lua_pushstring(L, uv_err_name(uverr));
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, -uverr);
  lua_setfield(L, -2, "errno");
  lua_pushstring(L, uv_strerror(uverr));
  lua_setfield(L, -2, "strerror");
  lua_pushstring(L, fs_opnames[op->kind]);
  lua_setfield(L, -2, "op");
}

static double ts2num(uv_timespec_t ts) {
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *stat_type(uint64_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "link";
  return "other";
}

/* Pushes a stat table for st.  Stack: +1. */
static void push_stat(lua_State *L, const uv_stat_t *st) {
  lua_createtable(L, 0, 12);
  lua_pushinteger(L, (lua_Integer)st->st_size);
  lua_setfield(L, -2, "size");
  lua_pushnumber(L, ts2num(st->st_mtim));
  lua_setfield(L, -2, "mtime");
  lua_pushnumber(L, ts2num(st->st_atim));
  lua_setfield(L, -2, "atime");
  lua_pushnumber(L, ts2num(st->st_ctim));
  lua_setfield(L, -2, "ctime");
  lua_pushstring(L, stat_type(st->st_mode));
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, (lua_Integer)(st->st_mode & 07777));
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)st->st_nlink);
  lua_setfield(L, -2, "nlink");
  lua_pushinteger(L, (lua_Integer)st->st_uid);
  lua_setfield(L, -2, "uid");
  lua_pushinteger(L, (lua_Integer)st->st_gid);
  lua_setfield(L, -2, "gid");
  lua_pushinteger(L, (lua_Integer)st->st_ino);
  lua_setfield(L, -2, "ino");
  lua_pushinteger(L, (lua_Integer)st->st_dev);
  lua_setfield(L, -2, "dev");
}

/* Pushes the results of a finished op (lua_pcall'ed by op_settle with the
** op as a light userdata, so that a memory error cannot escape the libuv
** callback).  For a failed op, pushes its error value. */
static int op_push_results(lua_State *L) {
  fs_op *op = lua_touserdata(L, 1);
  if (op->result < 0) {
    push_oserror(L, op, (int)op->result);
    return 1;
  }
  switch (op->kind) {
  case OP_OPEN: {
    fs_file **ud = lua_newuserdatauv(L, sizeof *ud, 0);
    *ud = NULL;
    luaL_setmetatable(L, FS_FILE_MT);
    *ud = op->opened; /* Lua owns it now */
    op->opened = NULL;
    return 1;
  }
  case OP_READ:
    lua_pushlstring(L, op->buf ? op->buf : "", op->len);
    return 1;
  case OP_WRITE:
    lua_pushinteger(L, (lua_Integer)op->done);
    return 1;
  case OP_FSTAT: case OP_STAT: case OP_LSTAT:
    push_stat(L, &op->req.statbuf);
    return 1;
  case OP_SCANDIR: {
    uv_dirent_t ent;
    lua_Integer n = 0;
    lua_newtable(L);
    while (uv_fs_scandir_next(&op->req, &ent) != UV_EOF) {
      lua_pushstring(L, ent.name);
      lua_rawseti(L, -2, ++n);
    }
    return 1;
  }
  default:
    return 0;
  }
}

/* Settles op's future with its results or its error.  Runs no Lua code
** but op_push_results, under a protected call; yet its allocations may
** run a finalizer that cancels the future (op_cancel clears op->fut). */
static void op_settle(fs_op *op) {
  lua_State *L = aiolua_runtime_lua(op->rt);
  int top = lua_gettop(L);
  int status;
  lua_pushcfunction(L, op_push_results);
  lua_pushlightuserdata(L, op);
  status = lua_pcall(L, 1, LUA_MULTRET, 0); /* stack: top, results... */
  if (op->fut == NULL) {
    /* cancelled meanwhile: drop the results (a File pushed is garbage,
       its __gc closes the descriptor) */
  } else if (status != LUA_OK || op->result < 0) {
    lua_settop(L, top + 1); /* the error value */
    aiolua_future_reject(op->fut, L);
  } else {
    aiolua_future_resolve(op->fut, L, lua_gettop(L) - top);
  }
  lua_settop(L, top);
  op->fut = NULL;
}

/* Submits the next uv request of a READ: into the rest of the buffer,
** grown when full.  Returns 0 or a libuv error. */
static int read_submit(fs_op *op) {
  uv_buf_t iov;
  size_t room;
  int64_t off;
  if (op->len == op->cap) {
    size_t ncap = op->cap ? op->cap * 2 : FS_CHUNK;
    char *nbuf;
    if (op->want >= 0 && ncap > (size_t)op->want) ncap = (size_t)op->want;
    if (ncap <= op->cap) ncap = op->cap + 1;
    nbuf = realloc(op->buf, ncap);
    if (nbuf == NULL) return UV_ENOMEM;
    op->buf = nbuf;
    op->cap = ncap;
  }
  room = op->cap - op->len;
  if (room > FS_MAXSTEP) room = FS_MAXSTEP;
  iov = uv_buf_init(op->buf + op->len, (unsigned int)room);
  off = op->offset < 0 || op->file->stream ? -1
                                           : op->offset + (int64_t)op->len;
  uv_fs_req_cleanup(&op->req);
  return uv_fs_read(op->loop, &op->req, op->file->fd, &iov, 1, off, fs_cb);
}

/* Submits the next uv request of a WRITE: the rest of the data. */
static int write_submit(fs_op *op) {
  size_t rest = op->len - op->done;
  static char empty[1];
  uv_buf_t iov = uv_buf_init(op->buf ? op->buf + op->done : empty,
                             (unsigned int)(rest > FS_MAXSTEP ? FS_MAXSTEP
                                                              : rest));
  int64_t off = op->offset < 0 || op->file->stream
                    ? -1 : op->offset + (int64_t)op->done;
  uv_fs_req_cleanup(&op->req);
  return uv_fs_write(op->loop, &op->req, op->file->fd, &iov, 1, off, fs_cb);
}

/* Handles a step's result; returns 1 if the op needs another step (and
** submitted it), 0 if it is finished (op->result set). */
static int op_step(fs_op *op, ssize_t res) {
  int rc = 0;
  if (res == UV_ESPIPE && op->offset >= 0 && !op->file->stream &&
      (op->kind == OP_READ || op->kind == OP_WRITE)) {
    op->file->stream = 1; /* a pipe: read or write where it is */
    rc = op->kind == OP_READ ? read_submit(op) : write_submit(op);
    if (rc == 0) return 1;
    res = rc;
  }
  if (res < 0) {
    op->result = res;
    return 0;
  }
  switch (op->kind) {
  case OP_OPEN:
    op->opened->fd = (uv_file)res;
    break;
  case OP_READ:
    op->len += (size_t)res;
    if (res == 0 || (op->want >= 0 && op->len >= (size_t)op->want)) break;
    if ((rc = read_submit(op)) == 0) return 1;
    break;
  case OP_WRITE:
    op->done += (size_t)res;
    if (res == 0 || op->done >= op->len) break;
    if ((rc = write_submit(op)) == 0) return 1;
    break;
  default:
    break;
  }
  op->result = rc < 0 ? rc : res;
  return 0;
}

/* The callback of every request: continues, settles or discards. */
static void fs_cb(uv_fs_t *req) {
  fs_op *op = req->data;
  if (op->fut == NULL) { /* cancelled: discard the result */
    if (op->kind == OP_OPEN && req->result >= 0)
      op->opened->fd = (uv_file)req->result; /* op_free closes it */
    op_free(op);
    return;
  }
  if (op_step(op, req->result)) return;
  op_settle(op);
  op_free(op);
}

/* Detaches op from its future; stops the request if it has not started,
** else lets it run.  A close always runs: the handle already forgot its
** descriptor, so nobody else would close it.  The record is freed in
** fs_cb either way. */
static void op_detach(fs_op *op) {
  op->fut = NULL;
  op_unlink(op);
  if (op->kind != OP_CLOSE) uv_cancel((uv_req_t *)&op->req);
}

/* Cancel hook: the future is gone. */
static void op_cancel(aiolua_future_t *f, void *data) {
  (void)f;
  op_detach(data);
}

/* __gc of the list (the Lua state is closing): detaches every operation
** still in flight from its future, as if cancelled, and refuses new ones
** (a later finalizer may still call fs; its callback would find no state). */
static int l_list_gc(lua_State *L) {
  fs_list *list = lua_touserdata(L, 1);
  list->closed = 1;
  while (list->head != NULL) op_detach(list->head);
  return 0;
}

/* Pushes a new future and returns a record for it, or NULL (and rejects
** the future) if memory runs out.  path (may be NULL) names the op in
** errors.  Raises once the state is closing.  Stack: +1. */
static fs_op *op_new(lua_State *L, fs_kind kind, const char *path) {
  aiolua_runtime_t *rt = aiolua_runtime_from_lua(L);
  aiolua_future_t *fut;
  fs_list *list;
  fs_op *op;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &fs_list_key); /* stack: list */
  list = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (list == NULL || list->closed)
    aiolua_error(L, "RuntimeError", "fs.%s: the runtime is closing",
                 fs_opnames[kind]);
  fut = aiolua_future_new(L); /* stack: fut */
  op = calloc(1, sizeof *op);
  if (op != NULL && path != NULL && (op->path = strdup(path)) == NULL) {
    free(op);
    op = NULL;
  }
  if (op == NULL) {
    aiolua_pusherror(L, "MemoryError", "not enough memory for %s",
                     fs_opnames[kind]);
    aiolua_future_reject(fut, L);
    return NULL;
  }
  op->req.data = op;
  op->list = list;
  op->next = list->head;
  if (op->next) op->next->prev = op;
  list->head = op;
  op->rt = rt;
  op->loop = aiolua_runtime_loop(rt);
  op->fut = fut;
  op->kind = kind;
  op->want = -1;
  op->offset = -1;
  return op;
}

/* Finishes starting op: rc is what the uv_fs_* call returned.  On success
** the callback will come; on failure settles the future now.  Installs the
** cancel hook.  Returns 1 (the future, already pushed). */
static int op_started(fs_op *op, int rc) {
  if (rc < 0) {
    op->result = rc;
    op_settle(op);
    op_free(op);
    return 1;
  }
  aiolua_future_on_cancel(op->fut, op_cancel, op);
  return 1;
}

/* Makes op hold a use of file f. */
static void op_use(fs_op *op, fs_file *f) {
  f->busy++;
  op->file = f;
}

/* ------------------------------------------------------------------ */
/* Lua functions: paths                                                */
/* ------------------------------------------------------------------ */

/* Open flags of an fopen mode: r w a x, then + b t in any order. */
static int mode2flags(const char *mode, int *flags) {
  int rw = 0, f;
  switch (*mode++) {
  case 'r': f = 0; break;
  case 'w': f = UV_FS_O_CREAT | UV_FS_O_TRUNC; break;
  case 'a': f = UV_FS_O_CREAT | UV_FS_O_APPEND; break;
  case 'x': f = UV_FS_O_CREAT | UV_FS_O_EXCL; break;
  default: return 0;
  }
  rw = mode[-1] == 'r' ? UV_FS_O_RDONLY : UV_FS_O_WRONLY;
  for (; *mode; mode++) {
    if (*mode == '+') rw = UV_FS_O_RDWR;
    else if (*mode != 'b' && *mode != 't') return 0;
  }
  *flags = f | rw;
  return 1;
}

/* open(path [, mode]) -> future of a File. */
static int l_open(lua_State *L) {
  size_t plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *mode = luaL_optstring(L, 2, "r");
  int flags = 0;
  fs_op *op;
  luaL_argcheck(L, mode2flags(mode, &flags), 2, "invalid mode");
  if ((op = op_new(L, OP_OPEN, path)) == NULL) return 1;
  op->opened = malloc(sizeof *op->opened + plen + 1);
  if (op->opened == NULL) return op_started(op, UV_ENOMEM);
  op->opened->loop = op->loop;
  op->opened->fd = -1;
  op->opened->busy = 0;
  op->opened->stream = 0;
  op->opened->orphan = 0;
  memcpy(op->opened->path, path, plen + 1);
  return op_started(op, uv_fs_open(op->loop, &op->req, path, flags, 0666,
                                   fs_cb));
}

static int path_op(lua_State *L, fs_kind kind) {
  const char *path = luaL_checkstring(L, 1);
  fs_op *op;
  int rc;
  if ((op = op_new(L, kind, path)) == NULL) return 1;
  switch (kind) {
  case OP_STAT: rc = uv_fs_stat(op->loop, &op->req, path, fs_cb); break;
  case OP_LSTAT: rc = uv_fs_lstat(op->loop, &op->req, path, fs_cb); break;
  case OP_RMDIR: rc = uv_fs_rmdir(op->loop, &op->req, path, fs_cb); break;
  case OP_UNLINK: rc = uv_fs_unlink(op->loop, &op->req, path, fs_cb); break;
  default: rc = uv_fs_scandir(op->loop, &op->req, path, 0, fs_cb); break;
  }
  return op_started(op, rc);
}

/* stat(path) -> future of a stat table (symbolic links followed). */
static int l_stat(lua_State *L) { return path_op(L, OP_STAT); }

/* lstat(path) -> future of a stat table of the link itself. */
static int l_lstat(lua_State *L) { return path_op(L, OP_LSTAT); }

/* rmdir(path) -> future. */
static int l_rmdir(lua_State *L) { return path_op(L, OP_RMDIR); }

/* unlink(path) -> future. */
static int l_unlink(lua_State *L) { return path_op(L, OP_UNLINK); }

/* scandir(path) -> future of a list of names (unsorted, no . or ..). */
static int l_scandir(lua_State *L) { return path_op(L, OP_SCANDIR); }

/* mkdir(path [, mode]) -> future. */
static int l_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int mode = (int)luaL_optinteger(L, 2, 0777);
  fs_op *op;
  if ((op = op_new(L, OP_MKDIR, path)) == NULL) return 1;
  return op_started(op, uv_fs_mkdir(op->loop, &op->req, path, mode, fs_cb));
}

/* rename(from, to) -> future. */
static int l_rename(lua_State *L) {
  const char *from = luaL_checkstring(L, 1);
  const char *to = luaL_checkstring(L, 2);
  fs_op *op;
  if ((op = op_new(L, OP_RENAME, from)) == NULL) return 1;
  if ((op->path2 = strdup(to)) == NULL) return op_started(op, UV_ENOMEM);
  return op_started(op, uv_fs_rename(op->loop, &op->req, from, to, fs_cb));
}

/* ------------------------------------------------------------------ */
/* Lua functions: File methods                                         */
/* ------------------------------------------------------------------ */

/* Optional offset argument: nil or a negative number = current position. */
static int64_t optoffset(lua_State *L, int idx) {
  lua_Integer off = luaL_optinteger(L, idx, -1);
  return off < 0 ? -1 : (int64_t)off;
}

/* file:read([n [, offset]]) -> future of a string: n bytes, fewer only at
** end of file ("" there); n nil or negative reads to end of file. */
static int l_file_read(lua_State *L) {
  fs_file *f = checkfile(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, -1);
  int64_t off = optoffset(L, 3);
  fs_op *op;
  if ((op = op_new(L, OP_READ, f->path)) == NULL) return 1;
  op_use(op, f);
  op->want = n < 0 ? -1 : (int64_t)n;
  op->offset = off;
  if (op->want == 0) { /* nothing to read: settle at once */
    op_settle(op);
    op_free(op);
    return 1;
  }
  return op_started(op, read_submit(op));
}

/* file:write(data [, offset]) -> future of the number of bytes written. */
static int l_file_write(lua_State *L) {
  fs_file *f = checkfile(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  int64_t off = optoffset(L, 3);
  fs_op *op;
  if ((op = op_new(L, OP_WRITE, f->path)) == NULL) return 1;
  op_use(op, f);
  op->offset = off;
  /* Copied: a cancelled write may outlive the string. */
  if (len > 0 && (op->buf = malloc(len)) == NULL)
    return op_started(op, UV_ENOMEM);
  if (len > 0) memcpy(op->buf, data, len);
  op->len = len;
  return op_started(op, write_submit(op));
}

static int fd_op(lua_State *L, fs_kind kind) {
  fs_file *f = checkfile(L, 1);
  fs_op *op;
  int rc;
  if ((op = op_new(L, kind, f->path)) == NULL) return 1;
  op_use(op, f);
  if (kind == OP_FSTAT) rc = uv_fs_fstat(op->loop, &op->req, f->fd, fs_cb);
  else rc = uv_fs_fsync(op->loop, &op->req, f->fd, fs_cb);
  return op_started(op, rc);
}

/* file:stat() -> future of a stat table. */
static int l_file_stat(lua_State *L) { return fd_op(L, OP_FSTAT); }

/* file:sync() -> future: fsync. */
static int l_file_sync(lua_State *L) { return fd_op(L, OP_FSYNC); }

/* file:close() -> future.  Closing a closed file does nothing.  With
** requests still in flight, the descriptor closes after the last one.
** Cancelling the future does not stop the close (see op_detach). */
static int l_file_close(lua_State *L) {
  fs_file **ud = luaL_checkudata(L, 1, FS_FILE_MT);
  fs_file *f = *ud;
  fs_op *op;
  uv_file fd;
  if ((op = op_new(L, OP_CLOSE, f ? f->path : "?")) == NULL) return 1;
  if (f == NULL || f->busy > 0) {
    if (f != NULL) {
      *ud = NULL;
      file_orphan(f);
    }
    op_settle(op);
    op_free(op);
    return 1;
  }
  *ud = NULL;
  fd = f->fd;
  free(f);
  return op_started(op, uv_fs_close(op->loop, &op->req, fd, fs_cb));
}

/* file:close_now(), __close, __gc: closes at once (synchronously). */
static int l_file_close_now(lua_State *L) {
  fs_file **ud = luaL_checkudata(L, 1, FS_FILE_MT);
  if (*ud != NULL) {
    fs_file *f = *ud;
    *ud = NULL;
    file_orphan(f);
  }
  return 0;
}

/* file:fileno() -> the descriptor, or nil if closed. */
static int l_file_fileno(lua_State *L) {
  fs_file **ud = luaL_checkudata(L, 1, FS_FILE_MT);
  if (*ud == NULL) lua_pushnil(L);
  else lua_pushinteger(L, (*ud)->fd);
  return 1;
}

/* file:closed() -> boolean. */
static int l_file_closed(lua_State *L) {
  fs_file **ud = luaL_checkudata(L, 1, FS_FILE_MT);
  lua_pushboolean(L, *ud == NULL);
  return 1;
}

static int l_file_tostring(lua_State *L) {
  fs_file **ud = luaL_checkudata(L, 1, FS_FILE_MT);
  if (*ud == NULL) lua_pushliteral(L, "fs.File (closed)");
  else lua_pushfstring(L, "fs.File (%s, fd %d)", (*ud)->path, (*ud)->fd);
  return 1;
}

static const luaL_Reg fs_funcs[] = {
  {"open", l_open},       {"stat", l_stat},       {"lstat", l_lstat},
  {"mkdir", l_mkdir},     {"rmdir", l_rmdir},     {"unlink", l_unlink},
  {"rename", l_rename},   {"scandir", l_scandir}, {NULL, NULL}
};

static const luaL_Reg file_methods[] = {
  {"read", l_file_read},     {"write", l_file_write},
  {"close", l_file_close},   {"close_now", l_file_close_now},
  {"stat", l_file_stat},     {"sync", l_file_sync},
  {"fileno", l_file_fileno}, {"closed", l_file_closed},
  {NULL, NULL}
};

static const luaL_Reg file_metamethods[] = {
  {"__gc", l_file_close_now}, {"__close", l_file_close_now},
  {"__tostring", l_file_tostring}, {NULL, NULL}
};

int luaopen_aiolua_fs(lua_State *L);

int luaopen_aiolua_fs(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &fs_list_key) == LUA_TNIL) {
    fs_list *list = lua_newuserdatauv(L, sizeof *list, 0); /* stack: nil, list */
    list->head = NULL;
    list->closed = 0;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_list_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &fs_list_key);
  }
  lua_pop(L, 1);                      /* stack: */
  luaL_newmetatable(L, FS_FILE_MT);   /* stack: mt */
  luaL_setfuncs(L, file_metamethods, 0);
  luaL_newlib(L, file_methods);       /* stack: mt, methods */
  lua_setfield(L, -2, "__index");     /* stack: mt */
  lua_pop(L, 1);
  luaL_newlib(L, fs_funcs);           /* stack: module */
  return 1;
}
