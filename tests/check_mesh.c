/*
 * check_mesh.c: groups and the mesh (src/core/sc_mesh.c) on the in-memory
 * network: membership proofs, caps against a flood of fake members, groups
 * sharing sessions, joining errors and rejoining through remembered peers.
 *
 * A hostile member is played by a real node whose session sends forged
 * messages through the ordinary reliable-message path.
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_meshmsg.h"
#include "sc_node_int.h"
#include "testnet.h"

static tn *net;

static void setup(void) { net = tn_new(7); }
static void teardown(void) { tn_del(net); }

static sc_group_info group_of(int i, size_t index) {
  sc_group_info gi[SC_MESH_MAX_GROUPS];
  size_t n = sc_node_groups(tn_get(net, i)->node, gi, SC_MESH_MAX_GROUPS);
  ck_assert_uint_gt(n, index);
  return gi[index];
}

/* Node |i|'s established session with node |j|. */
static sc_session *session_to(int i, int j) {
  sc_node *a = tn_get(net, i)->node;
  const uint8_t *id = sc_node_peer_id(tn_get(net, j)->node);
  sc_session *s = sc_node_session_with(a, id);
  ck_assert_ptr_nonnull(s);
  ck_assert(sc_session_is_usable(s));
  return s;
}

static void send_raw(int from, int to, uint64_t kind, const sc_wr *w) {
  ck_assert_int_eq(sc_session_send_msg(session_to(from, to), kind, w->buf,
                                       w->len, tn_now(net)),
                   0);
}

static int in_group_with(tn *n, void *arg) {
  const int *ij = arg;
  sc_neighbor_info nb[8];
  size_t k, cnt = sc_node_neighbors(tn_get(n, ij[0])->node, 0, nb, 8);
  const uint8_t *id = sc_node_peer_id(tn_get(n, ij[1])->node);
  for (k = 0; k < cnt && k < 8; k++) {
    if (memcmp(nb[k].peer_id, id, SC_PEER_ID_LEN) == 0) {
      return 1;
    }
  }
  return 0;
}

START_TEST(test_secret_group) {
  const char *spec = "club?secret=s3cret";
  int ab[2] = {1, 0};
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  ck_assert_int_eq(tn_add(net, "10.0.1.1:4433", NULL, NULL), 1);
  ck_assert_int_eq(tn_add(net, "10.0.2.1:4433", NULL, NULL), 2);
  ck_assert_int_eq(sc_node_join_group(tn_get(net, 0)->node, spec, 0), 0);
  ck_assert_int_eq(sc_node_join_group(tn_get(net, 1)->node, spec, 0), 0);
  tn_connect(net, 1, 0);
  ck_assert(tn_run_until(net, in_group_with, ab, 10 * SC_SEC));
  ck_assert_uint_eq(group_of(0, 0).neighbors, 1);

  /* Node 2 knows the group ID but not the secret. */
  tn_connect(net, 2, 0);
  tn_run(net, 2 * SC_SEC);
  /* Node 0's introductions must not name its group's members to an
   * outsider: node 2 never hears of node 1. */
  ck_assert_ptr_null(sc_node_session_with(
      tn_get(net, 2)->node, sc_node_peer_id(tn_get(net, 1)->node)));
  sc_group_info before = group_of(0, 0);
  sc_hello_msg h;
  uint8_t body[128];
  sc_wr w;
  memcpy(h.group_id, before.group_id, SC_GROUP_ID_LEN);
  h.has_proof = 1;
  memset(h.proof, 0x5a, sizeof(h.proof));
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_hello_write(&w, &h), 0);
  send_raw(2, 0, SC_MSG_GROUP_HELLO, &w);
  h.has_proof = 0;
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_hello_write(&w, &h), 0);
  send_raw(2, 0, SC_MSG_GROUP_HELLO, &w);
  /* And asks for the member list anyway. */
  sc_mreq_msg q;
  memcpy(q.group_id, before.group_id, SC_GROUP_ID_LEN);
  memset(q.target.b, 0, sizeof(q.target.b));
  q.max = 16;
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_mreq_write(&w, &q), 0);
  send_raw(2, 0, SC_MSG_MEMBERS_REQUEST, &w);
  uint64_t sent_before = group_of(0, 0).stats.reports_sent;
  tn_run(net, 500 * SC_MS);

  sc_group_info after = group_of(0, 0);
  ck_assert_uint_eq(after.stats.hellos_refused, 2);
  ck_assert_uint_eq(after.members_known, 1); /* node 1 only */
  ck_assert_uint_eq(after.neighbors, 1);
  /* Periodic reports go to node 1 alone: at most one in half a second. */
  ck_assert_uint_le(after.stats.reports_sent, sent_before + 1);
}
END_TEST

/* Sends |count| MEMBERS messages of 16 fake members each, all in
 * |prefix|.0/24, from node |from| to node |to|. */
static void flood(int from, int to, uint8_t prefix, int count) {
  sc_group_info gi = group_of(to, 0);
  for (int k = 0; k < count; k++) {
    sc_members_msg m;
    uint8_t body[SC_MSG_MAX];
    sc_wr w;
    memcpy(m.group_id, gi.group_id, SC_GROUP_ID_LEN);
    m.n = SC_MEMBERS_MAX;
    for (size_t e = 0; e < m.n; e++) {
      memset(&m.e[e], 0, sizeof(m.e[e]));
      randombytes_buf(m.e[e].peer_id, SC_PEER_ID_LEN);
      m.e[e].addr.family = SC_AF_INET;
      m.e[e].addr.ip[0] = 1;
      m.e[e].addr.ip[1] = 2;
      m.e[e].addr.ip[2] = prefix;
      m.e[e].addr.ip[3] = (uint8_t)(e + 1);
      m.e[e].addr.port = 4433;
    }
    sc_wr_init(&w, body, sizeof(body));
    ck_assert_int_eq(sc_members_write(&w, &m), 0);
    send_raw(from, to, SC_MSG_MEMBERS, &w);
  }
  tn_run(net, 500 * SC_MS);
}

