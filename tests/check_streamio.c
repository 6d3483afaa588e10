/*
 * check_streamio.c: the daemon's stream I/O (src/shell/mpegts.c,
 * chunker.c, source.c, sink.c, httpreq.c, streamkey.c and the stream
 * options of config.c).
 *
 * Sources and sinks run on a real libev loop with real sockets, pipes and
 * files on 127.0.0.1 and under /tmp. No test asserts an upper bound on a
 * duration; pacing is checked by chunk order and contents and by a lower
 * bound on the elapsed time, which a loaded machine cannot break.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* mkdtemp, nftw */
#endif

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../src/shell/config.h" /* not the build's autoconf config.h */
#include "check_main.h"
#include "chunker.h"
#include "httpreq.h"
#include "mpegts.h"
#include "sink.h"
#include "source.h"
#include "streamkey.h"

#define PID_VIDEO 0x100
#define PID_AUDIO 0x101

/* ---- helpers: TS packets ------------------------------------------------ */

/* Builds a TS packet of |pid|; |pcr| is written when |has_pcr|; the
 * payload is |fill| (so tests can tell packets apart). */
static void make_pkt(uint8_t p[SC_TS_PACKET], unsigned pid, int rai,
                     int has_pcr, uint64_t pcr, uint8_t fill) {
  memset(p, fill, SC_TS_PACKET);
  p[0] = SC_TS_SYNC;
  p[1] = (uint8_t)((pid >> 8) & 0x1f);
  p[2] = (uint8_t)(pid & 0xff);
  if (!rai && !has_pcr) {
    p[3] = 0x10; /* payload only */
    return;
  }
  p[3] = 0x30; /* adaptation field and payload */
  p[4] = has_pcr ? 7 : 1;
  p[5] = (uint8_t)((rai ? 0x40 : 0) | (has_pcr ? 0x10 : 0));
  if (has_pcr) {
    uint64_t base = pcr / 300, ext = pcr % 300;
    p[6] = (uint8_t)(base >> 25);
    p[7] = (uint8_t)(base >> 17);
    p[8] = (uint8_t)(base >> 9);
    p[9] = (uint8_t)(base >> 1);
    p[10] = (uint8_t)(((base & 1) << 7) | 0x7e | (ext >> 8));
    p[11] = (uint8_t)(ext & 0xff);
  }
}

/* A growing byte buffer. */
struct bytes {
  uint8_t *data;
  size_t len, cap;
};

static void bytes_add(struct bytes *b, const void *d, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->data = realloc(b->data, b->cap);
    ck_assert_ptr_nonnull(b->data);
  }
  memcpy(b->data + b->len, d, n);
  b->len += n;
}

static void bytes_free(struct bytes *b) {
  free(b->data);
  memset(b, 0, sizeof(*b));
}

/* What a chunker or source emitted. */
#define MAX_CHUNKS 4096
struct chunks {
  size_t n;
  size_t len[MAX_CHUNKS];
  int clean[MAX_CHUNKS];
  struct bytes all;
  int ended;
  int end_err;
};

static void on_chunk(void *arg, const uint8_t *data, size_t len, int clean) {
  struct chunks *c = arg;
  ck_assert_uint_lt(c->n, MAX_CHUNKS);
  c->len[c->n] = len;
  c->clean[c->n] = clean;
  c->n++;
  bytes_add(&c->all, data, len);
}

static void on_end(void *arg, int err) {
  struct chunks *c = arg;
  c->ended = 1;
  c->end_err = err;
}

static struct chunks *chunks_new(void) {
  struct chunks *c = calloc(1, sizeof(*c));
  ck_assert_ptr_nonnull(c);
  return c;
}

static void chunks_del(struct chunks *c) {
  bytes_free(&c->all);
  free(c);
}

/* A stream of |n| packets on PID_VIDEO, keyframes where |rai| says; byte
 * 4.. of each packet holds its index. */
static void ts_stream(struct bytes *b, size_t n, const int *rai) {
  size_t i;
  for (i = 0; i < n; i++) {
    uint8_t p[SC_TS_PACKET];
    make_pkt(p, PID_VIDEO, rai[i], rai[i], (uint64_t)i * 1000, (uint8_t)i);
    bytes_add(b, p, sizeof(p));
  }
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- helpers: the loop -------------------------------------------------- */

static int timed_out;

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
  timed_out = 1;
}

/* Runs |loop| until |*flag| is set; fails after |seconds|. */
static void run_until(struct ev_loop *loop, const int *flag, double seconds) {
  ev_timer wd;
  timed_out = 0;
  ev_timer_init(&wd, watchdog_cb, seconds, 0.);
  ev_timer_start(loop, &wd);
  while (!*flag && !timed_out) {
    ev_run(loop, EVRUN_ONCE);
  }
  ev_timer_stop(loop, &wd);
  ck_assert_msg(*flag, "timed out after %.1f s", seconds);
}

/* Runs one iteration of |loop|; fails if nothing happens for |seconds|. */
static void run_once(struct ev_loop *loop, double seconds) {
  ev_timer wd;
  timed_out = 0;
  ev_timer_init(&wd, watchdog_cb, seconds, 0.);
  ev_timer_start(loop, &wd);
  ev_run(loop, EVRUN_ONCE);
  ev_timer_stop(loop, &wd);
  ck_assert_msg(!timed_out, "nothing happened for %.1f s", seconds);
}

/* ---- helpers: files ----------------------------------------------------- */

static char dir[64];

static void dir_setup(void) {
  snprintf(dir, sizeof(dir), "/tmp/check_streamio.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int remove_one(const char *path, const struct stat *sb, int flag,
                      struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void dir_teardown(void) {
  nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *fp = fopen(path, "wb");
  ck_assert_ptr_nonnull(fp);
  ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
  ck_assert_int_eq(fclose(fp), 0);
}

/* ---- mpegts ------------------------------------------------------------- */

START_TEST(test_pcr_parse) {
  uint8_t p[SC_TS_PACKET];
  uint64_t pcr = 0, max = SC_TS_PCR_MODULUS - 1;
  make_pkt(p, PID_VIDEO, 0, 1, max, 0);
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 1);
  ck_assert_uint_eq(pcr, max); /* base 2^33 - 1, extension 299 */
  make_pkt(p, PID_VIDEO, 0, 1, 0x123456789ull * 300 + 17, 0);
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 1);
  ck_assert_uint_eq(pcr, 0x123456789ull * 300 + 17);
  ck_assert_uint_eq(sc_ts_pid(p), PID_VIDEO);
  ck_assert_int_eq(sc_ts_has_rai(p), 0);
  /* An extension of 300 or more is not a PCR. */
  p[10] |= 1;
  p[11] = 0xff;
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 0);
  /* No adaptation field, a transport error, an impossible length. */
  make_pkt(p, PID_VIDEO, 0, 0, 0, 0);
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 0);
  make_pkt(p, PID_VIDEO, 1, 1, 42, 0);
  ck_assert_int_eq(sc_ts_has_rai(p), 1);
  p[1] |= 0x80;
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 0);
  ck_assert_int_eq(sc_ts_has_rai(p), 0);
  make_pkt(p, PID_VIDEO, 1, 1, 42, 0);
  p[4] = 184;
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 0);
  /* Adaptation field only: its length must be 183. */
  make_pkt(p, PID_VIDEO, 1, 1, 42, 0);
  p[3] = 0x20;
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 0);
  p[4] = 183;
  ck_assert_int_eq(sc_ts_pcr(p, &pcr), 1);
  ck_assert_uint_eq(pcr, 42);
  p[5] |= 0x80;
  ck_assert_int_eq(sc_ts_has_discontinuity(p), 1);
}
END_TEST

