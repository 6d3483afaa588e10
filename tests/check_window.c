/*
 * check_window.c: one stream's window of recent fragments
 * (src/core/sc_window.c, doc/protocol.md §12.4).
 *
 * A test publisher signs blocks with a real Ed25519 key; forgers use a
 * second key, flipped bits and another stream. Memory goes through a
 * counting sc_mem that tracks live bytes and can fail the N-th allocation
 * (run under ASan for leaks and bad frees).
 */
#include <check.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_stream.h"
#include "sc_window.h"
#include "sc_wire.h"
#include "stratocast.h"

#define SPAN_US UINT64_C(8000000)
#define FRAG_CAP 128

static uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];
static uint8_t pk2[SC_STREAM_KEY_LEN], sk2[SC_STREAM_SECRET_LEN];
static uint8_t sid[SC_STREAM_ID_LEN], sid2[SC_STREAM_ID_LEN];

/* ---- counting, failing allocator ------------------------------------------
 */

typedef struct cmem {
  size_t live;      /* bytes allocated and not freed */
  uint64_t count;   /* allocations attempted */
  uint64_t fail_at; /* this one fails; 0: none */
  uint64_t failures;
} cmem;

#define HDR sizeof(max_align_t)

static void *cm_alloc(cmem *c, void *old, size_t size, int zero) {
  unsigned char *p;
  size_t old_size = old ? *(size_t *)(void *)((unsigned char *)old - HDR) : 0;
  if (++c->count == c->fail_at) {
    c->failures++;
    return NULL;
  }
  p = realloc(old ? (unsigned char *)old - HDR : NULL, size + HDR);
  if (p == NULL) {
    return NULL;
  }
  if (zero) {
    memset(p + HDR, 0, size);
  }
  *(size_t *)(void *)p = size;
  c->live = c->live - old_size + size;
  return p + HDR;
}

static void *cm_malloc(size_t size, void *user) {
  return cm_alloc(user, NULL, size, 0);
}

static void *cm_calloc(size_t n, size_t size, void *user) {
  return cm_alloc(user, NULL, n * size, 1);
}

static void *cm_realloc(void *ptr, size_t size, void *user) {
  return cm_alloc(user, ptr, size, 0);
}

static void cm_free(void *ptr, void *user) {
  cmem *c = user;
  unsigned char *p = (unsigned char *)ptr - HDR;
  c->live -= *(size_t *)(void *)p;
  free(p);
}

static cmem cm;
static const sc_mem cm_table = {&cm, cm_malloc, cm_free, cm_calloc, cm_realloc};

/* ---- publisher ------------------------------------------------------------
 */

static void setup(void) {
  uint8_t seed[crypto_sign_SEEDBYTES];
  size_t i;
  for (i = 0; i < sizeof(seed); i++) {
    seed[i] = (uint8_t)(i + 1);
  }
  crypto_sign_seed_keypair(pk, sk, seed);
  for (i = 0; i < sizeof(seed); i++) {
    seed[i] = (uint8_t)(0x80 + i);
  }
  crypto_sign_seed_keypair(pk2, sk2, seed);
  ck_assert_int_eq(sc_stream_id(sid, pk, "live", 4), 0);
  ck_assert_int_eq(sc_stream_id(sid2, pk2, "live", 4), 0);
  memset(&cm, 0, sizeof(cm));
}

/* One published block: its fragments and its encoded manifest. */
typedef struct block {
  uint8_t frag[SC_STREAM_BLOCK][FRAG_CAP];
  size_t len[SC_STREAM_BLOCK];
  uint8_t man[SC_MANIFEST_MAX_LEN];
  size_t man_len;
} block;

/* Timestamps: 10 ms per seq (100 fragments a second). */
static uint64_t ts_of(uint64_t seq) { return seq * 10000; }

