/*
 * sc_mcast.c: the multicast engine (doc/protocol.md §13).
 *
 * The parts, in file order: streams and neighbours (creation, lookup,
 * syncing the neighbour list with the group's member links), sending,
 * publishing, receiving (fragments, manifests, maps, pulls, STREAM, PUSH),
 * playing, the scheduler (class choice, maps, pulls) and the public API.
 *
 * Times are ns; fragment timestamps are µs (the publisher's clock).
 */
#include "sc_mcast.h"

#include <sodium.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_mcastmsg.h"
#include "sc_mem.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_session.h"
#include "sc_stream.h"
#include "sc_window.h"

#define TICK (20 * SC_MS)
#define REVIEW (500 * SC_MS)        /* class choice and neighbour sync */
#define PEERS_MAX 64                /* neighbours per stream */
#define TRACK 512                   /* seqs followed for pulls (2^k) */
#define SCAN_MAX 256                /* seqs examined per tick */
#define PULL_PER_PEER 48            /* outstanding pulls per neighbour */
#define PULL_TRIES 6                /* then the player skips it */
#define PULL_TIMEOUT_MIN (60 * SC_MS)
#define PULL_TIMEOUT_MAX (1 * SC_SEC)
#define PUSH_WAIT (300 * SC_MS)     /* a pusher's head start on a pull */
#define MANIFEST_WAIT (100 * SC_MS) /* a pending fragment waits, then pull */
#define STALL (1500 * SC_MS)        /* a pusher silent on its class */
#define REFUSED_FOR (30 * SC_SEC)   /* a stalled pusher is not asked again */
#define MOVE_MARGIN (15 * SC_MS)    /* a challenger must be this much ahead */
#define SPREAD (8 * SC_MS)          /* score cost of each class held */
#define LEAD_SAMPLES 3              /* before a lead estimate counts */
#define MAP_FRESH (2 * SC_SEC)      /* a map older than this says nothing */
#define MAP_REFRESH (1 * SC_SEC)    /* an unchanged map is resent after */
#define MAP_EXTRA 3                 /* map subscriptions beside pushers */
#define ROTATE (5 * SC_SEC)         /* the exploring subscription moves */
#define BAN_BASE (60 * SC_SEC)      /* doubles with each offence */
#define JUNK_LIMIT 64               /* unasked useless fragments, decaying */
#define STREAM_IDLE (30 * SC_SEC)   /* no authentic data: forget it */

#define CLASS(seq) ((unsigned)((seq) % SC_MC_CLASSES))
#define NONE UINT64_MAX

/* ---- state ----------------------------------------------------------------
 */

typedef struct mpeer {
  uint32_t sid;
  uint16_t asked;   /* what this node asked it for (SC_PUSH_* bits) */
  uint16_t granted; /* what it asked of this node, as honoured */
  int announced;    /* it has been told of the stream */
  /* its last map */
  uint64_t map_top, map_key, map_bits, map_at, map_eta;
  unsigned map_nbits;
  uint8_t map_hops[SC_MC_CLASSES];
  int map_sampled; /* the lead sample of map_top was taken */
  /* how much sooner than this node it gets fragments, per class (ns) */
  int64_t lead[SC_MC_CLASSES];
  uint32_t lead_n[SC_MC_CLASSES];
  uint64_t class_since[SC_MC_CLASSES]; /* asked to push class c since */
  uint64_t class_last[SC_MC_CLASSES];  /* last pushed seq of class c + 1 */
  uint64_t class_last_at[SC_MC_CLASSES];
  uint64_t refused_until; /* stalled as a pusher: not asked again before */
  uint32_t outstanding;   /* pulls asked of it */
  uint64_t next_map, sent_top, sent_at;
  uint64_t banned_until;
  uint32_t offences, junk;
  uint64_t rtt;
} mpeer;

typedef struct track {
  uint64_t seq; /* NONE: free */
  uint64_t known_at, asked_at;
  uint32_t sid; /* asked of, 0: not asked */
  uint8_t tries;
} track;

typedef struct sc_mstream {
  uint32_t handle;
  uint8_t id[SC_STREAM_ID_LEN];
  uint64_t tag;
  uint8_t key[SC_STREAM_KEY_LEN];
  char name[SC_STREAM_NAME_MAX + 1];
  sc_mgroup *g;
  sc_window *win;
  unsigned roles;
  /* publisher */
  uint8_t sk[SC_STREAM_SECRET_LEN];
  sc_manifest blk; /* the open block, blk.count fragments so far */
  uint64_t blk_started, next_seq;
  /* neighbours */
  mpeer *p;
  size_t np, pcap;
  uint32_t rotate_sid;
  uint64_t rotate_at;
  /* what exists and what is wanted */
  uint64_t start;     /* tune-in seq, NONE until chosen */
  uint64_t known_top; /* the highest seq known to exist, NONE */
  uint64_t scan;      /* no seq in [start, scan) is missing */
  track tr[TRACK];
  /* playing */
  uint32_t play;      /* play handle, 0: not playing */
  uint64_t next_play; /* NONE until the start is known */
  uint64_t gap_since; /* NONE: no gap open */
  int play_started;   /* a keyframe was played */
  /* timers and counters */
  uint64_t last_data, next_tick, next_review;
  uint64_t latency, latency_max; /* µs */
  int has_latency;
  sc_stream_stats st;
} sc_mstream;

typedef sc_mstream mstream;

static uint64_t jitter(sc_node *node, uint64_t base) {
  uint8_t b[2];
  sc_node_rand(node, b, sizeof(b));
  return base / 2 + (base * ((uint64_t)b[0] << 8 | b[1])) / 65536;
}

static int peer_valid(const sc_node *node, const mpeer *p, uint64_t now) {
  sc_session *s = sc_node_session(node, p->sid);
  return s != NULL && sc_session_is_usable(s) && p->banned_until <= now;
}

static mpeer *peer_by_sid(mstream *st, uint32_t sid) {
  size_t i;
  for (i = 0; i < st->np; i++) {
    if (st->p[i].sid == sid) {
      return &st->p[i];
    }
  }
  return NULL;
}

static int is_linked(const sc_mgroup *g, uint32_t sid) {
  size_t i;
  for (i = 0; i < g->n; i++) {
    if (g->m[i].sid == sid) {
      return 1;
    }
  }
  return 0;
}

static mpeer *peer_add(sc_node *node, mstream *st, uint32_t sid) {
  mpeer *p;
  sc_session *s;
  size_t c;
  if (st->np == PEERS_MAX) {
    return NULL;
  }
  if (st->np == st->pcap) {
    c = st->pcap ? 2 * st->pcap : 8;
    p = sc_mem_realloc(node->mem, st->p, c * sizeof(*p));
    if (p == NULL) {
      return NULL;
    }
    st->p = p;
    st->pcap = c;
  }
  p = &st->p[st->np++];
  memset(p, 0, sizeof(*p));
  p->sid = sid;
  p->map_top = p->map_key = NONE;
  memset(p->map_hops, 255, sizeof(p->map_hops));
  s = sc_node_session(node, sid);
  p->rtt = s != NULL && s->rtt.has_sample ? s->rtt.smoothed : 0;
  return p;
}

/* A neighbour of the stream: an existing one, or a member link of the
 * stream's group that sent something. NULL for anyone else. */
static mpeer *peer_for(sc_node *node, mstream *st, uint32_t sid) {
  mpeer *p = peer_by_sid(st, sid);
  if (p == NULL && is_linked(st->g, sid)) {
    p = peer_add(node, st, sid);
  }
  return p;
}

static void track_forget(mpeer *p, track *t) {
  if (t->sid != 0 && p != NULL && p->sid == t->sid && p->outstanding > 0) {
    p->outstanding--;
  }
  t->sid = 0;
}

