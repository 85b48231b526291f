/*
** test-multi.c -- the curl multi <-> libuv adapter (bindings/http_multi.c)
** without Lua, against the test server: transfers complete, events arrive
** after curl returns (never inside its callbacks), removal while running,
** pause and resume, close from inside a callback, a socket libuv refuses
** fails only its transfer, and every handle is closed in the end.
** Needs AIOLUA_HTTP_STATE (the ctest fixture); exits 77 (skip) without it.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_multi.h"

#define CHECK(c) \
  do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                           __LINE__, #c); exit(1); } } while (0)

typedef struct job {
  http_xfer_t x;
  int done, events, pause_once;
  CURLcode rc;
  size_t got;
} job_t;

static uv_loop_t loop;
static char base[64];
static int in_curl;           /* inside a curl callback of ours */
static int ndone, closed, close_in_done;
static http_multi_t *close_target;

static size_t write_cb(char *p, size_t size, size_t n, void *ud) {
  job_t *j = ud;
  (void)p;
  in_curl = 1;
  if (j->pause_once == 1) {
    j->pause_once = 2;
    in_curl = 0;
    return CURL_WRITEFUNC_PAUSE;
  }
  j->got += size * n;
  http_multi_signal(&j->x);
  in_curl = 0;
  return size * n;
}

static void closed_cb(void *data) {
  (void)data;
  closed++;
}

static void on_event(http_xfer_t *x, void *data) {
  (void)data;
  CHECK(!in_curl);
  ((job_t *)x)->events++;
}

static void on_done(http_xfer_t *x, CURLcode rc, void *data) {
  job_t *j = (job_t *)x;
  (void)data;
  CHECK(!in_curl);
  CHECK(x->multi == NULL);     /* removed before we hear of it */
  j->done = 1;
  j->rc = rc;
  ndone++;
  if (close_in_done) http_multi_close(close_target, closed_cb, NULL);
}

