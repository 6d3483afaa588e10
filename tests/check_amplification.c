/*
 * check_amplification.c: before an address is validated, a node keeps no
 * state for it and never sends it more than 3x the bytes it received from
 * it (doc/protocol.md §5, §6.5). The tests count the bytes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_cookie.h"
#include "sc_macro.h"
#include "sc_packet.h"
#include "testnet.h"

/* ---- a node on its own, with a byte-counting send callback -------------- */

#define NADDR 64

typedef struct counter {
  sc_addr addr[NADDR];
  uint64_t rx[NADDR], tx[NADDR];
  size_t n;
  uint64_t allocs;
  uint64_t rng;
  uint8_t last[SC_MAX_PACKET]; /* the last datagram sent */
  size_t last_len;
} counter;

static size_t slot(counter *c, const sc_addr *a) {
  size_t i;
  for (i = 0; i < c->n; i++) {
    if (sc_addr_eq(&c->addr[i], a)) {
      return i;
    }
  }
  ck_assert_uint_lt(c->n, NADDR);
  c->addr[c->n] = *a;
  return c->n++;
}

static int count_send(void *user, const sc_addr *to, const uint8_t *data,
                      size_t len) {
  counter *c = user;
  c->tx[slot(c, to)] += len;
  memcpy(c->last, data, len);
  c->last_len = len;
  return 0;
}

static void count_rand(void *user, uint8_t *buf, size_t len) {
  counter *c = user;
  size_t i;
  for (i = 0; i < len; i++) {
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    buf[i] = (uint8_t)c->rng;
  }
}

static void *count_malloc(size_t size, void *user) {
  ((counter *)user)->allocs++;
  return malloc(size);
}
static void count_free(void *ptr, void *user) {
  (void)user;
  free(ptr);
}
static void *count_calloc(size_t n, size_t size, void *user) {
  ((counter *)user)->allocs++;
  return calloc(n, size);
}
static void *count_realloc(void *ptr, size_t size, void *user) {
  ((counter *)user)->allocs++;
  return realloc(ptr, size);
}

static sc_node *lone_node(counter *c, sc_mem *mem) {
  sc_settings st;
  sc_callbacks cb;
  sc_node *node;
  memset(c, 0, sizeof(*c));
  c->rng = 0x1234567;
  mem->user = c;
  mem->malloc = count_malloc;
  mem->free = count_free;
  mem->calloc = count_calloc;
  mem->realloc = count_realloc;
  sc_settings_default(&st);
  count_rand(c, st.static_secret, SC_KEY_LEN);
  memset(&cb, 0, sizeof(cb));
  cb.send = count_send;
  cb.rand = count_rand;
  ck_assert_int_eq(sc_node_new(&node, &st, &cb, mem, c, 0), 0);
  return node;
}

static void recv_from(sc_node *node, counter *c, const sc_addr *from,
                      const uint8_t *data, size_t len, uint64_t now) {
  c->rx[slot(c, from)] += len;
  ck_assert_int_eq(sc_node_recv(node, data, len, from, now), 0);
}

static void assert_within_3x(const counter *c) {
  size_t i;
  for (i = 0; i < c->n; i++) {
    ck_assert_msg(c->tx[i] <= 3 * c->rx[i],
                  "address %zu: sent %llu for %llu received", i,
                  (unsigned long long)c->tx[i], (unsigned long long)c->rx[i]);
  }
}

static sc_addr victim(int i) {
  sc_addr a;
  memset(&a, 0, sizeof(a));
  a.family = (i & 1) ? SC_AF_INET6 : SC_AF_INET;
  a.ip[0] = (uint8_t)(192 + (i & 1));
  a.ip[3] = (uint8_t)i;
  a.port = (uint16_t)(1000 + i);
  return a;
}

/* INITs of every plausible shape from spoofed addresses: each gets at most
 * one RETRY within 3x, and the node allocates nothing and keeps nothing. */
