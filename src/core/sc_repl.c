/*
 * sc_repl.c: object replication (sc_repl.h, doc/protocol.md §14.3).
 *
 * Per group: the store (index -> bytes, an open-addressing table), the
 * indices held, wanted and being fetched, and per member link what it
 * announced it holds and wants, what this node last told it, and the
 * fetches outstanding to it. For rarest-first, a count set holds how many
 * links announce each index.
 *
 * Announcements: HAVE goes to a link that wants something, as the change
 * since what it was last told (the first one a SET); WANT goes whole on
 * every change. At most one announcement a second per link; a new link
 * gets both at once.
 *
 * Fetching: candidates are indices wanted, not held, not being fetched,
 * and held by a link with a free slot (at most 16 outstanding per link).
 * Lowest-first takes them in index order; rarest-first by how many links
 * announce them, then index. Each goes to the free holder with the fewest
 * recent timeouts and outstanding fetches. A fetch unanswered in 5 s is
 * asked again, preferably elsewhere.
 */
#include "sc_repl.h"

#include <string.h>

#include "sc_bucket.h"
#include "sc_macro.h"
#include "sc_mem.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_replmsg.h"
#include "sc_replset.h"
#include "sc_session.h"

#define FETCH_TIMEOUT (5 * SC_SEC)
#define ANNOUNCE_GAP SC_SEC      /* between announcements to one link */
#define SYNC_EVERY (250 * SC_MS) /* look for member links that came or went */
#define FILL_GAP (5 * SC_MS)     /* between two rounds of fetching */
#define BUSY_WAIT (100 * SC_MS)  /* a link that said busy is left alone */
#define SERVE_RATE 2000          /* objects a link may fetch a second */
#define SERVE_BURST 256          /* ... and at once */
#define NONE UINT64_MAX

typedef struct obj {
  uint64_t index;
  size_t len;
  uint8_t data[];
} obj;

typedef struct fetch {
  uint64_t index, sent_at;
} fetch;

typedef struct olink {
  uint32_t sid;
  uint8_t peer_id[SC_PEER_ID_LEN];
  int cut;                      /* announced something absurd: ignored */
  sc_bset have;                 /* what it announced it holds */
  sc_rset want;                 /* what it announced it wants */
  sc_bset told;                 /* what this node told it it holds */
  int told_any;                 /* a HAVE went out (the next is not a SET) */
  int resync;                   /* an announcement failed: send the set again */
  uint64_t told_have;           /* have_ver when told */
  uint64_t told_want;           /* want_ver when told, 0: never */
  uint64_t next_tell;           /* no announcement before this */
  uint64_t busy_until;          /* it said busy: no fetch before this */
  fetch out[SC_REPL_FETCH_OUT]; /* in the order sent */
  size_t nout;
  unsigned timeouts; /* fetches it let time out since its last answer */
  sc_bucket serve;   /* its budget for fetching from us */
} olink;

struct sc_ogroup {
  int strategy;
  obj **slot; /* the store; a power of two of slots */
  size_t nslots, count;
  uint64_t bytes;
  sc_bset have, inflight;
  sc_rset want;
  sc_cset avail; /* links announcing each index (uncut links) */
  uint64_t have_ver, want_ver;
  olink *l;
  size_t nl, lcap;
  size_t rr; /* where ties between links start */
  uint64_t next_sync, fill_at, last_fill, due;
};

/* ---- the store ---- */

static size_t slot_of(const sc_ogroup *og, uint64_t index) {
  return (size_t)((index * 0x9e3779b97f4a7c15ULL) >> 20) & (og->nslots - 1);
}

static obj **store_find(const sc_ogroup *og, uint64_t index) {
  size_t i;
  if (og->nslots == 0) {
    return NULL;
  }
  for (i = slot_of(og, index); og->slot[i] != NULL;
       i = (i + 1) & (og->nslots - 1)) {
    if (og->slot[i]->index == index) {
      return &og->slot[i];
    }
  }
  return NULL;
}

static void store_place(sc_ogroup *og, obj *o) {
  size_t i = slot_of(og, o->index);
  while (og->slot[i] != NULL) {
    i = (i + 1) & (og->nslots - 1);
  }
  og->slot[i] = o;
}

static int store_grow(sc_node *node, sc_ogroup *og) {
  size_t n = og->nslots == 0 ? 64 : 2 * og->nslots, i, old = og->nslots;
  obj **s = sc_mem_calloc(node->mem, n, sizeof(*s)), **was = og->slot;
  if (s == NULL) {
    return SC_ERR_NOMEM;
  }
  og->slot = s;
  og->nslots = n;
  for (i = 0; i < old; i++) {
    if (was[i] != NULL) {
      store_place(og, was[i]);
    }
  }
  sc_mem_free(node->mem, was);
  return 0;
}

/* Removes the object in slot |p| (backward-shift deletion). */
static void store_take(sc_node *node, sc_ogroup *og, obj **p) {
  size_t i = (size_t)(p - og->slot), j = i, mask = og->nslots - 1;
  og->bytes -= (*p)->len;
  og->count--;
  sc_mem_free(node->mem, *p);
  og->slot[i] = NULL;
  for (;;) {
    size_t home;
    j = (j + 1) & mask;
    if (og->slot[j] == NULL) {
      return;
    }
    home = slot_of(og, og->slot[j]->index);
    /* Move it back unless its home lies cyclically in (i, j]. */
    if ((j > i && (home <= i || home > j)) ||
        (j < i && home <= i && home > j)) {
      og->slot[i] = og->slot[j];
      og->slot[j] = NULL;
      i = j;
    }
  }
}

