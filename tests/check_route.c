/*
 * check_route.c: directed routing (doc/protocol.md §14.2): the codec of
 * ROUTE (src/core/sc_routemsg.c), and routed messages among real cores on
 * the in-memory network (src/core/sc_route.c): nearest mode reaches the
 * member nearest any address, exact mode only an exact address, messages
 * to the next member up or down the ring, local delivery, the hop limit,
 * a hop that is not nearer the target, a group without routing, malformed
 * messages, and the per-link budget.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_routemsg.h"
#include "testnet.h"

static sc_route_msg sample(const uint8_t *payload, size_t len) {
  sc_route_msg m;
  memset(&m, 0, sizeof(m));
  memset(m.group_id, 1, sizeof(m.group_id));
  memset(m.target.b, 2, sizeof(m.target.b));
  memset(m.origin, 3, sizeof(m.origin));
  m.hops = 7;
  m.payload = payload;
  m.len = len;
  return m;
}

START_TEST(test_route_round_trip) {
  uint8_t payload[SC_ROUTE_MAX], buf[SC_ROUTE_FIXED_LEN + SC_ROUTE_MAX];
  sc_route_msg m, m2;
  sc_wr w;
  size_t i;
  for (i = 0; i < sizeof(payload); i++) {
    payload[i] = (uint8_t)(i * 11);
  }
  m = sample(payload, SC_ROUTE_MAX);
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_route_write(&w, &m), 0);
  /* 32 + 32 + 32 + hops + flags + payload */
  ck_assert_uint_eq(w.len, 98 + SC_ROUTE_MAX);
  ck_assert_int_eq(sc_route_read(&m2, buf, w.len), 0);
  ck_assert_mem_eq(m2.group_id, m.group_id, SC_GROUP_ID_LEN);
  ck_assert_mem_eq(m2.target.b, m.target.b, SC_RING_LEN);
  ck_assert_mem_eq(m2.origin, m.origin, SC_PEER_ID_LEN);
  ck_assert_uint_eq(m2.hops, 7);
  ck_assert_uint_eq(m2.flags, 0);
  ck_assert_uint_eq(m2.len, SC_ROUTE_MAX);
  ck_assert_mem_eq(m2.payload, payload, SC_ROUTE_MAX);
  ck_assert(m2.payload == buf + 98);
  /* An empty message to a neighbour. */
  m = sample(NULL, 0);
  m.hops = 1;
  m.flags = SC_ROUTE_F_NEIGHBOR;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_route_write(&w, &m), 0);
  ck_assert_uint_eq(w.len, 98);
  ck_assert_int_eq(sc_route_read(&m2, buf, w.len), 0);
  ck_assert_uint_eq(m2.len, 0);
  ck_assert_uint_eq(m2.flags, SC_ROUTE_F_NEIGHBOR);
  ck_assert_uint_eq(m2.hops, 1);
}
END_TEST

