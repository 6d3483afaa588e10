/*
 * check_mcast.c: the multicast engine (src/core/sc_mcast.c) and its
 * messages (src/core/sc_mcastmsg.c) on the in-memory network: a publisher
 * and relays, loss, a late joiner, a crashed pusher, a starved player, a
 * forger, publisher restrictions and the API's errors.
 *
 * Every played chunk is checked against what the publisher published: the
 * test keeps each published payload by seq, and a player must receive
 * exactly those bytes, in rising seq order, from a keyframe on.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_mcast_int.h"
#include "sc_mcastmsg.h"
#include "sc_node_int.h"
#include "testnet.h"

#define GROUP "tv"
#define MAX_SEQ 4096
#define KEY_EVERY 10 /* a keyframe every 10 fragments */

static tn *net;
static uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];

/* What each node played. */
typedef struct player {
  uint64_t chunks, bytes, skipped, first_seq, last_seq;
  uint64_t lat_max; /* the longest a fragment took from publication to play */
  uint64_t first_at;
  int started, bad_order, bad_bytes, first_not_key;
} player;

static player players[TN_MAX_NODES];
static size_t published;
static uint64_t published_at[MAX_SEQ];

/* The payload of seq |seq|: its length and bytes follow from the seq;
 * every seventh fills a whole fragment. */
static size_t payload_of(uint64_t seq, uint8_t *out, size_t cap) {
  size_t len = seq % 7 == 3 ? cap : 200 + (size_t)(seq * 37 % 900), i;
  len = len > cap ? cap : len;
  for (i = 0; i < len; i++) {
    out[i] = (uint8_t)(seq * 131 + i * 7);
  }
  return len;
}

static sc_node *nd(int i) { return tn_get(net, i)->node; }

static void on_play(void *arg, int node, const sc_play_chunk *ch) {
  player *p = &players[node];
  uint8_t want[2048];
  size_t len = payload_of(ch->seq, want, sc_node_fragment_max(nd(node)));
  (void)arg;
  if (!p->started) {
    p->started = 1;
    p->first_seq = ch->seq;
    p->first_at = tn_now(net);
    p->first_not_key = !ch->keyframe || ch->seq % KEY_EVERY != 0;
  } else if (ch->seq <= p->last_seq) {
    p->bad_order++;
  }
  if (ch->len != len || memcmp(ch->data, want, len) != 0) {
    p->bad_bytes++;
  }
  if (ch->seq < MAX_SEQ && tn_now(net) - published_at[ch->seq] > p->lat_max) {
    p->lat_max = tn_now(net) - published_at[ch->seq];
  }
  p->last_seq = ch->seq;
  p->chunks++;
  p->bytes += ch->len;
  p->skipped += ch->skipped;
}

static void setup(void) {
  net = tn_new(11);
  tn_set_delay(net, 15 * SC_MS);
  tn_set_play(net, on_play, NULL);
  memset(players, 0, sizeof(players));
  published = 0;
  crypto_sign_keypair(pk, sk);
}

static void teardown(void) { tn_del(net); }

/* |n| nodes in one /24 each, all in |spec|, everyone connected to node 0,
 * run for 5 s. */
static void swarm(int n, const char *spec) {
  ck_assert_int_eq(tn_group(net, n, spec), 0);
  tn_run(net, 5 * SC_SEC);
}

/* |n| nodes as in swarm(): node 0 publishes "live" (handle returned) and
 * every other node plays it. */
static uint32_t live_swarm(int n) {
  uint32_t h, ph;
  int i;
  swarm(n, GROUP);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "live", sk, tn_now(net), &h),
                   0);
  for (i = 1; i < n; i++) {
    ck_assert_int_eq(sc_node_play(nd(i), GROUP, "live", NULL, tn_now(net), &ph),
                     0);
  }
  return h;
}

/* Publishes |count| fragments 10 ms apart (100 a second). */
static void publish(uint32_t h, size_t count) {
  uint8_t buf[2048];
  size_t i, max = sc_node_fragment_max(nd(0));
  for (i = 0; i < count; i++) {
    uint64_t seq = published++;
    size_t len = payload_of(seq, buf, max);
    ck_assert_uint_lt(seq, MAX_SEQ);
    published_at[seq] = tn_now(net);
    ck_assert_int_eq(sc_node_publish_fragment(
                         nd(0), h, buf, len, seq % KEY_EVERY == 0, tn_now(net)),
                     0);
    tn_run(net, 10 * SC_MS);
  }
}