START_TEST(test_pcr_wrap) {
  const uint64_t m = SC_TS_PCR_MODULUS, ms = SC_TS_PCR_HZ / 1000;
  sc_pcrclock c;
  uint64_t now = 5000000000u;
  ck_assert_uint_eq(sc_ts_pcr_delta(m - 10 * ms, 10 * ms), 20 * ms);
  ck_assert_uint_eq(sc_ts_pcr_delta(100, 50), m - 50);
  sc_pcrclock_init(&c);
  /* The first PCR is due at once; 20 ms later, across the wrap. */
  ck_assert_uint_eq(sc_pcrclock_wait(&c, m - 10 * ms, 0, now), 0);
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 10 * ms, 0, now), 20000000u);
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 10 * ms, 0, now + 5000000u),
                    15000000u); /* asking again moves nothing */
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 10 * ms, 0, now + 20000000u), 0);
  ck_assert_uint_eq(c.reanchors, 0);
  now += 20000000u;
  /* 2 s ahead: re-anchored at once instead of a 2 s stall. */
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 2010 * ms, 0, now), 0);
  ck_assert_uint_eq(c.reanchors, 1);
  /* Backwards: at once too. */
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 5 * ms, 0, now), 0);
  ck_assert_uint_eq(c.reanchors, 2);
  /* The discontinuity_indicator re-anchors even for a small step. */
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 15 * ms, 1, now), 0);
  ck_assert_uint_eq(c.reanchors, 3);
  /* Far behind (a stalled loop): no burst, a new anchor at now. */
  now += 5000000000u;
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 55 * ms, 0, now), 0);
  ck_assert_uint_eq(c.reanchors, 4);
  ck_assert_uint_eq(c.last_due, now);
  ck_assert_uint_eq(sc_pcrclock_wait(&c, 95 * ms, 0, now), 40000000u);
}
END_TEST

START_TEST(test_detect) {
  static const int no_rai[12] = {0};
  struct bytes b = {0};
  uint8_t junk[5000];
  size_t off = 99;
  size_t i;
  for (i = 0; i < sizeof(junk); i++) {
    junk[i] = (uint8_t)(i * 7 + 1);
    if (junk[i] == SC_TS_SYNC) {
      junk[i] = 0;
    }
  }
  bytes_add(&b, junk, 100);
  ts_stream(&b, 12, no_rai);
  ck_assert_int_eq(sc_ts_detect(b.data, b.len, SC_TS_DETECT_MORE, &off),
                   SC_TS_YES);
  ck_assert_uint_eq(off, 100);
  /* Two and a half packets: wait, unless the input is over. */
  ck_assert_int_eq(sc_ts_detect(b.data + 100, 470, SC_TS_DETECT_MORE, &off),
                   SC_TS_UNKNOWN);
  ck_assert_int_eq(sc_ts_detect(b.data + 100, 470, SC_TS_DETECT_IDLE, &off),
                   SC_TS_UNKNOWN);
  ck_assert_int_eq(sc_ts_detect(b.data + 100, 470, SC_TS_DETECT_FINAL, &off),
                   SC_TS_YES);
  ck_assert_uint_eq(off, 0);
  /* Plain bytes: undecided for a while (garbage may precede TS), "no" at
   * a pause or after SC_TS_DETECT_MAX bytes. */
  ck_assert_int_eq(sc_ts_detect(junk, 1000, SC_TS_DETECT_MORE, &off),
                   SC_TS_UNKNOWN);
  ck_assert_int_eq(sc_ts_detect(junk, 1000, SC_TS_DETECT_IDLE, &off), SC_TS_NO);
  ck_assert_int_eq(sc_ts_detect(junk, sizeof(junk), SC_TS_DETECT_MORE, &off),
                   SC_TS_NO);
  ck_assert_int_eq(
      sc_ts_detect((const uint8_t *)"hello", 5, SC_TS_DETECT_FINAL, &off),
      SC_TS_NO);
  bytes_free(&b);
}
END_TEST

/* ---- chunker ------------------------------------------------------------ */

/* Feeds |b| in pieces of irregular sizes. */
static void feed_pieces(sc_chunker *c, const struct bytes *b) {
  static const size_t sizes[] = {1, 7, 100, 187, 188, 189, 1000, 3, 4096};
  size_t off = 0, i = 0;
  while (off < b->len) {
    size_t n = sizes[i++ % (sizeof(sizes) / sizeof(sizes[0]))];
    if (n > b->len - off) {
      n = b->len - off;
    }
    ck_assert_uint_eq(sc_chunker_feed(c, b->data + off, n), n);
    off += n;
  }
}

START_TEST(test_chunker_ts_keyframes) {
  /* 10 packets, a keyframe, 20 packets, a keyframe, 3 packets. */
  int rai[35] = {0};
  static const size_t want_len[] = {7, 3, 7, 7, 7, 4};
  static const int want_clean[] = {0, 0, 1, 0, 0, 1};
  struct chunks *out = chunks_new();
  struct bytes b = {0};
  sc_chunker c;
  size_t i;
  rai[10] = rai[31] = 1;
  bytes_add(&b, "xyz", 3); /* garbage before the first packet */
  ts_stream(&b, 35, rai);
  ck_assert_int_eq(sc_chunker_init(&c, 7 * 188 + 100, on_chunk, NULL, out), 0);
  feed_pieces(&c, &b);
  sc_chunker_flush(&c, 1);
  ck_assert_int_eq(c.kind, SC_CHUNKER_TS);
  ck_assert_uint_eq(out->n, 6);
  for (i = 0; i < out->n; i++) {
    ck_assert_uint_eq(out->len[i], want_len[i] * SC_TS_PACKET);
    ck_assert_int_eq(out->clean[i], want_clean[i]);
  }
  ck_assert_uint_eq(out->all.len, b.len - 3);
  ck_assert_mem_eq(out->all.data, b.data + 3, b.len - 3);
  ck_assert_uint_eq(c.stats.discarded_bytes, 3);
  ck_assert_uint_eq(c.stats.ts_packets, 35);
  ck_assert_uint_eq(c.stats.chunks_out, 6);
  sc_chunker_free(&c);
  bytes_free(&b);
  chunks_del(out);
}
END_TEST

/* The tables before a keyframe (PAT, then the PMT and audio on other PIDs)
 * open the keyframe's chunk, so a player tuning in there gets them first;
 * tables before an ordinary picture cut nothing. */
START_TEST(test_chunker_lead_in) {
  struct chunks *out = chunks_new();
  uint8_t p[SC_TS_PACKET];
  sc_chunker c;
  ck_assert_int_eq(sc_chunker_init(&c, 10 * 188, on_chunk, NULL, out), 0);
  make_pkt(p, PID_VIDEO, 0, 1, 0, 1); /* the PCR PID is video's */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, 0, 0, 0, 0, 2); /* PAT before an ordinary picture */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, 0x1000, 0, 0, 0, 3); /* PMT */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_VIDEO, 0, 0, 0, 4);
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, 0, 0, 0, 0, 5); /* PAT before a keyframe */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, 0x1000, 0, 0, 0, 6);
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_AUDIO, 0, 0, 0, 7);
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_VIDEO, 1, 1, 1000, 8); /* the keyframe */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_VIDEO, 0, 0, 0, 9);
  sc_chunker_feed(&c, p, sizeof(p));
  sc_chunker_flush(&c, 1);
  ck_assert_uint_eq(out->n, 2);
  ck_assert_uint_eq(out->len[0], 4 * SC_TS_PACKET);
  ck_assert_int_eq(out->clean[0], 0);
  ck_assert_uint_eq(out->len[1], 5 * SC_TS_PACKET);
  ck_assert_int_eq(out->clean[1], 1);
  /* The clean chunk starts with the PAT (fill byte 5 after the header). */
  ck_assert_uint_eq(out->all.data[4 * SC_TS_PACKET + 1], 0);
  ck_assert_uint_eq(out->all.data[4 * SC_TS_PACKET + 100], 5);
  sc_chunker_free(&c);
  chunks_del(out);
}
END_TEST

