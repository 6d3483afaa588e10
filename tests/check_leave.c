/*
 * check_leave.c: leaving a group (sc_node_leave_group, src/core/sc_mesh.c)
 * on the in-memory network: errors, indices moving down, leaving and
 * joining again, a session another group still needs, the members that
 * stop counting the leaver, and streams published or played in the group
 * left.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "testnet.h"

static tn *net;
static uint64_t played[TN_MAX_NODES];
static uint64_t posts[TN_MAX_NODES];

static void on_play(void *arg, int node, const sc_play_chunk *ch) {
  (void)arg;
  (void)ch;
  played[node]++;
}

static void on_post(void *arg, int node, const sc_post_event *ev) {
  (void)arg;
  (void)ev;
  posts[node]++;
}

static void setup(void) {
  net = tn_new(5);
  tn_set_play(net, on_play, NULL);
  tn_set_post(net, on_post, NULL);
  memset(played, 0, sizeof(played));
  memset(posts, 0, sizeof(posts));
}

static void teardown(void) { tn_del(net); }

static sc_node *nd(int i) { return tn_get(net, i)->node; }

static size_t groups(int i) { return sc_node_groups(nd(i), NULL, 0); }

static sc_group_info group_of(int i, size_t index) {
  sc_group_info gi[8];
  ck_assert_uint_gt(sc_node_groups(nd(i), gi, 8), index);
  return gi[index];
}

static size_t neighbors(int i, size_t index) {
  sc_neighbor_info nb[8];
  return sc_node_neighbors(nd(i), index, nb, 8);
}

/* arg: {node, group index, how many neighbours} */
static int has_neighbors(tn *n, void *arg) {
  const int *a = arg;
  (void)n;
  return groups(a[0]) > (size_t)a[1] &&
         neighbors(a[0], (size_t)a[1]) == (size_t)a[2];
}

/* arg: {node, group index}: the group knows no member at all. */
static int knows_nobody(tn *n, void *arg) {
  const int *a = arg;
  (void)n;
  return group_of(a[0], (size_t)a[1]).members_known == 0 &&
         neighbors(a[0], (size_t)a[1]) == 0;
}

