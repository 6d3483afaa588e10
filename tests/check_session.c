/*
 * check_session.c: the session state machine, driven through real nodes on
 * the in-memory wire of testnet.h under a fake clock.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_node_int.h"
#include "testnet.h"

START_TEST(test_handshake_basic) {
  tn *net = tn_new(1);
  int a = tn_add(net, "10.0.0.1:4433", NULL, NULL);
  int b = tn_add(net, "10.0.0.2:4433", NULL, NULL);
  int p[2] = {a, b};
  sc_session_info info;
  sc_node_stats st;
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  /* INIT, RETRY, INIT+cookie, RESPONSE, FINISH: three one-way trips of
   * 10 ms before the initiator holds keys, plus one for the responder. */
  ck_assert_uint_le(tn_now(net), 60 * SC_MS);
  ck_assert(tn_session_with(net, b, a, &info, NULL));
  ck_assert(info.initiator);
  /* The handshake itself timed the round trip, on both sides. */
  ck_assert_uint_eq(info.srtt_ns, 20 * SC_MS);
  ck_assert(tn_session_with(net, a, b, &info, NULL));
  ck_assert_uint_eq(info.min_rtt_ns, 20 * SC_MS);
  ck_assert(tn_session_with(net, b, a, &info, NULL));
  ck_assert(sc_addr_eq(&info.addr, &tn_get(net, a)->addr));
  st = tn_stats(net, a);
  ck_assert_uint_eq(st.retries_sent, 1);
  ck_assert_uint_eq(st.handshakes_completed, 1);
  ck_assert_int_eq(tn_get(net, a)->events_up, 1);
  ck_assert_int_eq(tn_get(net, b)->events_up, 1);
  /* Let keepalives run: RTT converges on the 20 ms round trip. */
  tn_run(net, 60 * SC_SEC);
  ck_assert(tn_session_with(net, a, b, &info, NULL));
  ck_assert_uint_ge(info.srtt_ns, 20 * SC_MS);
  ck_assert_uint_le(info.srtt_ns, 21 * SC_MS);
  ck_assert_uint_eq(info.packets_lost, 0);
  ck_assert_uint_eq(tn_stats(net, a).sessions_timed_out, 0);
  tn_del(net);
}
END_TEST

typedef struct pairs {
  int n;
  int a[64], b[64];
} pairs;

static int all_pairs_up(tn *net, void *arg) {
  const pairs *ps = arg;
  int i;
  for (i = 0; i < ps->n; i++) {
    int p[2] = {ps->a[i], ps->b[i]};
    if (!tn_pair_up(net, p)) {
      return 0;
    }
  }
  return 1;
}

/* 50 handshakes with 30% of all datagrams dropped: every one completes,
 * and completes on its first attempt (retransmission, not reconnection). */
START_TEST(test_handshake_lossy) {
  tn *net = tn_new((uint64_t)_i + 7);
  pairs ps;
  int i;
  uint64_t failed = 0;
  ps.n = 50;
  tn_set_loss(net, 300);
  for (i = 0; i < ps.n; i++) {
    ps.a[i] = tn_add(net, NULL, NULL, NULL);
    ps.b[i] = tn_add(net, NULL, NULL, NULL);
    ck_assert_int_eq(tn_connect(net, ps.b[i], ps.a[i]), 0);
  }
  ck_assert(tn_run_until(net, all_pairs_up, &ps, 20 * SC_SEC));
  for (i = 0; i < 2 * ps.n; i++) {
    failed += tn_stats(net, i).handshakes_failed;
  }
  ck_assert_uint_eq(failed, 0);
  tn_del(net);
}
END_TEST