static sc_stream_info stream_of(int i) {
  sc_stream_info si[4];
  ck_assert_uint_ge(sc_node_streams(nd(i), si, 4), 1);
  return si[0];
}

static void check_clean(int i) {
  ck_assert_msg(players[i].started, "node %d never played", i);
  ck_assert_int_eq(players[i].bad_order, 0);
  ck_assert_int_eq(players[i].bad_bytes, 0);
  ck_assert_int_eq(players[i].first_not_key, 0);
}

START_TEST(test_relay_chain) {
  uint32_t h;
  int i;
  h = live_swarm(4);
  publish(h, 600);
  tn_run(net, 2 * SC_SEC);
  for (i = 1; i < 4; i++) {
    sc_stream_info si = stream_of(i);
    check_clean(i);
    /* Without loss everything from the tune-in point on is played. */
    ck_assert_uint_eq(players[i].last_seq, published - 1);
    ck_assert_uint_eq(players[i].chunks, published - players[i].first_seq);
    ck_assert_uint_eq(players[i].skipped, 0);
    ck_assert_uint_lt(players[i].first_seq, 2 * KEY_EVERY);
    ck_assert_uint_eq(si.stats.forgeries, 0);
    ck_assert_uint_eq(si.top, published - 1);
    ck_assert(si.roles & SC_STREAM_PLAYING);
    ck_assert_uint_ge(si.pushers, 1);
  }
  /* The publisher pushed, and the relays got most of it by push. */
  ck_assert_uint_gt(stream_of(0).stats.fragments_pushed_to_peers, 0);
  ck_assert_uint_gt(stream_of(1).stats.fragments_pushed_from_peers,
                    published / 2);
  ck_assert(stream_of(0).roles & SC_STREAM_PUBLISHER);
}
END_TEST

START_TEST(test_loss_repaired) {
  uint32_t h;
  int i, n = 8;
  uint64_t pulled = 0;
  h = live_swarm(n);
  tn_set_loss(net, getenv("MC_LOSS") ? (unsigned)atoi(getenv("MC_LOSS")) : 50);
  publish(h, 1000);
  tn_set_loss(net, 0);
  tn_run(net, 3 * SC_SEC);
  for (i = 1; i < n; i++) {
    uint64_t want = published - players[i].first_seq;
    sc_stream_info si = stream_of(i);
    check_clean(i);
    /* Pulls repair the losses: at least 99% played. */
    if (getenv("MCAST_DEBUG") != NULL) {
      fprintf(
          stderr,
          "node %d: played %llu/%llu skipped %llu push %llu pull %llu "
          "unasked %llu req %llu dup %llu giveup %llu pushers %u drops %llu "
          "expired %llu lost %llu banned %llu moves %llu\n",
          i, (unsigned long long)players[i].chunks, (unsigned long long)want,
          (unsigned long long)players[i].skipped,
          (unsigned long long)si.stats.fragments_pushed_from_peers,
          (unsigned long long)si.stats.fragments_pulled_from_peers,
          (unsigned long long)si.stats.fragments_received_unasked,
          (unsigned long long)si.stats.fragments_requested_from_peers,
          (unsigned long long)si.stats.duplicates,
          (unsigned long long)si.stats.pull_giveups, si.pushers,
          (unsigned long long)si.stats.push_drops,
          (unsigned long long)tn_stats(net, i).dgrams_expired,
          (unsigned long long)tn_stats(net, i).packets_lost,
          (unsigned long long)si.stats.peers_banned,
          (unsigned long long)si.stats.class_moves);
    }
    ck_assert_msg(
        players[i].chunks * 100 >= want * 99, "node %d played %llu of %llu", i,
        (unsigned long long)players[i].chunks, (unsigned long long)want);
    pulled += si.stats.fragments_pulled_from_peers;
  }
  ck_assert_uint_gt(pulled, 0);
}
END_TEST

START_TEST(test_late_joiner) {
  uint32_t h, ph;
  swarm(4, GROUP);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "live", sk, tn_now(net), &h),
                   0);
  ck_assert_int_eq(sc_node_play(nd(1), GROUP, "live", NULL, tn_now(net), &ph),
                   0);
  publish(h, 500);
  /* Node 3 starts playing 5 s into the stream: it tunes in near the live
   * edge at a keyframe, not at seq 0. */
  ck_assert_int_eq(sc_node_play(nd(3), GROUP, "live", NULL, tn_now(net), &ph),
                   0);
  {
    uint64_t asked = tn_now(net);
    publish(h, 300);
    check_clean(3);
    ck_assert_uint_ge(players[3].first_seq, 400);
    ck_assert_uint_lt(players[3].first_at - asked, 2 * SC_SEC);
  }
}
END_TEST