START_TEST(test_chunker_pcr_pid_keyframes) {
  /* Audio RAI counts while no PCR was seen; once video carries the PCR
   * only video keyframes cut. */
  struct chunks *out = chunks_new();
  uint8_t p[SC_TS_PACKET];
  sc_chunker c;
  ck_assert_int_eq(sc_chunker_init(&c, 10 * 188, on_chunk, NULL, out), 0);
  make_pkt(p, PID_VIDEO, 0, 0, 0, 1);
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_AUDIO, 1, 0, 0, 2); /* cuts: no PCR PID yet */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_VIDEO, 1, 1, 1000, 3); /* cuts, and names the PCR PID */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_AUDIO, 1, 0, 0, 4); /* no longer cuts */
  sc_chunker_feed(&c, p, sizeof(p));
  make_pkt(p, PID_VIDEO, 0, 0, 0, 5);
  sc_chunker_feed(&c, p, sizeof(p));
  sc_chunker_feed(&c, p, sizeof(p));
  sc_chunker_flush(&c, 1);
  ck_assert_uint_eq(out->n, 3);
  ck_assert_uint_eq(out->len[0], 188);
  ck_assert_int_eq(out->clean[0], 0);
  ck_assert_uint_eq(out->len[1], 188);
  ck_assert_int_eq(out->clean[1], 1);
  ck_assert_uint_eq(out->len[2], 4 * 188);
  ck_assert_int_eq(out->clean[2], 1);
  sc_chunker_free(&c);
  chunks_del(out);
}
END_TEST

START_TEST(test_chunker_resync) {
  int rai[40] = {0};
  struct chunks *out = chunks_new();
  struct bytes b = {0}, want = {0};
  uint8_t garbage[50];
  sc_chunker c;
  size_t i;
  memset(garbage, 0xaa, sizeof(garbage));
  garbage[17] = SC_TS_SYNC; /* a lone sync byte inside the garbage */
  rai[0] = rai[25] = 1;
  ts_stream(&b, 20, rai);
  bytes_add(&want, b.data, b.len);
  bytes_add(&b, garbage, sizeof(garbage));
  bytes_add(&b, garbage, 30); /* a half packet cut short */
  {
    struct bytes tail = {0};
    ts_stream(&tail, 40, rai);
    bytes_add(&b, tail.data + 20 * 188, 20 * 188);
    bytes_add(&want, tail.data + 20 * 188, 20 * 188);
    bytes_free(&tail);
  }
  ck_assert_int_eq(sc_chunker_init(&c, 1316, on_chunk, NULL, out), 0);
  feed_pieces(&c, &b);
  sc_chunker_flush(&c, 1);
  ck_assert_uint_eq(c.stats.sync_losses, 1);
  ck_assert_uint_eq(c.stats.resyncs, 1);
  ck_assert_uint_eq(c.stats.discarded_bytes, 80);
  ck_assert_uint_eq(out->all.len, want.len);
  ck_assert_mem_eq(out->all.data, want.data, want.len);
  /* The chunk before the gap ends at it: 20 = 7 + 7 + 6. */
  ck_assert_uint_eq(out->len[2], 6 * 188);
  for (i = 0; i < out->n; i++) {
    ck_assert_uint_le(out->len[i], 1316);
    ck_assert_uint_eq(out->len[i] % SC_TS_PACKET, 0);
  }
  sc_chunker_free(&c);
  bytes_free(&b);
  bytes_free(&want);
  chunks_del(out);
}
END_TEST

START_TEST(test_chunker_max_payload) {
  int rai[50] = {0};
  struct chunks *out = chunks_new();
  struct bytes b = {0};
  sc_chunker c;
  size_t i;
  ts_stream(&b, 50, rai);
  /* 1000 bytes hold 5 whole packets. */
  ck_assert_int_eq(sc_chunker_init(&c, 1000, on_chunk, NULL, out), 0);
  feed_pieces(&c, &b);
  sc_chunker_flush(&c, 1);
  ck_assert_uint_eq(out->n, 10);
  for (i = 0; i < out->n; i++) {
    ck_assert_uint_eq(out->len[i], 5 * 188);
  }
  sc_chunker_free(&c);
  ck_assert_int_eq(sc_chunker_init(&c, 187, on_chunk, NULL, out), -1);
  bytes_free(&b);
  chunks_del(out);
}
END_TEST

START_TEST(test_chunker_raw) {
  struct chunks *out = chunks_new();
  uint8_t data[5500];
  sc_chunker c;
  size_t i;
  for (i = 0; i < sizeof(data); i++) {
    data[i] = (uint8_t)(i % 61 + 'A'); /* includes 'G' (0x47) */
  }
  ck_assert_int_eq(sc_chunker_init(&c, 1000, on_chunk, NULL, out), 0);
  ck_assert_uint_eq(sc_chunker_feed(&c, data, sizeof(data)), sizeof(data));
  ck_assert_int_eq(c.kind, SC_CHUNKER_RAW);
  ck_assert_uint_eq(out->n, 5);
  sc_chunker_flush(&c, 0); /* idle: the partial chunk goes */
  ck_assert_uint_eq(out->n, 6);
  ck_assert_uint_eq(out->len[5], 500);
  for (i = 0; i < out->n; i++) {
    ck_assert_int_eq(out->clean[i], 1);
  }
  ck_assert_mem_eq(out->all.data, data, sizeof(data));
  sc_chunker_free(&c);
  chunks_del(out);
}
END_TEST

START_TEST(test_chunker_raw_slow) {
  /* A few plain bytes, then a pause: out at once, not held for detection;
   * and a tiny input that ends. */
  struct chunks *out = chunks_new();
  sc_chunker c;
  ck_assert_int_eq(sc_chunker_init(&c, 1000, on_chunk, NULL, out), 0);
  sc_chunker_feed(&c, (const uint8_t *)"hello\n", 6);
  ck_assert_uint_eq(out->n, 0);
  sc_chunker_flush(&c, 0);
  ck_assert_uint_eq(out->n, 1);
  ck_assert_uint_eq(out->len[0], 6);
  sc_chunker_free(&c);
  ck_assert_int_eq(sc_chunker_init(&c, 1000, on_chunk, NULL, out), 0);
  sc_chunker_feed(&c, (const uint8_t *)"G", 1);
  sc_chunker_flush(&c, 0); /* 'G' may start a packet: still waiting */
  ck_assert_uint_eq(out->n, 1);
  sc_chunker_flush(&c, 1);
  ck_assert_uint_eq(out->n, 2);
  ck_assert_uint_eq(out->len[1], 1);
  sc_chunker_free(&c);
  chunks_del(out);
}
END_TEST

static uint64_t gate_hold = UINT64_MAX;
static int gate_calls;

static int test_gate(void *arg, uint64_t pcr, int discontinuity) {
  (void)arg;
  (void)discontinuity;
  gate_calls++;
  return pcr == gate_hold;
}

START_TEST(test_chunker_gate) {
  int rai[20] = {0};
  struct chunks *out = chunks_new();
  struct bytes b = {0};
  sc_chunker c;
  size_t used;
  rai[0] = rai[10] = 1; /* PCRs 0 and 10000 */
  ts_stream(&b, 20, rai);
  gate_hold = 10000;
  gate_calls = 0;
  ck_assert_int_eq(sc_chunker_init(&c, 1316, on_chunk, test_gate, out), 0);
  used = sc_chunker_feed(&c, b.data, b.len);
  ck_assert_int_eq(sc_chunker_is_blocked(&c), 1);
  ck_assert_int_eq(gate_calls, 2);
  sc_chunker_flush(&c, 0);
  /* Everything before the held packet is out. */
  ck_assert_uint_eq(out->all.len, 10 * 188);
  gate_hold = UINT64_MAX;
  ck_assert_uint_eq(sc_chunker_feed(&c, b.data + used, b.len - used),
                    b.len - used);
  ck_assert_int_eq(sc_chunker_is_blocked(&c), 0);
  sc_chunker_flush(&c, 1);
  ck_assert_uint_eq(out->all.len, b.len);
  ck_assert_mem_eq(out->all.data, b.data, b.len);
  sc_chunker_free(&c);
  bytes_free(&b);
  chunks_del(out);
}
END_TEST

/* ---- sources ------------------------------------------------------------ */