START_TEST(test_migration) {
  tn *net = tn_new(3);
  int a = tn_add(net, "10.0.0.1:4433", NULL, NULL);
  int b = tn_add(net, "10.0.0.2:4433", NULL, NULL);
  int p[2] = {a, b};
  sc_session_info before, after;
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  tn_run(net, 1 * SC_SEC);
  ck_assert(tn_session_with(net, a, b, &before, NULL));
  /* b's NAT binding changes: it now sends from another address and
   * nothing reaches the old one. */
  tn_move(net, b, "192.0.2.7:5555");
  tn_run(net, 30 * SC_SEC);
  ck_assert(tn_session_with(net, a, b, &after, NULL));
  ck_assert_uint_eq(after.local_id, before.local_id);
  ck_assert(sc_addr_eq(&after.addr, &tn_get(net, b)->addr));
  ck_assert_uint_eq(tn_stats(net, a).path_migrations, 1);
  ck_assert_uint_gt(after.packets_received, before.packets_received);
  ck_assert_uint_eq(tn_stats(net, a).sessions_timed_out, 0);
  ck_assert_int_eq(tn_get(net, a)->events_down, 0);
  tn_del(net);
}
END_TEST

typedef struct replaced {
  int a, b;
  uint32_t old_id;
} replaced;

/* a holds exactly one established session with b, and not the old one. */
static int replaced_up(tn *net, void *arg) {
  const replaced *r = arg;
  sc_session_info info;
  int count, p[2] = {r->a, r->b};
  return tn_pair_up(net, p) &&
         tn_session_with(net, r->a, r->b, &info, &count) && count == 1 &&
         info.local_id != r->old_id;
}

START_TEST(test_restart_replaces) {
  tn *net = tn_new(4);
  int a = tn_add(net, "10.0.0.1:4433", NULL, NULL);
  int b = tn_add(net, "10.0.0.2:4433", NULL, NULL);
  int p[2] = {a, b}, count;
  sc_session_info before, after;
  replaced r;
  uint64_t t0;
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  tn_run(net, 5 * SC_SEC);
  ck_assert(tn_session_with(net, a, b, &before, NULL));
  /* b crashes and comes back at once with the same identity. */
  ck_assert_int_eq(tn_restart(net, b, NULL), 0);
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  r.a = a;
  r.b = b;
  r.old_id = before.local_id;
  t0 = tn_now(net);
  ck_assert(tn_run_until(net, replaced_up, &r, 2 * SC_SEC));
  /* The stale session went with the new handshake (four one-way trips of
   * 10 ms), long before any idle timeout. */
  ck_assert_uint_le(tn_now(net) - t0, 50 * SC_MS);
  ck_assert(tn_session_with(net, a, b, &after, &count));
  ck_assert_int_eq(count, 1);
  ck_assert_uint_ne(after.local_id, before.local_id);
  ck_assert_uint_eq(tn_stats(net, a).sessions_replaced, 1);
  ck_assert_int_eq(tn_get(net, a)->last_down_reason, SC_CLOSE_REPLACED);
  /* Once its CLOSE has drained, only the new session is left. */
  tn_run(net, 3 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 1);
  ck_assert_int_eq(tn_get(net, a)->events_down, 1);
  tn_del(net);
}
END_TEST

START_TEST(test_idle_timeout) {
  tn *net = tn_new(5);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b};
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  tn_crash(net, b);
  tn_run(net, 29 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 1);
  tn_run(net, 2 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 0);
  ck_assert_uint_eq(tn_stats(net, a).sessions_timed_out, 1);
  ck_assert_int_eq(tn_get(net, a)->events_down, 1);
  ck_assert_int_eq(tn_get(net, a)->last_down_reason, SC_CLOSE_IDLE);
  tn_del(net);
}
END_TEST

