/*
 * sim_stream.c: the scenario's live stream and its forgers, in virtual time
 * (sim_stream.h).
 *
 * The publisher cuts one fragment every size * 8 / rate seconds, an event
 * of its own, with bytes drawn from the seed and the seq; a fragment is a
 * keyframe when it is the first or starts a new keyframe interval. Every
 * other node asks to play the stream at each start, and every chunk a core
 * plays is checked byte for byte against what was published and timed
 * against its publication. Once a second the simulator reads every core's
 * stream counters, because a core that goes down, or forgets an idle
 * stream, takes them with it.
 *
 * The measured span runs from the stream statement to `deadline` after
 * publishing ends (the end of the run if it never does): the traffic
 * counters are snapshotted at both ends and the stream counters frozen at
 * the second.
 *
 * A forger uses the core's insides (the library the simulator links):
 * R times a second it sends every neighbour it has a usable session with a
 * fragment just above the highest seq it holds, with garbage bytes, a
 * manifest for that fragment signed with its own key, and a replay of an
 * authentic fragment it played earlier.
 */
#include "sim_stream.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sc_mcastmsg.h"
#include "sc_node_int.h"
#include "sc_stream.h"

/* Random streams of the run's seed (sim_world.c and sim_mesh.c use
 * others). */
#define STREAM_KEY 0x1000000000000000ULL     /* + node: its stream key */
#define STREAM_PAYLOAD 0x2000000000000000ULL /* + seq: the payload */
#define STREAM_FORGE 0x5000000000000000ULL   /* + node: a forger's draws */

#define SAMPLE_EVERY SIM_S
#define CACHE 1024     /* payloads kept for checking plays (power of 2) */
#define FORGE_AHEAD 8  /* forged seqs land 1..8 above the top */
#define STREAMS_MAX 16 /* SC_MCAST_STREAMS_MAX */

/* ---- the published stream ------------------------------------------------ */

/* Where seq |seq| falls after the start, in ns (floor). */
static uint64_t offset_of(const struct sim_stream *ss, uint64_t seq) {
  return sim_mul_div(seq, (uint64_t)ss->size * 8 * SIM_S, ss->a->bps, 0);
}

static int is_keyframe(const struct sim_stream *ss, uint64_t seq) {
  uint64_t k = ss->a->keyframe;
  return seq == 0 || offset_of(ss, seq) / k != offset_of(ss, seq - 1) / k;
}

/* The payload of |seq|: from the cache, drawn again when evicted. */
static const uint8_t *payload_of(struct sim_stream *ss, uint64_t seed,
                                 uint64_t seq) {
  size_t slot = (size_t)(seq % CACHE);
  uint8_t *p = ss->cache + slot * ss->size;
  if (ss->cache_seq[slot] != seq) {
    sim_rng r;
    sim_rng_seed(&r, seed, STREAM_PAYLOAD + seq);
    sim_rng_bytes(&r, p, ss->size);
    ss->cache_seq[slot] = seq;
  }
  return p;
}

/* A node's own Ed25519 stream key, the same at every start. */
static void node_key(uint64_t seed, uint32_t i, uint8_t pk[32],
                     uint8_t sk[64]) {
  uint8_t seed32[crypto_sign_SEEDBYTES];
  sim_rng r;
  sim_rng_seed(&r, seed, STREAM_KEY + i);
  sim_rng_bytes(&r, seed32, sizeof(seed32));
  crypto_sign_seed_keypair(pk, sk, seed32);
}

