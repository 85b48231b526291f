/*
** translate.c -- the async/await dialect translator (DESIGN.md section 7).
** A single-pass Lua 5.4 lexer (after llex.c) drives a small stack machine
** that rewrites `async function` into asyncio.async(function ... end) and
** `await EXPR` into asyncio.await(EXPR).  Everything else is copied byte
** for byte, and no line break is ever added or removed.
**
** Design note.  The translator never builds a tree.  It keeps a stack of
** open constructs: brackets, blocks (function/if/do/while/for/repeat), async
** functions (whose `end` gets a closing suffix) and await operands.  An
** await frame is a tiny state machine over the grammar of a unary operand
**   operand := unop* simple ('^' unop* simple)*
**   simple  := literal | '{'..'}' | function..end | suffixedexp
** and it ends (emitting its ')') at the first token that cannot continue
** the operand; that token is then handled by the frame below.  Output is
** copied lazily: `copied` marks how far the source has been written out.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aiolua.h"

/* ---------------------------------------------------------------- */
/* Characters                                                       */
/* ---------------------------------------------------------------- */

/* Character classes as in Lua's lctype.h for the C locale (LUA_UCID off:
** bytes >= 0x80 are not letters). */
static int isalpha_(unsigned char c) {
  return (unsigned)((c | 32) - 'a') < 26 || c == '_';
}
static int isdigit_(unsigned char c) { return (unsigned)(c - '0') < 10; }
static int isxdigit_(unsigned char c) {
  return isdigit_(c) || (unsigned)((c | 32) - 'a') < 6;
}
static int isspace_(unsigned char c) {
  return c == ' ' || (unsigned)(c - '\t') < 5; /* \t \n \v \f \r */
}
#define isnl(c) ((c) == '\n' || (c) == '\r')

/* ---------------------------------------------------------------- */
/* Tokens                                                           */
/* ---------------------------------------------------------------- */

/* Single-character tokens are their byte value; the rest follow. */
enum {
  T_NONE = -1,
  T_AND = 256, T_BREAK, T_DO, T_ELSE, T_ELSEIF, T_END, T_FALSE, T_FOR,
  T_FUNCTION, T_GOTO, T_IF, T_IN, T_LOCAL, T_NIL, T_NOT, T_OR, T_REPEAT,
  T_RETURN, T_THEN, T_TRUE, T_UNTIL, T_WHILE,
  T_ASYNC, T_AWAIT, /* dialect keywords, unless used as names */
  T_CONCAT, T_DOTS, T_EQ, T_GE, T_LE, T_NE, T_SHL, T_SHR, T_IDIV, T_DBCOLON,
  T_EOS, T_NUMBER, T_NAME, T_STRING
};

typedef struct {
  int type;
  int line;              /* line where the token starts */
  const char *start, *end;
} token;

typedef struct {
  const char *p, *end;   /* next unread byte, end of input */
  int line;
} lexer;

/* Keyword type of the name [s, s+n), or T_NAME. */
static int keyword(const char *s, size_t n) {
#define KW(str, t) \
  if (n == sizeof(str) - 1 && memcmp(s, str, n) == 0) return t
  switch (s[0]) {
  case 'a': KW("and", T_AND); KW("async", T_ASYNC); KW("await", T_AWAIT); break;
  case 'b': KW("break", T_BREAK); break;
  case 'd': KW("do", T_DO); break;
  case 'e': KW("end", T_END); KW("else", T_ELSE); KW("elseif", T_ELSEIF);
    break;
  case 'f': KW("function", T_FUNCTION); KW("for", T_FOR); KW("false", T_FALSE);
    break;
  case 'g': KW("goto", T_GOTO); break;
  case 'i': KW("if", T_IF); KW("in", T_IN); break;
  case 'l': KW("local", T_LOCAL); break;
  case 'n': KW("nil", T_NIL); KW("not", T_NOT); break;
  case 'o': KW("or", T_OR); break;
  case 'r': KW("return", T_RETURN); KW("repeat", T_REPEAT); break;
  case 't': KW("then", T_THEN); KW("true", T_TRUE); break;
  case 'u': KW("until", T_UNTIL); break;
  case 'w': KW("while", T_WHILE); break;
  default: break;
  }
#undef KW
  return T_NAME;
}