/* Writers refuse what readers would; readers refuse every bad body. */
START_TEST(test_route_refused) {
  uint8_t payload[SC_ROUTE_MAX + 1] = {0}, buf[2048];
  sc_route_msg m, m2;
  sc_wr w;
  size_t n, full;
  static const struct {
    uint8_t hops, flags;
  } bad[] = {{0, 0},    {SC_ROUTE_HOPS_MAX + 1, 0}, {255, 0}, {1, 0x02},
             {1, 0x80}, {2, SC_ROUTE_F_NEIGHBOR}};
  sc_wr_init(&w, buf, sizeof(buf));
  m = sample(payload, SC_ROUTE_MAX + 1);
  ck_assert_int_eq(sc_route_write(&w, &m), SC_ERR_INVALID_ARG);
  for (n = 0; n < SC_ARRAY_LEN(bad); n++) {
    m = sample(payload, 10);
    m.hops = bad[n].hops;
    m.flags = bad[n].flags;
    ck_assert_int_eq(sc_route_write(&w, &m), SC_ERR_INVALID_ARG);
  }
  ck_assert_uint_eq(w.len, 0);
  /* A buffer one byte short takes nothing. */
  m = sample(payload, 10);
  ck_assert_int_eq(sc_route_write(&w, &m), 0);
  full = w.len;
  sc_wr_init(&w, buf, full - 1);
  ck_assert_int_eq(sc_route_write(&w, &m), SC_ERR_BUFFER);
  ck_assert_uint_eq(w.len, 0);
  /* Every truncation of the fixed part is malformed; so is a payload over
   * the limit. */
  sc_wr_init(&w, buf, sizeof(buf));
  m = sample(payload, 0);
  ck_assert_int_eq(sc_route_write(&w, &m), 0);
  for (n = 0; n < SC_ROUTE_FIXED_LEN; n++) {
    ck_assert_int_eq(sc_route_read(&m2, buf, n), SC_ERR_MALFORMED);
  }
  ck_assert_int_eq(sc_route_read(&m2, buf, SC_ROUTE_FIXED_LEN), 0);
  ck_assert_int_eq(sc_route_read(&m2, buf, SC_ROUTE_FIXED_LEN + SC_ROUTE_MAX),
                   0);
  ck_assert_int_eq(
      sc_route_read(&m2, buf, SC_ROUTE_FIXED_LEN + SC_ROUTE_MAX + 1),
      SC_ERR_MALFORMED);
  /* Hop counts out of range, unknown flags, a neighbour's message that
   * claims more than one hop. */
  for (n = 0; n < SC_ARRAY_LEN(bad); n++) {
    buf[96] = bad[n].hops;
    buf[97] = bad[n].flags;
    ck_assert_int_eq(sc_route_read(&m2, buf, SC_ROUTE_FIXED_LEN),
                     SC_ERR_MALFORMED);
  }
  buf[96] = SC_ROUTE_HOPS_MAX;
  buf[97] = 0;
  ck_assert_int_eq(sc_route_read(&m2, buf, SC_ROUTE_FIXED_LEN), 0);
}
END_TEST

/* Whatever the reader accepts re-encodes to exactly its input: random
 * bodies, with small hop counts and flags often enough to be valid. */
START_TEST(test_route_random) {
  uint8_t in[SC_ROUTE_FIXED_LEN + SC_ROUTE_MAX + 8], out[sizeof(in)];
  uint64_t x = 0x1234567887654321ULL;
  sc_route_msg m;
  sc_wr w;
  int k, taken = 0;
  size_t i, len;
  for (k = 0; k < 20000; k++) {
    for (i = 0; i < sizeof(in); i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      in[i] = (uint8_t)x;
    }
    len = (size_t)(x % sizeof(in));
    if (k % 2 == 0) {
      in[96] = (uint8_t)(in[96] % 40);
      in[97] = (uint8_t)(in[97] % 3);
    }
    if (sc_route_read(&m, in, len) != 0) {
      continue;
    }
    taken++;
    ck_assert(m.payload == in + SC_ROUTE_FIXED_LEN);
    sc_wr_init(&w, out, sizeof(out));
    ck_assert_int_eq(sc_route_write(&w, &m), 0);
    ck_assert_uint_eq(w.len, len);
    ck_assert_mem_eq(out, in, len);
  }
  ck_assert_int_gt(taken, 1000);
}
END_TEST

/* ---- routing among cores
 * ------------------------------------------------------
 */

#define N_MAX 64
#define GOT_MAX 1024

typedef struct got_msg {
  int node;
  sc_route_event ev;
  size_t len;
  uint8_t data[64];
} got_msg;

static tn *net;
static got_msg got[GOT_MAX];
static int ngot, nnodes;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static sc_node *nd(int i) { return tn_get(net, i)->node; }
static const sc_ring_addr *addr_of(int i) {
  return &nd(i)->mesh.groups[0]->self;
}

static void on_routed(void *arg, int node, const sc_route_event *ev) {
  (void)arg;
  if (ngot < GOT_MAX) {
    got[ngot].node = node;
    got[ngot].ev = *ev;
    got[ngot].len = SC_MIN(ev->len, sizeof(got[ngot].data));
    memcpy(got[ngot].data, ev->data, got[ngot].len);
    got[ngot].ev.data = NULL;
  }
  ngot++;
}

