/*
 * sc_mcast.c: the multicast engine (doc/protocol.md §13): streams and
 * their neighbours, sending, publishing, receiving (fragments, manifests,
 * maps, pulls, STREAM, PUSH, REFUSE), timers and the public API. The
 * scheduler is sc_msched.c, playing sc_mplay.c; sc_mcast_int.h holds
 * what they share.
 */
#include <sodium.h>
#include <string.h>

#include "sc_mcast_int.h"
#include "sc_mem.h"

uint64_t sc_mc_jitter(sc_node *node, uint64_t base) {
  uint8_t b[2];
  sc_node_rand(node, b, sizeof(b));
  return base / 2 + (base * ((uint64_t)b[0] << 8 | b[1])) / 65536;
}

int sc_mc_peer_valid(const sc_node *node, const mpeer *p, uint64_t now) {
  sc_session *s = sc_node_session(node, p->sid);
  return s != NULL && sc_session_is_usable(s) && p->banned_until <= now;
}

mpeer *sc_mc_peer(mstream *st, uint32_t sid) {
  size_t i;
  for (i = 0; i < st->np; i++) {
    if (st->p[i].sid == sid) {
      return &st->p[i];
    }
  }
  return NULL;
}

mpeer *sc_mc_peer_add(sc_node *node, mstream *st, uint32_t sid) {
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
  p->map_top = p->map_key = p->announced_at = NONE;
  memset(p->map_hops, 255, sizeof(p->map_hops));
  memset(p->class_first, 0xff, sizeof(p->class_first)); /* NONE */
  s = sc_node_session(node, sid);
  p->rtt = s != NULL && s->rtt.has_sample ? s->rtt.smoothed : 0;
  return p;
}

/* A neighbour of the stream: an existing one, or a member link of the
 * stream's group that sent something. NULL for anyone else. */
static mpeer *peer_for(sc_node *node, mstream *st, uint32_t sid) {
  mpeer *p = sc_mc_peer(st, sid);
  if (p == NULL && sc_mesh_member_link(st->g, sid) != NULL) {
    p = sc_mc_peer_add(node, st, sid);
  }
  return p;
}

void sc_mc_track_forget(mpeer *p, track *t) {
  if (t->sid != 0 && p != NULL && p->sid == t->sid && p->outstanding > 0) {
    p->outstanding--;
  }
  t->sid = 0;
}

void sc_mc_track_follow(mstream *st, track *t, uint64_t seq, uint64_t now) {
  if (t->sid != 0) {
    sc_mc_track_forget(sc_mc_peer(st, t->sid), t);
  }
  t->seq = seq;
  t->known_at = now;
  t->asked_at = 0;
  t->tries = 0;
}

void sc_mc_peer_remove(mstream *st, size_t i) {
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

static uint32_t new_handle(sc_node *node) {
  if (++node->mcast.next_handle == 0) {
    node->mcast.next_handle = 1;
  }
  return node->mcast.next_handle;
}

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
  rv = sc_window_new(
      &st->win, node->mem, id, key,
      (node->settings.stream_window + node->settings.relay_margin) / 1000);
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
  sc_node_log(node, SC_LOG_INFO, "stream %s: new (%zu carried)", st->name,
              mc->nstreams);
  sc_mc_play_bind(node, st);
  *out = st;
  return 0;
}

static void stream_remove(sc_node *node, size_t i) {
  sc_mcast *mc = &node->mcast;
  stream_free(node, mc->streams[i]);
  mc->streams[i] = mc->streams[--mc->nstreams];
}

void sc_mcast_group_gone(sc_node *node, const sc_mgroup *g) {
  sc_mcast *mc = &node->mcast;
  size_t i = mc->nstreams;
  while (i-- > 0) {
    if (mc->streams[i]->g == g) {
      sc_node_log(node, SC_LOG_INFO, "stream %s: its group was left",
                  mc->streams[i]->name);
      stream_remove(node, i);
    }
  }
  for (i = mc->nplays; i-- > 0;) {
    if (memcmp(mc->plays[i].group_id, g->spec.id, SC_GROUP_ID_LEN) == 0) {
      memmove(&mc->plays[i], &mc->plays[i + 1],
              (mc->nplays - i - 1) * sizeof(mc->plays[0]));
      mc->nplays--;
    }
  }
}