/* A star: publisher 0 and player 2 each have room for one session, with
 * relay 1, whose push capacity is |capacity|. Node 0 publishes (handle
 * returned) and node 2 plays. */
static uint32_t star(uint32_t capacity) {
  sc_settings st;
  uint32_t h, ph;
  int i;
  for (i = 0; i < 3; i++) {
    char addr[32];
    sc_settings_default(&st);
    st.max_sessions = i == 1 ? 8 : 1;
    if (i == 1) {
      st.push_capacity = capacity;
    }
    snprintf(addr, sizeof(addr), "10.0.%d.1:4433", i);
    ck_assert_int_eq(tn_add(net, addr, &st, NULL), i);
    ck_assert_int_eq(sc_node_join_group(nd(i), GROUP, 0), 0);
  }
  tn_connect(net, 0, 1);
  tn_connect(net, 2, 1);
  tn_run(net, 5 * SC_SEC);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "live", sk, tn_now(net), &h),
                   0);
  ck_assert_int_eq(sc_node_play(nd(2), GROUP, "live", NULL, tn_now(net), &ph),
                   0);
  return h;
}

/* Node |i|'s count of pulls outstanding with each neighbour is the number
 * of seqs it follows that are asked of that neighbour: a count that never
 * came down would, at PULL_PER_PEER, bar the neighbour from pulls. */
static void check_pull_accounting(int i) {
  const mstream *st = nd(i)->mcast.streams[0];
  size_t k, t;
  for (k = 0; k < st->np; k++) {
    uint32_t n = 0;
    for (t = 0; t < TRACK; t++) {
      n += st->tr[t].sid == st->p[k].sid;
    }
    ck_assert_uint_eq(st->p[k].outstanding, n);
  }
}

/* Three seconds without a datagram anywhere, in a chain where each node
 * has one neighbour to pull from. Afterwards the player repairs the
 * outage by pulls, plays to the end and gets most of the rest by push
 * again (the outage's seqs it pulled are its pusher's misses, and may
 * have a class or two passed over for a while), and the pulls that timed
 * out in the outage do not stay counted against the neighbour. */
START_TEST(test_outage_repaired) {
  uint32_t h = star(32);
  uint64_t pushed;
  publish(h, 300);
  tn_set_loss(net, 1000);
  publish(h, 300);
  tn_set_loss(net, 0);
  publish(h, 300);
  pushed = stream_of(2).stats.fragments_pushed_from_peers;
  publish(h, 300);
  tn_run(net, 2 * SC_SEC);
  check_clean(2);
  ck_assert_uint_eq(players[2].last_seq, published - 1);
  ck_assert_uint_ge(stream_of(2).stats.fragments_pushed_from_peers - pushed,
                    150);
  check_pull_accounting(1);
  check_pull_accounting(2);
  ck_assert_uint_ge(stream_of(1).stats.fragments_pushed_from_peers, 600);
}
END_TEST

/* A player that nobody pushes to (its only neighbour has no push
 * capacity) follows by pulls. Three seconds cut off leave it 300 seqs
 * behind, further than a map may carry what it knows exists; having
 * verified nothing for a second, it tunes in anew and plays on. */
START_TEST(test_far_behind_retunes) {
  uint32_t h = star(0);
  publish(h, 300);
  ck_assert_uint_eq(stream_of(2).pushers, 0);
  ck_assert_uint_gt(players[2].chunks, 200);
  tn_set_loss(net, 1000);
  publish(h, 300);
  tn_set_loss(net, 0);
  publish(h, 500);
  tn_run(net, 2 * SC_SEC);
  check_clean(2);
  ck_assert_uint_eq(players[2].last_seq, published - 1);
  ck_assert_uint_ge(stream_of(2).stats.retunes, 1);
  check_pull_accounting(1);
  check_pull_accounting(2);
  ck_assert_uint_ge(players[2].skipped, 1);
}
END_TEST

/* How many classes node |i| asks node |j| to push. */
static unsigned classes_from(int i, int j) {
  const mstream *st = nd(i)->mcast.streams[0];
  sc_session_info si;
  size_t k;
  if (!tn_session_with(net, i, j, &si, NULL)) {
    return 0;
  }
  for (k = 0; k < st->np; k++) {
    if (st->p[k].sid == si.local_id) {
      return (unsigned)sc_mc_popcount8(st->p[k].asked & SC_PUSH_CLASSES);
    }
  }
  return 0;
}

