/*
 * check_packet.c: the wire formats of src/core/sc_packet.c (doc/protocol.md
 * §2.3-§6): packet headers, chunks, ACK, MSG, addresses, handshake payloads
 * and PEERS.
 *
 * Hand-written byte arrays pin the layouts. Inputs are decoded from heap
 * buffers of exactly their size, so AddressSanitizer or valgrind report a
 * read past the end even when the return value looks right. The
 * randomized robustness runs are in check_decoders.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "codec_checks.h"
#include "sc_cookie.h"
#include "sc_packet.h"
#include "sc_wire.h"
#include "stratocast.h"

/* ---- packets (§3) ------------------------------------------------------- */

static const uint8_t COOKIE[SC_COOKIE_LEN] = {
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
    0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3};
static const uint8_t ECHO[SC_ECHO_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                          0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
                                          0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t NOISE3[] = {0xaa, 0xbb, 0xcc};
static const uint8_t NOISE2[] = {0x11, 0x22};
static const uint8_t SEALED[20] = {0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
                                   0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
                                   0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43};

static const uint8_t PKT_INIT_PLAIN[] = {
    0x01, 0x01,             /* version, INIT */
    0x01, 0x02, 0x03, 0x04, /* sender sid */
    0x00,                   /* no cookie */
    0xaa, 0xbb, 0xcc,       /* noise */
};
static const uint8_t PKT_INIT_COOKIE[] = {
    0x01, 0x01,             /* version, INIT */
    0xff, 0xff, 0xff, 0xfe, /* sender sid */
    0x14,                   /* cookie length 20 */
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb,
    0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0x11, 0x22, /* noise */
};
static const uint8_t PKT_RETRY[] = {
    0x01, 0x02,                                     /* version, RETRY */
    0xde, 0xad, 0xbe, 0xef,                         /* receiver sid */
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, /* echo */
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, /* */
    0x14,                                           /* cookie length 20 */
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
    0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3,
};
static const uint8_t PKT_RESPONSE[] = {
    0x01, 0x03,             /* version, RESPONSE */
    0x11, 0x22, 0x33, 0x44, /* receiver sid */
    0x55, 0x66, 0x77, 0x88, /* sender sid */
    0x11, 0x22,             /* noise */
};
static const uint8_t PKT_FINISH[] = {
    0x01, 0x04,             /* version, FINISH */
    0xa0, 0xb0, 0xc0, 0xd0, /* receiver sid */
    0xaa, 0xbb, 0xcc,       /* noise */
};
static const uint8_t PKT_DATA[] = {
    0x01, 0x05,                                     /* version, DATA */
    0x01, 0x02, 0x03, 0x04,                         /* receiver sid */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* pn */
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, /* sealed */
    0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43,
};

typedef struct pkt_case {
  const uint8_t *bytes;
  size_t len;
  size_t written; /* bytes the encoder writes (DATA: the header only) */
  size_t min;     /* the smallest packet of its type */
  size_t fixed;   /* the shortest valid prefix */
} pkt_case;

static const pkt_case pkt_cases[] = {
    {PKT_INIT_PLAIN, sizeof(PKT_INIT_PLAIN), sizeof(PKT_INIT_PLAIN), INIT_FIXED,
     INIT_FIXED},
    {PKT_INIT_COOKIE, sizeof(PKT_INIT_COOKIE), sizeof(PKT_INIT_COOKIE),
     INIT_FIXED, INIT_FIXED + SC_COOKIE_LEN},
    {PKT_RETRY, sizeof(PKT_RETRY), sizeof(PKT_RETRY), RETRY_LEN, RETRY_LEN},
    {PKT_RESPONSE, sizeof(PKT_RESPONSE), sizeof(PKT_RESPONSE), RESPONSE_FIXED,
     RESPONSE_FIXED},
    {PKT_FINISH, sizeof(PKT_FINISH), sizeof(PKT_FINISH), FINISH_FIXED,
     FINISH_FIXED},
    {PKT_DATA, sizeof(PKT_DATA), SC_DATA_HEADER_LEN,
     SC_DATA_HEADER_LEN + SC_AEAD_TAG_LEN + 1,
     SC_DATA_HEADER_LEN + SC_AEAD_TAG_LEN + 1},
};

#define NPKT ((int)(sizeof(pkt_cases) / sizeof(pkt_cases[0])))

/* Writes pkt_cases[|i|] (for DATA, its header) with the encoders. */
static int write_case(int i, sc_wr *w) {
  switch (i) {
  case 0:
    return sc_pkt_write_init(w, 0x01020304, NULL, 0, NOISE3, sizeof(NOISE3));
  case 1:
    return sc_pkt_write_init(w, 0xfffffffe, COOKIE, SC_COOKIE_LEN, NOISE2,
                             sizeof(NOISE2));
  case 2:
    return sc_pkt_write_retry(w, 0xdeadbeef, ECHO, COOKIE, SC_COOKIE_LEN);
  case 3:
    return sc_pkt_write_response(w, 0x11223344, 0x55667788, NOISE2,
                                 sizeof(NOISE2));
  case 4:
    return sc_pkt_write_finish(w, 0xa0b0c0d0, NOISE3, sizeof(NOISE3));
  default:
    return sc_pkt_write_data_header(w, 0x01020304,
                                    UINT64_C(0x0102030405060708));
  }
}

START_TEST(test_pkt_layout) {
  const pkt_case *c = &pkt_cases[_i];
  uint8_t buf[64];
  sc_wr w;
  memset(buf, SENTINEL, sizeof(buf));
  sc_wr_init(&w, buf, c->written);
  ck_assert_int_eq(write_case(_i, &w), 0);
  ck_assert_uint_eq(w.len, c->written);
  ck_assert_mem_eq(buf, c->bytes, c->written);
  ck_assert_uint_eq(buf[c->written], SENTINEL);
}
END_TEST

/* Out of room by any amount, the packet encoders write nothing. */
START_TEST(test_pkt_write_out_of_room) {
  const pkt_case *c = &pkt_cases[_i];
  size_t cap, k;
  for (cap = 0; cap < c->written; cap++) {
    uint8_t buf[64];
    sc_wr w;
    memset(buf, SENTINEL, sizeof(buf));
    sc_wr_init(&w, buf, cap);
    ck_assert_int_eq(write_case(_i, &w), SC_ERR_BUFFER);
    ck_assert_uint_eq(w.len, 0);
    for (k = 0; k < sizeof(buf); k++) {
      ck_assert_uint_eq(buf[k], SENTINEL);
    }
  }
}
END_TEST

START_TEST(test_pkt_decode_fields) {
  const pkt_case *c = &pkt_cases[_i];
  uint8_t *buf = dup_exact(c->bytes, c->len);
  sc_pkt p;
  ck_assert_int_eq(sc_pkt_decode(&p, buf, c->len), 0);
  ck_assert_uint_eq(p.type, c->bytes[1]);
  switch (p.type) {
  case SC_PKT_INIT:
    ck_assert_uint_eq(p.sender_sid, _i == 0 ? 0x01020304 : 0xfffffffe);
    if (_i == 0) {
      ck_assert_ptr_null(p.cookie);
      ck_assert_uint_eq(p.cookie_len, 0);
      ck_assert_uint_eq(p.noise_len, sizeof(NOISE3));
      ck_assert_mem_eq(p.noise, NOISE3, sizeof(NOISE3));
    } else {
      ck_assert_uint_eq(p.cookie_len, SC_COOKIE_LEN);
      ck_assert_mem_eq(p.cookie, COOKIE, SC_COOKIE_LEN);
      ck_assert_uint_eq(p.noise_len, sizeof(NOISE2));
      ck_assert_mem_eq(p.noise, NOISE2, sizeof(NOISE2));
    }
    break;
  case SC_PKT_RETRY:
    ck_assert_uint_eq(p.receiver_sid, 0xdeadbeef);
    ck_assert_mem_eq(p.echo, ECHO, SC_ECHO_LEN);
    ck_assert_uint_eq(p.cookie_len, SC_COOKIE_LEN);
    ck_assert_mem_eq(p.cookie, COOKIE, SC_COOKIE_LEN);
    break;
  case SC_PKT_RESPONSE:
    ck_assert_uint_eq(p.receiver_sid, 0x11223344);
    ck_assert_uint_eq(p.sender_sid, 0x55667788);
    ck_assert_uint_eq(p.noise_len, sizeof(NOISE2));
    ck_assert_mem_eq(p.noise, NOISE2, sizeof(NOISE2));
    break;
  case SC_PKT_FINISH:
    ck_assert_uint_eq(p.receiver_sid, 0xa0b0c0d0);
    ck_assert_uint_eq(p.noise_len, sizeof(NOISE3));
    ck_assert_mem_eq(p.noise, NOISE3, sizeof(NOISE3));
    break;
  default:
    ck_assert_uint_eq(p.type, SC_PKT_DATA);
    ck_assert_uint_eq(p.receiver_sid, 0x01020304);
    ck_assert_uint_eq(p.pn, UINT64_C(0x0102030405060708));
    ck_assert_uint_eq(p.sealed_len, sizeof(SEALED));
    ck_assert_mem_eq(p.sealed, SEALED, sizeof(SEALED));
  }
  set_ctx(buf, c->len);
  check_pkt_consistent(&p, buf, c->len);
  free(buf);
}
END_TEST

/* Every prefix of a valid packet either fails or, when it still holds the
 * whole fixed part (the Noise message or sealed part runs to the end of
 * the datagram), decodes to that prefix. Shorter than the smallest packet
 * of its type is SC_ERR_BUFFER (sc_packet.h); an INIT whose announced
 * cookie is cut short is longer than that, and the header does not say
 * which error it gets, so only failure is required there. */
START_TEST(test_pkt_truncated) {
  const pkt_case *c = &pkt_cases[_i];
  size_t t;
  for (t = 0; t < c->len; t++) {
    uint8_t *buf = dup_exact(c->bytes, t);
    sc_pkt p;
    int rv = sc_pkt_decode(&p, buf, t);
    set_ctx(buf, t);
    if (t < c->min) {
      REQUIRE(rv == SC_ERR_BUFFER);
    } else if (t < c->fixed) {
      REQUIRE(rv == SC_ERR_BUFFER || rv == SC_ERR_MALFORMED);
    } else {
      REQUIRE(rv == 0);
      check_pkt_consistent(&p, buf, t);
    }
    free(buf);
  }
}
END_TEST

START_TEST(test_pkt_wrong_version) {
  static const uint8_t versions[] = {0x00, 0x02, 0x7f, 0xff};
  const pkt_case *c = &pkt_cases[_i];
  size_t v;
  for (v = 0; v < sizeof(versions); v++) {
    uint8_t *buf = dup_exact(c->bytes, c->len);
    sc_pkt p;
    buf[0] = versions[v];
    ck_assert_int_eq(sc_pkt_decode(&p, buf, c->len), SC_ERR_VERSION);
    free(buf);
  }
}
END_TEST

START_TEST(test_pkt_unknown_type) {
  static const uint8_t types[] = {0x00, 0x06, 0x07, 0x80, 0xff};
  size_t i;
  for (i = 0; i < sizeof(types); i++) {
    uint8_t in[64], *buf;
    sc_pkt p;
    memset(in, 0x14, sizeof(in));
    in[0] = SC_VERSION;
    in[1] = types[i];
    buf = dup_exact(in, sizeof(in));
    ck_assert_int_eq(sc_pkt_decode(&p, buf, sizeof(in)), SC_ERR_MALFORMED);
    free(buf);
  }
}
END_TEST

/* §3.2: an INIT cookie is absent or exactly SC_COOKIE_LEN bytes; any other
 * length is malformed even with the bytes present. */
START_TEST(test_init_cookie_len) {
  unsigned clen;
  for (clen = 0; clen < 256; clen++) {
    uint8_t in[7 + 255 + 4], *buf;
    size_t len = 7 + clen + 4;
    sc_pkt p;
    int rv;
    memset(in, 0x77, sizeof(in));
    memcpy(in, PKT_INIT_PLAIN, 6);
    in[6] = (uint8_t)clen;
    buf = dup_exact(in, len);
    rv = sc_pkt_decode(&p, buf, len);
    if (clen == 0 || clen == SC_COOKIE_LEN) {
      ck_assert_int_eq(rv, 0);
      ck_assert_uint_eq(p.cookie_len, clen);
      ck_assert_uint_eq(p.noise_len, 4);
    } else {
      ck_assert_msg(rv == SC_ERR_MALFORMED, "cookie length %u: rv %d", clen,
                    rv);
    }
    free(buf);
  }
}
END_TEST

START_TEST(test_retry_cookie_len) {
  unsigned clen;
  for (clen = 0; clen < 256; clen++) {
    uint8_t in[6 + SC_ECHO_LEN + 1 + 255], *buf;
    size_t len = 6 + SC_ECHO_LEN + 1 + clen;
    sc_pkt p;
    int rv;
    memset(in, 0x77, sizeof(in));
    memcpy(in, PKT_RETRY, 6 + SC_ECHO_LEN);
    in[6 + SC_ECHO_LEN] = (uint8_t)clen;
    buf = dup_exact(in, len);
    rv = sc_pkt_decode(&p, buf, len);
    if (clen == SC_COOKIE_LEN) {
      ck_assert_int_eq(rv, 0);
    } else {
      ck_assert_msg(rv == SC_ERR_MALFORMED, "cookie length %u: rv %d", clen,
                    rv);
    }
    free(buf);
  }
}
END_TEST

START_TEST(test_retry_trailing) {
  size_t extra;
  for (extra = 1; extra <= 8; extra++) {
    uint8_t in[sizeof(PKT_RETRY) + 8], *buf;
    sc_pkt p;
    memset(in, 0, sizeof(in));
    memcpy(in, PKT_RETRY, sizeof(PKT_RETRY));
    buf = dup_exact(in, sizeof(PKT_RETRY) + extra);
    ck_assert_int_eq(sc_pkt_decode(&p, buf, sizeof(PKT_RETRY) + extra),
                     SC_ERR_MALFORMED);
    free(buf);
  }
}
END_TEST

/* The packet number is a full 64 bits on the wire, 0 included. */
START_TEST(test_data_pn_extremes) {
  static const uint64_t pns[] = {0, 1, SC_VARINT_MAX};
  static const uint64_t bad[] = {SC_VARINT_MAX + 1, UINT64_MAX};
  size_t i;
  /* §3.6: packet numbers above 2^62 - 1 could never be acknowledged. */
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t buf[SC_DATA_HEADER_LEN + sizeof(SEALED)], *in;
    sc_pkt p;
    sc_wr w;
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_pkt_write_data_header(&w, 0, bad[i]), 0);
    ck_assert_int_eq(sc_wr_bytes(&w, SEALED, sizeof(SEALED)), 0);
    in = dup_exact(buf, w.len);
    ck_assert_int_eq(sc_pkt_decode(&p, in, w.len), SC_ERR_MALFORMED);
    free(in);
  }
  for (i = 0; i < sizeof(pns) / sizeof(pns[0]); i++) {
    uint8_t buf[SC_DATA_HEADER_LEN + sizeof(SEALED)], *in;
    sc_pkt p;
    sc_wr w;
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_pkt_write_data_header(&w, 0, pns[i]), 0);
    ck_assert_int_eq(sc_wr_bytes(&w, SEALED, sizeof(SEALED)), 0);
    in = dup_exact(buf, w.len);
    ck_assert_int_eq(sc_pkt_decode(&p, in, w.len), 0);
    ck_assert_uint_eq(p.type, SC_PKT_DATA);
    ck_assert_uint_eq(p.receiver_sid, 0);
    ck_assert_uint_eq(p.pn, pns[i]);
    ck_assert_uint_eq(sc_get_u64(in + 6), pns[i]);
    free(in);
  }
}
END_TEST

