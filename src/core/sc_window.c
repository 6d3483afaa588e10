/*
 * sc_window.c: one stream's window of recent fragments
 * (doc/protocol.md §12.4).
 *
 * Authentic fragments live in a ring keyed by seq, verified manifests in a
 * ring keyed by their first seq; the manifest covering a seq is the one
 * with the nearest first at or below it, at most SC_STREAM_BLOCK - 1 back
 * (an honest publisher's blocks never overlap). A ring is a power-of-two
 * array of slots, slot key % cap, holding keys lo..hi with hi - lo < cap, so
 * no two held keys share a slot; it doubles when a key would break that, up
 * to a fixed maximum that the seq span rule keeps us under. Every operation
 * is O(1) amortized: the low end only moves up.
 *
 * Fragments awaiting their manifest sit in a small unsorted array (at most
 * SC_WINDOW_PENDING_MAX): their seqs are untrusted, so they must not decide
 * the shape of the rings.
 *
 * Expiry runs from the low end: the lowest authentic fragment goes once its
 * timestamp is more than |span| older than the newest authentic timestamp,
 * or once it is more than SC_WINDOW_SEQ_SPAN below the highest seq. A
 * publisher's timestamps rise with seq, so this is expiry by time; a
 * fragment arriving already older than the window is refused as stale.
 * |floor| is the seq below which everything has expired: nothing below it
 * is taken again.
 */
#include "sc_window.h"

#include <string.h>

#include "sc_mem.h"

#define FRAG_RING_MAX ((size_t)1 << 18) /* > 2 * SEQ_SPAN + a block */
#define RING_MIN 64
#define RING_RANGE 100 /* ring_reserve: the key range would exceed max */

typedef struct ring_slot {
  uint64_t key;
  void *val; /* NULL: empty */
} ring_slot;

typedef struct ring {
  ring_slot *slot;
  size_t cap, max, count;
  uint64_t lo, hi; /* lowest and highest key held, when count > 0 */
} ring;

typedef struct frag_ent {
  uint64_t seq, ts;
  uint64_t at;  /* when it arrived (pending) or became authentic */
  uint32_t src; /* the caller's tag for whoever sent it */
  size_t len;
  uint8_t data[]; /* the encoded fragment */
} frag_ent;

typedef struct manifest_ent {
  sc_manifest m;
  size_t len;
  uint8_t enc[SC_MANIFEST_MAX_LEN];
} manifest_ent;

struct sc_window {
  const sc_mem *mem;
  uint8_t stream_id[SC_STREAM_ID_LEN];
  uint8_t key[SC_STREAM_KEY_LEN];
  uint64_t span;
  ring frags;  /* seq -> frag_ent, authentic only */
  ring blocks; /* first seq -> manifest_ent, verified only */
  frag_ent *pending[SC_WINDOW_PENDING_MAX];
  size_t npending;
  uint64_t newest_ts; /* newest authentic timestamp, if have_ts */
  int have_ts;
  uint64_t key_seq; /* highest authentic keyframe, UINT64_MAX: none */
  uint64_t floor;
  sc_window_stats st;
};

/* ---- rings --------------------------------------------------------------- */

static void *ring_get(const ring *r, uint64_t key) {
  const ring_slot *s;
  if (r->count == 0 || key < r->lo || key > r->hi) {
    return NULL;
  }
  s = &r->slot[key & (r->cap - 1)];
  return s->val != NULL && s->key == key ? s->val : NULL;
}

/* Makes room for keys |kmin|..|kmax| besides those held. Returns 0,
 * RING_RANGE or SC_ERR_NOMEM; on failure |r| is unchanged. */
static int ring_reserve(const sc_mem *mem, ring *r, uint64_t kmin,
                        uint64_t kmax) {
  uint64_t lo = kmin, hi = kmax, need;
  size_t cap = r->cap == 0 ? RING_MIN : r->cap, i;
  ring_slot *ns;
  if (r->count > 0) {
    lo = r->lo < lo ? r->lo : lo;
    hi = r->hi > hi ? r->hi : hi;
  }
  need = hi - lo;
  if (need >= r->max) {
    return RING_RANGE;
  }
  while (cap <= need) {
    cap *= 2;
  }
  if (cap == r->cap) {
    return 0;
  }
  ns = sc_mem_calloc(mem, cap, sizeof(*ns));
  if (ns == NULL) {
    return SC_ERR_NOMEM;
  }
  for (i = 0; i < r->cap; i++) {
    if (r->slot[i].val != NULL) {
      ns[r->slot[i].key & (cap - 1)] = r->slot[i];
    }
  }
  sc_mem_free(mem, r->slot);
  r->slot = ns;
  r->cap = cap;
  return 0;
}