static void job_init(job_t *j, const char *path) {
  char url[256];
  memset(j, 0, sizeof *j);
  snprintf(url, sizeof url, "%s%s", base, path);
  j->x.easy = curl_easy_init();
  curl_easy_setopt(j->x.easy, CURLOPT_URL, url);
  curl_easy_setopt(j->x.easy, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(j->x.easy, CURLOPT_WRITEDATA, (void *)j);
  curl_easy_setopt(j->x.easy, CURLOPT_NOSIGNAL, 1L);
}

static void job_free(job_t *j) {
  http_multi_remove(&j->x);
  curl_easy_cleanup(j->x.easy);
}

static void tick_cb(uv_timer_t *t) { (void)t; }

/* Runs the loop for about `ms` milliseconds. */
static void run_for(uint64_t ms) {
  uv_timer_t t;
  uint64_t end = uv_now(&loop) + ms;
  uv_timer_init(&loop, &t);
  while (uv_now(&loop) < end) {
    uv_timer_start(&t, tick_cb, end - uv_now(&loop), 0);
    uv_run(&loop, UV_RUN_ONCE);
  }
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

/* Runs the loop until *flag reaches `want` (alarm() bounds the wait). */
static void run_until(int *flag, int want) {
  while (*flag < want) run_for(10);
}

static http_multi_t *new_multi(void) {
  http_multi_t *m = http_multi_new(&loop, on_event, on_done, NULL);
  CHECK(m != NULL);
  return m;
}

/* Checks that m still serves a fresh transfer. */
static void check_usable(http_multi_t *m) {
  job_t next;
  job_init(&next, "/get");
  CHECK(http_multi_add(m, &next.x) == CURLM_OK);
  run_until(&next.done, 1);
  CHECK(next.rc == CURLE_OK);
  job_free(&next);
}

static void close_multi(http_multi_t *m) {
  int before = closed;
  http_multi_close(m, closed_cb, NULL);
  run_until(&closed, before + 1);
}

static void test_transfers(void) {
  http_multi_t *m = new_multi();
  job_t jobs[10];
  int nx, ns, i;
  ndone = 0;
  for (i = 0; i < 10; i++) {
    job_init(&jobs[i], "/bytes/100000");
    CHECK(http_multi_add(m, &jobs[i].x) == CURLM_OK);
  }
  run_until(&ndone, 10);
  for (i = 0; i < 10; i++) {
    CHECK(jobs[i].rc == CURLE_OK);
    CHECK(jobs[i].got == 100000);
    CHECK(jobs[i].events >= 1);
    job_free(&jobs[i]);
  }
  http_multi_stats(m, &nx, &ns);
  CHECK(nx == 0);
  close_multi(m);
}

static void test_remove_running(void) {
  http_multi_t *m = new_multi();
  job_t slow;
  int nx;
  ndone = 0;
  job_init(&slow, "/delay/2");
  CHECK(http_multi_add(m, &slow.x) == CURLM_OK);
  run_for(100);
  http_multi_remove(&slow.x);
  http_multi_remove(&slow.x);              /* idempotent */
  CHECK(slow.x.multi == NULL);
  http_multi_stats(m, &nx, NULL);
  CHECK(nx == 0);
  run_for(50);
  CHECK(ndone == 0 && !slow.done);         /* no completion after removal */
  check_usable(m);
  job_free(&slow);
  close_multi(m);
}

static void test_pause_resume(void) {
  http_multi_t *m = new_multi();
  job_t j;
  job_init(&j, "/bytes/300000");
  j.pause_once = 1;
  CHECK(http_multi_add(m, &j.x) == CURLM_OK);
  run_until(&j.pause_once, 2);
  run_for(100);
  CHECK(!j.done && j.got == 0);            /* paused: nothing more came */
  CHECK(http_multi_resume(&j.x) == CURLE_OK);
  run_until(&j.done, 1);
  CHECK(j.rc == CURLE_OK);
  CHECK(j.got == 300000);
  job_free(&j);
  close_multi(m);
}

static void test_close_in_callback(void) {
  http_multi_t *m = new_multi();
  job_t j;
  int before = closed;
  job_init(&j, "/get");
  CHECK(http_multi_add(m, &j.x) == CURLM_OK);
  close_target = m;
  close_in_done = 1;
  run_until(&closed, before + 1);          /* m is freed by now */
  close_in_done = 0;
  CHECK(j.done && j.rc == CURLE_OK);
  job_free(&j);
}

static void foreign_cb(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  (void)p;                                 /* a lone socket reports HUP */
}

/* A descriptor libuv still watches for someone else (closed without
** stopping its poll handle) is refused by uv_poll_init (UV_EEXIST).  The
** transfer whose socket reuses it must end, and the multi stay usable. */
static void test_refused_socket(void) {
  http_multi_t *m = new_multi();
  uv_poll_t foreign;
  job_t j;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  CHECK(uv_poll_init(&loop, &foreign, fd) == 0);
  CHECK(uv_poll_start(&foreign, UV_READABLE, foreign_cb) == 0);
  run_for(10);                             /* now in epoll (1.44 aborts if
                                              the fd dies before that) */
  close(fd);                               /* curl's socket gets this number */
  job_init(&j, "/get");
  CHECK(http_multi_add(m, &j.x) == CURLM_OK);
  run_until(&j.done, 1);                   /* ends (alarm() if it hung) */
  fprintf(stderr, "# refused socket: %s\n", curl_easy_strerror(j.rc));
  uv_close((uv_handle_t *)&foreign, NULL);
  check_usable(m);
  job_free(&j);
  close_multi(m);
}

static void read_state(void) {
  const char *path = getenv("AIOLUA_HTTP_STATE");
  char line[256];
  FILE *f = path ? fopen(path, "r") : NULL;
  if (f == NULL) {
    fprintf(stderr, "no test server (AIOLUA_HTTP_STATE): skipped\n");
    exit(77);
  }
  while (fgets(line, sizeof line, f)) {
    int port;
    if (sscanf(line, "http=%d", &port) == 1)
      snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
  }
  fclose(f);
  CHECK(base[0] != '\0');
}

int main(void) {
  read_state();
  alarm(60);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CHECK(uv_loop_init(&loop) == 0);
  test_transfers();
  test_remove_running();
  test_pause_resume();
  test_close_in_callback();
  test_refused_socket();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);        /* every handle was closed */
  curl_global_cleanup();
  printf("ok\n");
  return 0;
}