/* §6.1: no empty plaintext, so a sealed part needs a tag and one byte;
 * anything shorter is "shorter than the smallest packet of its type"
 * (sc_packet.h), SC_ERR_BUFFER. */
START_TEST(test_data_sealed_short) {
  size_t s;
  for (s = 0; s <= SC_AEAD_TAG_LEN + 1; s++) {
    uint8_t *buf = dup_exact(PKT_DATA, SC_DATA_HEADER_LEN + s);
    sc_pkt p;
    int rv = sc_pkt_decode(&p, buf, SC_DATA_HEADER_LEN + s);
    if (s <= SC_AEAD_TAG_LEN) {
      ck_assert_msg(rv == SC_ERR_BUFFER,
                    "DATA with a %zu-byte sealed part: rv %d, want "
                    "SC_ERR_BUFFER",
                    s, rv);
    } else {
      ck_assert_int_eq(rv, 0);
      ck_assert_ptr_eq(p.sealed, buf + SC_DATA_HEADER_LEN);
      ck_assert_uint_eq(p.sealed_len, s);
      ck_assert_uint_eq(p.len, SC_DATA_HEADER_LEN + s);
    }
    free(buf);
  }
}
END_TEST

/* ---- chunks (§6.3) ------------------------------------------------------ */

START_TEST(test_chunk_sequence) {
  static const uint8_t close_body[] = {0x0a, 0x0b, 0x0c};
  static const uint8_t head[] = {
      0x01, 0x00,                   /* PING, empty */
      0x03, 0x03, 0x0a, 0x0b, 0x0c, /* CLOSE, 3 bytes */
      0x7f, 0x40, 0x46,             /* unknown 0x7f, 70 bytes */
  };
  uint8_t big[70], buf[128], *in;
  const uint8_t *at;
  sc_chunk c;
  sc_wr w;
  sc_rd r;
  memset(big, 0xee, sizeof(big));
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_chunk_write(&w, SC_CHUNK_PING, big, 0), 0);
  ck_assert_int_eq(
      sc_chunk_write(&w, SC_CHUNK_CLOSE, close_body, sizeof(close_body)), 0);
  ck_assert_int_eq(sc_chunk_write(&w, 0x7f, big, sizeof(big)), 0);
  ck_assert_int_eq(sc_chunk_write(&w, SC_CHUNK_PADDING, big, 5), 0);
  ck_assert_uint_eq(w.len, sizeof(head) + 70 + 2 + 5);
  ck_assert_mem_eq(buf, head, sizeof(head));

  in = dup_exact(buf, w.len);
  sc_rd_init(&r, in, w.len);
  ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
  ck_assert_uint_eq(c.type, SC_CHUNK_PING);
  ck_assert_uint_eq(c.len, 0);
  ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
  ck_assert_uint_eq(c.type, SC_CHUNK_CLOSE);
  ck_assert_ptr_eq(c.body, in + 4);
  ck_assert_uint_eq(c.len, 3);
  ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
  ck_assert_uint_eq(c.type, 0x7f);
  ck_assert_ptr_eq(c.body, in + sizeof(head));
  ck_assert_uint_eq(c.len, 70);
  at = c.body + c.len;
  ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
  ck_assert_uint_eq(c.type, SC_CHUNK_PADDING);
  ck_assert_ptr_eq(c.body, at + 2);
  ck_assert_uint_eq(c.len, 5);
  ck_assert_int_eq(sc_chunk_next(&r, &c), 0);
  ck_assert_int_eq(sc_chunk_next(&r, &c), 0);
  free(in);
}
END_TEST

