/*
 * check_repl.c: object replication (doc/protocol.md §14.3): the codecs of
 * HAVE, WANT, FETCH, OBJECT and NOTHAVE (src/core/sc_replmsg.c), the sets
 * (src/core/sc_replset.c), and replication among real cores on the
 * in-memory network (src/core/sc_repl.c): objects reach every member that
 * wants them and no others, a crashed holder is replaced by another,
 * lowest-first and rarest-first choose as they say, a group without
 * replication refuses it, bad messages are dropped and counted, and the
 * store is bounded.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_repl.h"
#include "sc_replmsg.h"
#include "sc_replset.h"
#include "testnet.h"

static const uint8_t gid[SC_GROUP_ID_LEN] = {7, 7, 7};

START_TEST(test_runs_round_trip) {
  sc_repl_run run[3] = {{0, 1}, {5, 100}, {SC_VARINT_MAX - 9, 10}};
  static sc_repl_runs_msg m;
  uint8_t buf[SC_MSG_MAX];
  sc_wr w;
  size_t taken, n;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_repl_runs_write(&w, gid, SC_REPL_ADD, run, 3, &taken), 0);
  ck_assert_uint_eq(taken, 3);
  /* 32 + op + count + (1+1) + (1+2) + (8+1) */
  ck_assert_uint_eq(w.len, 32 + 1 + 1 + 2 + 3 + 9);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, w.len), 0);
  ck_assert_uint_eq(m.op, SC_REPL_ADD);
  ck_assert_uint_eq(m.n, 3);
  ck_assert_mem_eq(m.group_id, gid, SC_GROUP_ID_LEN);
  ck_assert_uint_eq(m.run[1].first, 5);
  ck_assert_uint_eq(m.run[1].len, 100);
  ck_assert_uint_eq(m.run[2].first, SC_VARINT_MAX - 9);
  /* Truncations and a trailing byte are malformed. */
  for (n = 0; n < w.len; n++) {
    ck_assert_int_eq(sc_repl_runs_read(&m, buf, n), SC_ERR_MALFORMED);
  }
  buf[w.len] = 0;
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, w.len + 1), SC_ERR_MALFORMED);
  /* An empty SET is a set. */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_repl_runs_write(&w, gid, SC_REPL_SET, run, 0, &taken), 0);
  ck_assert_uint_eq(taken, 0);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, w.len), 0);
  ck_assert_uint_eq(m.n, 0);
}
END_TEST

/* A long list goes over several messages, each within SC_MSG_MAX. */
START_TEST(test_runs_split) {
  static sc_repl_run run[2000];
  static sc_repl_runs_msg m;
  uint8_t buf[SC_MSG_MAX];
  size_t i, at = 0, msgs = 0, taken;
  for (i = 0; i < 2000; i++) {
    run[i].first = 1000000 + 3 * i; /* 4-byte varints */
    run[i].len = 2;
  }
  while (at < 2000) {
    sc_wr w;
    sc_wr_init(&w, buf, sizeof(buf));
    ck_assert_int_eq(
        sc_repl_runs_write(&w, gid, SC_REPL_ADD, run + at, 2000 - at, &taken),
        0);
    ck_assert_uint_gt(taken, 0);
    ck_assert_uint_le(w.len, SC_MSG_MAX);
    ck_assert_int_eq(sc_repl_runs_read(&m, buf, w.len), 0);
    ck_assert_uint_eq(m.n, taken);
    ck_assert_uint_eq(m.run[0].first, run[at].first);
    at += taken;
    msgs++;
  }
  /* 5 bytes a run: about 198 a message. */
  ck_assert_uint_eq(msgs, 11);
}
END_TEST

/* Writes a HAVE body by hand: |n| pairs, no checks. */
static size_t raw_runs(uint8_t *buf, unsigned op, uint64_t count,
                       const uint64_t *pairs, size_t n) {
  sc_wr w;
  size_t i;
  sc_wr_init(&w, buf, SC_MSG_MAX);
  sc_wr_bytes(&w, gid, SC_GROUP_ID_LEN);
  sc_wr_u8(&w, (uint8_t)op);
  sc_wr_varint(&w, count);
  for (i = 0; i < 2 * n; i++) {
    sc_wr_varint(&w, pairs[i]);
  }
  return w.len;
}