START_TEST(test_source_file_rate) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  struct chunks *out = chunks_new();
  uint8_t data[20000];
  char path[128], spec[160], err[256] = "";
  sc_source *s = NULL;
  sc_source_stats st;
  uint64_t t0;
  size_t i;
  for (i = 0; i < sizeof(data); i++) {
    data[i] = (uint8_t)(i % 251);
  }
  snprintf(path, sizeof(path), "%s/plain.bin", dir);
  write_file(path, data, sizeof(data));
  snprintf(spec, sizeof(spec), "file:%s", path);
  /* 800 kbit/s: 100 kB/s, so 0.2 s for the file. */
  t0 = mono_ns();
  ck_assert_msg(sc_source_open(&s, loop, spec, 1000, 800000, on_chunk, on_end,
                               out, err, sizeof(err)) == 0,
                "%s", err);
  ck_assert_uint_eq(out->n, 0); /* nothing before the loop runs */
  run_until(loop, &out->ended, 10.);
  ck_assert_int_eq(out->end_err, 0);
  ck_assert_uint_ge(mono_ns() - t0, 100000000u);
  ck_assert_uint_eq(out->all.len, sizeof(data));
  ck_assert_mem_eq(out->all.data, data, sizeof(data));
  ck_assert_uint_ge(out->n, 20);
  for (i = 0; i < out->n; i++) {
    ck_assert_uint_le(out->len[i], 1000);
    ck_assert_int_eq(out->clean[i], 1);
  }
  sc_source_get_stats(s, &st);
  ck_assert_uint_eq(st.bytes_in, sizeof(data));
  ck_assert_uint_eq(st.chunks_out, out->n);
  ck_assert_int_eq(st.kind, SC_CHUNKER_RAW);
  sc_source_close(s);
  chunks_del(out);
  ev_loop_destroy(loop);
}
END_TEST

/* A TS file: 100 packets, a PCR every 10 (10 ms apart) starting 30 ms
 * before the wrap, a keyframe at 0 and 50, then a PCR jump back. */
static void pcr_file(struct bytes *b) {
  const uint64_t ms = SC_TS_PCR_HZ / 1000;
  uint64_t pcr = SC_TS_PCR_MODULUS - 30 * ms;
  size_t i;
  for (i = 0; i < 100; i++) {
    uint8_t p[SC_TS_PACKET];
    int has_pcr = i % 10 == 0;
    make_pkt(p, PID_VIDEO, i == 0 || i == 50, has_pcr, pcr, (uint8_t)i);
    if (has_pcr) {
      pcr = (pcr + 10 * ms) % SC_TS_PCR_MODULUS;
    }
    if (i == 79) {
      pcr = 12345; /* a discontinuity: the pacing must not stall */
    }
    bytes_add(b, p, sizeof(p));
  }
}

START_TEST(test_source_file_pcr) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  struct chunks *out = chunks_new();
  struct bytes b = {0};
  char path[128], spec[160], err[256] = "";
  sc_source *s = NULL;
  sc_source_stats st;
  uint64_t t0;
  size_t i, clean = 0;
  pcr_file(&b);
  snprintf(path, sizeof(path), "%s/pcr.ts", dir);
  write_file(path, b.data, b.len);
  snprintf(spec, sizeof(spec), "file:%s", path);
  t0 = mono_ns();
  ck_assert_msg(sc_source_open(&s, loop, spec, 1316, 0, on_chunk, on_end, out,
                               err, sizeof(err)) == 0,
                "%s", err);
  run_until(loop, &out->ended, 10.);
  /* PCRs 0..70 ms apart are waited for; after the jump there is 10 ms. */
  ck_assert_uint_ge(mono_ns() - t0, 40000000u);
  ck_assert_uint_eq(out->all.len, b.len);
  ck_assert_mem_eq(out->all.data, b.data, b.len);
  for (i = 0; i < out->n; i++) {
    ck_assert_uint_le(out->len[i], 1316);
    ck_assert_uint_eq(out->len[i] % SC_TS_PACKET, 0);
    clean += (size_t)out->clean[i];
  }
  ck_assert_int_eq(out->clean[0], 1);
  ck_assert_uint_eq(clean, 2);
  sc_source_get_stats(s, &st);
  ck_assert_uint_eq(st.ts_packets, 100);
  ck_assert_uint_eq(st.clock_reanchors, 1);
  ck_assert_int_eq(st.kind, SC_CHUNKER_TS);
  sc_source_close(s);
  bytes_free(&b);
  chunks_del(out);
  ev_loop_destroy(loop);
}
END_TEST

/* sc_source_open(|spec|) must fail with |want| in the message. */
static void source_refused_max(const char *spec, size_t max_payload,
                               uint64_t rate, const char *want) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  char err[256] = "";
  sc_source *s = (sc_source *)1;
  ck_assert_int_eq(sc_source_open(&s, loop, spec, max_payload, rate, on_chunk,
                                  on_end, NULL, err, sizeof(err)),
                   -1);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(err, want) != NULL, "'%s': got '%s', want '%s'", spec,
                err, want);
  ev_loop_destroy(loop);
}

static void source_refused(const char *spec, uint64_t rate, const char *want) {
  source_refused_max(spec, 1316, rate, want);
}

START_TEST(test_source_refused) {
  int rai[10] = {0};
  struct bytes b = {0};
  char path[128], spec[160];
  snprintf(path, sizeof(path), "%s/plain.txt", dir);
  write_file(path, "just some text\n", 15);
  snprintf(spec, sizeof(spec), "file:%s", path);
  source_refused(spec, 0, "not MPEG-TS, so its rate is unknown: give a rate");
  ts_stream(&b, 10, rai); /* TS without a PCR */
  snprintf(path, sizeof(path), "%s/nopcr.ts", dir);
  write_file(path, b.data, b.len);
  snprintf(spec, sizeof(spec), "file:%s", path);
  source_refused(spec, 0, "MPEG-TS without a PCR");
  snprintf(spec, sizeof(spec), "file:%s/missing.ts", dir);
  source_refused(spec, 0, "cannot open: No such file or directory");
  snprintf(spec, sizeof(spec), "file:%s", dir);
  source_refused(spec, 1000, "not a regular file");
  source_refused("udp://127.0.0.1:0", 1000, "a rate paces file sources only");
  source_refused("tcp://127.0.0.1:5", 0, "unknown source");
  source_refused("udp://127.0.0.1", 0, "missing port");
  source_refused("udp://127.0.0.1:5?pkt_size=1316", 0, "not supported");
  source_refused_max("-", 100, 0, "the chunk size must be at least 188");
  bytes_free(&b);
}
END_TEST

START_TEST(test_source_udp) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  struct chunks *out = chunks_new();
  int rai[70] = {0};
  struct bytes b = {0};
  struct sockaddr_in to;
  char err[256] = "";
  sc_source *s = NULL;
  size_t off;
  int fd;
  rai[0] = rai[30] = 1;
  ts_stream(&b, 70, rai);
  ck_assert_msg(sc_source_open(&s, loop, "udp://127.0.0.1:0", 1316, 0, on_chunk,
                               on_end, out, err, sizeof(err)) == 0,
                "%s", err);
  ck_assert_uint_ne(sc_source_local_port(s), 0);
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  ck_assert_int_ge(fd, 0);
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons((uint16_t)sc_source_local_port(s));
  /* As ffmpeg sends it: 7 packets a datagram. */
  for (off = 0; off < b.len; off += 1316) {
    size_t n = b.len - off < 1316 ? b.len - off : 1316;
    ck_assert_int_eq(sendto(fd, b.data + off, n, 0,
                            (struct sockaddr *)(void *)&to, sizeof(to)),
                     (ssize_t)n);
  }
  /* The idle timer flushes the last partial chunk. */
  while (out->all.len < b.len) {
    run_once(loop, 5.);
  }
  ck_assert_mem_eq(out->all.data, b.data, b.len);
  ck_assert_int_eq(out->clean[0], 1);
  ck_assert_int_eq(out->ended, 0);
  close(fd);
  sc_source_close(s);
  bytes_free(&b);
  chunks_del(out);
  ev_loop_destroy(loop);
}
END_TEST