static void peer_remove(mstream *st, size_t i) {
  uint32_t sid = st->p[i].sid;
  size_t k;
  for (k = 0; k < TRACK; k++) {
    if (st->tr[k].sid == sid) {
      st->tr[k].sid = 0;
    }
  }
  st->p[i] = st->p[--st->np];
}

static mstream *stream_by_id(const sc_node *node, const uint8_t *id) {
  size_t i;
  for (i = 0; i < node->mcast.nstreams; i++) {
    if (memcmp(node->mcast.streams[i]->id, id, SC_STREAM_ID_LEN) == 0) {
      return node->mcast.streams[i];
    }
  }
  return NULL;
}

/* By tag; NULL when none or more than one match (§13.2). */
static mstream *stream_by_tag(const sc_node *node, uint64_t tag) {
  mstream *found = NULL;
  size_t i;
  for (i = 0; i < node->mcast.nstreams; i++) {
    if (node->mcast.streams[i]->tag == tag) {
      if (found != NULL) {
        return NULL;
      }
      found = node->mcast.streams[i];
    }
  }
  return found;
}

static sc_mgroup *group_by_id(const sc_node *node, const uint8_t *id) {
  size_t i;
  for (i = 0; i < node->mesh.ngroups; i++) {
    if (memcmp(node->mesh.groups[i]->spec.id, id, SC_GROUP_ID_LEN) == 0) {
      return node->mesh.groups[i];
    }
  }
  return NULL;
}

static uint32_t new_handle(sc_node *node) {
  if (++node->mcast.next_handle == 0) {
    node->mcast.next_handle = 1;
  }
  return node->mcast.next_handle;
}

static void play_bind(sc_node *node, mstream *st);

static void stream_free(sc_node *node, mstream *st) {
  sc_window_del(st->win);
  sc_mem_free(node->mem, st->p);
  sodium_memzero(st->sk, sizeof(st->sk));
  sc_mem_free(node->mem, st);
}

static int stream_new(sc_node *node, sc_mgroup *g,
                      const uint8_t key[SC_STREAM_KEY_LEN], const char *name,
                      size_t name_len, uint64_t now, mstream **out) {
  sc_mcast *mc = &node->mcast;
  uint8_t id[SC_STREAM_ID_LEN];
  mstream *st;
  size_t k;
  int rv = sc_stream_id(id, key, name, name_len);
  if (rv != 0) {
    return rv;
  }
  if (stream_by_id(node, id) != NULL) {
    return SC_ERR_STATE;
  }
  if (mc->nstreams == SC_MCAST_STREAMS_MAX) {
    return SC_ERR_LIMIT;
  }
  st = sc_mem_calloc(node->mem, 1, sizeof(*st));
  if (st == NULL) {
    return SC_ERR_NOMEM;
  }
  rv = sc_window_new(&st->win, node->mem, id, key,
                     (node->settings.stream_window +
                      node->settings.relay_margin) /
                         1000);
  if (rv != 0) {
    sc_mem_free(node->mem, st);
    return rv;
  }
  st->handle = new_handle(node);
  memcpy(st->id, id, SC_STREAM_ID_LEN);
  st->tag = sc_stream_tag(id);
  memcpy(st->key, key, SC_STREAM_KEY_LEN);
  memcpy(st->name, name, name_len);
  st->name[name_len] = '\0';
  st->g = g;
  st->roles = SC_STREAM_RELAY;
  st->start = st->known_top = st->next_play = st->gap_since = NONE;
  for (k = 0; k < TRACK; k++) {
    st->tr[k].seq = NONE;
  }
  st->last_data = now;
  st->next_tick = now;
  st->next_review = now;
  mc->streams[mc->nstreams++] = st;
  play_bind(node, st);
  *out = st;
  return 0;
}

static void stream_remove(sc_node *node, size_t i) {
  sc_mcast *mc = &node->mcast;
  stream_free(node, mc->streams[i]);
  mc->streams[i] = mc->streams[--mc->nstreams];
}

void sc_mcast_free(sc_node *node) {
  while (node->mcast.nstreams > 0) {
    stream_remove(node, node->mcast.nstreams - 1);
  }
}

/* ---- sending ----------------------------------------------------------------
 */

static int dg_send(sc_node *node, uint32_t sid, const uint8_t *buf, size_t len,
                   int stream, uint64_t now) {
  sc_session *s = sc_node_session(node, sid);
  if (s == NULL || !sc_session_is_usable(s)) {
    return SC_ERR_STATE;
  }
  return sc_session_send_dgram(s, buf, len, stream, now);
}

/* Sends a stored item (fragment or manifest) with its kind byte. */
static int send_item(sc_node *node, uint32_t sid, uint8_t kind,
                     const uint8_t *data, size_t len, uint64_t now) {
  uint8_t *buf = node->mcbuf;
  if (len + 1 > sizeof(node->mcbuf)) {
    return SC_ERR_INVALID_ARG;
  }
  buf[0] = kind;
  memcpy(buf + 1, data, len);
  return dg_send(node, sid, buf, len + 1, 1, now);
}

static void send_push(sc_node *node, mstream *st, mpeer *p, uint16_t mask,
                      uint64_t now) {
  sc_push_msg m;
  uint8_t body[64];
  sc_session *s = sc_node_session(node, p->sid);
  sc_wr w;
  unsigned c;
  for (c = 0; c < SC_MC_CLASSES; c++) {
    if ((mask & ~p->asked) & (1u << c)) {
      p->class_since[c] = now;
    }
  }
  p->asked = mask;
  if (s == NULL || !sc_session_is_usable(s)) {
    return;
  }
  memcpy(m.stream_id, st->id, SC_STREAM_ID_LEN);
  m.mask = mask;
  sc_wr_init(&w, body, sizeof(body));
  if (sc_push_write(&w, &m) == 0) {
    (void)sc_session_send_msg(s, SC_MSG_PUSH, body, w.len, now);
  }
}

static void announce(sc_node *node, mstream *st, mpeer *p, uint64_t now) {
  sc_stream_msg m;
  uint8_t body[SC_MSG_MAX];
  sc_session *s = sc_node_session(node, p->sid);
  sc_wr w;
  p->announced = 1;
  if (s == NULL || !sc_session_is_usable(s)) {
    return;
  }
  memcpy(m.group_id, st->g->spec.id, SC_GROUP_ID_LEN);
  memcpy(m.key, st->key, SC_STREAM_KEY_LEN);
  m.name_len = strlen(st->name);
  memcpy(m.name, st->name, m.name_len + 1);
  sc_wr_init(&w, body, sizeof(body));
  if (sc_stream_msg_write(&w, &m) == 0) {
    (void)sc_session_send_msg(s, SC_MSG_STREAM, body, w.len, now);
  }
}

/* Pushes the authentic fragment |seq| to every neighbour that asked for
 * its class, except |from| (it came from there). */
static void push_fragment(sc_node *node, mstream *st, uint64_t seq,
                          uint32_t from, uint64_t now) {
  size_t i, len;
  const uint8_t *data = sc_window_get(st->win, seq, &len);
  unsigned bit = 1u << CLASS(seq);
  if (data == NULL) {
    return;
  }
  for (i = 0; i < st->np; i++) {
    mpeer *p = &st->p[i];
    if (!(p->granted & bit) || p->sid == from || p->banned_until > now) {
      continue;
    }
    if (send_item(node, p->sid, SC_DG_FRAGMENT, data, len, now) == 0) {
      st->st.fragments_pushed_to_peers++;
      st->st.bytes_pushed_to_peers += len;
    } else {
      st->st.push_drops++;
    }
  }
}

/* Forwards a verified manifest of the block starting at |first|: a
 * manifest belongs to the class of its first seq, so each neighbour gets
 * it once, from the pusher of that class (a publisher sends it to every
 * neighbour it pushes to: they hold its fragments already). */