/* Stores |len| bytes as object |index|, replacing any. Returns 0,
 * SC_ERR_LIMIT or SC_ERR_NOMEM. */
static int store_put(sc_node *node, sc_ogroup *og, uint64_t index,
                     const uint8_t *data, size_t len) {
  obj **p = store_find(og, index), *o;
  uint64_t freed = p != NULL ? (*p)->len : 0;
  if ((p == NULL && og->count >= SC_REPL_OBJECTS_MAX) ||
      og->bytes - freed + len > SC_REPL_BYTES_MAX) {
    return SC_ERR_LIMIT;
  }
  if (sc_bset_add(node->mem, &og->have, index) < 0) {
    return SC_ERR_NOMEM;
  }
  if ((o = sc_mem_malloc(node->mem, sizeof(*o) + len)) == NULL ||
      (p == NULL && 2 * (og->count + 1) > og->nslots &&
       store_grow(node, og) != 0)) {
    sc_mem_free(node->mem, o);
    if (p == NULL) {
      (void)sc_bset_del(&og->have, index);
    }
    return SC_ERR_NOMEM;
  }
  o->index = index;
  o->len = len;
  if (len > 0) {
    memcpy(o->data, data, len);
  }
  if (p != NULL) {
    og->bytes -= (*p)->len;
    sc_mem_free(node->mem, *p);
    *p = o;
  } else {
    store_place(og, o);
    og->count++;
  }
  og->bytes += len;
  og->have_ver++;
  return 0;
}

/* ---- groups and links ---- */

static void link_free(sc_node *node, olink *l) {
  sc_bset_free(node->mem, &l->have);
  sc_bset_free(node->mem, &l->told);
  sc_rset_free(node->mem, &l->want);
}

void sc_repl_group_free(sc_node *node, sc_ogroup *og) {
  size_t i;
  if (og == NULL) {
    return;
  }
  for (i = 0; i < og->nslots; i++) {
    sc_mem_free(node->mem, og->slot[i]);
  }
  for (i = 0; i < og->nl; i++) {
    link_free(node, &og->l[i]);
  }
  sc_mem_free(node->mem, og->slot);
  sc_mem_free(node->mem, og->l);
  sc_bset_free(node->mem, &og->have);
  sc_bset_free(node->mem, &og->inflight);
  sc_rset_free(node->mem, &og->want);
  sc_cset_free(node->mem, &og->avail);
  sc_mem_free(node->mem, og);
}

static sc_ogroup *ogroup(sc_node *node, sc_mgroup *g) {
  if (g->repl == NULL &&
      (g->repl = sc_mem_calloc(node->mem, 1, sizeof(*g->repl))) != NULL) {
    g->repl->have_ver = g->repl->want_ver = 1;
    g->repl->fill_at = NONE;
  }
  return g->repl;
}

/* Asks for a round of fetching at |at|, or FILL_GAP after the last one:
 * answers arriving together are answered by one round. */
static void fill_soon(sc_ogroup *og, uint64_t at) {
  og->fill_at = SC_MIN(og->fill_at, SC_MAX(at, og->last_fill + FILL_GAP));
}

/* Forgets what link |l| holds, for the counts. */
static void link_forget_have(sc_ogroup *og, olink *l) {
  size_t i;
  for (i = 0; i < l->have.n; i++) {
    sc_cset_dec(&og->avail, l->have.w[i].block, l->have.w[i].bits);
  }
  sc_bset_clear(&l->have);
}

/* Gives up link |l|'s outstanding fetches. */
static void link_cancel(sc_ogroup *og, olink *l, uint64_t now) {
  size_t i;
  for (i = 0; i < l->nout; i++) {
    (void)sc_bset_del(&og->inflight, l->out[i].index);
  }
  l->nout = 0;
  fill_soon(og, now);
}

static void link_drop(sc_node *node, sc_ogroup *og, size_t k, uint64_t now) {
  olink *l = &og->l[k];
  link_forget_have(og, l);
  link_cancel(og, l, now);
  link_free(node, l);
  memmove(l, l + 1, (og->nl - k - 1) * sizeof(*l));
  og->nl--;
}

/* Stops trusting link |l|: it announced more than any member may. */
static void link_cut(sc_node *node, sc_mgroup *g, olink *l, uint64_t now) {
  link_forget_have(g->repl, l);
  link_cancel(g->repl, l, now);
  sc_bset_free(node->mem, &l->have);
  sc_rset_free(node->mem, &l->want);
  l->cut = 1;
  g->st.repl_dropped++;
}

static olink *link_of(sc_ogroup *og, uint32_t sid) {
  size_t i;
  for (i = 0; i < og->nl; i++) {
    if (og->l[i].sid == sid) {
      return &og->l[i];
    }
  }
  return NULL;
}

static int link_usable(const sc_node *node, uint32_t sid) {
  sc_session *s = sc_node_session(node, sid);
  return s != NULL && sc_session_is_usable(s);
}

static void link_add(sc_node *node, sc_ogroup *og, const sc_member *m,
                     uint64_t now) {
  olink *l;
  if (og->nl == SC_REPL_LINKS_MAX) {
    return;
  }
  if (og->nl == og->lcap) {
    size_t cap = og->lcap == 0 ? 8 : 2 * og->lcap;
    olink *nl = sc_mem_realloc(node->mem, og->l, cap * sizeof(*nl));
    if (nl == NULL) {
      return;
    }
    og->l = nl;
    og->lcap = cap;
  }
  l = &og->l[og->nl++];
  memset(l, 0, sizeof(*l));
  l->sid = m->sid;
  memcpy(l->peer_id, m->peer_id, SC_PEER_ID_LEN);
  sc_bucket_init(&l->serve, SERVE_BURST, now);
}