static void net_setup(void) {
  net = tn_new(11);
  tn_set_delay(net, 10 * SC_MS);
  tn_set_routed(net, on_routed, NULL);
  ngot = 0;
  nnodes = 0;
}

static void net_teardown(void) { tn_del(net); }

/* |n| nodes in group |spec|, each bootstrapping from node 0, run until the
 * mesh has settled. */
static void members(int n, const char *spec) {
  ck_assert_int_eq(tn_group(net, n, spec), 0);
  nnodes = n;
  tn_run(net, 20 * SC_SEC);
}

static sc_group_stats gstats(int i) {
  sc_group_info gi;
  ck_assert_uint_eq(sc_node_groups(nd(i), &gi, 1), 1);
  return gi.stats;
}

static sc_group_stats gsum(void) {
  sc_group_stats sum;
  uint64_t *d = (uint64_t *)&sum;
  int i;
  size_t k;
  memset(&sum, 0, sizeof(sum));
  for (i = 0; i < nnodes; i++) {
    sc_group_stats st = gstats(i);
    const uint64_t *c = (const uint64_t *)&st;
    for (k = 0; k < sizeof(st) / sizeof(uint64_t); k++) {
      d[k] += c[k];
    }
  }
  return sum;
}

static void random_addr(sc_ring_addr *a) {
  size_t i;
  for (i = 0; i < SC_RING_LEN; i++) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    a->b[i] = (uint8_t)(rng >> 24);
  }
}

/* The member nearest |t|, from every member's address. */
static int true_nearest(const sc_ring_addr *t) {
  int i, best = 0;
  for (i = 1; i < nnodes; i++) {
    if (sc_ring_closer(t, addr_of(i), addr_of(best))) {
      best = i;
    }
  }
  return best;
}

/* The member next to |i| going up (clockwise) or down the ring. */
static int ring_next(int i, int up) {
  int j, best = -1;
  sc_ring_addr d, bd;
  for (j = 0; j < nnodes; j++) {
    if (j == i) {
      continue;
    }
    if (up) {
      sc_ring_sub(&d, addr_of(j), addr_of(i));
    } else {
      sc_ring_sub(&d, addr_of(i), addr_of(j));
    }
    if (best < 0 || sc_ring_cmp(&d, &bd) < 0) {
      best = j;
      bd = d;
    }
  }
  return best;
}

static int route(int from, const sc_ring_addr *t, const char *text) {
  return sc_node_route(nd(from), "rt", t->b, (const uint8_t *)text,
                       strlen(text), tn_now(net));
}

/* Sends the ROUTE |m| raw from node |i| to node |j| on their session. */
static void send_raw(int i, int j, const uint8_t *body, size_t len) {
  sc_session_info si;
  sc_session *s;
  ck_assert(tn_session_with(net, i, j, &si, NULL));
  s = sc_node_session(nd(i), si.local_id);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(sc_session_send_msg(s, SC_MSG_ROUTE, body, len, tn_now(net)),
                   0);
}

static void send_msg(int i, int j, const sc_route_msg *m) {
  uint8_t body[SC_ROUTE_FIXED_LEN + SC_ROUTE_MAX];
  sc_wr w;
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_route_write(&w, m), 0);
  send_raw(i, j, body, w.len);
}

static sc_route_msg msg_to(int origin, const sc_ring_addr *t, uint8_t hops) {
  sc_route_msg m;
  memset(&m, 0, sizeof(m));
  memcpy(m.group_id, nd(origin)->mesh.groups[0]->spec.id, SC_GROUP_ID_LEN);
  memcpy(m.origin, nd(origin)->peer_id, SC_PEER_ID_LEN);
  m.target = *t;
  m.hops = hops;
  m.payload = (const uint8_t *)"raw";
  m.len = 3;
  return m;
}

/* Whether node |j| holds a member link with node |i|. */
static int linked(int i, int j) {
  sc_mgroup *g = nd(i)->mesh.groups[0];
  size_t k;
  for (k = 0; k < g->n; k++) {
    if (g->m[k].sid != 0 &&
        memcmp(g->m[k].peer_id, nd(j)->peer_id, SC_PEER_ID_LEN) == 0) {
      return 1;
    }
  }
  return 0;
}

