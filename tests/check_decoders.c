/*
 * check_decoders.c: every decoder of src/core/sc_packet.c fed random bytes
 * and random mutations of valid encodings (200,000 inputs each, fixed
 * seed). No input may crash a decoder, and whatever a decoder accepts must
 * be consistent with its input: pointers inside it, and re-encoding gives
 * back the same bytes or the same values.
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

static void setup_rng(void) { rng_seed(UINT64_C(0x9e3779b97f4a7c15)); }

/* ---- randomized robustness ---------------------------------------------- */

#define ROBUST_ITERATIONS 200000
#define ROBUST_CAP 1600

static sc_addr random_addr(void) {
  sc_addr a;
  size_t i;
  memset(&a, 0, sizeof(a));
  a.family = rng() % 2 ? SC_AF_INET : SC_AF_INET6;
  for (i = 0; i < (a.family == SC_AF_INET ? 4u : 16u); i++) {
    a.ip[i] = (uint8_t)rng();
  }
  a.port = (uint16_t)rng();
  return a;
}

/* Fills |r| with up to |max| valid ranges, highest first. */
static size_t random_ranges(sc_pn_range *r, size_t max) {
  size_t n = 1 + rng_below(max), i;
  uint64_t hi;
  switch (rng() % 3) {
  case 0:
    hi = rng() % 1000;
    break;
  case 1:
    hi = rng() % (UINT64_C(1) << 32);
    break;
  default:
    hi = SC_VARINT_MAX - rng() % 1000;
  }
  for (i = 0; i < n; i++) {
    uint64_t len = rng() % 4 == 0 ? rng() % 100000 : rng() % 4;
    uint64_t gap = rng() % 4 == 0 ? rng() % 100000 : rng() % 3;
    r[i].hi = hi;
    r[i].lo = len > hi ? 0 : hi - len;
    if (r[i].lo < gap + 2) {
      return i + 1;
    }
    hi = r[i].lo - gap - 2;
  }
  return n;
}

static void random_bytes(uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    p[i] = (uint8_t)rng();
  }
}

/* Appends a valid MSG chunk (a PEERS one half of the time). */
static void sample_msg(sc_wr *w) {
  uint8_t body[1024];
  sc_peer_entry e[SC_PEERS_MAX];
  size_t n = rng_below(SC_PEERS_MAX + 1), i, len;
  uint64_t kind = rng() % 2 ? SC_MSG_PEERS : rng() % 70000;
  sc_wr bw;
  for (i = 0; i < n; i++) {
    random_bytes(e[i].peer_id, SC_PEER_ID_LEN);
    e[i].addr = random_addr();
  }
  sc_wr_init(&bw, body, sizeof(body));
  if (kind == SC_MSG_PEERS) {
    ck_assert_int_eq(sc_peers_write(&bw, e, n), 0);
    len = bw.len;
  } else {
    len = rng_below(64);
    random_bytes(body, len);
  }
  sc_msg_write(w, rng() % 2 ? rng() % 100 : rng() & SC_VARINT_MAX, kind, body,
               len);
}

/* Writes one valid encoding of a random kind into |w|: a packet, a chunk
 * sequence, or the body an inner decoder takes. */
