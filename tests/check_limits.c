/*
 * check_limits.c: the limits a running node can change
 * (sc_node_set_limits, src/core/sc_node.c and sc_mcast.c) on the in-memory
 * network: a relay's push capacity lowered under its askers, to 0 and
 * raised again; a session limit lowered below the open count; values out
 * of range.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_mcast_int.h"
#include "sc_node_int.h"
#include "testnet.h"

#define GROUP "tv"
#define KEY_EVERY 10

static tn *net;
static uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];
static uint64_t published;

/* What each node played: every seq once, rising, with the bytes
 * published. */
typedef struct player {
  uint64_t chunks, skipped, last_seq;
  int started, bad;
} player;

static player players[TN_MAX_NODES];

static sc_node *nd(int i) { return tn_get(net, i)->node; }

static size_t payload_of(uint64_t seq, uint8_t *out) {
  size_t len = 100 + (size_t)(seq % 300), i;
  for (i = 0; i < len; i++) {
    out[i] = (uint8_t)(seq * 13 + i);
  }
  return len;
}

static void on_play(void *arg, int node, const sc_play_chunk *ch) {
  player *p = &players[node];
  uint8_t want[512];
  size_t len = payload_of(ch->seq, want);
  (void)arg;
  if ((p->started && ch->seq <= p->last_seq) || ch->len != len ||
      memcmp(ch->data, want, len) != 0) {
    p->bad++;
  }
  p->started = 1;
  p->last_seq = ch->seq;
  p->chunks++;
  p->skipped += ch->skipped;
}

static void setup(void) {
  net = tn_new(7);
  tn_set_delay(net, 15 * SC_MS);
  tn_set_play(net, on_play, NULL);
  memset(players, 0, sizeof(players));
  published = 0;
  crypto_sign_keypair(pk, sk);
}

static void teardown(void) { tn_del(net); }

/* Class pushes node |i| grants in its first stream. */
static uint32_t grants(int i) {
  const mstream *st = nd(i)->mcast.streams[0];
  uint32_t n = 0;
  size_t k;
  for (k = 0; k < st->np; k++) {
    n += (uint32_t)sc_mc_popcount8(st->p[k].granted);
  }
  return n;
}

/* The classes node |i| asks node |j| to push (0 without a session). */
static unsigned asked_of(int i, int j) {
  const mstream *st = nd(i)->mcast.streams[0];
  sc_session_info si;
  size_t k;
  if (!tn_session_with(net, i, j, &si, NULL)) {
    return 0;
  }
  for (k = 0; k < st->np; k++) {
    if (st->p[k].sid == si.local_id) {
      return st->p[k].asked & SC_PUSH_CLASSES;
    }
  }
  return 0;
}

/* Publishes |count| fragments 10 ms apart from node 0; after each step
 * node |relay| (-1: none) must grant at most |cap| class pushes. */
static void publish(uint32_t h, size_t count, int relay, uint32_t cap) {
  uint8_t buf[512];
  size_t i;
  for (i = 0; i < count; i++) {
    uint64_t seq = published++;
    size_t len = payload_of(seq, buf);
    ck_assert_int_eq(sc_node_publish_fragment(
                         nd(0), h, buf, len, seq % KEY_EVERY == 0, tn_now(net)),
                     0);
    tn_run(net, 10 * SC_MS);
    if (relay >= 0) {
      ck_assert_uint_le(grants(relay), cap);
    }
  }
}

/* Nodes 0..n-1 at 10.0.i.1 with room for |max_sessions[i]| sessions and
 * push capacity |capacity[i]|, all in GROUP; |links| pairs connected. */
static void build(int n, const uint32_t *max_sessions, const uint32_t *capacity,
                  const int (*links)[2], size_t nlinks) {
  sc_settings st;
  char addr[32];
  size_t k;
  int i;
  for (i = 0; i < n; i++) {
    sc_settings_default(&st);
    st.max_sessions = max_sessions[i];
    st.push_capacity = capacity[i];
    snprintf(addr, sizeof(addr), "10.0.%d.1:4433", i);
    ck_assert_int_eq(tn_add(net, addr, &st, NULL), i);
    ck_assert_int_eq(sc_node_join_group(nd(i), GROUP, 0), 0);
  }
  for (k = 0; k < nlinks; k++) {
    ck_assert_int_eq(tn_connect(net, links[k][0], links[k][1]), 0);
  }
  tn_run(net, 5 * SC_SEC);
}