/* Every member in nearest mode; messages from random members to random
 * addresses each reach the member nearest the address, once, within
 * ceil(log2 N) + 2 hops. */
START_TEST(test_nearest) {
  int i, k, trials = 300, n = 48, maxhops = 0;
  int from[300], want[300];
  sc_group_stats sum;
  members(n, "rt");
  for (i = 0; i < n; i++) {
    ck_assert_int_eq(sc_node_set_receive_mode(nd(i), "rt", SC_RECEIVE_NEAREST),
                     0);
  }
  for (k = 0; k < trials; k++) {
    sc_ring_addr t;
    char text[32];
    random_addr(&t);
    from[k] = (int)(rng % (uint64_t)n);
    want[k] = true_nearest(&t);
    snprintf(text, sizeof(text), "trial %d", k);
    ck_assert_int_eq(route(from[k], &t, text), 0);
  }
  tn_run(net, 2 * SC_SEC);
  ck_assert_int_eq(ngot, trials);
  for (i = 0; i < ngot; i++) {
    int tk = atoi((const char *)got[i].data + 6);
    ck_assert_int_ge(tk, 0);
    ck_assert_int_lt(tk, trials);
    ck_assert_msg(got[i].node == want[tk], "trial %d reached %d, not %d", tk,
                  got[i].node, want[tk]);
    ck_assert_mem_eq(got[i].ev.origin, nd(from[tk])->peer_id, SC_PEER_ID_LEN);
    ck_assert_uint_eq(got[i].ev.hops == 0, from[tk] == want[tk]);
    maxhops = SC_MAX(maxhops, (int)got[i].ev.hops);
  }
  /* ceil(log2 48) + 2 */
  ck_assert_int_le(maxhops, 8);
  sum = gsum();
  ck_assert_uint_eq(sum.routes_sent, (uint64_t)trials);
  ck_assert_uint_eq(sum.routes_received, (uint64_t)trials);
  ck_assert_uint_eq(sum.routes_dropped, 0);
  ck_assert_uint_eq(sum.route_bytes_sent, sum.route_bytes_received);
  ck_assert_uint_ge(sum.route_bytes_sent, sum.routes_forwarded * 99);
  if (getenv("ROUTE_DEBUG") != NULL) {
    fprintf(stderr, "forwarded %llu, max hops %d\n",
            (unsigned long long)sum.routes_forwarded, maxhops);
  }
}
END_TEST

/* Exact mode (the default): a message to a member's address reaches that
 * member only; one to an address no member has is dropped where it stops,
 * at the member nearest it, and counted there. */
START_TEST(test_exact) {
  int i, n = 24, to;
  sc_ring_addr t;
  members(n, "rt");
  for (i = 0; i < n; i++) {
    to = (i * 7 + 3) % n;
    ck_assert_int_eq(route(i, addr_of(to), "exact"), 0);
  }
  tn_run(net, 2 * SC_SEC);
  ck_assert_int_eq(ngot, n);
  for (i = 0; i < ngot; i++) {
    int origin = -1, j;
    for (j = 0; j < n; j++) {
      if (memcmp(got[i].ev.origin, nd(j)->peer_id, SC_PEER_ID_LEN) == 0) {
        origin = j;
      }
    }
    ck_assert_int_eq(got[i].node, (origin * 7 + 3) % n);
    ck_assert_mem_eq(got[i].ev.target, addr_of(got[i].node)->b, SC_RING_LEN);
    ck_assert_uint_eq(got[i].len, 5);
    ck_assert_mem_eq(got[i].data, "exact", 5);
  }
  ck_assert_uint_eq(gsum().routes_dropped, 0);
  /* An address one above a member's: nearest to it, yet not it. */
  to = 5;
  t = *addr_of(to);
  t.b[SC_RING_LEN - 1] ^= 1;
  ngot = 0;
  ck_assert_int_eq(route(11, &t, "nobody"), 0);
  tn_run(net, 2 * SC_SEC);
  ck_assert_int_eq(ngot, 0);
  ck_assert_int_eq(true_nearest(&t), to);
  ck_assert_uint_eq(gstats(to).routes_dropped, 1);
  ck_assert_uint_eq(gsum().routes_dropped, 1);
}
END_TEST

