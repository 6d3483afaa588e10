/*
 * check_post.c: posting (doc/protocol.md §14.1): the codecs of
 * POST, IHAVE and IWANT (src/core/sc_postmsg.c), and posts among real cores
 * on the in-memory network (src/core/sc_post.c): each member gets each
 * other member's post once, a group without posting refuses them, an
 * origin's rate is bounded, and a member cut off from the broadcast gets
 * the post from a ring neighbour.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_postmsg.h"
#include "testnet.h"

static sc_post_msg sample(const uint8_t *payload, size_t len) {
  sc_post_msg m;
  memset(&m, 0, sizeof(m));
  memset(m.id.group_id, 1, sizeof(m.id.group_id));
  memset(m.id.origin, 2, sizeof(m.id.origin));
  m.id.incarnation = 0x0102030405060708ULL;
  m.id.number = 300;
  memset(m.lo.b, 3, sizeof(m.lo.b));
  memset(m.hi.b, 4, sizeof(m.hi.b));
  m.payload = payload;
  m.len = len;
  return m;
}

START_TEST(test_post_round_trip) {
  uint8_t payload[SC_POST_MAX + 1], buf[SC_POST_MAX + 256];
  sc_post_msg m, m2;
  sc_wr w;
  size_t i, full;
  for (i = 0; i < sizeof(payload); i++) {
    payload[i] = (uint8_t)(i * 7);
  }
  m = sample(payload, SC_POST_MAX);
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  full = w.len;
  /* 32 + 32 + 8 (incarnation) + 2 (number) + 64 + payload */
  ck_assert_uint_eq(full, 64 + 8 + 2 + 64 + SC_POST_MAX);
  ck_assert_int_eq(sc_post_read(&m2, buf, full), 0);
  ck_assert_mem_eq(m2.id.group_id, m.id.group_id, SC_GROUP_ID_LEN);
  ck_assert_mem_eq(m2.id.origin, m.id.origin, SC_PEER_ID_LEN);
  ck_assert_uint_eq(m2.id.incarnation, 0x0102030405060708ULL);
  ck_assert_uint_eq(m2.id.number, 300);
  ck_assert_mem_eq(m2.lo.b, m.lo.b, SC_RING_LEN);
  ck_assert_mem_eq(m2.hi.b, m.hi.b, SC_RING_LEN);
  ck_assert_uint_eq(m2.len, SC_POST_MAX);
  ck_assert_mem_eq(m2.payload, payload, SC_POST_MAX);
  ck_assert(m2.payload >= buf && m2.payload + m2.len == buf + full);
  /* An empty post is a post. */
  m = sample(payload, 0);
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  ck_assert_int_eq(sc_post_read(&m2, buf, w.len), 0);
  ck_assert_uint_eq(m2.len, 0);
}
END_TEST

START_TEST(test_post_refused) {
  uint8_t payload[SC_POST_MAX + 1] = {0}, buf[2048];
  sc_post_msg m = sample(payload, SC_POST_MAX + 1), m2;
  sc_wr w;
  size_t n, full;
  /* Writers refuse what readers would. */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), SC_ERR_INVALID_ARG);
  m = sample(payload, 10);
  m.id.number = SC_VARINT_MAX + 1;
  ck_assert_int_eq(sc_post_write(&w, &m), SC_ERR_INVALID_ARG);
  ck_assert_uint_eq(w.len, 0);
  /* A buffer one byte short takes nothing. */
  m = sample(payload, 10);
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  full = w.len;
  sc_wr_init(&w, buf, full - 1);
  ck_assert_int_eq(sc_post_write(&w, &m), SC_ERR_BUFFER);
  ck_assert_uint_eq(w.len, 0);
  /* Every truncation before the payload is malformed; a payload over
   * the limit too. */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  for (n = 0; n < full - 10; n++) {
    ck_assert_int_eq(sc_post_read(&m2, buf, n), SC_ERR_MALFORMED);
  }
  ck_assert_int_eq(sc_post_read(&m2, buf, full - 10 + SC_POST_MAX + 1),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_post_read(&m2, buf, full - 10 + SC_POST_MAX), 0);
}
END_TEST