/* Node 0 publishes "live"; nodes |first|..|last| play it. */
static uint32_t start_stream(int first, int last) {
  uint32_t h, ph;
  int i;
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "live", sk, tn_now(net), &h),
                   0);
  for (i = first; i <= last; i++) {
    ck_assert_int_eq(sc_node_play(nd(i), GROUP, "live", NULL, tn_now(net), &ph),
                     0);
  }
  return h;
}

static void check_played_to_end(int i) {
  ck_assert_msg(players[i].started, "node %d never played", i);
  ck_assert_int_eq(players[i].bad, 0);
  ck_assert_uint_eq(players[i].last_seq, published - 1);
}

/* Players |first|..|last| ask relay 1 for what it grants, at most |cap|
 * classes, and relay 2 for the rest: each class is asked of one. */
static void check_askers(int first, int last, uint32_t cap) {
  uint32_t from1 = 0;
  int i;
  for (i = first; i <= last; i++) {
    ck_assert_uint_eq(asked_of(i, 1) | asked_of(i, 2), SC_PUSH_CLASSES);
    ck_assert_uint_eq(asked_of(i, 1) & asked_of(i, 2), 0);
    from1 += (uint32_t)sc_mc_popcount8(asked_of(i, 1));
  }
  ck_assert_uint_eq(from1, grants(1));
  ck_assert_uint_le(from1, cap);
}

/* Publisher 0 feeds relays 1 and 2; players 3..6 hang below both. When
 * relay 1's push capacity falls under what it grants, it revokes the
 * excess at once and never grants more again; the askers learn of it by
 * REFUSE, ask relay 2 for those classes and play on without a gap. */
START_TEST(test_push_capacity_lowered) {
  static const uint32_t sessions[] = {2, 8, 8, 2, 2, 2, 2};
  static const uint32_t capacity[] = {32, 32, 32, 32, 32, 32, 32};
  static const int links[][2] = {{1, 0}, {2, 0}, {3, 1}, {3, 2}, {4, 1},
                                 {4, 2}, {5, 1}, {5, 2}, {6, 1}, {6, 2}};
  uint32_t h, before, maxs, cap;
  int i, rv;
  build(7, sessions, capacity, links, SC_ARRAY_LEN(links));
  h = start_stream(3, 6);
  publish(h, 400, -1, 0);
  before = grants(1);
  ck_assert_uint_ge(before, 6); /* the test needs a relay to cut back */
  rv = sc_node_set_limits(nd(1), 8, 3, tn_now(net));
  ck_assert_int_eq(rv, (int)before - 3);
  ck_assert_uint_eq(grants(1), 3);
  sc_node_get_limits(nd(1), &maxs, &cap);
  ck_assert_uint_eq(maxs, 8);
  ck_assert_uint_eq(cap, 3);
  /* The REFUSEs tell the askers within a few round trips, well before a
   * silent class would show as a stall (STALL), and they place the
   * classes elsewhere at once. */
  publish(h, 30, 1, 3);
  check_askers(3, 6, 3);
  publish(h, 800, 1, 3);
  tn_run(net, 2 * SC_SEC);
  check_askers(3, 6, 3);
  for (i = 3; i <= 6; i++) {
    check_played_to_end(i);
    ck_assert_uint_eq(players[i].skipped, 0);
  }
}
END_TEST

/* A relay whose capacity falls to 0 revokes everything: its one player
 * follows by pulls alone. Raised again, the capacity applies to the next
 * PUSH, which the player sends once the refusal has expired. */
