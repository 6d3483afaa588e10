/*
 * check_stream.c: stream IDs, fragments and signed manifests
 * (src/core/sc_stream.c, doc/protocol.md §12).
 *
 * The layout tests rebuild the documented encodings byte by byte with
 * libsodium directly; the known-answer test pins a stream ID and a
 * fragment hash so that the encoding can never change silently; the
 * robustness test feeds both decoders random bytes and mutations of valid
 * encodings (run it under ASan).
 */
#include <check.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "codec_checks.h"
#include "sc_stream.h"
#include "sc_wire.h"
#include "stratocast.h"

/* Pinned: computed once with this implementation (and cross-checked with
 * Python's hashlib.blake2b and the cryptography package's Ed25519), then
 * written down. Key: Ed25519 seed 0x01..0x20; name "live"; fragment seq 0,
 * timestamp 1000 µs, KEYFRAME, payload "hello". If either changes, the encoding
 * did: that is a new protocol version, not a fix. */
static const char live_pk_hex[] =
    "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
static const char live_id_hex[] =
    "b3f32bcc2a7f83f704209c580ea89b7237c07b24a61cf968b12b2d1f0b769ee1";
static const char hello_hash_hex[] = "8632551b1e1f4dd55c1d0fb5539385ee";

static uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];
static uint8_t pk2[SC_STREAM_KEY_LEN], sk2[SC_STREAM_SECRET_LEN];
static uint8_t sid[SC_STREAM_ID_LEN];

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
}

/* Encodes a fragment of stream |id| into |buf| and returns its length. */
static size_t frag_encode(uint8_t *buf, size_t cap, const uint8_t *id,
                          uint64_t seq, uint64_t ts, uint8_t flags,
                          const char *payload) {
  sc_frag f;
  sc_wr w;
  memcpy(f.stream_id, id, SC_STREAM_ID_LEN);
  f.seq = seq;
  f.timestamp_us = ts;
  f.flags = flags;
  f.payload = (const uint8_t *)payload;
  f.payload_len = payload ? strlen(payload) : 0;
  sc_wr_init(&w, buf, cap);
  ck_assert_int_eq(sc_frag_write(&w, &f), 0);
  ck_assert_uint_eq(w.len, SC_FRAG_HEADER_LEN + f.payload_len);
  return w.len;
}

/* A block of fragments of stream |sid| and its signed manifest. Payloads
 * depend only on the position in the block, so two blocks carry the same
 * payloads at different seqs. */
#define FRAG_CAP 128
typedef struct block {
  sc_manifest m;
  uint8_t frag[SC_STREAM_BLOCK][FRAG_CAP];
  size_t len[SC_STREAM_BLOCK];
} block;

static void block_make(block *b, uint64_t first, unsigned count) {
  unsigned i;
  char payload[32];
  memset(&b->m, 0, sizeof(b->m));
  memcpy(b->m.stream_id, sid, SC_STREAM_ID_LEN);
  b->m.first = first;
  b->m.count = count;
  for (i = 0; i < count; i++) {
    snprintf(payload, sizeof(payload), "payload %u", i);
    b->len[i] =
        frag_encode(b->frag[i], FRAG_CAP, sid, first + i, 1000 * (first + i),
                    i == 0 ? SC_FRAG_KEYFRAME : 0, payload);
    sc_frag_hash(b->m.hash[i], b->frag[i], b->len[i]);
  }
  ck_assert_int_eq(sc_manifest_sign(&b->m, sk), 0);
}

static size_t manifest_encode(uint8_t *buf, size_t cap, const sc_manifest *m) {
  sc_wr w;
  sc_wr_init(&w, buf, cap);
  ck_assert_int_eq(sc_manifest_write(&w, m), 0);
  return w.len;
}

static size_t manifest_len(unsigned count) {
  return SC_STREAM_ID_LEN + 8 + 1 + count * SC_STREAM_HASH_LEN +
         SC_STREAM_SIG_LEN;
}