/* ---------------------------------------------------------------- */
/* Translator state                                                 */
/* ---------------------------------------------------------------- */

/* Frame kinds.  F_WHILE/F_FOR are in their header until their `do`. */
enum {
  F_PAREN, F_BRACKET, F_BRACE, F_FUNCTION, F_IF, F_DO, F_WHILE, F_FOR,
  F_REPEAT, F_ASYNCFN, F_AWAIT
};

/* States of an await operand (F_AWAIT frames). */
enum {
  A_EXPECT,  /* needs the start of a unary operand */
  A_PRIMARY, /* after a suffixed expression: . : [ ( { "s" ^ continue */
  A_DOT,     /* after '.' or ':' inside the operand: needs a name */
  A_SIMPLE,  /* after a literal, table or function: only ^ continues */
  A_INNER    /* the operand is an inner await, which took everything */
};

#define NO_NAME ((size_t)-1)

typedef struct {
  unsigned char kind;
  unsigned char state; /* F_AWAIT: A_*; F_WHILE/F_FOR: 1 once in the body */
  int line;            /* line of the opening token */
  size_t name;         /* F_ASYNCFN: offset in names, or NO_NAME */
} frame;

typedef struct {
  lexer lx;
  token tok, prev;      /* token being handled, the one before it */
  char *out;            /* output buffer (owned until returned) */
  size_t olen, ocap;
  const char *copied;   /* source before this is already in out */
  frame *stack;
  size_t depth, scap;
  char *names;          /* NUL-separated names of open async functions */
  size_t nlen, ncap;
  char *err;            /* caller's error buffer */
  size_t errsize;
  int errline;
} translator;

/* Records a syntax error at `line`: message `fmt` followed by " near X"
** where X is the token tk (NULL: no "near" part).  Returns -1. */
static int synerr(translator *tr, int line, const token *tk,
                  const char *fmt, ...) {
  char msg[160], near[80];
  va_list ap;
  tr->errline = line > 0 ? line : 1;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  near[0] = '\0';
  if (tk && tk->type == T_EOS) {
    snprintf(near, sizeof near, " near <eof>");
  } else if (tk) {
    size_t n = (size_t)(tk->end - tk->start);
    unsigned char c = (unsigned char)tk->start[0];
    if (n == 1 && (c < 32 || c >= 127))
      snprintf(near, sizeof near, " near '<\\%d>'", c);
    else if (n > 60)
      snprintf(near, sizeof near, " near '%.57s...'", tk->start);
    else
      snprintf(near, sizeof near, " near '%.*s'", (int)n, tk->start);
  }
  if (tr->err && tr->errsize > 0)
    snprintf(tr->err, tr->errsize, "%s%s", msg, near);
  return -1;
}

static int nomem(translator *tr) {
  return synerr(tr, tr->lx.line, NULL, "not enough memory");
}

/* ---------------------------------------------------------------- */
/* Output                                                           */
/* ---------------------------------------------------------------- */

/* Makes room for n more bytes (and a NUL).  0 or -1. */
static int reserve(translator *tr, size_t n) {
  size_t cap;
  char *p;
  if (tr->ocap - tr->olen > n) return 0;
  cap = tr->ocap ? tr->ocap : 256;
  while (cap - tr->olen <= n) {
    if (cap > ((size_t)-1) / 2) return nomem(tr);
    cap *= 2;
  }
  p = realloc(tr->out, cap);
  if (!p) return nomem(tr);
  tr->out = p;
  tr->ocap = cap;
  return 0;
}

static int put(translator *tr, const char *s, size_t n) {
  if (reserve(tr, n) < 0) return -1;
  memcpy(tr->out + tr->olen, s, n);
  tr->olen += n;
  return 0;
}

#define puts_(tr, lit) put(tr, lit, sizeof(lit) - 1)

/* Copies the source up to `upto` (if not yet copied). */
static int flush(translator *tr, const char *upto) {
  if (upto <= tr->copied) return 0;
  if (put(tr, tr->copied, (size_t)(upto - tr->copied)) < 0) return -1;
  tr->copied = upto;
  return 0;
}