void sc_mcast_free(sc_node *node) {
  while (node->mcast.nstreams > 0) {
    stream_remove(node, node->mcast.nstreams - 1);
  }
}

/* ---- sending ----------------------------------------------------------------
 */

int sc_mc_dg_send(sc_node *node, uint32_t sid, const uint8_t *buf, size_t len,
                  unsigned flags, uint64_t now) {
  sc_session *s = sc_node_session(node, sid);
  if (s == NULL || !sc_session_is_usable(s)) {
    return SC_ERR_STATE;
  }
  return sc_session_send_dgram(s, buf, len, flags, now);
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
  return sc_mc_dg_send(node, sid, buf, len + 1, SC_DGRAM_STREAM, now);
}

/* Sends |kind| (PUSH or REFUSE) with |mask| for |st| on |s|, if usable. */
static void send_mask(sc_session *s, const mstream *st, uint64_t kind,
                      uint16_t mask, uint64_t now) {
  sc_push_msg m;
  uint8_t body[64];
  sc_wr w;
  if (s == NULL || !sc_session_is_usable(s)) {
    return;
  }
  memcpy(m.stream_id, st->id, SC_STREAM_ID_LEN);
  m.mask = mask;
  sc_wr_init(&w, body, sizeof(body));
  if (sc_push_write(&w, &m) == 0) {
    (void)sc_session_send_msg(s, kind, body, w.len, now);
  }
}

void sc_mc_send_push(sc_node *node, mstream *st, mpeer *p, uint16_t mask,
                     uint64_t now) {
  unsigned c;
  for (c = 0; c < SC_MC_CLASSES; c++) {
    if ((mask & ~p->asked) & (1u << c)) {
      p->class_since[c] = now;
      p->class_first[c] = NONE;
    }
  }
  p->asked = mask;
  send_mask(sc_node_session(node, p->sid), st, SC_MSG_PUSH, mask, now);
}

void sc_mc_announce(sc_node *node, mstream *st, mpeer *p, uint64_t now) {
  sc_stream_msg m;
  uint8_t body[SC_MSG_MAX];
  sc_session *s = sc_node_session(node, p->sid);
  sc_wr w;
  p->announced_at = now;
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

/* Pushes the encoded fragment |seq| (|len| bytes at |data|) to every
 * neighbour that asked for its class, except |from| (it came from there;
 * 0 for none). */
static void push_fragment(sc_node *node, mstream *st, uint64_t seq,
                          const uint8_t *data, size_t len, uint32_t from,
                          uint64_t now) {
  unsigned bit = 1u << CLASS(seq);
  size_t i;
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
  uint16_t want =
      (uint16_t)((st->roles & SC_STREAM_PUBLISHER) ? SC_PUSH_CLASSES
                                                   : 1u << CLASS(first));
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
    sc_mc_track_forget(sc_mc_peer(st, t->sid), t);
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
  if (data != NULL && !(st->roles & SC_STREAM_PUBLISHER)) {
    push_fragment(node, st, seq, data, len, from, now);
  }
  sc_mc_play_run(node, st, now);
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
    sc_mc_send_push(node, st, p, 0, now);
  }
  sc_node_log(node, SC_LOG_WARN, "stream %s: banned session %08x for a forgery",
              st->name, (unsigned)p->sid);
}

static void junk(sc_node *node, mstream *st, mpeer *p, uint64_t now) {
  if (p != NULL && ++p->junk > JUNK_LIMIT) {
    p->junk = 0;
    penalize(node, st, p, now);
  }
}

/* ---- publishing
 * ---------------------------------------------------------------
 */