START_TEST(test_eclipse_cap) {
  int ab[2] = {0, 1};
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  ck_assert_int_eq(tn_add(net, "10.0.1.1:4433", NULL, NULL), 1);
  ck_assert_int_eq(sc_node_join_group(tn_get(net, 0)->node, "demo", 0), 0);
  ck_assert_int_eq(sc_node_join_group(tn_get(net, 1)->node, "demo", 0), 0);
  tn_connect(net, 1, 0);
  ck_assert(tn_run_until(net, in_group_with, ab, 10 * SC_SEC));
  flood(1, 0, 3, 10); /* 160 fake members from 1.2.3.0/24 */
  sc_group_info gi = group_of(0, 0);
  /* Node 1 itself plus at most 8 from the flooded /24. */
  ck_assert_uint_le(gi.members_known, 1 + 8);
  ck_assert_uint_ge(gi.stats.entries_refused, 160 - 8);
  /* Members from other prefixes are still taken. */
  flood(1, 0, 4, 1);
  ck_assert_uint_eq(group_of(0, 0).members_known, gi.members_known + 8);
}
END_TEST

START_TEST(test_join_errors) {
  sc_node *a;
  char spec[16];
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  a = tn_get(net, 0)->node;
  ck_assert_int_eq(sc_node_join_group(a, "", 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_node_join_group(a, "x?bogus=1", 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_node_join_group(a, NULL, 0), SC_ERR_MALFORMED);
  for (int k = 0; k < SC_MESH_MAX_GROUPS; k++) {
    snprintf(spec, sizeof(spec), "g%d", k);
    ck_assert_int_eq(sc_node_join_group(a, spec, 0), k);
  }
  ck_assert_int_eq(sc_node_join_group(a, "g0", 0), SC_ERR_STATE);
  ck_assert_int_eq(sc_node_join_group(a, "g9", 0), SC_ERR_LIMIT);
  ck_assert_uint_eq(sc_node_groups(a, NULL, 0), SC_MESH_MAX_GROUPS);
}
END_TEST

static int both_groups(tn *n, void *arg) {
  sc_neighbor_info nb[4];
  (void)arg;
  return sc_node_neighbors(tn_get(n, 0)->node, 0, nb, 4) == 1 &&
         sc_node_neighbors(tn_get(n, 0)->node, 1, nb, 4) == 1;
}

START_TEST(test_groups_share_sessions) {
  for (int i = 0; i < 2; i++) {
    char a[32];
    snprintf(a, sizeof(a), "10.0.%d.1:4433", i);
    ck_assert_int_eq(tn_add(net, a, NULL, NULL), i);
    ck_assert_int_eq(sc_node_join_group(tn_get(net, i)->node, "g1", 0), 0);
    ck_assert_int_eq(sc_node_join_group(tn_get(net, i)->node, "g2", 0), 1);
  }
  tn_connect(net, 1, 0);
  ck_assert(tn_run_until(net, both_groups, NULL, 10 * SC_SEC));
  ck_assert_uint_eq(sc_node_session_count(tn_get(net, 0)->node), 1);
}
END_TEST

static int has_session(tn *n, void *arg) {
  (void)arg;
  sc_session_info si;
  return sc_node_sessions(tn_get(n, 0)->node, &si, 1) == 1 &&
         si.state == SC_SESSION_ESTABLISHED;
}

START_TEST(test_remember) {
  sc_known_peer kp;
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  ck_assert_int_eq(tn_add(net, "10.0.1.1:4433", NULL, NULL), 1);
  sc_node *a = tn_get(net, 0)->node;
  memset(&kp, 0, sizeof(kp));
  memcpy(kp.peer_id, sc_node_peer_id(a), SC_PEER_ID_LEN);
  kp.addr = tn_addr("10.0.1.1:4433");
  ck_assert_int_eq(sc_node_remember(a, &kp, 0), SC_ERR_INVALID_ARG);
  memcpy(kp.peer_id, sc_node_peer_id(tn_get(net, 1)->node), SC_PEER_ID_LEN);
  kp.addr.port = 0;
  ck_assert_int_eq(sc_node_remember(a, &kp, 0), SC_ERR_INVALID_ARG);
  kp.addr.port = 4433;
  kp.score_permille = 900;
  ck_assert_int_eq(sc_node_remember(a, &kp, 0), 0);
  /* With no bootstrap peer and no session, it rejoins through node 1. */
  ck_assert(tn_run_until(net, has_session, NULL, 10 * SC_SEC));
}
END_TEST

static Suite *mesh_suite(void) {
  Suite *s = suite_create("mesh");
  TCase *tc = tcase_create("mesh");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_secret_group);
  tcase_add_test(tc, test_eclipse_cap);
  tcase_add_test(tc, test_join_errors);
  tcase_add_test(tc, test_groups_share_sessions);
  tcase_add_test(tc, test_remember);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(mesh_suite()); }
