/*
 * check_mesh.c: groups and the mesh (src/core/sc_mesh.c) on the in-memory
 * network: membership proofs, caps against a flood of fake members, groups
 * sharing sessions, joining errors and rejoining through remembered peers,
 * and the maintenance traffic: reports only when they change or are due
 * for a refresh, keepalives on silent links, and prompt crash detection.
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

/* Nodes 0 and 1 in group "demo", linked and past the first exchanges. */
static void pair_in_group(void) {
  int ab[2] = {0, 1};
  ck_assert_int_eq(tn_add(net, "10.0.0.1:4433", NULL, NULL), 0);
  ck_assert_int_eq(tn_add(net, "10.0.1.1:4433", NULL, NULL), 1);
  ck_assert_int_eq(sc_node_join_group(tn_get(net, 0)->node, "demo", 0), 0);
  ck_assert_int_eq(sc_node_join_group(tn_get(net, 1)->node, "demo", 0), 0);
  tn_connect(net, 1, 0);
  ck_assert(tn_run_until(net, in_group_with, ab, 10 * SC_SEC));
  tn_run(net, 3 * SC_SEC);
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
  memset(&h, 0, sizeof(h));
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
  pair_in_group();
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

static uint64_t reports_sent(int i) {
  return group_of(i, 0).stats.reports_sent;
}

/* §11.3.3: a report whose content has not changed is not sent again
 * until the refresh period (30 s) has passed; then once. */
START_TEST(test_report_quiet) {
  pair_in_group();
  /* The link came up about 3 s ago with one report each way. */
  uint64_t r0 = reports_sent(0), r1 = reports_sent(1);
  ck_assert_uint_eq(r0, 1);
  ck_assert_uint_eq(r1, 1);
  tn_run(net, 24 * SC_SEC);
  ck_assert_uint_eq(reports_sent(0), r0);
  ck_assert_uint_eq(reports_sent(1), r1);
  tn_run(net, 8 * SC_SEC);
  ck_assert_uint_eq(reports_sent(0), r0 + 1);
  ck_assert_uint_eq(reports_sent(1), r1 + 1);
}
END_TEST

/* Node 1 tells node 0 that it holds a link with |n| members of
 * 1.2.5.0/24 (age 0), made up from |seed|. */
static void vouch_for(int n, uint8_t seed) {
  sc_group_info gi = group_of(0, 0);
  sc_members_msg m;
  uint8_t body[SC_MSG_MAX];
  sc_wr w;
  memcpy(m.group_id, gi.group_id, SC_GROUP_ID_LEN);
  m.n = (size_t)n;
  for (size_t e = 0; e < m.n; e++) {
    memset(&m.e[e], 0, sizeof(m.e[e]));
    memset(m.e[e].peer_id, seed + (int)e, SC_PEER_ID_LEN);
    m.e[e].addr.family = SC_AF_INET;
    m.e[e].addr.ip[0] = 1;
    m.e[e].addr.ip[1] = 2;
    m.e[e].addr.ip[2] = 5;
    m.e[e].addr.ip[3] = (uint8_t)(e + 1);
    m.e[e].addr.port = 4433;
  }
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_members_write(&w, &m), 0);
  send_raw(1, 0, SC_MSG_MEMBERS, &w);
}

/* §11.3.3: a change in what node 0 would report goes out within the
 * report interval; a member vouched for by a live link stays reported
 * without any refreshing, past the 15 s an unvouched report lasts; and
 * the voucher's next report withdrawing it is a change again. */
START_TEST(test_report_on_change) {
  pair_in_group();
  uint64_t r0 = reports_sent(0);
  vouch_for(1, 0x41);
  tn_run(net, 3 * SC_SEC);
  ck_assert_uint_eq(reports_sent(0), r0 + 1);
  /* Node 1 heard of the member only through node 0's report. */
  ck_assert_uint_eq(group_of(1, 0).members_known, 2);
  tn_run(net, 18 * SC_SEC);
  ck_assert_uint_eq(reports_sent(0), r0 + 1);
  ck_assert_uint_eq(group_of(0, 0).members_known, 2);
  vouch_for(0, 0x41);
  tn_run(net, 3 * SC_SEC);
  ck_assert_uint_eq(reports_sent(0), r0 + 2);
}
END_TEST

/* The longest gap between datagrams each way on the 0-1 link. */
typedef struct gaps {
  uint64_t last[2], max[2];
} gaps;

static void gap_tap(void *arg, int from_node, const sc_addr *from,
                    const sc_addr *to, const uint8_t *data, size_t len) {
  gaps *g = arg;
  uint64_t now = tn_now(net);
  (void)from;
  (void)to;
  (void)data;
  (void)len;
  if (from_node == 0 || from_node == 1) {
    g->max[from_node] = SC_MAX(g->max[from_node], now - g->last[from_node]);
    g->last[from_node] = now;
  }
}

/* §11.4: a member link with nothing to say still carries a packet each
 * way at least every 2 s (plus the 1 s the check takes), and so is never
 * taken for dead. */