/* Follows the group's member links: drops links gone, adds new ones. */
static void sync_links(sc_node *node, sc_mgroup *g, uint64_t now) {
  sc_ogroup *og = g->repl;
  size_t i;
  for (i = og->nl; i-- > 0;) {
    if (sc_mesh_member_link(g, og->l[i].sid) == NULL ||
        !link_usable(node, og->l[i].sid)) {
      link_drop(node, og, i, now);
    }
  }
  for (i = 0; i < g->n; i++) {
    const sc_member *m = &g->m[i];
    if (m->sid != 0 && link_usable(node, m->sid) &&
        link_of(og, m->sid) == NULL) {
      link_add(node, og, m, now);
    }
  }
  og->next_sync = now + SYNC_EVERY;
}

/* ---- sending ---- */

static int send_body(sc_node *node, sc_mgroup *g, uint32_t sid, uint64_t kind,
                     const sc_wr *w, uint64_t now) {
  sc_session *s = sc_node_session(node, sid);
  int rv;
  if (s == NULL || !sc_session_is_usable(s)) {
    return SC_ERR_STATE;
  }
  if ((rv = sc_session_send_msg(s, kind, w->buf, w->len, now)) == 0) {
    g->st.repl_bytes_sent += 1 + w->len;
  }
  return rv;
}

/* Writes runs into HAVE or WANT messages, as many per message as fit. */
typedef struct runs_out {
  sc_node *node;
  sc_mgroup *g;
  uint32_t sid;
  uint64_t kind;
  unsigned op; /* of the next message; a SET is followed by ADDs */
  sc_repl_run run[SC_REPL_RUNS_MAX];
  size_t n;
  int sent, failed;
  uint64_t now;
} runs_out;

static void runs_flush(runs_out *o, int force) {
  size_t at = 0, taken;
  while ((at < o->n || (force && !o->sent)) && !o->failed) {
    uint8_t body[SC_MSG_MAX];
    sc_wr w;
    sc_wr_init(&w, body, sizeof(body));
    if (sc_repl_runs_write(&w, o->g->spec.id, o->op, o->run + at, o->n - at,
                           &taken) != 0 ||
        send_body(o->node, o->g, o->sid, o->kind, &w, o->now) != 0) {
      o->failed = 1;
      break;
    }
    at += taken;
    o->sent = 1;
    if (o->op == SC_REPL_SET) {
      o->op = SC_REPL_ADD;
    }
  }
  o->n = 0;
}

/* Adds [lo, hi) to the runs, merging with the last one when they touch. */
static void runs_put(runs_out *o, uint64_t lo, uint64_t hi) {
  if (o->n > 0 && o->run[o->n - 1].first + o->run[o->n - 1].len == lo) {
    o->run[o->n - 1].len += hi - lo;
    return;
  }
  if (o->n == SC_REPL_RUNS_MAX) {
    /* Keep the last run: the next one may extend it. */
    sc_repl_run last = o->run[o->n - 1];
    o->n--;
    runs_flush(o, 0);
    o->run[o->n++] = last;
  }
  o->run[o->n].first = lo;
  o->run[o->n].len = hi - lo;
  o->n++;
}

/* Adds the set bits of |bits| in |block| as runs. */
static void runs_put_bits(runs_out *o, uint64_t block, uint64_t bits) {
  uint64_t base = block * SC_BLOCK_BITS;
  while (bits != 0) {
    unsigned a = (unsigned)__builtin_ctzll(bits), b;
    uint64_t rest = ~(bits >> a);
    b = rest == 0 ? SC_BLOCK_BITS : a + (unsigned)__builtin_ctzll(rest);
    runs_put(o, base + a, base + b);
    bits = b >= SC_BLOCK_BITS ? 0 : bits & ~(((uint64_t)1 << b) - 1);
  }
}

static void runs_begin(runs_out *o, sc_node *node, sc_mgroup *g, uint32_t sid,
                       uint64_t kind, unsigned op, uint64_t now) {
  o->node = node;
  o->g = g;
  o->sid = sid;
  o->kind = kind;
  o->op = op;
  o->n = 0;
  o->sent = o->failed = 0;
  o->now = now;
}

/* Sends link |l| the change in what this node holds since it was last
 * told (everything, as a SET, the first time or after a failure). */
static int tell_have(sc_node *node, sc_mgroup *g, olink *l, uint64_t now) {
  sc_ogroup *og = g->repl;
  runs_out o;
  size_t i = 0, j = 0, pass;
  int full = !l->told_any || l->resync;
  if (full) {
    sc_bset_clear(&l->told);
  }
  for (pass = 0; pass < 2; pass++) {
    /* Pass 0: indices gained (ADD, or SET); pass 1: lost (REMOVE). */
    runs_begin(&o, node, g, l->sid, SC_MSG_HAVE,
               pass == 1 ? SC_REPL_REMOVE : (full ? SC_REPL_SET : SC_REPL_ADD),
               now);
    for (i = j = 0; i < og->have.n || j < l->told.n;) {
      uint64_t bh = i < og->have.n ? og->have.w[i].block : NONE;
      uint64_t bt = j < l->told.n ? l->told.w[j].block : NONE;
      uint64_t b = SC_MIN(bh, bt);
      uint64_t h = bh == b ? og->have.w[i++].bits : 0;
      uint64_t t = bt == b ? l->told.w[j++].bits : 0;
      runs_put_bits(&o, b, pass == 0 ? h & ~t : t & ~h);
    }
    runs_flush(&o, pass == 0 && full);
    if (o.failed) {
      l->resync = 1;
      return -1;
    }
  }
  /* What it was told is now what this node holds. */
  sc_bset_clear(&l->told);
  for (i = 0; i < og->have.n; i++) {
    if (sc_bset_or(node->mem, &l->told, og->have.w[i].block, og->have.w[i].bits,
                   NULL) != 0) {
      l->resync = 1;
      return -1;
    }
  }
  l->told_any = 1;
  l->resync = 0;
  l->told_have = og->have_ver;
  return 0;
}