START_TEST(test_post_id) {
  uint8_t buf[128];
  sc_post_id id, id2;
  sc_wr w;
  size_t n;
  memset(&id, 5, sizeof(id));
  id.number = 1u << 20;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_id_write(&w, &id), 0);
  ck_assert_uint_eq(w.len, 64 + 8 + 4);
  ck_assert_int_eq(sc_post_id_read(&id2, buf, w.len), 0);
  ck_assert_mem_eq(&id2.group_id, &id.group_id, SC_GROUP_ID_LEN);
  ck_assert_mem_eq(&id2.origin, &id.origin, SC_PEER_ID_LEN);
  ck_assert_uint_eq(id2.incarnation, id.incarnation);
  ck_assert_uint_eq(id2.number, id.number);
  for (n = 0; n < w.len; n++) {
    ck_assert_int_eq(sc_post_id_read(&id2, buf, n), SC_ERR_MALFORMED);
  }
  buf[w.len] = 0;
  ck_assert_int_eq(sc_post_id_read(&id2, buf, w.len + 1), SC_ERR_MALFORMED);
  id.number = SC_VARINT_MAX + 1;
  ck_assert_int_eq(sc_post_id_write(&w, &id), SC_ERR_INVALID_ARG);
}
END_TEST

/* IHAVE: 1 to 16 IDs of one group, each read back with the group. */
START_TEST(test_ihave) {
  uint8_t buf[SC_MSG_MAX];
  sc_ihave_msg m, m2;
  sc_wr w;
  size_t n, i;
  memset(&m, 0, sizeof(m));
  for (i = 0; i < SC_IHAVE_MAX; i++) {
    memset(m.ids[i].group_id, 7, SC_GROUP_ID_LEN);
    memset(m.ids[i].origin, (int)i, SC_PEER_ID_LEN);
    m.ids[i].incarnation = 1000 + i;
    m.ids[i].number = i << 10;
  }
  m.n = 3;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_ihave_write(&w, &m), 0);
  ck_assert_uint_eq(w.len, 32 + 1 + 3 * (32 + 8) + 1 + 2 + 2);
  ck_assert_int_eq(sc_ihave_read(&m2, buf, w.len), 0);
  ck_assert_uint_eq(m2.n, 3);
  for (i = 0; i < 3; i++) {
    ck_assert_mem_eq(m2.ids[i].group_id, m.ids[i].group_id, SC_GROUP_ID_LEN);
    ck_assert_mem_eq(m2.ids[i].origin, m.ids[i].origin, SC_PEER_ID_LEN);
    ck_assert_uint_eq(m2.ids[i].incarnation, m.ids[i].incarnation);
    ck_assert_uint_eq(m2.ids[i].number, m.ids[i].number);
  }
  for (n = 0; n < w.len; n++) {
    ck_assert_int_eq(sc_ihave_read(&m2, buf, n), SC_ERR_MALFORMED);
  }
  buf[w.len] = 0;
  ck_assert_int_eq(sc_ihave_read(&m2, buf, w.len + 1), SC_ERR_MALFORMED);
  /* A count of 0 or over 16 on the wire. */
  buf[32] = 0;
  ck_assert_int_eq(sc_ihave_read(&m2, buf, w.len), SC_ERR_MALFORMED);
  buf[32] = SC_IHAVE_MAX + 1;
  ck_assert_int_eq(sc_ihave_read(&m2, buf, w.len), SC_ERR_MALFORMED);
  /* Writing: 16 fit in one message; 0, 17 or two groups do not go. */
  m.n = SC_IHAVE_MAX;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_ihave_write(&w, &m), 0);
  ck_assert_uint_le(w.len, SC_MSG_MAX);
  m.n = 0;
  ck_assert_int_eq(sc_ihave_write(&w, &m), SC_ERR_INVALID_ARG);
  m.n = SC_IHAVE_MAX + 1;
  ck_assert_int_eq(sc_ihave_write(&w, &m), SC_ERR_INVALID_ARG);
  m.n = 2;
  m.ids[1].group_id[0] = 8;
  ck_assert_int_eq(sc_ihave_write(&w, &m), SC_ERR_INVALID_ARG);
}
END_TEST

/* ---- posts among cores
 * --------------------------------------------------------
 */

#define N_MAX 32
#define POSTS_MAX 256