int sim_stream_new(sim *s, size_t frag_max, char *err, size_t errlen) {
  const sim_action *a = sim_config_first(s->cfg, SIM_ACT_STREAM);
  struct sim_stream *ss;
  if (a == NULL)
    return 0;
  size_t size = a->frag_size ? (size_t)a->frag_size : frag_max;
  if (size == 0 || size > frag_max) {
    snprintf(err, errlen,
             "stream: size %zu B is above the core's largest "
             "fragment, %zu B",
             size, frag_max);
    return -1;
  }
  if (sim_mul_div(size, 8 * SIM_S, a->bps, 0) < 1000) {
    snprintf(err, errlen, "stream: more than a million fragments a second");
    return -1;
  }
  if ((ss = calloc(1, sizeof(*ss))) == NULL)
    goto oom;
  s->stream = ss;
  ss->a = a;
  ss->pub = a->set.r[0].lo;
  ss->size = size;
  ss->n = s->n;
  ss->t0 = ss->stop_at = ss->span_end = SIM_NONE;
  node_key(s->cfg->seed, ss->pub, ss->pk, ss->sk);
  (void)sc_stream_id(ss->id, ss->pk, a->name, strlen(a->name));
  sim_hist_init(&ss->latency);
  sim_hist_init(&ss->stretch);
  sim_hist_init(&ss->startup);
  ss->pl = calloc(s->n, sizeof(*ss->pl));
  ss->cache = malloc(CACHE * size);
  ss->cache_seq = malloc(CACHE * sizeof(*ss->cache_seq));
  if (ss->pl == NULL || ss->cache == NULL || ss->cache_seq == NULL)
    goto oom;
  for (size_t k = 0; k < CACHE; k++)
    ss->cache_seq[k] = SIM_NONE;
  for (uint32_t i = 0; i < s->n; i++)
    ss->pl[i].first_seq = ss->pl[i].first_startup = ss->pl[i].seen_lo =
        SIM_NONE;
  return 0;
oom:
  snprintf(err, errlen, "out of memory");
  return -1;
}

void sim_stream_del(struct sim_stream *ss) {
  if (ss == NULL)
    return;
  for (uint32_t i = 0; ss->pl != NULL && i < ss->n; i++) {
    free(ss->pl[i].ontime);
    free(ss->pl[i].lat);
    if (ss->pl[i].forger != NULL) {
      sodium_memzero(ss->pl[i].forger->sk, sizeof(ss->pl[i].forger->sk));
      free(ss->pl[i].forger);
    }
  }
  free(ss->pl);
  free(ss->pub_at);
  free(ss->cache);
  free(ss->cache_seq);
  sodium_memzero(ss->sk, sizeof(ss->sk));
  free(ss);
}

/* ---- counters ------------------------------------------------------------ */

void sim_stream_stats_add(sc_stream_stats *dst, const sc_stream_stats *src) {
  /* Every member is a uint64_t counter (stratocast.h). */
  uint64_t *d = (uint64_t *)dst;
  const uint64_t *c = (const uint64_t *)src;
  for (size_t k = 0; k < sizeof(*src) / sizeof(uint64_t); k++)
    d[k] += c[k];
}

/* A core's counters only grow, so a smaller one means the core forgot the
 * stream (idle) and made it anew. */
static int stream_stats_reset(const sc_stream_stats *now,
                              const sc_stream_stats *before) {
  const uint64_t *a = (const uint64_t *)now, *b = (const uint64_t *)before;
  for (size_t k = 0; k < sizeof(*now) / sizeof(uint64_t); k++)
    if (a[k] < b[k])
      return 1;
  return 0;
}

int sim_stream_live_info(const struct sim_stream *ss, const sim_node *nd,
                         sc_stream_info *out) {
  sc_stream_info info[STREAMS_MAX];
  if (nd->core == NULL)
    return 0;
  size_t n = sc_node_streams(nd->core, info, STREAMS_MAX);
  for (size_t k = 0; k < n && k < STREAMS_MAX; k++) {
    if (memcmp(info[k].stream_id, ss->id, SC_STREAM_ID_LEN) == 0) {
      *out = info[k];
      return 1;
    }
  }
  return 0;
}