/* Player 3 has two relays, 1 and 2, each fed by publisher 0. When the
 * relay that pushes it most classes crashes, the player pulls what that
 * relay no longer pushes from the other one as soon as the silence shows,
 * without waiting out the head start a live pusher gets: no play is later
 * than 450 ms (waiting PUSH_WAIT, 600 ms, for each seq would make it 650
 * ms and more), and nothing is skipped. */
START_TEST(test_pusher_crash) {
  static const int links[][2] = {{1, 0}, {2, 0}, {3, 1}, {3, 2}};
  uint32_t h, ph;
  int i, gone, other;
  size_t k;
  for (i = 0; i < 4; i++) {
    sc_settings st;
    char addr[32];
    sc_settings_default(&st);
    st.max_sessions = i == 0 || i == 3 ? 2 : 3;
    snprintf(addr, sizeof(addr), "10.0.%d.1:4433", i);
    ck_assert_int_eq(tn_add(net, addr, &st, NULL), i);
    ck_assert_int_eq(sc_node_join_group(nd(i), GROUP, 0), 0);
  }
  for (k = 0; k < SC_ARRAY_LEN(links); k++) {
    tn_connect(net, links[k][0], links[k][1]);
  }
  tn_run(net, 5 * SC_SEC);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "live", sk, tn_now(net), &h),
                   0);
  ck_assert_int_eq(sc_node_play(nd(3), GROUP, "live", NULL, tn_now(net), &ph),
                   0);
  publish(h, 300);
  players[3].lat_max = 0; /* past the start-up */
  publish(h, 100);
  gone = classes_from(3, 1) >= classes_from(3, 2) ? 1 : 2;
  other = 3 - gone;
  ck_assert_uint_gt(classes_from(3, gone), 0);
  check_clean(3);
  ck_assert_uint_lt(players[3].lat_max, 200 * SC_MS);
  tn_crash(net, gone);
  players[3].lat_max = 0;
  publish(h, 500);
  tn_run(net, 2 * SC_SEC);
  check_clean(3);
  ck_assert_uint_eq(players[3].last_seq, published - 1);
  ck_assert_uint_eq(players[3].skipped, 0);
  if (getenv("MCAST_DEBUG") != NULL) {
    fprintf(stderr, "crashed %d: %u classes; latest play %llu ms\n", gone,
            classes_from(3, other),
            (unsigned long long)(players[3].lat_max / SC_MS));
  }
  ck_assert_uint_lt(players[3].lat_max, 450 * SC_MS);
  /* The other relay now pushes every class. */
  ck_assert_uint_eq(classes_from(3, other), SC_MC_CLASSES);
}
END_TEST

/* How many of node |i|'s neighbours in the stream it asks for maps. */
static size_t map_sources(int i) {
  const mstream *st = nd(i)->mcast.streams[0];
  size_t k, n = 0;
  for (k = 0; k < st->np; k++) {
    n += (st->p[k].asked & SC_PUSH_MAPS) != 0;
  }
  return n;
}

/* A player gets maps from a few of its neighbours; when nothing new has
 * come for STARVED it asks every one, as those few are likely cut off
 * with it, and after STARVED_MAX (the stream has paused) the few again. */
START_TEST(test_starved_maps) {
  uint32_t h;
  int n = 9;
  size_t np;
  h = live_swarm(n);
  publish(h, 300);
  np = nd(n - 1)->mcast.streams[0]->np;
  ck_assert_uint_ge(np, 6);
  ck_assert_uint_lt(map_sources(n - 1), np);
  tn_run(net, STARVED + 2 * TICK);
  ck_assert_uint_eq(map_sources(n - 1), np);
  tn_run(net, STARVED_MAX + 2 * REVIEW);
  ck_assert_uint_lt(map_sources(n - 1), np);
  publish(h, 100);
  tn_run(net, 1 * SC_SEC);
  ck_assert_uint_eq(players[n - 1].last_seq, published - 1);
  check_clean(n - 1);
}
END_TEST