START_TEST(test_init_flood) {
  counter c;
  sc_mem mem;
  sc_node *node = lone_node(&c, &mem);
  uint8_t pkt[SC_MAX_PACKET];
  uint64_t allocs_before = c.allocs, now = SC_SEC;
  sc_node_stats st;
  int i;
  for (i = 0; i < 2000; i++) {
    sc_addr from = victim(i % 40);
    uint8_t cookie[SC_COOKIE_LEN];
    sc_wr w;
    memset(cookie, i & 0xff, sizeof(cookie));
    count_rand(&c, pkt, sizeof(pkt));
    sc_wr_init(&w, pkt, sizeof(pkt));
    switch (i % 4) {
    case 0: /* the smallest valid INIT, no cookie */
      sc_pkt_write_init(&w, (uint32_t)i, NULL, 0, pkt + 100, 32);
      break;
    case 1: /* a forged cookie */
      sc_pkt_write_init(&w, (uint32_t)i, cookie, sizeof(cookie), pkt + 100, 32);
      break;
    case 2: /* a short Noise message */
      sc_pkt_write_init(&w, (uint32_t)i, NULL, 0, pkt + 100, (size_t)(i % 32));
      break;
    default: /* an INIT header on random junk of random length */
      sc_pkt_write_init(&w, (uint32_t)i, NULL, 0, pkt + 100, 0);
      w.len += (size_t)(i % 300);
      break;
    }
    recv_from(node, &c, &from, pkt, w.len, now);
    now += SC_MS;
  }
  assert_within_3x(&c);
  ck_assert_uint_eq(c.allocs, allocs_before);
  ck_assert_uint_eq(sc_node_session_count(node), 0);
  sc_node_get_stats(node, &st);
  /* Cases 0 and 1 get a RETRY; 2 and 3 never carry a 32-byte key. */
  ck_assert_uint_eq(st.retries_sent, 1000);
  ck_assert_uint_eq(st.dropped[SC_DROP_COOKIE], 500);
  ck_assert_uint_eq(st.dropped[SC_DROP_MALFORMED], 1000);
  sc_node_del(node);
}
END_TEST

/* A genuine cookie is bound to its address: presented from another
 * address it is rejected and draws only another RETRY; from its own
 * address it opens a handshake. */
START_TEST(test_cookie_bound_to_address) {
  counter c;
  sc_mem mem;
  sc_node *node = lone_node(&c, &mem);
  sc_addr a = victim(1), b = victim(2);
  uint8_t pkt[SC_MAX_PACKET], e[32], cookie[SC_COOKIE_LEN];
  sc_node_stats st;
  sc_pkt retry;
  sc_wr w;
  memset(e, 9, sizeof(e));
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_init(&w, 7, NULL, 0, e, sizeof(e));
  recv_from(node, &c, &a, pkt, w.len, SC_SEC);
  ck_assert_uint_eq(c.last_len, 2 + 4 + SC_ECHO_LEN + 1 + SC_COOKIE_LEN);
  ck_assert_int_eq(sc_pkt_decode(&retry, c.last, c.last_len), 0);
  ck_assert_int_eq(retry.type, SC_PKT_RETRY);
  ck_assert_uint_eq(retry.receiver_sid, 7);
  ck_assert_mem_eq(retry.echo, e, SC_ECHO_LEN);
  memcpy(cookie, retry.cookie, SC_COOKIE_LEN);
  /* From b: forged as far as the node can tell. */
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_init(&w, 8, cookie, SC_COOKIE_LEN, e, sizeof(e));
  recv_from(node, &c, &b, pkt, w.len, SC_SEC);
  sc_node_get_stats(node, &st);
  ck_assert_uint_eq(st.dropped[SC_DROP_COOKIE], 1);
  ck_assert_uint_eq(sc_node_session_count(node), 0);
  assert_within_3x(&c);
  /* From a, it opens a handshake (a real public key is needed for the DH:
   * use the node's own generator for one). */
  count_rand(&c, e, sizeof(e));
  {
    uint8_t pub[32], id[32];
    ck_assert_int_eq(sc_identity_from_secret(e, pub, id), 0);
    sc_wr_init(&w, pkt, sizeof(pkt));
    sc_pkt_write_init(&w, 7, cookie, SC_COOKIE_LEN, pub, sizeof(pub));
  }
  recv_from(node, &c, &a, pkt, w.len, 2 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(node), 1);
  ck_assert_int_eq(sc_pkt_decode(&retry, c.last, c.last_len), 0);
  ck_assert_int_eq(retry.type, SC_PKT_RESPONSE);
  /* After its lifetime the same cookie is refused. */
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_init(&w, 9, cookie, SC_COOKIE_LEN, e, sizeof(e));
  recv_from(node, &c, &a, pkt, w.len, 200 * SC_SEC);
  sc_node_get_stats(node, &st);
  ck_assert_uint_eq(st.dropped[SC_DROP_COOKIE], 2);
  sc_node_del(node);
}
END_TEST

/* Runs a handshake's first half from |from|: INIT, the RETRY's cookie, then
 * INIT with that cookie and a real public key. */
static void open_half(sc_node *node, counter *c, const sc_addr *from,
                      uint32_t sid, uint64_t now) {
  uint8_t pkt[SC_MAX_PACKET], secret[32], pub[32], id[32];
  uint8_t cookie[SC_COOKIE_LEN];
  sc_pkt retry;
  sc_wr w;
  count_rand(c, secret, sizeof(secret));
  ck_assert_int_eq(sc_identity_from_secret(secret, pub, id), 0);
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_init(&w, sid, NULL, 0, pub, sizeof(pub));
  recv_from(node, c, from, pkt, w.len, now);
  ck_assert_int_eq(sc_pkt_decode(&retry, c->last, c->last_len), 0);
  ck_assert_int_eq(retry.type, SC_PKT_RETRY);
  memcpy(cookie, retry.cookie, SC_COOKIE_LEN);
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_init(&w, sid, cookie, SC_COOKIE_LEN, pub, sizeof(pub));
  recv_from(node, c, from, pkt, w.len, now);
}