/* Stores |val| under |key|, which is not held. Returns as ring_reserve. */
static int ring_put(const sc_mem *mem, ring *r, uint64_t key, void *val) {
  ring_slot *s;
  int rv = ring_reserve(mem, r, key, key);
  if (rv != 0) {
    return rv;
  }
  s = &r->slot[key & (r->cap - 1)];
  s->key = key;
  s->val = val;
  if (r->count == 0 || key < r->lo) {
    r->lo = key;
  }
  if (r->count == 0 || key > r->hi) {
    r->hi = key;
  }
  r->count++;
  return 0;
}

/* Removes |key| (held) and returns its value. */
static void *ring_del(ring *r, uint64_t key) {
  ring_slot *s = &r->slot[key & (r->cap - 1)];
  void *val = s->val;
  s->val = NULL;
  if (--r->count == 0) {
    return val;
  }
  if (key == r->lo) {
    while (ring_get(r, r->lo) == NULL) {
      r->lo++;
    }
  }
  if (key == r->hi) {
    while (ring_get(r, r->hi) == NULL) {
      r->hi--;
    }
  }
  return val;
}

static void ring_clear(const sc_mem *mem, ring *r) {
  size_t i;
  for (i = 0; i < r->cap; i++) {
    sc_mem_free(mem, r->slot[i].val);
  }
  sc_mem_free(mem, r->slot);
  r->slot = NULL;
  r->cap = r->count = 0;
}

/* ---- window -------------------------------------------------------------- */

int sc_window_new(sc_window **pw, const sc_mem *mem,
                  const uint8_t stream_id[SC_STREAM_ID_LEN],
                  const uint8_t key[SC_STREAM_KEY_LEN], uint64_t span) {
  sc_window *w = sc_mem_calloc(mem, 1, sizeof(*w));
  *pw = NULL;
  if (w == NULL) {
    return SC_ERR_NOMEM;
  }
  w->mem = mem;
  memcpy(w->stream_id, stream_id, SC_STREAM_ID_LEN);
  memcpy(w->key, key, SC_STREAM_KEY_LEN);
  w->span = span;
  w->frags.max = FRAG_RING_MAX;
  w->blocks.max = FRAG_RING_MAX;
  w->key_seq = UINT64_MAX;
  *pw = w;
  return 0;
}

void sc_window_del(sc_window *w) {
  size_t i;
  if (w == NULL) {
    return;
  }
  ring_clear(w->mem, &w->frags);
  ring_clear(w->mem, &w->blocks);
  for (i = 0; i < w->npending; i++) {
    sc_mem_free(w->mem, w->pending[i]);
  }
  sc_mem_free(w->mem, w);
}

static int is_too_old(const sc_window *w, uint64_t ts) {
  return w->have_ts && w->newest_ts > w->span && ts < w->newest_ts - w->span;
}

/* The seq span rule of sc_window.h: seqs [lo, hi] may be awaited only near
 * the highest authentic seq (anywhere while none is held). */
static int is_out_of_span(const sc_window *w, uint64_t lo, uint64_t hi) {
  uint64_t top = w->frags.hi;
  if (w->frags.count == 0) {
    return 0;
  }
  return (lo > top && lo - top > SC_WINDOW_SEQ_SPAN) ||
         (hi < top && top - hi > SC_WINDOW_SEQ_SPAN);
}

static void pending_remove(sc_window *w, size_t i) {
  sc_mem_free(w->mem, w->pending[i]);
  w->pending[i] = w->pending[--w->npending];
}

static int pending_is_doomed(const sc_window *w, const frag_ent *e) {
  return e->seq < w->floor || is_too_old(w, e->ts) ||
         is_out_of_span(w, e->seq, e->seq);
}