/* ---- stream IDs ---------------------------------------------------------- */

START_TEST(test_id_layout) {
  static const char domain[] = "stratocast stream v1";
  uint8_t in[20 + 32 + 1 + 4], want[32], got[32];
  memcpy(in, domain, 20);
  memcpy(in + 20, pk, 32);
  in[52] = 4;
  memcpy(in + 53, "live", 4);
  crypto_generichash(want, sizeof(want), in, sizeof(in), NULL, 0);
  ck_assert_int_eq(sc_stream_id(got, pk, "live", 4), 0);
  ck_assert_mem_eq(got, want, sizeof(want));
}
END_TEST

START_TEST(test_id_binds) {
  uint8_t a[32], b[32];
  char name[SC_STREAM_NAME_MAX + 1];
  ck_assert_int_eq(sc_stream_id(a, pk, "live", 4), 0);
  ck_assert_int_eq(sc_stream_id(b, pk2, "live", 4), 0);
  ck_assert_mem_ne(a, b, sizeof(a));
  ck_assert_int_eq(sc_stream_id(b, pk, "livf", 4), 0);
  ck_assert_mem_ne(a, b, sizeof(a));
  ck_assert_int_eq(sc_stream_id(b, pk, "liv", 3), 0);
  ck_assert_mem_ne(a, b, sizeof(a));
  /* Only |name_len| bytes count. */
  ck_assert_int_eq(sc_stream_id(b, pk, "live-and-more", 4), 0);
  ck_assert_mem_eq(a, b, sizeof(a));
  memset(name, 'n', sizeof(name));
  ck_assert_int_eq(sc_stream_id(a, pk, name, 1), 0);
  ck_assert_int_eq(sc_stream_id(a, pk, name, SC_STREAM_NAME_MAX), 0);
  ck_assert_int_eq(sc_stream_id(a, pk, name, 0), SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_stream_id(a, pk, name, SC_STREAM_NAME_MAX + 1),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_stream_id(a, pk, NULL, 4), SC_ERR_INVALID_ARG);
}
END_TEST

/* ---- fragments ----------------------------------------------------------- */

START_TEST(test_frag_layout) {
  uint8_t buf[FRAG_CAP];
  static const uint8_t seq_be[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  static const uint8_t ts_be[8] = {0, 0, 0, 0, 0, 0, 0x03, 0xe8};
  size_t len = frag_encode(buf, sizeof(buf), sid, UINT64_C(0x0102030405060708),
                           1000, SC_FRAG_KEYFRAME, "hello");
  ck_assert_uint_eq(len, 49 + 5);
  ck_assert_mem_eq(buf, sid, 32);
  ck_assert_mem_eq(buf + 32, seq_be, 8);
  ck_assert_mem_eq(buf + 40, ts_be, 8);
  ck_assert_uint_eq(buf[48], 1);
  ck_assert_mem_eq(buf + 49, "hello", 5);
}
END_TEST

START_TEST(test_frag_round_trip) {
  static const char *payloads[] = {"hello", "", NULL, "x"};
  uint8_t buf[FRAG_CAP];
  sc_frag f;
  size_t i;
  for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
    size_t plen = payloads[i] ? strlen(payloads[i]) : 0;
    size_t len = frag_encode(buf, sizeof(buf), sid, UINT64_MAX - i, 7 + i,
                             (uint8_t)(i % 2), payloads[i]);
    memset(&f, 0xaa, sizeof(f));
    ck_assert_int_eq(sc_frag_read(&f, buf, len), 0);
    ck_assert_mem_eq(f.stream_id, sid, SC_STREAM_ID_LEN);
    ck_assert_uint_eq(f.seq, UINT64_MAX - i);
    ck_assert_uint_eq(f.timestamp_us, 7 + i);
    ck_assert_uint_eq(f.flags, i % 2);
    ck_assert_uint_eq(f.payload_len, plen);
    ck_assert_ptr_eq(f.payload, buf + SC_FRAG_HEADER_LEN);
    if (plen > 0) {
      ck_assert_mem_eq(f.payload, payloads[i], plen);
    }
  }
}
END_TEST