static void push_manifest(sc_node *node, mstream *st, const uint8_t *data,
                          size_t len, uint64_t first, uint32_t from,
                          uint64_t now) {
  size_t i;
  uint16_t want = (st->roles & SC_STREAM_PUBLISHER)
                      ? SC_PUSH_CLASSES
                      : (uint16_t)(1u << CLASS(first));
  for (i = 0; i < st->np; i++) {
    mpeer *p = &st->p[i];
    if (!(p->granted & want) || p->sid == from || p->banned_until > now) {
      continue;
    }
    if (send_item(node, p->sid, SC_DG_MANIFEST, data, len, now) != 0) {
      st->st.push_drops++;
    }
  }
}

/* ---- authentic fragments ----------------------------------------------------
 */

static void play_run(sc_node *node, mstream *st, uint64_t now);

static void lead_sample(mpeer *p, unsigned c, int64_t v) {
  p->lead[c] = p->lead_n[c] == 0 ? v : (3 * p->lead[c] + v) / 4;
  if (p->lead_n[c] < UINT32_MAX) {
    p->lead_n[c]++;
  }
}

/* Chooses where to tune in, once the first authentic fragment |a| is
 * here: the newest keyframe the neighbours' maps show at or below it and
 * not far behind, else |a| itself. */
static void tune_in(mstream *st, uint64_t a, uint64_t now) {
  uint64_t best = sc_window_keyframe(st->win);
  size_t i;
  if (best == NONE || best > a) {
    best = NONE;
  }
  for (i = 0; i < st->np; i++) {
    const mpeer *p = &st->p[i];
    uint64_t k = p->map_key;
    if (k != NONE && k <= a && a - k < TRACK / 2 &&
        now - p->map_at < MAP_FRESH && (best == NONE || k > best)) {
      best = k;
    }
  }
  st->start = best != NONE ? best : a;
  st->scan = st->start;
  st->known_top = a;
  if (st->play != 0 && st->next_play == NONE) {
    st->next_play = st->start;
  }
}

/* |seq| just became authentic here (from |from|, 0 for this node). */
static void on_authentic(sc_node *node, mstream *st, uint64_t seq,
                         uint32_t from, uint64_t now) {
  track *t = &st->tr[seq % TRACK];
  size_t i, len;
  const uint8_t *data = sc_window_get(st->win, seq, &len);
  sc_frag f;
  st->last_data = now;
  if (t->seq == seq) {
    track_forget(peer_by_sid(st, t->sid), t);
    t->seq = NONE;
  }
  if (st->start == NONE) {
    tune_in(st, seq, now);
  }
  if (st->known_top == NONE || seq > st->known_top) {
    st->known_top = seq;
  }
  /* Lead samples: a neighbour whose map already showed this seq. */
  for (i = 0; i < st->np; i++) {
    mpeer *p = &st->p[i];
    if (p->map_top == seq && !p->map_sampled) {
      p->map_sampled = 1;
      lead_sample(p, CLASS(seq), (int64_t)(now - p->map_eta));
    }
  }
  if (data != NULL && sc_frag_read(&f, data, len) == 0 &&
      now / 1000 >= f.timestamp_us) {
    uint64_t lat = now / 1000 - f.timestamp_us;
    st->latency = st->has_latency ? (7 * st->latency + lat) / 8 : lat;
    st->has_latency = 1;
    st->latency_max = SC_MAX(st->latency_max, lat);
  }
  if (!(st->roles & SC_STREAM_PUBLISHER)) {
    push_fragment(node, st, seq, from, now);
  }
  play_run(node, st, now);
}

/* A neighbour sent a forgery: it loses its roles and is ignored for a
 * while, longer each time. */
static void penalize(sc_node *node, mstream *st, mpeer *p, uint64_t now) {
  unsigned shift;
  st->st.forgeries++;
  if (p == NULL) {
    return;
  }
  shift = SC_MIN(p->offences, 6u);
  p->offences++;
  p->banned_until = now + (BAN_BASE << shift);
  st->st.peers_banned++;
  p->granted = 0;
  if (p->asked != 0) {
    send_push(node, st, p, 0, now);
  }
  sc_node_log(node, SC_LOG_WARN,
              "stream %s: banned session %08x for a forgery",
              st->name, (unsigned)p->sid);
}

static void junk(sc_node *node, mstream *st, mpeer *p, uint64_t now) {
  if (p != NULL && ++p->junk > JUNK_LIMIT) {
    p->junk = 0;
    penalize(node, st, p, now);
  }
}

/* ---- publishing ---------------------------------------------------------------
 */

static void close_block(sc_node *node, mstream *st, uint64_t now) {
  uint8_t enc[SC_MANIFEST_MAX_LEN];
  sc_window_release rel;
  sc_wr w;
  size_t i;
  uint64_t first = st->blk.first;
  if (st->blk.count == 0) {
    return;
  }
  (void)sc_manifest_sign(&st->blk, st->sk);
  sc_wr_init(&w, enc, sizeof(enc));
  (void)sc_manifest_write(&w, &st->blk);
  st->blk.count = 0;
  st->st.manifests_published++;
  if (sc_window_add_manifest(st->win, enc, w.len, now, &rel) !=
      SC_WIN_ACCEPTED) {
    return;
  }
  push_manifest(node, st, enc, w.len, first, 0, now);
  for (i = 0; i < rel.n; i++) {
    on_authentic(node, st, rel.seq[i], 0, now);
  }
}

/* Sends a just-published fragment to the classes' subscribers at once:
 * they hold it until the manifest comes, which saves them a block's wait
 * per hop. */
static void push_new(sc_node *node, mstream *st, const uint8_t *enc,
                     size_t len, uint64_t seq, uint64_t now) {
  unsigned bit = 1u << CLASS(seq);
  size_t i;
  for (i = 0; i < st->np; i++) {
    mpeer *p = &st->p[i];
    if (!(p->granted & bit) || p->banned_until > now) {
      continue;
    }
    if (send_item(node, p->sid, SC_DG_FRAGMENT, enc, len, now) == 0) {
      st->st.fragments_pushed_to_peers++;
      st->st.bytes_pushed_to_peers += len;
    } else {
      st->st.push_drops++;
    }
  }
}

static int publish_fragment(sc_node *node, mstream *st, const uint8_t *data,
                            size_t len, int keyframe, uint64_t now) {
  uint8_t enc[SC_MAX_PACKET];
  sc_frag f;
  sc_wr w;
  if (st->blk.count == 0) {
    memcpy(st->blk.stream_id, st->id, SC_STREAM_ID_LEN);
    st->blk.first = st->next_seq;
    st->blk_started = now;
  }
  memcpy(f.stream_id, st->id, SC_STREAM_ID_LEN);
  f.seq = st->next_seq++;
  f.timestamp_us = now / 1000;
  f.flags = keyframe ? SC_FRAG_KEYFRAME : 0;
  f.payload = data;
  f.payload_len = len;
  sc_wr_init(&w, enc, sizeof(enc));
  if (sc_frag_write(&w, &f) != 0) {
    return SC_ERR_INVALID_ARG;
  }
  sc_frag_hash(st->blk.hash[st->blk.count++], enc, w.len);
  st->st.fragments_from_source++;
  st->st.bytes_from_source += len;
  (void)sc_window_add_fragment(st->win, enc, w.len, 0, now);
  push_new(node, st, enc, w.len, f.seq, now);
  if (st->blk.count == SC_STREAM_BLOCK) {
    close_block(node, st, now);
  }
  return 0;
}

/* ---- receiving ----------------------------------------------------------------
 */