void sim_stream_counters(const sim *s, uint32_t i, sc_stream_stats *out) {
  const struct sim_stream *ss = s->stream;
  const sim_player *pl = &ss->pl[i];
  sc_stream_info si;
  *out = pl->past;
  if (ss->span_end != SIM_NONE ||
      !sim_stream_live_info(ss, &s->nodes[i], &si)) {
    sim_stream_stats_add(out, &pl->cur);
    return;
  }
  if (stream_stats_reset(&si.stats, &pl->cur))
    sim_stream_stats_add(out, &pl->cur);
  sim_stream_stats_add(out, &si.stats);
}

/* Reads |nd|'s core: its counters until the span ends. Returns its
 * children if it is a forger, 0 otherwise. */
static uint32_t sample_node(struct sim_stream *ss, sim_node *nd) {
  sim_player *pl = &ss->pl[nd->index];
  sc_stream_info si;
  if (!sim_stream_live_info(ss, nd, &si))
    return 0;
  if (ss->span_end == SIM_NONE) {
    if (stream_stats_reset(&si.stats, &pl->cur))
      sim_stream_stats_add(&pl->past, &pl->cur);
    pl->cur = si.stats;
  }
  return pl->forger != NULL ? si.children : 0;
}

static void sample_all(sim *s) {
  struct sim_stream *ss = s->stream;
  uint64_t children = 0;
  for (uint32_t i = 0; i < s->n; i++)
    children += sample_node(ss, &s->nodes[i]);
  if (children > ss->children_peak)
    ss->children_peak = children;
}

/* Ends the measured span: the traffic counters' second snapshot and the
 * last reading of the stream counters. */
static void span_end(sim *s) {
  struct sim_stream *ss = s->stream;
  if (ss->span_end != SIM_NONE)
    return;
  sample_all(s);
  ss->span_end = s->now;
  sim_stats_sum(s, &ss->all1);
  sim_node_stats(&s->nodes[ss->pub], &ss->pub1);
}

uint64_t sim_stream_overlap(const struct sim_stream *ss, uint64_t from,
                            uint64_t to) {
  uint64_t end = ss->stop_at < to ? ss->stop_at : to;
  uint64_t start = ss->t0 > from ? ss->t0 : from;
  return ss->t0 != SIM_NONE && end > start ? end - start : 0;
}

/* How many seqs were published at least |deadline| before |end|. */
static size_t published_before(const struct sim_stream *ss, uint64_t deadline,
                               uint64_t end) {
  size_t lo = 0, hi = ss->npub;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ss->pub_at[mid] + deadline <= end)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void sim_stream_incarnation(const sim *s, const sim_node *nd, uint64_t end,
                            uint64_t *eligible, uint64_t *on_time) {
  const struct sim_stream *ss = s->stream;
  const sim_player *pl = &ss->pl[nd->index];
  *eligible = *on_time = 0;
  if (pl->first_seq == SIM_NONE)
    return;
  size_t upto = published_before(ss, s->cfg->deadline, end);
  if (upto <= pl->first_seq)
    return;
  uint64_t n = upto - pl->first_seq;
  *eligible = n;
  for (uint64_t w = 0; w < pl->ontime_words && w * 64 < n; w++) {
    uint64_t bits = pl->ontime[w];
    if (n - w * 64 < 64)
      bits &= ((uint64_t)1 << (n - w * 64)) - 1;
    *on_time += (uint64_t)__builtin_popcountll(bits);
  }
}

/* ---- nodes -----------------------------------------------------------------
 */

void sim_stream_node_up(sim *s, sim_node *nd) {
  struct sim_stream *ss = s->stream;
  uint32_t h;
  if (nd->index == ss->pub)
    return;
  int rv = sc_node_play(nd->core, s->cfg->groups[0], ss->a->name, ss->pk,
                        s->now, &h);
  if (rv == SC_ERR_NOMEM)
    s->oom = 1;
  else if (rv != 0)
    ss->play_errors++;
}