/* Drops what fell out of the window after an authentic fragment came. */
static void expire(sc_window *w) {
  size_t i;
  while (w->frags.count > 1) {
    uint64_t lo = w->frags.lo;
    frag_ent *e = ring_get(&w->frags, lo);
    if (!is_too_old(w, e->ts) && w->frags.hi - lo <= SC_WINDOW_SEQ_SPAN) {
      break;
    }
    ring_del(&w->frags, lo);
    w->st.bytes_held -= e->len;
    sc_mem_free(w->mem, e);
    w->floor = lo + 1;
  }
  /* A block goes once its last seq is below the floor. */
  while (w->blocks.count > 0) {
    const manifest_ent *me = ring_get(&w->blocks, w->blocks.lo);
    if (me->m.first + me->m.count > w->floor) {
      break;
    }
    sc_mem_free(w->mem, ring_del(&w->blocks, w->blocks.lo));
  }
  for (i = w->npending; i-- > 0;) {
    if (pending_is_doomed(w, w->pending[i])) {
      pending_remove(w, i);
      w->st.pending_dropped++;
    }
  }
  w->st.fragments_held = w->frags.count;
}

static frag_ent *frag_ent_new(const sc_mem *mem, const sc_frag *f,
                              const uint8_t *data, size_t len, uint32_t src,
                              uint64_t now) {
  frag_ent *e = sc_mem_malloc(mem, sizeof(*e) + len);
  if (e == NULL) {
    return NULL;
  }
  e->seq = f->seq;
  e->ts = f->timestamp_us;
  e->at = now;
  e->src = src;
  e->len = len;
  memcpy(e->data, data, len);
  return e;
}

/* Files the authentic |e|, for which the ring has room. */
static void authentic_put(sc_window *w, frag_ent *e) {
  sc_frag f;
  (void)ring_put(w->mem, &w->frags, e->seq, e);
  if (sc_frag_read(&f, e->data, e->len) == 0 && (f.flags & SC_FRAG_KEYFRAME) &&
      (w->key_seq == UINT64_MAX || e->seq > w->key_seq)) {
    w->key_seq = e->seq;
  }
  w->st.bytes_held += e->len;
  w->st.fragments_held = w->frags.count;
  if (!w->have_ts || e->ts > w->newest_ts) {
    w->newest_ts = e->ts;
    w->have_ts = 1;
  }
}

static int range_result(sc_window *w, int rv) {
  if (rv == RING_RANGE) {
    w->st.stale++;
    return SC_WIN_STALE;
  }
  return rv;
}

/* A fragment whose block's manifest is verified. */
static int add_covered(sc_window *w, const manifest_ent *me, const sc_frag *f,
                       const uint8_t *data, size_t len, uint32_t src,
                       uint64_t now) {
  frag_ent *e;
  int rv;
  if (!sc_manifest_covers(&me->m, f->seq, data, len)) {
    w->st.forged++;
    return SC_WIN_FORGED;
  }
  rv = ring_reserve(w->mem, &w->frags, f->seq, f->seq);
  if (rv != 0) {
    return range_result(w, rv);
  }
  e = frag_ent_new(w->mem, f, data, len, src, now);
  if (e == NULL) {
    return SC_ERR_NOMEM;
  }
  authentic_put(w, e);
  w->st.accepted++;
  expire(w);
  return SC_WIN_ACCEPTED;
}

static int add_pending(sc_window *w, const sc_frag *f, const uint8_t *data,
                       size_t len, uint32_t src, uint64_t now) {
  size_t i;
  if (is_out_of_span(w, f->seq, f->seq)) {
    w->st.stale++;
    return SC_WIN_STALE;
  }
  /* The first copy stays: until the manifest comes we cannot tell which
   * of two differing copies is the forgery. */
  for (i = 0; i < w->npending; i++) {
    if (w->pending[i]->seq == f->seq) {
      w->st.duplicates++;
      return SC_WIN_DUPLICATE;
    }
  }
  if (w->npending == SC_WINDOW_PENDING_MAX) {
    /* The copy that has waited longest makes room: one whose manifest
     * never comes (lost everywhere, or a forger's seq that no manifest
     * covers) must not bar every fresh copy. */
    size_t old = 0;
    for (i = 1; i < w->npending; i++) {
      if (w->pending[i]->at < w->pending[old]->at) {
        old = i;
      }
    }
    pending_remove(w, old);
    w->st.pending_dropped++;
  }
  w->pending[w->npending] = frag_ent_new(w->mem, f, data, len, src, now);
  if (w->pending[w->npending] == NULL) {
    return SC_ERR_NOMEM;
  }
  w->npending++;
  return SC_WIN_PENDING;
}