static void on_fragment(sc_node *node, sc_session *s, const uint8_t *data,
                        size_t len, uint64_t now) {
  sc_frag f;
  mstream *st;
  mpeer *p;
  track *t;
  int rv, asked, pulled;
  if (sc_frag_read(&f, data, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  st = stream_by_id(node, f.stream_id);
  p = st != NULL ? peer_for(node, st, s->local_sid) : NULL;
  if (p == NULL || p->banned_until > now) {
    return; /* not a stream we carry, or not from a neighbour in it */
  }
  t = &st->tr[f.seq % TRACK];
  asked = (p->asked >> CLASS(f.seq)) & 1;
  pulled = t->seq == f.seq && t->sid == p->sid;
  if (asked) {
    unsigned c = CLASS(f.seq);
    if (f.seq + 1 > p->class_last[c]) {
      p->class_last[c] = f.seq + 1;
    }
    p->class_last_at[c] = now;
  }
  rv = sc_window_add_fragment(st->win, data, len, p->sid, now);
  switch (rv) {
  case SC_WIN_ACCEPTED:
  case SC_WIN_PENDING:
    if (asked) {
      st->st.fragments_pushed_from_peers++;
      st->st.bytes_pushed_from_peers += f.payload_len;
    } else if (pulled) {
      st->st.fragments_pulled_from_peers++;
      st->st.bytes_pulled_from_peers += f.payload_len;
    } else {
      st->st.fragments_received_unasked++;
    }
    if (rv == SC_WIN_ACCEPTED) {
      on_authentic(node, st, f.seq, p->sid, now);
    } else if (t->seq != f.seq) {
      t->seq = f.seq; /* waits for its manifest: followed from now */
      t->known_at = now;
      t->asked_at = 0;
      t->sid = 0;
      t->tries = 0;
    }
    break;
  case SC_WIN_DUPLICATE:
    st->st.duplicates++;
    st->st.duplicate_bytes += f.payload_len;
    if (!asked && !pulled) {
      junk(node, st, p, now);
    }
    break;
  case SC_WIN_FORGED:
    penalize(node, st, p, now);
    break;
  case SC_WIN_STALE:
    st->st.stale++;
    if (!asked && !pulled) {
      junk(node, st, p, now);
    }
    break;
  default:
    break; /* malformed for this stream, full, or out of memory */
  }
}

static void on_manifest(sc_node *node, sc_session *s, const uint8_t *data,
                        size_t len, uint64_t now) {
  sc_window_release rel;
  sc_manifest m;
  mstream *st;
  mpeer *p;
  size_t i;
  int rv;
  if (sc_manifest_read(&m, data, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  st = stream_by_id(node, m.stream_id);
  p = st != NULL ? peer_for(node, st, s->local_sid) : NULL;
  if (p == NULL || p->banned_until > now) {
    return;
  }
  rv = sc_window_add_manifest(st->win, data, len, now, &rel);
  if (rv == SC_WIN_FORGED) {
    penalize(node, st, p, now);
    return;
  }
  if (rv != SC_WIN_ACCEPTED) {
    return;
  }
  st->st.manifests_received++;
  push_manifest(node, st, data, len, m.first, p->sid, now);
  for (i = 0; i < rel.nforged; i++) {
    penalize(node, st, peer_by_sid(st, rel.forged_src[i]), now);
  }
  for (i = 0; i < rel.n; i++) {
    on_authentic(node, st, rel.seq[i], p->sid, now);
  }
}

static void on_map(sc_node *node, sc_session *s, const uint8_t *body,
                   size_t len, uint64_t now) {
  sc_map_msg m;
  mstream *st;
  mpeer *p;
  uint64_t age, arrived;
  if (sc_map_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  st = stream_by_tag(node, m.tag);
  p = st != NULL ? peer_for(node, st, s->local_sid) : NULL;
  if (p == NULL || p->banned_until > now) {
    return;
  }
  age = SC_MIN(m.age_ms, (uint64_t)60000) * SC_MS;
  p->map_top = m.top;
  p->map_key = m.key;
  p->map_bits = m.bits;
  p->map_nbits = m.nbits;
  memcpy(p->map_hops, m.hops, sizeof(p->map_hops));
  p->map_at = now;
  /* When its top would have reached this node had it pushed it: the map
   * left it |age| after it got the top, and travelled the same path. */
  p->map_eta = now > age ? now - age : 0;
  p->map_sampled = 0;
  arrived = sc_window_arrival(st->win, m.top);
  if (arrived != NONE) {
    p->map_sampled = 1;
    lead_sample(p, CLASS(m.top), (int64_t)arrived - (int64_t)p->map_eta);
  }
  /* A map may raise what is known to exist, within reach of what this
   * node holds, so that a lying map cannot send it chasing far seqs
   * (tune_in resets it to an authentic seq). */
  if (st->known_top == NONE ||
      (m.top > st->known_top &&
       (st->start == NONE || m.top - st->known_top < TRACK / 2))) {
    st->known_top = m.top;
  }
}

/* Answers a PULL with what this node holds (and the manifests, if asked),
 * as far as the session's queue allows. */
static void on_pull(sc_node *node, sc_session *s, const uint8_t *body,
                    size_t len, uint64_t now) {
  sc_pull_msg m;
  mstream *st;
  mpeer *p;
  uint64_t last_block = NONE;
  unsigned i;
  if (sc_pull_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  st = stream_by_tag(node, m.tag);
  p = st != NULL ? peer_for(node, st, s->local_sid) : NULL;
  if (p == NULL || p->banned_until > now) {
    return;
  }
  for (i = 0; i < m.nbits; i++) {
    uint64_t seq = m.first + i;
    const uint8_t *data;
    size_t flen;
    if (!((m.bits >> i) & 1) || seq < m.first) {
      continue;
    }
    data = sc_window_get(st->win, seq, &flen);
    if (data == NULL || sc_session_dgram_room(s) < 2) {
      continue;
    }
    if (m.flags & SC_PULL_MANIFESTS) {
      size_t mlen;
      const uint8_t *man = sc_window_manifest(st->win, seq, &mlen);
      sc_manifest hdr;
      if (man != NULL && sc_manifest_read(&hdr, man, mlen) == 0 &&
          hdr.first != last_block) {
        last_block = hdr.first;
        (void)send_item(node, s->local_sid, SC_DG_MANIFEST, man, mlen, now);
      }
    }
    if (m.flags & SC_PULL_ONLY_MANIFESTS) {
      continue;
    }
    if (send_item(node, s->local_sid, SC_DG_FRAGMENT, data, flen, now) == 0) {
      st->st.fragments_requested_by_peers++;
      st->st.bytes_requested_by_peers += flen;
    }
  }
}

void sc_mcast_on_dgram(sc_node *node, sc_session *s, const uint8_t *body,
                       size_t len, uint64_t now) {
  switch (body[0]) {
  case SC_DG_FRAGMENT:
    on_fragment(node, s, body + 1, len - 1, now);
    break;
  case SC_DG_MANIFEST:
    on_manifest(node, s, body + 1, len - 1, now);
    break;
  case SC_DG_MAP:
    on_map(node, s, body + 1, len - 1, now);
    break;
  case SC_DG_PULL:
    on_pull(node, s, body + 1, len - 1, now);
    break;
  default:
    break; /* §13.2: unknown datagram kinds are ignored */
  }
}

static void on_stream_msg(sc_node *node, sc_session *s, const uint8_t *body,
                          size_t len, uint64_t now) {
  sc_stream_msg m;
  sc_mgroup *g;
  mstream *st;
  uint8_t id[SC_STREAM_ID_LEN];
  mpeer *p;
  if (sc_stream_msg_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  g = group_by_id(node, m.group_id);
  if (g == NULL || !is_linked(g, s->local_sid) ||
      !(g->spec.features & SC_GROUP_MULTICAST) ||
      !sc_group_may_publish(&g->spec, m.key) ||
      sc_stream_id(id, m.key, m.name, m.name_len) != 0) {
    return;
  }
  st = stream_by_id(node, id);
  if (st == NULL && stream_new(node, g, m.key, m.name, m.name_len, now,
                               &st) != 0) {
    return;
  }
  if (st->g != g) {
    return; /* the same stream announced in another group */
  }
  p = peer_for(node, st, s->local_sid);
  if (p != NULL) {
    p->announced = 1; /* it knows */
  }
}

static int popcount8(unsigned v) {
  int n = 0;
  for (v &= 0xff; v != 0; v &= v - 1) {
    n++;
  }
  return n;
}

static void on_push_msg(sc_node *node, sc_session *s, const uint8_t *body,
                        size_t len, uint64_t now) {
  sc_push_msg m;
  mstream *st;
  mpeer *p;
  size_t i;
  int others = 0, allowed;
  unsigned c, classes = 0;
  (void)now;
  if (sc_push_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  st = stream_by_id(node, m.stream_id);
  p = st != NULL ? peer_for(node, st, s->local_sid) : NULL;
  if (p == NULL) {
    return;
  }
  /* Grant class pushes up to the capacity: a refused class is noticed by
   * the asker as a stall and taken elsewhere. */
  for (i = 0; i < st->np; i++) {
    if (&st->p[i] != p) {
      others += popcount8(st->p[i].granted);
    }
  }
  allowed = (int)node->settings.push_capacity - others;
  for (c = 0; c < SC_MC_CLASSES && allowed > 0; c++) {
    if (m.mask & (1u << c)) {
      classes |= 1u << c;
      allowed--;
    }
  }
  p->granted = (uint16_t)((m.mask & (SC_PUSH_ALL & ~SC_PUSH_CLASSES)) | classes);
  if (p->granted & SC_PUSH_MAPS) {
    p->next_map = now;
  }
  if ((m.mask & SC_PUSH_CLASSES) != classes) {
    /* Say so at once: the asker takes the classes elsewhere. */
    sc_push_msg r;
    uint8_t out[64];
    sc_wr w;
    memcpy(r.stream_id, st->id, SC_STREAM_ID_LEN);
    r.mask = (uint16_t)(m.mask & SC_PUSH_CLASSES & ~classes);
    sc_wr_init(&w, out, sizeof(out));
    if (sc_push_write(&w, &r) == 0) {
      (void)sc_session_send_msg(s, SC_MSG_REFUSE, out, w.len, now);
    }
  }
}

static void on_refuse_msg(sc_node *node, sc_session *s, const uint8_t *body,
                          size_t len, uint64_t now) {
  sc_push_msg m;
  mstream *st;
  mpeer *p;
  uint16_t drop;
  if (sc_push_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  st = stream_by_id(node, m.stream_id);
  p = st != NULL ? peer_by_sid(st, s->local_sid) : NULL;
  if (p == NULL) {
    return;
  }
  drop = (uint16_t)(m.mask & SC_PUSH_CLASSES & p->asked);
  if (drop == 0) {
    return;
  }
  /* It keeps the rest; the next review places the refused classes. */
  p->asked = (uint16_t)(p->asked & ~drop);
  p->refused_until = now + REFUSED_FOR;
  st->next_review = now;
  sc_node_refresh_expiry(node);
}

int sc_mcast_on_message(sc_node *node, sc_session *s, uint64_t kind,
                        const uint8_t *body, size_t len, uint64_t now) {
  switch (kind) {
  case SC_MSG_STREAM:
    on_stream_msg(node, s, body, len, now);
    return 1;
  case SC_MSG_PUSH:
    on_push_msg(node, s, body, len, now);
    return 1;
  case SC_MSG_REFUSE:
    on_refuse_msg(node, s, body, len, now);
    return 1;
  default:
    return 0;
  }
}

/* ---- playing ------------------------------------------------------------------
 */

static int play_matches(const sc_play_req *r, const mstream *st) {
  return memcmp(r->group_id, st->g->spec.id, SC_GROUP_ID_LEN) == 0 &&
         strcmp(r->name, st->name) == 0 &&
         (!r->has_key || memcmp(r->key, st->key, SC_STREAM_KEY_LEN) == 0);
}

static int play_is_bound(const sc_node *node, uint32_t handle) {
  size_t i;
  for (i = 0; i < node->mcast.nstreams; i++) {
    if (node->mcast.streams[i]->play == handle) {
      return 1;
    }
  }
  return 0;
}

/* Binds |st| to the first unbound play request it matches. */
static void play_bind(sc_node *node, mstream *st) {
  size_t i;
  if (st->play != 0) {
    return;
  }
  for (i = 0; i < node->mcast.nplays; i++) {
    const sc_play_req *r = &node->mcast.plays[i];
    if (play_matches(r, st) && !play_is_bound(node, r->handle)) {
      uint64_t key = sc_window_keyframe(st->win);
      uint64_t top = sc_window_highest(st->win);
      st->play = r->handle;
      st->roles |= SC_STREAM_PLAYING;
      /* A stream already relayed is joined at its newest keyframe (or the
       * next one), near the live edge. */
      st->next_play = key != NONE ? key : top != NONE ? top : st->start;
      return;
    }
  }
}

static void deliver(sc_node *node, mstream *st, uint64_t seq,
                    uint64_t skipped) {
  sc_play_chunk ch;
  size_t len;
  const uint8_t *data = sc_window_get(st->win, seq, &len);
  sc_frag f;
  if (data == NULL || sc_frag_read(&f, data, len) != 0) {
    return;
  }
  st->st.fragments_played++;
  st->st.bytes_played += f.payload_len;
  if (node->cb.stream_data == NULL) {
    return;
  }
  ch.handle = st->play;
  ch.seq = seq;
  ch.timestamp_us = f.timestamp_us;
  ch.keyframe = (f.flags & SC_FRAG_KEYFRAME) != 0;
  ch.skipped = skipped;
  ch.data = f.payload;
  ch.len = f.payload_len;
  node->cb.stream_data(node->user, &ch);
}

static int is_keyframe(const mstream *st, uint64_t seq) {
  size_t len;
  const uint8_t *data = sc_window_get(st->win, seq, &len);
  sc_frag f;
  return data != NULL && sc_frag_read(&f, data, len) == 0 &&
         (f.flags & SC_FRAG_KEYFRAME);
}

/* Plays what can be played: in order; a missing seq holds the line until
 * the gap timeout, then the whole missing run is skipped. Before the first
 * keyframe nothing is played (and nothing counted as a gap). */
static void play_run(sc_node *node, mstream *st, uint64_t now) {
  uint64_t top = sc_window_highest(st->win), low = sc_window_lowest(st->win);
  uint64_t skipped = 0;
  if (st->play == 0 || st->next_play == NONE || top == NONE) {
    return;
  }
  if (st->next_play < low) {
    /* Fell behind the window: what is gone is a gap. */
    if (st->play_started) {
      skipped += low - st->next_play;
    }
    st->next_play = low;
  }
  while (st->next_play <= top) {
    uint64_t seq = st->next_play;
    if (sc_window_has(st->win, seq)) {
      if (!st->play_started && !is_keyframe(st, seq)) {
        st->next_play++;
        continue;
      }
      st->play_started = 1;
      if (skipped > 0) {
        st->st.gaps++;
        st->st.gap_fragments += skipped;
      }
      deliver(node, st, seq, skipped);
      skipped = 0;
      st->next_play++;
      st->gap_since = NONE;
      continue;
    }
    if (st->gap_since == NONE) {
      st->gap_since = now;
    }
    if (now - st->gap_since < node->settings.gap_timeout) {
      break;
    }
    /* Skip the whole run of missing seqs. */
    while (st->next_play <= top && !sc_window_has(st->win, st->next_play)) {
      st->next_play++;
      if (st->play_started) {
        skipped++;
      }
    }
    st->gap_since = NONE;
  }
  if (skipped > 0) {
    st->st.gaps++;
    st->st.gap_fragments += skipped;
  }
}

/* ---- the scheduler ------------------------------------------------------------
 */

static int64_t score(const mpeer *p, unsigned c) {
  int64_t sum = 0;
  uint32_t n = 0, k;
  if (p->lead_n[c] >= LEAD_SAMPLES) {
    return p->lead[c];
  }
  for (k = 0; k < SC_MC_CLASSES; k++) {
    if (p->lead_n[k] > 0) {
      sum += p->lead[k];
      n++;
    }
  }
  /* Without samples: fewer hops from the source, then a lower RTT. */
  return n > 0 ? sum / (int64_t)n
               : -(int64_t)(p->rtt / 2) - (int64_t)SC_SEC -
                     (int64_t)p->map_hops[c] * 20 * (int64_t)SC_MS;
}

/* Syncs the neighbour list with the group's member links and tells new
 * neighbours about the stream. */
static void sync_peers(sc_node *node, mstream *st, uint64_t now) {
  sc_mgroup *g = st->g;
  size_t i;
  for (i = st->np; i-- > 0;) {
    sc_session *s = sc_node_session(node, st->p[i].sid);
    if (s == NULL || !sc_session_is_usable(s) || !is_linked(g, st->p[i].sid)) {
      peer_remove(st, i);
    } else if (s->rtt.has_sample) {
      st->p[i].rtt = s->rtt.smoothed;
    }
  }
  for (i = 0; i < g->n; i++) {
    uint32_t sid = g->m[i].sid;
    sc_session *s = sid != 0 ? sc_node_session(node, sid) : NULL;
    if (s != NULL && sc_session_is_usable(s) && peer_by_sid(st, sid) == NULL) {
      (void)peer_add(node, st, sid);
    }
  }
  for (i = 0; i < st->np; i++) {
    if (!st->p[i].announced) {
      announce(node, st, &st->p[i], now);
    }
  }
}

static int stalled(const mstream *st, const mpeer *p, unsigned c,
                   uint64_t now) {
  uint64_t since = SC_MAX(p->class_since[c], p->class_last_at[c]);
  uint64_t last = p->class_last[c]; /* seq + 1 */
  if (now - since < STALL || st->known_top == NONE) {
    return 0;
  }
  /* Silent while at least four newer seqs of its class exist. */
  return st->known_top >= last + 4 * SC_MC_CLASSES;
}

/* Chooses the pusher of every class, the manifest source and the map
 * subscriptions, and sends PUSH where a neighbour's mask changed. */
static void review(sc_node *node, mstream *st, uint64_t now) {
  uint16_t want[PEERS_MAX];
  mpeer *pusher[SC_MC_CLASSES];
  size_t i, j, npushers = 0;
  unsigned c;
  int moved = 0;
  if (st->roles & SC_STREAM_PUBLISHER) {
    return; /* the source asks nobody */
  }
  for (i = 0; i < st->np; i++) {
    want[i] = st->p[i].asked & SC_PUSH_CLASSES;
  }
  for (c = 0; c < SC_MC_CLASSES; c++) {
    pusher[c] = NULL;
    for (i = 0; i < st->np; i++) {
      mpeer *p = &st->p[i];
      if (!(want[i] & (1u << c))) {
        continue;
      }
      if (!peer_valid(node, p, now) || stalled(st, p, c, now)) {
        if (peer_valid(node, p, now)) {
          p->refused_until = now + REFUSED_FOR;
        }
        want[i] = (uint16_t)(want[i] & ~(1u << c));
      } else {
        pusher[c] = p;
      }
    }
  }
  for (i = 0; i < st->np; i++) {
    npushers += want[i] != 0;
  }
  for (c = 0; c < SC_MC_CLASSES; c++) {
    mpeer *best = NULL;
    int64_t bs = 0;
    size_t bi = 0;
    for (i = 0; i < st->np; i++) {
      mpeer *p = &st->p[i];
      int64_t sc;
      /* Only a neighbour that gets the class pushed itself, and not
       * through this node: pushes flow down from the source. */
      if (!peer_valid(node, p, now) || p->refused_until > now ||
          p->map_top == NONE || now - p->map_at > MAP_FRESH ||
          p->map_hops[c] == 255 || (p->granted & (1u << c)) ||
          (pusher[c] != NULL && p->map_hops[c] > pusher[c]->map_hops[c])) {
        continue;
      }
      /* No new pusher beyond push_peers. */
      if (want[i] == 0 && npushers >= node->settings.push_peers &&
          !(pusher[c] != NULL && popcount8(pusher[c]->asked) == 1)) {
        continue;
      }
      /* Spread the classes: each one a neighbour already has costs it. */
      sc = score(p, c) - (int64_t)SPREAD * popcount8(want[i] & ~(1u << c));
      if (best == NULL || sc > bs) {
        best = p;
        bs = sc;
        bi = i;
      }
    }
    if (best == NULL || best == pusher[c]) {
      continue;
    }
    if (pusher[c] != NULL) {
      /* Move only to a clearly faster neighbour, one class a review. */
      if (moved || best->lead_n[c] < LEAD_SAMPLES ||
          pusher[c]->lead_n[c] < LEAD_SAMPLES ||
          bs < score(pusher[c], c) + (int64_t)MOVE_MARGIN) {
        continue;
      }
      j = (size_t)(pusher[c] - st->p);
      want[j] = (uint16_t)(want[j] & ~(1u << c));
      npushers -= want[j] == 0;
      moved = 1;
      st->st.class_moves++;
    }
    npushers += want[bi] == 0;
    want[bi] = (uint16_t)(want[bi] | (1u << c));
    pusher[c] = best;
  }
  /* Maps from the pushers, the best few others and one that rotates. */
  {
    size_t extra = 0;
    if (now >= st->rotate_at && st->np > 0) {
      uint8_t r[2];
      sc_node_rand(node, r, sizeof(r));
      st->rotate_sid = st->p[(((size_t)r[0] << 8) | r[1]) % st->np].sid;
      st->rotate_at = now + jitter(node, ROTATE);
    }
    for (i = 0; i < st->np; i++) {
      if (want[i] != 0 || st->p[i].sid == st->rotate_sid) {
        want[i] |= SC_PUSH_MAPS;
      }
    }
    /* The best others by score (class 0 stands for the average). */
    while (extra < MAP_EXTRA) {
      size_t b = PEERS_MAX;
      for (i = 0; i < st->np; i++) {
        if ((want[i] & SC_PUSH_MAPS) || !peer_valid(node, &st->p[i], now)) {
          continue;
        }
        if (b == PEERS_MAX || score(&st->p[i], 0) > score(&st->p[b], 0)) {
          b = i;
        }
      }
      if (b == PEERS_MAX) {
        break;
      }
      want[b] |= SC_PUSH_MAPS;
      extra++;
    }
  }
  for (i = 0; i < st->np; i++) {
    if (!peer_valid(node, &st->p[i], now)) {
      want[i] = 0;
    }
    if (want[i] != st->p[i].asked) {
      send_push(node, st, &st->p[i], want[i], now);
    }
  }
}

/* How many pushes class |c| takes from the source to this node. */
static uint8_t hops_of(const mstream *st, unsigned c) {
  size_t i;
  if (st->roles & SC_STREAM_PUBLISHER) {
    return 0;
  }
  for (i = 0; i < st->np; i++) {
    const mpeer *p = &st->p[i];
    if ((p->asked & (1u << c)) && p->map_hops[c] < 254) {
      return (uint8_t)(p->map_hops[c] + 1);
    }
  }
  return 255;
}

static void send_map(sc_node *node, mstream *st, mpeer *p, uint64_t top,
                     uint64_t now) {
  uint8_t buf[64];
  sc_map_msg m;
  sc_wr w;
  unsigned i;
  uint64_t at = sc_window_arrival(st->win, top);
  m.tag = st->tag;
  m.top = top;
  m.age_ms = at != NONE && now > at ? (now - at) / SC_MS : 0;
  m.key = sc_window_keyframe(st->win);
  for (i = 0; i < SC_MC_CLASSES; i++) {
    m.hops[i] = hops_of(st, i);
  }
  m.nbits = (unsigned)SC_MIN(top, (uint64_t)SC_MAP_BITS);
  m.bits = 0;
  for (i = 0; i < m.nbits; i++) {
    if (sc_window_has(st->win, top - 1 - i)) {
      m.bits |= (uint64_t)1 << i;
    }
  }
  sc_wr_init(&w, buf, sizeof(buf));
  if (sc_map_write(&w, &m) == 0 &&
      dg_send(node, p->sid, buf, w.len, 0, now) == 0) {
    p->sent_top = top;
    p->sent_at = now;
  }
}

static void send_maps(sc_node *node, mstream *st, uint64_t now) {
  uint64_t top = sc_window_highest(st->win);
  size_t i;
  if (top == NONE || top > SC_VARINT_MAX) {
    return;
  }
  for (i = 0; i < st->np; i++) {
    mpeer *p = &st->p[i];
    if (!(p->granted & SC_PUSH_MAPS) || now < p->next_map ||
        p->banned_until > now) {
      continue;
    }
    p->next_map = now + node->settings.map_interval;
    if (top != p->sent_top || now - p->sent_at >= MAP_REFRESH) {
      send_map(node, st, p, top, now);
    }
  }
}

static int map_shows(const mpeer *p, uint64_t seq, uint64_t now) {
  if (p->map_top == NONE || now - p->map_at > MAP_FRESH || seq > p->map_top) {
    return 0;
  }
  if (seq == p->map_top) {
    return 1;
  }
  return p->map_top - seq <= p->map_nbits &&
         ((p->map_bits >> (p->map_top - 1 - seq)) & 1);
}

static uint64_t pull_timeout(const mpeer *p) {
  uint64_t t = 2 * p->rtt + 30 * SC_MS;
  return SC_MIN(SC_MAX(t, PULL_TIMEOUT_MIN), PULL_TIMEOUT_MAX);
}

/* One PULL under construction per neighbour. */
typedef struct batch {
  mpeer *p;
  sc_pull_msg m;
} batch;

static void batch_flush(sc_node *node, mstream *st, batch *b, uint64_t now) {
  uint8_t buf[64];
  sc_wr w;
  if (b->p == NULL || b->m.nbits == 0) {
    return;
  }
  sc_wr_init(&w, buf, sizeof(buf));
  if (sc_pull_write(&w, &b->m) == 0) {
    (void)dg_send(node, b->p->sid, buf, w.len, 0, now);
  }
  (void)st;
  b->m.nbits = 0;
  b->m.bits = 0;
}

static void batch_add(sc_node *node, mstream *st, batch *bs, size_t *nb,
                      mpeer *p, uint64_t seq, unsigned flags, uint64_t now) {
  batch *b = NULL;
  size_t i;
  for (i = 0; i < *nb; i++) {
    if (bs[i].p == p && bs[i].m.flags == flags) {
      b = &bs[i];
    }
  }
  if (b != NULL && seq - b->m.first >= SC_PULL_BITS) {
    batch_flush(node, st, b, now);
  }
  if (b == NULL) {
    if (*nb == 8) {
      batch_flush(node, st, &bs[0], now);
      b = &bs[0];
    } else {
      b = &bs[(*nb)++];
      b->m.nbits = 0;
    }
    b->p = p;
    b->m.tag = st->tag;
    b->m.flags = flags;
  }
  if (b->m.nbits == 0) {
    b->m.first = seq;
    b->m.bits = 0;
  }
  b->m.bits |= (uint64_t)1 << (seq - b->m.first);
  b->m.nbits = (unsigned)(seq - b->m.first + 1);
}

/* The neighbour to pull |seq| from: its map shows it, it has room for
 * another request; fewest outstanding first, then lowest RTT, and not the
 * one that failed last if another will do. */
static mpeer *pull_source(const sc_node *node, mstream *st, uint64_t seq,
                          uint32_t avoid, uint64_t now) {
  mpeer *best = NULL;
  size_t i;
  for (i = 0; i < st->np; i++) {
    mpeer *p = &st->p[i];
    if (!peer_valid(node, p, now) || p->outstanding >= PULL_PER_PEER ||
        !map_shows(p, seq, now)) {
      continue;
    }
    if (best == NULL || (best->sid == avoid && p->sid != avoid) ||
        ((p->sid != avoid || best->sid == avoid) &&
         (p->outstanding < best->outstanding ||
          (p->outstanding == best->outstanding && p->rtt < best->rtt)))) {
      best = p;
    }
  }
  return best;
}

/* Whether |seq| (class c) has waited long enough for its pusher. A pusher
 * whose map shows the seq has sent it, and a session delivers in order:
 * the push was lost, pull now. Otherwise the pusher is still repairing
 * its own copy and will push it when it has it: pulling too would only
 * make a duplicate, unless it takes longer than PUSH_WAIT. */
static int pull_due(const mstream *st, const track *t, uint64_t seq,
                    uint64_t now) {
  unsigned c = CLASS(seq);
  size_t i;
  if (t->tries > 0) {
    return 1;
  }
  for (i = 0; i < st->np; i++) {
    const mpeer *p = &st->p[i];
    if (p->asked & (1u << c)) {
      return map_shows(p, seq, now) || now - t->known_at >= PUSH_WAIT;
    }
  }
  return 1;
}

static void pulls(sc_node *node, mstream *st, uint64_t now) {
  batch bs[8];
  size_t nb = 0, i, n = 0;
  uint64_t seq, top = st->known_top;
  if (st->start == NONE) {
    /* Not tuned in: fetch the top of each fresh map, once a round. */
    for (i = 0; i < st->np && nb < 8; i++) {
      mpeer *p = &st->p[i];
      if (p->map_top != NONE && now - p->map_at < MAP_FRESH &&
          peer_valid(node, p, now) && p->outstanding == 0) {
        batch_add(node, st, bs, &nb, p, p->map_top, SC_PULL_MANIFESTS, now);
        p->outstanding = 1; /* cleared by the next review's sync */
      }
    }
    for (i = 0; i < nb; i++) {
      batch_flush(node, st, &bs[i], now);
    }
    return;
  }
  if (top == NONE) {
    return;
  }
  if (top >= TRACK && st->scan < top - TRACK + 1) {
    st->scan = top - TRACK + 1;
  }
  while (st->scan <= top && sc_window_has(st->win, st->scan)) {
    st->scan++;
  }
  for (seq = st->scan; seq <= top && n < SCAN_MAX; seq++, n++) {
    track *t = &st->tr[seq % TRACK];
    int pending;
    mpeer *src, *was;
    if (sc_window_has(st->win, seq)) {
      continue;
    }
    pending = sc_window_pending(st->win, seq);
    if (t->seq != seq) {
      t->seq = seq;
      t->known_at = now;
      t->asked_at = 0;
      t->sid = 0;
      t->tries = 0;
    }
    if (t->tries >= PULL_TRIES) {
      continue;
    }
    was = t->sid != 0 ? peer_by_sid(st, t->sid) : NULL;
    if (t->sid != 0) {
      if (was != NULL && now - t->asked_at < pull_timeout(was)) {
        continue;
      }
      track_forget(was, t);
      if (t->tries >= PULL_TRIES) {
        st->st.pull_giveups++;
        continue;
      }
    }
    if (pending ? now - t->known_at < MANIFEST_WAIT
                : !pull_due(st, t, seq, now)) {
      continue;
    }
    src = pull_source(node, st, seq, was != NULL ? was->sid : 0, now);
    if (src == NULL) {
      continue;
    }
    /* A pending copy needs only its manifest; a retry takes the manifest
     * along in case that was what went missing. */
    batch_add(node, st, bs, &nb, src, seq,
              pending ? SC_PULL_MANIFESTS | SC_PULL_ONLY_MANIFESTS
              : t->tries > 0 ? SC_PULL_MANIFESTS
                             : 0,
              now);
    t->sid = src->sid;
    t->asked_at = now;
    t->tries++;
    src->outstanding++;
    st->st.fragments_requested_from_peers++;
  }
  for (i = 0; i < nb; i++) {
    batch_flush(node, st, &bs[i], now);
  }
}

static void stream_tick(sc_node *node, mstream *st, uint64_t now) {
  if ((st->roles & SC_STREAM_PUBLISHER) && st->blk.count > 0 &&
      now - st->blk_started >= node->settings.manifest_interval) {
    close_block(node, st, now);
  }
  if (now >= st->next_review) {
    size_t i;
    sync_peers(node, st, now);
    if (st->start == NONE) {
      for (i = 0; i < st->np; i++) {
        st->p[i].outstanding = 0; /* the tune-in fetches of pulls() */
      }
    }
    for (i = 0; i < st->np; i++) {
      st->p[i].junk /= 2;
    }
    review(node, st, now);
    st->next_review = now + jitter(node, REVIEW);
  }
  send_maps(node, st, now);
  if (!(st->roles & SC_STREAM_PUBLISHER)) {
    pulls(node, st, now);
  }
  play_run(node, st, now);
  st->next_tick = now + TICK;
}

void sc_mcast_on_timer(sc_node *node, uint64_t now) {
  sc_mcast *mc = &node->mcast;
  size_t i = mc->nstreams;
  while (i-- > 0) {
    mstream *st = mc->streams[i];
    if (!(st->roles & SC_STREAM_PUBLISHER) &&
        now - st->last_data >= STREAM_IDLE) {
      sc_node_log(node, SC_LOG_INFO, "stream %s: idle, forgotten", st->name);
      stream_remove(node, i);
      continue;
    }
    if (now >= st->next_tick) {
      stream_tick(node, st, now);
    }
  }
}

uint64_t sc_mcast_deadline(const sc_node *node) {
  uint64_t d = UINT64_MAX;
  size_t i;
  for (i = 0; i < node->mcast.nstreams; i++) {
    const mstream *st = node->mcast.streams[i];
    d = SC_MIN(d, st->next_tick);
  }
  return d;
}

/* ---- the public API -----------------------------------------------------------
 */

size_t sc_node_fragment_max(const sc_node *node) {
  /* A datagram's body holds the kind byte and the fragment header. */
  size_t cap = node->settings.max_datagram - SC_DATA_HEADER_LEN -
               SC_AEAD_TAG_LEN;
  size_t body = cap - 1;
  while (body > 0 && body + sc_chunk_overhead(body) > cap) {
    body--;
  }
  return body - 1 - SC_FRAG_HEADER_LEN;
}

static int name_check(const char *name, size_t *len) {
  size_t i, n;
  if (name == NULL) {
    return SC_ERR_INVALID_ARG;
  }
  n = strlen(name);
  if (n == 0 || n > SC_STREAM_NAME_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || c == 0x7f) {
      return SC_ERR_INVALID_ARG;
    }
  }
  *len = n;
  return 0;
}

static int find_group(sc_node *node, const char *spec, sc_mgroup **g) {
  sc_group_spec gs;
  if (spec == NULL || sc_group_spec_parse(&gs, spec) != 0) {
    return SC_ERR_MALFORMED;
  }
  *g = group_by_id(node, gs.id);
  if (*g == NULL) {
    return SC_ERR_NOT_FOUND;
  }
  if (!((*g)->spec.features & SC_GROUP_MULTICAST)) {
    return SC_ERR_STATE;
  }
  return 0;
}

int sc_node_publish(sc_node *node, const char *group, const char *name,
                    const uint8_t sk[SC_STREAM_SECRET_LEN], uint64_t now,
                    uint32_t *handle) {
  sc_mgroup *g;
  mstream *st;
  size_t len;
  int rv;
  if (node->closing) {
    return SC_ERR_CLOSED;
  }
  if (sk == NULL || handle == NULL || name_check(name, &len) != 0) {
    return SC_ERR_INVALID_ARG;
  }
  rv = find_group(node, group, &g);
  if (rv != 0) {
    return rv;
  }
  /* libsodium's secret key ends with the public key. */
  if (!sc_group_may_publish(&g->spec, sk + 32)) {
    return SC_ERR_STATE;
  }
  rv = stream_new(node, g, sk + 32, name, len, now, &st);
  if (rv != 0) {
    return rv;
  }
  memcpy(st->sk, sk, SC_STREAM_SECRET_LEN);
  st->roles = SC_STREAM_PUBLISHER;
  st->start = 0;
  st->scan = 0;
  *handle = st->handle;
  sync_peers(node, st, now);
  sc_node_refresh_expiry(node);
  return 0;
}

int sc_node_publish_fragment(sc_node *node, uint32_t handle,
                             const uint8_t *data, size_t len, int keyframe,
                             uint64_t now) {
  size_t i;
  int rv;
  if (data == NULL || len == 0 || len > sc_node_fragment_max(node)) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < node->mcast.nstreams; i++) {
    mstream *st = node->mcast.streams[i];
    if (st->handle == handle && (st->roles & SC_STREAM_PUBLISHER)) {
      rv = publish_fragment(node, st, data, len, keyframe, now);
      sc_node_refresh_expiry(node);
      return rv;
    }
  }
  return SC_ERR_NOT_FOUND;
}

int sc_node_play(sc_node *node, const char *group, const char *name,
                 const uint8_t *key, uint64_t now, uint32_t *handle) {
  sc_mcast *mc = &node->mcast;
  sc_play_req *r;
  sc_mgroup *g;
  size_t len, i;
  int rv;
  (void)now;
  if (node->closing) {
    return SC_ERR_CLOSED;
  }
  if (handle == NULL || name_check(name, &len) != 0) {
    return SC_ERR_INVALID_ARG;
  }
  rv = find_group(node, group, &g);
  if (rv != 0) {
    return rv;
  }
  if (mc->nplays == SC_MCAST_PLAYS_MAX) {
    return SC_ERR_LIMIT;
  }
  r = &mc->plays[mc->nplays++];
  memset(r, 0, sizeof(*r));
  r->handle = new_handle(node);
  memcpy(r->group_id, g->spec.id, SC_GROUP_ID_LEN);
  memcpy(r->name, name, len + 1);
  if (key != NULL) {
    r->has_key = 1;
    memcpy(r->key, key, SC_STREAM_KEY_LEN);
  }
  for (i = 0; i < mc->nstreams; i++) {
    play_bind(node, mc->streams[i]);
  }
  *handle = r->handle;
  return 0;
}

size_t sc_node_streams(const sc_node *node, sc_stream_info *out, size_t cap) {
  size_t i, k;
  for (i = 0; i < node->mcast.nstreams && i < cap; i++) {
    const mstream *st = node->mcast.streams[i];
    sc_stream_info *o = &out[i];
    sc_window_stats ws;
    memset(o, 0, sizeof(*o));
    memcpy(o->stream_id, st->id, SC_STREAM_ID_LEN);
    memcpy(o->key, st->key, SC_STREAM_KEY_LEN);
    memcpy(o->name, st->name, sizeof(o->name));
    memcpy(o->group_id, st->g->spec.id, SC_GROUP_ID_LEN);
    o->roles = st->roles;
    o->top = sc_window_highest(st->win);
    o->start = st->start;
    o->next_play = st->next_play;
    o->peers = (uint32_t)st->np;
    for (k = 0; k < st->np; k++) {
      o->pushers += (st->p[k].asked & SC_PUSH_CLASSES) != 0;
      o->children += (st->p[k].granted & SC_PUSH_CLASSES) != 0;
    }
    sc_window_get_stats(st->win, &ws);
    o->fragments_held = ws.fragments_held;
    o->bytes_held = ws.bytes_held;
    o->pending = ws.pending;
    o->latency_us = st->latency;
    o->latency_max_us = st->latency_max;
    o->stats = st->st;
  }
  return node->mcast.nstreams;
}