void sim_stream_node_down(sim *s, sim_node *nd) {
  struct sim_stream *ss = s->stream;
  sim_player *pl = &ss->pl[nd->index];
  uint64_t elig, ontime;
  if (ss->span_end == SIM_NONE) {
    sample_node(ss, nd);
    sim_stream_stats_add(&pl->past, &pl->cur);
    memset(&pl->cur, 0, sizeof(pl->cur));
  }
  sim_stream_incarnation(s, nd, s->now, &elig, &ontime);
  pl->eligible += elig;
  pl->on_time += ontime;
  if (pl->first_seq == SIM_NONE && nd->index != ss->pub &&
      sim_stream_overlap(ss, nd->started_at, s->now) >= SIM_SILENT_AFTER)
    pl->silent++;
  pl->first_seq = SIM_NONE;
  if (pl->ontime != NULL)
    memset(pl->ontime, 0, pl->ontime_words * sizeof(*pl->ontime));
  if (nd->index == ss->pub && ss->live) {
    /* A new core would start again at seq 0: the stream ends here. */
    ss->live = 0;
    ss->stop_at = s->now;
    sim_push(s, s->now + s->cfg->deadline, EV_SPAN_END, 0, NULL);
  }
}

/* ---- playing
 * ----------------------------------------------------------------- */

/* Whether |ch| is exactly what was published as its seq. */
static int is_authentic(struct sim_stream *ss, uint64_t seed,
                        const sc_play_chunk *ch) {
  if (ch->seq >= ss->npub || ch->len != ss->size ||
      ch->timestamp_us != ss->pub_at[ch->seq] / 1000 ||
      !ch->keyframe != !is_keyframe(ss, ch->seq))
    return 0;
  return memcmp(ch->data, payload_of(ss, seed, ch->seq), ss->size) == 0;
}

static void lh_add(uint32_t *lat, uint64_t v) {
  const unsigned top = SIM_LH_MIN_BITS + SIM_LH_OCTAVES - 1;
  size_t b = 0;
  if (v > ((uint64_t)2 << top) - 1)
    v = ((uint64_t)2 << top) - 1; /* the last bucket takes the rest */
  if (v >= (uint64_t)1 << SIM_LH_MIN_BITS) {
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    b = 1 + (size_t)(e - SIM_LH_MIN_BITS) * SIM_LH_SUB +
        (size_t)((v >> (e - 5)) & (SIM_LH_SUB - 1));
  }
  lat[b]++;
}

uint64_t sim_lh_median(const uint32_t *lat, uint64_t n, uint64_t max) {
  uint64_t rank = (n + 1) / 2, seen = 0, top = 0;
  for (size_t b = 0; lat != NULL && b < SIM_LH_BUCKETS; b++) {
    seen += lat[b];
    if (seen >= rank && rank > 0) {
      if (b == 0) {
        top = ((uint64_t)1 << SIM_LH_MIN_BITS) - 1;
      } else {
        unsigned e = SIM_LH_MIN_BITS + (unsigned)((b - 1) / SIM_LH_SUB);
        uint64_t sub = (b - 1) % SIM_LH_SUB;
        top = ((SIM_LH_SUB + sub + 1) << (e - 5)) - 1;
      }
      break;
    }
  }
  return top < max ? top : max;
}

/* Marks |seq| played on time in this start's bitmap. */
static int mark_on_time(sim_player *pl, uint64_t seq) {
  uint64_t k = seq - pl->first_seq;
  if (k / 64 >= pl->ontime_words) {
    size_t words = pl->ontime_words ? pl->ontime_words : 16;
    while (words <= k / 64)
      words *= 2;
    uint64_t *p = realloc(pl->ontime, words * sizeof(*p));
    if (p == NULL)
      return -1;
    memset(p + pl->ontime_words, 0, (words - pl->ontime_words) * sizeof(*p));
    pl->ontime = p;
    pl->ontime_words = words;
  }
  pl->ontime[k / 64] |= (uint64_t)1 << (k % 64);
  return 0;
}