START_TEST(test_graceful_close) {
  tn *net = tn_new(6);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b};
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  ck_assert(!sc_node_is_closed(tn_get(net, b)->node));
  ck_assert_int_eq(sc_node_close(tn_get(net, b)->node, tn_now(net)), 0);
  ck_assert(sc_node_is_closed(tn_get(net, b)->node));
  tn_run(net, 100 * SC_MS);
  ck_assert(!tn_session_with(net, a, b, NULL, NULL));
  ck_assert_int_eq(tn_get(net, a)->events_down, 1);
  ck_assert_int_eq(tn_get(net, a)->last_down_reason, SC_CLOSE_REMOTE);
  /* It drains for a moment, then is gone; the event is not repeated. */
  tn_run(net, 3 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 0);
  ck_assert_int_eq(tn_get(net, a)->events_down, 1);
  /* The closed node neither reconnects nor accepts. */
  tn_run(net, 10 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, b)->node), 0);
  ck_assert_int_eq(
      sc_node_connect(tn_get(net, b)->node, &tn_get(net, a)->addr, tn_now(net)),
      SC_ERR_CLOSED);
  tn_del(net);
}
END_TEST

static int triangle_up(tn *net, void *arg) {
  (void)arg;
  return tn_session_with(net, 0, 1, NULL, NULL) &&
         tn_session_with(net, 0, 2, NULL, NULL) &&
         tn_session_with(net, 1, 2, NULL, NULL) &&
         tn_session_with(net, 2, 1, NULL, NULL) &&
         tn_session_with(net, 1, 0, NULL, NULL) &&
         tn_session_with(net, 2, 0, NULL, NULL);
}

/* b and c know only a; a introduces them (PEERS) and they connect. */
START_TEST(test_introductions) {
  tn *net = tn_new(8);
  int i;
  for (i = 0; i < 3; i++) {
    tn_add(net, NULL, NULL, NULL);
  }
  tn_set_loss(net, (unsigned)_i); /* 0 and 30% */
  ck_assert_int_eq(tn_connect(net, 1, 0), 0);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(tn_connect(net, 2, 0), 0);
  ck_assert(tn_run_until(net, triangle_up, NULL, 30 * SC_SEC));
  tn_run(net, 60 * SC_SEC);
  for (i = 0; i < 3; i++) {
    int count;
    ck_assert(tn_session_with(net, i, (i + 1) % 3, NULL, &count));
    ck_assert_int_eq(count, 1);
    ck_assert_uint_eq(sc_node_session_count(tn_get(net, i)->node), 2);
  }
  tn_del(net);
}
END_TEST

/* Both sides connect at the same instant: two handshakes cross, and both
 * nodes settle on the same single session. */
START_TEST(test_crossing) {
  tn *net = tn_new(9 + (uint64_t)_i);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b}, ca, cb;
  sc_session_info ia, ib;
  ck_assert_int_eq(tn_connect(net, a, b), 0);
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 5 * SC_SEC));
  tn_run(net, 120 * SC_SEC);
  ck_assert(tn_session_with(net, a, b, &ia, &ca));
  ck_assert(tn_session_with(net, b, a, &ib, &cb));
  ck_assert_int_eq(ca, 1);
  ck_assert_int_eq(cb, 1);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 1);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, b)->node), 1);
  ck_assert(ia.initiator != ib.initiator);
  tn_del(net);
}
END_TEST

START_TEST(test_self_connect) {
  tn *net = tn_new(10);
  int a = tn_add(net, NULL, NULL, NULL);
  ck_assert_int_eq(tn_connect(net, a, a), 0);
  tn_run(net, 120 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 0);
  /* One attempt found itself; it is not retried. */
  ck_assert_uint_eq(tn_stats(net, a).handshakes_started, 1);
  ck_assert_int_eq(tn_get(net, a)->events_up, 0);
  tn_del(net);
}
END_TEST

/* Keepalives hold an idle session far past the idle timeout. */
START_TEST(test_keepalive) {
  tn *net = tn_new(11);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b};
  sc_session_info info;
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  tn_run(net, 600 * SC_SEC);
  ck_assert(tn_pair_up(net, p));
  ck_assert(tn_session_with(net, a, b, &info, NULL));
  /* About one PING each way per 10 s, and their ACKs. */
  ck_assert_uint_ge(info.packets_sent, 60);
  ck_assert_uint_le(info.packets_sent, 200);
  ck_assert_uint_eq(tn_stats(net, a).sessions_timed_out, 0);
  tn_del(net);
}
END_TEST