START_TEST(test_frag_header_only) {
  uint8_t buf[SC_FRAG_HEADER_LEN];
  sc_frag f;
  size_t len = frag_encode(buf, sizeof(buf), sid, 3, 4, 0, NULL);
  ck_assert_uint_eq(len, SC_FRAG_HEADER_LEN);
  ck_assert_int_eq(sc_frag_read(&f, buf, len), 0);
  ck_assert_uint_eq(f.payload_len, 0);
  ck_assert_ptr_eq(f.payload, buf + len);
}
END_TEST

START_TEST(test_frag_flags) {
  uint8_t buf[FRAG_CAP];
  sc_frag f;
  unsigned flags;
  size_t len = frag_encode(buf, sizeof(buf), sid, 0, 0, 0, "p");
  for (flags = 0; flags < 256; flags++) {
    int want = flags <= SC_FRAG_KEYFRAME ? 0 : SC_ERR_MALFORMED;
    buf[48] = (uint8_t)flags;
    ck_assert_int_eq(sc_frag_read(&f, buf, len), want);
  }
}
END_TEST

START_TEST(test_frag_short) {
  uint8_t buf[FRAG_CAP];
  sc_frag f;
  size_t len;
  (void)frag_encode(buf, sizeof(buf), sid, 0, 0, 0, NULL);
  for (len = 0; len < SC_FRAG_HEADER_LEN; len++) {
    ck_assert_int_eq(sc_frag_read(&f, buf, len), SC_ERR_MALFORMED);
  }
}
END_TEST

/* A writer without room writes nothing and keeps what it had. */
START_TEST(test_frag_write_no_room) {
  uint8_t buf[FRAG_CAP];
  sc_frag f;
  sc_wr w;
  size_t cap;
  memcpy(f.stream_id, sid, SC_STREAM_ID_LEN);
  f.seq = 1;
  f.timestamp_us = 2;
  f.flags = 0;
  f.payload = (const uint8_t *)"hello";
  f.payload_len = 5;
  for (cap = 1; cap <= 1 + SC_FRAG_HEADER_LEN + 5; cap++) {
    int want = cap == 1 + SC_FRAG_HEADER_LEN + 5 ? 0 : SC_ERR_BUFFER;
    sc_wr_init(&w, buf, cap);
    ck_assert_int_eq(sc_wr_u8(&w, 9), 0);
    ck_assert_int_eq(sc_frag_write(&w, &f), want);
    ck_assert_uint_eq(w.len, want == 0 ? cap : 1);
  }
  f.payload_len = SIZE_MAX; /* must not overflow the room check */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_frag_write(&w, &f), SC_ERR_BUFFER);
  ck_assert_uint_eq(w.len, 0);
}
END_TEST

/* ---- manifests ----------------------------------------------------------- */

START_TEST(test_manifest_round_trip) {
  uint8_t buf[SC_MANIFEST_MAX_LEN];
  sc_manifest m, got;
  unsigned count, i;
  for (count = 1; count <= SC_STREAM_BLOCK; count++) {
    size_t len;
    memset(&m, 0, sizeof(m));
    memcpy(m.stream_id, sid, SC_STREAM_ID_LEN);
    m.first = UINT64_C(0x0102030405060700) + count * SC_STREAM_BLOCK;
    m.count = count;
    for (i = 0; i < count; i++) {
      memset(m.hash[i], (int)(0x10 * count + i), SC_STREAM_HASH_LEN);
    }
    ck_assert_int_eq(sc_manifest_sign(&m, sk), 0);
    len = manifest_encode(buf, sizeof(buf), &m);
    ck_assert_uint_eq(len, manifest_len(count));
    ck_assert_mem_eq(buf, sid, SC_STREAM_ID_LEN);
    ck_assert_uint_eq(sc_get_u64(buf + 32), m.first);
    ck_assert_uint_eq(buf[40], count);
    ck_assert_mem_eq(buf + len - SC_STREAM_SIG_LEN, m.sig, SC_STREAM_SIG_LEN);
    memset(&got, 0, sizeof(got));
    ck_assert_int_eq(sc_manifest_read(&got, buf, len), 0);
    ck_assert_mem_eq(&got, &m, sizeof(m));
    ck_assert_int_eq(sc_manifest_verify(&got, pk), 0);
  }
}
END_TEST