static size_t frag_encode(uint8_t *buf, const uint8_t *id, uint64_t seq,
                          const char *payload) {
  sc_frag f;
  sc_wr w;
  memcpy(f.stream_id, id, SC_STREAM_ID_LEN);
  f.seq = seq;
  f.timestamp_us = ts_of(seq);
  f.flags = seq % SC_STREAM_BLOCK == 0 ? SC_FRAG_KEYFRAME : 0;
  f.payload = (const uint8_t *)payload;
  f.payload_len = strlen(payload);
  sc_wr_init(&w, buf, FRAG_CAP);
  ck_assert_int_eq(sc_frag_write(&w, &f), 0);
  return w.len;
}

/* Publishes block |first| (|count| fragments) of stream |id|, signed with
 * |secret|. Payload lengths vary with seq so byte counts are checked. */
static void publish(block *b, const uint8_t *id, const uint8_t *secret,
                    uint64_t first, unsigned count) {
  sc_manifest m;
  sc_wr w;
  char payload[64];
  unsigned i;
  memset(&m, 0, sizeof(m));
  memcpy(m.stream_id, id, SC_STREAM_ID_LEN);
  m.first = first;
  m.count = count;
  for (i = 0; i < count; i++) {
    /* A forger (another secret) publishes other bytes. */
    snprintf(payload, sizeof(payload), "%s %llu %.*s",
             secret == sk ? "frag" : "evil", (unsigned long long)(first + i),
             (int)((first + i) % 23), "xxxxxxxxxxxxxxxxxxxxxxxxx");
    b->len[i] = frag_encode(b->frag[i], id, first + i, payload);
    sc_frag_hash(m.hash[i], b->frag[i], b->len[i]);
  }
  ck_assert_int_eq(sc_manifest_sign(&m, secret), 0);
  sc_wr_init(&w, b->man, sizeof(b->man));
  ck_assert_int_eq(sc_manifest_write(&w, &m), 0);
  b->man_len = w.len;
}

static sc_window *win_new(void) {
  sc_window *w;
  ck_assert_int_eq(sc_window_new(&w, &cm_table, sid, pk, SPAN_US), 0);
  return w;
}

static int add_frag(sc_window *w, const block *b, size_t i) {
  return sc_window_add_fragment(w, b->frag[i], b->len[i], 7, 0);
}

/* Adds a manifest; |*released| learns how many fragments it released. */
static int man_bytes(sc_window *w, const uint8_t *data, size_t len,
                     size_t *released) {
  sc_window_release rel;
  int rv = sc_window_add_manifest(w, data, len, 0, &rel);
  if (released != NULL) {
    *released = rv == SC_WIN_ACCEPTED ? rel.n : 0;
  }
  return rv;
}

static int add_man(sc_window *w, const block *b, size_t *released) {
  return man_bytes(w, b->man, b->man_len, released);
}

/* ---- tests ----------------------------------------------------------------
 */