static tn *net;
/* got[i][j]: posts node i received from node j; bad: wrong bytes. */
static int got[N_MAX][N_MAX], bad;
static uint64_t first_at, last_at; /* first and latest delivery */
static uint8_t ids[N_MAX][SC_PEER_ID_LEN];
static int nnodes;

static sc_node *nd(int i) { return tn_get(net, i)->node; }

/* The bytes of post |k| of node |j|. */
static size_t post_bytes(int j, int k, uint8_t *out) {
  return (size_t)snprintf((char *)out, 64, "post %d from node %d", k, j);
}

static void on_post(void *arg, int node, const sc_post_event *ev) {
  int j;
  uint8_t want[64];
  (void)arg;
  if (first_at == 0) {
    first_at = tn_now(net);
  }
  last_at = tn_now(net);
  for (j = 0; j < nnodes; j++) {
    if (memcmp(ev->origin, ids[j], SC_PEER_ID_LEN) == 0) {
      size_t len = post_bytes(j, (int)ev->number, want);
      got[node][j]++;
      if (ev->len != len || memcmp(ev->data, want, len) != 0) {
        bad++;
      }
      return;
    }
  }
  bad++;
}

static void net_setup(void) {
  net = tn_new(7);
  tn_set_delay(net, 10 * SC_MS);
  tn_set_post(net, on_post, NULL);
  memset(got, 0, sizeof(got));
  bad = 0;
  first_at = last_at = 0;
  nnodes = 0;
}

static void net_teardown(void) { tn_del(net); }

/* |n| nodes in group |spec|, each bootstrapping from node 0, run until
 * the mesh has settled. */
static void members(int n, const char *spec) {
  int i;
  ck_assert_int_eq(tn_group(net, n, spec), 0);
  for (i = 0; i < n; i++) {
    memcpy(ids[i], nd(i)->peer_id, SC_PEER_ID_LEN);
  }
  nnodes = n;
  tn_run(net, 20 * SC_SEC);
}

static sc_group_stats gstats(int i) {
  sc_group_info gi;
  ck_assert_uint_eq(sc_node_groups(nd(i), &gi, 1), 1);
  return gi.stats;
}

/* Every member posts twice; every other member gets both, once each, and
 * the posts travel about once per delivery. */
START_TEST(test_everyone_once) {
  int i, j, n = 24;
  uint64_t forwarded = 0, dups = 0, delivered = 0;
  uint64_t bytes[4] = {0, 0, 0, 0};
  members(n, "chat");
  for (i = 0; i < n; i++) {
    for (j = 0; j < 2; j++) {
      uint8_t buf[64];
      size_t len = post_bytes(i, j, buf);
      ck_assert_int_eq(sc_node_post(nd(i), "chat", buf, len, tn_now(net)), 0);
    }
  }
  tn_run(net, 3 * SC_SEC);
  ck_assert_int_eq(bad, 0);
  for (i = 0; i < n; i++) {
    sc_group_stats st = gstats(i);
    for (j = 0; j < n; j++) {
      ck_assert_msg(got[i][j] == (i == j ? 0 : 2), "node %d got %d of %d's", i,
                    got[i][j], j);
    }
    bytes[0] += st.post_data_bytes_sent;
    bytes[1] += st.post_data_bytes_received;
    bytes[2] += st.post_control_bytes_sent;
    bytes[3] += st.post_control_bytes_received;
    forwarded += st.posts_forwarded;
    dups += st.posts_duplicate;
    delivered += st.posts_received;
    ck_assert_uint_eq(st.posts_sent, 2);
    ck_assert_uint_eq(st.posts_dropped, 0);
  }
  ck_assert_uint_eq(delivered, (uint64_t)(n * (n - 1) * 2));
  /* No loss: every body sent is received, and counted on both sides. */
  ck_assert_uint_gt(bytes[0], forwarded * 32);
  ck_assert_uint_eq(bytes[0], bytes[1]);
  ck_assert_uint_gt(bytes[2], 0);
  ck_assert_uint_eq(bytes[2], bytes[3]);
  if (getenv("POST_DEBUG") != NULL) {
    fprintf(stderr, "delivered %llu forwarded %llu duplicates %llu\n",
            (unsigned long long)delivered, (unsigned long long)forwarded,
            (unsigned long long)dups);
  }
  /* One POST per delivery in a converged mesh; repairs add a few. */
  ck_assert_uint_le(forwarded, delivered + delivered / 10);
}
END_TEST