START_TEST(test_runs_strict) {
  static const uint64_t unsorted[] = {10, 2, 1, 2};
  static const uint64_t overlap[] = {1, 5, 4, 2};
  static const uint64_t touching[] = {1, 5, 6, 2};
  static const uint64_t gap[] = {1, 5, 7, 2};
  static const uint64_t empty[] = {1, 0};
  static const uint64_t wrapping[] = {SC_VARINT_MAX, 2};
  static const uint64_t last[] = {SC_VARINT_MAX, 1};
  static sc_repl_runs_msg m;
  uint8_t buf[SC_MSG_MAX];
  sc_repl_run bad[2] = {{10, 2}, {1, 2}};
  sc_wr w;
  size_t len, taken;
  len = raw_runs(buf, SC_REPL_ADD, 2, unsorted, 2);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  len = raw_runs(buf, SC_REPL_ADD, 2, overlap, 2);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  len = raw_runs(buf, SC_REPL_ADD, 2, touching, 2);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  len = raw_runs(buf, SC_REPL_ADD, 2, gap, 2);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), 0);
  len = raw_runs(buf, SC_REPL_ADD, 1, empty, 1);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  len = raw_runs(buf, SC_REPL_ADD, 1, wrapping, 1);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  len = raw_runs(buf, SC_REPL_ADD, 1, last, 1);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), 0);
  /* A bad op, a count over the limit or over what the body holds. */
  len = raw_runs(buf, 3, 2, gap, 2);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  len = raw_runs(buf, SC_REPL_ADD, SC_REPL_RUNS_MAX + 1, gap, 2);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  len = raw_runs(buf, SC_REPL_ADD, 3, gap, 2);
  ck_assert_int_eq(sc_repl_runs_read(&m, buf, len), SC_ERR_MALFORMED);
  /* Writers refuse what readers would. */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_repl_runs_write(&w, gid, SC_REPL_ADD, bad, 2, &taken),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_repl_runs_write(&w, gid, 3, bad, 1, &taken),
                   SC_ERR_INVALID_ARG);
  ck_assert_uint_eq(w.len, 0);
  sc_wr_init(&w, buf, SC_GROUP_ID_LEN + 3);
  ck_assert_int_eq(sc_repl_runs_write(&w, gid, SC_REPL_ADD, bad, 1, &taken),
                   SC_ERR_BUFFER);
}
END_TEST

START_TEST(test_fetch_object_codec) {
  sc_repl_fetch_msg f, f2;
  sc_repl_object_msg o, o2;
  uint8_t buf[SC_MSG_MAX + 8], data[SC_REPL_OBJECT_MAX + 1];
  sc_wr w;
  size_t i, len;
  memset(&f, 0, sizeof(f));
  memcpy(f.group_id, gid, SC_GROUP_ID_LEN);
  for (i = 0; i < SC_REPL_FETCH_MAX; i++) {
    f.index[i] = 100 * i;
  }
  f.n = SC_REPL_FETCH_MAX;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_repl_fetch_write(&w, &f), 0);
  ck_assert_int_eq(sc_repl_fetch_read(&f2, buf, w.len), 0);
  ck_assert_uint_eq(f2.n, SC_REPL_FETCH_MAX);
  ck_assert_uint_eq(f2.index[15], 1500);
  for (len = 0; len < w.len; len++) {
    ck_assert_int_eq(sc_repl_fetch_read(&f2, buf, len), SC_ERR_MALFORMED);
  }
  f.index[3] = f.index[2]; /* not ascending */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_repl_fetch_write(&w, &f), SC_ERR_INVALID_ARG);
  f.index[3] = 300;
  f.n = SC_REPL_FETCH_MAX + 1;
  ck_assert_int_eq(sc_repl_fetch_write(&w, &f), SC_ERR_INVALID_ARG);
  f.n = 0;
  ck_assert_int_eq(sc_repl_fetch_write(&w, &f), SC_ERR_INVALID_ARG);
  /* Hand-made: a count of 17, a count of 0, indices out of order. */
  buf[SC_GROUP_ID_LEN] = 17;
  ck_assert_int_eq(sc_repl_fetch_read(&f2, buf, SC_GROUP_ID_LEN + 18),
                   SC_ERR_MALFORMED);
  buf[SC_GROUP_ID_LEN] = 0;
  ck_assert_int_eq(sc_repl_fetch_read(&f2, buf, SC_GROUP_ID_LEN + 1),
                   SC_ERR_MALFORMED);
  buf[SC_GROUP_ID_LEN] = 2;
  buf[SC_GROUP_ID_LEN + 1] = 5;
  buf[SC_GROUP_ID_LEN + 2] = 5;
  ck_assert_int_eq(sc_repl_fetch_read(&f2, buf, SC_GROUP_ID_LEN + 3),
                   SC_ERR_MALFORMED);
  /* OBJECT: up to 900 bytes; NOTHAVE: a reason, 0 or 1. */
  memset(data, 0xab, sizeof(data));
  memcpy(o.group_id, gid, SC_GROUP_ID_LEN);
  o.index = 70000;
  o.data = data;
  o.len = SC_REPL_OBJECT_MAX;
  o.reason = 0;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_repl_object_write(&w, &o, 1), 0);
  ck_assert_uint_eq(w.len, 32 + 4 + SC_REPL_OBJECT_MAX);
  ck_assert_int_eq(sc_repl_object_read(&o2, buf, w.len, 1), 0);
  ck_assert_uint_eq(o2.index, 70000);
  ck_assert_uint_eq(o2.len, SC_REPL_OBJECT_MAX);
  ck_assert_mem_eq(o2.data, data, SC_REPL_OBJECT_MAX);
  buf[w.len] = 0;
  ck_assert_int_eq(sc_repl_object_read(&o2, buf, w.len + 1, 1),
                   SC_ERR_MALFORMED);
  o.len = SC_REPL_OBJECT_MAX + 1;
  ck_assert_int_eq(sc_repl_object_write(&w, &o, 1), SC_ERR_INVALID_ARG);
  o.reason = SC_REPL_BUSY;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_repl_object_write(&w, &o, 0), 0);
  ck_assert_uint_eq(w.len, 32 + 4 + 1);
  ck_assert_int_eq(sc_repl_object_read(&o2, buf, w.len, 0), 0);
  ck_assert_uint_eq(o2.reason, SC_REPL_BUSY);
  buf[w.len - 1] = 2;
  ck_assert_int_eq(sc_repl_object_read(&o2, buf, w.len, 0), SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_repl_object_read(&o2, buf, w.len - 1, 0),
                   SC_ERR_MALFORMED);
}
END_TEST

