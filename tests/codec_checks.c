/*
 * codec_checks.c: support for the codec tests (codec_checks.h).
 */
#include "codec_checks.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sc_cookie.h"
#include "sc_wire.h"

/* Returns a heap copy of exactly |len| bytes of |data| (free() it). */
uint8_t *dup_exact(const uint8_t *data, size_t len) {
  uint8_t *p = malloc(len);
  ck_assert_ptr_nonnull(p);
  if (len > 0) {
    memcpy(p, data, len);
  }
  return p;
}

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

uint64_t rng(void) {
  /* xorshift64*: deterministic across platforms. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * UINT64_C(2685821657736338717);
}

size_t rng_below(size_t n) { return (size_t)(rng() % n); }

void rng_seed(uint64_t seed) { rng_state = seed; }

/* The input being checked, for failure messages. */
static const uint8_t *ctx_data;
static size_t ctx_len;

void set_ctx(const uint8_t *data, size_t len) {
  ctx_data = data;
  ctx_len = len;
}

/* Fails the test, printing |cond| and the first bytes of the input. Used
 * instead of ck_assert in loops: Check records every passing ck_assert. */
_Noreturn void fail_input(const char *cond, int line) {
  static const char digits[] = "0123456789abcdef";
  char hex[2 * 96 + 1];
  size_t i, n = ctx_len < 96 ? ctx_len : 96;
  for (i = 0; i < n; i++) {
    hex[2 * i] = digits[ctx_data[i] >> 4];
    hex[2 * i + 1] = digits[ctx_data[i] & 0xf];
  }
  hex[2 * n] = '\0';
  ck_abort_msg("line %d: %s, on %zu-byte input %s%s", line, cond, ctx_len, hex,
               ctx_len > n ? "..." : "");
}

/* Nonzero if [p, p + n) lies inside [data, data + len). */
int inside(const uint8_t *p, size_t n, const uint8_t *data, size_t len) {
  return p != NULL && p >= data && p <= data + len &&
         n <= (size_t)(data + len - p);
}

/* The encoded length of the varint starting with byte |b|. */
size_t varint_size(uint8_t b) { return (size_t)1 << (b >> 6); }

/* ---- consistency of accepted inputs ------------------------------------ */

/* A decoded packet points into its input at the §3 offsets, and the
 * encoders turn it back into exactly the input. */
void check_pkt_consistent(const sc_pkt *p, const uint8_t *data, size_t len) {
  uint8_t out[BIG];
  sc_wr w;
  int rv = SC_ERR_MALFORMED;
  REQUIRE(len >= 2 && len <= sizeof(out));
  REQUIRE(data[0] == SC_VERSION);
  REQUIRE(p->type == data[1]);
  REQUIRE(p->len == len);
  sc_wr_init(&w, out, sizeof(out));
  switch (p->type) {
  case SC_PKT_INIT:
    REQUIRE(p->cookie_len == 0 || p->cookie_len == SC_COOKIE_LEN);
    REQUIRE(p->cookie_len == 0 ? p->cookie == NULL
                               : p->cookie == data + INIT_FIXED);
    REQUIRE(p->noise == data + INIT_FIXED + p->cookie_len);
    REQUIRE(p->noise_len == len - INIT_FIXED - p->cookie_len);
    rv = sc_pkt_write_init(&w, p->sender_sid, p->cookie, p->cookie_len,
                           p->noise, p->noise_len);
    break;
  case SC_PKT_RETRY:
    REQUIRE(len == RETRY_LEN);
    REQUIRE(p->echo == data + 6);
    REQUIRE(p->cookie_len == SC_COOKIE_LEN);
    REQUIRE(p->cookie == data + 6 + SC_ECHO_LEN + 1);
    rv = sc_pkt_write_retry(&w, p->receiver_sid, p->echo, p->cookie,
                            p->cookie_len);
    break;
  case SC_PKT_RESPONSE:
    REQUIRE(p->noise == data + RESPONSE_FIXED);
    REQUIRE(p->noise_len == len - RESPONSE_FIXED);
    rv = sc_pkt_write_response(&w, p->receiver_sid, p->sender_sid, p->noise,
                               p->noise_len);
    break;
  case SC_PKT_FINISH:
    REQUIRE(p->noise == data + FINISH_FIXED);
    REQUIRE(p->noise_len == len - FINISH_FIXED);
    rv = sc_pkt_write_finish(&w, p->receiver_sid, p->noise, p->noise_len);
    break;
  case SC_PKT_DATA:
    REQUIRE(p->sealed == data + SC_DATA_HEADER_LEN);
    REQUIRE(p->sealed_len == len - SC_DATA_HEADER_LEN);
    REQUIRE(p->sealed_len >= SC_AEAD_TAG_LEN + 1);
    rv = sc_pkt_write_data_header(&w, p->receiver_sid, p->pn);
    if (rv == 0) {
      rv = sc_wr_bytes(&w, p->sealed, p->sealed_len);
    }
    break;
  default:
    fail_input("sc_pkt_decode accepted an unknown packet type", __LINE__);
  }
  REQUIRE(rv == 0);
  REQUIRE(w.len == len);
  REQUIRE(memcmp(out, data, len) == 0);
}

/* Ranges are highest first, each well-formed, with at least one missing
 * packet number between two of them. */
void check_ranges_shape(const sc_pn_range *r, size_t n) {
  size_t i;
  REQUIRE(n >= 1 && n <= SC_ACK_MAX_RANGES);
  for (i = 0; i < n; i++) {
    REQUIRE(r[i].lo <= r[i].hi);
    REQUIRE(r[i].hi <= SC_VARINT_MAX);
    if (i > 0) {
      REQUIRE(r[i].hi + 1 < r[i - 1].lo);
    }
  }
}

void check_ack_consistent(const sc_ack *a, const uint8_t *body, size_t len) {
  uint8_t out[BIG];
  uint64_t largest = 0;
  sc_ack again;
  sc_chunk c;
  sc_wr w;
  sc_rd r;
  size_t i;
  check_ranges_shape(a->ranges, a->nranges);
  sc_rd_init(&r, body, len);
  REQUIRE(sc_rd_varint(&r, &largest) == 0);
  REQUIRE(a->ranges[0].hi == largest);
  REQUIRE(a->delay_us <= SC_VARINT_MAX);
  /* Encoding what was decoded and decoding it again changes nothing. */
  sc_wr_init(&w, out, sizeof(out));
  REQUIRE(sc_ack_write(&w, a->ranges, a->nranges, a->delay_us) == 0);
  sc_rd_init(&r, out, w.len);
  REQUIRE(sc_chunk_next(&r, &c) == 1);
  REQUIRE(c.type == SC_CHUNK_ACK);
  REQUIRE(sc_rd_left(&r) == 0);
  REQUIRE(sc_ack_decode(&again, c.body, c.len) == 0);
  REQUIRE(again.nranges == a->nranges);
  REQUIRE(again.delay_us == a->delay_us);
  for (i = 0; i < a->nranges; i++) {
    REQUIRE(again.ranges[i].lo == a->ranges[i].lo);
    REQUIRE(again.ranges[i].hi == a->ranges[i].hi);
  }
}

void check_msg_consistent(const sc_msg_view *m, const uint8_t *body,
                          size_t len) {
  uint8_t out[BIG];
  size_t head;
  sc_msg_view again;
  sc_chunk c;
  sc_wr w;
  sc_rd r;
  REQUIRE(len >= 2);
  head = varint_size(body[0]);
  REQUIRE(len > head);
  head += varint_size(body[head]);
  REQUIRE(m->seq <= SC_VARINT_MAX && m->kind <= SC_VARINT_MAX);
  REQUIRE(m->body == body + head);
  REQUIRE(m->len == len - head);
  sc_wr_init(&w, out, sizeof(out));
  REQUIRE(sc_msg_write(&w, m->seq, m->kind, m->body, m->len) == 0);
  REQUIRE(w.len == sc_msg_chunk_len(m->seq, m->kind, m->len));
  sc_rd_init(&r, out, w.len);
  REQUIRE(sc_chunk_next(&r, &c) == 1);
  REQUIRE(c.type == SC_CHUNK_MSG);
  REQUIRE(sc_msg_decode(&again, c.body, c.len) == 0);
  REQUIRE(again.seq == m->seq && again.kind == m->kind);
  REQUIRE(again.len == m->len);
  REQUIRE(m->len == 0 || memcmp(again.body, m->body, m->len) == 0);
}

size_t addr_wire_len(const sc_addr *a) {
  return a->family == SC_AF_INET ? 7 : 19;
}

void check_peers_consistent(const sc_peer_entry *e, size_t n,
                            const uint8_t *body, size_t len) {
  uint8_t out[BIG];
  size_t i, want, vlen;
  uint64_t count = 0;
  sc_wr w;
  sc_rd r;
  REQUIRE(n <= SC_PEERS_MAX);
  REQUIRE(len >= 1);
  vlen = varint_size(body[0]);
  sc_rd_init(&r, body, len);
  REQUIRE(sc_rd_varint(&r, &count) == 0);
  REQUIRE(count == n);
  want = vlen;
  for (i = 0; i < n; i++) {
    REQUIRE(e[i].addr.family == SC_AF_INET || e[i].addr.family == SC_AF_INET6);
    want += SC_PEER_ID_LEN + addr_wire_len(&e[i].addr);
  }
  REQUIRE(want == len);
  /* Re-encoded, only the count's varint may get shorter. */
  sc_wr_init(&w, out, sizeof(out));
  REQUIRE(sc_peers_write(&w, e, n) == 0);
  REQUIRE(w.len == 1 + len - vlen);
  REQUIRE(out[0] == n);
  REQUIRE(memcmp(out + 1, body + vlen, len - vlen) == 0);
}

/* Finds the last |type| field of a handshake payload (the reader skips
 * what it does not know, so this only needs the chunk layout). */
int hs_find(const uint8_t *data, size_t len, uint8_t type, sc_chunk *out) {
  sc_rd r;
  sc_chunk c;
  int found = 0;
  sc_rd_init(&r, data, len);
  while (sc_chunk_next(&r, &c) == 1) {
    if (c.type == type) {
      *out = c;
      found = 1;
    }
  }
  return found;
}

void check_hs_consistent(const sc_hs_payload *p, const uint8_t *data,
                         size_t len) {
  uint8_t out[BIG];
  sc_hs_payload again;
  sc_chunk c;
  sc_wr w;
  memset(&c, 0, sizeof(c));
  REQUIRE(hs_find(data, len, HS_INCARNATION, &c));
  REQUIRE(c.len == 8 && sc_get_u64(c.body) == p->incarnation);
  REQUIRE(p->has_observed == 0 || p->has_observed == 1);
  REQUIRE(p->has_observed == hs_find(data, len, HS_OBSERVED, &c));
  if (p->has_observed) {
    sc_addr a;
    sc_rd r;
    sc_rd_init(&r, c.body, c.len);
    REQUIRE(sc_addr_read(&r, &a) == 0 && sc_rd_left(&r) == 0);
    REQUIRE(sc_addr_eq(&a, &p->observed));
  }
  sc_wr_init(&w, out, sizeof(out));
  REQUIRE(sc_hs_payload_write(&w, p) == 0);
  REQUIRE(sc_hs_payload_read(&again, out, w.len) == 0);
  REQUIRE(again.incarnation == p->incarnation);
  REQUIRE(again.has_observed == p->has_observed);
  REQUIRE(!p->has_observed || sc_addr_eq(&again.observed, &p->observed));
}

/* Walks the chunks of |data| as a DATA plaintext would be walked, decoding
 * the ACK and MSG bodies (and PEERS inside MSG) from exact-size copies. */
void check_chunks(const uint8_t *data, size_t len) {
  sc_rd r;
  sc_chunk c;
  size_t n = 0;
  int rv;
  sc_rd_init(&r, data, len);
  for (;;) {
    const uint8_t *start = r.p;
    uint8_t *body;
    rv = sc_chunk_next(&r, &c);
    if (rv != 1) {
      break;
    }
    REQUIRE(++n <= len / 2);
    REQUIRE(c.type == start[0]);
    REQUIRE(c.body == start + 1 + varint_size(start[1]));
    REQUIRE(inside(c.body, c.len, data, len));
    REQUIRE(r.p == c.body + c.len);
    body = dup_exact(c.body, c.len);
    if (c.type == SC_CHUNK_ACK) {
      sc_ack ack;
      int arv = sc_ack_decode(&ack, body, c.len);
      REQUIRE(arv == 0 || arv == SC_ERR_MALFORMED);
      if (arv == 0) {
        check_ack_consistent(&ack, body, c.len);
      }
    } else if (c.type == SC_CHUNK_MSG) {
      sc_msg_view m;
      int mrv = sc_msg_decode(&m, body, c.len);
      REQUIRE(mrv == 0 || mrv == SC_ERR_MALFORMED);
      if (mrv == 0) {
        check_msg_consistent(&m, body, c.len);
      }
      if (mrv == 0 && m.kind == SC_MSG_PEERS) {
        sc_peer_entry *e = malloc(SC_PEERS_MAX * sizeof(*e));
        size_t np;
        ck_assert_ptr_nonnull(e);
        if (sc_peers_read(e, &np, m.body, m.len) == 0) {
          check_peers_consistent(e, np, m.body, m.len);
        }
        free(e);
      }
    }
    free(body);
  }
  REQUIRE(rv == 0 || rv == SC_ERR_MALFORMED);
  if (rv == 0) {
    REQUIRE(r.p == data + len);
    REQUIRE(sc_chunk_next(&r, &c) == 0);
  }
}
