/*
 * check_apisock.c: the API socket's queues (src/shell/apisock.c) on a real
 * Unix socket and libev loop, with a node that has no network:
 *   - a subscriber that does not read loses the events that do not fit in
 *     its queue, and is told how many with a "dropped" event once it
 *     reads again; every event it gets is whole and in order;
 *   - a client that sends requests without reading is no longer read, and
 *     gets every answer once it reads.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apisock.h"
#include "check_main.h"
#include "minijson.h"

#define EVENTS 2000

static struct ev_loop *loop;
static sc_node *node;
static sc_grouptab groups;
static sc_apisock api;
static sc_logger logger;
static char dir[64], path[96];

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cb_send(void *user, const sc_addr *to, const uint8_t *data,
                   size_t len) {
  (void)user;
  (void)to;
  (void)data;
  (void)len;
  return 0;
}

static void cb_rand(void *user, uint8_t *buf, size_t len) {
  (void)user;
  randombytes_buf(buf, len);
}

static void setup(void) {
  sc_settings st;
  sc_callbacks cbs;
  char err[256];
  sc_settings_default(&st);
  randombytes_buf(st.static_secret, SC_KEY_LEN);
  memset(&cbs, 0, sizeof(cbs));
  cbs.send = cb_send;
  cbs.rand = cb_rand;
  ck_assert_int_eq(sc_node_new(&node, &st, &cbs, NULL, NULL, now_ns()), 0);
  memset(&groups, 0, sizeof(groups));
  ck_assert_int_eq(sc_grouptab_join(&groups, node, "demo", now_ns()), 0);
  snprintf(dir, sizeof(dir), "/tmp/check_apisock.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/run/api.sock", dir);
  sc_logger_init(&logger, stderr, SC_LOG_WARN);
  loop = ev_loop_new(EVFLAG_AUTO);
  ck_assert_int_eq(sc_apisock_open(&api, loop, path, "--api-socket", node,
                                   &groups, now_ns, &logger, err, sizeof(err)),
                   0);
}

static void teardown(void) {
  char run[80];
  sc_apisock_close(&api);
  ev_loop_destroy(loop);
  sc_grouptab_free(&groups);
  sc_node_del(node);
  snprintf(run, sizeof(run), "%s/run", dir);
  rmdir(run);
  rmdir(dir);
}

static int client(void) {
  struct sockaddr_un sun;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, strlen(path) + 1);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
  ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  return fd;
}

/* What a client has read, as lines. */
typedef struct inbox {
  char *buf;
  size_t len, cap, lines;
  int cut; /* lines were cut by line_at */
} inbox;

/* Runs the loop once and takes what |fd| has. */
static void pump(int fd, inbox *in) {
  ev_run(loop, EVRUN_NOWAIT);
  for (;;) {
    ssize_t n;
    if (in->cap - in->len < 65536) {
      in->cap = in->cap * 2 + 65536;
      in->buf = realloc(in->buf, in->cap);
      ck_assert_ptr_nonnull(in->buf);
    }
    n = read(fd, in->buf + in->len, in->cap - in->len);
    if (n <= 0) {
      ck_assert(n < 0 && errno == EAGAIN);
      break;
    }
    for (ssize_t i = 0; i < n; i++) {
      in->lines += in->buf[in->len + (size_t)i] == '\n';
    }
    in->len += (size_t)n;
  }
}

/* Pumps until |in| holds |lines| lines (10 s at most). */
static void pump_until(int fd, inbox *in, size_t lines) {
  for (int k = 0; k < 10000 && in->lines < lines; k++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    pump(fd, in);
    (void)poll(&p, 1, 1);
  }
  ck_assert_uint_ge(in->lines, lines);
}

static void send_line(int fd, const char *line) {
  ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
}

/* Line |i| of |in| (0-based), without its '\n'. Lines are cut in place
 * the first time: read nothing more into |in| afterwards. */
static char *line_at(inbox *in, size_t i) {
  char *p = in->buf;
  size_t k;
  if (!in->cut) {
    for (k = 0; k < in->len; k++) {
      in->buf[k] = in->buf[k] == '\n' ? '\0' : in->buf[k];
    }
    in->cut = 1;
  }
  for (; i > 0; i--) {
    p += strlen(p) + 1;
  }
  ck_assert(p < in->buf + in->len);
  return p;
}