/* A seq that nobody answers for PULL_TRIES pulls is skipped by the player,
 * and must not hold back the pulls of what follows: the player pulls every
 * seq (its relay has no push capacity), and its scan of the seqs to pull
 * begins at the lowest missing one. A seq marked as asked in vain
 * PULL_TRIES times before it exists stands for one whose every answer was
 * lost. The player waits the gap timeout (1 s) for it and plays on; held
 * back, it would stop pulling SCAN_MAX seqs later, until the seq fell out
 * of the TRACK seqs it follows, and play 2.8 s late. */
START_TEST(test_given_up_seq) {
  uint32_t h = star(0);
  mstream *st;
  uint64_t gone;
  publish(h, 300);
  players[2].lat_max = 0;
  st = nd(2)->mcast.streams[0];
  gone = published + 50;
  st->tr[gone % TRACK].seq = gone;
  st->tr[gone % TRACK].known_at = tn_now(net);
  st->tr[gone % TRACK].asked_at = 0;
  st->tr[gone % TRACK].sid = 0;
  st->tr[gone % TRACK].tries = PULL_TRIES;
  publish(h, 700);
  tn_run(net, 2 * SC_SEC);
  check_clean(2);
  ck_assert_uint_eq(players[2].last_seq, published - 1);
  ck_assert_uint_eq(players[2].skipped, 1);
  ck_assert_uint_lt(players[2].lat_max, 1500 * SC_MS);
  ck_assert_uint_eq(stream_of(2).stats.retunes, 0);
  check_pull_accounting(2);
}
END_TEST

/* A publisher that pauses longer than the relays keep an idle stream: they
 * forget it, and learn it again when it resumes. */
START_TEST(test_pause_resume) {
  uint32_t h;
  int i;
  h = live_swarm(4);
  publish(h, 200);
  tn_run(net, 40 * SC_SEC);
  ck_assert_uint_eq(sc_node_streams(nd(1), NULL, 0), 0);
  publish(h, 2000);
  tn_run(net, 1 * SC_SEC);
  for (i = 1; i < 4; i++) {
    ck_assert_uint_eq(sc_node_streams(nd(i), NULL, 0), 1);
    ck_assert_int_eq(players[i].bad_order, 0);
    ck_assert_int_eq(players[i].bad_bytes, 0);
    ck_assert_uint_eq(players[i].last_seq, published - 1);
  }
}
END_TEST

/* Node 2 is a member that forges: fragments with the stream's ID and
 * numbers but other bytes, a manifest signed with its own key. Nobody
 * plays a forged byte, and its neighbours ban it. */
START_TEST(test_forger) {
  uint32_t h, ph;
  uint8_t evil_pk[32], evil_sk[64], buf[1500];
  sc_stream_info si;
  int i, j;
  uint64_t banned = 0;
  crypto_sign_keypair(evil_pk, evil_sk);
  swarm(5, GROUP);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "live", sk, tn_now(net), &h),
                   0);
  for (i = 1; i < 5; i++) {
    ck_assert_int_eq(sc_node_play(nd(i), GROUP, "live", NULL, tn_now(net), &ph),
                     0);
  }
  publish(h, 100);
  si = stream_of(0);
  for (j = 0; j < 40; j++) {
    for (i = 0; i < 5; i++) {
      sc_session *s;
      sc_frag f;
      sc_manifest m;
      sc_wr w;
      if (i == 2) {
        continue;
      }
      s = sc_node_session_with(nd(2), sc_node_peer_id(nd(i)));
      if (s == NULL || !sc_session_is_usable(s)) {
        continue;
      }
      /* A fragment just ahead of the live edge, bytes of its own. */
      memcpy(f.stream_id, si.stream_id, SC_STREAM_ID_LEN);
      f.seq = published + 2;
      f.timestamp_us = tn_now(net) / 1000;
      f.flags = SC_FRAG_KEYFRAME;
      f.payload = (const uint8_t *)"evil evil evil";
      f.payload_len = 14;
      buf[0] = SC_DG_FRAGMENT;
      sc_wr_init(&w, buf + 1, sizeof(buf) - 1);
      ck_assert_int_eq(sc_frag_write(&w, &f), 0);
      (void)sc_session_send_dgram(s, buf, w.len + 1, SC_DGRAM_STREAM,
                                  tn_now(net));
      /* And a manifest for it under the forger's key. */
      memset(&m, 0, sizeof(m));
      memcpy(m.stream_id, si.stream_id, SC_STREAM_ID_LEN);
      m.first = f.seq;
      m.count = 1;
      sc_frag_hash(m.hash[0], buf + 1, w.len);
      ck_assert_int_eq(sc_manifest_sign(&m, evil_sk), 0);
      buf[0] = SC_DG_MANIFEST;
      sc_wr_init(&w, buf + 1, sizeof(buf) - 1);
      ck_assert_int_eq(sc_manifest_write(&w, &m), 0);
      (void)sc_session_send_dgram(s, buf, w.len + 1, SC_DGRAM_STREAM,
                                  tn_now(net));
    }
    publish(h, 10);
  }
  publish(h, 200);
  tn_run(net, 2 * SC_SEC);
  for (i = 1; i < 5; i++) {
    if (i == 2) {
      continue;
    }
    check_clean(i);
    si = stream_of(i);
    banned += si.stats.peers_banned;
    ck_assert_uint_gt(si.stats.forgeries, 0);
    ck_assert_uint_eq(players[i].last_seq, published - 1);
  }
  ck_assert_uint_gt(banned, 0);
  /* The forger lost every push role it had. */
  ck_assert_uint_eq(stream_of(2).children, 0);
}
END_TEST

