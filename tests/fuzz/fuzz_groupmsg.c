/*
 * fuzz_groupmsg.c: group messaging (doc/protocol.md §14) fed hostile
 * messages from a member.
 *
 * Three members of the group "fuzz", every feature on, their member links
 * up, each in nearest receive mode and wanting objects 0..63. Node 1 is
 * the attacker; node 0 is checked. The input is a list of records
 * (fuzz_common.h). By kind:
 *   0  a reliable message from node 1 to node 0 of a group messaging kind
 *      (data[0] picks: POST, IHAVE, IWANT, ROUTE, HAVE, WANT, FETCH,
 *      OBJECT, NOTHAVE), its body the group's ID and then the rest of the
 *      bytes, so that decoding passes the group and reaches the rules
 *   1  the same with the bytes as the whole body
 *   2  node data[0] % 3 acts through the API with the rest of the bytes:
 *      by data[0] / 3 % 4, it posts them, routes them to an address made
 *      of them, writes them as object data[1] % 64, or removes that object
 *   3  virtual time passes (data[0] x 10 ms)
 * Node 0 must neither crash nor leak (the sanitizer build checks), and
 * what it hands its host must be of the group and within the limits.
 * (Posts are not authenticated, §14.1: node 1 may post in any name, so
 * what a post says cannot be checked against its origin.)
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sc_macro.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_postmsg.h"
#include "sc_replmsg.h"
#include "sc_routemsg.h"

#define GROUP "fuzz"

static const uint64_t kinds[] = {SC_MSG_POST,  SC_MSG_IHAVE,  SC_MSG_IWANT,
                                 SC_MSG_ROUTE, SC_MSG_HAVE,   SC_MSG_WANT,
                                 SC_MSG_FETCH, SC_MSG_OBJECT, SC_MSG_NOTHAVE};

static uint8_t group_id[SC_GROUP_ID_LEN];

static void check(int ok) {
  if (!ok) {
    abort();
  }
}

static void on_post(void *arg, int node, const sc_post_event *ev) {
  (void)arg;
  (void)node;
  check(ev->len <= SC_POST_MAX_LEN && (ev->len == 0 || ev->data != NULL));
  check(memcmp(ev->group_id, group_id, SC_GROUP_ID_LEN) == 0);
}

static void send_msg(tn *net, uint64_t kind, const uint8_t *body, size_t len) {
  sc_node *n1 = tn_get(net, 1)->node;
  sc_session *s =
      sc_node_session_with(n1, sc_node_peer_id(tn_get(net, 0)->node));
  if (s != NULL && sc_session_is_usable(s)) {
    (void)sc_session_send_msg(s, kind, body, SC_MIN(len, (size_t)SC_MSG_MAX),
                              tn_now(net));
    sc_node_refresh_expiry(n1);
  }
}

static void on_routed(void *arg, int node, const sc_route_event *ev) {
  (void)arg;
  (void)node;
  check(ev->len <= SC_ROUTE_MAX_LEN && ev->hops <= SC_ROUTE_HOPS_MAX);
  check(memcmp(ev->group_id, group_id, SC_GROUP_ID_LEN) == 0);
}

static void on_object(void *arg, int node, const sc_object_event *ev) {
  (void)arg;
  (void)node;
  check(ev->len <= SC_OBJECT_MAX_LEN);
  check(memcmp(ev->group_id, group_id, SC_GROUP_ID_LEN) == 0);
}

/* Node |i| acts through the API (record kind 2). */
static void act(tn *net, int i, unsigned what, const uint8_t *data,
                size_t len) {
  sc_node *n = tn_get(net, i)->node;
  uint8_t target[SC_GROUP_ADDR_BYTES] = {0};
  uint64_t index = len > 0 ? data[0] % 64 : 0;
  int rv;
  switch (what % 4) {
  case 0:
    rv = sc_node_post(n, GROUP, data, len, tn_now(net));
    break;
  case 1:
    memcpy(target, data, SC_MIN(len, sizeof(target)));
    rv = sc_node_route(n, GROUP, target, data, SC_MIN(len, SC_ROUTE_MAX_LEN),
                       tn_now(net));
    break;
  case 2:
    rv = sc_node_object_write(n, GROUP, index, data, len, tn_now(net));
    break;
  default:
    rv = sc_node_object_remove(n, GROUP, index, tn_now(net));
    rv = rv == SC_ERR_NOT_FOUND ? 0 : rv;
    break;
  }
  check(rv == 0 || rv == SC_ERR_INVALID_ARG || rv == SC_ERR_NOMEM ||
        rv == SC_ERR_BUSY || rv == SC_ERR_LIMIT);
}

