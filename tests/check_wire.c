/*
 * check_wire.c: the bounds-checked wire codec (src/core/sc_wire.c).
 *
 * The contract under test (sc_wire.h): integers are big-endian, varints
 * follow doc/protocol.md §2 (RFC 9000 §16 layout), and every reader or
 * writer call either succeeds whole or returns SC_ERR_BUFFER and leaves
 * the cursor where it was. Truncated inputs are copied into heap buffers of
 * exactly their size, so AddressSanitizer or valgrind report a read past
 * the end even when the return value looks right.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "codec_checks.h"
#include "sc_wire.h"
#include "stratocast.h"

static void setup_rng(void) { rng_seed(UINT64_C(0x5eed0f5715ca57)); }

/* ck_assert records every check that passes (a pipe write in fork mode);
 * the long random loops use this, which costs nothing when |cond| holds. */
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ck_abort_msg("%s (iteration %d)", #cond, i);                             \
    }                                                                          \
  } while (0)

/* ---- readers ------------------------------------------------------------ */

enum rd_kind {
  RD_U8,
  RD_U16,
  RD_U32,
  RD_U64,
  RD_VARINT,
  RD_BYTES,
  RD_SPAN,
  RD_SKIP,
};

/* Calls reader |kind| for |n| bytes (bytes, span and skip only). |out| is
 * where sc_rd_bytes copies to. */
static int call_reader(int kind, sc_rd *r, size_t n, uint8_t *out) {
  uint8_t v8;
  uint16_t v16;
  uint32_t v32;
  uint64_t v64;
  const uint8_t *span;
  switch (kind) {
  case RD_U8:
    return sc_rd_u8(r, &v8);
  case RD_U16:
    return sc_rd_u16(r, &v16);
  case RD_U32:
    return sc_rd_u32(r, &v32);
  case RD_U64:
    return sc_rd_u64(r, &v64);
  case RD_VARINT:
    return sc_rd_varint(r, &v64);
  case RD_BYTES:
    return sc_rd_bytes(r, out, n);
  case RD_SPAN:
    return sc_rd_span(r, &span, n);
  default:
    return sc_rd_skip(r, n);
  }
}

typedef struct rd_case {
  int kind;
  size_t n;       /* bytes the call consumes */
  uint8_t in[16]; /* a complete input */
} rd_case;