/* One host holding valid cookies for many ports still gets only a few
 * handshake slots; another host gets one. */
START_TEST(test_half_open_per_ip) {
  counter c;
  sc_mem mem;
  sc_node *node = lone_node(&c, &mem);
  sc_node_stats st;
  uint32_t i;
  for (i = 0; i < 20; i++) {
    sc_addr from = victim(0);
    from.port = (uint16_t)(2000 + i);
    open_half(node, &c, &from, 100 + i, SC_SEC);
  }
  ck_assert_uint_eq(sc_node_session_count(node), 8);
  sc_node_get_stats(node, &st);
  ck_assert_uint_eq(st.dropped[SC_DROP_LIMIT], 12);
  {
    sc_addr other = victim(2);
    open_half(node, &c, &other, 7, SC_SEC);
  }
  ck_assert_uint_eq(sc_node_session_count(node), 9);
  sc_node_del(node);
}
END_TEST

/* Packets for sessions that do not exist, and garbage of every length,
 * draw no answer at all. */
START_TEST(test_garbage_silence) {
  counter c;
  sc_mem mem;
  sc_node *node = lone_node(&c, &mem);
  uint8_t pkt[SC_MAX_PACKET + 8];
  size_t len, i;
  for (len = 0; len <= sizeof(pkt); len++) {
    sc_addr from = victim((int)(len % 40));
    count_rand(&c, pkt, len);
    if (len > 2) {
      pkt[0] = SC_VERSION;
      pkt[1] = (uint8_t)(SC_PKT_RETRY + len % 4); /* not INIT */
    }
    recv_from(node, &c, &from, pkt, len, SC_SEC);
  }
  for (i = 0; i < c.n; i++) {
    ck_assert_uint_eq(c.tx[i], 0);
  }
  ck_assert_uint_eq(sc_node_session_count(node), 0);
  sc_node_del(node);
}
END_TEST

/* ---- path validation on a live session ----------------------------------- */

typedef struct path_watch {
  int a, b;
  sc_addr spoofed;
  uint64_t to_spoofed;
} path_watch;

static void watch_tap(void *arg, int from_node, const sc_addr *from,
                      const sc_addr *to, const uint8_t *data, size_t len) {
  path_watch *w = arg;
  (void)from;
  (void)data;
  if (from_node == w->a && sc_addr_eq(to, &w->spoofed)) {
    w->to_spoofed += len;
  }
}

/* An attacker who captures one of b's packets before it arrives and sends
 * it to a from a victim's address: a authenticates it, sees a new address
 * and challenges it, but the victim receives at most 3x that packet, and
 * the session stays with b. */
START_TEST(test_path_challenge_limit) {
  tn *net = tn_new(21);
  path_watch w;
  int p[2];
  sc_session_info info;
  uint8_t fresh[SC_MAX_PACKET];
  size_t fresh_len;
  memset(&w, 0, sizeof(w));
  w.a = tn_add(net, NULL, NULL, NULL);
  w.b = tn_add(net, NULL, NULL, NULL);
  w.spoofed = tn_addr("203.0.113.9:9999");
  p[0] = w.a;
  p[1] = w.b;
  tn_set_tap(net, watch_tap, &w);
  ck_assert_int_eq(tn_connect(net, w.b, w.a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  /* b's keepalive is caught and lost */
  fresh_len = tn_catch_sealed(net, w.b, fresh, sizeof(fresh));
  ck_assert_uint_gt(fresh_len, 0);
  ck_assert_int_eq(tn_inject(net, w.a, &w.spoofed, fresh, fresh_len), 0);
  tn_run(net, 60 * SC_SEC);
  ck_assert_uint_gt(w.to_spoofed, 0); /* it did challenge the address */
  ck_assert_uint_le(w.to_spoofed, 3 * fresh_len);
  ck_assert(tn_session_with(net, w.a, w.b, &info, NULL));
  ck_assert(sc_addr_eq(&info.addr, &tn_get(net, w.b)->addr));
  ck_assert_uint_eq(tn_stats(net, w.a).path_migrations, 0);
  tn_del(net);
}
END_TEST

static Suite *amp_suite(void) {
  Suite *s = suite_create("amplification");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_init_flood);
  tcase_add_test(tc, test_cookie_bound_to_address);
  tcase_add_test(tc, test_garbage_silence);
  tcase_add_test(tc, test_half_open_per_ip);
  tcase_add_test(tc, test_path_challenge_limit);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(amp_suite()); }