/* The signature input, rebuilt by hand, verifies with libsodium. */
START_TEST(test_sig_layout) {
  uint8_t in[22 + SC_MANIFEST_MAX_LEN], buf[SC_MANIFEST_MAX_LEN];
  block b;
  size_t len;
  block_make(&b, 32, 3);
  len = manifest_encode(buf, sizeof(buf), &b.m);
  memcpy(in, "stratocast manifest v1", 22);
  memcpy(in + 22, buf, len - SC_STREAM_SIG_LEN);
  ck_assert_int_eq(crypto_sign_verify_detached(
                       b.m.sig, in, 22 + len - SC_STREAM_SIG_LEN, pk),
                   0);
}
END_TEST

START_TEST(test_sign_verify) {
  block b;
  block_make(&b, 0, SC_STREAM_BLOCK);
  ck_assert_int_eq(sc_manifest_verify(&b.m, pk), 0);
  ck_assert_int_eq(sc_manifest_verify(&b.m, pk2), SC_ERR_CRYPTO);
  ck_assert_int_eq(sc_manifest_sign(&b.m, sk2), 0);
  ck_assert_int_eq(sc_manifest_verify(&b.m, pk), SC_ERR_CRYPTO);
  ck_assert_int_eq(sc_manifest_verify(&b.m, pk2), 0);
}
END_TEST

/* What a flip of bit |bit| of an encoded manifest of |count| hashes must
 * do: any bit of the count breaks the length, so it does not decode; every
 * other bit decodes and fails the signature. */
static int flip_expect(size_t bit) {
  if (bit / 8 == 40) {
    return SC_ERR_MALFORMED;
  }
  return SC_ERR_CRYPTO;
}

START_TEST(test_every_bit_flip) {
  static const unsigned counts[] = {1, 5, SC_STREAM_BLOCK};
  uint8_t buf[SC_MANIFEST_MAX_LEN];
  size_t c;
  for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
    block b;
    size_t len, bit;
    block_make(&b, 16 * (c + 1), counts[c]);
    len = manifest_encode(buf, sizeof(buf), &b.m);
    for (bit = 0; bit < 8 * len; bit++) {
      sc_manifest m;
      int rv;
      buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      rv = sc_manifest_read(&m, buf, len);
      if (rv == 0) {
        rv = sc_manifest_verify(&m, pk);
      }
      ck_assert_msg(rv == flip_expect(bit), "count %u bit %zu: %d", counts[c],
                    bit, rv);
      buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
  }
}
END_TEST