START_TEST(test_leave_errors) {
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  ck_assert_int_eq(sc_node_leave_group(nd(0), "demo", 0), SC_ERR_NOT_FOUND);
  ck_assert_int_eq(sc_node_leave_group(nd(0), "", 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_node_leave_group(nd(0), NULL, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_node_join_group(nd(0), "demo", 0), 0);
  /* Another group of the same name: another ID. */
  ck_assert_int_eq(sc_node_leave_group(nd(0), "demo?features=posting", 0),
                   SC_ERR_NOT_FOUND);
  /* The same group in other words. */
  ck_assert_int_eq(sc_node_leave_group(nd(0), "demo?features=all", 0), 0);
  ck_assert_uint_eq(groups(0), 0);
  ck_assert_int_eq(sc_node_leave_group(nd(0), "demo", 0), SC_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_indices_move_down) {
  sc_group_info before[3], after[2];
  const char *specs[3] = {"g0", "g1", "g2"};
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  for (int k = 0; k < 3; k++) {
    ck_assert_int_eq(sc_node_join_group(nd(0), specs[k], 0), k);
  }
  ck_assert_uint_eq(sc_node_groups(nd(0), before, 3), 3);
  ck_assert_int_eq(sc_node_leave_group(nd(0), "g1", 0), 0);
  ck_assert_uint_eq(sc_node_groups(nd(0), after, 2), 2);
  ck_assert_mem_eq(after[0].group_id, before[0].group_id, SC_GROUP_ID_BYTES);
  ck_assert_mem_eq(after[1].group_id, before[2].group_id, SC_GROUP_ID_BYTES);
  /* The freed place is taken by the next join. */
  ck_assert_int_eq(sc_node_join_group(nd(0), "g1", 0), 2);
  for (int k = 3; k < 8; k++) {
    char spec[8];
    snprintf(spec, sizeof(spec), "g%d", k);
    ck_assert_int_eq(sc_node_join_group(nd(0), spec, 0), k);
  }
  ck_assert_int_eq(sc_node_join_group(nd(0), "g8", 0), SC_ERR_LIMIT);
  ck_assert_int_eq(sc_node_leave_group(nd(0), "g0", 0), 0);
  ck_assert_int_eq(sc_node_join_group(nd(0), "g8", 0), 7);
}
END_TEST

/* Three members; node 2 leaves. Its only group: its links close. The
 * others stop counting it, and it comes back by joining again. */
START_TEST(test_leave_and_rejoin) {
  int n0[3] = {0, 0, 2}, n2[3] = {2, 0, 2}, gone[3] = {0, 0, 1};
  ck_assert_int_eq(tn_group(net, 3, "demo"), 0);
  ck_assert(tn_run_until(net, has_neighbors, n0, 20 * SC_SEC));
  ck_assert(tn_run_until(net, has_neighbors, n2, 20 * SC_SEC));
  tn_run(net, 3 * SC_SEC);
  ck_assert_int_eq(sc_node_leave_group(nd(2), "demo", tn_now(net)), 0);
  ck_assert_uint_eq(groups(2), 0);
  /* Its links are closed: the members see them go at once. */
  ck_assert(tn_run_until(net, has_neighbors, gone, 2 * SC_SEC));
  /* And forget it within a report's lifetime (60 s). */
  tn_run(net, 65 * SC_SEC);
  ck_assert_uint_eq(group_of(0, 0).members_known, 1);
  ck_assert_uint_eq(group_of(1, 0).members_known, 1);
  ck_assert_uint_eq(neighbors(0, 0), 1);
  /* Posts of the others do not reach it. */
  ck_assert_int_eq(
      sc_node_post(nd(0), "demo", (const uint8_t *)"hi", 2, tn_now(net)), 0);
  tn_run(net, 2 * SC_SEC);
  ck_assert_uint_eq(posts[1], 1);
  ck_assert_uint_eq(posts[2], 0);
  ck_assert_int_eq(
      sc_node_post(nd(2), "demo", (const uint8_t *)"x", 1, tn_now(net)),
      SC_ERR_NOT_FOUND);
  /* Joining again: node 2 still keeps its bootstrap session to node 0. */
  ck_assert_int_eq(sc_node_join_group(nd(2), "demo", tn_now(net)), 0);
  ck_assert(tn_run_until(net, has_neighbors, n2, 20 * SC_SEC));
  ck_assert_int_eq(
      sc_node_post(nd(0), "demo", (const uint8_t *)"hi", 2, tn_now(net)), 0);
  tn_run(net, 2 * SC_SEC);
  ck_assert_uint_eq(posts[2], 1);
}
END_TEST

/* Two nodes share one session for two groups; node 0 leaves the first.
 * The session stays for the second, and node 1 hears of the leaving on
 * it at once. */
START_TEST(test_leave_shared_session) {
  int one_g1[3] = {1, 0, 1}, both[3] = {1, 1, 1};
  int k1[2] = {1, 0};
  for (int i = 0; i < 2; i++) {
    char a[32];
    snprintf(a, sizeof(a), "10.0.%d.1:4433", i);
    ck_assert_int_eq(tn_add(net, a, NULL, NULL), i);
    ck_assert_int_eq(sc_node_join_group(nd(i), "g1", 0), 0);
    ck_assert_int_eq(sc_node_join_group(nd(i), "g2", 0), 1);
  }
  tn_connect(net, 1, 0);
  ck_assert(tn_run_until(net, has_neighbors, one_g1, 10 * SC_SEC));
  ck_assert(tn_run_until(net, has_neighbors, both, 10 * SC_SEC));
  tn_run(net, 2 * SC_SEC);
  ck_assert_int_eq(sc_node_leave_group(nd(0), "g1", tn_now(net)), 0);
  ck_assert_uint_eq(groups(0), 1);
  ck_assert(tn_run_until(net, knows_nobody, k1, 1 * SC_SEC));
  tn_run(net, 30 * SC_SEC);
  /* Neither forgot the leaving nor lost the other group. */
  ck_assert_uint_eq(group_of(1, 0).members_known, 0);
  ck_assert_uint_eq(neighbors(1, 1), 1);
  ck_assert_uint_eq(neighbors(0, 0), 1);
  ck_assert_uint_eq(sc_node_session_count(nd(0)), 1);
  /* Joining again sends HELLO on the session that is up. */
  ck_assert_int_eq(sc_node_join_group(nd(0), "g1", tn_now(net)), 1);
  ck_assert(tn_run_until(net, has_neighbors, one_g1, 5 * SC_SEC));
}
END_TEST

static size_t streams(int i) { return sc_node_streams(nd(i), NULL, 0); }

static void publish(uint32_t h, int count) {
  uint8_t buf[500];
  for (int k = 0; k < count; k++) {
    memset(buf, k, sizeof(buf));
    ck_assert_int_eq(sc_node_publish_fragment(nd(0), h, buf, sizeof(buf),
                                              k % 10 == 0, tn_now(net)),
                     0);
    tn_run(net, 10 * SC_MS);
  }
}

/* A stream published by node 0 and played by nodes 1 and 2; node 1 leaves
 * while playing, then node 0 while publishing. */
START_TEST(test_leave_with_streams) {
  uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];
  uint32_t h, ph;
  uint8_t buf[16] = {0};
  uint64_t before;
  crypto_sign_keypair(pk, sk);
  ck_assert_int_eq(tn_group(net, 3, "tv"), 0);
  tn_run(net, 5 * SC_SEC);
  ck_assert_int_eq(sc_node_publish(nd(0), "tv", "live", sk, tn_now(net), &h),
                   0);
  for (int i = 1; i < 3; i++) {
    ck_assert_int_eq(sc_node_play(nd(i), "tv", "live", NULL, tn_now(net), &ph),
                     0);
  }
  publish(h, 200);
  ck_assert_uint_gt(played[1], 50);
  ck_assert_uint_gt(played[2], 50);
  ck_assert_int_eq(sc_node_leave_group(nd(1), "tv", tn_now(net)), 0);
  ck_assert_uint_eq(streams(1), 0);
  before = played[1];
  publish(h, 200);
  ck_assert_uint_eq(played[1], before);
  ck_assert_uint_gt(played[2], 250);
  ck_assert_int_eq(sc_node_leave_group(nd(0), "tv", tn_now(net)), 0);
  ck_assert_uint_eq(streams(0), 0);
  ck_assert_int_eq(
      sc_node_publish_fragment(nd(0), h, buf, sizeof(buf), 1, tn_now(net)),
      SC_ERR_NOT_FOUND);
  tn_run(net, 40 * SC_SEC);
  /* Node 2 forgot the stream once idle; node 1 plays nothing after
   * joining again without asking. */
  ck_assert_int_eq(sc_node_join_group(nd(1), "tv", tn_now(net)), 0);
  tn_run(net, 5 * SC_SEC);
  ck_assert_uint_eq(played[1], before);
  ck_assert_uint_eq(streams(2), 0);
}
END_TEST

static Suite *leave_suite(void) {
  Suite *s = suite_create("leave");
  TCase *tc = tcase_create("leave");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_leave_errors);
  tcase_add_test(tc, test_indices_move_down);
  tcase_add_test(tc, test_leave_and_rejoin);
  tcase_add_test(tc, test_leave_shared_session);
  tcase_add_test(tc, test_leave_with_streams);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(leave_suite()); }