START_TEST(test_chunk_empty) {
  uint8_t *in = dup_exact(NULL, 0);
  sc_chunk c;
  sc_rd r;
  sc_rd_init(&r, in, 0);
  ck_assert_int_eq(sc_chunk_next(&r, &c), 0);
  free(in);
}
END_TEST

START_TEST(test_chunk_bad_length) {
  static const uint8_t beyond[] = {0x06, 0x05, 1, 2, 3, 4};
  static const uint8_t type_only[] = {0x06};
  static const uint8_t short_varint[] = {0x06, 0x40};
  static const uint8_t huge[] = {0x06, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0x00};
  static const uint8_t good_then_bad[] = {0x01, 0x00, 0x06, 0x02, 0x01};
  const uint8_t *ins[] = {beyond, type_only, short_varint, huge};
  const size_t lens[] = {sizeof(beyond), sizeof(type_only),
                         sizeof(short_varint), sizeof(huge)};
  uint8_t *in;
  sc_chunk c;
  sc_rd r;
  size_t i;
  for (i = 0; i < 4; i++) {
    in = dup_exact(ins[i], lens[i]);
    sc_rd_init(&r, in, lens[i]);
    ck_assert_int_eq(sc_chunk_next(&r, &c), SC_ERR_MALFORMED);
    free(in);
  }
  in = dup_exact(good_then_bad, sizeof(good_then_bad));
  sc_rd_init(&r, in, sizeof(good_then_bad));
  ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
  ck_assert_uint_eq(c.type, SC_CHUNK_PING);
  ck_assert_int_eq(sc_chunk_next(&r, &c), SC_ERR_MALFORMED);
  free(in);
}
END_TEST

/* Unknown types come back as they are; the caller skips them (§6.3). */
START_TEST(test_chunk_every_type) {
  unsigned t;
  for (t = 0; t < 256; t++) {
    uint8_t in[] = {(uint8_t)t, 0x02, 0x5a, 0x5b, 0x01, 0x00}, *buf;
    sc_chunk c;
    sc_rd r;
    buf = dup_exact(in, sizeof(in));
    sc_rd_init(&r, buf, sizeof(in));
    ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
    ck_assert_uint_eq(c.type, t);
    ck_assert_ptr_eq(c.body, buf + 2);
    ck_assert_uint_eq(c.len, 2);
    ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
    ck_assert_uint_eq(c.type, SC_CHUNK_PING);
    ck_assert_int_eq(sc_chunk_next(&r, &c), 0);
    free(buf);
  }
}
END_TEST

START_TEST(test_chunk_write) {
  static const size_t lens[] = {0, 1, 62, 63, 64, 300, 16383, 16384};
  static uint8_t body[16384], buf[16384 + 8];
  size_t i, k;
  ck_assert_uint_eq(sc_chunk_overhead(0), 2);
  ck_assert_uint_eq(sc_chunk_overhead(63), 2);
  ck_assert_uint_eq(sc_chunk_overhead(64), 3);
  ck_assert_uint_eq(sc_chunk_overhead(16383), 3);
  ck_assert_uint_eq(sc_chunk_overhead(16384), 5);
  memset(body, 0x3c, sizeof(body));
  for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    size_t need = sc_chunk_overhead(lens[i]) + lens[i];
    sc_chunk c;
    sc_wr w;
    sc_rd r;
    sc_wr_init(&w, buf, need);
    ck_assert_int_eq(sc_chunk_write(&w, 0x42, body, lens[i]), 0);
    ck_assert_uint_eq(w.len, need);
    sc_rd_init(&r, buf, w.len);
    ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
    ck_assert_uint_eq(c.type, 0x42);
    ck_assert_uint_eq(c.len, lens[i]);
    ck_assert_ptr_eq(c.body, buf + sc_chunk_overhead(lens[i]));
    ck_assert_int_eq(sc_chunk_next(&r, &c), 0);
    /* One byte short: nothing written. */
    memset(buf, SENTINEL, 8);
    sc_wr_init(&w, buf, need - 1);
    ck_assert_int_eq(sc_chunk_write(&w, 0x42, body, lens[i]), SC_ERR_BUFFER);
    ck_assert_uint_eq(w.len, 0);
    for (k = 0; k < 8; k++) {
      ck_assert_uint_eq(buf[k], SENTINEL);
    }
  }
}
END_TEST

/* ---- ACK (§6.3.2) ------------------------------------------------------- */

/* Writes |n| ranges as one ACK chunk, checks its framing and decodes its
 * body into |ack|. Returns the chunk's length. */
static size_t ack_round_trip(sc_ack *ack, const sc_pn_range *ranges, size_t n,
                             uint64_t delay) {
  uint8_t buf[BIG], *body;
  sc_chunk c;
  sc_wr w;
  sc_rd r;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_ack_write(&w, ranges, n, delay), 0);
  sc_rd_init(&r, buf, w.len);
  ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
  ck_assert_uint_eq(c.type, SC_CHUNK_ACK);
  ck_assert_uint_eq(sc_rd_left(&r), 0);
  body = dup_exact(c.body, c.len);
  ck_assert_int_eq(sc_ack_decode(ack, body, c.len), 0);
  free(body);
  return w.len;
}

static void assert_ranges(const sc_ack *ack, const sc_pn_range *want,
                          size_t n) {
  size_t i;
  ck_assert_uint_eq(ack->nranges, n);
  for (i = 0; i < n; i++) {
    ck_assert_msg(
        ack->ranges[i].lo == want[i].lo && ack->ranges[i].hi == want[i].hi,
        "range %zu: got [%llu, %llu], want [%llu, %llu]", i,
        (unsigned long long)ack->ranges[i].lo,
        (unsigned long long)ack->ranges[i].hi, (unsigned long long)want[i].lo,
        (unsigned long long)want[i].hi);
  }
}

/* Decodes the ACK body made of the varints |v| (and |extra| zero bytes). */
static int ack_decode_varints(sc_ack *ack, const uint64_t *v, size_t n,
                              size_t extra) {
  uint8_t buf[BIG], *body;
  sc_wr w;
  size_t i;
  int rv;
  sc_wr_init(&w, buf, sizeof(buf));
  for (i = 0; i < n; i++) {
    ck_assert_int_eq(sc_wr_varint(&w, v[i]), 0);
  }
  ck_assert_int_eq(sc_wr_zeros(&w, extra), 0);
  body = dup_exact(buf, w.len);
  rv = sc_ack_decode(ack, body, w.len);
  free(body);
  return rv;
}