static void record_play(sim *s, sim_node *nd, sim_player *pl, uint64_t seq) {
  struct sim_stream *ss = s->stream;
  uint64_t lat = s->now - ss->pub_at[seq];
  uint64_t direct = sim_net_latency(s->net, ss->pub, nd->index);
  if (pl->first_seq == SIM_NONE) {
    uint64_t from = nd->started_at > ss->t0 ? nd->started_at : ss->t0;
    pl->first_seq = pl->seen_lo = seq;
    if (pl->forger == NULL)
      sim_hist_add(&ss->startup, s->now - from);
    if (pl->first_startup == SIM_NONE)
      pl->first_startup = s->now - from;
  } else if (seq <= pl->last_seq) {
    pl->order_errors++;
    return;
  }
  pl->last_seq = pl->seen_hi = seq;
  pl->played++;
  if (pl->forger == NULL) { /* forgers are left out of the figures */
    sim_hist_add(&ss->latency, lat);
    if (direct > 0)
      sim_hist_add(&ss->stretch, sim_mul_div(lat, 1000, direct, 0));
  }
  if (pl->lat == NULL &&
      (pl->lat = calloc(SIM_LH_BUCKETS, sizeof(*pl->lat))) == NULL) {
    s->oom = 1;
    return;
  }
  lh_add(pl->lat, lat);
  if (lat > pl->lat_max)
    pl->lat_max = lat;
  if (lat > s->cfg->deadline)
    pl->late++;
  else if (mark_on_time(pl, seq) != 0)
    s->oom = 1;
}

void sim_stream_on_play(void *user, const sc_play_chunk *ch) {
  sim_node *nd = user;
  sim *s = nd->sim;
  struct sim_stream *ss = s->stream;
  sim_player *pl = &ss->pl[nd->index];
  if (!is_authentic(ss, s->cfg->seed, ch)) {
    pl->forged++;
    return;
  }
  record_play(s, nd, pl, ch->seq);
}

/* ---- publishing ------------------------------------------------------------
 */

static void stream_start(sim *s) {
  struct sim_stream *ss = s->stream;
  sim_node *pub = &s->nodes[ss->pub];
  if (ss->t0 != SIM_NONE)
    return;
  ss->t0 = s->now;
  sim_stats_sum(s, &ss->all0);
  sim_node_stats(pub, &ss->pub0);
  ss->publish_rv = SIM_PUBLISHER_DOWN;
  if (pub->core != NULL && pub->state == SIM_NODE_UP) {
    ss->publish_rv = sc_node_publish(pub->core, s->cfg->groups[0], ss->a->name,
                                     ss->sk, s->now, &ss->handle);
    sim_after_activity(s, pub);
  }
  if (ss->publish_rv == SC_ERR_NOMEM)
    s->oom = 1;
  ss->live = ss->publish_rv == 0;
  if (ss->live) {
    sim_push(s, s->now, EV_FRAGMENT, 0, NULL);
  } else {
    ss->stop_at = s->now;
    sim_push(s, s->now + s->cfg->deadline, EV_SPAN_END, 0, NULL);
  }
  sim_push(s, s->now + SAMPLE_EVERY, EV_SAMPLE, 0, NULL);
}

static void stream_stop(sim *s) {
  struct sim_stream *ss = s->stream;
  if (!ss->live)
    return;
  ss->live = 0;
  ss->stop_at = s->now;
  sim_push(s, s->now + s->cfg->deadline, EV_SPAN_END, 0, NULL);
}

static void publish_next(sim *s) {
  struct sim_stream *ss = s->stream;
  sim_node *pub = &s->nodes[ss->pub];
  uint64_t seq = ss->npub;
  if (!ss->live)
    return;
  if (ss->npub == ss->pub_cap) {
    size_t cap = ss->pub_cap ? 2 * ss->pub_cap : 4096;
    uint64_t *p = realloc(ss->pub_at, cap * sizeof(*p));
    if (p == NULL) {
      s->oom = 1;
      return;
    }
    ss->pub_at = p;
    ss->pub_cap = cap;
  }
  int key = is_keyframe(ss, seq);
  int rv = sc_node_publish_fragment(pub->core, ss->handle,
                                    payload_of(ss, s->cfg->seed, seq), ss->size,
                                    key, s->now);
  sim_after_activity(s, pub);
  if (rv != 0) {
    /* The core and the simulator would disagree on seqs from here. */
    ss->publish_rv = rv;
    s->oom |= rv == SC_ERR_NOMEM;
    stream_stop(s);
    return;
  }
  ss->pub_at[ss->npub++] = s->now;
  ss->keyframes += (uint64_t)key;
  sim_push(s, ss->t0 + offset_of(ss, seq + 1), EV_FRAGMENT, 0, NULL);
}