/* Two keys publish one name: a node relays both and plays the one whose
 * key it asked for (--publisher). */
START_TEST(test_publisher_choice) {
  uint8_t pk2[32], sk2[64], buf[256];
  uint32_t h0, h1, ph;
  sc_stream_info si[4];
  size_t n, k, playing = 0;
  int i;
  crypto_sign_keypair(pk2, sk2);
  swarm(3, GROUP);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "live", sk, tn_now(net), &h0),
                   0);
  ck_assert_int_eq(sc_node_publish(nd(1), GROUP, "live", sk2, tn_now(net), &h1),
                   0);
  ck_assert_int_eq(sc_node_play(nd(2), GROUP, "live", pk2, tn_now(net), &ph),
                   0);
  memset(buf, 7, sizeof(buf));
  for (i = 0; i < 200; i++) {
    ck_assert_int_eq(sc_node_publish_fragment(nd(0), h0, buf, sizeof(buf),
                                              i % 10 == 0, tn_now(net)),
                     0);
    ck_assert_int_eq(sc_node_publish_fragment(nd(1), h1, buf, sizeof(buf),
                                              i % 10 == 0, tn_now(net)),
                     0);
    tn_run(net, 10 * SC_MS);
  }
  tn_run(net, 1 * SC_SEC);
  n = sc_node_streams(nd(2), si, 4);
  ck_assert_uint_eq(n, 2); /* it relays both */
  for (k = 0; k < n; k++) {
    if (si[k].roles & SC_STREAM_PLAYING) {
      playing++;
      ck_assert_mem_eq(si[k].key, pk2, 32);
      ck_assert_uint_gt(si[k].stats.fragments_played, 100);
    } else {
      ck_assert_uint_eq(si[k].stats.fragments_played, 0);
    }
  }
  ck_assert_uint_eq(playing, 1);
}
END_TEST