/* Writes |n| ranges as one ACK chunk, which must be the |want_len| bytes
 * at |want| (unless |want| is NULL), and checks that the ranges and the
 * delay come back from the decoder. */
static void ack_expect(const sc_pn_range *r, size_t n, uint64_t delay,
                       const uint8_t *want, size_t want_len) {
  uint8_t buf[BIG];
  sc_ack ack;
  sc_wr w;
  if (want != NULL) {
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_ack_write(&w, r, n, delay), 0);
    ck_assert_uint_eq(w.len, want_len);
    ck_assert_mem_eq(buf, want, want_len);
  }
  ack_round_trip(&ack, r, n, delay);
  assert_ranges(&ack, r, n);
  ck_assert_uint_eq(ack.delay_us, delay);
}

START_TEST(test_ack_one_range) {
  static const sc_pn_range r[] = {{5, 10}};
  static const uint8_t want[] = {
      0x02, 0x05, /* ACK, 5 bytes */
      0x0a,       /* largest 10 */
      0x43, 0xe8, /* delay 1000 */
      0x00,       /* no more ranges */
      0x05,       /* first range 10..5 */
  };
  ack_expect(r, 1, 1000, want, sizeof(want));
}
END_TEST

START_TEST(test_ack_several_ranges) {
  static const sc_pn_range r[] = {{100, 110}, {50, 60}, {10, 20}};
  static const uint8_t want[] = {
      0x02, 0x09, /* ACK, 9 bytes */
      0x40, 0x6e, /* largest 110 */
      0x00,       /* delay 0 */
      0x02,       /* two more ranges */
      0x0a,       /* first range 110..100 */
      0x26, 0x0a, /* gap 38 (61..99 missing), range 60..50 */
      0x1c, 0x0a, /* gap 28 (21..49 missing), range 20..10 */
  };
  ack_expect(r, 3, 0, want, sizeof(want));
}
END_TEST

/* Ranges one missing packet apart have a gap of 0; the last reaches 0. */
START_TEST(test_ack_zero_gaps_to_zero) {
  static const sc_pn_range r[] = {{10, 12}, {6, 8}, {2, 4}, {0, 0}};
  static const uint8_t want[] = {0x02, 0x0a, 0x0c, 0x00, 0x03, 0x02,
                                 0x00, 0x02, 0x00, 0x02, 0x00, 0x00};
  ack_expect(r, 4, 0, want, sizeof(want));
}
END_TEST

START_TEST(test_ack_reaching_zero) {
  static const sc_pn_range one[] = {{0, 0}};
  static const sc_pn_range all[] = {{0, 7}};
  static const sc_pn_range top[] = {{0, SC_VARINT_MAX}};
  static const sc_pn_range two[] = {{SC_VARINT_MAX, SC_VARINT_MAX}, {0, 0}};
  ack_expect(one, 1, 0, NULL, 0);
  ack_expect(all, 1, 0, NULL, 0);
  ack_expect(top, 1, SC_VARINT_MAX, NULL, 0);
  ack_expect(two, 2, 0, NULL, 0);
}
END_TEST

static void make_ranges(sc_pn_range *r, size_t n, uint64_t top, uint64_t step) {
  size_t i;
  for (i = 0; i < n; i++) {
    r[i].hi = top - step * i;
    r[i].lo = r[i].hi - step / 3;
  }
}

START_TEST(test_ack_max_ranges) {
  sc_pn_range r[SC_ACK_MAX_RANGES + 5];
  uint8_t capped[BIG], full[BIG];
  sc_wr wc, wf;
  sc_ack ack;
  make_ranges(r, SC_ACK_MAX_RANGES + 5, 100000, 100);
  ack_round_trip(&ack, r, SC_ACK_MAX_RANGES + 5, 25);
  assert_ranges(&ack, r, SC_ACK_MAX_RANGES);
  ack_round_trip(&ack, r, SC_ACK_MAX_RANGES, 25);
  assert_ranges(&ack, r, SC_ACK_MAX_RANGES);
  /* The writer itself stops at SC_ACK_MAX_RANGES (the decoder would hide
   * extra ranges): the chunk is the one for exactly that many. */
  sc_wr_init(&wc, capped, sizeof(capped));
  sc_wr_init(&wf, full, sizeof(full));
  ck_assert_int_eq(sc_ack_write(&wc, r, SC_ACK_MAX_RANGES, 25), 0);
  ck_assert_int_eq(sc_ack_write(&wf, r, SC_ACK_MAX_RANGES + 5, 25), 0);
  ck_assert_uint_eq(wf.len, wc.len);
  ck_assert_mem_eq(full, capped, wc.len);
}
END_TEST

/* Short of room, the writer drops the oldest ranges, keeping as many of
 * the highest as fit; with room for none it writes nothing. */
START_TEST(test_ack_write_short_room) {
  enum { N = 10 };
  sc_pn_range r[N];
  size_t size[N + 1], k, cap;
  make_ranges(r, N, UINT64_C(1) << 40, 3000000);
  for (k = 1; k <= N; k++) {
    uint8_t buf[BIG];
    sc_wr w;
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_ack_write(&w, r, k, 5000), 0);
    size[k] = w.len;
    ck_assert(k == 1 || size[k] > size[k - 1]);
  }
  for (cap = 0; cap <= size[N] + 1; cap++) {
    uint8_t buf[BIG], *body;
    size_t fit = 0;
    sc_ack ack;
    sc_chunk c;
    sc_wr w;
    sc_rd rd;
    for (k = 1; k <= N; k++) {
      if (size[k] <= cap) {
        fit = k;
      }
    }
    memset(buf, SENTINEL, sizeof(buf));
    sc_wr_init(&w, buf, cap);
    if (fit == 0) {
      ck_assert_int_eq(sc_ack_write(&w, r, N, 5000), SC_ERR_BUFFER);
      ck_assert_uint_eq(w.len, 0);
      ck_assert_uint_eq(buf[0], SENTINEL);
      continue;
    }
    ck_assert_int_eq(sc_ack_write(&w, r, N, 5000), 0);
    ck_assert_uint_eq(w.len, size[fit]);
    ck_assert_uint_eq(buf[w.len], SENTINEL);
    sc_rd_init(&rd, buf, w.len);
    ck_assert_int_eq(sc_chunk_next(&rd, &c), 1);
    body = dup_exact(c.body, c.len);
    ck_assert_int_eq(sc_ack_decode(&ack, body, c.len), 0);
    free(body);
    ck_assert_msg(ack.nranges == fit, "cap %zu: %zu ranges, %zu fit", cap,
                  ack.nranges, fit);
    assert_ranges(&ack, r, fit);
  }
}
END_TEST

/* sc_replay_ranges hands over any uint64_t packet number (a DATA header
 * carries 64 bits), but a varint stops at SC_VARINT_MAX. Whatever
 * sc_ack_write reports as written must decode, and acknowledge only packet
 * numbers it was given; otherwise it must fail and write nothing. */
START_TEST(test_ack_write_beyond_varint_max) {
  static const sc_pn_range cases[][2] = {
      {{SC_VARINT_MAX + 1, SC_VARINT_MAX + 6}, {10, 20}},
      {{UINT64_MAX - 3, UINT64_MAX}, {10, 20}},
  };
  size_t i, k;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t buf[64], *body;
    sc_ack ack;
    sc_chunk c;
    sc_wr w;
    sc_rd r;
    int rv, drv;
    sc_wr_init(&w, buf, sizeof(buf));
    rv = sc_ack_write(&w, cases[i], 2, 0);
    if (rv != 0) {
      ck_assert_uint_eq(w.len, 0);
      continue;
    }
    sc_rd_init(&r, buf, w.len);
    ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
    ck_assert_uint_eq(c.type, SC_CHUNK_ACK);
    body = dup_exact(c.body, c.len);
    drv = sc_ack_decode(&ack, body, c.len);
    free(body);
    ck_assert_msg(drv == 0,
                  "sc_ack_write returned 0 for a range up to %llu (above "
                  "SC_VARINT_MAX) but wrote a %zu-byte ACK that "
                  "sc_ack_decode rejects (%d)",
                  (unsigned long long)cases[i][0].hi, w.len, drv);
    for (k = 0; k < ack.nranges; k++) {
      ck_assert_msg((ack.ranges[k].lo >= cases[i][0].lo &&
                     ack.ranges[k].hi <= cases[i][0].hi) ||
                        (ack.ranges[k].lo >= cases[i][1].lo &&
                         ack.ranges[k].hi <= cases[i][1].hi),
                    "sc_ack_write acknowledged [%llu, %llu], never given",
                    (unsigned long long)ack.ranges[k].lo,
                    (unsigned long long)ack.ranges[k].hi);
    }
  }
}
END_TEST