START_TEST(test_sets) {
  const sc_mem *m = sc_mem_default();
  sc_rset r = {0};
  sc_bset b = {0};
  sc_cset c = {0};
  size_t pos = 0;
  ck_assert_int_eq(sc_rset_add(m, &r, 10, 20), 0);
  ck_assert_int_eq(sc_rset_add(m, &r, 30, 40), 0);
  ck_assert_int_eq(sc_rset_add(m, &r, 20, 30), 0); /* joins both */
  ck_assert_uint_eq(r.n, 1);
  ck_assert_int_eq(sc_rset_remove(m, &r, 15, 16), 0); /* splits */
  ck_assert_uint_eq(r.n, 2);
  ck_assert(sc_rset_has(&r, 14) && !sc_rset_has(&r, 15) &&
            sc_rset_has(&r, 16) && !sc_rset_has(&r, 40));
  ck_assert_int_eq(sc_rset_remove(m, &r, 0, 12), 0);
  ck_assert_uint_eq(r.r[0].lo, 12);
  /* {[12, 15), [16, 40)} */
  ck_assert_uint_eq(sc_rset_mask(&r, 0, &pos),
                    (((uint64_t)1 << 15) - (1u << 12)) |
                        (((uint64_t)1 << 40) - (1u << 16)));
  ck_assert_int_eq(sc_rset_remove(m, &r, 0, 100), 0);
  ck_assert_uint_eq(r.n, 0);
  ck_assert_int_eq(sc_rset_add(m, &r, 0, SC_VARINT_MAX + 1), 0);
  pos = 0;
  ck_assert_uint_eq(sc_rset_mask(&r, 1000, &pos), ~(uint64_t)0);
  sc_rset_free(m, &r);
  ck_assert_int_eq(sc_bset_add(m, &b, 5), 1);
  ck_assert_int_eq(sc_bset_add(m, &b, 5), 0);
  ck_assert_int_eq(sc_bset_add(m, &b, 700), 1);
  ck_assert_uint_eq(b.count, 2);
  ck_assert_uint_eq(b.n, 2);
  ck_assert_int_eq(sc_bset_del(&b, 700), 1);
  ck_assert_uint_eq(b.n, 1);
  ck_assert(sc_bset_has(&b, 5) && !sc_bset_has(&b, 700));
  sc_bset_free(m, &b);
  /* Counts: three links over one block. */
  ck_assert_int_eq(sc_cset_inc(m, &c, 3, 0xf), 0);
  ck_assert_int_eq(sc_cset_inc(m, &c, 3, 0x3), 0);
  ck_assert_int_eq(sc_cset_inc(m, &c, 3, 0x1), 0);
  ck_assert_uint_eq(sc_cword_count(&c.w[0], 0), 3);
  ck_assert_uint_eq(sc_cword_count(&c.w[0], 1), 2);
  ck_assert_uint_eq(sc_cword_count(&c.w[0], 3), 1);
  ck_assert_uint_eq(sc_cword_count(&c.w[0], 4), 0);
  sc_cset_dec(&c, 3, 0xf);
  sc_cset_dec(&c, 3, 0x3);
  ck_assert_uint_eq(sc_cword_nonzero(&c.w[0]), 1);
  sc_cset_dec(&c, 3, 0x1);
  ck_assert_uint_eq(c.n, 0);
  sc_cset_free(m, &c);
}
END_TEST

