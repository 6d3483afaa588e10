/*
 * sc_msched.c: the multicast engine's scheduler (doc/protocol.md §13.3,
 * §13.4): which neighbour pushes which class, whom to send maps, what to
 * pull from whom, and the per-stream tick that runs them.
 */
#include <string.h>

#include "sc_mcast_int.h"

/* ---- the scheduler
 * ------------------------------------------------------------
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
void sc_mc_sync_peers(sc_node *node, mstream *st, uint64_t now) {
  sc_mgroup *g = st->g;
  size_t i;
  for (i = st->np; i-- > 0;) {
    sc_session *s = sc_node_session(node, st->p[i].sid);
    if (s == NULL || !sc_session_is_usable(s) ||
        sc_mesh_member_link(g, st->p[i].sid) == NULL) {
      sc_mc_peer_remove(st, i);
    } else if (s->rtt.has_sample) {
      st->p[i].rtt = s->rtt.smoothed;
    }
  }
  for (i = 0; i < g->n; i++) {
    uint32_t sid = g->m[i].sid;
    sc_session *s = sid != 0 ? sc_node_session(node, sid) : NULL;
    if (s != NULL && sc_session_is_usable(s) && sc_mc_peer(st, sid) == NULL) {
      (void)sc_mc_peer_add(node, st, sid);
    }
  }
  for (i = 0; i < st->np; i++) {
    /* Told again while the stream is live: a neighbour that forgot it (a
     * publisher paused past STREAM_IDLE) learns it anew. */
    if (st->p[i].announced_at == NONE ||
        (now - st->p[i].announced_at >= ANNOUNCE_AGAIN &&
         now - st->last_data < ANNOUNCE_AGAIN)) {
      sc_mc_announce(node, st, &st->p[i], now);
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

/* Nothing new for a while although the stream is live: the neighbours
 * whose maps this node gets are most likely cut off with it (the best of
 * them by lead sit below the same pusher), so it asks every neighbour for
 * maps until fragments flow again. After STARVED_MAX the stream has more
 * likely paused, and the usual few maps will show when it resumes. */
static int starved(const mstream *st, uint64_t now) {
  return st->start != NONE && !(st->roles & SC_STREAM_PUBLISHER) &&
         now - st->last_data >= STARVED && now - st->last_data < STARVED_MAX;
}

/* Chooses the pusher of every class, the manifest source and the map
 * subscriptions, and sends PUSH where a neighbour's mask changed. */
static void review(sc_node *node, mstream *st, uint64_t now) {
  uint16_t want[PEERS_MAX];
  mpeer *pusher[SC_MC_CLASSES], *was[SC_MC_CLASSES];
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
    pusher[c] = was[c] = NULL;
    for (i = 0; i < st->np; i++) {
      mpeer *p = &st->p[i];
      if (!(want[i] & (1u << c))) {
        continue;
      }
      if (!sc_mc_peer_valid(node, p, now) || stalled(st, p, c, now)) {
        if (sc_mc_peer_valid(node, p, now)) {
          p->refused_until = now + REFUSED_FOR;
        }
        want[i] = (uint16_t)(want[i] & ~(1u << c));
      } else if (p->misses[c] > MISSES_MAX && !moved) {
        /* It pushes, but too much of it has to be pulled: lossy or
         * congested. Another takes the class; one such move a review, as
         * every move costs a burst of pulls and duplicates itself. */
        p->refused_until = now + LATE_FOR;
        want[i] = (uint16_t)(want[i] & ~(1u << c));
        moved = 1;
      } else {
        pusher[c] = p;
      }
      was[c] = p;
      p->misses[c] = 0;
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
      if (!sc_mc_peer_valid(node, p, now) || p->refused_until > now ||
          p->map_top == NONE || now - p->map_at > MAP_FRESH ||
          p->map_hops[c] == 255 || (p->granted & (1u << c)) ||
          (pusher[c] != NULL && p->map_hops[c] > pusher[c]->map_hops[c])) {
        continue;
      }
      /* No new pusher beyond push_peers. */
      if (want[i] == 0 && npushers >= node->settings.push_peers &&
          !(pusher[c] != NULL && sc_mc_popcount8(pusher[c]->asked) == 1)) {
        continue;
      }
      /* Spread the classes: each one a neighbour already has costs it. */
      sc =
          score(p, c) - (int64_t)SPREAD * sc_mc_popcount8(want[i] & ~(1u << c));
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
    }
    npushers += want[bi] == 0;
    want[bi] = (uint16_t)(want[bi] | (1u << c));
    pusher[c] = best;
  }
  for (c = 0; c < SC_MC_CLASSES; c++) {
    if (was[c] != NULL && pusher[c] != NULL && pusher[c] != was[c]) {
      st->st.class_moves++;
    }
  }
  /* Maps from the pushers, the best few others and one that rotates. */
  {
    size_t extra = 0;
    int all = starved(st, now);
    if (now >= st->rotate_at && st->np > 0) {
      uint8_t r[2];
      sc_node_rand(node, r, sizeof(r));
      st->rotate_sid = st->p[(((size_t)r[0] << 8) | r[1]) % st->np].sid;
      st->rotate_at = now + sc_mc_jitter(node, ROTATE);
    }
    for (i = 0; i < st->np; i++) {
      if (want[i] != 0 || st->p[i].sid == st->rotate_sid || all) {
        want[i] |= SC_PUSH_MAPS;
      }
    }
    /* The best others by score (class 0 stands for the average), and two
     * more for each class nobody pushes yet: candidates are found only
     * among neighbours whose maps this node gets. */
    size_t want_extra = MAP_EXTRA;
    for (c = 0; c < SC_MC_CLASSES; c++) {
      want_extra += pusher[c] == NULL ? 2 : 0;
    }
    while (extra < want_extra) {
      size_t b = PEERS_MAX;
      for (i = 0; i < st->np; i++) {
        if ((want[i] & SC_PUSH_MAPS) ||
            !sc_mc_peer_valid(node, &st->p[i], now)) {
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
    if (!sc_mc_peer_valid(node, &st->p[i], now)) {
      want[i] = 0;
    }
    if (want[i] != st->p[i].asked) {
      sc_node_log(node, SC_LOG_DEBUG, "stream %s: asking session %08x for %03x",
                  st->name, (unsigned)st->p[i].sid, (unsigned)want[i]);
      sc_mc_send_push(node, st, &st->p[i], want[i], now);
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
  uint8_t bytes[SC_MAP_BITS / 8] = {0};
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
  (void)sc_window_map(st->win, top - m.nbits, bytes, m.nbits);
  m.bits = 0;
  for (i = 0; i < sizeof(bytes); i++) {
    m.bits |= (uint64_t)bytes[i] << (8 * i);
  }
  sc_wr_init(&w, buf, sizeof(buf));
  if (sc_map_write(&w, &m) == 0 &&
      sc_mc_dg_send(node, p->sid, buf, w.len, SC_DGRAM_QUIET, now) == 0) {
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
         ((p->map_bits >> (seq - (p->map_top - p->map_nbits))) & 1);
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

static void batch_flush(sc_node *node, batch *b, uint64_t now) {
  uint8_t buf[64];
  sc_wr w;
  if (b->p == NULL || b->m.nbits == 0) {
    return;
  }
  sc_wr_init(&w, buf, sizeof(buf));
  if (sc_pull_write(&w, &b->m) == 0) {
    (void)sc_mc_dg_send(node, b->p->sid, buf, w.len, 0, now);
  }
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
    batch_flush(node, b, now);
  }
  if (b == NULL) {
    if (*nb == 8) {
      batch_flush(node, &bs[0], now);
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
/* How sure a map makes this node that |p| holds |seq|: 2 its bitmap
 * shows it, 1 it is older than the bitmap reaches but the neighbour has
 * gone past it (a relay keeps the whole window), 0 no. */
static int map_holds(const mpeer *p, uint64_t seq, uint64_t now) {
  if (map_shows(p, seq, now)) {
    return 2;
  }
  return p->map_top != NONE && now - p->map_at <= MAP_FRESH &&
         seq < p->map_top && p->map_top - seq > p->map_nbits;
}

static mpeer *pull_source(const sc_node *node, mstream *st, uint64_t seq,
                          uint32_t avoid, uint64_t now) {
  mpeer *best = NULL;
  int best_level = 0;
  size_t i;
  for (i = 0; i < st->np; i++) {
    mpeer *p = &st->p[i];
    int level;
    if (!sc_mc_peer_valid(node, p, now) || p->outstanding >= PULL_PER_PEER) {
      continue;
    }
    level = map_holds(p, seq, now);
    if (level == 0 || level < best_level) {
      continue;
    }
    if (best == NULL || level > best_level ||
        (best->sid == avoid && p->sid != avoid) ||
        ((p->sid != avoid || best->sid == avoid) &&
         (p->outstanding < best->outstanding ||
          (p->outstanding == best->outstanding && p->rtt < best->rtt)))) {
      best = p;
      best_level = level;
    }
  }
  return best;
}

/* Whether the class-c pusher |p| has fallen silent on |seq|: nothing of
 * its class for SILENT although the next seq of the class after |seq|
 * exists. A pusher merely slower than the fastest neighbour keeps
 * pushing; one cut off from the source does not, and waiting PUSH_WAIT
 * for each of its seqs would make the whole class late. (The next seq of
 * the class, not |seq| alone: at a low rate a class may rightly be quiet
 * for longer than SILENT.) */
static int silent(const mstream *st, const mpeer *p, unsigned c, uint64_t seq,
                  uint64_t now) {
  uint64_t since = SC_MAX(p->class_since[c], p->class_last_at[c]);
  return now - since >= SILENT && st->known_top != NONE &&
         st->known_top >= seq + SC_MC_CLASSES;
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
      return map_shows(p, seq, now) || now - t->known_at >= PUSH_WAIT ||
             silent(st, p, c, seq, now);
    }
  }
  return 1;
}

/* Whether |seq| (followed in |t|) is past pulling: asked PULL_TRIES times
 * in vain, or skipped by this node's player. */
static int unwanted(const mstream *st, const track *t, uint64_t seq) {
  return (t->seq == seq && t->tries >= PULL_TRIES) ||
         (st->play_started && seq < st->next_play);
}

static void pulls(sc_node *node, mstream *st, uint64_t now) {
  batch bs[8];
  size_t nb = 0, i, n = 0;
  uint64_t seq, top = st->known_top;
  if (st->start == NONE) {
    /* Not tuned in: fetch the top of each fresh map, again if no answer
     * came within a pull timeout. */
    for (i = 0; i < st->np && nb < 8; i++) {
      mpeer *p = &st->p[i];
      if (p->map_top != NONE && now - p->map_at < MAP_FRESH &&
          sc_mc_peer_valid(node, p, now) &&
          (p->tune_at == 0 || now - p->tune_at >= pull_timeout(p))) {
        batch_add(node, st, bs, &nb, p, p->map_top, SC_PULL_MANIFESTS, now);
        p->tune_at = now;
      }
    }
    for (i = 0; i < nb; i++) {
      batch_flush(node, &bs[i], now);
    }
    return;
  }
  if (top == NONE) {
    return;
  }
  if (top >= TRACK && st->scan < top - TRACK + 1) {
    st->scan = top - TRACK + 1;
  }
  /* The scan starts at the lowest seq still wanted: one that nobody
   * answered for PULL_TRIES pulls, or that the player has skipped, must
   * not hold it back, or seqs more than SCAN_MAX above it go unpulled. */
  while (st->scan <= top) {
    const track *t = &st->tr[st->scan % TRACK];
    if (!sc_window_has(st->win, st->scan) &&
        !(unwanted(st, t, st->scan) && (t->seq != st->scan || t->sid == 0))) {
      break;
    }
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
      sc_mc_track_follow(st, t, seq, now);
    }
    was = t->sid != 0 ? sc_mc_peer(st, t->sid) : NULL;
    if (t->sid != 0) {
      if (was != NULL && now - t->asked_at < pull_timeout(was)) {
        continue;
      }
      sc_mc_track_forget(was, t);
      if (t->tries >= PULL_TRIES) {
        st->st.pull_giveups++;
      }
    }
    if (unwanted(st, t, seq)) {
      continue;
    }
    if (pending ? now - t->known_at < MANIFEST_WAIT
                : !pull_due(st, t, seq, now)) {
      continue;
    }
    if (!pending && t->tries == 0) {
      /* A seq of a pushed class that had to be pulled, newer than the
       * first its pusher pushed (older ones it was never asked for): its
       * pusher's miss. Review moves a class that misses often. */
      size_t k;
      for (k = 0; k < st->np; k++) {
        mpeer *q = &st->p[k];
        if ((q->asked & (1u << CLASS(seq))) &&
            q->class_first[CLASS(seq)] != NONE &&
            seq > q->class_first[CLASS(seq)]) {
          q->misses[CLASS(seq)]++;
        }
      }
    }
    src = pull_source(node, st, seq, was != NULL ? was->sid : 0, now);
    if (src == NULL) {
      continue;
    }
    /* A pending copy needs only its manifest; a retry takes the manifest
     * along in case that was what went missing. */
    batch_add(node, st, bs, &nb, src, seq,
              pending        ? SC_PULL_MANIFESTS | SC_PULL_ONLY_MANIFESTS
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
    batch_flush(node, &bs[i], now);
  }
}

void sc_mc_tick(sc_node *node, mstream *st, uint64_t now) {
  if ((st->roles & SC_STREAM_PUBLISHER) && st->blk.count > 0 &&
      now - st->blk_started >= node->settings.manifest_interval) {
    sc_mc_close_block(node, st, now);
  }
  {
    int now_starved = starved(st, now);
    if (now_starved && !st->was_starved) {
      st->next_review = now; /* widen the maps at once */
    }
    st->was_starved = (uint8_t)now_starved;
  }
  if (now >= st->next_review) {
    size_t i;
    sc_mc_sync_peers(node, st, now);
    for (i = 0; i < st->np; i++) {
      st->p[i].junk /= 2;
    }
    review(node, st, now);
    st->next_review = now + sc_mc_jitter(node, REVIEW);
  }
  send_maps(node, st, now);
  if (!(st->roles & SC_STREAM_PUBLISHER)) {
    pulls(node, st, now);
  }
  sc_mc_play_run(node, st, now);
  st->next_tick = now + TICK;
}