/* ---- forgers
 * ----------------------------------------------------------------- */

static int forger_new(sim *s, uint32_t i) {
  struct sim_stream *ss = s->stream;
  sim_forger *f = calloc(1, sizeof(*f));
  uint8_t pk[SC_STREAM_KEY_LEN];
  if (f == NULL)
    return -1;
  sim_rng_seed(&f->rng, s->cfg->seed, STREAM_FORGE + i);
  node_key(s->cfg->seed, i, pk, f->sk);
  ss->pl[i].forger = f;
  ss->nforgers++;
  return 0;
}

static void act_forge(sim *s, const sim_action *a) {
  struct sim_stream *ss = s->stream;
  uint32_t cnt = sim_set_count(&a->set, s->n), k;
  for (k = 0; k < cnt; k++) {
    uint32_t i = sim_set_nth(&a->set, s->n, k);
    sim_forger *f = ss->pl[i].forger;
    if (i == ss->pub)
      continue; /* it holds the real key: it has nothing to forge */
    if (f == NULL && a->rate > 0) {
      if (forger_new(s, i) != 0) {
        s->oom = 1;
        return;
      }
      f = ss->pl[i].forger;
    }
    if (f == NULL)
      continue;
    f->rate = a->rate;
    f->gen++;
    if (f->rate > 0) {
      /* Spread the forgers over one period. */
      uint64_t period = (uint64_t)(1e9 / f->rate + 0.5);
      sim_push(s, s->now + period * k / cnt, EV_FORGE, i,
               (void *)(uintptr_t)f->gen);
    }
  }
}

/* Encodes a fragment datagram (kind byte first) into |buf|; its length. */
static size_t frag_dgram(uint8_t *buf, size_t cap, const uint8_t *id,
                         uint64_t seq, uint64_t ts, int key,
                         const uint8_t *data, size_t len) {
  sc_frag f;
  sc_wr w;
  memcpy(f.stream_id, id, SC_STREAM_ID_LEN);
  f.seq = seq;
  f.timestamp_us = ts;
  f.flags = key ? SC_FRAG_KEYFRAME : 0;
  f.payload = data;
  f.payload_len = len;
  buf[0] = SC_DG_FRAGMENT;
  sc_wr_init(&w, buf + 1, cap - 1);
  return sc_frag_write(&w, &f) == 0 ? w.len + 1 : 0;
}

/* The three datagrams of one attack. */
typedef struct attack_dg {
  uint8_t frag[SC_MAX_PACKET], man[SC_MAX_PACKET], replay[SC_MAX_PACKET];
  size_t frag_len, man_len, replay_len;
} attack_dg;

static void attack_build(sim *s, const sim_player *pl, uint64_t top,
                         attack_dg *at) {
  struct sim_stream *ss = s->stream;
  sim_forger *f = pl->forger;
  uint8_t junk[SC_MAX_PACKET];
  sc_manifest m;
  sc_wr w;
  uint64_t seq = top + 1 + sim_rng_below(&f->rng, FORGE_AHEAD);
  sim_rng_bytes(&f->rng, junk, ss->size);
  at->frag_len = frag_dgram(at->frag, sizeof(at->frag), ss->id, seq,
                            s->now / 1000, 1, junk, ss->size);
  memset(&m, 0, sizeof(m));
  memcpy(m.stream_id, ss->id, SC_STREAM_ID_LEN);
  m.first = seq;
  m.count = 1;
  sc_frag_hash(m.hash[0], at->frag + 1, at->frag_len - 1);
  at->man[0] = SC_DG_MANIFEST;
  sc_wr_init(&w, at->man + 1, sizeof(at->man) - 1);
  at->man_len =
      sc_manifest_sign(&m, f->sk) == 0 && sc_manifest_write(&w, &m) == 0
          ? w.len + 1
          : 0;
  /* A replay: one of the authentic fragments it played last. */
  at->replay_len = 0;
  if (pl->seen_lo != SIM_NONE) {
    uint64_t r =
        pl->seen_lo + sim_rng_below(&f->rng, pl->seen_hi - pl->seen_lo + 1);
    at->replay_len = frag_dgram(at->replay, sizeof(at->replay), ss->id, r,
                                ss->pub_at[r] / 1000, is_keyframe(ss, r),
                                payload_of(ss, s->cfg->seed, r), ss->size);
  }
}