START_TEST(test_in_order) {
  sc_window *w = win_new();
  block b;
  sc_window_stats st;
  const uint8_t *p;
  size_t len, released = 99, bytes = 0;
  unsigned i;
  publish(&b, sid, sk, 32, SC_STREAM_BLOCK);
  ck_assert_uint_eq(sc_window_highest(w), UINT64_MAX);
  ck_assert_uint_eq(sc_window_lowest(w), UINT64_MAX);
  ck_assert_int_eq(add_man(w, &b, &released), SC_WIN_ACCEPTED);
  ck_assert_uint_eq(released, 0);
  for (i = 0; i < SC_STREAM_BLOCK; i++) {
    ck_assert_int_eq(add_frag(w, &b, i), SC_WIN_ACCEPTED);
    bytes += b.len[i];
  }
  for (i = 0; i < SC_STREAM_BLOCK; i++) {
    p = sc_window_get(w, 32 + i, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(len, b.len[i]);
    ck_assert_mem_eq(p, b.frag[i], len);
    ck_assert(sc_window_has(w, 32 + i));
    p = sc_window_manifest(w, 32 + i, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(len, b.man_len);
    ck_assert_mem_eq(p, b.man, len);
  }
  ck_assert_ptr_null(sc_window_get(w, 31, &len));
  ck_assert_ptr_null(sc_window_get(w, 48, &len));
  ck_assert_ptr_null(sc_window_manifest(w, 48, &len));
  ck_assert(!sc_window_has(w, 48));
  ck_assert_uint_eq(sc_window_lowest(w), 32);
  ck_assert_uint_eq(sc_window_highest(w), 47);
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.accepted, SC_STREAM_BLOCK);
  ck_assert_uint_eq(st.fragments_held, SC_STREAM_BLOCK);
  ck_assert_uint_eq(st.bytes_held, bytes);
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
}
END_TEST

START_TEST(test_pending_released) {
  sc_window *w = win_new();
  block b;
  sc_window_stats st;
  size_t released = 0;
  unsigned i;
  publish(&b, sid, sk, 0, 5); /* a flushed, short block */
  for (i = 0; i < 5; i++) {
    ck_assert_int_eq(add_frag(w, &b, i), SC_WIN_PENDING);
    ck_assert(!sc_window_has(w, i));
  }
  ck_assert_uint_eq(sc_window_highest(w), UINT64_MAX);
  ck_assert_int_eq(add_man(w, &b, &released), SC_WIN_ACCEPTED);
  ck_assert_uint_eq(released, 5);
  for (i = 0; i < 5; i++) {
    ck_assert(sc_window_has(w, i));
  }
  ck_assert_uint_eq(sc_window_highest(w), 4);
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.pending_released, 5);
  ck_assert_uint_eq(st.fragments_held, 5);
  /* Seqs past the short block belong to a later block: they wait. */
  {
    uint8_t buf[FRAG_CAP];
    size_t len = frag_encode(buf, sid, 7, "seven");
    ck_assert_int_eq(sc_window_add_fragment(w, buf, len, 7, 0), SC_WIN_PENDING);
  }
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
}
END_TEST

/* Blocks start anywhere: short flushed blocks follow each other with no
 * hole in the seqs, and each fragment is checked against its own block. */
START_TEST(test_unaligned_blocks) {
  sc_window *w = win_new();
  block a, b, c;
  size_t released = 0, i, len;
  publish(&a, sid, sk, 0, 5);
  publish(&b, sid, sk, 5, 3);
  publish(&c, sid, sk, 8, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_frag(w, &b, 2), SC_WIN_PENDING);
  ck_assert_int_eq(add_frag(w, &c, 0), SC_WIN_PENDING);
  ck_assert_int_eq(add_man(w, &b, &released), SC_WIN_ACCEPTED);
  ck_assert_uint_eq(released, 1); /* seq 7, not seq 8 of the next block */
  ck_assert(sc_window_has(w, 7));
  ck_assert(sc_window_pending(w, 8));
  ck_assert_ptr_null(sc_window_manifest(w, 4, &len));
  ck_assert_ptr_null(sc_window_manifest(w, 8, &len));
  ck_assert_ptr_nonnull(sc_window_manifest(w, 5, &len));
  ck_assert_int_eq(add_man(w, &a, &released), SC_WIN_ACCEPTED);
  ck_assert_int_eq(add_man(w, &c, &released), SC_WIN_ACCEPTED);
  ck_assert_uint_eq(released, 1);
  for (i = 0; i < 5; i++) {
    ck_assert_int_eq(add_frag(w, &a, i), SC_WIN_ACCEPTED);
  }
  /* A's fragment 4 is not b's first: each block checks its own. */
  ck_assert_int_eq(add_frag(w, &b, 0), SC_WIN_ACCEPTED);
  ck_assert_int_eq(sc_window_add_fragment(w, a.frag[4], a.len[4], 7, 0),
                   SC_WIN_DUPLICATE);
  /* frag_encode flags seqs that are multiples of 16 as keyframes. */
  ck_assert_uint_eq(sc_window_keyframe(w), 0);
  for (i = 1; i < SC_STREAM_BLOCK; i++) {
    ck_assert_int_eq(add_frag(w, &c, i), SC_WIN_ACCEPTED);
  }
  ck_assert_uint_eq(sc_window_keyframe(w), 16);
  sc_window_del(w);
}
END_TEST