START_TEST(test_keepalive) {
  int ab[2] = {0, 1};
  gaps g;
  pair_in_group();
  memset(&g, 0, sizeof(g));
  g.last[0] = g.last[1] = tn_now(net);
  tn_set_tap(net, gap_tap, &g);
  tn_run(net, 40 * SC_SEC);
  tn_set_tap(net, NULL, NULL);
  ck_assert_uint_le(g.max[0], 3100 * SC_MS);
  ck_assert_uint_le(g.max[1], 3100 * SC_MS);
  ck_assert_uint_eq(group_of(0, 0).stats.neighbors_dead, 0);
  ck_assert_uint_eq(group_of(1, 0).stats.neighbors_dead, 0);
  ck_assert(in_group_with(net, ab));
}
END_TEST

/* The digest that decides whether a report changed: peer IDs, addresses,
 * order and the age-0 mark count; other ages do not. */
START_TEST(test_report_digest) {
  sc_members_msg a, b;
  memset(&a, 0, sizeof(a));
  a.n = 2;
  for (size_t e = 0; e < a.n; e++) {
    memset(a.e[e].peer_id, 0x30 + (int)e, SC_PEER_ID_LEN);
    a.e[e].addr = tn_addr(e ? "10.0.1.1:4433" : "10.0.2.1:4433");
    a.e[e].age_ms = e ? 700 : 0;
  }
  b = a;
  b.e[1].age_ms = 9000;
  ck_assert_uint_eq(sc_members_digest(&a), sc_members_digest(&b));
  b.e[1].age_ms = 0; /* now a link of the sender */
  ck_assert_uint_ne(sc_members_digest(&a), sc_members_digest(&b));
  b = a;
  b.e[0].addr.port = 4434;
  ck_assert_uint_ne(sc_members_digest(&a), sc_members_digest(&b));
  b = a;
  b.e[0] = a.e[1];
  b.e[1] = a.e[0];
  ck_assert_uint_ne(sc_members_digest(&a), sc_members_digest(&b));
  b = a;
  b.n = 1;
  ck_assert_uint_ne(sc_members_digest(&a), sc_members_digest(&b));
}
END_TEST

/* When each node last sent node 0 a datagram. */
typedef struct last_to0 {
  sc_addr addr0;
  uint64_t at[8];
} last_to0;

static void last_tap(void *arg, int from_node, const sc_addr *from,
                     const sc_addr *to, const uint8_t *data, size_t len) {
  last_to0 *l = arg;
  (void)from;
  (void)data;
  (void)len;
  if (from_node >= 0 && from_node < 8 && sc_addr_eq(to, &l->addr0)) {
    l->at[from_node] = tn_now(net);
  }
}

/* Whether node 0 no longer has the peer |arg| (a peer ID) as a
 * neighbour. */
static int gone_from_0(tn *n, void *arg) {
  sc_neighbor_info nb[8];
  size_t k, cnt = sc_node_neighbors(tn_get(n, 0)->node, 0, nb, 8);
  for (k = 0; k < cnt && k < 8; k++) {
    if (memcmp(nb[k].peer_id, arg, SC_PEER_ID_LEN) == 0) {
      return 0;
    }
  }
  return 1;
}

/* §11.4: a crashed neighbour is declared dead 6 s after the last packet
 * it sent, and dropped within the next two seconds, whatever the phase of
 * the periodic rebuild. Four crashes, at different phases. */
START_TEST(test_crash_detected) {
  last_to0 l;
  memset(&l, 0, sizeof(l));
  for (int i = 0; i < 5; i++) {
    char a[32];
    snprintf(a, sizeof(a), "10.0.%d.1:4433", i);
    ck_assert_int_eq(tn_add(net, a, NULL, NULL), i);
    ck_assert_int_eq(sc_node_join_group(tn_get(net, i)->node, "demo", 0), 0);
    if (i > 0) {
      tn_connect(net, i, 0);
    }
  }
  l.addr0 = tn_addr("10.0.0.1:4433");
  tn_run(net, 20 * SC_SEC);
  tn_set_tap(net, last_tap, &l);
  for (int k = 1; k < 5; k++) {
    uint8_t id[SC_PEER_ID_LEN];
    memcpy(id, sc_node_peer_id(tn_get(net, k)->node), SC_PEER_ID_LEN);
    ck_assert(!gone_from_0(net, id));
    tn_run(net, 1300 * SC_MS);
    tn_crash(net, k);
    ck_assert(tn_run_until(net, gone_from_0, id, 15 * SC_SEC));
    ck_assert_uint_ge(tn_now(net) - l.at[k], 6 * SC_SEC);
    ck_assert_uint_le(tn_now(net) - l.at[k], 8 * SC_SEC);
  }
  tn_set_tap(net, NULL, NULL);
  ck_assert_uint_eq(group_of(0, 0).stats.neighbors_dead, 4);
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
  tcase_add_test(tc, test_report_quiet);
  tcase_add_test(tc, test_report_on_change);
  tcase_add_test(tc, test_report_digest);
  tcase_add_test(tc, test_keepalive);
  tcase_add_test(tc, test_crash_detected);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(mesh_suite()); }