static void tell_want(sc_node *node, sc_mgroup *g, olink *l, uint64_t now) {
  sc_ogroup *og = g->repl;
  runs_out o;
  size_t i;
  runs_begin(&o, node, g, l->sid, SC_MSG_WANT, SC_REPL_SET, now);
  for (i = 0; i < og->want.n; i++) {
    runs_put(&o, og->want.r[i].lo, og->want.r[i].hi);
  }
  runs_flush(&o, 1);
  if (!o.failed) {
    l->told_want = og->want_ver;
  }
}

static int need_have(const sc_ogroup *og, const olink *l) {
  return !l->cut && l->want.n > 0 &&
         (l->told_have != og->have_ver || l->resync);
}

static int need_want(const sc_ogroup *og, const olink *l) {
  return !l->cut && l->told_want != og->want_ver &&
         (og->want.n > 0 || l->told_want != 0);
}

static void announce(sc_node *node, sc_mgroup *g, uint64_t now) {
  sc_ogroup *og = g->repl;
  size_t i;
  for (i = 0; i < og->nl; i++) {
    olink *l = &og->l[i];
    int h = need_have(og, l), w = need_want(og, l);
    if ((!h && !w) || now < l->next_tell) {
      continue;
    }
    if (w) {
      tell_want(node, g, l, now);
    }
    if (h) {
      (void)tell_have(node, g, l, now);
    }
    l->next_tell = now + ANNOUNCE_GAP;
  }
}

/* ---- fetching ---- */

typedef struct cand {
  uint64_t index;
  unsigned count;
} cand;

/* The per-block masks a round of fetching looks at. */
typedef struct scan {
  const sc_ogroup *og;
  size_t want_pos, have_pos, fl_pos;
  size_t link_pos[SC_REPL_LINKS_MAX];
  const olink *free_link[SC_REPL_LINKS_MAX];
  size_t nfree;
} scan;

/* The indices of |block| worth fetching now: wanted, not held, not being
 * fetched, held by a link with a free slot. */
static uint64_t scan_block(scan *sc, uint64_t block) {
  const sc_ogroup *og = sc->og;
  uint64_t free_bits = 0, m;
  size_t k;
  for (k = 0; k < sc->nfree; k++) {
    const sc_bset *h = &sc->free_link[k]->have;
    size_t *p = &sc->link_pos[k];
    while (*p < h->n && h->w[*p].block < block) {
      (*p)++;
    }
    if (*p < h->n && h->w[*p].block == block) {
      free_bits |= h->w[*p].bits;
    }
  }
  m = free_bits & sc_rset_mask(&og->want, block, &sc->want_pos);
  while (sc->have_pos < og->have.n && og->have.w[sc->have_pos].block < block) {
    sc->have_pos++;
  }
  if (sc->have_pos < og->have.n && og->have.w[sc->have_pos].block == block) {
    m &= ~og->have.w[sc->have_pos].bits;
  }
  while (sc->fl_pos < og->inflight.n &&
         og->inflight.w[sc->fl_pos].block < block) {
    sc->fl_pos++;
  }
  if (sc->fl_pos < og->inflight.n &&
      og->inflight.w[sc->fl_pos].block == block) {
    m &= ~og->inflight.w[sc->fl_pos].bits;
  }
  return m;
}

static void scan_start(scan *sc, const sc_node *node, const sc_ogroup *og,
                       uint64_t now, size_t *slots) {
  size_t i;
  memset(sc, 0, sizeof(*sc));
  sc->og = og;
  *slots = 0;
  for (i = 0; i < og->nl; i++) {
    const olink *l = &og->l[i];
    if (!l->cut && l->nout < SC_REPL_FETCH_OUT && l->have.n > 0 &&
        now >= l->busy_until && link_usable(node, l->sid)) {
      sc->free_link[sc->nfree++] = l;
      *slots += SC_REPL_FETCH_OUT - l->nout;
    }
  }
}

/* Candidates being collected. */
typedef struct picks {
  cand *c;
  size_t n, cap;
  int rarest;
  unsigned t;      /* rarest-first: the highest count kept */
  size_t below;    /* candidates kept or to keep at count t or lower */
  size_t hist[64]; /* candidates by count */
} picks;

/* Visits the count words [from, to) in ascending order: pass 0 counts
 * the candidates by how many links hold them; pass 1 keeps those below
 * count t and the first of count t, up to |p->cap| in all. */
static void sweep(const sc_node *node, const sc_ogroup *og, picks *p, int pass,
                  size_t from, size_t to, uint64_t now) {
  scan sc;
  size_t slots, i;
  scan_start(&sc, node, og, now, &slots);
  for (i = from; i < to && p->n < p->cap; i++) {
    const sc_cword *w = &og->avail.w[i];
    uint64_t m = scan_block(&sc, w->block);
    while (m != 0 && p->n < p->cap) {
      unsigned j = (unsigned)__builtin_ctzll(m);
      unsigned cnt = p->rarest ? sc_cword_count(w, j) : 0;
      m &= m - 1;
      if (pass == 0) {
        p->hist[cnt]++;
      } else if (cnt < p->t || (cnt == p->t && p->below < p->cap)) {
        p->c[p->n].index = w->block * SC_BLOCK_BITS + j;
        p->c[p->n++].count = cnt;
        p->below += cnt == p->t;
      }
    }
  }
}