START_TEST(test_forged_fragments) {
  sc_window *w = win_new();
  block b, other;
  sc_window_stats st;
  uint8_t bad[FRAG_CAP];
  size_t len;
  publish(&b, sid, sk, 0, SC_STREAM_BLOCK);
  /* Before the manifest: a flipped payload bit waits, then is dropped. */
  memcpy(bad, b.frag[3], b.len[3]);
  bad[b.len[3] - 1] ^= 1;
  ck_assert_int_eq(sc_window_add_fragment(w, bad, b.len[3], 9, 100),
                   SC_WIN_PENDING);
  ck_assert_int_eq(add_frag(w, &b, 4), SC_WIN_PENDING);
  ck_assert(sc_window_pending(w, 3));
  ck_assert(!sc_window_pending(w, 5));
  {
    sc_window_release rel;
    ck_assert_int_eq(sc_window_add_manifest(w, b.man, b.man_len, 500, &rel),
                     SC_WIN_ACCEPTED);
    /* The manifest names who sent the forgery and what it released. */
    ck_assert_uint_eq(rel.n, 1);
    ck_assert_uint_eq(rel.seq[0], 4);
    ck_assert_uint_eq(rel.nforged, 1);
    ck_assert_uint_eq(rel.forged_src[0], 9);
  }
  ck_assert_uint_eq(sc_window_arrival(w, 4), 500);
  ck_assert_uint_eq(sc_window_arrival(w, 3), UINT64_MAX);
  ck_assert(!sc_window_pending(w, 3));
  ck_assert(!sc_window_has(w, 3));
  ck_assert(sc_window_has(w, 4));
  /* After it: refused at once; the real one still gets in. */
  ck_assert_int_eq(sc_window_add_fragment(w, bad, b.len[3], 7, 0),
                   SC_WIN_FORGED);
  ck_assert_int_eq(add_frag(w, &b, 3), SC_WIN_ACCEPTED);
  /* A forger's own block for our stream ID, signed with its key. */
  publish(&other, sid, sk2, 0, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_frag(w, &other, 5), SC_WIN_FORGED);
  /* Another stream's fragment. */
  publish(&other, sid2, sk2, 16, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_frag(w, &other, 0), SC_WIN_MALFORMED);
  ck_assert_int_eq(sc_window_add_fragment(w, bad, 10, 7, 0), SC_WIN_MALFORMED);
  ck_assert(!sc_window_has(w, 5));
  ck_assert(!sc_window_has(w, 16));
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.forged, 3);
  ck_assert_uint_eq(st.malformed, 2);
  ck_assert_uint_eq(st.fragments_held, 2);
  ck_assert_ptr_nonnull(sc_window_get(w, 3, &len));
  ck_assert_mem_eq(sc_window_get(w, 3, &len), b.frag[3], len);
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
}
END_TEST