START_TEST(test_block_checks) {
  static const struct {
    uint64_t first;
    unsigned count;
  } bad[] = {{UINT64_MAX, 1}, {UINT64_MAX - 1, 2}, {UINT64_MAX - 15, 16},
             {0, 0},          {16, 17},           {32, 255}};
  uint8_t buf[SC_STREAM_ID_LEN + 8 + 1 + 255 * SC_STREAM_HASH_LEN +
              SC_STREAM_SIG_LEN];
  block b;
  size_t i;
  block_make(&b, 0, 1);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sc_manifest m = b.m;
    sc_wr w;
    m.first = bad[i].first;
    m.count = bad[i].count;
    ck_assert_int_eq(sc_manifest_sign(&m, sk), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_manifest_verify(&m, pk), SC_ERR_INVALID_ARG);
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_manifest_write(&w, &m), SC_ERR_INVALID_ARG);
    ck_assert_uint_eq(w.len, 0);
    ck_assert_int_eq(sc_manifest_covers(&m, m.first, b.frag[0], b.len[0]), 0);
    /* The same bytes by hand, with as many hashes as the count says. */
    memset(buf, 0, sizeof(buf));
    sc_put_u64(buf + 32, bad[i].first);
    buf[40] = (uint8_t)bad[i].count;
    ck_assert_int_eq(
        sc_manifest_read(&m, buf, manifest_len(bad[i].count & 0xff)),
        SC_ERR_MALFORMED);
  }
  /* Any start is fine, up to the last seq below UINT64_MAX. */
  block_make(&b, 5, 3);
  ck_assert_int_eq(sc_manifest_verify(&b.m, pk), 0);
  ck_assert(sc_manifest_covers(&b.m, 7, b.frag[2], b.len[2]));
  block_make(&b, UINT64_MAX - 16, SC_STREAM_BLOCK);
  ck_assert_int_eq(sc_manifest_verify(&b.m, pk), 0);
}
END_TEST

START_TEST(test_manifest_length) {
  uint8_t buf[SC_MANIFEST_MAX_LEN + 1];
  sc_manifest m;
  block b;
  size_t len, cut;
  sc_wr w;
  block_make(&b, 48, 7);
  len = manifest_encode(buf, sizeof(buf), &b.m);
  buf[len] = 0;
  ck_assert_int_eq(sc_manifest_read(&m, buf, len + 1), SC_ERR_MALFORMED);
  for (cut = 0; cut < len; cut++) {
    ck_assert_int_eq(sc_manifest_read(&m, buf, cut), SC_ERR_MALFORMED);
  }
  for (cut = 0; cut < len; cut++) {
    sc_wr_init(&w, buf, cut);
    ck_assert_int_eq(sc_manifest_write(&w, &b.m), SC_ERR_BUFFER);
    ck_assert_uint_eq(w.len, 0);
  }
}
END_TEST

/* ---- covers -------------------------------------------------------------- */

START_TEST(test_covers_block) {
  block b;
  unsigned i, j;
  block_make(&b, 32, SC_STREAM_BLOCK);
  for (i = 0; i < SC_STREAM_BLOCK; i++) {
    ck_assert(sc_manifest_covers(&b.m, 32 + i, b.frag[i], b.len[i]));
    /* Listed, but at another seq. */
    for (j = 0; j < SC_STREAM_BLOCK; j++) {
      if (j != i) {
        ck_assert(!sc_manifest_covers(&b.m, 32 + j, b.frag[i], b.len[i]));
      }
    }
  }
  ck_assert(!sc_manifest_covers(&b.m, 31, b.frag[0], b.len[0]));
  ck_assert(!sc_manifest_covers(&b.m, 48, b.frag[0], b.len[0]));
  ck_assert(!sc_manifest_covers(&b.m, 0, b.frag[0], b.len[0]));
  ck_assert(!sc_manifest_covers(&b.m, UINT64_MAX, b.frag[0], b.len[0]));
}
END_TEST

/* A flushed block covers its seqs and none of the unused rest. */
START_TEST(test_covers_short_block) {
  block b, full;
  unsigned i;
  block_make(&b, 64, 5);
  block_make(&full, 64, SC_STREAM_BLOCK);
  for (i = 0; i < 5; i++) {
    ck_assert(sc_manifest_covers(&b.m, 64 + i, b.frag[i], b.len[i]));
  }
  for (i = 5; i < SC_STREAM_BLOCK; i++) {
    ck_assert(!sc_manifest_covers(&b.m, 64 + i, full.frag[i], full.len[i]));
  }
}
END_TEST