/* Sorts |p|'s candidates by count, keeping their order within a count,
 * through the room after |p->cap|. */
static void sort_by_count(picks *p) {
  cand *tmp = p->c + p->cap;
  size_t at[64], sum = 0, i;
  unsigned k;
  memset(at, 0, sizeof(at));
  for (i = 0; i < p->n; i++) {
    at[p->c[i].count]++;
  }
  for (k = 0; k < 64; k++) {
    size_t h = at[k];
    at[k] = sum;
    sum += h;
  }
  for (i = 0; i < p->n; i++) {
    tmp[at[p->c[i].count]++] = p->c[i];
  }
  memcpy(p->c, tmp, p->n * sizeof(*p->c));
}

/* Collects up to |cap| candidates into |c| (room for 2 |cap|) in fetch
 * order; returns how many. Lowest-first: by index. Rarest-first: by how
 * many links hold them; ties by index from a random point, wrapping, so
 * that members who see the same counts (the seed's neighbours, at first,
 * all see count 1) fetch different objects. */
static size_t collect(sc_node *node, const sc_ogroup *og, cand *c, size_t cap,
                      uint64_t now) {
  picks p;
  size_t start = 0, sum = 0;
  int pass;
  memset(&p, 0, sizeof(p));
  p.c = c;
  p.cap = cap;
  p.rarest = og->strategy == SC_REPL_RAREST_FIRST;
  p.t = 63;
  if (p.rarest && og->avail.n > 1) {
    uint8_t r[4];
    sc_node_rand(node, r, sizeof(r));
    start = sc_get_u32(r) % og->avail.n;
  }
  for (pass = p.rarest ? 0 : 1; pass < 2; pass++) {
    sweep(node, og, &p, pass, start, og->avail.n, now);
    sweep(node, og, &p, pass, 0, start, now);
    if (pass == 0) {
      /* t: the count at which the rarest |cap| end. */
      for (p.t = 0; p.t < 63 && sum + p.hist[p.t] < cap; p.t++) {
        sum += p.hist[p.t];
      }
      p.below = sum;
    }
  }
  if (p.rarest && p.n > 1) {
    sort_by_count(&p);
  }
  return p.n;
}

/* The free holder of |index| to ask: fewest timeouts, then fewest
 * outstanding, ties spread from a rotating start. */
static olink *holder_of(const sc_node *node, sc_ogroup *og, uint64_t index,
                        uint64_t now) {
  olink *best = NULL;
  size_t k;
  for (k = 0; k < og->nl; k++) {
    olink *l = &og->l[(og->rr + k) % og->nl];
    if (l->cut || l->nout >= SC_REPL_FETCH_OUT || now < l->busy_until ||
        !sc_bset_has(&l->have, index)) {
      continue;
    }
    if (best == NULL || l->timeouts < best->timeouts ||
        (l->timeouts == best->timeouts && l->nout < best->nout)) {
      best = l;
    }
  }
  (void)node;
  return best;
}

static void send_fetches(sc_node *node, sc_mgroup *g, olink *l, size_t from,
                         uint64_t now) {
  sc_repl_fetch_msg m;
  uint8_t body[SC_MSG_MAX];
  sc_wr w;
  size_t i, j;
  memcpy(m.group_id, g->spec.id, SC_GROUP_ID_LEN);
  m.n = 0;
  for (i = from; i < l->nout; i++) {
    /* Ascending, as FETCH requires. */
    for (j = m.n; j > 0 && m.index[j - 1] > l->out[i].index; j--) {
      m.index[j] = m.index[j - 1];
    }
    m.index[j] = l->out[i].index;
    m.n++;
  }
  sc_wr_init(&w, body, sizeof(body));
  if (m.n == 0 || sc_repl_fetch_write(&w, &m) != 0) {
    return;
  }
  if (send_body(node, g, l->sid, SC_MSG_FETCH, &w, now) != 0) {
    /* Not sent: these time out and go elsewhere. */
    return;
  }
  g->st.fetches_sent += m.n;
}

/* One round of fetching: fills the free slots of every link. */
static void fill(sc_node *node, sc_mgroup *g, uint64_t now) {
  sc_ogroup *og = g->repl;
  size_t slots, n, i, cap, first[SC_REPL_LINKS_MAX];
  scan sc;
  cand *c;
  og->fill_at = NONE;
  og->last_fill = now;
  if (og->want.n == 0 || og->avail.n == 0) {
    return;
  }
  scan_start(&sc, node, og, now, &slots);
  if (slots == 0) {
    return;
  }
  cap = 2 * slots + 16;
  if ((c = sc_mem_malloc(node->mem, 2 * cap * sizeof(*c))) == NULL) {
    fill_soon(og, now + FILL_GAP);
    return;
  }
  n = collect(node, og, c, cap, now);
  for (i = 0; i < og->nl; i++) {
    first[i] = og->l[i].nout;
  }
  for (i = 0; i < n && slots > 0; i++) {
    olink *l = holder_of(node, og, c[i].index, now);
    if (l == NULL || sc_bset_add(node->mem, &og->inflight, c[i].index) < 0) {
      continue;
    }
    l->out[l->nout].index = c[i].index;
    l->out[l->nout++].sent_at = now;
    slots--;
  }
  sc_mem_free(node->mem, c);
  for (i = 0; i < og->nl; i++) {
    send_fetches(node, g, &og->l[i], first[i], now);
    /* A link that said busy is asked again when its wait ends. */
    if (og->l[i].busy_until > now) {
      fill_soon(og, og->l[i].busy_until);
    }
  }
  og->rr++;
}