START_TEST(test_source_udp6) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  struct chunks *out = chunks_new();
  struct sockaddr_in6 to;
  char err[256] = "";
  sc_source *s = NULL;
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0 || sc_source_open(&s, loop, "udp://[::1]:0", 1316, 0, on_chunk,
                               on_end, out, err, sizeof(err)) != 0) {
    fprintf(stderr, "# no IPv6 loopback, skipped: %s\n", err);
    if (fd >= 0) {
      close(fd);
    }
    chunks_del(out);
    ev_loop_destroy(loop);
    return;
  }
  memset(&to, 0, sizeof(to));
  to.sin6_family = AF_INET6;
  to.sin6_addr = in6addr_loopback;
  to.sin6_port = htons((uint16_t)sc_source_local_port(s));
  ck_assert_int_eq(
      sendto(fd, "raw bytes", 9, 0, (struct sockaddr *)(void *)&to, sizeof(to)),
      9);
  while (out->n == 0) {
    run_once(loop, 5.);
  }
  ck_assert_uint_eq(out->all.len, 9);
  ck_assert_mem_eq(out->all.data, "raw bytes", 9);
  close(fd);
  sc_source_close(s);
  chunks_del(out);
  ev_loop_destroy(loop);
}
END_TEST

START_TEST(test_source_stdin) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  struct chunks *out = chunks_new();
  int rai[30] = {0}, pfd[2], saved = dup(STDIN_FILENO), flags;
  struct bytes b = {0};
  char err[256] = "";
  sc_source *s = NULL;
  rai[5] = 1;
  ts_stream(&b, 30, rai);
  ck_assert_int_eq(pipe(pfd), 0);
  ck_assert_int_ge(saved, 0);
  ck_assert_int_eq(dup2(pfd[0], STDIN_FILENO), STDIN_FILENO);
  close(pfd[0]);
  ck_assert_msg(sc_source_open(&s, loop, "-", 1316, 0, on_chunk, on_end, out,
                               err, sizeof(err)) == 0,
                "%s", err);
  ck_assert_int_eq(write(pfd[1], b.data, b.len), (ssize_t)b.len);
  close(pfd[1]);
  run_until(loop, &out->ended, 5.);
  ck_assert_int_eq(out->end_err, 0);
  ck_assert_uint_eq(out->all.len, b.len);
  ck_assert_mem_eq(out->all.data, b.data, b.len);
  ck_assert_uint_eq(out->len[0], 5 * 188);
  ck_assert_int_eq(out->clean[0], 0);
  ck_assert_int_eq(out->clean[1], 1);
  sc_source_close(s);
  /* Our own stdin description was never made non-blocking. */
  flags = fcntl(STDIN_FILENO, F_GETFL);
  ck_assert_int_eq(flags & O_NONBLOCK, 0);
  ck_assert_int_eq(dup2(saved, STDIN_FILENO), STDIN_FILENO);
  close(saved);
  bytes_free(&b);
  chunks_del(out);
  ev_loop_destroy(loop);
}
END_TEST

/* ---- sinks -------------------------------------------------------------- */

/* A UDP socket on 127.0.0.1:0; its port in |*port|. */
static int udp_receiver(unsigned *port) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ck_assert_int_ge(fd, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)(void *)&a, sizeof(a)), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)(void *)&a, &alen), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

/* Receives the datagrams waiting on |fd| (they were sent before); stores
 * their sizes. */
static size_t recv_sizes(int fd, size_t *sizes, size_t max, struct bytes *all) {
  size_t n = 0;
  uint8_t buf[65536];
  for (;;) {
    ssize_t r = recv(fd, buf, sizeof(buf), n == 0 ? 0 : MSG_DONTWAIT);
    if (r < 0) {
      ck_assert_int_eq(errno, EAGAIN);
      return n;
    }
    ck_assert_uint_lt(n, max);
    sizes[n++] = (size_t)r;
    bytes_add(all, buf, (size_t)r);
  }
}

START_TEST(test_sink_udp) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  int rai[22] = {0};
  struct bytes b = {0}, got = {0};
  size_t sizes[16];
  char spec[64], err[256] = "", raw[3000];
  unsigned port;
  sc_sink *k = NULL;
  sc_sink_stats st;
  int fd = udp_receiver(&port);
  ts_stream(&b, 22, rai);
  snprintf(spec, sizeof(spec), "udp://127.0.0.1:%u", port);
  ck_assert_msg(sc_sink_open(&k, loop, spec, 0, err, sizeof(err)) == 0, "%s",
                err);
  /* 20 packets: 7 + 7 + 6. */
  sc_sink_write(k, b.data, 20 * 188, 1);
  ck_assert_uint_eq(recv_sizes(fd, sizes, 16, &got), 3);
  ck_assert_uint_eq(sizes[0], 1316);
  ck_assert_uint_eq(sizes[1], 1316);
  ck_assert_uint_eq(sizes[2], 1128);
  /* A packet and a half, then the other half: whole packets only. */
  sc_sink_write(k, b.data + 20 * 188, 282, 0);
  ck_assert_uint_eq(recv_sizes(fd, sizes, 16, &got), 1);
  ck_assert_uint_eq(sizes[0], 188);
  sc_sink_write(k, b.data + 20 * 188 + 282, 94, 0);
  ck_assert_uint_eq(recv_sizes(fd, sizes, 16, &got), 1);
  ck_assert_uint_eq(sizes[0], 188);
  ck_assert_uint_eq(got.len, b.len);
  ck_assert_mem_eq(got.data, b.data, b.len);
  sc_sink_get_stats(k, &st);
  ck_assert_uint_eq(st.bytes_in, b.len);
  ck_assert_uint_eq(st.bytes_written, b.len);
  sc_sink_close(k);
  /* Not TS: plain 1316-byte cuts. */
  memset(raw, 'x', sizeof(raw));
  ck_assert_int_eq(sc_sink_open(&k, loop, spec, 0, err, sizeof(err)), 0);
  sc_sink_write(k, (const uint8_t *)raw, sizeof(raw), 1);
  ck_assert_uint_eq(recv_sizes(fd, sizes, 16, &got), 3);
  ck_assert_uint_eq(sizes[0], 1316);
  ck_assert_uint_eq(sizes[1], 1316);
  ck_assert_uint_eq(sizes[2], 368);
  sc_sink_close(k);
  close(fd);
  bytes_free(&b);
  bytes_free(&got);
  ev_loop_destroy(loop);
}
END_TEST

/* A blocking TCP client of 127.0.0.1:|port|; |rcvbuf| > 0 shrinks its
 * receive buffer first. */
static int tcp_client(unsigned port, int rcvbuf) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  if (rcvbuf > 0) {
    ck_assert_int_eq(
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
  }
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)(void *)&a, sizeof(a)), 0);
  return fd;
}

static void send_str(int fd, const char *s) {
  ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Reads what the non-blocking |fd| has; returns 1 at EOF. */
static int drain(int fd, struct bytes *into) {
  uint8_t buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r > 0) {
      bytes_add(into, buf, (size_t)r);
      continue;
    }
    if (r == 0) {
      return 1;
    }
    ck_assert_msg(errno == EAGAIN || errno == ECONNRESET, "recv: %s",
                  strerror(errno));
    return errno == ECONNRESET;
  }
}

/* Runs the loop until |fd| has an EOF; its bytes land in |into|. */
static void read_to_eof(struct ev_loop *loop, int fd, struct bytes *into) {
  uint64_t deadline = mono_ns() + 5000000000u;
  while (!drain(fd, into)) {
    ck_assert_msg(mono_ns() < deadline, "no EOF within 5 s");
    ev_run(loop, EVRUN_NOWAIT);
    usleep(1000);
  }
}

/* Runs the loop until the sink counts |n| clients. */
static void wait_clients(struct ev_loop *loop, sc_sink *k, uint64_t n) {
  uint64_t deadline = mono_ns() + 5000000000u;
  sc_sink_stats st;
  for (;;) {
    sc_sink_get_stats(k, &st);
    if (st.clients_now == n) {
      return;
    }
    ck_assert_msg(mono_ns() < deadline, "%llu clients, want %llu",
                  (unsigned long long)st.clients_now, (unsigned long long)n);
    ev_run(loop, EVRUN_NOWAIT);
    usleep(1000);
  }
}

