/*
** test-translate.c -- golden tests of the async/await dialect translator.
** Every tests/translate/NAME.lua is translated and compared with NAME.expect
** (plain-* cases: with the input itself) or, for error cases, with
** NAME.error ("LINE: message").  Each output must keep the line count, end
** in a NUL, load in stock Lua 5.4 and translate to itself again.
** Usage: test-translate [casedir]   (default ../translate, cwd tests/c)
*/
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "aiolua.h"

static int failures, checks;

#define CHECK(cond, ...)                                  \
  do {                                                    \
    checks++;                                             \
    if (!(cond)) {                                        \
      failures++;                                         \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                       \
      fputc('\n', stderr);                                \
    }                                                     \
  } while (0)

#define ASSERT_EQ_INT(what, got, want)                                  \
  CHECK((got) == (want), "%s: expected %ld, got %ld", what, (long)(want), \
        (long)(got))

/* Reads a whole file; NULL if it does not exist.  Caller frees. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;
  if (!f) return NULL;
  for (;;) {
    if (cap - n < 4096) {
      cap = cap ? cap * 2 : 8192;
      buf = realloc(buf, cap);
      if (!buf) abort();
    }
    size_t r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0) break;
  }
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Lines as Lua counts them: "\n", "\r", "\r\n" and "\n\r" each end one. */
static long lua_lines(const char *s, size_t len) {
  long lines = 1;
  size_t i = 0;
  while (i < len) {
    char c = s[i++];
    if (c != '\n' && c != '\r') continue;
    if (i < len && (s[i] == '\n' || s[i] == '\r') && s[i] != c) i++;
    lines++;
  }
  return lines;
}

/* Loads buf in a fresh stock Lua state, skipping a BOM and a '#' first
** line as luaL_loadfilex does.  Returns NULL, or the error (static). */
static const char *lua_loads(const char *buf, size_t len, const char *name) {
  static char msg[512];
  const char *p = buf, *end = buf + len;
  lua_State *L = luaL_newstate();
  int status;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  if (p < end && *p == '#')
    while (p < end && *p != '\n') p++;
  status = luaL_loadbuffer(L, p, (size_t)(end - p), name);
  if (status != LUA_OK) {
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
    lua_close(L);
    return msg;
  }
  lua_close(L);
  return NULL;
}

/* The line of the first `error("line N")` in s must be N: the markers the
** cases carry to show that code stays on its line. */
static void check_markers(const char *name, const char *s, size_t len) {
  const char *p = s;
  while ((p = strstr(p, "error(\"line ")) != NULL) {
    long want = strtol(p + 12, NULL, 10);
    ASSERT_EQ_INT(name, lua_lines(s, (size_t)(p - s)), want);
    p++;
  }
  (void)len;
}

/* Translates and checks the invariants every successful output has. */
static char *translate_ok(const char *name, const char *src, size_t len,
                          size_t *outlen) {
  char *out = NULL, err[256];
  int line = aiolua_translate(src, len, &out, outlen, err, sizeof err);
  CHECK(line == 0, "%s: unexpected error %d: %s", name, line, err);
  if (line != 0) return NULL;
  CHECK(out != NULL && out[*outlen] == '\0', "%s: output not NUL-terminated",
        name);
  ASSERT_EQ_INT(name, lua_lines(out, *outlen), lua_lines(src, len));
  return out;
}

/* One golden case: dir/base.lua with base.expect or base.error beside. */
static void run_case(const char *dir, const char *base) {
  char path[1024], chunk[1100];
  size_t len, explen = 0, outlen = 0, again_len = 0;
  char *src, *expect, *out, *again;
  const char *lerr;
  snprintf(path, sizeof path, "%s/%s.lua", dir, base);
  snprintf(chunk, sizeof chunk, "@%s", path);
  src = slurp(path, &len);
  CHECK(src != NULL, "%s: cannot read", path);
  if (!src) return;

  snprintf(path, sizeof path, "%s/%s.error", dir, base);
  expect = slurp(path, &explen);
  if (expect) { /* an error case: "LINE: message\n" */
    char err[256], got[300];
    out = (char *)"unset";
    int line = aiolua_translate(src, len, &out, &outlen, err, sizeof err);
    snprintf(got, sizeof got, "%d: %s\n", line, err);
    CHECK(line > 0, "%s: expected an error", base);
    CHECK(out == NULL, "%s: *out not NULL on error", base);
    CHECK(strcmp(got, expect) == 0, "%s: expected error\n  %s  got\n  %s",
          base, expect, got);
    free(expect);
    free(src);
    return;
  }

  snprintf(path, sizeof path, "%s/%s.expect", dir, base);
  expect = slurp(path, &explen);
  if (!expect) { /* a plain case: the output is the input */
    CHECK(strncmp(base, "plain-", 6) == 0, "%s: no .expect nor .error", base);
    expect = malloc(len + 1);
    memcpy(expect, src, len + 1);
    explen = len;
  }
  out = translate_ok(base, src, len, &outlen);
  if (out) {
    CHECK(outlen == explen && memcmp(out, expect, explen) == 0,
          "%s: output differs from the expected\n--- got:\n%s\n--- want:\n%s",
          base, out, expect);
    lerr = lua_loads(out, outlen, chunk);
    CHECK(lerr == NULL, "%s: output does not load in Lua: %s", base, lerr);
    check_markers(base, out, outlen);
    again = translate_ok(base, out, outlen, &again_len);
    CHECK(again && again_len == outlen && memcmp(again, out, outlen) == 0,
          "%s: translating the output again changes it", base);
    free(again);
  }
  free(out);
  free(expect);
  free(src);
}

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every case in dir, in name order.  Returns how many. */
static int run_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0, i;
  if (!d) {
    fprintf(stderr, "cannot open %s\n", dir);
    exit(2);
  }
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".lua") != 0) continue;
    if (n == cap) names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
    names[n] = malloc(l - 3);
    memcpy(names[n], e->d_name, l - 4);
    names[n++][l - 4] = '\0';
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmpstr);
  for (i = 0; i < n; i++) {
    int before = failures;
    run_case(dir, names[i]);
    printf("%s %s\n", failures == before ? "ok" : "not ok", names[i]);
    free(names[i]);
  }
  free(names);
  return (int)n;
}