/* Any one flipped bit of a fragment, header or payload, uncovers it. */
START_TEST(test_covers_bit_flips) {
  block b;
  size_t bit;
  block_make(&b, 16, 4);
  for (bit = 0; bit < 8 * b.len[2]; bit++) {
    b.frag[2][bit / 8] ^= (uint8_t)(1u << (bit % 8));
    ck_assert_msg(!sc_manifest_covers(&b.m, 18, b.frag[2], b.len[2]), "bit %zu",
                  bit);
    b.frag[2][bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  ck_assert(sc_manifest_covers(&b.m, 18, b.frag[2], b.len[2]));
  /* Truncated or extended by one byte. */
  ck_assert(!sc_manifest_covers(&b.m, 18, b.frag[2], b.len[2] - 1));
  b.frag[2][b.len[2]] = 0;
  ck_assert(!sc_manifest_covers(&b.m, 18, b.frag[2], b.len[2] + 1));
}
END_TEST

/* Same payloads, another block: the seq in the header tells them apart. */
START_TEST(test_covers_replay) {
  block a, b;
  unsigned i;
  block_make(&a, 32, SC_STREAM_BLOCK);
  block_make(&b, 48, SC_STREAM_BLOCK);
  for (i = 0; i < SC_STREAM_BLOCK; i++) {
    ck_assert_mem_eq(a.frag[i] + SC_FRAG_HEADER_LEN,
                     b.frag[i] + SC_FRAG_HEADER_LEN,
                     a.len[i] - SC_FRAG_HEADER_LEN);
    ck_assert(!sc_manifest_covers(&a.m, 32 + i, b.frag[i], b.len[i]));
    ck_assert(!sc_manifest_covers(&a.m, 48 + i, b.frag[i], b.len[i]));
    ck_assert(!sc_manifest_covers(&b.m, 32 + i, a.frag[i], a.len[i]));
  }
}
END_TEST

/* A manifest whose listed hash is that of a fragment naming another stream
 * or seq in its header does not cover it: callers file a fragment by its
 * header. */
START_TEST(test_covers_header_mismatch) {
  uint8_t other[SC_STREAM_ID_LEN], buf[FRAG_CAP];
  block b;
  size_t len;
  ck_assert_int_eq(sc_stream_id(other, pk2, "live", 4), 0);
  block_make(&b, 0, 2);
  len = frag_encode(buf, sizeof(buf), other, 1, 0, 0, "forged");
  sc_frag_hash(b.m.hash[1], buf, len);
  ck_assert_int_eq(sc_manifest_sign(&b.m, sk), 0);
  ck_assert_int_eq(sc_manifest_verify(&b.m, pk), 0);
  ck_assert(!sc_manifest_covers(&b.m, 1, buf, len));
  len = frag_encode(buf, sizeof(buf), sid, 7, 0, 0, "misplaced");
  sc_frag_hash(b.m.hash[1], buf, len);
  ck_assert(!sc_manifest_covers(&b.m, 1, buf, len));
  ck_assert(!sc_manifest_covers(&b.m, 7, buf, len));
  /* A hash of a malformed fragment covers nothing either. */
  sc_frag_hash(b.m.hash[1], buf, 10);
  ck_assert(!sc_manifest_covers(&b.m, 1, buf, 10));
}
END_TEST

/* ---- known answers ------------------------------------------------------- */

START_TEST(test_known_answers) {
  char hex[2 * SC_STREAM_ID_LEN + 1];
  uint8_t buf[FRAG_CAP], h[SC_STREAM_HASH_LEN];
  size_t len;
  sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
  ck_assert_str_eq(hex, live_pk_hex);
  sodium_bin2hex(hex, sizeof(hex), sid, sizeof(sid));
  ck_assert_str_eq(hex, live_id_hex);
  len = frag_encode(buf, sizeof(buf), sid, 0, 1000, SC_FRAG_KEYFRAME, "hello");
  sc_frag_hash(h, buf, len);
  sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
  ck_assert_str_eq(hex, hello_hash_hex);
}
END_TEST

/* ---- robustness ---------------------------------------------------------- */

#define ROBUST_ITERATIONS 100000
#define ROBUST_MAX_LEN (SC_MANIFEST_MAX_LEN + 64)

/* Fills |buf| with random bytes, or half of the time with a valid
 * fragment or manifest that is then mutated, and returns the length. */
static size_t robust_input(uint8_t *buf, const block *b) {
  size_t len, i, n;
  if (rng() % 2 == 0) {
    len = rng_below(ROBUST_MAX_LEN + 1);
    for (i = 0; i < len; i++) {
      buf[i] = (uint8_t)rng();
    }
    return len;
  }
  if (rng() % 2 == 0) {
    size_t k = rng_below(b->m.count);
    len = b->len[k];
    memcpy(buf, b->frag[k], len);
  } else {
    sc_manifest m = b->m;
    m.count = 1 + (unsigned)rng_below(SC_STREAM_BLOCK);
    len = manifest_encode(buf, ROBUST_MAX_LEN, &m);
  }
  for (n = rng_below(4); n > 0; n--) {
    buf[rng_below(len)] ^= (uint8_t)(1u << rng_below(8));
  }
  return rng() % 4 == 0 ? rng_below(len + 1) : len;
}

/* What a decoder accepted must be consistent with its input. */
static void robust_check(const uint8_t *p, size_t len, const block *b) {
  sc_frag f;
  sc_manifest m;
  if (sc_frag_read(&f, p, len) == 0) {
    ck_assert_ptr_eq(f.payload + f.payload_len, p + len);
    ck_assert_uint_le(f.flags, SC_FRAG_KEYFRAME);
  }
  if (sc_manifest_read(&m, p, len) == 0) {
    uint8_t again[SC_MANIFEST_MAX_LEN];
    ck_assert_uint_eq(manifest_encode(again, sizeof(again), &m), len);
    ck_assert_mem_eq(again, p, len);
    (void)sc_manifest_covers(&m, m.first, b->frag[0], b->len[0]);
    (void)sc_manifest_covers(&m, m.first, p, len);
  }
}

START_TEST(test_robustness) {
  uint8_t buf[ROBUST_MAX_LEN];
  block b;
  size_t it;
  rng_seed(UINT64_C(0x9e3779b97f4a7c15));
  block_make(&b, 16, SC_STREAM_BLOCK);
  for (it = 0; it < ROBUST_ITERATIONS; it++) {
    size_t len = robust_input(buf, &b);
    /* An exact-size heap copy, so that ASan sees any overread. */
    uint8_t *p = malloc(len > 0 ? len : 1);
    ck_assert_ptr_nonnull(p);
    if (len > 0) {
      memcpy(p, buf, len);
    }
    robust_check(p, len, &b);
    free(p);
  }
}
END_TEST

static Suite *stream_suite(void) {
  Suite *s = suite_create("stream");
  TCase *tc = tcase_create("id");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_id_layout);
  tcase_add_test(tc, test_id_binds);
  tcase_add_test(tc, test_known_answers);
  suite_add_tcase(s, tc);
  tc = tcase_create("fragment");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_frag_layout);
  tcase_add_test(tc, test_frag_round_trip);
  tcase_add_test(tc, test_frag_header_only);
  tcase_add_test(tc, test_frag_flags);
  tcase_add_test(tc, test_frag_short);
  tcase_add_test(tc, test_frag_write_no_room);
  suite_add_tcase(s, tc);
  tc = tcase_create("manifest");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_manifest_round_trip);
  tcase_add_test(tc, test_sig_layout);
  tcase_add_test(tc, test_sign_verify);
  tcase_add_test(tc, test_every_bit_flip);
  tcase_add_test(tc, test_block_checks);
  tcase_add_test(tc, test_manifest_length);
  suite_add_tcase(s, tc);
  tc = tcase_create("covers");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_covers_block);
  tcase_add_test(tc, test_covers_short_block);
  tcase_add_test(tc, test_covers_bit_flips);
  tcase_add_test(tc, test_covers_replay);
  tcase_add_test(tc, test_covers_header_mismatch);
  suite_add_tcase(s, tc);
  tc = tcase_create("robustness");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_robustness);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(stream_suite()); }