/* The verified manifest covering |seq|, or NULL. */
static const manifest_ent *covering(const sc_window *w, uint64_t seq) {
  uint64_t back;
  for (back = 0; back < SC_STREAM_BLOCK && back <= seq; back++) {
    const manifest_ent *me = ring_get(&w->blocks, seq - back);
    if (me != NULL) {
      return seq - me->m.first < me->m.count ? me : NULL;
    }
  }
  return NULL;
}

int sc_window_add_fragment(sc_window *w, const uint8_t *data, size_t len,
                           uint32_t src, uint64_t now) {
  sc_frag f;
  const manifest_ent *me;
  if (sc_frag_read(&f, data, len) != 0 ||
      memcmp(f.stream_id, w->stream_id, SC_STREAM_ID_LEN) != 0) {
    w->st.malformed++;
    return SC_WIN_MALFORMED;
  }
  if (ring_get(&w->frags, f.seq) != NULL) {
    w->st.duplicates++;
    return SC_WIN_DUPLICATE;
  }
  if (f.seq < w->floor || is_too_old(w, f.timestamp_us)) {
    w->st.stale++;
    return SC_WIN_STALE;
  }
  me = covering(w, f.seq);
  if (me != NULL) {
    return add_covered(w, me, &f, data, len, src, now);
  }
  return add_pending(w, &f, data, len, src, now);
}

/* Makes room in the fragment ring for the pending fragments of |m|'s
 * block, so that releasing them cannot fail halfway. */
static int reserve_block(sc_window *w, const sc_manifest *m) {
  uint64_t lo = UINT64_MAX, hi = 0;
  size_t i;
  for (i = 0; i < w->npending; i++) {
    uint64_t seq = w->pending[i]->seq;
    if (seq - m->first < m->count) {
      lo = seq < lo ? seq : lo;
      hi = seq > hi ? seq : hi;
    }
  }
  if (lo > hi) {
    return 0;
  }
  return ring_reserve(w->mem, &w->frags, lo, hi);
}

/* Releases the pending fragments of |m|'s block: authentic if covered,
 * forged if not; |rel| learns which. */
static void release(sc_window *w, const sc_manifest *m, uint64_t now,
                    sc_window_release *rel) {
  size_t i;
  for (i = w->npending; i-- > 0;) {
    frag_ent *e = w->pending[i];
    if (e->seq - m->first >= m->count) {
      continue;
    }
    if (!sc_manifest_covers(m, e->seq, e->data, e->len)) {
      w->st.forged++;
      rel->forged_src[rel->nforged++] = e->src;
      pending_remove(w, i);
      continue;
    }
    w->pending[i] = w->pending[--w->npending];
    e->at = now;
    authentic_put(w, e);
    w->st.pending_released++;
    rel->seq[rel->n++] = e->seq;
  }
}

static int manifest_check(sc_window *w, const sc_manifest *m) {
  uint64_t last = m->first + m->count - 1;
  if (memcmp(m->stream_id, w->stream_id, SC_STREAM_ID_LEN) != 0) {
    w->st.malformed++;
    return SC_WIN_MALFORMED;
  }
  if (ring_get(&w->blocks, m->first) != NULL) {
    w->st.duplicates++;
    return SC_WIN_DUPLICATE;
  }
  /* Cheap checks before the signature: a replayed old manifest costs no
   * Ed25519 verification. */
  if (last < w->floor || is_out_of_span(w, m->first, last)) {
    w->st.stale++;
    return SC_WIN_STALE;
  }
  if (sc_manifest_verify(m, w->key) != 0) {
    w->st.forged++;
    return SC_WIN_FORGED;
  }
  return SC_WIN_ACCEPTED;
}