/* Removes |index| from link |l|'s outstanding fetches; 0 if not there. */
static int out_take(olink *l, uint64_t index) {
  size_t i;
  for (i = 0; i < l->nout; i++) {
    if (l->out[i].index == index) {
      memmove(&l->out[i], &l->out[i + 1], (l->nout - i - 1) * sizeof(*l->out));
      l->nout--;
      return 1;
    }
  }
  return 0;
}

static void expire_fetches(sc_mgroup *g, uint64_t now) {
  sc_ogroup *og = g->repl;
  size_t i;
  for (i = 0; i < og->nl; i++) {
    olink *l = &og->l[i];
    while (l->nout > 0 && l->out[0].sent_at + FETCH_TIMEOUT <= now) {
      (void)sc_bset_del(&og->inflight, l->out[0].index);
      (void)out_take(l, l->out[0].index);
      l->timeouts++;
      g->st.fetches_failed++;
      fill_soon(og, now);
    }
  }
}

/* ---- receiving ---- */

/* The group a replication message names, with replication on, if |s| is
 * a member link of it; its link in |*lp|. Counts what it refuses. */
static sc_mgroup *repl_group(sc_node *node, sc_session *s, const uint8_t *body,
                             size_t len, olink **lp, uint64_t now) {
  sc_mgroup *g;
  olink *l;
  if (len < SC_GROUP_ID_LEN || (g = sc_mesh_group(node, body)) == NULL ||
      sc_mesh_member_link(g, s->local_sid) == NULL) {
    return NULL;
  }
  if (!(g->spec.features & SC_GROUP_REPLICATION)) {
    g->st.repl_refused++;
    return NULL;
  }
  g->st.repl_bytes_received += 1 + len;
  if (ogroup(node, g) == NULL) {
    return NULL;
  }
  if ((l = link_of(g->repl, s->local_sid)) == NULL) {
    sync_links(node, g, now);
    l = link_of(g->repl, s->local_sid);
  }
  if (l == NULL || l->cut) {
    g->st.repl_dropped++;
    return NULL;
  }
  *lp = l;
  return g;
}

/* The bits of |block| in [lo, hi). */
static uint64_t block_mask(uint64_t block, uint64_t lo, uint64_t hi) {
  uint64_t base = block * SC_BLOCK_BITS;
  uint64_t a = base < lo ? lo - base : 0;
  uint64_t e = hi - base < SC_BLOCK_BITS ? hi - base : SC_BLOCK_BITS;
  return (e - a == 64 ? ~(uint64_t)0 : ((uint64_t)1 << (e - a)) - 1) << a;
}

/* Removes [lo, hi) from link |l|'s set, visiting only its words there
 * (a run may be huge). */
static void remove_run(sc_ogroup *og, olink *l, uint64_t lo, uint64_t hi) {
  size_t i = sc_bset_pos(&l->have, lo / SC_BLOCK_BITS);
  while (i < l->have.n && l->have.w[i].block <= (hi - 1) / SC_BLOCK_BITS) {
    uint64_t b = l->have.w[i].block;
    size_t n = l->have.n;
    sc_cset_dec(&og->avail, b,
                sc_bset_andnot(&l->have, b, block_mask(b, lo, hi)));
    i += l->have.n == n; /* a word emptied is gone: stay */
  }
}

/* Applies a HAVE's runs to link |l|'s set; 0, or -1 when the link now
 * announces more than any member may hold. */
static int apply_have(sc_node *node, sc_ogroup *og, olink *l,
                      const sc_repl_runs_msg *m) {
  size_t i;
  if (m->op == SC_REPL_SET) {
    link_forget_have(og, l);
  }
  for (i = 0; i < m->n; i++) {
    uint64_t lo = m->run[i].first, hi = lo + m->run[i].len, b, changed;
    if (m->op == SC_REPL_REMOVE) {
      remove_run(og, l, lo, hi);
      continue;
    }
    if (m->run[i].len > SC_REPL_LINK_HAVE_MAX - l->have.count) {
      return -1;
    }
    for (b = lo / SC_BLOCK_BITS; b <= (hi - 1) / SC_BLOCK_BITS; b++) {
      if (sc_bset_or(node->mem, &l->have, b, block_mask(b, lo, hi), &changed) !=
              0 ||
          sc_cset_inc(node->mem, &og->avail, b, changed) != 0) {
        return -1; /* out of memory: as good as cut */
      }
    }
  }
  return 0;
}

static void on_runs(sc_node *node, sc_session *s, uint64_t kind,
                    const uint8_t *body, size_t len, uint64_t now) {
  sc_repl_runs_msg m;
  sc_mgroup *g;
  sc_ogroup *og;
  olink *l;
  size_t i;
  int rv = 0, had_want;
  if ((g = repl_group(node, s, body, len, &l, now)) == NULL) {
    return;
  }
  og = g->repl;
  if (sc_repl_runs_read(&m, body, len) != 0) {
    g->st.repl_dropped++;
    return;
  }
  if (kind == SC_MSG_HAVE) {
    rv = apply_have(node, og, l, &m);
    fill_soon(og, now);
  } else {
    had_want = l->want.n > 0;
    if (m.op == SC_REPL_SET) {
      l->want.n = 0;
    }
    for (i = 0; i < m.n && rv == 0; i++) {
      uint64_t lo = m.run[i].first, hi = lo + m.run[i].len;
      rv = m.op == SC_REPL_REMOVE ? sc_rset_remove(node->mem, &l->want, lo, hi)
                                  : sc_rset_add(node->mem, &l->want, lo, hi);
    }
    if (rv == 0 && l->want.n > SC_REPL_WANT_RUNS_MAX) {
      rv = -1;
    }
    if (!had_want && l->want.n > 0) {
      l->next_tell = SC_MIN(l->next_tell, now); /* it may fetch: tell it */
    }
  }
  if (rv != 0) {
    link_cut(node, g, l, now);
  }
}

