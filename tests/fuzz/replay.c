/*
** replay.c -- runs a libFuzzer target (fuzz-translate.c) over files and
** directories without libFuzzer, so any compiler (and ctest) can check the
** seed corpus and replay a crash:  fuzz-translate-replay FILE|DIR...
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds one file to the target.  0, or -1 if it cannot be read. */
static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0, n;
  if (!f) return -1;
  do {
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 65536;
      buf = realloc(buf, cap);
      if (!buf) abort();
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
  } while (n > 0);
  fclose(f);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

/* Runs a file, or every regular file of a directory.  Returns the count. */
static int run_path(const char *path) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  int count = 0;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: cannot stat %s\n", path);
    exit(2);
  }
  if (!S_ISDIR(st.st_mode)) return run_file(path) == 0;
  d = opendir(path);
  while (d && (e = readdir(d)) != NULL) {
    char sub[4096];
    if (e->d_name[0] == '.') continue;
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) count += run_file(sub) == 0;
  }
  if (d) closedir(d);
  return count;
}

int main(int argc, char **argv) {
  int i, count = 0;
  for (i = 1; i < argc; i++) count += run_path(argv[i]);
  printf("replayed %d inputs\n", count);
  return 0;
}