/* Stores the verified |m| (encoded as |data|, |len| bytes) and releases
 * its pending fragments. Returns 0, SC_WIN_STALE or SC_ERR_NOMEM. */
static int manifest_store(sc_window *w, const sc_manifest *m,
                          const uint8_t *data, size_t len, uint64_t now,
                          sc_window_release *rel) {
  manifest_ent *me;
  int rv = reserve_block(w, m);
  if (rv != 0) {
    return range_result(w, rv);
  }
  me = sc_mem_malloc(w->mem, sizeof(*me));
  if (me == NULL) {
    return SC_ERR_NOMEM;
  }
  rv = ring_put(w->mem, &w->blocks, m->first, me);
  if (rv != 0) {
    sc_mem_free(w->mem, me);
    return range_result(w, rv);
  }
  me->m = *m;
  memcpy(me->enc, data, len);
  me->len = len;
  release(w, &me->m, now, rel);
  expire(w);
  return 0;
}

int sc_window_add_manifest(sc_window *w, const uint8_t *data, size_t len,
                           uint64_t now, sc_window_release *rel) {
  sc_window_release dummy;
  sc_manifest m;
  int rv;
  if (rel == NULL) {
    rel = &dummy;
  }
  rel->n = rel->nforged = 0;
  /* The reader rejects trailing bytes, so a manifest that decodes fits
   * the entry's SC_MANIFEST_MAX_LEN bytes. */
  if (sc_manifest_read(&m, data, len) != 0) {
    w->st.malformed++;
    return SC_WIN_MALFORMED;
  }
  rv = manifest_check(w, &m);
  if (rv != SC_WIN_ACCEPTED) {
    return rv;
  }
  rv = manifest_store(w, &m, data, len, now, rel);
  if (rv != 0) {
    return rv;
  }
  return SC_WIN_ACCEPTED;
}

/* ---- queries ------------------------------------------------------------- */

const uint8_t *sc_window_get(const sc_window *w, uint64_t seq, size_t *len) {
  const frag_ent *e = ring_get(&w->frags, seq);
  if (e == NULL) {
    return NULL;
  }
  *len = e->len;
  return e->data;
}

const uint8_t *sc_window_manifest(const sc_window *w, uint64_t seq,
                                  size_t *len) {
  const manifest_ent *me = covering(w, seq);
  if (me == NULL) {
    return NULL;
  }
  *len = me->len;
  return me->enc;
}

int sc_window_has(const sc_window *w, uint64_t seq) {
  return ring_get(&w->frags, seq) != NULL;
}

int sc_window_pending(const sc_window *w, uint64_t seq) {
  size_t i;
  for (i = 0; i < w->npending; i++) {
    if (w->pending[i]->seq == seq) {
      return 1;
    }
  }
  return 0;
}

uint64_t sc_window_arrival(const sc_window *w, uint64_t seq) {
  const frag_ent *e = ring_get(&w->frags, seq);
  return e != NULL ? e->at : UINT64_MAX;
}

uint64_t sc_window_keyframe(const sc_window *w) {
  return w->key_seq != UINT64_MAX && ring_get(&w->frags, w->key_seq) != NULL
             ? w->key_seq
             : UINT64_MAX;
}

uint64_t sc_window_highest(const sc_window *w) {
  return w->frags.count > 0 ? w->frags.hi : UINT64_MAX;
}

uint64_t sc_window_lowest(const sc_window *w) {
  return w->frags.count > 0 ? w->frags.lo : UINT64_MAX;
}

size_t sc_window_map(const sc_window *w, uint64_t from, uint8_t *out,
                     size_t nbits) {
  size_t i, set = 0;
  memset(out, 0, (nbits + 7) / 8);
  for (i = 0; i < nbits && from + i >= from; i++) {
    if (ring_get(&w->frags, from + i) != NULL) {
      out[i / 8] = (uint8_t)(out[i / 8] | (1u << (i % 8)));
      set++;
    }
  }
  return set;
}

void sc_window_get_stats(const sc_window *w, sc_window_stats *out) {
  *out = w->st;
  out->pending = w->npending;
}