/* A message to the next member up or down the ring reaches the true ring
 * neighbour, whatever its receive mode. */
START_TEST(test_neighbor) {
  int i, n = 24, k;
  members(n, "rt");
  for (i = 0; i < n; i++) {
    ck_assert_int_eq(sc_node_route_neighbor(nd(i), "rt", SC_ROUTE_UP,
                                            (const uint8_t *)"up", 2,
                                            tn_now(net)),
                     0);
    ck_assert_int_eq(sc_node_route_neighbor(nd(i), "rt", SC_ROUTE_DOWN,
                                            (const uint8_t *)"dn", 2,
                                            tn_now(net)),
                     0);
  }
  ck_assert_int_eq(sc_node_route_neighbor(nd(0), "rt", 3, (const uint8_t *)"x",
                                          1, tn_now(net)),
                   SC_ERR_INVALID_ARG);
  tn_run(net, 2 * SC_SEC);
  ck_assert_int_eq(ngot, 2 * n);
  for (k = 0; k < ngot; k++) {
    int origin = -1, up = memcmp(got[k].data, "up", 2) == 0;
    for (i = 0; i < n; i++) {
      if (memcmp(got[k].ev.origin, nd(i)->peer_id, SC_PEER_ID_LEN) == 0) {
        origin = i;
      }
    }
    ck_assert_int_ge(origin, 0);
    ck_assert_int_eq(got[k].node, ring_next(origin, up));
    ck_assert_uint_eq(got[k].ev.hops, 1);
  }
  ck_assert_uint_eq(gsum().routes_dropped, 0);
}
END_TEST

/* A lone member: no neighbour to send to, and every message stops at
 * itself: delivered locally (hops 0) in nearest mode or to its own
 * address, dropped otherwise. */
START_TEST(test_local) {
  sc_ring_addr t;
  members(1, "rt");
  ck_assert_int_eq(sc_node_route_neighbor(nd(0), "rt", SC_ROUTE_UP,
                                          (const uint8_t *)"x", 1, tn_now(net)),
                   SC_ERR_NOT_FOUND);
  ck_assert_int_eq(route(0, addr_of(0), "self"), 0);
  ck_assert_int_eq(ngot, 1);
  ck_assert_int_eq(got[0].node, 0);
  ck_assert_uint_eq(got[0].ev.hops, 0);
  ck_assert_mem_eq(got[0].data, "self", 4);
  random_addr(&t);
  ck_assert_int_eq(route(0, &t, "far"), 0);
  ck_assert_int_eq(ngot, 1);
  ck_assert_uint_eq(gstats(0).routes_dropped, 1);
  ck_assert_int_eq(sc_node_set_receive_mode(nd(0), "rt", SC_RECEIVE_NEAREST),
                   0);
  ck_assert_int_eq(route(0, &t, "far"), 0);
  ck_assert_int_eq(ngot, 2);
  ck_assert_uint_eq(got[1].ev.hops, 0);
  ck_assert_uint_eq(gstats(0).routes_sent, 3);
  ck_assert_uint_eq(gstats(0).routes_received, 2);
  ck_assert_uint_eq(gstats(0).routes_forwarded, 0);
  ck_assert_int_eq(sc_node_set_receive_mode(nd(0), "rt", 2),
                   SC_ERR_INVALID_ARG);
}
END_TEST

/* Finds members a -> b -> c with c the target, b linked to both, and b
 * nearer c than a. */
static void chain(int *a, int *b, int c) {
  int i, j;
  for (j = 0; j < nnodes; j++) {
    if (j == c || !linked(j, c)) {
      continue;
    }
    for (i = 0; i < nnodes; i++) {
      if (i != c && i != j && linked(i, j) &&
          sc_ring_closer(addr_of(c), addr_of(j), addr_of(i))) {
        *a = i;
        *b = j;
        return;
      }
    }
  }
  ck_abort_msg("no chain");
}