static void record(tn *net, const fuzz_rec *r) {
  uint8_t body[SC_MSG_MAX];
  const sc_mgroup *g = tn_get(net, 0)->node->mesh.groups[0];
  size_t n;
  if (r->kind % 4 < 3 && r->len == 0) {
    return;
  }
  switch (r->kind % 4) {
  case 0:
    memcpy(body, g->spec.id, SC_GROUP_ID_LEN);
    n = SC_MIN(r->len - 1, sizeof(body) - SC_GROUP_ID_LEN);
    memcpy(body + SC_GROUP_ID_LEN, r->data + 1, n);
    send_msg(net, kinds[r->data[0] % SC_ARRAY_LEN(kinds)], body,
             SC_GROUP_ID_LEN + n);
    break;
  case 1:
    send_msg(net, kinds[r->data[0] % SC_ARRAY_LEN(kinds)], r->data + 1,
             r->len - 1);
    break;
  case 2:
    act(net, r->data[0] % 3, r->data[0] / 3u, r->data + 1, r->len - 1);
    break;
  default:
    tn_run(net, (r->len > 0 ? r->data[0] : 1u) * 10 * SC_MS);
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tn *net;
  fuzz_rec r;
  int steps = 0, i;
  check(sodium_init() >= 0);
  net = tn_new(5);
  tn_set_post(net, on_post, NULL);
  tn_set_routed(net, on_routed, NULL);
  tn_set_object(net, on_object, NULL);
  check(tn_group(net, 3, GROUP) == 0);
  for (i = 0; i < 3; i++) {
    sc_node *n = tn_get(net, i)->node;
    check(sc_node_set_receive_mode(n, GROUP, SC_RECEIVE_NEAREST) == 0);
    check(sc_node_object_want(n, GROUP, 0, 64, 1, 0) == 0);
  }
  tn_run(net, 2 * SC_SEC);
  check(tn_get(net, 0)->node->mesh.ngroups == 1);
  memcpy(group_id, tn_get(net, 0)->node->mesh.groups[0]->spec.id,
         SC_GROUP_ID_LEN);
  while (steps++ < 64 && fuzz_next(&data, &size, &r)) {
    record(net, &r);
  }
  tn_run(net, 2 * SC_SEC);
  tn_del(net);
  return 0;
}

/* ---- seeds ----------------------------------------------------------------
 */

/* Appends a kind 0 record: selector |k| and the body in |w| after its
 * group ID. */
static void put_body(uint8_t *buf, size_t *len, size_t cap, uint8_t k,
                     uint8_t *body, const sc_wr *w) {
  body[SC_GROUP_ID_LEN - 1] = k;
  fuzz_put_rec(buf, len, cap, 0, body + SC_GROUP_ID_LEN - 1,
               w->len - SC_GROUP_ID_LEN + 1);
}

/* A ROUTE, HAVE, WANT, FETCH, OBJECT and NOTHAVE that parse, then nodes
 * routing, writing and removing through the API. */
static void route_repl_seed(fuzz_emit_fn emit, void *arg) {
  uint8_t buf[4096], body[SC_MSG_MAX], tick = 30;
  size_t len = 0, taken;
  sc_route_msg rm;
  sc_repl_run run = {3, 5};
  sc_repl_fetch_msg fm;
  sc_repl_object_msg om;
  sc_wr w;
  memset(&rm, 0, sizeof(rm));
  memset(rm.target.b, 0x80, SC_RING_LEN);
  rm.hops = 1;
  rm.payload = (const uint8_t *)"routed";
  rm.len = 6;
  sc_wr_init(&w, body, sizeof(body));
  check(sc_route_write(&w, &rm) == 0);
  put_body(buf, &len, sizeof(buf), 3, body, &w);
  sc_wr_init(&w, body, sizeof(body));
  check(sc_repl_runs_write(&w, body, 0, &run, 1, &taken) == 0);
  put_body(buf, &len, sizeof(buf), 4, body, &w); /* HAVE */
  put_body(buf, &len, sizeof(buf), 5, body, &w); /* WANT */
  memset(&fm, 0, sizeof(fm));
  fm.n = 2;
  fm.index[0] = 3;
  fm.index[1] = 7;
  sc_wr_init(&w, body, sizeof(body));
  check(sc_repl_fetch_write(&w, &fm) == 0);
  put_body(buf, &len, sizeof(buf), 6, body, &w);
  memset(&om, 0, sizeof(om));
  om.index = 5;
  om.data = (const uint8_t *)"object";
  om.len = 6;
  sc_wr_init(&w, body, sizeof(body));
  check(sc_repl_object_write(&w, &om, 1) == 0);
  put_body(buf, &len, sizeof(buf), 7, body, &w);
  sc_wr_init(&w, body, sizeof(body));
  check(sc_repl_object_write(&w, &om, 0) == 0);
  put_body(buf, &len, sizeof(buf), 8, body, &w);
  fuzz_put_rec(buf, &len, sizeof(buf), 3, &tick, 1);
  /* data[0]: node = % 3, act = / 3 % 4 (post, route, write, remove) */
  fuzz_put_rec(buf, &len, sizeof(buf), 2, (const uint8_t *)"\3to here", 8);
  fuzz_put_rec(buf, &len, sizeof(buf), 2, (const uint8_t *)"\10\5obj", 5);
  fuzz_put_rec(buf, &len, sizeof(buf), 3, &tick, 1);
  fuzz_put_rec(buf, &len, sizeof(buf), 2, (const uint8_t *)"\11\5", 2);
  fuzz_put_rec(buf, &len, sizeof(buf), 3, &tick, 1);
  emit(arg, buf, len);
}

void fuzz_seeds(fuzz_emit_fn emit, void *arg) {
  uint8_t buf[4096], body[SC_MSG_MAX], tick = 30;
  size_t len = 0;
  sc_post_msg m;
  sc_ihave_msg ih;
  sc_wr w;
  /* A POST in node 2's name with an interval, then an IHAVE naming it and
   * an IWANT for it (bodies after the group, kind 0 records). */
  memset(&m, 0, sizeof(m));
  memset(m.id.origin, 0x42, SC_PEER_ID_LEN);
  m.id.incarnation = 7;
  m.id.number = 3;
  memset(m.hi.b, 0xff, SC_RING_LEN);
  m.payload = (const uint8_t *)"hello";
  m.len = 5;
  sc_wr_init(&w, body, sizeof(body));
  check(sc_post_write(&w, &m) == 0);
  body[SC_GROUP_ID_LEN - 1] = 0; /* kinds[0]: POST */
  fuzz_put_rec(buf, &len, sizeof(buf), 0, body + SC_GROUP_ID_LEN - 1,
               w.len - SC_GROUP_ID_LEN + 1);
  memset(&ih, 0, sizeof(ih));
  ih.n = 2;
  ih.ids[0] = m.id;
  ih.ids[1] = m.id;
  ih.ids[1].number = 9;
  sc_wr_init(&w, body, sizeof(body));
  check(sc_ihave_write(&w, &ih) == 0);
  body[SC_GROUP_ID_LEN - 1] = 1; /* IHAVE */
  fuzz_put_rec(buf, &len, sizeof(buf), 0, body + SC_GROUP_ID_LEN - 1,
               w.len - SC_GROUP_ID_LEN + 1);
  sc_wr_init(&w, body, sizeof(body));
  check(sc_post_id_write(&w, &m.id) == 0);
  body[SC_GROUP_ID_LEN - 1] = 2; /* IWANT */
  fuzz_put_rec(buf, &len, sizeof(buf), 0, body + SC_GROUP_ID_LEN - 1,
               w.len - SC_GROUP_ID_LEN + 1);
  fuzz_put_rec(buf, &len, sizeof(buf), 3, &tick, 1);
  emit(arg, buf, len);
  /* Posts from each node, and a garbage body of each kind. */
  len = 0;
  fuzz_put_rec(buf, &len, sizeof(buf), 2, (const uint8_t *)"\0from 0", 7);
  fuzz_put_rec(buf, &len, sizeof(buf), 2, (const uint8_t *)"\2from 2", 7);
  fuzz_put_rec(buf, &len, sizeof(buf), 1, (const uint8_t *)"\0junk", 5);
  fuzz_put_rec(buf, &len, sizeof(buf), 1, (const uint8_t *)"\1junk", 5);
  fuzz_put_rec(buf, &len, sizeof(buf), 1, (const uint8_t *)"\2junk", 5);
  fuzz_put_rec(buf, &len, sizeof(buf), 3, &tick, 1);
  emit(arg, buf, len);
  route_repl_seed(emit, arg);
}
