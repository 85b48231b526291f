/*
** json.c -- the codec of asyncio.json (require "aiolua.json";
** bindings/json.lua is the module): JSON text (RFC 8259) to Lua values
** and back, with the messages and choices of Python's json module.
**   codec(null, array_mt) -> decode(s), encode(v, indent)
** The two values are upvalues: null stands for JSON's null, array_mt marks
** the tables that are arrays (decoded ones, json.array's).
** Design note: both directions are recursive C over the Lua stack, bounded
** by MAX_DEPTH.  The encoder writes into a growing userdata, not a
** luaL_Buffer, because it pushes keys and values while it writes; every
** error is a Lua error, so nothing it allocates can leak.
*/
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "aiolua.h"

#define MAX_DEPTH 1000
#define NULL_UV lua_upvalueindex(1)
#define ARRAY_UV lua_upvalueindex(2)

/* ---- decoding ------------------------------------------------------------ */

typedef struct dec {
  lua_State *L;
  const char *s, *p, *end;
  int depth;
} dec_t;

/* Raises JSONDecodeError "what: line L column C (char N)" for position at,
** counted in characters (UTF-8 sequences) from 0, as Python counts them. */
static int dec_fail(dec_t *d, const char *what, const char *at) {
  int line = 1, col = 1, pos = 0;
  for (const char *q = d->s; q < at; q++) {
    if (((unsigned char)*q & 0xC0) == 0x80) continue;  /* continuation */
    pos++;
    if (*q == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  aiolua_pusherror(d->L, "JSONDecodeError", "%s: line %d column %d (char %d)",
                   what, line, col, pos);
  lua_pushinteger(d->L, pos);
  lua_setfield(d->L, -2, "pos");
  lua_pushinteger(d->L, line);
  lua_setfield(d->L, -2, "lineno");
  lua_pushinteger(d->L, col);
  lua_setfield(d->L, -2, "colno");
  return lua_error(d->L);
}

static void skip_ws(dec_t *d) {
  while (d->p < d->end &&
         (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
    d->p++;
}

static int hex4(const char *p, const char *end) {
  int v = 0;
  if (end - p < 4) return -1;
  for (int i = 0; i < 4; i++) {
    int c = (unsigned char)p[i], x;
    if (c >= '0' && c <= '9') x = c - '0';
    else if (c >= 'a' && c <= 'f') x = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') x = c - 'A' + 10;
    else return -1;
    v = v * 16 + x;
  }
  return v;
}

/* Adds code point cp in UTF-8 (a lone surrogate too, as utf8.char does). */
static void add_utf8(luaL_Buffer *b, unsigned cp) {
  char u[4];
  int n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  luaL_addlstring(b, u, (size_t)n);
}

/* [] -> [string] : the string whose opening quote is at d->p. */
static void dec_string(dec_t *d) {
  const char *start = d->p, *q = ++d->p;
  while (q < d->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
    q++;
  if (q < d->end && *q == '"') {         /* no escapes: one piece */
    lua_pushlstring(d->L, d->p, (size_t)(q - d->p));
    d->p = q + 1;
    return;
  }
  luaL_Buffer b;
  luaL_buffinit(d->L, &b);
  for (;;) {
    q = d->p;
    while (q < d->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
      q++;
    luaL_addlstring(&b, d->p, (size_t)(q - d->p));
    d->p = q;
    if (q == d->end) dec_fail(d, "Unterminated string starting at", start);
    if (*q == '"') break;
    if (*q != '\\') dec_fail(d, "Invalid control character at", q);
    char c = q + 1 < d->end ? q[1] : 0, e;
    switch (c) {
      case '"': e = '"'; break;
      case '\\': e = '\\'; break;
      case '/': e = '/'; break;
      case 'b': e = '\b'; break;
      case 'f': e = '\f'; break;
      case 'n': e = '\n'; break;
      case 'r': e = '\r'; break;
      case 't': e = '\t'; break;
      case 'u': {
        int cp = hex4(q + 2, d->end);
        if (cp < 0) dec_fail(d, "Invalid \\uXXXX escape", q + 1);
        d->p = q + 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && d->end - d->p >= 6 &&
            d->p[0] == '\\' && d->p[1] == 'u') {  /* a surrogate pair */
          int lo = hex4(d->p + 2, d->end);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            d->p += 6;
          }
        }
        add_utf8(&b, (unsigned)cp);
        continue;
      }
      default:
        return (void)dec_fail(d, "Invalid \\escape", q);
    }
    luaL_addchar(&b, e);
    d->p = q + 2;
  }
  d->p++;
  luaL_pushresult(&b);
}

static int isdigit_(char c) { return c >= '0' && c <= '9'; }

/* [] -> [number] : -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)? */
static void dec_number(dec_t *d) {
  const char *p = d->p, *end = d->end;
  if (p < end && *p == '-') p++;
  if (p < end && *p == '0') p++;
  else if (p < end && isdigit_(*p)) while (p < end && isdigit_(*p)) p++;
  else dec_fail(d, "Expecting value", d->p);
  if (end - p >= 2 && p[0] == '.' && isdigit_(p[1]))
    for (p += 2; p < end && isdigit_(*p); p++) {}
  if (p < end && (*p == 'e' || *p == 'E')) {
    const char *e = p + 1;
    if (e < end && (*e == '+' || *e == '-')) e++;
    if (e < end && isdigit_(*e)) {
      while (e < end && isdigit_(*e)) e++;
      p = e;
    }
  }
  char small[64];
  size_t n = (size_t)(p - d->p);
  size_t ok;
  if (n < sizeof small) {                /* Lua reads it: integers beyond */
    memcpy(small, d->p, n);              /* 64 bits as floats, its own */
    small[n] = 0;                        /* way with the locale's point */
    ok = lua_stringtonumber(d->L, small);
  } else {
    lua_pushlstring(d->L, d->p, n);
    ok = lua_stringtonumber(d->L, lua_tostring(d->L, -1));
    if (ok) lua_remove(d->L, -2); else lua_pop(d->L, 1);
  }
  if (!ok) dec_fail(d, "Expecting value", d->p);
  d->p = p;
}

static void dec_value(dec_t *d);

static void dec_nest(dec_t *d) {
  if (d->depth >= MAX_DEPTH) dec_fail(d, "Nesting too deep", d->p);
  d->depth++;
  luaL_checkstack(d->L, 4, "JSON nested too deep");
}

/* [] -> [array] */
static void dec_array(dec_t *d) {
  lua_Integer n = 0;
  dec_nest(d);
  lua_newtable(d->L);
  lua_pushvalue(d->L, ARRAY_UV);
  lua_setmetatable(d->L, -2);
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
    d->depth--;
    return;
  }
  for (;;) {
    dec_value(d);
    lua_rawseti(d->L, -2, ++n);
    skip_ws(d);
    if (d->p < d->end && *d->p == ']') break;
    if (d->p == d->end || *d->p != ',') dec_fail(d, "Expecting ',' delimiter", d->p);
    d->p++;
    skip_ws(d);
  }
  d->p++;
  d->depth--;
}

/* [] -> [object] */
static void dec_object(dec_t *d) {
  dec_nest(d);
  lua_newtable(d->L);
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    d->depth--;
    return;
  }
  for (;;) {
    if (d->p == d->end || *d->p != '"')
      dec_fail(d, "Expecting property name enclosed in double quotes", d->p);
    dec_string(d);
    skip_ws(d);
    if (d->p == d->end || *d->p != ':') dec_fail(d, "Expecting ':' delimiter", d->p);
    d->p++;
    skip_ws(d);
    dec_value(d);
    lua_rawset(d->L, -3);
    skip_ws(d);
    if (d->p < d->end && *d->p == '}') break;
    if (d->p == d->end || *d->p != ',') dec_fail(d, "Expecting ',' delimiter", d->p);
    d->p++;
    skip_ws(d);
  }
  d->p++;
  d->depth--;
}

static int literal(dec_t *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) return 0;
  d->p += n;
  return 1;
}

/* [] -> [value] : the value at d->p (no space before it). */
static void dec_value(dec_t *d) {
  if (d->p == d->end) dec_fail(d, "Expecting value", d->p);
  switch (*d->p) {
    case '"': dec_string(d); return;
    case '{': dec_object(d); return;
    case '[': dec_array(d); return;
    case 't':
      if (!literal(d, "true", 4)) break;
      lua_pushboolean(d->L, 1);
      return;
    case 'f':
      if (!literal(d, "false", 5)) break;
      lua_pushboolean(d->L, 0);
      return;
    case 'n':
      if (!literal(d, "null", 4)) break;
      lua_pushvalue(d->L, NULL_UV);
      return;
    case 'N':                            /* Python's extensions, which */
      if (!literal(d, "NaN", 3)) break;  /* its json.loads accepts */
      lua_pushnumber(d->L, (lua_Number)NAN);
      return;
    case 'I':
      if (!literal(d, "Infinity", 8)) break;
      lua_pushnumber(d->L, (lua_Number)HUGE_VAL);
      return;
    case '-':
      if (d->p + 1 < d->end && d->p[1] == 'I') {
        if (!literal(d, "-Infinity", 9)) break;
        lua_pushnumber(d->L, -(lua_Number)HUGE_VAL);
        return;
      }
      dec_number(d);
      return;
    default:
      dec_number(d);
      return;
  }
  dec_fail(d, "Expecting value", d->p);
}

/* decode(s) -> value */
static int l_decode(lua_State *L) {
  size_t len;
  dec_t d;
  if (lua_type(L, 1) != LUA_TSTRING)
    return aiolua_error(L, "TypeError", "the JSON object must be a string, not %s",
                        luaL_typename(L, 1));
  d.L = L;
  d.s = d.p = lua_tolstring(L, 1, &len);
  d.end = d.s + len;
  d.depth = 0;
  skip_ws(&d);
  dec_value(&d);
  skip_ws(&d);
  if (d.p != d.end) dec_fail(&d, "Extra data", d.p);
  return 1;
}

/* ---- encoding ------------------------------------------------------------ */

typedef struct enc {
  lua_State *L;
  char *buf;                 /* the block of the userdata at bufidx */
  size_t len, cap;
  int bufidx;
  struct jkey *keys;         /* the block of the userdata at keysidx */
  size_t nkeys, capkeys;
  int keysidx;
  int indent;                /* -1: compact */
  int allow_nan;             /* NaN, Infinity and -Infinity as Python's */
  int depth;
  const void *path[MAX_DEPTH];  /* the tables being written, for cycles */
} enc_t;

static void grow(enc_t *e, size_t need) {
  size_t cap = e->cap * 2;
  while (cap < e->len + need) cap *= 2;
  char *nb = lua_newuserdatauv(e->L, cap, 0);
  memcpy(nb, e->buf, e->len);
  lua_replace(e->L, e->bufidx);          /* the old block is garbage */
  e->buf = nb;
  e->cap = cap;
}

static void put(enc_t *e, const char *s, size_t n) {
  if (e->cap - e->len < n) grow(e, n);
  memcpy(e->buf + e->len, s, n);
  e->len += n;
}

#define PUTLIT(e, s) put(e, "" s, sizeof(s) - 1)

static int enc_error(enc_t *e, const char *type, const char *msg) {
  return aiolua_error(e->L, type, "%s", msg);
}

static void enc_string(enc_t *e, const char *s, size_t n) {
  static const char hexd[] = "0123456789abcdef";
  /* valid UTF-8 (surrogates allowed, as Lua's lax utf8.len) */
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    size_t k = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3
             : c >= 0xF0 && c < 0xF5 ? 4 : 0;
    if (k == 0 || n - i < k) enc_error(e, "ValueError", "a string to encode is not UTF-8");
    for (size_t j = 1; j < k; j++)
      if (((unsigned char)s[i + j] & 0xC0) != 0x80)
        enc_error(e, "ValueError", "a string to encode is not UTF-8");
    if ((k == 3 && c == 0xE0 && (unsigned char)s[i + 1] < 0xA0) ||
        (k == 4 && c == 0xF0 && (unsigned char)s[i + 1] < 0x90) ||
        (k == 4 && c == 0xF4 && (unsigned char)s[i + 1] >= 0x90))
      enc_error(e, "ValueError", "a string to encode is not UTF-8");  /* overlong, > 10FFFF */
    i += k;
  }
  PUTLIT(e, "\"");
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) continue;
    put(e, s + from, i - from);
    from = i + 1;
    switch (c) {
      case '"': PUTLIT(e, "\\\""); break;
      case '\\': PUTLIT(e, "\\\\"); break;
      case '\b': PUTLIT(e, "\\b"); break;
      case '\f': PUTLIT(e, "\\f"); break;
      case '\n': PUTLIT(e, "\\n"); break;
      case '\r': PUTLIT(e, "\\r"); break;
      case '\t': PUTLIT(e, "\\t"); break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
        put(e, u, 6);
      }
    }
  }
  put(e, s + from, n - from);
  PUTLIT(e, "\"");
}