/* A group whose spec leaves posting out refuses posts, locally and from
 * the network. */
START_TEST(test_posting_off) {
  uint8_t body[256];
  sc_post_msg m;
  sc_wr w;
  sc_session_info si;
  sc_session *s;
  members(3, "quiet?features=multicast");
  ck_assert_int_eq(sc_node_post(nd(1), "quiet?features=multicast",
                                (const uint8_t *)"x", 1, tn_now(net)),
                   SC_ERR_STATE);
  ck_assert_int_eq(
      sc_node_post(nd(1), "other", (const uint8_t *)"x", 1, tn_now(net)),
      SC_ERR_NOT_FOUND);
  ck_assert_int_eq(
      sc_node_post(nd(1), "bad?x=1", (const uint8_t *)"x", 1, tn_now(net)),
      SC_ERR_MALFORMED);
  /* Node 1 sends node 0 a POST anyway, on their member link. */
  memset(&m, 0, sizeof(m));
  memcpy(m.id.group_id, nd(1)->mesh.groups[0]->spec.id, SC_GROUP_ID_LEN);
  memcpy(m.id.origin, ids[1], SC_PEER_ID_LEN);
  m.payload = (const uint8_t *)"x";
  m.len = 1;
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  ck_assert(tn_session_with(net, 1, 0, &si, NULL));
  s = sc_node_session(nd(1), si.local_id);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(
      sc_session_send_msg(s, SC_MSG_POST, body, w.len, tn_now(net)), 0);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(got[0][1], 0);
  ck_assert_uint_eq(gstats(0).posts_refused, 1);
}
END_TEST

/* An origin posting faster than its bucket allows: the others take the
 * burst and drop the rest, and each counts what it dropped. */
START_TEST(test_rate_bounded) {
  int i, n = 6, k = 80;
  members(n, "chat");
  for (i = 0; i < k; i++) {
    uint8_t buf[64];
    size_t len = post_bytes(0, i, buf);
    ck_assert_int_eq(sc_node_post(nd(0), "chat", buf, len, tn_now(net)), 0);
  }
  tn_run(net, 3 * SC_SEC);
  ck_assert_int_eq(bad, 0);
  for (i = 1; i < n; i++) {
    ck_assert_int_ge(got[i][0], 50);
    ck_assert_int_lt(got[i][0], 60);
  }
  ck_assert_uint_gt(gstats(1).posts_dropped, 0);
}
END_TEST

/* A member link handing on more posts than its budget, each from a
 * different origin so that no origin's rate applies: beyond the burst, the
 * receiver takes them at the budget's rate and drops the rest. */
START_TEST(test_link_budget) {
  int i, rv, k = 2000;
  uint64_t span_ms;
  sc_session_info si;
  sc_session *s;
  sc_group_stats st;
  members(3, "chat");
  ck_assert(tn_session_with(net, 1, 0, &si, NULL));
  s = sc_node_session(nd(1), si.local_id);
  ck_assert_ptr_nonnull(s);
  for (i = 0; i < k; i++) {
    uint8_t body[256];
    sc_post_msg m;
    sc_wr w;
    memset(&m, 0, sizeof(m));
    memcpy(m.id.group_id, nd(1)->mesh.groups[0]->spec.id, SC_GROUP_ID_LEN);
    m.id.origin[0] = 0xee;
    memcpy(&m.id.origin[1], &i, sizeof(i));
    m.id.incarnation = 1;
    m.payload = (const uint8_t *)"x";
    m.len = 1;
    sc_wr_init(&w, body, sizeof(body));
    ck_assert_int_eq(sc_post_write(&w, &m), 0);
    while ((rv = sc_session_send_msg(s, SC_MSG_POST, body, w.len,
                                     tn_now(net))) == SC_ERR_BUSY) {
      tn_run(net, 5 * SC_MS); /* the send queue is full: let it drain */
    }
    ck_assert_int_eq(rv, 0);
  }
  tn_run(net, 2 * SC_SEC);
  st = gstats(0);
  span_ms = (last_at - first_at) / SC_MS;
  ck_assert_uint_eq(st.posts_received + st.posts_dropped, (uint64_t)k);
  ck_assert_uint_ge(st.posts_received, 400);
  ck_assert_msg(
      st.posts_received <= 401 + span_ms / 5, "%llu received over %llu ms",
      (unsigned long long)st.posts_received, (unsigned long long)span_ms);
}
END_TEST

