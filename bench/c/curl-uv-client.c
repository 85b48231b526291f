/*
** curl-uv-client.c -- the architecture limit for W5: N GETs of one URL with
** K in flight, on libcurl's multi-socket API driven by libuv (uv_poll_t per
** socket, one uv_timer_t), in plain C with no Lua.  Easy handles are reused,
** so connections stay alive in the multi handle's pool.
** Each body is collected into its handle's buffer, as a client that hands
** bodies to its caller must (the buffer is reused, its contents copied).
** Usage: curl-uv-client URL N K.  Prints one RESULT line.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <uv.h>

typedef struct cu_xfer {
  CURL *easy;
  char *buf;
  size_t len, cap;
} cu_xfer_t;

typedef struct cu_sock {
  uv_poll_t poll;
  curl_socket_t fd;
} cu_sock_t;

static uv_loop_t *cu_loop;
static uv_timer_t cu_timer;
static CURLM *cu_multi;
static const char *cu_url;
static long cu_total, cu_started, cu_done, cu_failed;
static curl_off_t cu_bytes;
static int cu_closing;                      /* in curl_multi_cleanup */

static size_t cu_write_cb(char *data, size_t size, size_t nmemb, void *ud) {
  cu_xfer_t *x = ud;
  size_t n = size * nmemb;
  if (x->len + n > x->cap) {
    size_t cap = x->cap ? x->cap : 4096;
    while (cap < x->len + n) cap *= 2;
    char *buf = realloc(x->buf, cap);
    if (!buf) return 0;                     /* makes curl fail the transfer */
    x->buf = buf;
    x->cap = cap;
  }
  memcpy(x->buf + x->len, data, n);
  x->len += n;
  return n;
}

static void cu_start(CURL *easy) {
  cu_xfer_t *x;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
  x->len = 0;
  cu_started++;
  curl_multi_add_handle(cu_multi, easy);
}

static CURL *cu_easy_new(void) {
  cu_xfer_t *x = calloc(1, sizeof *x);
  CURL *easy = curl_easy_init();
  x->easy = easy;
  curl_easy_setopt(easy, CURLOPT_URL, cu_url);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, cu_write_cb);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  return easy;
}

static void cu_easy_free(CURL *easy) {
  cu_xfer_t *x;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
  curl_easy_cleanup(easy);
  free(x->buf);
  free(x);
}

/* Drains finished transfers; each finished handle starts the next GET. */
static void cu_check_done(void) {
  CURLMsg *msg;
  int pending;
  while ((msg = curl_multi_info_read(cu_multi, &pending))) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL *easy = msg->easy_handle;
    cu_xfer_t *x;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    cu_bytes += (curl_off_t)x->len;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (msg->data.result != CURLE_OK || status != 200) {
      if (cu_failed++ < 5)
        fprintf(stderr, "curl-uv-client: %s (status %ld)\n",
                curl_easy_strerror(msg->data.result), status);
    }
    cu_done++;
    curl_multi_remove_handle(cu_multi, easy);
    if (cu_started < cu_total) cu_start(easy);
    else cu_easy_free(easy);
  }
  if (cu_done == cu_total) uv_stop(cu_loop);
}

static void cu_poll_cb(uv_poll_t *poll, int status, int events) {
  cu_sock_t *s = poll->data;
  int flags = 0, running;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(cu_multi, s->fd, flags, &running);
  cu_check_done();
}

static void cu_timer_cb(uv_timer_t *timer) {
  int running;
  (void)timer;
  curl_multi_socket_action(cu_multi, CURL_SOCKET_TIMEOUT, 0, &running);
  cu_check_done();
}

static void cu_sock_free(uv_handle_t *h) { free(h->data); }

/* CURLMOPT_SOCKETFUNCTION: start, change or stop polling a socket. */
static int cu_socket_fn(CURL *easy, curl_socket_t fd, int what, void *ud,
                        void *sockp) {
  cu_sock_t *s = sockp;
  (void)easy;
  (void)ud;
  if (what == CURL_POLL_REMOVE) {
    if (s) {
      uv_poll_stop(&s->poll);
      uv_close((uv_handle_t *)&s->poll, cu_sock_free);
      if (!cu_closing) curl_multi_assign(cu_multi, fd, NULL);
    }
    return 0;
  }
  if (!s) {
    s = malloc(sizeof *s);
    s->fd = fd;
    uv_poll_init_socket(cu_loop, &s->poll, fd);
    s->poll.data = s;
    curl_multi_assign(cu_multi, fd, s);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  uv_poll_start(&s->poll, events, cu_poll_cb);
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: only (re)arms the uv timer, never calls curl. */
static int cu_timer_fn(CURLM *multi, long timeout_ms, void *ud) {
  (void)multi;
  (void)ud;
  if (timeout_ms < 0) uv_timer_stop(&cu_timer);
  else uv_timer_start(&cu_timer, cu_timer_cb, (uint64_t)timeout_ms, 0);
  return 0;
}

/* Peak resident set size (VmHWM of /proc/self/status) in kB. */
static long cu_hwm_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s URL N K\n", argv[0]);
    return 2;
  }
  cu_url = argv[1];
  cu_total = strtol(argv[2], NULL, 10);
  long inflight = strtol(argv[3], NULL, 10);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  cu_loop = uv_default_loop();
  uv_timer_init(cu_loop, &cu_timer);
  cu_multi = curl_multi_init();
  curl_multi_setopt(cu_multi, CURLMOPT_SOCKETFUNCTION, cu_socket_fn);
  curl_multi_setopt(cu_multi, CURLMOPT_TIMERFUNCTION, cu_timer_fn);

  uint64_t t0 = uv_hrtime();
  for (long i = 0; i < inflight && cu_started < cu_total; i++)
    cu_start(cu_easy_new());
  uv_run(cu_loop, UV_RUN_DEFAULT);
  double dt = (double)(uv_hrtime() - t0) / 1e9;

  cu_closing = 1;
  curl_multi_cleanup(cu_multi);             /* closes pooled connections */
  uv_close((uv_handle_t *)&cu_timer, NULL);
  uv_run(cu_loop, UV_RUN_DEFAULT);          /* runs the close callbacks */
  uv_loop_close(cu_loop);
  curl_global_cleanup();
  printf("RESULT n=%ld time=%.6f rps=%.1f bytes=%lld failed=%ld hwm_kb=%ld\n",
         cu_done, dt, (double)cu_done / dt, (long long)cu_bytes, cu_failed,
         cu_hwm_kb());
  return cu_failed ? 1 : 0;
}