/* The text of number v as Python writes it, in out (>= 32 bytes): NaN
** and the infinities as Python's NaN, Infinity and -Infinity unless not
** allow_nan (then ValueError, as Python's allow_nan=False). */
static size_t number_text(lua_State *L, char *out, size_t cap, int idx,
                          int allow_nan) {
  if (lua_isinteger(L, idx))
    return (size_t)snprintf(out, cap, LUA_INTEGER_FMT, lua_tointeger(L, idx));
  lua_Number v = lua_tonumber(L, idx);
  if (v != v || v == (lua_Number)HUGE_VAL || v == -(lua_Number)HUGE_VAL) {
    if (!allow_nan)
      aiolua_error(L, "ValueError",
                   "Out of range float values are not JSON compliant: %s",
                   v != v ? "nan" : v > 0 ? "inf" : "-inf");
    return (size_t)snprintf(out, cap, "%s",
                            v != v ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
  }
  int n = snprintf(out, cap, "%.15g", (double)v), back = 0;
  for (int i = 0; i < n; i++) if (out[i] == ',') out[i] = '.';  /* locale */
  if (lua_stringtonumber(L, out)) {      /* the shortest that reads back */
    back = lua_tonumber(L, -1) == v;
    lua_pop(L, 1);
  }
  if (!back) {
    n = snprintf(out, cap, "%.17g", (double)v);
    for (int i = 0; i < n; i++) if (out[i] == ',') out[i] = '.';
  }
  if (!strpbrk(out, ".eEn")) {           /* stays a float */
    out[n++] = '.';
    out[n++] = '0';
    out[n] = 0;
  }
  return (size_t)n;
}

static void enc_value(enc_t *e, int idx);

static void newline(enc_t *e, int depth) {
  if (e->indent < 0) return;
  PUTLIT(e, "\n");
  for (int i = 0; i < e->indent * depth; i++) PUTLIT(e, " ");
}

/* 1 if the table at idx is an array: marked, or a sequence 1..n, n > 0,
** with no other key. */
static int is_array(lua_State *L, int idx) {
  if (lua_getmetatable(L, idx)) {
    int marked = lua_rawequal(L, -1, ARRAY_UV);
    lua_pop(L, 1);
    if (marked) return 1;
  }
  lua_Unsigned n = lua_rawlen(L, idx), count = 0;
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (++count > n) {
      lua_pop(L, 1);
      return 0;
    }
  }
  return count == n;
}