/* ---- replication among cores
 * --------------------------------------------------
 */

#define N_MAX 32
#define IDX_MAX 1024

static tn *net;
static const char *spec = "files";
/* got[i][x]: times node i was handed object x; bad: wrong bytes. */
static int got[N_MAX][IDX_MAX], bad;
/* order[i]: the indices node i got, in order, and from whom. */
static uint64_t order[N_MAX][IDX_MAX];
static int from_node[N_MAX][IDX_MAX];
static int norder[N_MAX];
static uint8_t ids[N_MAX][SC_PEER_ID_LEN];
static int nnodes;

static sc_node *nd(int i) { return tn_get(net, i)->node; }

/* The bytes of object |x|: its length varies with it. */
static size_t obj_bytes(uint64_t x, uint8_t *out) {
  size_t len = (size_t)(x * 37 % (SC_OBJECT_MAX_LEN + 1)), i;
  for (i = 0; i < len; i++) {
    out[i] = (uint8_t)(x * 131 + i);
  }
  return len;
}

static void on_object(void *arg, int node, const sc_object_event *ev) {
  uint8_t want[SC_OBJECT_MAX_LEN];
  size_t len;
  int j;
  (void)arg;
  if (ev->index >= IDX_MAX) {
    bad++;
    return;
  }
  len = obj_bytes(ev->index, want);
  if (ev->len != len || (len > 0 && memcmp(ev->data, want, len) != 0)) {
    bad++;
  }
  got[node][ev->index]++;
  order[node][norder[node]] = ev->index;
  from_node[node][norder[node]] = -1;
  for (j = 0; j < nnodes; j++) {
    if (memcmp(ev->from, ids[j], SC_PEER_ID_LEN) == 0) {
      from_node[node][norder[node]] = j;
    }
  }
  norder[node]++;
}

static void net_setup(void) {
  net = tn_new(11);
  tn_set_delay(net, 10 * SC_MS);
  tn_set_object(net, on_object, NULL);
  memset(got, 0, sizeof(got));
  memset(norder, 0, sizeof(norder));
  bad = 0;
  nnodes = 0;
  spec = "files";
}

static void net_teardown(void) { tn_del(net); }