START_TEST(test_push_capacity_zero_and_back) {
  static const uint32_t sessions[] = {1, 8, 1};
  static const uint32_t capacity[] = {32, 32, 32};
  static const int links[][2] = {{0, 1}, {2, 1}};
  uint32_t h;
  build(3, sessions, capacity, links, SC_ARRAY_LEN(links));
  h = start_stream(2, 2);
  publish(h, 300, -1, 0);
  ck_assert_uint_eq(asked_of(2, 1), SC_PUSH_CLASSES);
  ck_assert_int_eq(sc_node_set_limits(nd(1), 8, 0, tn_now(net)), SC_MC_CLASSES);
  publish(h, 300, 1, 0);
  ck_assert_uint_eq(asked_of(2, 1), 0);
  tn_run(net, 1 * SC_SEC); /* the last seqs are still on their way */
  check_played_to_end(2);
  ck_assert_uint_eq(players[2].skipped, 0);
  ck_assert_int_eq(sc_node_set_limits(nd(1), 8, 32, tn_now(net)), 0);
  publish(h, 100 * (REFUSED_FOR / SC_SEC) + 300, -1, 0);
  ck_assert_uint_eq(asked_of(2, 1), SC_PUSH_CLASSES);
  ck_assert_uint_eq(grants(1), SC_MC_CLASSES);
  tn_run(net, 1 * SC_SEC);
  check_played_to_end(2);
}
END_TEST

/* Node 0 serves 1..3; its limit lowered to 2 closes none of them, but
 * node 4 is refused until crashes bring the count below 2. */
START_TEST(test_max_sessions_lowered) {
  int i, pair[2] = {0, 4};
  uint64_t limited;
  for (i = 0; i < 5; i++) {
    char addr[32];
    snprintf(addr, sizeof(addr), "10.0.%d.1:4433", i);
    ck_assert_int_eq(tn_add(net, addr, NULL, NULL), i);
  }
  for (i = 1; i <= 3; i++) {
    ck_assert_int_eq(tn_connect(net, i, 0), 0);
  }
  tn_run(net, 2 * SC_SEC);
  ck_assert_uint_eq(sc_node_session_count(nd(0)), 3);
  ck_assert_int_eq(sc_node_set_limits(nd(0), 2, 32, tn_now(net)), 0);
  limited = tn_stats(net, 0).dropped[SC_DROP_LIMIT];
  ck_assert_int_eq(tn_connect(net, 4, 0), 0);
  tn_run(net, 20 * SC_SEC);
  for (i = 1; i <= 3; i++) {
    ck_assert_msg(tn_session_with(net, 0, i, NULL, NULL), "node %d lost", i);
  }
  ck_assert_uint_eq(sc_node_session_count(nd(0)), 3);
  ck_assert(!tn_session_with(net, 0, 4, NULL, NULL));
  ck_assert_uint_gt(tn_stats(net, 0).dropped[SC_DROP_LIMIT], limited);
  /* Node 0 cannot start one either. */
  ck_assert_int_eq(tn_connect(net, 0, 4), 0);
  tn_run(net, 1 * SC_SEC);
  ck_assert(!tn_session_with(net, 0, 4, NULL, NULL));
  /* Two gone (idle timeout): one left, below the limit. */
  tn_crash(net, 2);
  tn_crash(net, 3);
  ck_assert(tn_run_until(net, tn_pair_up, pair, 90 * SC_SEC));
  ck_assert_uint_le(sc_node_session_count(nd(0)), 2);
}
END_TEST

START_TEST(test_limits_out_of_range) {
  uint32_t maxs, cap;
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  ck_assert_int_eq(sc_node_set_limits(nd(0), 0, 32, 0), SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_set_limits(nd(0), 64, SC_PUSH_CAPACITY_MAX + 1, 0),
                   SC_ERR_INVALID_ARG);
  sc_node_get_limits(nd(0), &maxs, &cap);
  ck_assert_uint_eq(maxs, 256);
  ck_assert_uint_eq(cap, 32);
  ck_assert_int_eq(sc_node_set_limits(nd(0), 1, 0, 0), 0);
  ck_assert_int_eq(sc_node_set_limits(nd(0), 4096, SC_PUSH_CAPACITY_MAX, 0), 0);
  sc_node_get_limits(nd(0), &maxs, &cap);
  ck_assert_uint_eq(maxs, 4096);
  ck_assert_uint_eq(cap, SC_PUSH_CAPACITY_MAX);
}
END_TEST

static Suite *limits_suite(void) {
  Suite *s = suite_create("limits");
  TCase *tc = tcase_create("limits");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_push_capacity_lowered);
  tcase_add_test(tc, test_push_capacity_zero_and_back);
  tcase_add_test(tc, test_max_sessions_lowered);
  tcase_add_test(tc, test_limits_out_of_range);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(limits_suite()); }
