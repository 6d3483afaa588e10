/*
 * sc_mplay.c: playing a stream (doc/protocol.md §13.6): binding play
 * requests to streams and handing fragments to the host in order.
 */
#include <string.h>

#include "sc_mcast_int.h"

/* ---- playing
 * ------------------------------------------------------------------
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
void sc_mc_play_bind(sc_node *node, mstream *st) {
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
void sc_mc_play_run(sc_node *node, mstream *st, uint64_t now) {
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
    /* The gap's deadline runs from when the fragment after it arrived:
     * the seq was known missing then. A player that fell behind finds
     * those arrivals old and catches up at once, so a run of gaps never
     * adds up to more than one gap timeout of delay. */
    if (st->gap_since == NONE) {
      uint64_t next = seq + 1;
      while (next < top && !sc_window_has(st->win, next)) {
        next++;
      }
      st->gap_since = SC_MIN(now, sc_window_arrival(st->win, next));
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