static void make_sample(sc_wr *w) {
  uint8_t tmp[512];
  sc_pn_range r[SC_ACK_MAX_RANGES + 8];
  size_t n, i;
  sc_hs_payload hp;
  random_bytes(tmp, sizeof(tmp));
  switch (rng() % 11) {
  case 0:
    sc_pkt_write_init(w, (uint32_t)rng(), tmp, rng() % 2 ? SC_COOKIE_LEN : 0,
                      tmp + 32, rng_below(200));
    break;
  case 1:
    sc_pkt_write_retry(w, (uint32_t)rng(), tmp, tmp + 16, SC_COOKIE_LEN);
    break;
  case 2:
    sc_pkt_write_response(w, (uint32_t)rng(), (uint32_t)rng(), tmp,
                          rng_below(200));
    break;
  case 3:
    sc_pkt_write_finish(w, (uint32_t)rng(), tmp, rng_below(200));
    break;
  case 4:
    sc_pkt_write_data_header(w, (uint32_t)rng(), rng());
    sc_wr_bytes(w, tmp, SC_AEAD_TAG_LEN + 1 + rng_below(300));
    break;
  case 5: /* the plaintext of a DATA packet */
    for (i = 1 + rng_below(6); i > 0; i--) {
      switch (rng() % 4) {
      case 0:
        n = random_ranges(r, SC_ACK_MAX_RANGES + 8);
        sc_ack_write(w, r, n, rng() % 100000);
        break;
      case 1:
        sample_msg(w);
        break;
      default:
        sc_chunk_write(w, (uint8_t)(rng() % 8), tmp, rng_below(80));
      }
    }
    break;
  case 6: /* an ACK body */
    n = random_ranges(r, SC_ACK_MAX_RANGES + 8);
    sc_ack_write(w, r, n, rng() % 2 ? rng() & SC_VARINT_MAX : rng() % 1000);
    if (w->len > 2) {
      size_t skip = 1 + varint_size(w->buf[1]);
      memmove(w->buf, w->buf + skip, w->len - skip);
      w->len -= skip;
    }
    break;
  case 7: /* a handshake payload */
    memset(&hp, 0, sizeof(hp));
    hp.incarnation = rng();
    hp.has_observed = (int)(rng() % 2);
    hp.observed = random_addr();
    if (rng() % 3 == 0) {
      sc_chunk_write(w, (uint8_t)(3 + rng() % 250), tmp, rng_below(70));
    }
    sc_hs_payload_write(w, &hp);
    break;
  case 8: /* a PEERS body */
  case 9: /* a MSG body */
    sample_msg(w);
    if (w->len > 2) {
      size_t skip = 1 + varint_size(w->buf[1]);
      memmove(w->buf, w->buf + skip, w->len - skip);
      w->len -= skip;
      if (rng() % 2 && w->len > 2) {
        /* Strip seq and kind too: what is left is a PEERS body. */
        skip = varint_size(w->buf[0]);
        skip += varint_size(w->buf[skip]);
        if (skip <= w->len) {
          memmove(w->buf, w->buf + skip, w->len - skip);
          w->len -= skip;
        }
      }
    }
    break;
  default: /* an address */
    hp.observed = random_addr();
    sc_addr_write(w, &hp.observed);
  }
}

/* Applies one to four random edits to the |len| bytes of |buf|. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap) {
  static const uint8_t special[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                    0x06, 0x07, 0x14, 0x3f, 0x40, 0x7f,
                                    0x80, 0xbf, 0xc0, 0xff};
  size_t k, n = 1 + rng_below(4);
  for (k = 0; k < n; k++) {
    size_t pos = len > 0 ? rng_below(len) : 0, add;
    switch (rng() % 7) {
    case 0:
      if (len > 0) {
        buf[pos] ^= (uint8_t)(1u << (rng() % 8));
      }
      break;
    case 1:
      if (len > 0) {
        buf[pos] = (uint8_t)rng();
      }
      break;
    case 2:
      if (len > 0) {
        buf[pos] = special[rng_below(sizeof(special))];
      }
      break;
    case 3:
      len = pos;
      break;
    case 4:
      add = 1 + rng_below(8);
      if (len + add <= cap) {
        random_bytes(buf + len, add);
        len += add;
      }
      break;
    case 5:
      if (len > 0) {
        add = 1 + rng_below(len - pos);
        memmove(buf + pos, buf + pos + add, len - pos - add);
        len -= add;
      }
      break;
    default:
      add = 1 + rng_below(8);
      if (len + add <= cap) {
        memmove(buf + pos + add, buf + pos, len - pos);
        random_bytes(buf + pos, add);
        len += add;
      }
    }
  }
  return len;
}

/* Runs every decoder on an exact-size copy of |data| and checks what they
 * accept. */