START_TEST(test_sink_http) {
  const size_t backlog = 256 * 1024, chunk = 1316;
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  struct bytes sent = {0}, fast_in = {0};
  char err[256] = "";
  uint8_t data[1316];
  sc_sink *k = NULL;
  sc_sink_stats st;
  const char *body;
  size_t i, head_len;
  int fast, slow;
  ck_assert_msg(sc_sink_open(&k, loop, "http://127.0.0.1:0/", backlog, err,
                             sizeof(err)) == 0,
                "%s", err);
  ck_assert_uint_ne(sc_sink_local_port(k), 0);
  fast = tcp_client(sc_sink_local_port(k), 0);
  slow = tcp_client(sc_sink_local_port(k), 4096);
  send_str(fast, "GET /live.ts HTTP/1.1\r\nHost: x\r\n\r\n");
  send_str(slow, "GET / HTTP/1.0\n\n");
  ck_assert_int_eq(fcntl(fast, F_SETFL, O_NONBLOCK), 0);
  wait_clients(loop, k, 2);
  /* Not a clean point: nobody has started yet. */
  memset(data, 0xee, sizeof(data));
  sc_sink_write(k, data, sizeof(data), 0);
  /* Write until the slow client is dropped, and a while longer; the fast
   * one reads as it goes and must get every byte from the first clean
   * write on. */
  for (i = 0;; i++) {
    memset(data, (int)(i % 250), sizeof(data));
    memcpy(data, &i, sizeof(i));
    sc_sink_write(k, data, chunk, i % 10 == 0);
    bytes_add(&sent, data, chunk);
    /* Keep the fast reader well inside the bound. */
    for (;;) {
      ev_run(loop, EVRUN_NOWAIT);
      ck_assert_int_eq(drain(fast, &fast_in), 0);
      if (sent.len + 200 <= fast_in.len + backlog / 2) {
        break;
      }
      usleep(100);
    }
    sc_sink_get_stats(k, &st);
    if (st.clients_slow == 1 && sent.len > 4 * backlog) {
      break;
    }
    ck_assert_msg(sent.len < (64u << 20), "slow client never dropped");
  }
  ck_assert_uint_eq(st.clients_now, 1);
  ck_assert_uint_eq(st.clients_total, 2);
  ck_assert_uint_gt(st.bytes_dropped, 0);
  sc_sink_close(k);
  read_to_eof(loop, fast, &fast_in);
  body = memmem(fast_in.data, fast_in.len, "\r\n\r\n", 4);
  ck_assert_ptr_nonnull(body);
  head_len = (size_t)((const uint8_t *)body + 4 - fast_in.data);
  ck_assert_msg(memmem(fast_in.data, head_len, "HTTP/1.1 200 OK\r\n", 17) ==
                    fast_in.data,
                "bad status line");
  ck_assert_ptr_nonnull(
      memmem(fast_in.data, head_len, "Content-Type: video/mp2t\r\n", 26));
  ck_assert_ptr_nonnull(
      memmem(fast_in.data, head_len, "Connection: close\r\n", 19));
  ck_assert_ptr_null(memmem(fast_in.data, head_len, "Content-Length", 14));
  ck_assert_uint_eq(fast_in.len - head_len, sent.len);
  ck_assert_mem_eq(fast_in.data + head_len, sent.data, sent.len);
  close(fast);
  close(slow);
  bytes_free(&sent);
  bytes_free(&fast_in);
  ev_loop_destroy(loop);
}
END_TEST

/* Sends |request| to a fresh HTTP sink and returns the answer's status
 * line. */
static void http_refused(const char *request, const char *want) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  struct bytes in = {0};
  char err[256] = "";
  sc_sink *k = NULL;
  sc_sink_stats st;
  int fd;
  ck_assert_int_eq(
      sc_sink_open(&k, loop, "http://127.0.0.1:0", 0, err, sizeof(err)), 0);
  fd = tcp_client(sc_sink_local_port(k), 0);
  send_str(fd, request);
  ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  read_to_eof(loop, fd, &in);
  bytes_add(&in, "", 1);
  ck_assert_msg(strncmp((const char *)in.data, want, strlen(want)) == 0,
                "got '%s', want '%s'", (const char *)in.data, want);
  sc_sink_get_stats(k, &st);
  ck_assert_uint_eq(st.requests_refused, 1);
  ck_assert_uint_eq(st.clients_total, 0);
  close(fd);
  sc_sink_close(k);
  bytes_free(&in);
  ev_loop_destroy(loop);
}

START_TEST(test_sink_http_refused) {
  char big[SC_SINK_MAX_REQUEST + 100];
  http_refused("garbage\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n");
  http_refused("GET / HTTP/1.1\r\nno colon here\r\n\r\n",
               "HTTP/1.1 400 Bad Request\r\n");
  http_refused("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
               "HTTP/1.1 405 Method Not Allowed\r\n");
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
  http_refused(big, "HTTP/1.1 431 ");
}
END_TEST

START_TEST(test_httpreq) {
  size_t n = 0;
  ck_assert_int_eq(
      sc_httpreq_parse("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest", 31, &n),
      SC_HTTPREQ_GET);
  ck_assert_uint_eq(n, 27);
  ck_assert_int_eq(sc_httpreq_parse("GET / HTTP/1.0\n\n", 16, &n),
                   SC_HTTPREQ_GET);
  ck_assert_int_eq(sc_httpreq_parse("GET / HTTP/1.1\r\nHost: a\r\n", 25, &n),
                   SC_HTTPREQ_MORE);
  ck_assert_int_eq(sc_httpreq_parse("GE", 2, &n), SC_HTTPREQ_MORE);
  ck_assert_int_eq(sc_httpreq_parse("HEAD / HTTP/1.1\r\n\r\n", 19, &n),
                   SC_HTTPREQ_METHOD);
  ck_assert_int_eq(sc_httpreq_parse("\x16\x03\x01", 3, &n),
                   SC_HTTPREQ_MALFORMED);
  ck_assert_int_eq(sc_httpreq_parse("GET /\r\n\r\n", 9, &n),
                   SC_HTTPREQ_MALFORMED);
  ck_assert_int_eq(sc_httpreq_parse("GET / HTTP/2.0\r\n\r\n", 18, &n),
                   SC_HTTPREQ_MALFORMED);
  ck_assert_int_eq(sc_httpreq_parse("GET  / HTTP/1.1\r\n\r\n", 19, &n),
                   SC_HTTPREQ_MALFORMED);
  ck_assert_int_eq(
      sc_httpreq_parse("GET / HTTP/1.1\r\n folded\r\n\r\n", 27, &n),
      SC_HTTPREQ_MALFORMED);
  ck_assert_int_eq(
      sc_httpreq_parse("GET / HTTP/1.1\r\nA: \x01\r\n\r\n", 23, &n),
      SC_HTTPREQ_MALFORMED);
}
END_TEST

/* The target of a checked head, the field-line bound, the refusals. */
START_TEST(test_httpreq_target) {
  static const char head[] = "POST /metrics?a=1 HTTP/1.1\r\n\r\n";
  char buf[SC_HTTPREQ_MAX_FIELDS * 8 + 64], out[256];
  const char *t;
  size_t n = 0, len = 0, i, at;
  ck_assert_int_eq(sc_httpreq_parse(head, sizeof(head) - 1, &n),
                   SC_HTTPREQ_METHOD);
  sc_httpreq_target(head, n, &t, &len);
  ck_assert_uint_eq(len, 12);
  ck_assert(memcmp(t, "/metrics?a=1", 12) == 0);
  /* SC_HTTPREQ_MAX_FIELDS field lines pass, one more does not. */
  at = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
  for (i = 0; i < SC_HTTPREQ_MAX_FIELDS; i++) {
    memcpy(buf + at, "A: b\r\n", 6);
    at += 6;
  }
  memcpy(buf + at, "\r\n", 2);
  ck_assert_int_eq(sc_httpreq_parse(buf, at + 2, &n), SC_HTTPREQ_GET);
  memcpy(buf + at, "A: b\r\n\r\n", 8);
  ck_assert_int_eq(sc_httpreq_parse(buf, at + 8, &n), SC_HTTPREQ_TOO_LARGE);
  n = sc_httpreq_refusal(out, sizeof(out), 404);
  ck_assert_uint_eq(n, strlen(out));
  ck_assert_str_eq(out, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                        "Content-Length: 10\r\nConnection: close\r\n\r\n"
                        "Not Found\n");
  sc_httpreq_refusal(out, sizeof(out), 405);
  ck_assert(strstr(out, "\r\nAllow: GET\r\n") != NULL);
  ck_assert_uint_eq(sc_httpreq_refusal(out, 20, 400), 0);
  ck_assert_int_eq(sc_httpreq_status(SC_HTTPREQ_GET, 0), 0);
  ck_assert_int_eq(sc_httpreq_status(SC_HTTPREQ_MORE, 0), 0);
  ck_assert_int_eq(sc_httpreq_status(SC_HTTPREQ_MORE, 1), 431);
  ck_assert_int_eq(sc_httpreq_status(SC_HTTPREQ_METHOD, 0), 405);
  ck_assert_int_eq(sc_httpreq_status(SC_HTTPREQ_MALFORMED, 0), 400);
  ck_assert_int_eq(sc_httpreq_status(SC_HTTPREQ_TOO_LARGE, 0), 431);
}
END_TEST