START_TEST(test_ack_decode_first_range) {
  const uint64_t bad[] = {5, 0, 0, 6};
  const uint64_t ok[] = {5, 0, 0, 5};
  const uint64_t max[] = {SC_VARINT_MAX, 0, 0, SC_VARINT_MAX};
  sc_ack ack;
  ck_assert_int_eq(ack_decode_varints(&ack, bad, 4, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(ack_decode_varints(&ack, ok, 4, 0), 0);
  ck_assert_uint_eq(ack.nranges, 1);
  ck_assert_uint_eq(ack.ranges[0].lo, 0);
  ck_assert_uint_eq(ack.ranges[0].hi, 5);
  ck_assert_int_eq(ack_decode_varints(&ack, max, 4, 0), 0);
  ck_assert_uint_eq(ack.ranges[0].lo, 0);
  ck_assert_uint_eq(ack.ranges[0].hi, SC_VARINT_MAX);
}
END_TEST

START_TEST(test_ack_decode_underflow) {
  /* largest 10, first range 10..8, then a gap and a range. */
  const uint64_t gap_bad[] = {10, 0, 1, 2, 7, 0};
  const uint64_t gap_ok[] = {10, 0, 1, 2, 6, 0};
  const uint64_t gap_huge[] = {10, 0, 1, 2, SC_VARINT_MAX, 0};
  const uint64_t len_bad[] = {10, 0, 1, 2, 0, 7};
  const uint64_t len_ok[] = {10, 0, 1, 2, 0, 6};
  const uint64_t len_huge[] = {10, 0, 1, 2, 0, SC_VARINT_MAX};
  static const sc_pn_range want_gap[] = {{8, 10}, {0, 0}};
  static const sc_pn_range want_len[] = {{8, 10}, {0, 6}};
  sc_ack ack;
  ck_assert_int_eq(ack_decode_varints(&ack, gap_bad, 6, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(ack_decode_varints(&ack, gap_huge, 6, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(ack_decode_varints(&ack, gap_ok, 6, 0), 0);
  assert_ranges(&ack, want_gap, 2);
  ck_assert_int_eq(ack_decode_varints(&ack, len_bad, 6, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(ack_decode_varints(&ack, len_huge, 6, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(ack_decode_varints(&ack, len_ok, 6, 0), 0);
  assert_ranges(&ack, want_len, 2);
}
END_TEST

START_TEST(test_ack_decode_trailing_and_truncated) {
  const uint64_t v[] = {1000, 25, 2, 10, 5, 20, 3, 30};
  const uint64_t huge_count[] = {1000, 0, SC_VARINT_MAX, 0, 0, 0};
  uint8_t buf[64], *body;
  sc_ack ack;
  sc_wr w;
  size_t i, t;
  ck_assert_int_eq(ack_decode_varints(&ack, v, 8, 0), 0);
  ck_assert_uint_eq(ack.nranges, 3);
  ck_assert_int_eq(ack_decode_varints(&ack, v, 8, 1), SC_ERR_MALFORMED);
  ck_assert_int_eq(ack_decode_varints(&ack, huge_count, 6, 0),
                   SC_ERR_MALFORMED);
  /* More ranges announced than present. */
  ck_assert_int_eq(ack_decode_varints(&ack, v, 6, 0), SC_ERR_MALFORMED);
  sc_wr_init(&w, buf, sizeof(buf));
  for (i = 0; i < 8; i++) {
    ck_assert_int_eq(sc_wr_varint(&w, v[i]), 0);
  }
  for (t = 0; t < w.len; t++) {
    body = dup_exact(buf, t);
    ck_assert_msg(sc_ack_decode(&ack, body, t) == SC_ERR_MALFORMED,
                  "%zu-byte prefix of an ACK body accepted", t);
    free(body);
  }
}
END_TEST

/* Ranges past SC_ACK_MAX_RANGES are dropped, but still have to parse. */
static const size_t too_many[] = {SC_ACK_MAX_RANGES + 1, SC_ACK_MAX_RANGES + 5,
                                  300};

START_TEST(test_ack_decode_too_many_ranges) {
  const size_t n = too_many[_i], nv = 4 + 2 * (n - 1);
  uint64_t v[4 + 2 * 299];
  sc_pn_range want[300];
  sc_ack ack;
  size_t i;
  ck_assert_uint_le(n, sizeof(want) / sizeof(want[0]));
  memset(want, 0, sizeof(want));
  make_ranges(want, n, 1000000, 100);
  v[0] = want[0].hi;
  v[1] = 7;
  v[2] = n - 1;
  v[3] = want[0].hi - want[0].lo;
  for (i = 1; i < n; i++) {
    v[2 + 2 * i] = want[i - 1].lo - want[i].hi - 2;
    v[3 + 2 * i] = want[i].hi - want[i].lo;
  }
  ck_assert_int_eq(ack_decode_varints(&ack, v, nv, 0), 0);
  assert_ranges(&ack, want, SC_ACK_MAX_RANGES);
  ck_assert_uint_eq(ack.delay_us, 7);
  /* The first range past SC_ACK_MAX_RANGES underflows: the ACK is bad. */
  v[3 + 2 * SC_ACK_MAX_RANGES] = UINT64_C(1) << 40;
  ck_assert_int_eq(ack_decode_varints(&ack, v, nv, 0), SC_ERR_MALFORMED);
  v[3 + 2 * SC_ACK_MAX_RANGES] =
      want[SC_ACK_MAX_RANGES].hi - want[SC_ACK_MAX_RANGES].lo;
  /* So is a gap that runs below zero in the last one. */
  v[2 + 2 * (n - 1)] = UINT64_C(1) << 40;
  ck_assert_int_eq(ack_decode_varints(&ack, v, nv, 0), SC_ERR_MALFORMED);
  v[2 + 2 * (n - 1)] = want[n - 2].lo - want[n - 1].hi - 2;
  ck_assert_int_eq(ack_decode_varints(&ack, v, nv, 0), 0);
  /* And one more range announced than present, or a trailing byte. */
  v[2] = n;
  ck_assert_int_eq(ack_decode_varints(&ack, v, nv, 0), SC_ERR_MALFORMED);
  v[2] = n - 1;
  ck_assert_int_eq(ack_decode_varints(&ack, v, nv, 1), SC_ERR_MALFORMED);
}
END_TEST

/* ---- MSG (§6.4) --------------------------------------------------------- */

START_TEST(test_msg_layout) {
  static const uint8_t body[] = {0xde, 0xad, 0xbe};
  static const uint8_t want[] = {0x06, 0x05, 0x00, 0x01, 0xde, 0xad, 0xbe};
  uint8_t buf[16], *in;
  sc_msg_view m;
  sc_wr w;
  ck_assert_uint_eq(sc_msg_chunk_len(0, SC_MSG_PEERS, 3), sizeof(want));
  sc_wr_init(&w, buf, sizeof(want));
  ck_assert_int_eq(sc_msg_write(&w, 0, SC_MSG_PEERS, body, 3), 0);
  ck_assert_uint_eq(w.len, sizeof(want));
  ck_assert_mem_eq(buf, want, sizeof(want));
  in = dup_exact(want + 2, sizeof(want) - 2);
  ck_assert_int_eq(sc_msg_decode(&m, in, sizeof(want) - 2), 0);
  ck_assert_uint_eq(m.seq, 0);
  ck_assert_uint_eq(m.kind, SC_MSG_PEERS);
  ck_assert_ptr_eq(m.body, in + 2);
  ck_assert_uint_eq(m.len, 3);
  free(in);
}
END_TEST

START_TEST(test_msg_round_trip) {
  static const uint64_t seqs[] = {0, 63, 64, 16384, SC_VARINT_MAX};
  static const uint64_t kinds[] = {0, 1, 16383, UINT64_C(1) << 30};
  static const size_t lens[] = {0, 1, 50, 300};
  uint8_t body[300], buf[BIG];
  size_t s, k, l;
  memset(body, 0x61, sizeof(body));
  for (s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
      for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        size_t need = sc_msg_chunk_len(seqs[s], kinds[k], lens[l]);
        sc_msg_view m;
        sc_chunk c;
        sc_wr w;
        sc_rd r;
        uint8_t *in;
        body[0] = (uint8_t)(s * 16 + k * 4 + l);
        sc_wr_init(&w, buf, need);
        ck_assert_int_eq(sc_msg_write(&w, seqs[s], kinds[k], body, lens[l]), 0);
        ck_assert_uint_eq(w.len, need);
        sc_rd_init(&r, buf, w.len);
        ck_assert_int_eq(sc_chunk_next(&r, &c), 1);
        ck_assert_uint_eq(c.type, SC_CHUNK_MSG);
        ck_assert_uint_eq(sc_rd_left(&r), 0);
        in = dup_exact(c.body, c.len);
        ck_assert_int_eq(sc_msg_decode(&m, in, c.len), 0);
        ck_assert_uint_eq(m.seq, seqs[s]);
        ck_assert_uint_eq(m.kind, kinds[k]);
        ck_assert_uint_eq(m.len, lens[l]);
        ck_assert_ptr_eq(m.body + m.len, in + c.len);
        if (lens[l] > 0) {
          ck_assert_mem_eq(m.body, body, lens[l]);
        }
        free(in);
        /* One byte short: nothing written. */
        memset(buf, SENTINEL, 16);
        sc_wr_init(&w, buf, need - 1);
        ck_assert_int_eq(sc_msg_write(&w, seqs[s], kinds[k], body, lens[l]),
                         SC_ERR_BUFFER);
        ck_assert_uint_eq(w.len, 0);
        ck_assert_uint_eq(buf[0], SENTINEL);
      }
    }
  }
}
END_TEST

START_TEST(test_msg_bad) {
  static const uint8_t no_kind[] = {0x00};
  static const uint8_t short_seq[] = {0x40};
  static const uint8_t short_kind[] = {0x01, 0x80, 0x00};
  static const uint8_t empty_body[] = {0x01, 0x01};
  const uint8_t *ins[] = {no_kind, short_seq, short_kind};
  const size_t lens[] = {sizeof(no_kind), sizeof(short_seq),
                         sizeof(short_kind)};
  uint8_t buf[16], *in;
  sc_msg_view m;
  sc_wr w;
  size_t i;
  in = dup_exact(NULL, 0);
  ck_assert_int_eq(sc_msg_decode(&m, in, 0), SC_ERR_MALFORMED);
  free(in);
  for (i = 0; i < 3; i++) {
    in = dup_exact(ins[i], lens[i]);
    ck_assert_int_eq(sc_msg_decode(&m, in, lens[i]), SC_ERR_MALFORMED);
    free(in);
  }
  in = dup_exact(empty_body, sizeof(empty_body));
  ck_assert_int_eq(sc_msg_decode(&m, in, sizeof(empty_body)), 0);
  ck_assert_uint_eq(m.len, 0);
  ck_assert_ptr_eq(m.body, in + 2);
  free(in);
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_msg_write(&w, SC_VARINT_MAX + 1, 1, buf, 0),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_msg_write(&w, 1, SC_VARINT_MAX + 1, buf, 0),
                   SC_ERR_INVALID_ARG);
  ck_assert_uint_eq(w.len, 0);
}
END_TEST

/* ---- addresses (§2.3) --------------------------------------------------- */

static sc_addr v4_addr(void) {
  sc_addr a;
  memset(&a, 0, sizeof(a));
  a.family = SC_AF_INET;
  a.ip[0] = 192;
  a.ip[1] = 0;
  a.ip[2] = 2;
  a.ip[3] = 1;
  a.port = 8080;
  return a;
}

static sc_addr v6_addr(void) {
  static const uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 0x42};
  sc_addr a;
  memset(&a, 0, sizeof(a));
  a.family = SC_AF_INET6;
  memcpy(a.ip, ip, 16);
  a.port = 65535;
  return a;
}

static const uint8_t ADDR_V4[] = {0x04, 192, 0, 2, 1, 0x1f, 0x90};
static const uint8_t ADDR_V6[] = {0x06, 0x20, 0x01, 0x0d, 0xb8, 0, 0,
                                  0,    0,    0,    0,    0,    0, 0,
                                  0,    0,    0x42, 0xff, 0xff};

START_TEST(test_addr_round_trip) {
  const sc_addr in[2] = {v4_addr(), v6_addr()};
  const uint8_t *want[2] = {ADDR_V4, ADDR_V6};
  const size_t wlen[2] = {sizeof(ADDR_V4), sizeof(ADDR_V6)};
  size_t i, t;
  for (i = 0; i < 2; i++) {
    uint8_t buf[32], *bytes;
    sc_addr out;
    sc_wr w;
    sc_rd r;
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_addr_write(&w, &in[i]), 0);
    ck_assert_uint_eq(w.len, wlen[i]);
    ck_assert_mem_eq(buf, want[i], wlen[i]);
    bytes = dup_exact(want[i], wlen[i]);
    sc_rd_init(&r, bytes, wlen[i]);
    memset(&out, 0xff, sizeof(out));
    ck_assert_int_eq(sc_addr_read(&r, &out), 0);
    ck_assert_uint_eq(sc_rd_left(&r), 0);
    ck_assert(sc_addr_eq(&out, &in[i]));
    /* IPv4 lives in the first 4 bytes, the rest zero (stratocast.h). */
    ck_assert_mem_eq(out.ip, in[i].ip, 16);
    free(bytes);
    for (t = 0; t < wlen[i]; t++) {
      bytes = dup_exact(want[i], t);
      sc_rd_init(&r, bytes, t);
      ck_assert_int_eq(sc_addr_read(&r, &out), SC_ERR_MALFORMED);
      free(bytes);
    }
    for (t = 0; t < wlen[i]; t++) {
      memset(buf, SENTINEL, sizeof(buf));
      sc_wr_init(&w, buf, t);
      ck_assert_int_eq(sc_addr_write(&w, &in[i]), SC_ERR_BUFFER);
      ck_assert_uint_eq(w.len, 0);
      ck_assert_uint_eq(buf[0], SENTINEL);
    }
  }
}
END_TEST

START_TEST(test_addr_bad_family) {
  unsigned f;
  uint8_t buf[32];
  sc_addr a = v4_addr();
  sc_wr w;
  for (f = 0; f < 256; f++) {
    uint8_t in[19], *bytes;
    sc_rd r;
    if (f == SC_AF_INET || f == SC_AF_INET6) {
      continue;
    }
    memset(in, 0x01, sizeof(in));
    in[0] = (uint8_t)f;
    bytes = dup_exact(in, sizeof(in));
    sc_rd_init(&r, bytes, sizeof(in));
    ck_assert_msg(sc_addr_read(&r, &a) == SC_ERR_MALFORMED,
                  "family %u accepted", f);
    free(bytes);
  }
  a = v4_addr();
  a.family = 5;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_ne(sc_addr_write(&w, &a), 0);
  ck_assert_uint_eq(w.len, 0);
}
END_TEST

/* ---- handshake payloads (§4.3) ------------------------------------------ */

static const uint8_t HS_PLAIN[] = {
    0x01, 0x08, /* incarnation, 8 bytes */
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};
static const uint8_t HS_V4[] = {
    0x01, 0x08, 0x01, 0x23, 0x45, 0x67, 0x89,
    0xab, 0xcd, 0xef, 0x02, 0x07, /* observed address, 7 bytes */
    0x04, 192,  0,    2,    1,    0x1f, 0x90,
};

static int hs_read_exact(sc_hs_payload *p, const uint8_t *data, size_t len) {
  uint8_t *in = dup_exact(data, len);
  int rv = sc_hs_payload_read(p, in, len);
  if (rv == 0) {
    set_ctx(in, len);
    check_hs_consistent(p, in, len);
  }
  free(in);
  return rv;
}

START_TEST(test_hs_round_trip) {
  sc_hs_payload in, out;
  uint8_t buf[SC_HS_PAYLOAD_MAX];
  sc_wr w;
  memset(&in, 0, sizeof(in));
  in.incarnation = UINT64_C(0x0123456789abcdef);
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_hs_payload_write(&w, &in), 0);
  ck_assert_uint_eq(w.len, sizeof(HS_PLAIN));
  ck_assert_mem_eq(buf, HS_PLAIN, sizeof(HS_PLAIN));
  ck_assert_int_eq(hs_read_exact(&out, buf, w.len), 0);
  ck_assert_uint_eq(out.incarnation, in.incarnation);
  ck_assert_int_eq(out.has_observed, 0);

  in.has_observed = 1;
  in.observed = v4_addr();
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_hs_payload_write(&w, &in), 0);
  ck_assert_uint_eq(w.len, sizeof(HS_V4));
  ck_assert_mem_eq(buf, HS_V4, sizeof(HS_V4));
  ck_assert_int_eq(hs_read_exact(&out, buf, w.len), 0);
  ck_assert_uint_eq(out.incarnation, in.incarnation);
  ck_assert_int_eq(out.has_observed, 1);
  ck_assert(sc_addr_eq(&out.observed, &in.observed));

  in.observed = v6_addr();
  in.incarnation = UINT64_MAX;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_hs_payload_write(&w, &in), 0);
  ck_assert_uint_le(w.len, SC_HS_PAYLOAD_MAX);
  ck_assert_int_eq(hs_read_exact(&out, buf, w.len), 0);
  ck_assert_uint_eq(out.incarnation, UINT64_MAX);
  ck_assert_int_eq(out.has_observed, 1);
  ck_assert(sc_addr_eq(&out.observed, &in.observed));
}
END_TEST

START_TEST(test_hs_missing_incarnation) {
  static const uint8_t only_observed[] = {0x02, 0x07, 0x04, 192, 0,
                                          2,    1,    0x1f, 0x90};
  static const uint8_t only_unknown[] = {0x09, 0x01, 0x00};
  sc_hs_payload p;
  ck_assert_int_eq(hs_read_exact(&p, NULL, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(hs_read_exact(&p, only_observed, sizeof(only_observed)),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(hs_read_exact(&p, only_unknown, sizeof(only_unknown)),
                   SC_ERR_MALFORMED);
}
END_TEST

START_TEST(test_hs_unknown_fields) {
  static const uint8_t unknown_types[] = {0x00, 0x03, 0x09, 0x80, 0xff};
  size_t u, pos;
  for (u = 0; u < sizeof(unknown_types); u++) {
    /* An unknown field before, between and after the known ones, one of
     * them with a two-byte length. */
    for (pos = 0; pos < 3; pos++) {
      uint8_t buf[256], filler[100];
      sc_hs_payload p;
      sc_wr w;
      memset(filler, 0x5e, sizeof(filler));
      sc_wr_init(&w, buf, sizeof(buf));
      if (pos == 0) {
        ck_assert_int_eq(
            sc_chunk_write(&w, unknown_types[u], filler, sizeof(filler)), 0);
      }
      ck_assert_int_eq(sc_wr_bytes(&w, HS_V4, 10), 0);
      if (pos == 1) {
        ck_assert_int_eq(sc_chunk_write(&w, unknown_types[u], filler, 3), 0);
      }
      ck_assert_int_eq(sc_wr_bytes(&w, HS_V4 + 10, sizeof(HS_V4) - 10), 0);
      if (pos == 2) {
        ck_assert_int_eq(sc_chunk_write(&w, unknown_types[u], filler, 0), 0);
      }
      ck_assert_msg(hs_read_exact(&p, buf, w.len) == 0,
                    "unknown field %u at %zu not skipped", unknown_types[u],
                    pos);
      ck_assert_uint_eq(p.incarnation, UINT64_C(0x0123456789abcdef));
      ck_assert_int_eq(p.has_observed, 1);
      ck_assert_uint_eq(p.observed.port, 8080);
    }
  }
}
END_TEST

START_TEST(test_hs_truncated) {
  size_t t;
  for (t = 0; t < sizeof(HS_V4); t++) {
    sc_hs_payload p;
    int rv = hs_read_exact(&p, HS_V4, t);
    if (t == sizeof(HS_PLAIN)) {
      /* Cut at a field boundary: a valid payload without the address. */
      ck_assert_int_eq(rv, 0);
      ck_assert_int_eq(p.has_observed, 0);
    } else {
      ck_assert_msg(rv == SC_ERR_MALFORMED, "%zu-byte prefix: rv %d", t, rv);
    }
  }
}
END_TEST

START_TEST(test_hs_bad_fields) {
  static const uint8_t inc_short[] = {0x01, 0x07, 1, 2, 3, 4, 5, 6, 7};
  static const uint8_t inc_long[] = {0x01, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const uint8_t obs_trailing[] = {0x01, 0x08, 1, 2,    3,    4,    5,
                                         6,    7,    8, 0x02, 0x08, 0x04, 192,
                                         0,    2,    1, 0x1f, 0x90, 0x00};
  static const uint8_t obs_family[] = {0x01, 0x08, 1, 2,    3,    4,    5,
                                       6,    7,    8, 0x02, 0x07, 0x05, 192,
                                       0,    2,    1, 0x1f, 0x90};
  static const uint8_t obs_short[] = {0x01, 0x08, 1,    2,   3, 4, 5, 6,   7, 8,
                                      0x02, 0x06, 0x04, 192, 0, 2, 1, 0x1f};
  sc_hs_payload p;
  ck_assert_int_eq(hs_read_exact(&p, inc_short, sizeof(inc_short)),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(hs_read_exact(&p, inc_long, sizeof(inc_long)),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(hs_read_exact(&p, obs_trailing, sizeof(obs_trailing)),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(hs_read_exact(&p, obs_family, sizeof(obs_family)),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(hs_read_exact(&p, obs_short, sizeof(obs_short)),
                   SC_ERR_MALFORMED);
}
END_TEST

/* sc_packet.h: the payload is written whole or not at all. */
START_TEST(test_hs_write_fails_whole) {
  sc_hs_payload in;
  size_t cap;
  memset(&in, 0, sizeof(in));
  in.incarnation = 42;
  in.has_observed = 1;
  in.observed = v6_addr();
  for (cap = 0; cap < 10 + 2 + 19; cap++) {
    uint8_t buf[64];
    sc_wr w;
    int rv;
    memset(buf, SENTINEL, sizeof(buf));
    sc_wr_init(&w, buf, cap);
    rv = sc_hs_payload_write(&w, &in);
    ck_assert_msg(rv == SC_ERR_BUFFER && w.len == 0 && buf[0] == SENTINEL,
                  "sc_hs_payload_write with %zu bytes of room for a 31-byte "
                  "payload returned %d and wrote %zu bytes (want "
                  "SC_ERR_BUFFER and none)",
                  cap, rv, w.len);
  }
}
END_TEST

/* An observed address of no known family is refused, not written as an
 * empty field that sc_hs_payload_read would reject. */
START_TEST(test_hs_write_bad_observed) {
  static const uint8_t families[] = {0, 5, 41, 255};
  size_t i;
  for (i = 0; i < sizeof(families); i++) {
    sc_hs_payload in;
    uint8_t buf[64];
    sc_wr w;
    memset(&in, 0, sizeof(in));
    in.incarnation = 42;
    in.has_observed = 1;
    in.observed = v4_addr();
    in.observed.family = families[i];
    memset(buf, SENTINEL, sizeof(buf));
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_hs_payload_write(&w, &in), SC_ERR_INVALID_ARG);
    ck_assert_uint_eq(w.len, 0);
    ck_assert_uint_eq(buf[0], SENTINEL);
  }
}
END_TEST

/* ---- PEERS (§6.4.1) ----------------------------------------------------- */

static void make_peers(sc_peer_entry *e, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    memset(e[i].peer_id, (int)(0x10 + i), SC_PEER_ID_LEN);
    e[i].peer_id[SC_PEER_ID_LEN - 1] = (uint8_t)i;
    e[i].addr = i % 2 == 0 ? v4_addr() : v6_addr();
    e[i].addr.port = (uint16_t)(1000 + i);
  }
}

static size_t peers_len(const sc_peer_entry *e, size_t n) {
  size_t i, len = 1;
  for (i = 0; i < n; i++) {
    len += SC_PEER_ID_LEN + addr_wire_len(&e[i].addr);
  }
  return len;
}

static int peers_read_exact(sc_peer_entry *out, size_t *n, const uint8_t *data,
                            size_t len) {
  uint8_t *in = dup_exact(data, len);
  int rv = sc_peers_read(out, n, in, len);
  if (rv == 0) {
    set_ctx(in, len);
    check_peers_consistent(out, *n, in, len);
  }
  free(in);
  return rv;
}

START_TEST(test_peers_round_trip) {
  static const size_t counts[] = {0, 1, 2, SC_PEERS_MAX - 1, SC_PEERS_MAX};
  sc_peer_entry in[SC_PEERS_MAX], out[SC_PEERS_MAX];
  uint8_t buf[BIG];
  size_t c, i, n;
  make_peers(in, SC_PEERS_MAX);
  for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
    sc_wr w;
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(sc_peers_write(&w, in, counts[c]), 0);
    ck_assert_uint_eq(w.len, peers_len(in, counts[c]));
    ck_assert_uint_eq(buf[0], counts[c]);
    n = 99;
    ck_assert_int_eq(peers_read_exact(out, &n, buf, w.len), 0);
    ck_assert_uint_eq(n, counts[c]);
    for (i = 0; i < n; i++) {
      ck_assert_mem_eq(out[i].peer_id, in[i].peer_id, SC_PEER_ID_LEN);
      ck_assert(sc_addr_eq(&out[i].addr, &in[i].addr));
    }
  }
}
END_TEST

START_TEST(test_peers_layout) {
  uint8_t want[1 + SC_PEER_ID_LEN + 7], buf[64];
  sc_peer_entry e;
  sc_wr w;
  memset(e.peer_id, 0x77, SC_PEER_ID_LEN);
  e.addr = v4_addr();
  want[0] = 0x01;
  memset(want + 1, 0x77, SC_PEER_ID_LEN);
  memcpy(want + 1 + SC_PEER_ID_LEN, ADDR_V4, sizeof(ADDR_V4));
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_peers_write(&w, &e, 1), 0);
  ck_assert_uint_eq(w.len, sizeof(want));
  ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

/* Writes |n| entries after a count of |count|, by hand. */
static size_t peers_craft(uint8_t *buf, size_t cap, uint64_t count,
                          const sc_peer_entry *e, size_t n) {
  sc_wr w;
  size_t i;
  sc_wr_init(&w, buf, cap);
  ck_assert_int_eq(sc_wr_varint(&w, count), 0);
  for (i = 0; i < n; i++) {
    ck_assert_int_eq(sc_wr_bytes(&w, e[i].peer_id, SC_PEER_ID_LEN), 0);
    ck_assert_int_eq(sc_addr_write(&w, &e[i].addr), 0);
  }
  return w.len;
}

START_TEST(test_peers_bad) {
  sc_peer_entry in[SC_PEERS_MAX + 1], *out;
  uint8_t buf[BIG];
  size_t len, n, t;
  make_peers(in, SC_PEERS_MAX + 1);
  /* |out| holds exactly SC_PEERS_MAX entries: an overrun is caught. */
  out = malloc(SC_PEERS_MAX * sizeof(*out));
  ck_assert_ptr_nonnull(out);
  len = peers_craft(buf, sizeof(buf), SC_PEERS_MAX + 1, in, SC_PEERS_MAX + 1);
  ck_assert_int_eq(peers_read_exact(out, &n, buf, len), SC_ERR_MALFORMED);
  len = peers_craft(buf, sizeof(buf), SC_VARINT_MAX, in, 1);
  ck_assert_int_eq(peers_read_exact(out, &n, buf, len), SC_ERR_MALFORMED);
  /* Trailing bytes, after zero entries and after two. */
  len = peers_craft(buf, sizeof(buf), 0, in, 0);
  buf[len] = 0;
  ck_assert_int_eq(peers_read_exact(out, &n, buf, len + 1), SC_ERR_MALFORMED);
  len = peers_craft(buf, sizeof(buf), 2, in, 2);
  buf[len] = 0;
  ck_assert_int_eq(peers_read_exact(out, &n, buf, len + 1), SC_ERR_MALFORMED);
  /* Fewer entries than counted, and every truncation. */
  len = peers_craft(buf, sizeof(buf), 3, in, 2);
  ck_assert_int_eq(peers_read_exact(out, &n, buf, len), SC_ERR_MALFORMED);
  len = peers_craft(buf, sizeof(buf), SC_PEERS_MAX, in, SC_PEERS_MAX);
  ck_assert_int_eq(peers_read_exact(out, &n, buf, len), 0);
  for (t = 0; t < len; t++) {
    ck_assert_msg(peers_read_exact(out, &n, buf, t) == SC_ERR_MALFORMED,
                  "%zu-byte prefix of PEERS accepted", t);
  }
  /* A bad family in the second entry. */
  len = peers_craft(buf, sizeof(buf), 2, in, 2);
  buf[1 + SC_PEER_ID_LEN + 7 + SC_PEER_ID_LEN] = 5;
  ck_assert_int_eq(peers_read_exact(out, &n, buf, len), SC_ERR_MALFORMED);
  free(out);
}
END_TEST

/* sc_packet.h: a PEERS body is written whole or not at all. */
START_TEST(test_peers_write_fails_whole) {
  sc_peer_entry in[3];
  size_t cap, need;
  make_peers(in, 3);
  need = peers_len(in, 3);
  for (cap = 0; cap < need; cap++) {
    uint8_t buf[256];
    sc_wr w;
    int rv;
    memset(buf, SENTINEL, sizeof(buf));
    sc_wr_init(&w, buf, cap);
    rv = sc_peers_write(&w, in, 3);
    ck_assert_msg(rv == SC_ERR_BUFFER && w.len == 0 && buf[0] == SENTINEL,
                  "sc_peers_write with %zu bytes of room for %zu returned "
                  "%d and wrote %zu bytes (want SC_ERR_BUFFER and none)",
                  cap, need, rv, w.len);
  }
}
END_TEST

/* More than SC_PEERS_MAX entries, or an address of no known family, would
 * make a body sc_peers_read rejects: refused, nothing written. */
START_TEST(test_peers_write_bad_args) {
  sc_peer_entry in[SC_PEERS_MAX + 1];
  uint8_t buf[BIG];
  sc_wr w;
  make_peers(in, SC_PEERS_MAX + 1);
  memset(buf, SENTINEL, sizeof(buf));
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_peers_write(&w, in, SC_PEERS_MAX + 1),
                   SC_ERR_INVALID_ARG);
  ck_assert_uint_eq(w.len, 0);
  in[2].addr.family = 0;
  ck_assert_int_eq(sc_peers_write(&w, in, 3), SC_ERR_INVALID_ARG);
  ck_assert_uint_eq(w.len, 0);
  ck_assert_uint_eq(buf[0], SENTINEL);
}
END_TEST

static Suite *packet_suite(void) {
  Suite *s = suite_create("packet");
  TCase *tc = tcase_create("packet");
  tcase_add_loop_test(tc, test_pkt_layout, 0, NPKT);
  tcase_add_loop_test(tc, test_pkt_write_out_of_room, 0, NPKT);
  tcase_add_loop_test(tc, test_pkt_decode_fields, 0, NPKT);
  tcase_add_loop_test(tc, test_pkt_truncated, 0, NPKT);
  tcase_add_loop_test(tc, test_pkt_wrong_version, 0, NPKT);
  tcase_add_test(tc, test_pkt_unknown_type);
  tcase_add_test(tc, test_init_cookie_len);
  tcase_add_test(tc, test_retry_cookie_len);
  tcase_add_test(tc, test_retry_trailing);
  tcase_add_test(tc, test_data_pn_extremes);
  tcase_add_test(tc, test_data_sealed_short);
  suite_add_tcase(s, tc);
  tc = tcase_create("chunk");
  tcase_add_test(tc, test_chunk_sequence);
  tcase_add_test(tc, test_chunk_empty);
  tcase_add_test(tc, test_chunk_bad_length);
  tcase_add_test(tc, test_chunk_every_type);
  tcase_add_test(tc, test_chunk_write);
  suite_add_tcase(s, tc);
  tc = tcase_create("ack");
  tcase_add_test(tc, test_ack_one_range);
  tcase_add_test(tc, test_ack_several_ranges);
  tcase_add_test(tc, test_ack_zero_gaps_to_zero);
  tcase_add_test(tc, test_ack_reaching_zero);
  tcase_add_test(tc, test_ack_max_ranges);
  tcase_add_test(tc, test_ack_write_short_room);
  tcase_add_test(tc, test_ack_write_beyond_varint_max);
  tcase_add_test(tc, test_ack_decode_first_range);
  tcase_add_test(tc, test_ack_decode_underflow);
  tcase_add_test(tc, test_ack_decode_trailing_and_truncated);
  tcase_add_loop_test(tc, test_ack_decode_too_many_ranges, 0,
                      (int)(sizeof(too_many) / sizeof(too_many[0])));
  suite_add_tcase(s, tc);
  tc = tcase_create("msg");
  tcase_add_test(tc, test_msg_layout);
  tcase_add_test(tc, test_msg_round_trip);
  tcase_add_test(tc, test_msg_bad);
  suite_add_tcase(s, tc);
  tc = tcase_create("addr");
  tcase_add_test(tc, test_addr_round_trip);
  tcase_add_test(tc, test_addr_bad_family);
  suite_add_tcase(s, tc);
  tc = tcase_create("handshake");
  tcase_add_test(tc, test_hs_round_trip);
  tcase_add_test(tc, test_hs_missing_incarnation);
  tcase_add_test(tc, test_hs_unknown_fields);
  tcase_add_test(tc, test_hs_truncated);
  tcase_add_test(tc, test_hs_bad_fields);
  tcase_add_test(tc, test_hs_write_fails_whole);
  tcase_add_test(tc, test_hs_write_bad_observed);
  suite_add_tcase(s, tc);
  tc = tcase_create("peers");
  tcase_add_test(tc, test_peers_round_trip);
  tcase_add_test(tc, test_peers_layout);
  tcase_add_test(tc, test_peers_bad);
  tcase_add_test(tc, test_peers_write_fails_whole);
  tcase_add_test(tc, test_peers_write_bad_args);
  suite_add_tcase(s, tc);
  return s;
}
int main(void) { return check_main(packet_suite()); }