/* Reliable messages through the session API under 30% loss: all arrive,
 * in order, once, and the sender's queue drains. */
static sc_session *session_of(tn *net, int i) {
  sc_node *node = tn_get(net, i)->node;
  ck_assert_uint_eq(node->nsessions, 1);
  return node->sessions[0];
}

START_TEST(test_reliable_messages) {
  tn *net = tn_new(12);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b}, i;
  sc_session *sa, *sb;
  uint8_t body[300];
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  tn_set_loss(net, 300);
  sa = session_of(net, a);
  sb = session_of(net, b);
  memset(body, 0x5a, sizeof(body));
  for (i = 0; i < 500; i++) {
    ck_assert_int_eq(
        sc_session_send_msg(sa, 1000, body, sizeof(body), tn_now(net)), 0);
  }
  tn_run(net, 30 * SC_SEC);
  ck_assert_uint_eq(sb->next_in_seq, 500);
  ck_assert_uint_eq(sa->out_count, 0);
  ck_assert_uint_eq(sb->in_count, 0);
  ck_assert_uint_gt(tn_stats(net, a).packets_retransmitted, 0);
  ck_assert_uint_gt(sa->packets_lost, 0);
  /* Loss shrank the window from its initial 10 packets. */
  ck_assert_uint_lt(sa->cc.cwnd, 10 * 1200);
  ck_assert(tn_pair_up(net, p));
  tn_del(net);
}
END_TEST

/* Datagrams: the size limit, the queue bound, expiry of what could not
 * leave, lazy acknowledgement and quiet datagrams (doc/protocol.md §6.3.5,
 * §7.1). */
START_TEST(test_datagrams) {
  tn *net = tn_new(13);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b}, i;
  sc_session *sa, *sb;
  uint8_t body[SC_MAX_PACKET];
  uint64_t rx0, tx0;
  size_t max;
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  tn_run(net, 1 * SC_SEC);
  sa = session_of(net, a);
  sb = session_of(net, b);
  memset(body, 0x33, sizeof(body));
  /* The largest body fills a 1232-byte datagram but for a PING's room. */
  max = sc_session_dgram_max(sa);
  ck_assert_uint_eq(max + sc_chunk_overhead(max) + 2 + SC_DATA_HEADER_LEN +
                        SC_AEAD_TAG_LEN,
                    1232);
  ck_assert_int_eq(sc_session_send_dgram(sa, body, max + 1, 0, tn_now(net)),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_session_send_dgram(sa, body, 0, 0, tn_now(net)),
                   SC_ERR_INVALID_ARG);
  /* 100 datagrams 10 ms apart: all arrive, and the receiver acknowledges
   * them lazily, far fewer than one ACK per two packets. */
  rx0 = sb->packets_received;
  tx0 = sb->packets_sent;
  for (i = 0; i < 100; i++) {
    ck_assert_int_eq(sc_session_send_dgram(sa, body, 500, 1, tn_now(net)), 0);
    sc_node_refresh_expiry(tn_get(net, a)->node);
    tn_run(net, 10 * SC_MS);
  }
  tn_run(net, 200 * SC_MS);
  ck_assert_uint_eq(sb->packets_received - rx0, 100);
  ck_assert_uint_le(sb->packets_sent - tx0, 20);
  ck_assert_uint_ge(tn_stats(net, a).stream_packets_sent, 100);
  ck_assert_uint_eq(sa->cc.bytes_in_flight, 0);
  /* Quiet datagrams: they all arrive, none is in flight, and the receiver
   * sends no ACK for them. */
  rx0 = sb->packets_received;
  tx0 = sb->packets_sent;
  for (i = 0; i < 100; i++) {
    ck_assert_int_eq(
        sc_session_send_dgram(sa, body, 60, SC_DGRAM_QUIET, tn_now(net)), 0);
    sc_node_refresh_expiry(tn_get(net, a)->node);
    tn_run(net, 1 * SC_MS);
    ck_assert_uint_eq(sa->cc.bytes_in_flight, 0);
    tn_run(net, 9 * SC_MS);
  }
  tn_run(net, 200 * SC_MS);
  ck_assert_uint_eq(sb->packets_received - rx0, 100);
  ck_assert_uint_le(sb->packets_sent - tx0, 2);
  /* With the peer gone nothing is acknowledged: the window fills, then the
   * queue; what waits longer than 1 s is dropped, and counted. */
  tn_crash(net, b);
  {
    int busy = 0;
    for (i = 0; i < 300; i++) {
      int rv = sc_session_send_dgram(sa, body, max, 0, tn_now(net));
      /* Sent from outside the node's calls: its deadline must learn. */
      sc_node_refresh_expiry(tn_get(net, a)->node);
      ck_assert(rv == 0 || rv == SC_ERR_BUSY);
      busy += rv == SC_ERR_BUSY;
      ck_assert_uint_le(sa->dg_count, SC_DGRAM_QUEUE_MAX);
      tn_run(net, 10 * SC_MS);
    }
    ck_assert_int_gt(busy, 0);
  }
  ck_assert_uint_gt(tn_stats(net, a).dgrams_expired, 0);
  tn_del(net);
}
END_TEST