static void send_refusal(sc_node *node, sc_mgroup *g, olink *l, uint64_t index,
                         unsigned reason, uint64_t now) {
  sc_repl_object_msg o;
  uint8_t body[64];
  sc_wr w;
  memset(&o, 0, sizeof(o));
  memcpy(o.group_id, g->spec.id, SC_GROUP_ID_LEN);
  o.index = index;
  o.reason = reason;
  sc_wr_init(&w, body, sizeof(body));
  if (sc_repl_object_write(&w, &o, 0) == 0) {
    (void)send_body(node, g, l->sid, SC_MSG_NOTHAVE, &w, now);
  }
}

static void on_fetch(sc_node *node, sc_session *s, const uint8_t *body,
                     size_t len, uint64_t now) {
  sc_repl_fetch_msg m;
  sc_mgroup *g;
  olink *l;
  size_t i;
  if ((g = repl_group(node, s, body, len, &l, now)) == NULL) {
    return;
  }
  if (sc_repl_fetch_read(&m, body, len) != 0) {
    g->st.repl_dropped++;
    return;
  }
  for (i = 0; i < m.n; i++) {
    obj **p = store_find(g->repl, m.index[i]);
    sc_repl_object_msg o;
    uint8_t out[SC_MSG_MAX];
    sc_wr w;
    if (p == NULL) {
      send_refusal(node, g, l, m.index[i], SC_REPL_NOT_HELD, now);
      continue;
    }
    if (!sc_bucket_take(&l->serve, SERVE_RATE, SERVE_BURST, now)) {
      send_refusal(node, g, l, m.index[i], SC_REPL_BUSY, now);
      continue;
    }
    memset(&o, 0, sizeof(o));
    memcpy(o.group_id, g->spec.id, SC_GROUP_ID_LEN);
    o.index = m.index[i];
    o.data = (*p)->data;
    o.len = (*p)->len;
    sc_wr_init(&w, out, sizeof(out));
    if (sc_repl_object_write(&w, &o, 1) == 0 &&
        send_body(node, g, l->sid, SC_MSG_OBJECT, &w, now) == 0) {
      g->st.objects_served++;
    }
  }
}

static void deliver(sc_node *node, sc_mgroup *g, const olink *l,
                    const sc_repl_object_msg *m) {
  sc_object_event ev;
  g->st.objects_fetched++;
  if (node->cb.object == NULL) {
    return;
  }
  memcpy(ev.group_id, g->spec.id, SC_GROUP_ID_BYTES);
  memcpy(ev.from, l->peer_id, SC_PEER_ID_LEN);
  ev.index = m->index;
  ev.data = m->data;
  ev.len = m->len;
  node->cb.object(node->user, &ev);
}

static void on_object(sc_node *node, sc_session *s, uint64_t kind,
                      const uint8_t *body, size_t len, uint64_t now) {
  sc_repl_object_msg m;
  sc_mgroup *g;
  sc_ogroup *og;
  olink *l;
  int asked;
  if ((g = repl_group(node, s, body, len, &l, now)) == NULL) {
    return;
  }
  og = g->repl;
  if (sc_repl_object_read(&m, body, len, kind == SC_MSG_OBJECT) != 0) {
    g->st.repl_dropped++;
    return;
  }
  asked = out_take(l, m.index);
  if (asked) {
    (void)sc_bset_del(&og->inflight, m.index);
    l->timeouts = 0;
    fill_soon(og, now);
  }
  if (kind == SC_MSG_NOTHAVE) {
    if (!asked) {
      g->st.repl_dropped++;
      return;
    }
    g->st.fetches_failed++;
    if (m.reason == SC_REPL_BUSY) {
      l->busy_until = now + BUSY_WAIT;
      fill_soon(og, now + BUSY_WAIT);
    } else {
      sc_cset_dec(&og->avail, m.index / SC_BLOCK_BITS,
                  sc_bset_andnot(&l->have, m.index / SC_BLOCK_BITS,
                                 (uint64_t)1 << (m.index % SC_BLOCK_BITS)));
    }
    return;
  }
  /* Late answers to a fetch that timed out are as good as any. */
  if (!sc_rset_has(&og->want, m.index) || sc_bset_has(&og->have, m.index)) {
    if (!asked) {
      g->st.repl_dropped++;
    }
    return;
  }
  if (store_put(node, og, m.index, m.data, m.len) != 0) {
    g->st.fetches_failed++;
    return;
  }
  (void)sc_bset_del(&og->inflight, m.index);
  deliver(node, g, l, &m);
}

static void update_due(sc_ogroup *og) {
  uint64_t d = SC_MIN(og->next_sync, og->fill_at);
  size_t i;
  for (i = 0; i < og->nl; i++) {
    const olink *l = &og->l[i];
    if (need_have(og, l) || need_want(og, l)) {
      d = SC_MIN(d, l->next_tell);
    }
    if (l->nout > 0) {
      d = SC_MIN(d, l->out[0].sent_at + FETCH_TIMEOUT);
    }
  }
  og->due = d;
}

int sc_repl_on_message(sc_node *node, sc_session *s, uint64_t kind,
                       const uint8_t *body, size_t len, uint64_t now) {
  sc_mgroup *g;
  switch (kind) {
  case SC_MSG_HAVE:
  case SC_MSG_WANT:
    on_runs(node, s, kind, body, len, now);
    break;
  case SC_MSG_FETCH:
    on_fetch(node, s, body, len, now);
    break;
  case SC_MSG_OBJECT:
  case SC_MSG_NOTHAVE:
    on_object(node, s, kind, body, len, now);
    break;
  default:
    return 0;
  }
  if (len >= SC_GROUP_ID_LEN && (g = sc_mesh_group(node, body)) != NULL &&
      g->repl != NULL) {
    update_due(g->repl);
  }
  return 1;
}