void sc_mc_close_block(sc_node *node, mstream *st, uint64_t now) {
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
  /* Pushed at once: the neighbours hold it until the manifest comes,
   * which saves them a block's wait per hop. */
  push_fragment(node, st, f.seq, enc, w.len, 0, now);
  if (st->blk.count == SC_STREAM_BLOCK) {
    sc_mc_close_block(node, st, now);
  }
  return 0;
}

/* ---- receiving
 * ----------------------------------------------------------------
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
    if (p->class_first[c] == NONE) {
      p->class_first[c] = f.seq;
    }
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
      sc_mc_track_follow(st, t, f.seq, now); /* waits for its manifest */
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
    break; /* malformed for this stream, or out of memory */
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
    penalize(node, st, sc_mc_peer(st, rel.forged_src[i]), now);
  }
  for (i = 0; i < rel.n; i++) {
    on_authentic(node, st, rel.seq[i], p->sid, now);
  }
}

/* Whether any neighbour is asked to push a class. */
static int has_pusher(const mstream *st) {
  size_t i;
  for (i = 0; i < st->np; i++) {
    if (st->p[i].asked & SC_PUSH_CLASSES) {
      return 1;
    }
  }
  return 0;
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
  if (p->map_top == NONE && !has_pusher(st)) {
    /* The first map from a neighbour makes it a candidate pusher: a node
     * that has none asks it at once rather than at the next review. */
    st->next_review = now;
    sc_node_refresh_expiry(node);
  }
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
   * (tune_in resets it to an authentic seq). A node that has fallen
   * further behind and verified nothing for a while tunes in anew, as a
   * late joiner does: from an authentic fragment near the top. */
  if (st->known_top == NONE ||
      (m.top > st->known_top &&
       (st->start == NONE || m.top - st->known_top < TRACK / 2))) {
    st->known_top = m.top;
  } else if (m.top > st->known_top && now - st->last_data >= RETUNE &&
             !(st->roles & SC_STREAM_PUBLISHER)) {
    st->start = NONE;
    st->st.retunes++;
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
  g = sc_mesh_group(node, m.group_id);
  if (g == NULL || sc_mesh_member_link(g, s->local_sid) == NULL ||
      !(g->spec.features & SC_GROUP_MULTICAST) ||
      !sc_group_may_publish(&g->spec, m.key) ||
      sc_stream_id(id, m.key, m.name, m.name_len) != 0) {
    return;
  }
  st = stream_by_id(node, id);
  if (st == NULL &&
      stream_new(node, g, m.key, m.name, m.name_len, now, &st) != 0) {
    return;
  }
  if (st->g != g) {
    return; /* the same stream announced in another group */
  }
  p = peer_for(node, st, s->local_sid);
  if (p != NULL) {
    p->announced_at = now; /* it knows */
  }
}

int sc_mc_popcount8(unsigned v) {
  int n = 0;
  for (v &= 0xff; v != 0; v &= v - 1) {
    n++;
  }
  return n;
}

/* Class pushes granted in |st| in all. */
static uint32_t grants_of(const mstream *st) {
  uint32_t n = 0;
  size_t i;
  for (i = 0; i < st->np; i++) {
    n += (uint32_t)sc_mc_popcount8(st->p[i].granted);
  }
  return n;
}

static void on_push_msg(sc_node *node, sc_session *s, const uint8_t *body,
                        size_t len, uint64_t now) {
  sc_push_msg m;
  mstream *st;
  mpeer *p;
  int allowed;
  unsigned c, pass, classes = 0;
  if (sc_push_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  st = stream_by_id(node, m.stream_id);
  p = st != NULL ? peer_for(node, st, s->local_sid) : NULL;
  if (p == NULL) {
    return;
  }
  /* Grant class pushes up to the capacity, those granted already first (a
   * PUSH that crossed a REFUSE of sc_mcast_limit_pushes must not trade a
   * kept class for a revoked one); REFUSE tells the asker of the rest at
   * once. */
  allowed = (int)node->settings.push_capacity - (int)grants_of(st) +
            sc_mc_popcount8(p->granted);
  for (pass = 0; pass < 2; pass++) {
    uint16_t from = (uint16_t)(pass == 0 ? p->granted : ~p->granted);
    for (c = 0; c < SC_MC_CLASSES && allowed > 0; c++) {
      if ((m.mask & from & (1u << c)) && !(classes & (1u << c))) {
        classes |= 1u << c;
        allowed--;
      }
    }
  }
  p->granted =
      (uint16_t)((m.mask & (SC_PUSH_ALL & ~SC_PUSH_CLASSES)) | classes);
  sc_node_log(node, SC_LOG_DEBUG,
              "stream %s: session %08x asks for %03x, granted %03x", st->name,
              (unsigned)p->sid, (unsigned)m.mask, (unsigned)p->granted);
  if (p->granted & SC_PUSH_MAPS) {
    p->next_map = now;
  }
  if ((m.mask & SC_PUSH_CLASSES) != classes) {
    /* Say so at once: the asker takes the classes elsewhere. */
    send_mask(s, st, SC_MSG_REFUSE,
              (uint16_t)(m.mask & SC_PUSH_CLASSES & ~classes), now);
  }
}

/* Revokes the class pushes of |st| past the push capacity: one class at a
 * time from the neighbour granted the most (the last in the table on a
 * tie), its highest class first, so the grants that stay are spread as
 * evenly as they can be. Each neighbour that lost classes gets one REFUSE
 * naming them. Returns how many were revoked. */
static uint32_t trim_grants(sc_node *node, mstream *st, uint64_t now) {
  uint16_t lost[PEERS_MAX];
  uint32_t total = grants_of(st), revoked = 0;
  size_t i;
  memset(lost, 0, sizeof(lost));
  while (total > node->settings.push_capacity) {
    size_t b = 0;
    int most = 0;
    unsigned c = SC_MC_CLASSES - 1;
    for (i = 0; i < st->np; i++) {
      int n = sc_mc_popcount8(st->p[i].granted);
      if (n > 0 && n >= most) {
        b = i;
        most = n;
      }
    }
    while (c > 0 && !(st->p[b].granted & (1u << c))) {
      c--;
    }
    st->p[b].granted = (uint16_t)(st->p[b].granted & ~(1u << c));
    lost[b] = (uint16_t)(lost[b] | (1u << c));
    total--;
    revoked++;
  }
  for (i = 0; i < st->np; i++) {
    if (lost[i] != 0) {
      sc_node_log(node, SC_LOG_DEBUG,
                  "stream %s: session %08x no longer pushed %03x (capacity)",
                  st->name, (unsigned)st->p[i].sid, (unsigned)lost[i]);
      send_mask(sc_node_session(node, st->p[i].sid), st, SC_MSG_REFUSE, lost[i],
                now);
    }
  }
  return revoked;
}

uint32_t sc_mcast_limit_pushes(sc_node *node, uint64_t now) {
  uint32_t revoked = 0;
  size_t i;
  for (i = 0; i < node->mcast.nstreams; i++) {
    revoked += trim_grants(node, node->mcast.streams[i], now);
  }
  return revoked;
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
  p = st != NULL ? sc_mc_peer(st, s->local_sid) : NULL;
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

/* ---- timers ----------------------------------------------------------------
 */

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
      sc_mc_tick(node, st, now);
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

/* ---- the public API
 * -----------------------------------------------------------
 */

size_t sc_node_fragment_max(const sc_node *node) {
  /* A datagram's body holds the kind byte and the fragment header. */
  return sc_dgram_body_max(node->settings.max_datagram) - 1 -
         SC_FRAG_HEADER_LEN;
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
  rv = sc_mesh_group_of(node, group, SC_GROUP_MULTICAST, &g);
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
  sc_mc_sync_peers(node, st, now);
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
  rv = sc_mesh_group_of(node, group, SC_GROUP_MULTICAST, &g);
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
    sc_mc_play_bind(node, mc->streams[i]);
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