/* A message that has crossed 32 links is not handed on; one that has
 * crossed 31 is, once. */
START_TEST(test_hop_limit) {
  int a, b, c = 3;
  sc_route_msg m;
  members(24, "rt");
  chain(&a, &b, c);
  m = msg_to(a, addr_of(c), SC_ROUTE_HOPS_MAX - 1);
  send_msg(a, b, &m);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(ngot, 1);
  ck_assert_int_eq(got[0].node, c);
  ck_assert_uint_eq(got[0].ev.hops, SC_ROUTE_HOPS_MAX);
  ck_assert_uint_eq(gstats(b).routes_forwarded, 1);
  m.hops = SC_ROUTE_HOPS_MAX;
  send_msg(a, b, &m);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(ngot, 1);
  ck_assert_uint_eq(gstats(b).routes_dropped, 1);
  ck_assert_uint_eq(gstats(b).routes_forwarded, 1);
}
END_TEST

/* A hop that does not bring a message nearer its target (misrouted, or
 * forged to go round in circles) ends it. */
START_TEST(test_not_nearer) {
  int a, b, c = 3;
  sc_route_msg m;
  members(24, "rt");
  chain(&a, &b, c);
  /* b sends a a message for c: a is farther from c than b. */
  m = msg_to(b, addr_of(c), 1);
  send_msg(b, a, &m);
  /* A message for a neighbour that names another member than b. */
  m = msg_to(a, addr_of(c), 1);
  m.flags = SC_ROUTE_F_NEIGHBOR;
  send_msg(a, b, &m);
  /* The control: a message for b itself, from a, is taken. */
  m = msg_to(b, addr_of(b), 1);
  send_msg(a, b, &m);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(ngot, 1);
  ck_assert_int_eq(got[0].node, b);
  ck_assert_uint_eq(gstats(a).routes_dropped, 1);
  ck_assert_uint_eq(gstats(b).routes_dropped, 1);
  ck_assert_uint_eq(gstats(a).routes_forwarded, 0);
  ck_assert_uint_eq(gsum().routes_forwarded, 0);
}
END_TEST

/* A ROUTE from a node that is not a member of the group (no member link)
 * is dropped and counted. */
START_TEST(test_not_member) {
  int pair[2] = {3, 0};
  sc_route_msg m;
  members(3, "rt");
  ck_assert_int_eq(tn_add(net, "10.0.9.1:4433", NULL, NULL), 3);
  ck_assert_int_eq(tn_connect(net, 3, 0), 0);
  ck_assert(tn_run_until(net, tn_pair_up, pair, 5 * SC_SEC));
  m = msg_to(0, addr_of(0), 1);
  memcpy(m.origin, nd(3)->peer_id, SC_PEER_ID_LEN);
  send_msg(3, 0, &m);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(ngot, 0);
  ck_assert_uint_eq(gstats(0).routes_dropped, 1);
  ck_assert_uint_eq(gstats(0).routes_received, 0);
}
END_TEST

/* A group whose spec leaves routing out refuses it, locally and from the
 * network. */
START_TEST(test_routing_off) {
  static const char *spec = "quiet?features=multicast,posting";
  sc_route_msg m;
  members(3, spec);
  ck_assert_int_eq(sc_node_route(nd(1), spec, addr_of(0)->b,
                                 (const uint8_t *)"x", 1, tn_now(net)),
                   SC_ERR_STATE);
  ck_assert_int_eq(sc_node_route_neighbor(nd(1), spec, SC_ROUTE_UP,
                                          (const uint8_t *)"x", 1, tn_now(net)),
                   SC_ERR_STATE);
  ck_assert_int_eq(sc_node_set_receive_mode(nd(1), spec, SC_RECEIVE_NEAREST),
                   SC_ERR_STATE);
  ck_assert_int_eq(sc_node_route(nd(1), "other", addr_of(0)->b,
                                 (const uint8_t *)"x", 1, tn_now(net)),
                   SC_ERR_NOT_FOUND);
  ck_assert_int_eq(sc_node_route(nd(1), "bad?x=1", addr_of(0)->b,
                                 (const uint8_t *)"x", 1, tn_now(net)),
                   SC_ERR_MALFORMED);
  /* Node 1 sends node 0 a ROUTE for it anyway, on their member link. */
  m = msg_to(1, addr_of(0), 1);
  send_msg(1, 0, &m);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(ngot, 0);
  ck_assert_uint_eq(gstats(0).routes_refused, 1);
  ck_assert_uint_eq(gstats(0).routes_received, 0);
}
END_TEST