/* ---- timers ---- */

void sc_repl_on_timer(sc_node *node, uint64_t now) {
  size_t gi;
  for (gi = 0; gi < node->mesh.ngroups; gi++) {
    sc_mgroup *g = node->mesh.groups[gi];
    sc_ogroup *og = g->repl;
    if (og == NULL || og->due > now) {
      continue;
    }
    if (now >= og->next_sync) {
      sync_links(node, g, now);
    }
    expire_fetches(g, now);
    if (now >= og->fill_at) {
      fill(node, g, now);
    }
    announce(node, g, now);
    update_due(og);
  }
}

uint64_t sc_repl_deadline(const sc_node *node) {
  uint64_t d = NONE;
  size_t gi;
  for (gi = 0; gi < node->mesh.ngroups; gi++) {
    const sc_ogroup *og = node->mesh.groups[gi]->repl;
    if (og != NULL) {
      d = SC_MIN(d, og->due);
    }
  }
  return d;
}

/* ---- the API ---- */

/* The joined group |group| with replication on and its state. */
static int api_group(sc_node *node, const char *group, sc_mgroup **g,
                     sc_ogroup **og) {
  int rv = sc_mesh_group_of(node, group, SC_GROUP_REPLICATION, g);
  if (rv != 0) {
    return rv;
  }
  if ((*og = ogroup(node, *g)) == NULL) {
    return SC_ERR_NOMEM;
  }
  return 0;
}

/* After a local change: act at once (the timer runs next). */
static void api_changed(sc_node *node, sc_ogroup *og, uint64_t now) {
  og->next_sync = SC_MIN(og->next_sync, now);
  fill_soon(og, now);
  update_due(og);
  sc_node_refresh_expiry(node);
}

int sc_node_object_write(sc_node *node, const char *group, uint64_t index,
                         const uint8_t *data, size_t len, uint64_t now) {
  sc_mgroup *g;
  sc_ogroup *og;
  int rv;
  if (index > SC_REPL_INDEX_MAX || len > SC_OBJECT_MAX_LEN ||
      (len > 0 && data == NULL)) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = api_group(node, group, &g, &og)) != 0 ||
      (rv = store_put(node, og, index, data, len)) != 0) {
    return rv;
  }
  api_changed(node, og, now);
  return 0;
}

int sc_node_object_remove(sc_node *node, const char *group, uint64_t index,
                          uint64_t now) {
  sc_mgroup *g;
  sc_ogroup *og;
  obj **p;
  int rv;
  if ((rv = api_group(node, group, &g, &og)) != 0) {
    return rv;
  }
  if ((p = store_find(og, index)) == NULL) {
    return SC_ERR_NOT_FOUND;
  }
  store_take(node, og, p);
  (void)sc_bset_del(&og->have, index);
  og->have_ver++;
  api_changed(node, og, now);
  return 0;
}

int sc_node_object_read(sc_node *node, const char *group, uint64_t index,
                        uint8_t *buf, size_t cap, size_t *len) {
  sc_mgroup *g;
  sc_ogroup *og;
  obj **p;
  int rv;
  if (len == NULL || (cap > 0 && buf == NULL)) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = api_group(node, group, &g, &og)) != 0) {
    return rv;
  }
  if ((p = store_find(og, index)) == NULL) {
    return SC_ERR_NOT_FOUND;
  }
  *len = (*p)->len;
  if ((*p)->len > cap) {
    return SC_ERR_BUFFER;
  }
  if ((*p)->len > 0) {
    memcpy(buf, (*p)->data, (*p)->len);
  }
  return 0;
}

int sc_node_object_want(sc_node *node, const char *group, uint64_t first,
                        uint64_t count, int want, uint64_t now) {
  sc_mgroup *g;
  sc_ogroup *og;
  sc_rset copy = {0};
  int rv;
  if (count == 0 || first > SC_REPL_INDEX_MAX ||
      count - 1 > SC_REPL_INDEX_MAX - first) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = api_group(node, group, &g, &og)) != 0) {
    return rv;
  }
  /* Change a copy: a set over its limit is refused whole. */
  if (og->want.n > 0) {
    copy.r = sc_mem_malloc(node->mem, og->want.n * sizeof(*copy.r));
    if (copy.r == NULL) {
      return SC_ERR_NOMEM;
    }
    memcpy(copy.r, og->want.r, og->want.n * sizeof(*copy.r));
    copy.n = copy.cap = og->want.n;
  }
  rv = want ? sc_rset_add(node->mem, &copy, first, first + count)
            : sc_rset_remove(node->mem, &copy, first, first + count);
  if (rv == 0 && copy.n > SC_REPL_WANT_RUNS_MAX) {
    rv = SC_ERR_LIMIT;
  }
  if (rv != 0) {
    sc_rset_free(node->mem, &copy);
    return rv;
  }
  sc_rset_free(node->mem, &og->want);
  og->want = copy;
  og->want_ver++;
  api_changed(node, og, now);
  return 0;
}

int sc_node_set_replication(sc_node *node, const char *group, int strategy) {
  sc_mgroup *g;
  sc_ogroup *og;
  int rv;
  if (strategy != SC_REPL_LOWEST_FIRST && strategy != SC_REPL_RAREST_FIRST) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = api_group(node, group, &g, &og)) != 0) {
    return rv;
  }
  og->strategy = strategy;
  return 0;
}