/* ---- hostile datagrams -------------------------------------------------- */

START_TEST(test_hostile_packets) {
  tn *net = tn_new(13);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b};
  struct {
    uint8_t data[SC_MAX_PACKET];
    size_t len;
  } cap;
  uint8_t pkt[SC_MAX_PACKET + 100];
  sc_addr from;
  sc_node_stats st;
  size_t i;
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  /* One sealed packet from b that never reached a (a keepalive). */
  cap.len = tn_catch_sealed(net, b, cap.data, sizeof(cap.data));
  ck_assert_uint_gt(cap.len, 0);
  from = tn_get(net, b)->addr;
  /* Every single-bit flip past the type byte is caught: flips in the
   * session ID miss the session, the rest fail authentication (a changed
   * packet number changes the nonce and the associated data). */
  for (i = 2; i < cap.len; i++) {
    memcpy(pkt, cap.data, cap.len);
    pkt[i] ^= 0x01;
    ck_assert_int_eq(tn_inject(net, a, &from, pkt, cap.len), 0);
  }
  st = tn_stats(net, a);
  ck_assert_uint_eq(st.dropped[SC_DROP_UNKNOWN_SESSION], 4);
  ck_assert_uint_eq(st.dropped[SC_DROP_AUTH], cap.len - 6);
  /* Every truncation. */
  for (i = 0; i < cap.len; i++) {
    tn_inject(net, a, &from, cap.data, i);
  }
  st = tn_stats(net, a);
  ck_assert_uint_eq(st.dropped[SC_DROP_TRUNCATED],
                    SC_DATA_HEADER_LEN + SC_AEAD_TAG_LEN + 1);
  ck_assert_uint_eq(st.dropped[SC_DROP_AUTH], cap.len - 6 + cap.len -
                                                  SC_DATA_HEADER_LEN -
                                                  SC_AEAD_TAG_LEN - 1);
  /* The genuine packet is accepted once, then is a replay. */
  ck_assert_int_eq(tn_inject(net, a, &from, cap.data, cap.len), 0);
  ck_assert_uint_eq(tn_stats(net, a).dropped[SC_DROP_REPLAY], 0);
  ck_assert_int_eq(tn_inject(net, a, &from, cap.data, cap.len), 0);
  ck_assert_uint_eq(tn_stats(net, a).dropped[SC_DROP_REPLAY], 1);
  /* Oversized, wrong version, unknown type. */
  memset(pkt, 0, sizeof(pkt));
  memcpy(pkt, cap.data, cap.len);
  tn_inject(net, a, &from, pkt, SC_MAX_PACKET + 1);
  pkt[0] = 2;
  tn_inject(net, a, &from, pkt, cap.len);
  pkt[0] = 1;
  pkt[1] = 99;
  tn_inject(net, a, &from, pkt, cap.len);
  st = tn_stats(net, a);
  ck_assert_uint_eq(st.dropped[SC_DROP_OVERSIZED], 1);
  ck_assert_uint_eq(st.dropped[SC_DROP_VERSION], 1);
  ck_assert_uint_eq(st.dropped[SC_DROP_TYPE], 1);
  /* None of it disturbed the session. */
  tn_run(net, 30 * SC_SEC);
  ck_assert(tn_pair_up(net, p));
  ck_assert_int_eq(tn_get(net, a)->events_down, 0);
  ck_assert_uint_eq(tn_stats(net, a).path_migrations, 0);
  tn_del(net);
}
END_TEST