START_TEST(test_forged_manifest) {
  sc_window *w = win_new();
  block b, other;
  sc_window_stats st;
  uint8_t bad[SC_MANIFEST_MAX_LEN];
  size_t released = 99;
  unsigned i;
  publish(&b, sid, sk, 16, SC_STREAM_BLOCK);
  for (i = 0; i < SC_STREAM_BLOCK; i++) {
    ck_assert_int_eq(add_frag(w, &b, i), SC_WIN_PENDING);
  }
  memcpy(bad, b.man, b.man_len);
  bad[b.man_len - 1] ^= 0x80; /* the signature */
  ck_assert_int_eq(man_bytes(w, bad, b.man_len, &released), SC_WIN_FORGED);
  ck_assert_uint_eq(released, 0);
  /* The same fragments, listed by a manifest signed with another key. */
  memcpy(&other, &b, sizeof(b));
  publish(&other, sid, sk2, 16, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_man(w, &other, &released), SC_WIN_FORGED);
  ck_assert_uint_eq(released, 0);
  /* Another stream's genuine manifest; bytes that do not decode. */
  publish(&other, sid2, sk2, 16, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_man(w, &other, NULL), SC_WIN_MALFORMED);
  ck_assert_int_eq(man_bytes(w, b.man, b.man_len - 1, NULL), SC_WIN_MALFORMED);
  ck_assert(!sc_window_has(w, 16));
  ck_assert_ptr_null(sc_window_manifest(w, 16, &released));
  ck_assert_int_eq(add_man(w, &b, &released), SC_WIN_ACCEPTED);
  ck_assert_uint_eq(released, SC_STREAM_BLOCK);
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.forged, 2);
  ck_assert_uint_eq(st.malformed, 2);
  sc_window_del(w);
}
END_TEST

START_TEST(test_duplicates) {
  sc_window *w = win_new();
  block b;
  sc_window_stats st;
  publish(&b, sid, sk, 0, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_frag(w, &b, 0), SC_WIN_PENDING);
  ck_assert_int_eq(add_frag(w, &b, 0), SC_WIN_DUPLICATE);
  ck_assert_int_eq(add_man(w, &b, NULL), SC_WIN_ACCEPTED);
  ck_assert_int_eq(add_man(w, &b, NULL), SC_WIN_DUPLICATE);
  ck_assert_int_eq(add_frag(w, &b, 0), SC_WIN_DUPLICATE);
  ck_assert_int_eq(add_frag(w, &b, 1), SC_WIN_ACCEPTED);
  ck_assert_int_eq(add_frag(w, &b, 1), SC_WIN_DUPLICATE);
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.duplicates, 4);
  ck_assert_uint_eq(st.fragments_held, 2);
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
}
END_TEST

START_TEST(test_pending_bound) {
  sc_window *w = win_new();
  sc_window_stats st;
  uint8_t buf[FRAG_CAP];
  size_t len;
  uint64_t i;
  /* Full: each new copy evicts the one that has waited longest. */
  for (i = 0; i < SC_WINDOW_PENDING_MAX + 2; i++) {
    len = frag_encode(buf, sid, 1000 + i * 3, "p");
    ck_assert_int_eq(sc_window_add_fragment(w, buf, len, 7, 100 + i),
                     SC_WIN_PENDING);
  }
  ck_assert(!sc_window_pending(w, 1000));
  ck_assert(!sc_window_pending(w, 1003));
  ck_assert(sc_window_pending(w, 1006));
  ck_assert(sc_window_pending(w, 1000 + (SC_WINDOW_PENDING_MAX + 1) * 3));
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.pending_dropped, 2);
  ck_assert_uint_eq(st.pending, SC_WINDOW_PENDING_MAX);
  ck_assert_uint_eq(st.fragments_held, 0);
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
}
END_TEST

START_TEST(test_seq_span) {
  sc_window *w = win_new();
  block b, far;
  uint8_t buf[FRAG_CAP];
  size_t len;
  unsigned i;
  publish(&b, sid, sk, 0, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_man(w, &b, NULL), SC_WIN_ACCEPTED);
  for (i = 0; i < SC_STREAM_BLOCK; i++) {
    ck_assert_int_eq(add_frag(w, &b, i), SC_WIN_ACCEPTED);
  }
  len = frag_encode(buf, sid, UINT64_C(1000000000), "far");
  ck_assert_int_eq(sc_window_add_fragment(w, buf, len, 7, 0), SC_WIN_STALE);
  /* Genuinely signed, but too far ahead to hold. */
  publish(&far, sid, sk, UINT64_C(1000000000), SC_STREAM_BLOCK);
  ck_assert_int_eq(add_man(w, &far, NULL), SC_WIN_STALE);
  /* The edge of the span is still fine. */
  len = frag_encode(buf, sid, 15 + SC_WINDOW_SEQ_SPAN, "edge");
  ck_assert_int_eq(sc_window_add_fragment(w, buf, len, 7, 0), SC_WIN_PENDING);
  len = frag_encode(buf, sid, 16 + SC_WINDOW_SEQ_SPAN, "over");
  ck_assert_int_eq(sc_window_add_fragment(w, buf, len, 7, 0), SC_WIN_STALE);
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
}
END_TEST