static void members(int n, const char *s) {
  int i;
  spec = s;
  ck_assert_int_eq(tn_group(net, n, s), 0);
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

static void write_objects(int i, uint64_t first, uint64_t count) {
  uint64_t x;
  for (x = first; x < first + count; x++) {
    uint8_t buf[SC_OBJECT_MAX_LEN];
    size_t len = obj_bytes(x, buf);
    ck_assert_int_eq(
        sc_node_object_write(nd(i), spec, x, buf, len, tn_now(net)), 0);
  }
}

/* Whether node |i| holds every object first .. first + count - 1 (read
 * back and checked). */
static int holds_all(int i, uint64_t first, uint64_t count) {
  uint64_t x;
  for (x = first; x < first + count; x++) {
    uint8_t buf[SC_OBJECT_MAX_LEN], want[SC_OBJECT_MAX_LEN];
    size_t len = 0, wl = obj_bytes(x, want);
    if (sc_node_object_read(nd(i), spec, x, buf, sizeof(buf), &len) != 0 ||
        len != wl || (wl > 0 && memcmp(buf, want, wl) != 0)) {
      return 0;
    }
  }
  return 1;
}

/* Objects written at one member reach every member that wants them, once
 * each; every byte sent is received. */
START_TEST(test_reach_all) {
  int i, n = 12;
  uint64_t x, sent = 0, recv = 0, fetched = 0, served = 0;
  members(n, "files");
  write_objects(0, 0, 1000);
  for (i = 1; i < n; i++) {
    ck_assert_int_eq(sc_node_set_replication(nd(i), spec, SC_REPL_RAREST_FIRST),
                     0);
    ck_assert_int_eq(sc_node_object_want(nd(i), spec, 0, 1000, 1, tn_now(net)),
                     0);
  }
  for (x = 0; x < 30; x++) {
    tn_run(net, 100 * SC_MS);
    if (getenv("REPL_DEBUG") != NULL) {
      fprintf(stderr, "t+%dms: node 1 %d node 5 %d node 11 %d\n",
              (int)(x + 1) * 100, norder[1], norder[5], norder[11]);
    }
  }
  tn_run(net, 12 * SC_SEC);
  ck_assert_int_eq(bad, 0);
  for (i = 1; i < n; i++) {
    sc_group_stats st = gstats(i);
    ck_assert_msg(holds_all(i, 0, 1000), "node %d incomplete", i);
    for (x = 0; x < 1000; x++) {
      ck_assert_int_eq(got[i][x], 1);
    }
    ck_assert_uint_eq(st.objects_fetched, 1000);
    ck_assert_uint_eq(st.repl_dropped, 0);
    fetched += st.objects_fetched;
  }
  for (i = 0; i < n; i++) {
    sc_group_stats st = gstats(i);
    sent += st.repl_bytes_sent;
    recv += st.repl_bytes_received;
    served += st.objects_served;
  }
  ck_assert_uint_eq(served, fetched);
  ck_assert_uint_gt(sent, 1000 * 11 * 400);
  ck_assert_uint_eq(sent, recv);
  /* Others served too: node 0 did not send every copy. */
  ck_assert_uint_lt(gstats(0).objects_served, fetched);
}
END_TEST

/* A member gets only the indices it wants; one that wants nothing gets
 * nothing and fetches nothing. */
START_TEST(test_want_ranges) {
  int i, n = 5;
  uint64_t x;
  members(n, "files");
  write_objects(0, 0, 100);
  ck_assert_int_eq(sc_node_object_want(nd(1), spec, 10, 10, 1, tn_now(net)), 0);
  ck_assert_int_eq(sc_node_object_want(nd(1), spec, 50, 20, 1, tn_now(net)), 0);
  ck_assert_int_eq(sc_node_object_want(nd(1), spec, 60, 10, 0, tn_now(net)), 0);
  tn_run(net, 5 * SC_SEC);
  for (x = 0; x < 100; x++) {
    int wanted = (x >= 10 && x < 20) || (x >= 50 && x < 60);
    ck_assert_msg(got[1][x] == wanted, "index %d got %d", (int)x, got[1][x]);
  }
  ck_assert_uint_eq(gstats(1).fetches_sent, 20);
  ck_assert_uint_eq(gstats(1).objects_fetched, 20);
  for (i = 2; i < n; i++) {
    ck_assert_uint_eq(gstats(i).fetches_sent, 0);
    ck_assert_int_eq(norder[i], 0);
  }
}
END_TEST

/* Write, read, remove: local, with their errors; a removed object is no
 * longer served. */
START_TEST(test_local_ops) {
  uint8_t buf[SC_OBJECT_MAX_LEN + 1] = {1, 2, 3};
  size_t len = 0;
  uint64_t now;
  members(3, "files");
  now = tn_now(net);
  ck_assert_int_eq(sc_node_object_write(nd(0), spec, 7, buf, 3, now), 0);
  ck_assert_int_eq(sc_node_object_read(nd(0), spec, 7, buf, 2, &len),
                   SC_ERR_BUFFER);
  ck_assert_uint_eq(len, 3);
  memset(buf, 0, 3);
  ck_assert_int_eq(sc_node_object_read(nd(0), spec, 7, buf, 3, &len), 0);
  ck_assert(len == 3 && buf[0] == 1 && buf[2] == 3);
  /* Replacing keeps one object with the new bytes. */
  buf[0] = 9;
  ck_assert_int_eq(sc_node_object_write(nd(0), spec, 7, buf, 1, now), 0);
  ck_assert_int_eq(sc_node_object_read(nd(0), spec, 7, buf, 3, &len), 0);
  ck_assert(len == 1 && buf[0] == 9);
  ck_assert_int_eq(sc_node_object_remove(nd(0), spec, 7, now), 0);
  ck_assert_int_eq(sc_node_object_remove(nd(0), spec, 7, now),
                   SC_ERR_NOT_FOUND);
  ck_assert_int_eq(sc_node_object_read(nd(0), spec, 7, buf, 3, &len),
                   SC_ERR_NOT_FOUND);
  /* Bad arguments and groups. */
  ck_assert_int_eq(
      sc_node_object_write(nd(0), spec, 1, buf, SC_OBJECT_MAX_LEN + 1, now),
      SC_ERR_INVALID_ARG);
  ck_assert_int_eq(
      sc_node_object_write(nd(0), spec, SC_VARINT_MAX + 1, buf, 1, now),
      SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_object_want(nd(0), spec, 5, 0, 1, now),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_object_want(nd(0), spec, SC_VARINT_MAX, 2, 1, now),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_object_want(nd(0), spec, SC_VARINT_MAX, 1, 1, now),
                   0);
  ck_assert_int_eq(sc_node_set_replication(nd(0), spec, 2), SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_object_write(nd(0), "other", 1, buf, 1, now),
                   SC_ERR_NOT_FOUND);
  ck_assert_int_eq(sc_node_object_read(nd(0), "bad?x=1", 1, buf, 1, &len),
                   SC_ERR_MALFORMED);
  /* A removed object is not fetched by others. */
  write_objects(0, 0, 10);
  ck_assert_int_eq(sc_node_object_remove(nd(0), spec, 5, tn_now(net)), 0);
  ck_assert_int_eq(sc_node_object_want(nd(1), spec, 0, 10, 1, tn_now(net)), 0);
  tn_run(net, 5 * SC_SEC);
  ck_assert(holds_all(1, 0, 5) && holds_all(1, 6, 4));
  ck_assert_int_eq(sc_node_object_read(nd(1), spec, 5, buf, sizeof(buf), &len),
                   SC_ERR_NOT_FOUND);
  ck_assert_int_eq(got[1][5], 0);
}
END_TEST

/* Of two holders one crashes while the others fetch: they finish from the
 * other. */
START_TEST(test_holder_crash) {
  int i, n = 10, incomplete = 0;
  uint64_t failed = 0;
  members(n, "files");
  write_objects(1, 0, 600);
  write_objects(2, 0, 600);
  for (i = 3; i < n; i++) {
    ck_assert_int_eq(sc_node_object_want(nd(i), spec, 0, 600, 1, tn_now(net)),
                     0);
  }
  tn_run(net, 150 * SC_MS);
  for (i = 3; i < n; i++) {
    incomplete += norder[i] < 600;
  }
  ck_assert_int_gt(incomplete, 0);
  tn_crash(net, 1);
  /* Before the crashed holder's links die of silence: fetches to it time
   * out (5 s) and go to node 2. */
  tn_run(net, 8 * SC_SEC);
  ck_assert_int_eq(bad, 0);
  for (i = 3; i < n; i++) {
    ck_assert_msg(holds_all(i, 0, 600), "node %d has %d", i, norder[i]);
    failed += gstats(i).fetches_failed;
  }
  /* Fetches were outstanding at the crashed holder. */
  ck_assert_uint_gt(failed, 0);
}
END_TEST

/* Lowest-first over one link: objects arrive in index order. */
START_TEST(test_lowest_first_order) {
  int k;
  members(2, "files");
  write_objects(0, 0, 200);
  ck_assert_int_eq(sc_node_object_want(nd(1), spec, 0, 200, 1, tn_now(net)), 0);
  tn_run(net, 5 * SC_SEC);
  ck_assert_int_eq(norder[1], 200);
  for (k = 0; k < 200; k++) {
    ck_assert_uint_eq(order[1][k], (uint64_t)k);
  }
}
END_TEST

/* Node 1 holds 0..49, node 2 holds 0..99; node 3 wants 0..99. Rarest
 * first, node 3 asks node 2 for 50.. (held by it alone) before anything
 * node 1 also has; lowest-first it would ask node 2 for low ones too. */
static int first_from(int at, int holder) {
  int k;
  for (k = 0; k < norder[at]; k++) {
    if (from_node[at][k] == holder) {
      return (int)order[at][k];
    }
  }
  return -1;
}

static void two_holders(int strategy) {
  members(4, "files");
  write_objects(1, 0, 50);
  write_objects(2, 0, 100);
  tn_run(net, 2 * SC_SEC);
  ck_assert_int_eq(sc_node_set_replication(nd(3), spec, strategy), 0);
  ck_assert_int_eq(sc_node_object_want(nd(3), spec, 0, 100, 1, tn_now(net)), 0);
  tn_run(net, 5 * SC_SEC);
  ck_assert(holds_all(3, 0, 100));
}

START_TEST(test_rarest_first) {
  int k;
  two_holders(SC_REPL_RAREST_FIRST);
  ck_assert_int_eq(first_from(3, 2), 50);
  /* The first 16 from node 2 are the rare ones. */
  for (k = 0; k < 16; k++) {
    ck_assert_int_ge((int)order[3][k] >= 50 || from_node[3][k] != 2, 1);
  }
}
END_TEST

START_TEST(test_lowest_first_two) {
  two_holders(SC_REPL_LOWEST_FIRST);
  ck_assert_int_lt(first_from(3, 2), 50);
}
END_TEST

/* Sends node |from| -> node |to| a raw message on their member link. */
static void send_raw(int from, int to, uint64_t kind, const uint8_t *body,
                     size_t len) {
  sc_session_info si;
  sc_session *s;
  ck_assert(tn_session_with(net, from, to, &si, NULL));
  s = sc_node_session(nd(from), si.local_id);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(sc_session_send_msg(s, kind, body, len, tn_now(net)), 0);
}

/* A group without replication refuses it, locally and from the network. */
START_TEST(test_replication_off) {
  const char *off = "quiet?features=multicast,posting";
  uint8_t body[SC_MSG_MAX], b = 1;
  sc_repl_run run = {0, 10};
  size_t len = 0, taken;
  sc_wr w;
  uint64_t now;
  members(3, off);
  now = tn_now(net);
  ck_assert_int_eq(sc_node_object_write(nd(1), off, 1, &b, 1, now),
                   SC_ERR_STATE);
  ck_assert_int_eq(sc_node_object_want(nd(1), off, 0, 9, 1, now), SC_ERR_STATE);
  ck_assert_int_eq(sc_node_object_read(nd(1), off, 1, &b, 1, &len),
                   SC_ERR_STATE);
  ck_assert_int_eq(sc_node_object_remove(nd(1), off, 1, now), SC_ERR_STATE);
  ck_assert_int_eq(sc_node_set_replication(nd(1), off, 1), SC_ERR_STATE);
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_repl_runs_write(&w, nd(1)->mesh.groups[0]->spec.id,
                                      SC_REPL_SET, &run, 1, &taken),
                   0);
  send_raw(1, 0, SC_MSG_HAVE, body, w.len);
  send_raw(1, 0, SC_MSG_WANT, body, w.len);
  tn_run(net, SC_SEC);
  ck_assert_uint_eq(gstats(0).repl_refused, 2);
  ck_assert_ptr_null(nd(0)->mesh.groups[0]->repl);
}
END_TEST