typedef struct init_capture {
  uint8_t data[SC_MAX_PACKET];
  size_t len;
} init_capture;

static void tap_init(void *arg, int from_node, const sc_addr *from,
                     const sc_addr *to, const uint8_t *data, size_t len) {
  init_capture *c = arg;
  (void)from_node;
  (void)from;
  (void)to;
  /* Keep the last INIT that carries a cookie. */
  if (len > 7 && data[1] == SC_PKT_INIT && data[6] != 0 &&
      len <= sizeof(c->data)) {
    memcpy(c->data, data, len);
    c->len = len;
  }
}

/* A duplicate of the initiator's INIT that arrives after the session is
 * up (the network duplicated or delayed it) is recognised: no second
 * session, no second RESPONSE. */
START_TEST(test_late_duplicate_init) {
  tn *net = tn_new(14);
  int a = tn_add(net, NULL, NULL, NULL);
  int b = tn_add(net, NULL, NULL, NULL);
  int p[2] = {a, b};
  init_capture cap;
  sc_node_stats before;
  memset(&cap, 0, sizeof(cap));
  tn_set_tap(net, tap_init, &cap);
  ck_assert_int_eq(tn_connect(net, b, a), 0);
  ck_assert(tn_run_until(net, tn_pair_up, p, 2 * SC_SEC));
  tn_set_tap(net, NULL, NULL);
  ck_assert_uint_gt(cap.len, 0);
  before = tn_stats(net, a);
  ck_assert_int_eq(tn_inject(net, a, &tn_get(net, b)->addr, cap.data, cap.len),
                   0);
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 1);
  ck_assert_uint_eq(tn_stats(net, a).dropped[SC_DROP_STATE],
                    before.dropped[SC_DROP_STATE] + 1);
  ck_assert_uint_eq(tn_stats(net, a).packets_sent, before.packets_sent);
  tn_run(net, 30 * SC_SEC);
  ck_assert(tn_pair_up(net, p));
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, a)->node), 1);
  tn_del(net);
}
END_TEST

static Suite *session_suite(void) {
  Suite *s = suite_create("session");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_handshake_basic);
  tcase_add_loop_test(tc, test_handshake_lossy, 0, 4);
  tcase_add_test(tc, test_migration);
  tcase_add_test(tc, test_restart_replaces);
  tcase_add_test(tc, test_idle_timeout);
  tcase_add_test(tc, test_graceful_close);
  tcase_add_loop_test(tc, test_introductions, 0, 1);
  tcase_add_loop_test(tc, test_introductions, 300, 301);
  tcase_add_loop_test(tc, test_crossing, 0, 8);
  tcase_add_test(tc, test_self_connect);
  tcase_add_test(tc, test_keepalive);
  tcase_add_test(tc, test_reliable_messages);
  tcase_add_test(tc, test_datagrams);
  tcase_add_test(tc, test_hostile_packets);
  tcase_add_test(tc, test_late_duplicate_init);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(session_suite()); }