/* Sends one datagram of an attack; counts it when it was queued. */
static void attack_send(sc_session *ses, const uint8_t *buf, size_t len,
                        uint64_t now, uint64_t *sent) {
  if (len > 0 &&
      sc_session_send_dgram(ses, buf, len, SC_DGRAM_STREAM, now) == 0)
    (*sent)++;
}

static void attack_all(sim *s, sim_node *nd) {
  struct sim_stream *ss = s->stream;
  sc_stream_info si;
  attack_dg at;
  if (!sim_stream_live_info(ss, nd, &si) || si.top == SIM_NONE)
    return;
  attack_build(s, &ss->pl[nd->index], si.top, &at);
  size_t n = sc_node_session_count(nd->core);
  sc_session_info *info = calloc(n ? n : 1, sizeof(*info));
  if (info == NULL) {
    s->oom = 1;
    return;
  }
  n = sc_node_sessions(nd->core, info, n);
  for (size_t k = 0; k < n; k++) {
    sc_session *ses = info[k].has_peer_id
                          ? sc_node_session_with(nd->core, info[k].peer_id)
                          : NULL;
    if (ses == NULL || !sc_session_is_usable(ses))
      continue;
    attack_send(ses, at.frag, at.frag_len, s->now, &ss->forged_sent);
    attack_send(ses, at.man, at.man_len, s->now, &ss->manifests_sent);
    attack_send(ses, at.replay, at.replay_len, s->now, &ss->replays_sent);
  }
  free(info);
  sc_node_refresh_expiry(nd->core);
  sim_after_activity(s, nd);
}

static void forge_tick(sim *s, uint32_t i, uint32_t gen) {
  sim_node *nd = &s->nodes[i];
  sim_forger *f = s->stream->pl[i].forger;
  if (f == NULL || f->gen != gen || f->rate <= 0)
    return;
  if (nd->core != NULL && nd->state == SIM_NODE_UP)
    attack_all(s, nd);
  uint64_t period = (uint64_t)(1e9 / f->rate + 0.5);
  sim_push(s, s->now + (period ? period : 1), EV_FORGE, i,
           (void *)(uintptr_t)gen);
}

/* ---- the world's hooks -----------------------------------------------------
 */

void sim_stream_action(sim *s, const sim_action *a) {
  switch (a->verb) {
  case SIM_ACT_STREAM:
    stream_start(s);
    break;
  case SIM_ACT_STREAM_STOP:
    stream_stop(s);
    break;
  case SIM_ACT_FORGE:
    act_forge(s, a);
    break;
  default:
    break;
  }
}

void sim_stream_event(sim *s, const sim_event *e) {
  switch (e->kind) {
  case EV_FRAGMENT:
    publish_next(s);
    break;
  case EV_SAMPLE:
    sample_all(s);
    sim_push(s, s->now + SAMPLE_EVERY, EV_SAMPLE, 0, NULL);
    break;
  case EV_SPAN_END:
    span_end(s);
    break;
  case EV_FORGE:
    forge_tick(s, e->node, (uint32_t)(uintptr_t)e->ptr);
    break;
  default:
    break;
  }
}