/* Writes the line breaks of the dropped source [s, e) as they were, so
** that Lua counts as many lines; "\r\n" and "\n\r" count as one, so a
** space keeps two breaks from merging once what was between them is gone. */
static int put_newlines(translator *tr, const char *s, const char *e) {
  while (s < e) {
    char nl[3];
    size_t n = 0;
    if (!isnl(*s)) { s++; continue; }
    if (tr->olen > 0 && isnl(tr->out[tr->olen - 1]) &&
        tr->out[tr->olen - 1] != *s)
      nl[n++] = ' ';
    nl[n++] = *s++;
    if (s < e && isnl(*s) && *s != s[-1]) nl[n++] = *s++;
    if (put(tr, nl, n) < 0) return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- */
/* Lexer                                                            */
/* ---------------------------------------------------------------- */

/* Skips a line break at lx->p ("\n", "\r", "\n\r" or "\r\n"). */
static void newline(lexer *lx) {
  char old = *lx->p++;
  if (lx->p < lx->end && isnl(*lx->p) && *lx->p != old) lx->p++;
  if (lx->line < INT_MAX) lx->line++;
}

/* At '[': counts the '=' of a long bracket.  Returns level + 2 for a
** valid opening "[==[", 1 for a lone '[', 0 for "[=" not followed by '['
** (as llex.c's skip_sep).  Does not move lx. */
static size_t long_sep(const lexer *lx) {
  const char *p = lx->p + 1;
  size_t count = 0;
  while (p < lx->end && *p == '=') p++, count++;
  if (p < lx->end && *p == '[') return count + 2;
  return count == 0 ? 1 : 0;
}

/* Skips a long string or comment whose opening bracket (of `sep`, as
** returned by long_sep) starts at lx->p.  0, or -1 if unfinished. */
static int long_string(translator *tr, lexer *lx, size_t sep, int comment) {
  int line = lx->line;
  lx->p += sep; /* the opening bracket */
  while (lx->p < lx->end) {
    char c = *lx->p;
    if (c == ']') {
      const char *q = lx->p + 1;
      size_t level = 0;
      while (q < lx->end && *q == '=' && level < sep - 2) q++, level++;
      if (level == sep - 2 && q < lx->end && *q == ']') {
        lx->p = q + 1;
        return 0;
      }
      lx->p++;
    } else if (isnl(c)) {
      newline(lx);
    } else {
      lx->p++;
    }
  }
  {
    token eos = {T_EOS, lx->line, lx->p, lx->p};
    return synerr(tr, lx->line, &eos,
                  "unfinished long %s (starting at line %d)",
                  comment ? "comment" : "string", line);
  }
}

/* Skips a short string whose quote is at lx->p.  0 or -1. */
static int short_string(translator *tr, lexer *lx) {
  const char *start = lx->p;
  char quote = *lx->p++;
  for (;;) {
    char c;
    if (lx->p >= lx->end) {
      token eos = {T_EOS, lx->line, lx->p, lx->p};
      return synerr(tr, lx->line, &eos, "unfinished string");
    }
    c = *lx->p;
    if (c == quote) {
      lx->p++;
      return 0;
    }
    if (isnl(c)) {
      token t = {T_STRING, lx->line, start, lx->p};
      return synerr(tr, lx->line, &t, "unfinished string");
    }
    lx->p++;
    if (c != '\\' || lx->p >= lx->end) continue;
    c = *lx->p; /* the escaped character */
    if (isnl(c)) {
      newline(lx);
    } else if (c == 'z') { /* skips the following white space */
      lx->p++;
      while (lx->p < lx->end && isspace_((unsigned char)*lx->p)) {
        if (isnl(*lx->p)) newline(lx);
        else lx->p++;
      }
    } else {
      lx->p++; /* \x, \u, \ddd: the rest are ordinary characters */
    }
  }
}

/* Skips a numeral starting with the digit at p (llex.c read_numeral:
** a numeral touching a letter takes that letter, for Lua's error). */
static const char *numeral(const char *p, const char *end) {
  char e1 = 'E', e2 = 'e';
  char first = *p++;
  if (first == '0' && p < end && (*p == 'x' || *p == 'X')) {
    p++;
    e1 = 'P', e2 = 'p';
  }
  while (p < end) {
    if (*p == e1 || *p == e2) {
      p++;
      if (p < end && (*p == '+' || *p == '-')) p++;
    } else if (isxdigit_((unsigned char)*p) || *p == '.') {
      p++;
    } else {
      break;
    }
  }
  if (p < end && isalpha_((unsigned char)*p)) p++;
  return p;
}

/* Reads the next token into *t, skipping white space and comments.
** 0, or -1 on a lexical error. */
static int lex(translator *tr, lexer *lx, token *t) {
  const char *end = lx->end;
  for (;;) {
    const char *p = lx->p;
    char c;
    if (p >= end) {
      t->type = T_EOS;
      t->line = lx->line;
      t->start = t->end = end;
      return 0;
    }
    c = *p;
    t->start = p;
    t->line = lx->line;
    switch (c) {
    case '\n': case '\r':
      newline(lx);
      continue;
    case ' ': case '\t': case '\v': case '\f':
      lx->p++;
      continue;
    case '-':
      if (p + 1 < end && p[1] == '-') { /* a comment */
        lx->p = p + 2;
        if (lx->p < end && *lx->p == '[') {
          size_t sep = long_sep(lx);
          if (sep >= 2) {
            if (long_string(tr, lx, sep, 1) < 0) return -1;
            continue;
          }
        }
        while (lx->p < end && !isnl(*lx->p)) lx->p++;
        continue;
      }
      t->type = '-';
      lx->p = p + 1;
      break;
    case '[': {
      size_t sep = long_sep(lx);
      if (sep >= 2) {
        if (long_string(tr, lx, sep, 0) < 0) return -1;
        t->type = T_STRING;
      } else if (sep == 0) {
        token bad = {'[', lx->line, p, p + 1};
        while (bad.end < end && *bad.end == '=') bad.end++;
        return synerr(tr, lx->line, &bad, "invalid long string delimiter");
      } else {
        t->type = '[';
        lx->p = p + 1;
      }
      break;
    }
    case '"': case '\'':
      if (short_string(tr, lx) < 0) return -1;
      t->type = T_STRING;
      break;
    case '=': case '<': case '>': case '/': case '~': case ':': {
      char n = p + 1 < end ? p[1] : '\0';
      t->type = c;
      lx->p = p + 1;
      if (n == '=' && c != '/' && c != ':') {
        t->type = c == '=' ? T_EQ : c == '<' ? T_LE : c == '>' ? T_GE : T_NE;
        lx->p++;
      } else if (n == c && c != '=' && c != '~') {
        t->type = c == '<' ? T_SHL : c == '>' ? T_SHR
                : c == '/' ? T_IDIV : T_DBCOLON;
        lx->p++;
      }
      break;
    }
    case '.':
      if (p + 1 < end && p[1] == '.') {
        if (p + 2 < end && p[2] == '.') {
          t->type = T_DOTS;
          lx->p = p + 3;
        } else {
          t->type = T_CONCAT;
          lx->p = p + 2;
        }
      } else if (p + 1 < end && isdigit_((unsigned char)p[1])) {
        t->type = T_NUMBER;
        lx->p = numeral(p + 1, end);
      } else {
        t->type = '.';
        lx->p = p + 1;
      }
      break;
    default:
      if (isdigit_((unsigned char)c)) {
        t->type = T_NUMBER;
        lx->p = numeral(p, end);
      } else if (isalpha_((unsigned char)c)) {
        const char *q = p + 1;
        while (q < end && (isalpha_((unsigned char)*q) || isdigit_((unsigned char)*q))) q++;
        lx->p = q;
        t->type = (q - p <= 8) ? keyword(p, (size_t)(q - p)) : T_NAME;
      } else {
        t->type = (unsigned char)c; /* any other byte is a token of its own */
        lx->p = p + 1;
      }
      break;
    }
    t->end = lx->p;
    return 0;
  }
}

/* Reads the token after the current one into *t without consuming it;
** *after receives the lexer state past it. */
static int peek(translator *tr, token *t, lexer *after) {
  *after = tr->lx;
  return lex(tr, after, t);
}

/* ---------------------------------------------------------------- */
/* Frames                                                           */
/* ---------------------------------------------------------------- */

static int push(translator *tr, int kind, int line) {
  frame *f;
  if (tr->depth == tr->scap) {
    size_t cap = tr->scap ? tr->scap * 2 : 32;
    frame *s = realloc(tr->stack, cap * sizeof *s);
    if (!s) return nomem(tr);
    tr->stack = s;
    tr->scap = cap;
  }
  f = &tr->stack[tr->depth++];
  f->kind = (unsigned char)kind;
  f->state = 0;
  f->line = line;
  f->name = NO_NAME;
  return 0;
}

static frame *top(translator *tr) {
  return tr->depth ? &tr->stack[tr->depth - 1] : NULL;
}

/* The text that opens a frame of `kind`, and the one that closes it. */
static const char *opener(int kind) {
  switch (kind) {
  case F_PAREN: return "(";
  case F_BRACKET: return "[";
  case F_BRACE: return "{";
  case F_IF: return "if";
  case F_DO: return "do";
  case F_WHILE: return "while";
  case F_FOR: return "for";
  case F_REPEAT: return "repeat";
  default: return "function";
  }
}

static const char *closer(int kind) {
  switch (kind) {
  case F_PAREN: return "')'";
  case F_BRACKET: return "']'";
  case F_BRACE: return "'}'";
  case F_REPEAT: return "'until'";
  default: return "'end'";
  }
}

/* Error for a frame f left open at token t (as lparser.c check_match). */
static int unclosed(translator *tr, const frame *f) {
  const token *t = &tr->tok;
  if ((f->kind == F_WHILE || f->kind == F_FOR) && !f->state)
    return synerr(tr, t->line, t, "'do' expected");
  if (f->line == t->line)
    return synerr(tr, t->line, t, "%s expected", closer(f->kind));
  return synerr(tr, t->line, t, "%s expected (to close '%s' at line %d)",
                closer(f->kind), opener(f->kind), f->line);
}

/* ---------------------------------------------------------------- */
/* Rewrites                                                         */
/* ---------------------------------------------------------------- */

/* Drops the blanks between a replaced keyword (copied up to `from`) and
** the token at `to`, so that "await  x" reads "asyncio.await(x)"; keeps
** anything else (comments, line breaks). */
static void skip_blanks(translator *tr, const char *from, const char *to) {
  const char *p = from;
  if (tr->copied != from) return;
  while (p < to && (*p == ' ' || *p == '\t')) p++;
  if (p == to) tr->copied = to;
}

/* The current token is a unary `await`: opens its operand. */
static int open_await(translator *tr) {
  if (flush(tr, tr->tok.start) < 0 || puts_(tr, "asyncio.await(") < 0)
    return -1;
  tr->copied = tr->tok.end;
  if (push(tr, F_AWAIT, tr->tok.line) < 0) return -1;
  top(tr)->state = A_EXPECT;
  return 0;
}

/* The operand of the top await frame ended with the previous token. */
static int close_await(translator *tr) {
  if (flush(tr, tr->prev.end) < 0 || puts_(tr, ")") < 0) return -1;
  tr->depth--;
  return 0;
}

/* Appends [s, s+n) to the name of the async function being opened. */
static int name_add(translator *tr, const char *s, size_t n) {
  if (tr->ncap - tr->nlen <= n) {
    size_t cap = tr->ncap ? tr->ncap : 64;
    char *p;
    while (cap - tr->nlen <= n) cap *= 2;
    p = realloc(tr->names, cap);
    if (!p) return nomem(tr);
    tr->names = p;
    tr->ncap = cap;
  }
  memcpy(tr->names + tr->nlen, s, n);
  tr->nlen += n;
  tr->names[tr->nlen] = '\0';
  return 0;
}

/* Consumes `(` (already peeked into *lp, lexer state *after) of a named
** async function whose source from `first` to `(` is being replaced: writes
** "TARGET = asyncio.async(function", keeps the line breaks, and opens the
** async function and its parameter list.  `name` is the name's offset in
** tr->names; a method gets its `self` parameter. */
static int open_named(translator *tr, const token *first, const token *lp,
                      const lexer *after, size_t name, int method,
                      int local) {
  const char *from = first->start;
  const char *nm = tr->names + name;
  size_t i, n = strlen(nm);
  token nx;
  lexer tmp;
  if (flush(tr, from) < 0) return -1;
  if (local && (puts_(tr, "local ") < 0 || put(tr, nm, n) < 0 ||
                puts_(tr, "; ") < 0))
    return -1;
  for (i = 0; i < n; i++)
    if (put(tr, nm[i] == ':' ? "." : nm + i, 1) < 0) return -1;
  if (puts_(tr, " = asyncio.async(function") < 0 ||
      put_newlines(tr, from, lp->start) < 0)
    return -1;
  tr->copied = lp->start;
  tr->lx = *after;
  tr->prev = tr->tok;
  tr->tok = *lp;
  if (flush(tr, lp->end) < 0) return -1;
  if (method) {
    if (peek(tr, &nx, &tmp) < 0) return -1;
    if ((nx.type == ')' ? puts_(tr, "self") : puts_(tr, "self, ")) < 0)
      return -1;
  }
  if (push(tr, F_ASYNCFN, first->line) < 0) return -1;
  top(tr)->name = name;
  return push(tr, F_PAREN, lp->line);
}

/* The current token is `async` (not a name): rewrites an async function
** statement `async function a.b:c(...)` or expression `async function(`. */
static int async_function(translator *tr) {
  token a = tr->tok, t;
  lexer after;
  size_t name;
  int method = 0;
  if (peek(tr, &t, &after) < 0) return -1;
  if (t.type != T_FUNCTION)
    return synerr(tr, t.line, &t, "'function' expected after 'async'");
  tr->lx = after;
  tr->prev = tr->tok;
  tr->tok = t; /* `function` */
  if (peek(tr, &t, &after) < 0) return -1;
  if (t.type == '(') { /* an expression: asyncio.async(function(...) end) */
    if (flush(tr, a.start) < 0 || puts_(tr, "asyncio.async(") < 0) return -1;
    tr->copied = a.end;
    skip_blanks(tr, a.end, tr->tok.start);
    if (push(tr, F_ASYNCFN, a.line) < 0) return -1;
    return 0; /* the `(` comes next as an ordinary token */
  }
  name = tr->nlen + 1; /* the arena's names are NUL-separated */
  if (name_add(tr, "", 0) < 0) return -1;
  tr->nlen++;
  for (;;) { /* t: the token that should be the next name */
    if (t.type != T_NAME && !(tr->nlen > name &&
                              (t.type == T_ASYNC || t.type == T_AWAIT)))
      return synerr(tr, t.line, &t, "<name> expected");
    if (name_add(tr, t.start, (size_t)(t.end - t.start)) < 0) return -1;
    tr->lx = after;
    tr->prev = tr->tok;
    tr->tok = t;
    if (peek(tr, &t, &after) < 0) return -1;
    if (method || (t.type != '.' && t.type != ':')) break;
    method = t.type == ':';
    if (name_add(tr, t.start, 1) < 0) return -1;
    tr->lx = after;
    tr->prev = tr->tok;
    tr->tok = t;
    if (peek(tr, &t, &after) < 0) return -1;
  }
  if (t.type != '(') return synerr(tr, t.line, &t, "'(' expected");
  return open_named(tr, &a, &t, &after, name, method, 0);
}

/* The current token is `local`: rewrites `local async function f(` into
** "local f; f = asyncio.async(function(" (f visible in its own body). */
static int local_async(translator *tr) {
  token l = tr->tok, t;
  lexer after;
  size_t name;
  if (peek(tr, &t, &after) < 0) return -1;
  if (t.type == T_AWAIT) return synerr(tr, t.line, &t, "<name> expected");
  if (t.type != T_ASYNC) return 0;
  tr->lx = after;
  tr->prev = tr->tok;
  tr->tok = t;
  if (peek(tr, &t, &after) < 0) return -1;
  if (t.type != T_FUNCTION)
    return synerr(tr, t.line, &t, "'function' expected after 'async'");
  tr->lx = after;
  tr->prev = tr->tok;
  tr->tok = t;
  if (peek(tr, &t, &after) < 0) return -1;
  if (t.type != T_NAME) return synerr(tr, t.line, &t, "<name> expected");
  name = tr->nlen + 1;
  if (name_add(tr, "", 0) < 0) return -1;
  tr->nlen++;
  if (name_add(tr, t.start, (size_t)(t.end - t.start)) < 0) return -1;
  tr->lx = after;
  tr->prev = tr->tok;
  tr->tok = t;
  if (peek(tr, &t, &after) < 0) return -1;
  if (t.type != '(') return synerr(tr, t.line, &t, "'(' expected");
  return open_named(tr, &l, &t, &after, name, 0, 1);
}

/* The current token `end` closes the async function f: writes its ')'. */
static int close_async(translator *tr, const frame *f) {
  if (flush(tr, tr->tok.end) < 0) return -1;
  if (f->name == NO_NAME) return puts_(tr, ")");
  if (puts_(tr, ", \"") < 0 ||
      put(tr, tr->names + f->name, strlen(tr->names + f->name)) < 0 ||
      puts_(tr, "\")") < 0)
    return -1;
  tr->nlen = f->name - 1;
  return 0;
}

/* ---------------------------------------------------------------- */
/* The token machine                                                */
/* ---------------------------------------------------------------- */

enum { DONE = 0, CLOSE = 1 };

/* Is the current `async`/`await` token an ordinary name here?  After '.',
** ':', `goto` and '::', and as a table key (`{await = 1}`). */
static int is_name(translator *tr) {
  int p = tr->prev.type;
  frame *f = top(tr);
  token t;
  lexer after;
  if (p == '.' || p == ':' || p == T_GOTO || p == T_DBCOLON) return 1;
  if ((p == '{' || p == ',' || p == ';') && f && f->kind == F_BRACE)
    return peek(tr, &t, &after) == 0 && t.type == '=';
  return 0;
}

/* Handles the current token inside the operand of the top await frame.
** Returns DONE, CLOSE (the operand ended before this token) or -1. */
static int operand(translator *tr) {
  frame *f = top(tr);
  const token *t = &tr->tok;
  switch (f->state) {
  case A_EXPECT:
    if (tr->prev.type == T_AWAIT) skip_blanks(tr, tr->prev.end, t->start);
    switch (t->type) {
    case T_NOT: case '-': case '#': case '~':
      return DONE;
    case T_AWAIT:
      f->state = A_INNER;
      return open_await(tr);
    case T_NAME:
      f->state = A_PRIMARY;
      return DONE;
    case '(':
      f->state = A_PRIMARY;
      return push(tr, F_PAREN, t->line);
    case T_STRING: case T_NUMBER: case T_NIL: case T_TRUE: case T_FALSE:
    case T_DOTS:
      f->state = A_SIMPLE;
      return DONE;
    case '{':
      f->state = A_SIMPLE;
      return push(tr, F_BRACE, t->line);
    case T_FUNCTION:
      f->state = A_SIMPLE;
      return push(tr, F_FUNCTION, t->line);
    case T_ASYNC:
      f->state = A_SIMPLE;
      return async_function(tr);
    default:
      return synerr(tr, t->line, t, "'await' needs an expression");
    }
  case A_PRIMARY:
    switch (t->type) {
    case '.': case ':': f->state = A_DOT; return DONE;
    case '[': return push(tr, F_BRACKET, t->line);
    case '(': return push(tr, F_PAREN, t->line);
    case '{': return push(tr, F_BRACE, t->line);
    case T_STRING: return DONE;
    case '^': f->state = A_EXPECT; return DONE;
    default: return CLOSE;
    }
  case A_DOT:
    if (t->type != T_NAME) return synerr(tr, t->line, t, "<name> expected");
    f->state = A_PRIMARY;
    return DONE;
  case A_SIMPLE:
    if (t->type != '^') return CLOSE;
    f->state = A_EXPECT;
    return DONE;
  default: /* A_INNER */
    return CLOSE;
  }
}

/* Closes the top frame with the current closing bracket `c`. */
static int close_bracket(translator *tr, int kind) {
  frame *f = top(tr);
  if (f && f->kind == kind) {
    tr->depth--;
    return 0;
  }
  if (f && f->kind <= F_BRACE) return unclosed(tr, f);
  return synerr(tr, tr->tok.line, &tr->tok, "unexpected symbol");
}

/* Closes the top block with the current `end`. */
static int close_block(translator *tr) {
  frame *f = top(tr);
  if (!f) return synerr(tr, tr->tok.line, &tr->tok, "<eof> expected");
  switch (f->kind) {
  case F_WHILE: case F_FOR:
    if (!f->state) return unclosed(tr, f);
    /* fall through */
  case F_FUNCTION: case F_IF: case F_DO:
    tr->depth--;
    return 0;
  case F_ASYNCFN:
    tr->depth--;
    return close_async(tr, f);
  default:
    return unclosed(tr, f);
  }
}

/* Handles the current token outside any await operand. */
static int statement(translator *tr) {
  const token *t = &tr->tok;
  frame *f = top(tr);
  switch (t->type) {
  case '(': return push(tr, F_PAREN, t->line);
  case '[': return push(tr, F_BRACKET, t->line);
  case '{': return push(tr, F_BRACE, t->line);
  case ')': return close_bracket(tr, F_PAREN);
  case ']': return close_bracket(tr, F_BRACKET);
  case '}': return close_bracket(tr, F_BRACE);
  case T_FUNCTION: return push(tr, F_FUNCTION, t->line);
  case T_IF: return push(tr, F_IF, t->line);
  case T_WHILE: return push(tr, F_WHILE, t->line);
  case T_FOR: return push(tr, F_FOR, t->line);
  case T_REPEAT: return push(tr, F_REPEAT, t->line);
  case T_DO:
    if (f && (f->kind == F_WHILE || f->kind == F_FOR) && !f->state) {
      f->state = 1;
      return 0;
    }
    return push(tr, F_DO, t->line);
  case T_END: return close_block(tr);
  case T_UNTIL:
    if (f && f->kind == F_REPEAT) {
      tr->depth--;
      return 0;
    }
    if (!f) return synerr(tr, t->line, t, "<eof> expected");
    return unclosed(tr, f);
  case T_AWAIT: return open_await(tr);
  case T_ASYNC: return async_function(tr);
  case T_LOCAL: return local_async(tr);
  case T_EOS: return f ? unclosed(tr, f) : 0;
  default: return 0;
  }
}

/* Handles the current token: first it ends every await operand that it
** cannot continue, then the frame below handles it. */
static int step(translator *tr) {
  token *t = &tr->tok;
  if (t->type == T_ASYNC || t->type == T_AWAIT) {
    int p = tr->prev.type;
    if (is_name(tr)) {
      t->type = T_NAME;
    } else if (p == T_FUNCTION || p == T_FOR || p == T_LOCAL) {
      return synerr(tr, t->line, t, "<name> expected");
    }
  }
  for (;;) {
    frame *f = top(tr);
    int r;
    if (!f || f->kind != F_AWAIT) return statement(tr);
    r = operand(tr);
    if (r != CLOSE) return r;
    if (close_await(tr) < 0) return -1;
  }
}

/* Translates the whole input.  0 or -1. */
static int run(translator *tr) {
  for (;;) {
    if (lex(tr, &tr->lx, &tr->tok) < 0 || step(tr) < 0) return -1;
    if (tr->tok.type == T_EOS) return flush(tr, tr->lx.end);
    tr->prev = tr->tok;
  }
}

/* Where Lua starts lexing: after a UTF-8 BOM and a first line that starts
** with '#' (as luaL_loadfilex; the line break itself stays). */
static const char *skip_prefix(const char *src, size_t len) {
  const char *p = src, *end = src + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  if (p < end && *p == '#')
    while (p < end && *p != '\n') p++;
  return p;
}

/* Can src contain an `async` or `await` token at all? */
static int has_keywords(const char *src, size_t len) {
  return memmem(src, len, "await", 5) != NULL ||
         memmem(src, len, "async", 5) != NULL;
}

AIOLUA_API int aiolua_translate(const char *src, size_t len, char **out,
                                size_t *outlen, char *err, size_t errsize) {
  translator tr;
  *out = NULL;
  *outlen = 0;
  if (err && errsize) err[0] = '\0';
  if (!has_keywords(src, len)) { /* the common case: a plain copy */
    char *copy = malloc(len + 1);
    if (!copy) {
      if (err && errsize) snprintf(err, errsize, "not enough memory");
      return 1;
    }
    memcpy(copy, src, len);
    copy[len] = '\0';
    *out = copy;
    *outlen = len;
    return 0;
  }
  memset(&tr, 0, sizeof tr);
  tr.lx.p = skip_prefix(src, len);
  tr.lx.end = src + len;
  tr.lx.line = 1;
  tr.prev.type = T_NONE;
  tr.copied = src;
  tr.err = err;
  tr.errsize = errsize;
  if (reserve(&tr, len + len / 16 + 64) < 0 || run(&tr) < 0) {
    free(tr.out);
    free(tr.stack);
    free(tr.names);
    return tr.errline;
  }
  free(tr.stack);
  free(tr.names);
  tr.out[tr.olen] = '\0';
  *out = tr.out;
  *outlen = tr.olen;
  return 0;
}