/* Malformed messages, unasked objects and absurd announcements are
 * dropped and counted; a link that announces more than any member may
 * hold is cut off, and the others still serve. */
START_TEST(test_bad_messages) {
  static const uint64_t unsorted[] = {10, 2, 1, 2};
  uint8_t body[SC_MSG_MAX + 8];
  const uint8_t *id;
  sc_repl_run huge = {0, (uint64_t)1 << 40};
  static uint8_t data[SC_OBJECT_MAX_LEN];
  sc_repl_object_msg o;
  sc_wr w;
  size_t len, taken;
  uint64_t dropped;
  members(3, "files");
  write_objects(0, 0, 20);
  write_objects(2, 0, 20);
  id = nd(1)->mesh.groups[0]->spec.id;
  ck_assert_int_eq(sc_node_object_want(nd(0), spec, 0, 10, 1, tn_now(net)), 0);
  tn_run(net, SC_SEC);
  /* Unsorted runs. */
  len = raw_runs(body, SC_REPL_ADD, 2, unsorted, 2);
  memcpy(body, id, SC_GROUP_ID_LEN);
  send_raw(1, 0, SC_MSG_HAVE, body, len);
  /* A group ID only; an OBJECT of 901 bytes; an OBJECT nobody asked for. */
  send_raw(1, 0, SC_MSG_FETCH, body, SC_GROUP_ID_LEN);
  memcpy(o.group_id, id, SC_GROUP_ID_LEN);
  o.index = 500;
  o.data = data;
  o.len = SC_OBJECT_MAX_LEN;
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_repl_object_write(&w, &o, 1), 0);
  body[w.len] = 0;
  send_raw(1, 0, SC_MSG_OBJECT, body, w.len + 1);
  send_raw(1, 0, SC_MSG_OBJECT, body, w.len);
  tn_run(net, SC_SEC);
  ck_assert_uint_eq(gstats(0).repl_dropped, 4);
  ck_assert_int_eq(
      sc_node_object_read(nd(0), spec, 500, body, sizeof(body), &len),
      SC_ERR_NOT_FOUND);
  /* Node 1 claims 2^40 objects: cut off; its FETCH is then dropped. */
  sc_wr_init(&w, body, sizeof(body));
  ck_assert_int_eq(sc_repl_runs_write(&w, id, SC_REPL_ADD, &huge, 1, &taken),
                   0);
  send_raw(1, 0, SC_MSG_HAVE, body, w.len);
  tn_run(net, SC_SEC);
  dropped = gstats(0).repl_dropped;
  ck_assert_uint_eq(dropped, 5);
  ck_assert_int_eq(sc_node_object_want(nd(1), spec, 0, 20, 1, tn_now(net)), 0);
  tn_run(net, 3 * SC_SEC);
  ck_assert_uint_gt(gstats(0).repl_dropped, dropped);
  ck_assert_uint_eq(gstats(1).objects_fetched, 20); /* from node 2 */
  ck_assert(holds_all(1, 0, 20));
  ck_assert_uint_eq(gstats(0).objects_served, 0);
}
END_TEST