START_TEST(test_publishers_restricted) {
  char spec[256];
  char hex[65];
  uint32_t h;
  uint8_t pk2[32], sk2[64];
  sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
  snprintf(spec, sizeof(spec), "tv?publishers=%s", hex);
  swarm(3, spec);
  crypto_sign_keypair(pk2, sk2);
  /* Another key may not publish here. */
  ck_assert_int_eq(sc_node_publish(nd(1), spec, "x", sk2, tn_now(net), &h),
                   SC_ERR_STATE);
  /* A member announcing such a stream anyway is ignored. */
  {
    sc_stream_msg m;
    uint8_t body[256];
    sc_wr w;
    sc_group_spec gs;
    sc_session *s = sc_node_session_with(nd(1), sc_node_peer_id(nd(0)));
    ck_assert_int_eq(sc_group_spec_parse(&gs, spec), 0);
    memcpy(m.group_id, gs.id, 32);
    memcpy(m.key, pk2, 32);
    strcpy(m.name, "x");
    m.name_len = 1;
    sc_wr_init(&w, body, sizeof(body));
    ck_assert_int_eq(sc_stream_msg_write(&w, &m), 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(
        sc_session_send_msg(s, SC_MSG_STREAM, body, w.len, tn_now(net)), 0);
    tn_run(net, 1 * SC_SEC);
    ck_assert_uint_eq(sc_node_streams(nd(0), NULL, 0), 0);
  }
  /* The listed key may, and the stream reaches the others. */
  ck_assert_int_eq(sc_node_publish(nd(0), spec, "ok", sk, tn_now(net), &h), 0);
  tn_run(net, 2 * SC_SEC);
  ck_assert_uint_eq(sc_node_streams(nd(1), NULL, 0), 1);
  ck_assert_uint_eq(sc_node_streams(nd(2), NULL, 0), 1);
}
END_TEST

START_TEST(test_api_errors) {
  uint32_t h;
  uint8_t buf[2048] = {0};
  char longname[200];
  swarm(1, GROUP);
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  ck_assert_int_eq(sc_node_publish(nd(0), "nope", "x", sk, 0, &h),
                   SC_ERR_NOT_FOUND);
  ck_assert_int_eq(sc_node_publish(nd(0), "bad spec?x", "x", sk, 0, &h),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "", sk, 0, &h),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, longname, sk, 0, &h),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "a\nb", sk, 0, &h),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_join_group(nd(0), "quiet?features=posting", 0), 1);
  ck_assert_int_eq(
      sc_node_publish(nd(0), "quiet?features=posting", "x", sk, 0, &h),
      SC_ERR_STATE);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "x", sk, 0, &h), 0);
  ck_assert_int_eq(sc_node_publish(nd(0), GROUP, "x", sk, 0, &h), SC_ERR_STATE);
  ck_assert_int_eq(sc_node_publish_fragment(
                       nd(0), h, buf, sc_node_fragment_max(nd(0)) + 1, 0, 0),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_publish_fragment(nd(0), h, buf, 0, 0, 0),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_node_publish_fragment(nd(0), h + 100, buf, 10, 0, 0),
                   SC_ERR_NOT_FOUND);
  ck_assert_int_eq(sc_node_publish_fragment(nd(0), h, buf,
                                            sc_node_fragment_max(nd(0)), 1, 0),
                   0);
  /* A 1232-byte datagram holds six 188-byte MPEG-TS packets. */
  ck_assert_uint_ge(sc_node_fragment_max(nd(0)), 6 * 188);
}
END_TEST

/* ---- messages ---------------------------------------------------------- */

START_TEST(test_msg_round_trips) {
  uint8_t buf[256];
  sc_wr w;
  sc_map_msg m = {0x0102030405060708ULL,      1000, 42,       990,
                  {0, 1, 2, 3, 4, 5, 6, 255}, 64,   0xf0f0ULL},
             m2;
  sc_pull_msg p = {7, SC_PULL_MANIFESTS, 500, 13, 0x1001}, p2;
  sc_push_msg u, u2;
  sc_stream_msg s, s2;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_map_write(&w, &m), 0);
  ck_assert_uint_eq(buf[0], SC_DG_MAP);
  ck_assert_int_eq(sc_map_read(&m2, buf + 1, w.len - 1), 0);
  ck_assert(m2.tag == m.tag && m2.top == m.top && m2.age_ms == m.age_ms &&
            m2.key == m.key && m2.nbits == m.nbits && m2.bits == m.bits &&
            memcmp(m2.hops, m.hops, sizeof(m.hops)) == 0);
  ck_assert_int_eq(sc_map_read(&m2, buf + 1, w.len - 2), SC_ERR_MALFORMED);
  m.key = UINT64_MAX;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_map_write(&w, &m), 0);
  ck_assert_int_eq(sc_map_read(&m2, buf + 1, w.len - 1), 0);
  ck_assert_uint_eq(m2.key, UINT64_MAX);
  m.key = 1001; /* above the top */
  ck_assert_int_eq(sc_map_write(&w, &m), SC_ERR_INVALID_ARG);
  m.key = 0;
  m.nbits = 3; /* bits past nbits */
  ck_assert_int_eq(sc_map_write(&w, &m), SC_ERR_INVALID_ARG);

  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_pull_write(&w, &p), 0);
  ck_assert_int_eq(sc_pull_read(&p2, buf + 1, w.len - 1), 0);
  ck_assert(p2.tag == 7 && p2.flags == SC_PULL_MANIFESTS && p2.first == 500 &&
            p2.nbits == 13 && p2.bits == 0x1001);
  buf[1 + 8] = 2; /* "only manifests" without "manifests" */
  ck_assert_int_eq(sc_pull_read(&p2, buf + 1, w.len - 1), SC_ERR_MALFORMED);
  buf[1 + 8] = 4; /* unknown flag */
  ck_assert_int_eq(sc_pull_read(&p2, buf + 1, w.len - 1), SC_ERR_MALFORMED);
  p.nbits = 0;
  ck_assert_int_eq(sc_pull_write(&w, &p), SC_ERR_INVALID_ARG);

  memset(u.stream_id, 9, sizeof(u.stream_id));
  u.mask = SC_PUSH_MAPS | 5;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_push_write(&w, &u), 0);
  ck_assert_int_eq(sc_push_read(&u2, buf, w.len), 0);
  ck_assert_uint_eq(u2.mask, u.mask);
  buf[32] = 0x04; /* mask bit 10: unknown */
  ck_assert_int_eq(sc_push_read(&u2, buf, w.len), SC_ERR_MALFORMED);

  memset(&s, 3, sizeof(s));
  strcpy(s.name, "name");
  s.name_len = 4;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_stream_msg_write(&w, &s), 0);
  ck_assert_int_eq(sc_stream_msg_read(&s2, buf, w.len), 0);
  ck_assert_str_eq(s2.name, "name");
  buf[65] = '\x01'; /* a control character in the name */
  ck_assert_int_eq(sc_stream_msg_read(&s2, buf, w.len), SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_stream_msg_read(&s2, buf, w.len - 1), SC_ERR_MALFORMED);
  s.name_len = 0;
  ck_assert_int_eq(sc_stream_msg_write(&w, &s), SC_ERR_INVALID_ARG);
  /* A name length past the largest name is refused before any copy. */
  {
    uint8_t big[SC_GROUP_ID_LEN + SC_STREAM_KEY_LEN + 1 + 255];
    memset(big, 'a', sizeof(big));
    big[SC_GROUP_ID_LEN + SC_STREAM_KEY_LEN] = 200;
    ck_assert_int_eq(sc_stream_msg_read(&s2, big, 64 + 1 + 200),
                     SC_ERR_MALFORMED);
    big[SC_GROUP_ID_LEN + SC_STREAM_KEY_LEN] = 129;
    ck_assert_int_eq(sc_stream_msg_read(&s2, big, 64 + 1 + 129),
                     SC_ERR_MALFORMED);
    big[SC_GROUP_ID_LEN + SC_STREAM_KEY_LEN] = 128;
    ck_assert_int_eq(sc_stream_msg_read(&s2, big, 64 + 1 + 128), 0);
    ck_assert_uint_eq(strlen(s2.name), 128);
  }
}
END_TEST