static void feed_all(const uint8_t *data, size_t len) {
  uint8_t *in = dup_exact(data, len);
  sc_peer_entry *e = malloc(SC_PEERS_MAX * sizeof(*e));
  sc_pkt pkt;
  sc_ack ack;
  sc_hs_payload hp;
  sc_msg_view m;
  sc_addr a;
  sc_rd r;
  size_t n;
  int rv;
  ck_assert_ptr_nonnull(e);
  set_ctx(in, len);
  rv = sc_pkt_decode(&pkt, in, len);
  REQUIRE(rv == 0 || rv == SC_ERR_BUFFER || rv == SC_ERR_VERSION ||
          rv == SC_ERR_MALFORMED);
  if (rv == 0) {
    check_pkt_consistent(&pkt, in, len);
  }
  check_chunks(in, len);
  rv = sc_ack_decode(&ack, in, len);
  REQUIRE(rv == 0 || rv == SC_ERR_MALFORMED);
  if (rv == 0) {
    check_ack_consistent(&ack, in, len);
  }
  rv = sc_hs_payload_read(&hp, in, len);
  REQUIRE(rv == 0 || rv == SC_ERR_MALFORMED);
  if (rv == 0) {
    check_hs_consistent(&hp, in, len);
  }
  rv = sc_peers_read(e, &n, in, len);
  REQUIRE(rv == 0 || rv == SC_ERR_MALFORMED);
  if (rv == 0) {
    check_peers_consistent(e, n, in, len);
  }
  rv = sc_msg_decode(&m, in, len);
  REQUIRE(rv == 0 || rv == SC_ERR_MALFORMED);
  if (rv == 0) {
    check_msg_consistent(&m, in, len);
  }
  sc_rd_init(&r, in, len);
  rv = sc_addr_read(&r, &a);
  REQUIRE(rv == 0 || rv == SC_ERR_MALFORMED);
  if (rv == 0) {
    REQUIRE(a.family == SC_AF_INET || a.family == SC_AF_INET6);
    REQUIRE(r.p == in + addr_wire_len(&a));
  }
  free(e);
  free(in);
}

START_TEST(test_random_bytes) {
  uint8_t buf[ROBUST_CAP];
  int i;
  for (i = 0; i < ROBUST_ITERATIONS; i++) {
    size_t len;
    switch (rng() % 10) {
    case 0:
    case 1:
      len = rng_below(ROBUST_CAP + 1);
      break;
    case 2:
    case 3:
    case 4:
      len = rng_below(65);
      break;
    default:
      len = rng_below(17);
    }
    random_bytes(buf, len);
    /* Half the time, a valid version and a packet type near the known
     * ones, so the packet decoder gets past its first two bytes. */
    if (len >= 2 && rng() % 2) {
      buf[0] = SC_VERSION;
      buf[1] = (uint8_t)(rng() % 7);
    }
    feed_all(buf, len);
  }
}
END_TEST

START_TEST(test_random_mutations) {
  uint8_t buf[ROBUST_CAP];
  int i;
  for (i = 0; i < ROBUST_ITERATIONS; i++) {
    sc_wr w;
    size_t len;
    sc_wr_init(&w, buf, ROBUST_CAP - 64);
    make_sample(&w);
    len = w.len;
    if (rng() % 8 != 0) {
      len = mutate(buf, len, ROBUST_CAP);
    }
    feed_all(buf, len);
  }
}
END_TEST

static Suite *decoders_suite(void) {
  Suite *s = suite_create("decoders");
  TCase *tc = tcase_create("robustness");
  tcase_add_checked_fixture(tc, setup_rng, NULL);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_random_bytes);
  tcase_add_test(tc, test_random_mutations);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(decoders_suite()); }