/* The store holds at most SC_REPL_OBJECTS_MAX objects and
 * SC_REPL_BYTES_MAX bytes; replacing within the limits is fine. */
START_TEST(test_store_limit) {
  static uint8_t big[SC_OBJECT_MAX_LEN];
  uint64_t x, now;
  members(2, "files");
  now = tn_now(net);
  for (x = 0; x < SC_REPL_OBJECTS_MAX; x++) {
    ck_assert_int_eq(sc_node_object_write(nd(1), spec, 3 * x, NULL, 0, now), 0);
  }
  ck_assert_int_eq(sc_node_object_write(nd(1), spec, 1, NULL, 0, now),
                   SC_ERR_LIMIT);
  ck_assert_int_eq(sc_node_object_write(nd(1), spec, 3, big, 100, now), 0);
  for (x = 0; x < SC_REPL_OBJECTS_MAX; x++) {
    ck_assert_int_eq(sc_node_object_remove(nd(1), spec, 3 * x, now), 0);
  }
  for (x = 0; x < SC_REPL_BYTES_MAX / SC_OBJECT_MAX_LEN; x++) {
    ck_assert_int_eq(
        sc_node_object_write(nd(1), spec, x, big, SC_OBJECT_MAX_LEN, now), 0);
  }
  ck_assert_int_eq(
      sc_node_object_write(nd(1), spec, x, big, SC_OBJECT_MAX_LEN, now),
      SC_ERR_LIMIT);
  ck_assert_int_eq(sc_node_object_write(nd(1), spec, x, big, 1, now), 0);
  tn_run(net, SC_SEC);
}
END_TEST

static Suite *repl_suite(void) {
  Suite *s = suite_create("repl");
  TCase *tc = tcase_create("codec");
  tcase_add_test(tc, test_runs_round_trip);
  tcase_add_test(tc, test_runs_split);
  tcase_add_test(tc, test_runs_strict);
  tcase_add_test(tc, test_fetch_object_codec);
  tcase_add_test(tc, test_sets);
  suite_add_tcase(s, tc);
  tc = tcase_create("replication");
  tcase_add_checked_fixture(tc, net_setup, net_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_reach_all);
  tcase_add_test(tc, test_want_ranges);
  tcase_add_test(tc, test_local_ops);
  tcase_add_test(tc, test_holder_crash);
  tcase_add_test(tc, test_lowest_first_order);
  tcase_add_test(tc, test_rarest_first);
  tcase_add_test(tc, test_lowest_first_two);
  tcase_add_test(tc, test_replication_off);
  tcase_add_test(tc, test_bad_messages);
  tcase_add_test(tc, test_store_limit);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(repl_suite()); }