/* Publishes blocks [from, to) in order, manifest first. */
static void stream_blocks(sc_window *w, uint64_t from, uint64_t to) {
  block b;
  uint64_t k;
  unsigned i;
  for (k = from; k < to; k++) {
    publish(&b, sid, sk, k * SC_STREAM_BLOCK, SC_STREAM_BLOCK);
    ck_assert_int_eq(add_man(w, &b, NULL), SC_WIN_ACCEPTED);
    for (i = 0; i < SC_STREAM_BLOCK; i++) {
      ck_assert_int_eq(add_frag(w, &b, i), SC_WIN_ACCEPTED);
    }
  }
}

START_TEST(test_expiry) {
  sc_window *w = win_new();
  sc_window_stats st;
  block b;
  uint64_t seq, bytes = 0, t, lo;
  size_t live_10s, len;
  stream_blocks(w, 0, 1000 / SC_STREAM_BLOCK); /* 10 s, to seq 991 */
  live_10s = cm.live;
  stream_blocks(w, 1000 / SC_STREAM_BLOCK, 2000 / SC_STREAM_BLOCK);
  /* 20 s at 100/s: the newest is seq 1999 at 19.99 s. */
  ck_assert_uint_eq(sc_window_highest(w), 1999);
  t = ts_of(1999);
  lo = sc_window_lowest(w);
  ck_assert_uint_ge(ts_of(lo), t - SPAN_US);
  ck_assert_uint_lt(ts_of(lo - 1), t - SPAN_US);
  for (seq = lo; seq <= 1999; seq++) {
    ck_assert_ptr_nonnull(sc_window_get(w, seq, &len));
    bytes += len;
  }
  ck_assert(!sc_window_has(w, lo - 1));
  ck_assert_ptr_null(sc_window_manifest(w, 0, &len));
  ck_assert_ptr_nonnull(sc_window_manifest(w, lo, &len));
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.fragments_held, 2000 - lo);
  ck_assert_uint_eq(st.bytes_held, bytes);
  ck_assert_uint_eq(st.accepted, 2000);
  /* Memory follows the window, not the stream. */
  ck_assert_uint_le(cm.live, live_10s + live_10s / 4);
  /* Old fragments and manifests are stale now. */
  publish(&b, sid, sk, 16, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_frag(w, &b, 0), SC_WIN_STALE);
  ck_assert_int_eq(add_man(w, &b, NULL), SC_WIN_STALE);
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
}
END_TEST

START_TEST(test_map) {
  sc_window *w = win_new();
  block b;
  uint8_t out[3];
  unsigned i;
  publish(&b, sid, sk, 0, SC_STREAM_BLOCK);
  ck_assert_int_eq(add_man(w, &b, NULL), SC_WIN_ACCEPTED);
  for (i = 0; i < SC_STREAM_BLOCK; i++) {
    if (i != 3 && i != 9) {
      ck_assert_int_eq(add_frag(w, &b, i), SC_WIN_ACCEPTED);
    }
  }
  memset(out, 0xff, sizeof(out));
  ck_assert_uint_eq(sc_window_map(w, 0, out, 13), 11);
  ck_assert_uint_eq(out[0], 0xf7);
  ck_assert_uint_eq(out[1], 0x1d); /* seqs 8, 10, 11, 12; bits 13.. clear */
  ck_assert_uint_eq(out[2], 0xff); /* untouched */
  memset(out, 0xff, sizeof(out));
  ck_assert_uint_eq(sc_window_map(w, 2, out, 3), 2);
  ck_assert_uint_eq(out[0], 0x05);
  ck_assert_uint_eq(sc_window_map(w, 14, out, 20), 2);
  ck_assert_uint_eq(out[0], 0x03);
  ck_assert_uint_eq(out[1], 0);
  ck_assert_uint_eq(out[2], 0);
  ck_assert_uint_eq(sc_window_map(w, UINT64_MAX - 3, out, 20), 0);
  sc_window_del(w);
}
END_TEST