/* The keys of the objects being written, a stack of records in the
** userdata at keysidx (one allocation for the whole encode).  A string
** key points into the key itself, which its table keeps alive; a number
** key's text is in the record (which may move when the stack grows). */
typedef struct jkey {
  const char *s;             /* NULL: a number, written in text */
  size_t n;
  lua_Number num;
  int isint;
  lua_Integer i;
  char text[32];
} jkey_t;

static const char *key_str(const jkey_t *k) { return k->s ? k->s : k->text; }

static int key_cmp(const void *a, const void *b) {
  const jkey_t *x = a, *y = b;
  size_t n = x->n < y->n ? x->n : y->n;
  int c = memcmp(key_str(x), key_str(y), n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

static jkey_t *key_push(enc_t *e) {
  if (e->nkeys == e->capkeys) {
    size_t cap = e->capkeys * 2;
    jkey_t *nk = lua_newuserdatauv(e->L, cap * sizeof *nk, 0);
    memcpy(nk, e->keys, e->nkeys * sizeof *nk);
    lua_replace(e->L, e->keysidx);
    e->keys = nk;
    e->capkeys = cap;
  }
  return &e->keys[e->nkeys++];
}

/* The object at idx: keys as strings (numbers as they are written),
** sorted bytewise, as Python's sort_keys sorts strings. */
static void enc_object(enc_t *e, int idx) {
  lua_State *L = e->L;
  size_t base = e->nkeys;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    jkey_t *k = key_push(e);
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING) {
      k->s = lua_tolstring(L, -1, &k->n);
    } else if (t == LUA_TNUMBER) {
      k->s = NULL;
      k->isint = lua_isinteger(L, -1);
      k->i = lua_tointeger(L, -1);
      k->num = lua_tonumber(L, -1);
      k->n = number_text(L, k->text, sizeof k->text, -1, e->allow_nan);
    } else {
      aiolua_error(L, "TypeError",
                   "keys must be str, int, float, bool or None, not %s",
                   luaL_typename(L, -1));
    }
  }
  size_t count = e->nkeys - base;
  if (count == 0) {
    PUTLIT(e, "{}");
    return;
  }
  qsort(e->keys + base, count, sizeof *e->keys, key_cmp);
  PUTLIT(e, "{");
  for (size_t j = 0; j < count; j++) {
    jkey_t *k = &e->keys[base + j];      /* again each time: it may move */
    if (j > 0) PUTLIT(e, ",");
    newline(e, e->depth);
    enc_string(e, key_str(k), k->n);
    if (e->indent < 0) PUTLIT(e, ":"); else PUTLIT(e, ": ");
    if (k->s) lua_pushlstring(L, k->s, k->n);
    else if (k->isint) lua_pushinteger(L, k->i);
    else lua_pushnumber(L, k->num);
    lua_rawget(L, idx);
    enc_value(e, lua_gettop(L));
    lua_pop(L, 1);
  }
  newline(e, e->depth - 1);
  PUTLIT(e, "}");
  e->nkeys = base;
}

