/*
** fuzz-translate.c -- libFuzzer target over aiolua_translate.
** On any input: no crash or sanitizer report; an error has a line > 0, a
** message and no output; an output ends in a NUL, keeps Lua's line count,
** translates to itself again, and equals the input when the input holds
** neither "async" nor "await".  tests/fuzz/replay.c runs it without libFuzzer.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aiolua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond, what)                                   \
  do {                                                        \
    if (!(cond)) {                                            \
      fprintf(stderr, "fuzz-translate: %s\n", what);          \
      abort();                                                \
    }                                                         \
  } while (0)

/* Lines as Lua counts them ("\r\n" and "\n\r" are one break). */
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

static int contains(const char *s, size_t len, const char *word) {
  size_t n = strlen(word), i;
  for (i = 0; i + n <= len; i++)
    if (s[i] == word[0] && memcmp(s + i, word, n) == 0) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *src = (const char *)data;
  char *out = (char *)"unset", *again = NULL, err[128];
  size_t outlen = 0, again_len = 0;
  int line = aiolua_translate(src, size, &out, &outlen, err, sizeof err);
  if (line != 0) {
    REQUIRE(line > 0, "negative line");
    REQUIRE(out == NULL, "output on error");
    REQUIRE(err[0] != '\0' && memchr(err, '\0', sizeof err), "bad message");
    return 0;
  }
  REQUIRE(out != NULL && out[outlen] == '\0', "output not NUL-terminated");
  REQUIRE(lua_lines(out, outlen) == lua_lines(src, size), "line count changed");
  if (!contains(src, size, "async") && !contains(src, size, "await"))
    REQUIRE(outlen == size && memcmp(out, src, size) == 0,
            "input without keywords changed");
  line = aiolua_translate(out, outlen, &again, &again_len, err, sizeof err);
  REQUIRE(line == 0, "the output does not translate");
  REQUIRE(again_len == outlen && memcmp(again, out, outlen) == 0,
          "translating the output changes it");
  free(again);
  free(out);
  return 0;
}