/* Every truncation of a valid message and random bytes are refused or
 * parsed without reading out of bounds (ASan watches). */
START_TEST(test_msg_truncations) {
  uint8_t buf[256], rnd[256];
  sc_wr w;
  sc_map_msg m = {1, 300, 5, 295, {0}, 64, ~0ULL}, m2;
  sc_pull_msg p = {1, 3, 7, 64, ~0ULL}, p2;
  size_t n, i;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_map_write(&w, &m), 0);
  for (n = 0; n + 1 < w.len; n++) {
    ck_assert_int_eq(sc_map_read(&m2, buf + 1, n), SC_ERR_MALFORMED);
  }
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_pull_write(&w, &p), 0);
  for (n = 0; n + 1 < w.len; n++) {
    ck_assert_int_eq(sc_pull_read(&p2, buf + 1, n), SC_ERR_MALFORMED);
  }
  for (i = 0; i < 2000; i++) {
    sc_stream_msg s;
    sc_push_msg u;
    n = (size_t)(randombytes_uniform(sizeof(rnd)) + 1);
    randombytes_buf(rnd, n);
    (void)sc_map_read(&m2, rnd, n);
    (void)sc_pull_read(&p2, rnd, n);
    (void)sc_stream_msg_read(&s, rnd, n);
    (void)sc_push_read(&u, rnd, n);
  }
}
END_TEST

static Suite *mcast_suite(void) {
  Suite *s = suite_create("mcast");
  TCase *tc = tcase_create("engine");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_relay_chain);
  tcase_add_test(tc, test_loss_repaired);
  tcase_add_test(tc, test_late_joiner);
  tcase_add_test(tc, test_pause_resume);
  tcase_add_test(tc, test_outage_repaired);
  tcase_add_test(tc, test_pusher_crash);
  tcase_add_test(tc, test_starved_maps);
  tcase_add_test(tc, test_given_up_seq);
  tcase_add_test(tc, test_far_behind_retunes);
  tcase_add_test(tc, test_forger);
  tcase_add_test(tc, test_publishers_restricted);
  tcase_add_test(tc, test_publisher_choice);
  tcase_add_test(tc, test_api_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("messages");
  tcase_add_test(tc, test_msg_round_trips);
  tcase_add_test(tc, test_msg_truncations);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(mcast_suite()); }