/* Retries |op| (an expression) while it returns SC_ERR_NOMEM: a failed
 * call must leave the window usable and give the same result again. */
#define RETRY(rv, op)                                                          \
  do {                                                                         \
    (rv) = (op);                                                               \
  } while ((rv) == SC_ERR_NOMEM)

/* A mixed run: pending fragments, released blocks, in-order blocks,
 * enough seqs to make both rings grow. Returns the allocations made. */
static uint64_t alloc_run(uint64_t fail_at) {
  sc_window *w = NULL;
  sc_window_stats st;
  block b;
  size_t released;
  uint64_t k;
  unsigned i;
  int rv;
  memset(&cm, 0, sizeof(cm));
  cm.fail_at = fail_at;
  RETRY(rv, sc_window_new(&w, &cm_table, sid, pk, SPAN_US));
  ck_assert_int_eq(rv, 0);
  for (k = 0; k < 12; k++) {
    publish(&b, sid, sk, k * SC_STREAM_BLOCK, SC_STREAM_BLOCK);
    if (k % 3 == 0) {
      for (i = 0; i < SC_STREAM_BLOCK; i++) {
        RETRY(rv, add_frag(w, &b, i));
        ck_assert_int_eq(rv, SC_WIN_PENDING);
      }
    }
    RETRY(rv, add_man(w, &b, &released));
    ck_assert_int_eq(rv, SC_WIN_ACCEPTED);
    ck_assert_uint_eq(released, k % 3 == 0 ? SC_STREAM_BLOCK : 0);
    for (i = 0; i < SC_STREAM_BLOCK; i++) {
      RETRY(rv, add_frag(w, &b, i));
      ck_assert_int_eq(rv, k % 3 == 0 ? SC_WIN_DUPLICATE : SC_WIN_ACCEPTED);
    }
  }
  sc_window_get_stats(w, &st);
  ck_assert_uint_eq(st.fragments_held, 12 * SC_STREAM_BLOCK);
  ck_assert_uint_eq(sc_window_highest(w), 12 * SC_STREAM_BLOCK - 1);
  ck_assert_uint_eq(sc_window_lowest(w), 0);
  ck_assert_uint_eq(cm.failures, fail_at != 0 && fail_at <= cm.count);
  sc_window_del(w);
  ck_assert_uint_eq(cm.live, 0);
  return cm.count;
}

START_TEST(test_failing_allocations) {
  uint64_t total = alloc_run(0), n;
  ck_assert_uint_gt(total, 50);
  for (n = 1; n <= total; n++) {
    alloc_run(n);
  }
}
END_TEST

static Suite *window_suite(void) {
  Suite *s = suite_create("window");
  TCase *tc = tcase_create("window");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_in_order);
  tcase_add_test(tc, test_pending_released);
  tcase_add_test(tc, test_unaligned_blocks);
  tcase_add_test(tc, test_forged_fragments);
  tcase_add_test(tc, test_forged_manifest);
  tcase_add_test(tc, test_duplicates);
  tcase_add_test(tc, test_pending_bound);
  tcase_add_test(tc, test_seq_span);
  tcase_add_test(tc, test_expiry);
  tcase_add_test(tc, test_map);
  tcase_add_test(tc, test_failing_allocations);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(window_suite()); }