START_TEST(test_sink_stdout) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  int pfd[2], saved = dup(STDOUT_FILENO);
  struct bytes in = {0};
  uint8_t data[1024];
  char err[256] = "";
  sc_sink *k = NULL;
  sc_sink_stats st;
  size_t i, queued;
  ck_assert_int_ge(saved, 0);
  ck_assert_int_eq(pipe(pfd), 0);
  ck_assert_int_eq(dup2(pfd[1], STDOUT_FILENO), STDOUT_FILENO);
  close(pfd[1]);
  ck_assert_msg(sc_sink_open(&k, loop, "-", 64 * 1024, err, sizeof(err)) == 0,
                "%s", err);
  /* Nobody reads the pipe: 1 MiB must not block; the excess is dropped. */
  for (i = 0; i < 1024; i++) {
    memset(data, (int)i, sizeof(data));
    sc_sink_write(k, data, sizeof(data), i % 16 == 0);
  }
  sc_sink_get_stats(k, &st);
  ck_assert_uint_eq(st.bytes_in, 1024 * 1024);
  ck_assert_uint_gt(st.bytes_dropped, 0);
  ck_assert_uint_gt(st.bytes_written, 0);
  queued = (size_t)(st.bytes_in - st.bytes_written - st.bytes_dropped);
  ck_assert_uint_le(queued, 64 * 1024);
  /* The reader catches up: what was queued goes out, and after the
   * overflow the output restarts at a clean write. */
  ck_assert_int_eq(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
  while (drain(pfd[0], &in) == 0 && in.len < st.bytes_written + queued) {
    ev_run(loop, EVRUN_NOWAIT);
  }
  ck_assert_uint_eq(in.len, st.bytes_written + queued);
  ck_assert_uint_eq(in.len % 1024, 0);
  /* The reader goes away: counted, not fatal (SIGPIPE is ignored). */
  close(pfd[0]);
  sc_sink_write(k, data, sizeof(data), 1);
  sc_sink_write(k, data, sizeof(data), 1);
  sc_sink_get_stats(k, &st);
  ck_assert_uint_eq(st.write_errors, 1);
  sc_sink_close(k);
  ck_assert_int_eq(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
  close(saved);
  bytes_free(&in);
  ev_loop_destroy(loop);
}
END_TEST

START_TEST(test_sink_refused) {
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  char err[256] = "";
  sc_sink *k = (sc_sink *)1;
  ck_assert_int_eq(
      sc_sink_open(&k, loop, "udp://127.0.0.1:0", 0, err, sizeof(err)), -1);
  ck_assert_ptr_null(k);
  ck_assert_str_eq(err, "invalid port (must be 1-65535)");
  ck_assert_int_eq(
      sc_sink_open(&k, loop, "http://127.0.0.1:8080/x.ts", 0, err, sizeof(err)),
      -1);
  ck_assert_ptr_nonnull(strstr(err, "no path may follow"));
  ck_assert_int_eq(sc_sink_open(&k, loop, "file:/tmp/x", 0, err, sizeof(err)),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "unknown sink"));
  ev_loop_destroy(loop);
}
END_TEST

/* ---- stream key --------------------------------------------------------- */

START_TEST(test_streamkey) {
  sc_streamkey k1, k2;
  uint8_t pub[SC_STREAMKEY_PUBLIC_LEN], sig[crypto_sign_BYTES];
  char path[128], hex[SC_STREAMKEY_HEX_LEN], upper[SC_STREAMKEY_HEX_LEN],
      err[512] = "";
  struct stat st;
  int created = -1;
  size_t i;
  snprintf(path, sizeof(path), "%s/stream.key", dir);
  ck_assert_msg(sc_streamkey_load_or_create(&k1, path, "--stream-key", &created,
                                            err, sizeof(err)) == 0,
                "%s", err);
  ck_assert_int_eq(created, 1);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(st.st_size, SC_STREAMKEY_SEED_LEN);
  ck_assert_int_eq(sc_streamkey_load_or_create(&k2, path, "--stream-key",
                                               &created, err, sizeof(err)),
                   0);
  ck_assert_int_eq(created, 0);
  ck_assert_mem_eq(k1.pub, k2.pub, sizeof(k1.pub));
  ck_assert_mem_eq(k1.secret, k2.secret, sizeof(k1.secret));
  /* The secret signs, the public key verifies. */
  ck_assert_int_eq(
      crypto_sign_detached(sig, NULL, (const uint8_t *)"m", 1, k1.secret), 0);
  ck_assert_int_eq(
      crypto_sign_verify_detached(sig, (const uint8_t *)"m", 1, k1.pub), 0);
  sc_streamkey_hex(hex, k1.pub);
  ck_assert_uint_eq(strlen(hex), 64);
  for (i = 0; i < 64; i++) {
    ck_assert(strchr("0123456789abcdef", hex[i]) != NULL);
    upper[i] = hex[i] >= 'a' ? (char)(hex[i] - 32) : hex[i];
  }
  upper[64] = '\0';
  ck_assert_int_eq(sc_streamkey_parse_hex(pub, upper), 0);
  ck_assert_mem_eq(pub, k1.pub, sizeof(pub));
  ck_assert_int_eq(sc_streamkey_parse_hex(pub, "abc"), -1);
  upper[10] = 'g';
  ck_assert_int_eq(sc_streamkey_parse_hex(pub, upper), -1);
  sc_streamkey_wipe(&k1);
  sc_streamkey_wipe(&k2);
}
END_TEST

/* sc_streamkey_load_or_create(|path|) must fail with |want|. */
static void streamkey_refused(const char *path, const char *want) {
  sc_streamkey k;
  static const uint8_t zero[sizeof(k)];
  char err[512] = "";
  int created;
  ck_assert_int_eq(sc_streamkey_load_or_create(&k, path, "--stream-key",
                                               &created, err, sizeof(err)),
                   -1);
  ck_assert_msg(strstr(err, want) != NULL, "got '%s', want '%s'", err, want);
  ck_assert_mem_eq(&k, zero, sizeof(k));
}

START_TEST(test_streamkey_refused) {
  char path[128], want[600];
  snprintf(path, sizeof(path), "%s/k", dir);
  write_file(path, "0123456789abcdef0123456789abcdef", 32);
  ck_assert_int_eq(chmod(path, 0640), 0);
  snprintf(want, sizeof(want),
           "--stream-key %s has mode 0640: group and others must have no "
           "access (chmod 600 %s)",
           path, path);
  streamkey_refused(path, want);
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(truncate(path, 31), 0);
  snprintf(want, sizeof(want), "--stream-key %s: expected 32 bytes, found 31",
           path);
  streamkey_refused(path, want);
  streamkey_refused(dir, "not a regular file");
  snprintf(path, sizeof(path), "%s/missing/k", dir);
  streamkey_refused(path, "cannot create: No such file or directory");
}
END_TEST

/* ---- config ------------------------------------------------------------- */

/* Loads |args| (NULL-terminated) after "stratocastd --listen ...
 * --state-dir /st". Returns sc_config_load's result. */
/* An argv of writable copies, as main() gets. */
struct args {
  int argc;
  char *argv[32];
  char text[32][300];
};

static void args_add(struct args *a, const char *s) {
  ck_assert_int_lt(a->argc, 31);
  ck_assert_uint_lt(strlen(s), sizeof(a->text[0]));
  strcpy(a->text[a->argc], s);
  a->argv[a->argc] = a->text[a->argc];
  a->argc++;
  a->argv[a->argc] = NULL;
}