/* How many members lie strictly between addresses |a| and |b| clockwise. */
static int members_between(const sc_ring_addr *a, const sc_ring_addr *b) {
  int i, c = 0;
  sc_ring_addr span, d;
  sc_ring_sub(&span, b, a);
  for (i = 0; i < nnodes; i++) {
    const sc_ring_addr *x = &nd(i)->mesh.groups[0]->self;
    sc_ring_sub(&d, x, a);
    c += sc_ring_cmp(x, a) != 0 && sc_ring_cmp(&d, &span) < 0;
  }
  return c;
}

/* The origin hands a post to a member that has just crashed: the members
 * in its share of the ring get the post from their ring neighbours, the
 * first one repaired handing it on to the rest at once. */
START_TEST(test_repaired_along_ring) {
  int i, n = 31, origin = -1, gone = -1, most = 0;
  uint64_t asked = 0, posted_at;
  uint8_t buf[64];
  size_t len;
  members(n, "chat");
  /* Find an origin and a link of it whose share holds the most others. */
  for (i = 1; i < n && most < 2; i++) {
    const sc_mgroup *g = nd(i)->mesh.groups[0];
    size_t a, b;
    for (a = 0; a < g->n; a++) {
      const sc_ring_addr *next = NULL;
      sc_ring_addr da, db, best;
      int c, j;
      if (g->m[a].sid == 0) {
        continue;
      }
      sc_ring_sub(&da, &g->m[a].gaddr, &g->self);
      for (b = 0; b < g->n; b++) {
        if (b == a || g->m[b].sid == 0) {
          continue;
        }
        sc_ring_sub(&db, &g->m[b].gaddr, &g->self);
        if (sc_ring_cmp(&db, &da) > 0 &&
            (next == NULL || sc_ring_cmp(&db, &best) < 0)) {
          next = &g->m[b].gaddr;
          best = db;
        }
      }
      c = members_between(&g->m[a].gaddr, next != NULL ? next : &g->self);
      if (c > most) {
        most = c;
        origin = i;
        for (j = 0; j < n; j++) {
          if (memcmp(ids[j], g->m[a].peer_id, SC_PEER_ID_LEN) == 0) {
            gone = j;
          }
        }
      }
    }
  }
  ck_assert_int_ge(most, 1);
  ck_assert_int_ge(gone, 0);
  tn_crash(net, gone);
  len = post_bytes(origin, 0, buf);
  posted_at = tn_now(net);
  ck_assert_int_eq(sc_node_post(nd(origin), "chat", buf, len, posted_at), 0);
  tn_run(net, 5 * SC_SEC);
  ck_assert_int_eq(bad, 0);
  /* The IHAVE delay, a round trip to ask, and a few hops on. */
  ck_assert_uint_lt(last_at - posted_at, 1500 * SC_MS);
  for (i = 0; i < n; i++) {
    if (i != origin && i != gone) {
      ck_assert_msg(got[i][origin] == 1, "node %d got %d", i, got[i][origin]);
      asked += gstats(i).post_repairs_asked;
    }
  }
  ck_assert_uint_ge(asked, 1);
}
END_TEST

static Suite *post_suite(void) {
  Suite *s = suite_create("post");
  TCase *tc = tcase_create("codec");
  tcase_add_test(tc, test_post_round_trip);
  tcase_add_test(tc, test_post_refused);
  tcase_add_test(tc, test_post_id);
  tcase_add_test(tc, test_ihave);
  suite_add_tcase(s, tc);
  tc = tcase_create("posting");
  tcase_add_checked_fixture(tc, net_setup, net_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_everyone_once);
  tcase_add_test(tc, test_posting_off);
  tcase_add_test(tc, test_rate_bounded);
  tcase_add_test(tc, test_link_budget);
  tcase_add_test(tc, test_repaired_along_ring);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(post_suite()); }