/* Edge cases of the C API itself. */
static void test_api(void) {
  char *out, err[8];
  size_t outlen;
  int line;

  line = aiolua_translate("", 0, &out, &outlen, err, sizeof err);
  ASSERT_EQ_INT("empty input", line, 0);
  CHECK(out && outlen == 0 && out[0] == '\0', "empty input gives \"\"");
  free(out);

  /* A tiny error buffer truncates; a NULL one is allowed. */
  line = aiolua_translate("await", 5, &out, &outlen, err, sizeof err);
  ASSERT_EQ_INT("await alone", line, 1);
  CHECK(strlen(err) == sizeof err - 1, "message truncated to errsize");
  line = aiolua_translate("\n\nawait", 7, &out, &outlen, NULL, 0);
  ASSERT_EQ_INT("await alone, no err buffer", line, 3);

  /* Embedded NULs, in strings and as stray bytes, are copied. */
  {
    static const char src[] = "x = await f('\0') -- \0\n";
    static const char want[] = "x = asyncio.await(f('\0')) -- \0\n";
    line = aiolua_translate(src, sizeof src - 1, &out, &outlen, NULL, 0);
    ASSERT_EQ_INT("NUL bytes", line, 0);
    CHECK(outlen == sizeof want - 1 && memcmp(out, want, outlen) == 0,
          "NUL bytes copied");
    free(out);
  }
}

/* Random token soup (balanced brackets and blocks, keywords only inside
** strings and comments or as field names) must come out unchanged. */
static void test_identity(void) {
  static const char *const piece[] = {
    "x", " ", "\n", "\r\n", "\"await\"", "'async'", "--await\n",
    "--[[async\n]]", "--[==[ ]] await ]==]", "[[await]]", "[=[\n]]]=]",
    "1e5", "0x1p-3", ".5", "(a)", "{await_, async_}", "t.x", "m:f()",
    "function() end", "do end", "if a then else end", "repeat until b",
    "while c do end", "for i = 1, 2 do end", "..", "...", "::l::", "goto l",
    "local v <const> = 1", "\"\\z\n  \\x41\\u{41}\\\n\"", "awaiting",
    "asyncio.await", "a.async", "~=", "//", "<<", "#", "- ", "=", ",", ";",
  };
  unsigned seed = 12345;
  char *buf = malloc(1 << 16);
  buf[0] = ' ';
  int round;
  for (round = 0; round < 2000; round++) {
    size_t len = 1; /* a leading '#' would make the first line a comment */
    int k, n = (int)(seed % 60) + 1;
    char *out;
    size_t outlen;
    for (k = 0; k < n; k++) {
      const char *p;
      seed = seed * 1103515245u + 12345u;
      p = piece[(seed >> 8) % (sizeof piece / sizeof *piece)];
      memcpy(buf + len, p, strlen(p));
      len += strlen(p);
      buf[len++] = " \n\t "[(seed >> 20) % 4]; /* keeps tokens apart */
    }
    int line = aiolua_translate(buf, len, &out, &outlen, NULL, 0);
    CHECK(line == 0 && outlen == len && memcmp(out, buf, len) == 0,
          "identity round %d: %.*s", round, (int)len, buf);
    free(out);
    if (failures > 20) break;
  }
  free(buf);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "../translate";
  int cases;
  test_api();
  test_identity();
  cases = run_dir(dir);
  printf("%d cases, %d checks, %d failures\n", cases, checks, failures);
  return failures ? 1 : 0;
}