static const rd_case rd_cases[] = {
    {RD_U8, 1, {0x7f}},
    {RD_U16, 2, {0x12, 0x34}},
    {RD_U32, 4, {0x12, 0x34, 0x56, 0x78}},
    {RD_U64, 8, {1, 2, 3, 4, 5, 6, 7, 8}},
    {RD_VARINT, 1, {0x25}},
    {RD_VARINT, 2, {0x7b, 0xbd}},
    {RD_VARINT, 4, {0x9d, 0x7f, 0x3e, 0x7d}},
    {RD_VARINT, 8, {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}},
    {RD_BYTES, 1, {0xee}},
    {RD_BYTES, 7, {1, 2, 3, 4, 5, 6, 7}},
    {RD_BYTES, 16, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
    {RD_SPAN, 1, {0xee}},
    {RD_SPAN, 16, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
    {RD_SKIP, 1, {0xee}},
    {RD_SKIP, 9, {1, 2, 3, 4, 5, 6, 7, 8, 9}},
};

#define PREFIX_LEN 3

/* Every reader, given every proper prefix of its input (after |pre| bytes
 * already read), returns SC_ERR_BUFFER without moving the cursor, and
 * sc_rd_bytes leaves its output alone. */
START_TEST(test_read_truncated) {
  const rd_case *c = &rd_cases[_i];
  size_t pre, t;
  for (pre = 0; pre <= PREFIX_LEN; pre += PREFIX_LEN) {
    for (t = 0; t < c->n; t++) {
      uint8_t in[PREFIX_LEN + 16], out[16];
      uint8_t *buf;
      const uint8_t *at;
      sc_rd r;
      memset(in, 0x11, sizeof(in));
      memcpy(in + pre, c->in, t);
      buf = dup_exact(in, pre + t);
      sc_rd_init(&r, buf, pre + t);
      ck_assert_int_eq(sc_rd_skip(&r, pre), 0);
      at = r.p;
      memset(out, SENTINEL, sizeof(out));
      ck_assert_msg(call_reader(c->kind, &r, c->n, out) == SC_ERR_BUFFER,
                    "case %d: reader %d with %zu of %zu bytes did not fail", _i,
                    c->kind, t, c->n);
      ck_assert_ptr_eq(r.p, at);
      ck_assert_ptr_eq(r.end, buf + pre + t);
      ck_assert_uint_eq(sc_rd_left(&r), t);
      for (size_t k = 0; k < sizeof(out); k++) {
        ck_assert_uint_eq(out[k], SENTINEL);
      }
      free(buf);
    }
  }
}
END_TEST

/* With the whole input (exactly, then with a spare byte) every reader
 * succeeds and consumes exactly its bytes. */
START_TEST(test_read_exact) {
  const rd_case *c = &rd_cases[_i];
  size_t extra;
  for (extra = 0; extra <= 1; extra++) {
    uint8_t in[17], out[16];
    uint8_t *buf;
    sc_rd r;
    memcpy(in, c->in, c->n);
    in[c->n] = 0x99;
    buf = dup_exact(in, c->n + extra);
    sc_rd_init(&r, buf, c->n + extra);
    ck_assert_int_eq(call_reader(c->kind, &r, c->n, out), 0);
    ck_assert_ptr_eq(r.p, buf + c->n);
    ck_assert_uint_eq(sc_rd_left(&r), extra);
    if (c->kind == RD_BYTES) {
      ck_assert_mem_eq(out, c->in, c->n);
    }
    free(buf);
  }
}
END_TEST

/* Reads back the u8, u16, u32 and u64 that start both test_read_values
 * and test_write_round_trip. */
static void read_ints(sc_rd *r) {
  uint8_t v8;
  uint16_t v16;
  uint32_t v32;
  uint64_t v64;
  ck_assert_int_eq(sc_rd_u8(r, &v8), 0);
  ck_assert_uint_eq(v8, 0xfe);
  ck_assert_int_eq(sc_rd_u16(r, &v16), 0);
  ck_assert_uint_eq(v16, 0x1234);
  ck_assert_int_eq(sc_rd_u32(r, &v32), 0);
  ck_assert_uint_eq(v32, 0x89abcdef);
  ck_assert_int_eq(sc_rd_u64(r, &v64), 0);
  ck_assert_uint_eq(v64, UINT64_C(0x0123456789abcdef));
}

START_TEST(test_read_values) {
  static const uint8_t in[] = {0xfe, 0x12, 0x34, 0x89, 0xab, 0xcd,
                               0xef, 0x01, 0x23, 0x45, 0x67, 0x89,
                               0xab, 0xcd, 0xef, 0xaa, 0xbb, 0xcc};
  uint8_t *buf = dup_exact(in, sizeof(in));
  uint8_t out[2];
  const uint8_t *span;
  sc_rd r;
  sc_rd_init(&r, buf, sizeof(in));
  ck_assert_uint_eq(sc_rd_left(&r), sizeof(in));
  read_ints(&r);
  ck_assert_int_eq(sc_rd_span(&r, &span, 1), 0);
  ck_assert_ptr_eq(span, buf + 15);
  ck_assert_int_eq(sc_rd_bytes(&r, out, 2), 0);
  ck_assert_uint_eq(out[0], 0xbb);
  ck_assert_uint_eq(out[1], 0xcc);
  ck_assert_uint_eq(sc_rd_left(&r), 0);
  /* Zero-length reads succeed at the end. */
  ck_assert_int_eq(sc_rd_span(&r, &span, 0), 0);
  ck_assert_ptr_eq(span, buf + sizeof(in));
  ck_assert_int_eq(sc_rd_skip(&r, 0), 0);
  ck_assert_int_eq(sc_rd_bytes(&r, out, 0), 0);
  ck_assert_ptr_eq(r.p, buf + sizeof(in));
  free(buf);
}
END_TEST

/* A skip or span larger than what is left fails even for huge lengths
 * (no pointer arithmetic overflow). */
START_TEST(test_read_huge_length) {
  uint8_t in[4] = {1, 2, 3, 4}, out[4];
  const uint8_t *span = NULL;
  sc_rd r;
  sc_rd_init(&r, in, sizeof(in));
  ck_assert_int_eq(sc_rd_skip(&r, 1), 0);
  ck_assert_int_eq(sc_rd_skip(&r, SIZE_MAX), SC_ERR_BUFFER);
  ck_assert_int_eq(sc_rd_span(&r, &span, SIZE_MAX / 2 + 1), SC_ERR_BUFFER);
  ck_assert_int_eq(sc_rd_bytes(&r, out, 4), SC_ERR_BUFFER);
  ck_assert_ptr_eq(r.p, in + 1);
  ck_assert_uint_eq(sc_rd_left(&r), 3);
}
END_TEST

/* ---- varints ------------------------------------------------------------ */

typedef struct varint_case {
  uint64_t v;
  size_t len;
  uint8_t enc[8];
} varint_case;

static const varint_case varint_cases[] = {
    {0, 1, {0x00}},
    {37, 1, {0x25}}, /* RFC 9000 §A.1 */
    {63, 1, {0x3f}},
    {64, 2, {0x40, 0x40}},
    {15293, 2, {0x7b, 0xbd}}, /* RFC 9000 §A.1 */
    {16383, 2, {0x7f, 0xff}},
    {16384, 4, {0x80, 0x00, 0x40, 0x00}},
    {494878333, 4, {0x9d, 0x7f, 0x3e, 0x7d}}, /* RFC 9000 §A.1 */
    {(UINT64_C(1) << 30) - 1, 4, {0xbf, 0xff, 0xff, 0xff}},
    {UINT64_C(1) << 30, 8, {0xc0, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00}},
    {UINT64_C(151288809941952652), /* RFC 9000 §A.1 */
     8,
     {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}},
    {SC_VARINT_MAX, 8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
};

START_TEST(test_varint_encode) {
  const varint_case *c = &varint_cases[_i];
  uint8_t buf[8];
  sc_wr w;
  memset(buf, SENTINEL, sizeof(buf));
  ck_assert_uint_eq(sc_varint_len(c->v), c->len);
  sc_wr_init(&w, buf, c->len);
  ck_assert_int_eq(sc_wr_varint(&w, c->v), 0);
  ck_assert_uint_eq(w.len, c->len);
  ck_assert_uint_eq(sc_wr_left(&w), 0);
  ck_assert_mem_eq(buf, c->enc, c->len);
  /* One byte short: fails whole. */
  memset(buf, SENTINEL, sizeof(buf));
  sc_wr_init(&w, buf, c->len - 1);
  ck_assert_int_eq(sc_wr_varint(&w, c->v), SC_ERR_BUFFER);
  ck_assert_uint_eq(w.len, 0);
  for (size_t k = 0; k < sizeof(buf); k++) {
    ck_assert_uint_eq(buf[k], SENTINEL);
  }
}
END_TEST

START_TEST(test_varint_decode) {
  const varint_case *c = &varint_cases[_i];
  uint8_t *buf = dup_exact(c->enc, c->len);
  uint64_t v = 0;
  sc_rd r;
  sc_rd_init(&r, buf, c->len);
  ck_assert_int_eq(sc_rd_varint(&r, &v), 0);
  ck_assert_uint_eq(v, c->v);
  ck_assert_uint_eq(sc_rd_left(&r), 0);
  free(buf);
}
END_TEST

/* Non-minimal encodings decode to the same value (RFC 9000 §A.1: 0x4025
 * is 37). */
START_TEST(test_varint_non_minimal) {
  static const uint8_t two[] = {0x40, 0x25};
  static const uint8_t four[] = {0x80, 0x00, 0x00, 0x25};
  static const uint8_t eight[] = {0xc0, 0, 0, 0, 0, 0, 0, 0x25};
  static const uint8_t zero8[] = {0xc0, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t *ins[] = {two, four, eight, zero8};
  const size_t lens[] = {sizeof(two), sizeof(four), sizeof(eight),
                         sizeof(zero8)};
  const uint64_t want[] = {37, 37, 37, 0};
  size_t i;
  for (i = 0; i < 4; i++) {
    uint8_t *buf = dup_exact(ins[i], lens[i]);
    uint64_t v = 99;
    sc_rd r;
    sc_rd_init(&r, buf, lens[i]);
    ck_assert_int_eq(sc_rd_varint(&r, &v), 0);
    ck_assert_uint_eq(v, want[i]);
    ck_assert_uint_eq(sc_rd_left(&r), 0);
    free(buf);
  }
}
END_TEST

/* Every first byte is a valid varint of 1 << (b >> 6) bytes (the header
 * promises SC_ERR_MALFORMED never comes from sc_rd_varint). */
START_TEST(test_varint_every_prefix) {
  unsigned b;
  for (b = 0; b < 256; b++) {
    uint8_t in[9] = {(uint8_t)b, 0x01, 0x02, 0x03, 0x04,
                     0x05,       0x06, 0x07, 0x08};
    size_t n = (size_t)1 << (b >> 6), k;
    uint64_t want = b & 0x3f, v;
    uint8_t *buf;
    sc_rd r;
    for (k = 1; k < n; k++) {
      want = want << 8 | in[k];
    }
    buf = dup_exact(in, sizeof(in));
    sc_rd_init(&r, buf, sizeof(in));
    ck_assert_int_eq(sc_rd_varint(&r, &v), 0);
    ck_assert_uint_eq(v, want);
    ck_assert_uint_eq(sc_rd_left(&r), sizeof(in) - n);
    free(buf);
  }
}
END_TEST

START_TEST(test_varint_too_big) {
  static const uint64_t bad[] = {SC_VARINT_MAX + 1, UINT64_C(1) << 63,
                                 UINT64_MAX};
  size_t i;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t buf[16];
    sc_wr w;
    memset(buf, SENTINEL, sizeof(buf));
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_wr_u8(&w, 0x01), 0);
    ck_assert_uint_eq(sc_varint_len(bad[i]), 0);
    ck_assert_int_eq(sc_wr_varint(&w, bad[i]), SC_ERR_INVALID_ARG);
    ck_assert_uint_eq(w.len, 1);
    for (size_t k = 1; k < sizeof(buf); k++) {
      ck_assert_uint_eq(buf[k], SENTINEL);
    }
  }
}
END_TEST

/* Random values of every magnitude: the length is the smallest that fits,
 * the two high bits say it, and the value comes back. */
START_TEST(test_varint_random) {
  int i;
  for (i = 0; i < 100000; i++) {
    uint64_t v = (rng() >> (rng() % 64)) & SC_VARINT_MAX, got;
    size_t n = sc_varint_len(v);
    uint8_t buf[8];
    sc_wr w;
    sc_rd r;
    if (v < 64) {
      CHECK(n == 1);
    } else if (v < 16384) {
      CHECK(n == 2);
    } else if (v < (UINT64_C(1) << 30)) {
      CHECK(n == 4);
    } else {
      CHECK(n == 8);
    }
    sc_wr_init(&w, buf, sizeof(buf));
    CHECK(sc_wr_varint(&w, v) == 0);
    CHECK(w.len == n);
    CHECK(((size_t)1 << (buf[0] >> 6)) == n);
    sc_rd_init(&r, buf, w.len);
    CHECK(sc_rd_varint(&r, &got) == 0);
    CHECK(got == v);
    CHECK(sc_rd_left(&r) == 0);
  }
}
END_TEST

/* ---- writers ------------------------------------------------------------ */

START_TEST(test_write_round_trip) {
  static const uint8_t blob[5] = {0xb1, 0xb2, 0xb3, 0xb4, 0xb5};
  static const uint8_t want[] = {
      0xfe,                                           /* u8 */
      0x12, 0x34,                                     /* u16 */
      0x89, 0xab, 0xcd, 0xef,                         /* u32 */
      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* u64 */
      0xb1, 0xb2, 0xb3, 0xb4, 0xb5,                   /* bytes */
      0x00, 0x00, 0x00,                               /* zeros */
      0x7b, 0xbd,                                     /* varint 15293 */
      0x25,                                           /* varint 37 */
  };
  uint8_t buf[sizeof(want)], out[5];
  uint64_t v64;
  sc_wr w;
  sc_rd r;
  memset(buf, SENTINEL, sizeof(buf));
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_uint_eq(sc_wr_left(&w), sizeof(buf));
  ck_assert_int_eq(sc_wr_u8(&w, 0xfe), 0);
  ck_assert_int_eq(sc_wr_u16(&w, 0x1234), 0);
  ck_assert_int_eq(sc_wr_u32(&w, 0x89abcdef), 0);
  ck_assert_int_eq(sc_wr_u64(&w, UINT64_C(0x0123456789abcdef)), 0);
  ck_assert_int_eq(sc_wr_bytes(&w, blob, sizeof(blob)), 0);
  ck_assert_int_eq(sc_wr_zeros(&w, 3), 0);
  ck_assert_int_eq(sc_wr_varint(&w, 15293), 0);
  ck_assert_int_eq(sc_wr_varint(&w, 37), 0);
  ck_assert_uint_eq(w.len, sizeof(want));
  ck_assert_uint_eq(sc_wr_left(&w), 0);
  ck_assert_mem_eq(buf, want, sizeof(want));

  sc_rd_init(&r, buf, w.len);
  read_ints(&r);
  ck_assert_int_eq(sc_rd_bytes(&r, out, sizeof(out)), 0);
  ck_assert_mem_eq(out, blob, sizeof(blob));
  ck_assert_int_eq(sc_rd_skip(&r, 3), 0);
  ck_assert_int_eq(sc_rd_varint(&r, &v64), 0);
  ck_assert_uint_eq(v64, 15293);
  ck_assert_int_eq(sc_rd_varint(&r, &v64), 0);
  ck_assert_uint_eq(v64, 37);
  ck_assert_uint_eq(sc_rd_left(&r), 0);
}
END_TEST

START_TEST(test_write_random_round_trip) {
  int i;
  for (i = 0; i < 20000; i++) {
    uint64_t x = rng();
    uint8_t buf[15];
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    sc_wr w;
    sc_rd r;
    sc_wr_init(&w, buf, sizeof(buf));
    CHECK(sc_wr_u8(&w, (uint8_t)x) == 0);
    CHECK(sc_wr_u16(&w, (uint16_t)(x >> 8)) == 0);
    CHECK(sc_wr_u32(&w, (uint32_t)(x >> 24)) == 0);
    CHECK(sc_wr_u64(&w, x) == 0);
    sc_rd_init(&r, buf, w.len);
    CHECK(sc_rd_u8(&r, &v8) == 0);
    CHECK(v8 == (uint8_t)x);
    CHECK(sc_rd_u16(&r, &v16) == 0);
    CHECK(v16 == (uint16_t)(x >> 8));
    CHECK(sc_rd_u32(&r, &v32) == 0);
    CHECK(v32 == (uint32_t)(x >> 24));
    CHECK(sc_rd_u64(&r, &v64) == 0);
    CHECK(v64 == x);
    CHECK(sc_rd_left(&r) == 0);
  }
}
END_TEST

enum wr_kind {
  WR_U8,
  WR_U16,
  WR_U32,
  WR_U64,
  WR_VARINT,
  WR_BYTES,
  WR_ZEROS,
};

typedef struct wr_case {
  int kind;
  size_t n;   /* bytes the call appends */
  uint64_t v; /* the value, for the integer writers */
} wr_case;

static const wr_case wr_cases[] = {
    {WR_U8, 1, 0x5a},          {WR_U16, 2, 0x1234},
    {WR_U32, 4, 0x12345678},   {WR_U64, 8, UINT64_C(0x0102030405060708)},
    {WR_VARINT, 1, 37},        {WR_VARINT, 2, 15293},
    {WR_VARINT, 4, 494878333}, {WR_VARINT, 8, SC_VARINT_MAX},
    {WR_BYTES, 1, 0},          {WR_BYTES, 11, 0},
    {WR_ZEROS, 1, 0},          {WR_ZEROS, 13, 0},
};

static int call_writer(const wr_case *c, sc_wr *w) {
  static const uint8_t blob[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                   9, 10, 11, 12, 13, 14, 15, 16};
  switch (c->kind) {
  case WR_U8:
    return sc_wr_u8(w, (uint8_t)c->v);
  case WR_U16:
    return sc_wr_u16(w, (uint16_t)c->v);
  case WR_U32:
    return sc_wr_u32(w, (uint32_t)c->v);
  case WR_U64:
    return sc_wr_u64(w, c->v);
  case WR_VARINT:
    return sc_wr_varint(w, c->v);
  case WR_BYTES:
    return sc_wr_bytes(w, blob, c->n);
  default:
    return sc_wr_zeros(w, c->n);
  }
}

/* Out of room by any amount, after |pre| bytes already written, every
 * writer returns SC_ERR_BUFFER, keeps |len| and writes nothing. */
START_TEST(test_write_out_of_room) {
  const wr_case *c = &wr_cases[_i];
  size_t pre, room;
  for (pre = 0; pre <= PREFIX_LEN; pre += PREFIX_LEN) {
    for (room = 0; room < c->n; room++) {
      uint8_t buf[PREFIX_LEN + 16];
      sc_wr w;
      size_t k;
      memset(buf, SENTINEL, sizeof(buf));
      sc_wr_init(&w, buf, pre + room);
      ck_assert_int_eq(sc_wr_zeros(&w, pre), 0);
      ck_assert_msg(call_writer(c, &w) == SC_ERR_BUFFER,
                    "case %d: writer %d of %zu bytes fit in %zu", _i, c->kind,
                    c->n, room);
      ck_assert_uint_eq(w.len, pre);
      ck_assert_uint_eq(sc_wr_left(&w), room);
      for (k = pre; k < sizeof(buf); k++) {
        ck_assert_msg(buf[k] == SENTINEL,
                      "case %d: failed writer touched byte %zu", _i, k);
      }
    }
    /* And with exactly enough room it succeeds. */
    {
      uint8_t buf[PREFIX_LEN + 16];
      sc_wr w;
      memset(buf, SENTINEL, sizeof(buf));
      sc_wr_init(&w, buf, pre + c->n);
      ck_assert_int_eq(sc_wr_zeros(&w, pre), 0);
      ck_assert_int_eq(call_writer(c, &w), 0);
      ck_assert_uint_eq(w.len, pre + c->n);
      ck_assert_uint_eq(sc_wr_left(&w), 0);
      ck_assert_uint_eq(buf[pre + c->n], SENTINEL);
    }
  }
}
END_TEST

START_TEST(test_write_zeros) {
  uint8_t buf[8];
  size_t k;
  sc_wr w;
  memset(buf, SENTINEL, sizeof(buf));
  sc_wr_init(&w, buf, 6);
  ck_assert_int_eq(sc_wr_u8(&w, 0xff), 0);
  ck_assert_int_eq(sc_wr_zeros(&w, 0), 0);
  ck_assert_uint_eq(w.len, 1);
  ck_assert_uint_eq(buf[1], SENTINEL);
  ck_assert_int_eq(sc_wr_zeros(&w, 4), 0);
  ck_assert_uint_eq(w.len, 5);
  ck_assert_uint_eq(buf[0], 0xff);
  for (k = 1; k < 5; k++) {
    ck_assert_uint_eq(buf[k], 0);
  }
  ck_assert_uint_eq(buf[5], SENTINEL);
  ck_assert_int_eq(sc_wr_zeros(&w, 2), SC_ERR_BUFFER);
  ck_assert_int_eq(sc_wr_zeros(&w, SIZE_MAX), SC_ERR_BUFFER);
  ck_assert_uint_eq(w.len, 5);
  ck_assert_uint_eq(buf[5], SENTINEL);
  ck_assert_int_eq(sc_wr_zeros(&w, 1), 0);
  ck_assert_uint_eq(buf[5], 0);
  ck_assert_uint_eq(buf[6], SENTINEL);
  ck_assert_uint_eq(sc_wr_left(&w), 0);
  /* A full writer still accepts nothing at all. */
  ck_assert_int_eq(sc_wr_zeros(&w, 0), 0);
  ck_assert_int_eq(sc_wr_bytes(&w, buf, 0), 0);
  ck_assert_uint_eq(w.len, 6);
}
END_TEST

START_TEST(test_write_huge_length) {
  uint8_t buf[4], src[1] = {0};
  sc_wr w;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_wr_u8(&w, 1), 0);
  ck_assert_int_eq(sc_wr_bytes(&w, src, SIZE_MAX), SC_ERR_BUFFER);
  ck_assert_uint_eq(w.len, 1);
}
END_TEST

/* ---- fixed-position helpers --------------------------------------------- */

START_TEST(test_put_get) {
  uint8_t b[8];
  static const uint8_t be16[] = {0xab, 0xcd};
  static const uint8_t be32[] = {0xde, 0xad, 0xbe, 0xef};
  static const uint8_t be64[] = {0x01, 0x23, 0x45, 0x67,
                                 0x89, 0xab, 0xcd, 0xef};
  memset(b, SENTINEL, sizeof(b));
  sc_put_u16(b, 0xabcd);
  ck_assert_mem_eq(b, be16, 2);
  ck_assert_uint_eq(b[2], SENTINEL);
  ck_assert_uint_eq(sc_get_u16(be16), 0xabcd);
  memset(b, SENTINEL, sizeof(b));
  sc_put_u32(b, 0xdeadbeef);
  ck_assert_mem_eq(b, be32, 4);
  ck_assert_uint_eq(b[4], SENTINEL);
  ck_assert_uint_eq(sc_get_u32(be32), 0xdeadbeef);
  sc_put_u64(b, UINT64_C(0x0123456789abcdef));
  ck_assert_mem_eq(b, be64, 8);
  ck_assert_uint_eq(sc_get_u64(be64), UINT64_C(0x0123456789abcdef));
  /* High bits survive (no sign extension of promoted bytes). */
  memset(b, 0xff, sizeof(b));
  ck_assert_uint_eq(sc_get_u16(b), 0xffff);
  ck_assert_uint_eq(sc_get_u32(b), 0xffffffff);
  ck_assert_uint_eq(sc_get_u64(b), UINT64_MAX);
}
END_TEST

START_TEST(test_put_get_random) {
  int i;
  for (i = 0; i < 20000; i++) {
    uint64_t x = rng();
    uint8_t b[8];
    sc_put_u64(b, x);
    CHECK(sc_get_u64(b) == x);
    CHECK(b[0] == (uint8_t)(x >> 56));
    CHECK(b[7] == (uint8_t)x);
    sc_put_u32(b, (uint32_t)x);
    CHECK(sc_get_u32(b) == (uint32_t)x);
    CHECK(b[0] == (uint8_t)(x >> 24));
    sc_put_u16(b, (uint16_t)x);
    CHECK(sc_get_u16(b) == (uint16_t)x);
    CHECK(b[0] == (uint8_t)(x >> 8));
  }
}
END_TEST

static Suite *wire_suite(void) {
  Suite *s = suite_create("wire");
  TCase *tc = tcase_create("read");
  int nrd = (int)(sizeof(rd_cases) / sizeof(rd_cases[0]));
  int nvar = (int)(sizeof(varint_cases) / sizeof(varint_cases[0]));
  int nwr = (int)(sizeof(wr_cases) / sizeof(wr_cases[0]));
  tcase_add_loop_test(tc, test_read_truncated, 0, nrd);
  tcase_add_loop_test(tc, test_read_exact, 0, nrd);
  tcase_add_test(tc, test_read_values);
  tcase_add_test(tc, test_read_huge_length);
  suite_add_tcase(s, tc);
  tc = tcase_create("varint");
  tcase_add_checked_fixture(tc, setup_rng, NULL);
  tcase_add_loop_test(tc, test_varint_encode, 0, nvar);
  tcase_add_loop_test(tc, test_varint_decode, 0, nvar);
  tcase_add_test(tc, test_varint_non_minimal);
  tcase_add_test(tc, test_varint_every_prefix);
  tcase_add_test(tc, test_varint_too_big);
  tcase_add_test(tc, test_varint_random);
  suite_add_tcase(s, tc);
  tc = tcase_create("write");
  tcase_add_checked_fixture(tc, setup_rng, NULL);
  tcase_add_test(tc, test_write_round_trip);
  tcase_add_test(tc, test_write_random_round_trip);
  tcase_add_loop_test(tc, test_write_out_of_room, 0, nwr);
  tcase_add_test(tc, test_write_zeros);
  tcase_add_test(tc, test_write_huge_length);
  suite_add_tcase(s, tc);
  tc = tcase_create("helpers");
  tcase_add_checked_fixture(tc, setup_rng, NULL);
  tcase_add_test(tc, test_put_get);
  tcase_add_test(tc, test_put_get_random);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(wire_suite()); }