/* A ROUTE that does not parse is dropped and counted as malformed. */
START_TEST(test_malformed) {
  uint8_t body[SC_ROUTE_FIXED_LEN + 8];
  sc_route_msg m;
  sc_wr w;
  uint64_t before;
  members(3, "rt");
  before = tn_stats(net, 0).dropped[SC_DROP_MALFORMED];
  m = msg_to(1, addr_of(0), 1);
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_route_write(&w, &m), 0);
  body[96] = 0; /* no hops crossed */
  send_raw(1, 0, body, w.len);
  body[96] = 1;
  body[97] = 0x40; /* a flag nobody knows */
  send_raw(1, 0, body, w.len);
  send_raw(1, 0, body, 50); /* cut short */
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(ngot, 0);
  ck_assert_uint_eq(tn_stats(net, 0).dropped[SC_DROP_MALFORMED] - before, 3);
  /* The same message whole is taken. */
  body[97] = 0;
  send_raw(1, 0, body, w.len);
  tn_run(net, 1 * SC_SEC);
  ck_assert_int_eq(ngot, 1);
}
END_TEST

/* A member link that brings more than its budget: the burst (400) is
 * taken, the rest dropped and counted; another link's budget is its own. */
START_TEST(test_budget) {
  int i, k = 600, other = -1, nb = 0;
  members(6, "rt");
  for (i = 2; i < nnodes && other < 0; i++) {
    if (linked(i, 1)) {
      other = i;
    }
  }
  ck_assert(linked(0, 1));
  ck_assert_int_ge(other, 0);
  for (i = 0; i < k; i++) {
    ck_assert_int_eq(route(0, addr_of(1), "flood"), 0);
  }
  for (i = 0; i < 50; i++) {
    ck_assert_int_eq(route(other, addr_of(1), "calm"), 0);
  }
  tn_run(net, 1 * SC_SEC);
  for (i = 0; i < ngot && i < GOT_MAX; i++) {
    ck_assert_int_eq(got[i].node, 1);
    nb += memcmp(got[i].data, "calm", 4) == 0;
  }
  if (getenv("ROUTE_DEBUG") != NULL) {
    fprintf(stderr, "budget: %d of %d taken\n", ngot - nb, k);
  }
  ck_assert_int_eq(nb, 50);
  /* A few tokens come back while the flood is on its way. */
  ck_assert_int_ge(ngot - nb, 400);
  ck_assert_int_le(ngot - nb, 430);
  ck_assert_uint_eq(gstats(1).routes_dropped, (uint64_t)(k + 50 - ngot));
}
END_TEST

static Suite *route_suite(void) {
  Suite *s = suite_create("route");
  TCase *tc = tcase_create("codec");
  tcase_add_test(tc, test_route_round_trip);
  tcase_add_test(tc, test_route_refused);
  tcase_add_test(tc, test_route_random);
  suite_add_tcase(s, tc);
  tc = tcase_create("routing");
  tcase_add_checked_fixture(tc, net_setup, net_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_nearest);
  tcase_add_test(tc, test_exact);
  tcase_add_test(tc, test_neighbor);
  tcase_add_test(tc, test_local);
  tcase_add_test(tc, test_hop_limit);
  tcase_add_test(tc, test_not_nearer);
  tcase_add_test(tc, test_not_member);
  tcase_add_test(tc, test_routing_off);
  tcase_add_test(tc, test_malformed);
  tcase_add_test(tc, test_budget);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(route_suite()); }