static void enc_array(enc_t *e, int idx) {
  lua_Unsigned n = lua_rawlen(e->L, idx);
  if (n == 0) {
    PUTLIT(e, "[]");
    return;
  }
  PUTLIT(e, "[");
  for (lua_Unsigned i = 1; i <= n; i++) {
    if (i > 1) PUTLIT(e, ",");
    newline(e, e->depth);
    lua_rawgeti(e->L, idx, (lua_Integer)i);
    enc_value(e, lua_gettop(e->L));
    lua_pop(e->L, 1);
  }
  newline(e, e->depth - 1);
  PUTLIT(e, "]");
}

static void enc_table(enc_t *e, int idx) {
  const void *p = lua_topointer(e->L, idx);
  for (int i = 0; i < e->depth; i++)
    if (e->path[i] == p) enc_error(e, "ValueError", "Circular reference detected");
  if (e->depth >= MAX_DEPTH) enc_error(e, "ValueError", "Nesting too deep");
  luaL_checkstack(e->L, 8, "JSON nested too deep");
  e->path[e->depth++] = p;
  if (is_array(e->L, idx)) enc_array(e, idx);
  else enc_object(e, idx);
  e->depth--;
}

static void enc_value(enc_t *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      enc_string(e, s, n);
      return;
    }
    case LUA_TNUMBER: {
      char num[64];
      put(e, num, number_text(L, num, sizeof num, idx, e->allow_nan));
      return;
    }
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) PUTLIT(e, "true"); else PUTLIT(e, "false");
      return;
    case LUA_TNIL:
      PUTLIT(e, "null");
      return;
    case LUA_TTABLE:
      if (lua_rawequal(L, idx, NULL_UV)) PUTLIT(e, "null");
      else enc_table(e, idx);
      return;
    default:
      aiolua_error(L, "TypeError", "Object of type %s is not JSON serializable",
                   luaL_typename(L, idx));
  }
}