/* Adds the NULL-terminated strings of |ap|. */
static void args_addv(struct args *a, va_list ap) {
  const char *s;
  while ((s = va_arg(ap, const char *)) != NULL) {
    args_add(a, s);
  }
}

/* Loads "stratocastd --listen 127.0.0.1:0 --state-dir /st" and the
 * NULL-terminated arguments that follow |errlen|. */
static int load(sc_config *cfg, char *err, size_t errlen, ...) {
  static struct args a;
  va_list ap;
  memset(&a, 0, sizeof(a));
  args_add(&a, "stratocastd");
  args_add(&a, "--listen");
  args_add(&a, "127.0.0.1:0");
  args_add(&a, "--state-dir");
  args_add(&a, "/st");
  va_start(ap, errlen);
  args_addv(&a, ap);
  va_end(ap);
  err[0] = '\0';
  return sc_config_load(cfg, a.argc, a.argv, err, errlen);
}

/* Loading the NULL-terminated arguments after |want| must fail with the
 * message |want|. */
static void config_refused(const char *want, ...) {
  static struct args a;
  char err[512] = "";
  sc_config cfg;
  va_list ap;
  memset(&a, 0, sizeof(a));
  args_add(&a, "stratocastd");
  args_add(&a, "--listen");
  args_add(&a, "127.0.0.1:0");
  va_start(ap, want);
  args_addv(&a, ap);
  va_end(ap);
  ck_assert_int_eq(sc_config_load(&cfg, a.argc, a.argv, err, sizeof(err)), -1);
  ck_assert_msg(strcmp(err, want) == 0, "got '%s', want '%s'", err, want);
}

START_TEST(test_config_stream) {
  char err[512];
  sc_config cfg;
  ck_assert_msg(load(&cfg, err, sizeof(err), "--group", "g", "--publish",
                     "cam 1", "--source", "file:/v.ts", "--rate", "2500k",
                     NULL) == 0,
                "%s", err);
  ck_assert_str_eq(cfg.publish.value, "cam 1");
  ck_assert_str_eq(cfg.source.value, "file:/v.ts");
  ck_assert_str_eq(cfg.stream_key.value, "/st/stream.key");
  ck_assert_str_eq(cfg.stream_key.origin, "--stream-key");
  ck_assert_uint_eq(cfg.rate_bps, 2500000);
  ck_assert_uint_eq(cfg.window_ns, 8000000000u);
  ck_assert_ptr_null(cfg.play.value);
  ck_assert_ptr_null(cfg.sink.value);
  sc_config_free(&cfg);
  ck_assert_msg(load(&cfg, err, sizeof(err), "--group", "g", "--play", "cam",
                     "--window", "1500ms", "--publisher",
                     "00112233445566778899AABBCCDDEEFF"
                     "00112233445566778899aabbccddeeff",
                     "--stream-key", "/k", NULL) == 0,
                "%s", err);
  ck_assert_str_eq(cfg.sink.value, "-");
  ck_assert_uint_eq(cfg.window_ns, 1500000000u);
  ck_assert_str_eq(cfg.stream_key.value, "/k");
  sc_config_free(&cfg);
  ck_assert_int_eq(load(&cfg, err, sizeof(err), "--group", "g", "--play", "c",
                        "--sink", "http://[::]:8080/", "--window", "60s", NULL),
                   0);
  ck_assert_uint_eq(cfg.window_ns, 60000000000u);
  sc_config_free(&cfg);
}
END_TEST

START_TEST(test_config_stream_refused) {
  char long_name[200];
  memset(long_name, 'n', 129);
  long_name[129] = '\0';
  config_refused("--source requires --publish", "--source", "-", NULL);
  config_refused("--publish requires --source", "--group", "g", "--publish",
                 "x", NULL);
  config_refused("--publish requires --group", "--publish", "x", "--source",
                 "-", NULL);
  config_refused("--play requires --group", "--play", "x", NULL);
  config_refused("--sink requires --play", "--sink", "-", NULL);
  config_refused("--publisher requires --play", "--publisher",
                 "0000000000000000000000000000000000000000000000000000000000"
                 "000000",
                 NULL);
  config_refused("--rate requires --source", "--rate", "1M", NULL);
  config_refused("--rate paces file sources only (--source file:PATH)",
                 "--group", "g", "--publish", "x", "--source",
                 "udp://0.0.0.0:1234", "--rate", "1M", NULL);
  config_refused("--publish: stream name too long (129 bytes, at most 128)",
                 "--publish", long_name, NULL);
  config_refused("--play: stream name contains a control character", "--play",
                 "a\tb", NULL);
  config_refused("--source tcp://x:1: unknown source (want -, "
                 "udp://ADDR:PORT or file:PATH)",
                 "--source", "tcp://x:1", NULL);
  config_refused("--source file:: missing path after 'file:'", "--source",
                 "file:", NULL);
  config_refused("--sink udp://[::1]:0: invalid port (must be 1-65535)",
                 "--sink", "udp://[::1]:0", NULL);
  config_refused("--rate 0: invalid rate (want whole bits/s from 1 to 10G, "
                 "with an optional k or M: 2500k)",
                 "--rate", "0", NULL);
  config_refused("--rate 2.5M: invalid rate (want whole bits/s from 1 to 10G, "
                 "with an optional k or M: 2500k)",
                 "--rate", "2.5M", NULL);
  config_refused("--publisher abc: not a publisher key (want 64 hex "
                 "characters)",
                 "--publisher", "abc", NULL);
  config_refused("--window 500ms: invalid duration (want 1s to 60s, as 8s or "
                 "1500ms)",
                 "--window", "500ms", NULL);
  config_refused("--window 8: invalid duration (want 1s to 60s, as 8s or "
                 "1500ms)",
                 "--window", "8", NULL);
  /* 18446744075 s is 1.29 s modulo 2^64 ns: no wrapping into range. */
  config_refused("--window 18446744075s: invalid duration (want 1s to 60s, as "
                 "8s or 1500ms)",
                 "--window", "18446744075s", NULL);
  config_refused("--window 61s: invalid duration (want 1s to 60s, as 8s or "
                 "1500ms)",
                 "--window", "61s", NULL);
}
END_TEST

static Suite *streamio_suite(void) {
  Suite *s = suite_create("streamio");
  TCase *tc = tcase_create("mpegts");
  tcase_add_test(tc, test_pcr_parse);
  tcase_add_test(tc, test_pcr_wrap);
  tcase_add_test(tc, test_detect);
  suite_add_tcase(s, tc);
  tc = tcase_create("chunker");
  tcase_add_test(tc, test_chunker_ts_keyframes);
  tcase_add_test(tc, test_chunker_pcr_pid_keyframes);
  tcase_add_test(tc, test_chunker_lead_in);
  tcase_add_test(tc, test_chunker_resync);
  tcase_add_test(tc, test_chunker_max_payload);
  tcase_add_test(tc, test_chunker_raw);
  tcase_add_test(tc, test_chunker_raw_slow);
  tcase_add_test(tc, test_chunker_gate);
  suite_add_tcase(s, tc);
  tc = tcase_create("source");
  tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_source_file_rate);
  tcase_add_test(tc, test_source_file_pcr);
  tcase_add_test(tc, test_source_refused);
  tcase_add_test(tc, test_source_udp);
  tcase_add_test(tc, test_source_udp6);
  tcase_add_test(tc, test_source_stdin);
  suite_add_tcase(s, tc);
  tc = tcase_create("sink");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_sink_udp);
  tcase_add_test(tc, test_sink_http);
  tcase_add_test(tc, test_sink_http_refused);
  tcase_add_test(tc, test_httpreq);
  tcase_add_test(tc, test_httpreq_target);
  tcase_add_test(tc, test_sink_stdout);
  tcase_add_test(tc, test_sink_refused);
  suite_add_tcase(s, tc);
  tc = tcase_create("streamkey");
  tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
  tcase_add_test(tc, test_streamkey);
  tcase_add_test(tc, test_streamkey_refused);
  suite_add_tcase(s, tc);
  tc = tcase_create("config");
  tcase_add_test(tc, test_config_stream);
  tcase_add_test(tc, test_config_stream_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(streamio_suite()); }