static void post_event(uint64_t number) {
  uint8_t data[SC_POST_MAX_LEN], origin[SC_PEER_ID_LEN];
  sc_post_event pe;
  sc_api_event e;
  memset(data, (int)(number & 0xff), sizeof(data));
  memset(origin, 0x11, sizeof(origin));
  memcpy(pe.group_id, groups.ids[0], SC_GROUP_ID_BYTES);
  memcpy(pe.origin, origin, sizeof(origin));
  pe.number = number;
  pe.data = data;
  pe.len = sizeof(data);
  sc_api_event_post(&e, &pe);
  sc_apisock_event(&api, &e);
}

/* A JSON line's number member |key| (an integer). */
static uint64_t num(const char *line, const char *key) {
  mj_value v[32];
  mj_doc doc;
  double d = -1;
  ck_assert_int_eq(mj_parse(&doc, line, strlen(line), v, 32), 0);
  ck_assert_int_eq(mj_number(&doc, mj_get(&doc, 0, key), &d), 0);
  ck_assert(d >= 0);
  return (uint64_t)d;
}

START_TEST(test_slow_subscriber) {
  inbox in = {0};
  uint64_t sent, dropped, prev = 0;
  size_t i;
  char *l;
  int fd = client();
  send_line(fd, "{\"op\":\"subscribe\",\"group\":\"demo\",\"id\":1}\n");
  pump_until(fd, &in, 1);
  ck_assert_str_eq(line_at(&in, 0), "{\"id\":1,\"ok\":true}");
  in.len = 0;
  in.lines = 0;
  in.cut = 0;
  /* The subscriber does not read while the events come. */
  for (i = 0; i < EVENTS; i++) {
    post_event(i);
  }
  sent = api.events_sent;
  dropped = api.events_dropped;
  ck_assert_uint_eq(sent + dropped, EVENTS);
  ck_assert_uint_gt(dropped, 0);
  fprintf(stderr,
          "# slow subscriber: %llu events queued or sent, %llu dropped\n",
          (unsigned long long)sent, (unsigned long long)dropped);
  /* About 1.2 kB an event: 1 MiB queued, and what the socket took. */
  ck_assert_uint_ge(sent, (1u << 20) / 1300);
  pump_until(fd, &in, sent);
  ck_assert_uint_eq(in.lines, sent);
  /* The next event comes after the count of those lost. */
  post_event(EVENTS);
  pump_until(fd, &in, sent + 2);
  ck_assert_uint_eq(in.lines, sent + 2);
  l = line_at(&in, 0);
  for (i = 0; i < sent; i++, l += strlen(l) + 1) {
    uint64_t n = num(l, "number");
    ck_assert(strncmp(l, "{\"event\":\"post\",\"group\":\"demo\",", 31) == 0);
    ck_assert(i == 0 || n > prev);
    prev = n;
  }
  ck_assert_uint_eq(num(l, "count"), dropped);
  ck_assert_uint_eq(num(l + strlen(l) + 1, "number"), EVENTS);
  free(in.buf);
  close(fd);
}
END_TEST

START_TEST(test_no_answer_dropped) {
  static const char ping[] = "{\"op\":\"ping\",\"id\":12345}\n";
  inbox in = {0};
  size_t asked = 0;
  int fd = client(), stalled = 0;
  /* Write until the daemon stops reading: the socket stays full. */
  for (int k = 0; k < 200000 && stalled < 50; k++) {
    ssize_t n = write(fd, ping, sizeof(ping) - 1);
    if (n == (ssize_t)sizeof(ping) - 1) {
      asked++;
      stalled = 0;
      continue;
    }
    ck_assert(n < 0 && errno == EAGAIN); /* whole lines: it is small */
    ev_run(loop, EVRUN_NOWAIT);
    stalled++;
  }
  ck_assert_int_eq(stalled, 50);
  /* The answers queued are bounded by the read throttle. */
  ck_assert_uint_lt(asked, 200000);
  fprintf(stderr, "# %zu requests written before the daemon stopped reading\n",
          asked);
  pump_until(fd, &in, asked);
  ck_assert_uint_eq(in.lines, asked);
  ck_assert(strncmp(line_at(&in, asked - 1), "{\"id\":12345,\"ok\":true", 21) ==
            0);
  free(in.buf);
  close(fd);
}
END_TEST

static Suite *apisock_suite(void) {
  Suite *s = suite_create("apisock");
  TCase *tc = tcase_create("apisock");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_slow_subscriber);
  tcase_add_test(tc, test_no_answer_dropped);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(apisock_suite()); }