/* encode(v, indent) -> string (indent: nil, compact, or spaces a level) */
static int l_encode(lua_State *L) {
  lua_settop(L, 3);                               /* v, indent, allow_nan */
  enc_t *e = lua_newuserdatauv(L, sizeof *e, 0);  /* 4: the state (its */
  e->L = L;                                       /* path is large) */
  e->indent = lua_isnil(L, 2) ? -1 : (int)luaL_checkinteger(L, 2);
  e->allow_nan = lua_isnil(L, 3) || lua_toboolean(L, 3);
  e->depth = 0;
  e->cap = 256;
  e->len = 0;
  e->buf = lua_newuserdatauv(L, e->cap, 0);       /* 5: the text */
  e->bufidx = 5;
  e->capkeys = 64;
  e->nkeys = 0;
  e->keys = lua_newuserdatauv(L, e->capkeys * sizeof *e->keys, 0);  /* 6 */
  e->keysidx = 6;
  enc_value(e, 1);
  lua_pushlstring(L, e->buf, e->len);
  return 1;
}

/* codec(null, array_mt) -> decode, encode */
static int l_codec(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, l_decode, 2);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, l_encode, 2);
  return 2;
}

int luaopen_aiolua_json(lua_State *L);
int luaopen_aiolua_json(lua_State *L) {
  static const luaL_Reg funcs[] = {{"codec", l_codec}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
