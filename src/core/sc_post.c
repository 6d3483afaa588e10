/*
 * sc_post.c: posting (sc_post.h).
 *
 * The origin hands its post to each member link with an interval of the
 * ring: links sorted clockwise from the origin, link k gets the members
 * between it and link k + 1, the last one those up to the origin. Each
 * receiver delivers the post and does the same within its interval. In a
 * converged mesh every member holds its ring successor as a link, so every
 * member is reached once, by N - 1 messages.
 *
 * A member that delivered a post tells its nearest member link on each
 * side (IHAVE) a little later; one that lacks the post asks for it
 * (IWANT), gets it with an empty interval and tells its own ring
 * neighbours in turn, so a run of members that a failed link cut off is
 * filled from both ends.
 *
 * Exactly once: per origin a window of the numbers seen (the highest and
 * 64 below it), reset by a new incarnation of the origin. Per origin a
 * token bucket bounds how fast it may post.
 */
#include "sc_post.h"

#include <string.h>

#include "sc_bucket.h"
#include "sc_macro.h"
#include "sc_mem.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_postmsg.h"
#include "sc_session.h"

#define ORIGINS_MAX 4096          /* origins remembered per group */
#define KEEP_MAX 256              /* posts kept for IWANT per group */
#define KEEP_FOR (60 * SC_SEC)    /* ... at most this long */
#define IHAVE_DELAY (500 * SC_MS) /* after delivery, tell ring neighbours */
#define IHAVE_BATCH (250 * SC_MS) /* ... or up to this much sooner */
#define RING_TELL 2               /* ring neighbours told on each side */
#define IHAVE_MAX 256             /* IHAVEs waiting per group */
#define RATE 10                   /* posts an origin may make a second */
#define BURST 50                  /* ... and at once */
#define LINK_RATE 200             /* posts a member link may bring a second */
#define LINK_BURST 400            /* ... and at once */
#define LINKS_MAX 128             /* member links handed a post */

typedef struct origin {
  uint8_t id[SC_PEER_ID_LEN];
  uint64_t inc;  /* the incarnation the window is for */
  uint64_t top;  /* the highest number seen + 1, 0: none */
  uint64_t bits; /* bit i: number top - 1 - i was seen */
  sc_bucket rate;
  uint64_t used_at;
} origin;

typedef struct kept {
  sc_post_id id;
  uint64_t at; /* 0: empty */
  size_t len;
  uint8_t *data; /* |len| bytes, NULL when empty */
} kept;

typedef struct ihave {
  sc_post_id id;
  uint32_t from; /* the session the post came from: not told */
  uint64_t due;
} ihave;

struct sc_pgroup {
  uint64_t next; /* this node's next post number */
  origin *o;     /* sorted by id */
  size_t no, ocap;
  kept keep[KEEP_MAX];
  size_t keep_next;
  ihave q[IHAVE_MAX];
  size_t nq;
  sc_budgets link; /* what each member link may bring: posts handed on,
                     posts asked back, posts its IHAVEs would draw */
};

void sc_post_group_free(sc_node *node, sc_pgroup *pg) {
  size_t i;
  if (pg != NULL) {
    for (i = 0; i < KEEP_MAX; i++) {
      sc_mem_free(node->mem, pg->keep[i].data);
    }
    sc_budgets_free(node, &pg->link);
    sc_mem_free(node->mem, pg->o);
    sc_mem_free(node->mem, pg);
  }
}

static sc_pgroup *pgroup(sc_node *node, sc_mgroup *g) {
  if (g->post == NULL) {
    g->post = sc_mem_calloc(node->mem, 1, sizeof(*g->post));
  }
  return g->post;
}

/* ---- origins: the window and the bucket
 * ---------------------------------------------------
 */

/* The origin |id| if known, else NULL with |*at| where it would go. */
static origin *origin_find(const sc_pgroup *pg, const uint8_t *id, size_t *at) {
  size_t lo = 0, hi = pg->no;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = memcmp(pg->o[mid].id, id, SC_PEER_ID_LEN);
    if (c == 0) {
      return &pg->o[mid];
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *at = lo;
  return NULL;
}

/* The origin |id|, added if new (evicting the least recently used when
 * full); NULL without memory. */
static origin *origin_of(sc_node *node, sc_pgroup *pg, const uint8_t *id,
                         uint64_t now) {
  size_t lo = 0, i;
  origin *o = origin_find(pg, id, &lo);
  if (o != NULL) {
    o->used_at = now;
    return o;
  }
  if (pg->no == ORIGINS_MAX) {
    size_t old = 0;
    for (i = 1; i < pg->no; i++) {
      if (pg->o[i].used_at < pg->o[old].used_at) {
        old = i;
      }
    }
    memmove(&pg->o[old], &pg->o[old + 1], (pg->no - old - 1) * sizeof(*pg->o));
    pg->no--;
    if (old < lo) {
      lo--;
    }
  }
  if (pg->no == pg->ocap) {
    size_t cap = pg->ocap == 0 ? 16 : 2 * pg->ocap;
    origin *grown = sc_mem_realloc(node->mem, pg->o, cap * sizeof(*grown));
    if (grown == NULL) {
      return NULL;
    }
    pg->o = grown;
    pg->ocap = cap;
  }
  memmove(&pg->o[lo + 1], &pg->o[lo], (pg->no - lo) * sizeof(*pg->o));
  pg->no++;
  memset(&pg->o[lo], 0, sizeof(*pg->o));
  memcpy(pg->o[lo].id, id, SC_PEER_ID_LEN);
  sc_bucket_init(&pg->o[lo].rate, BURST, now);
  pg->o[lo].used_at = now;
  return &pg->o[lo];
}

/* Whether post |n| of incarnation |inc| is new from |o|. */
static int is_new(const origin *o, uint64_t inc, uint64_t n) {
  uint64_t i;
  if (o->top == 0 || inc != o->inc || n >= o->top) {
    return 1;
  }
  i = o->top - 1 - n;
  return i < 64 && !((o->bits >> i) & 1);
}

static void mark_seen(origin *o, uint64_t inc, uint64_t n) {
  if (o->top == 0 || inc != o->inc) {
    o->inc = inc;
    o->top = n + 1;
    o->bits = 1;
  } else if (n >= o->top) {
    uint64_t shift = n + 1 - o->top;
    o->bits = shift >= 64 ? 1 : (o->bits << shift) | 1;
    o->top = n + 1;
  } else {
    o->bits |= (uint64_t)1 << (o->top - 1 - n);
  }
}

/* Takes one post from the budget of the member link |sid| of |g|; 0 when
 * it is spent. */
static int link_take(sc_node *node, sc_mgroup *g, sc_pgroup *pg, uint32_t sid,
                     uint64_t now) {
  return sc_budgets_take(node, g, &pg->link, sid, LINK_RATE, LINK_BURST, now);
}

/* ---- kept posts
 * ---------------------------------------------------------------
 */

static int same_id(const sc_post_id *a, const sc_post_id *b) {
  return a->number == b->number && a->incarnation == b->incarnation &&
         memcmp(a->origin, b->origin, SC_PEER_ID_LEN) == 0;
}

/* Keeps a copy of a post for IWANT, in place of the oldest; without
 * memory, the post is simply not kept. */
static void keep(sc_node *node, sc_pgroup *pg, const sc_post_id *id,
                 const uint8_t *data, size_t len, uint64_t now) {
  kept *k = &pg->keep[pg->keep_next];
  pg->keep_next = (pg->keep_next + 1) % KEEP_MAX;
  sc_mem_free(node->mem, k->data);
  k->at = 0;
  k->data = sc_mem_malloc(node->mem, len > 0 ? len : 1);
  if (k->data == NULL) {
    return;
  }
  k->id = *id;
  k->at = now;
  k->len = len;
  if (len > 0) {
    memcpy(k->data, data, len);
  }
}

static const kept *kept_post(const sc_pgroup *pg, const sc_post_id *id,
                             uint64_t now) {
  size_t i;
  for (i = 0; i < KEEP_MAX; i++) {
    const kept *k = &pg->keep[i];
    if (k->at != 0 && now - k->at < KEEP_FOR && same_id(&k->id, id)) {
      return k;
    }
  }
  return NULL;
}

/* ---- sending
 * ------------------------------------------------------------------
 */

/* Whether the member link on session |sid| can take a message now and its
 * peer seems alive. */
static int link_is_live(sc_node *node, uint32_t sid, uint64_t now) {
  const sc_session *s = sid != 0 ? sc_node_session(node, sid) : NULL;
  return s != NULL && sc_session_is_responsive(s, now);
}

/* Sends the body |w| (written when |rv| is 0) as a message of |kind| on
 * session |sid| and counts its bytes: POST as data, IHAVE and IWANT as
 * control. Returns 1 when it was queued. */
static int send_body(sc_node *node, sc_mgroup *g, uint32_t sid, uint64_t kind,
                     int rv, const sc_wr *w, uint64_t now) {
  sc_session *s = sc_node_session(node, sid);
  if (rv != 0 || s == NULL || !sc_session_is_usable(s) ||
      sc_session_send_msg(s, kind, w->buf, w->len, now) != 0) {
    return 0;
  }
  if (kind == SC_MSG_POST) {
    g->st.post_data_bytes_sent += w->len;
  } else {
    g->st.post_control_bytes_sent += w->len;
  }
  return 1;
}

static void send_post(sc_node *node, sc_mgroup *g, uint32_t sid,
                      const sc_post_id *id, const sc_ring_addr *lo,
                      const sc_ring_addr *hi, const uint8_t *data, size_t len,
                      uint64_t now) {
  uint8_t body[SC_MSG_MAX];
  sc_post_msg m;
  sc_wr w;
  m.id = *id;
  m.lo = *lo;
  m.hi = *hi;
  m.payload = data;
  m.len = len;
  sc_wr_init(&w, body, sizeof(body));
  if (send_body(node, g, sid, SC_MSG_POST, sc_post_write(&w, &m), &w, now)) {
    g->st.posts_forwarded++;
  }
}

static void send_iwant(sc_node *node, sc_mgroup *g, uint32_t sid,
                       const sc_post_id *id, uint64_t now) {
  uint8_t body[128];
  sc_wr w;
  sc_wr_init(&w, body, sizeof(body));
  (void)send_body(node, g, sid, SC_MSG_IWANT, sc_post_id_write(&w, id), &w,
                  now);
}

/* Hands the post on to the member links of |g| in (lo, hi) clockwise, the
 * whole ring but this node when |whole|, each with its share of the
 * interval; not to the session |from|. */
static void hand_on(sc_node *node, sc_mgroup *g, const sc_post_id *id,
                    const sc_ring_addr *lo, const sc_ring_addr *hi, int whole,
                    uint32_t from, const uint8_t *data, size_t len,
                    uint64_t now) {
  size_t pick[LINKS_MAX], n = 0, i, j;
  sc_ring_addr span, d[LINKS_MAX];
  sc_ring_sub(&span, hi, lo);
  for (i = 0; i < g->n && n < LINKS_MAX; i++) {
    const sc_member *m = &g->m[i];
    sc_ring_addr dm;
    static const sc_ring_addr zero;
    /* A link that cannot take it now, or seems to have crashed, gets no
     * share: the link before it on the ring takes that share too. */
    if (m->sid == from || !link_is_live(node, m->sid, now)) {
      continue;
    }
    sc_ring_sub(&dm, &m->gaddr, lo);
    if (sc_ring_cmp(&dm, &zero) == 0 ||
        (!whole && sc_ring_cmp(&dm, &span) >= 0)) {
      continue;
    }
    /* Insert in clockwise order from |lo|. */
    for (j = n; j > 0 && sc_ring_cmp(&d[j - 1], &dm) > 0; j--) {
      d[j] = d[j - 1];
      pick[j] = pick[j - 1];
    }
    d[j] = dm;
    pick[j] = i;
    n++;
  }
  for (i = 0; i < n; i++) {
    const sc_ring_addr *end = i + 1 < n ? &g->m[pick[i + 1]].gaddr : hi;
    send_post(node, g, g->m[pick[i]].sid, id, &g->m[pick[i]].gaddr, end, data,
              len, now);
  }
}

/* The RING_TELL live member links nearest this node clockwise, then as
 * many counter-clockwise, into |out| (0: none); each link once. */
static void ring_links(sc_node *node, const sc_mgroup *g, uint64_t now,
                       uint32_t out[2 * RING_TELL]) {
  sc_ring_addr best[2 * RING_TELL];
  size_t i, j, k;
  memset(out, 0, 2 * RING_TELL * sizeof(*out));
  for (i = 0; i < g->n; i++) {
    const sc_member *m = &g->m[i];
    if (!link_is_live(node, m->sid, now)) {
      continue;
    }
    for (k = 0; k < 2; k++) {
      uint32_t *o = out + k * RING_TELL;
      sc_ring_addr *b = best + k * RING_TELL, d;
      if (k == 0) {
        sc_ring_sub(&d, &m->gaddr, &g->self);
      } else {
        sc_ring_sub(&d, &g->self, &m->gaddr);
      }
      /* Insert into the side's nearest, kept sorted. */
      for (j = RING_TELL;
           j > 0 && (o[j - 1] == 0 || sc_ring_cmp(&d, &b[j - 1]) < 0); j--) {
        if (j < RING_TELL) {
          o[j] = o[j - 1];
          b[j] = b[j - 1];
        }
      }
      if (j < RING_TELL) {
        o[j] = m->sid;
        b[j] = d;
      }
    }
  }
  /* In a small ring one link can be near on both sides. */
  for (i = RING_TELL; i < 2 * RING_TELL; i++) {
    for (j = 0; j < RING_TELL; j++) {
      if (out[i] == out[j]) {
        out[i] = 0;
      }
    }
  }
}

/* Sends |to| one IHAVE per SC_IHAVE_MAX of the queued posts due by
 * |until|, but for those it brought. */
static void tell(sc_node *node, sc_mgroup *g, uint32_t to, uint64_t until,
                 uint64_t now) {
  const sc_pgroup *pg = g->post;
  uint8_t body[SC_MSG_MAX];
  sc_ihave_msg m;
  size_t i;
  sc_wr w;
  m.n = 0;
  for (i = 0; i < pg->nq && pg->q[i].due <= until; i++) {
    if (pg->q[i].from != to) {
      m.ids[m.n++] = pg->q[i].id;
    }
    if (m.n > 0 &&
        (m.n == SC_IHAVE_MAX || i + 1 == pg->nq || pg->q[i + 1].due > until)) {
      sc_wr_init(&w, body, sizeof(body));
      (void)send_body(node, g, to, SC_MSG_IHAVE, sc_ihave_write(&w, &m), &w,
                      now);
      m.n = 0;
    }
  }
}

static void queue_ihave(sc_pgroup *pg, const sc_post_id *id, uint32_t from,
                        uint64_t now) {
  if (pg->nq < IHAVE_MAX) {
    pg->q[pg->nq].id = *id;
    pg->q[pg->nq].from = from;
    pg->q[pg->nq].due = now + IHAVE_DELAY;
    pg->nq++;
  }
}

/* ---- receiving
 * ----------------------------------------------------------------
 */

static void deliver(sc_node *node, sc_mgroup *g, const sc_post_id *id,
                    const uint8_t *data, size_t len) {
  sc_post_event ev;
  g->st.posts_received++;
  if (node->cb.post == NULL) {
    return;
  }
  memcpy(ev.group_id, id->group_id, SC_GROUP_ID_BYTES);
  memcpy(ev.origin, id->origin, SC_PEER_ID_LEN);
  ev.number = id->number;
  ev.data = data;
  ev.len = len;
  node->cb.post(node->user, &ev);
}

/* The group a posting message of |kind| and |len| bytes names, if joined
 * with posting on and |s| is a member link of it; counts its bytes and
 * what it refuses. */
static sc_mgroup *posting_group(sc_node *node, sc_session *s,
                                const uint8_t *group_id, uint64_t kind,
                                size_t len) {
  sc_mgroup *g = sc_mesh_group(node, group_id);
  if (g == NULL) {
    return NULL;
  }
  if (!(g->spec.features & SC_GROUP_POSTING) ||
      sc_mesh_member_link(g, s->local_sid) == NULL) {
    g->st.posts_refused++;
    return NULL;
  }
  if (kind == SC_MSG_POST) {
    g->st.post_data_bytes_received += len;
  } else {
    g->st.post_control_bytes_received += len;
  }
  return g;
}

static void on_post(sc_node *node, sc_session *s, const uint8_t *body,
                    size_t len, uint64_t now) {
  sc_post_msg m;
  sc_mgroup *g;
  sc_pgroup *pg;
  origin *o;
  if (sc_post_read(&m, body, len) != 0 ||
      (g = posting_group(node, s, m.id.group_id, SC_MSG_POST, len)) == NULL ||
      (pg = pgroup(node, g)) == NULL) {
    return;
  }
  if (!link_take(node, g, pg, s->local_sid, now)) {
    g->st.posts_dropped++; /* doc/protocol.md §14.1: over the link's budget */
    return;
  }
  if (memcmp(m.id.origin, node->peer_id, SC_PEER_ID_LEN) == 0) {
    g->st.posts_duplicate++; /* its own, come round */
    return;
  }
  if ((o = origin_of(node, pg, m.id.origin, now)) == NULL) {
    return;
  }
  if (!is_new(o, m.id.incarnation, m.id.number)) {
    g->st.posts_duplicate++;
    return;
  }
  if (!sc_bucket_take(&o->rate, RATE, BURST, now)) {
    g->st.posts_dropped++;
    return;
  }
  mark_seen(o, m.id.incarnation, m.id.number);
  keep(node, pg, &m.id, m.payload, m.len, now);
  deliver(node, g, &m.id, m.payload, m.len);
  /* This node's own share starts at its address, whatever lo says. A
   * repaired post (an empty interval) was missed by a run of members next
   * to this one, of unknown length: it goes round the whole ring but its
   * sender, and members that have it already stop it there. */
  if (sc_ring_cmp(&m.lo, &m.hi) != 0) {
    hand_on(node, g, &m.id, &g->self, &m.hi, 0, s->local_sid, m.payload, m.len,
            now);
  } else {
    hand_on(node, g, &m.id, &g->self, &g->self, 1, s->local_sid, m.payload,
            m.len, now);
  }
  queue_ihave(pg, &m.id, s->local_sid, now);
  sc_node_refresh_expiry(node);
}

/* Asks for each post of an IHAVE this node has not seen. Origins are only
 * looked up: an IHAVE cannot fill the table with names. Each IWANT takes
 * from the link's budget, so that an IHAVE cannot make this node ask for
 * more than the link may bring. */
static void on_ihave(sc_node *node, sc_session *s, const uint8_t *body,
                     size_t len, uint64_t now) {
  sc_ihave_msg m;
  sc_mgroup *g;
  sc_pgroup *pg;
  size_t i, at;
  if (sc_ihave_read(&m, body, len) != 0 ||
      (g = posting_group(node, s, m.ids[0].group_id, SC_MSG_IHAVE, len)) ==
          NULL ||
      (pg = pgroup(node, g)) == NULL) {
    return;
  }
  for (i = 0; i < m.n; i++) {
    const sc_post_id *id = &m.ids[i];
    const origin *o = origin_find(pg, id->origin, &at);
    if (memcmp(id->origin, node->peer_id, SC_PEER_ID_LEN) == 0 ||
        (o != NULL && !is_new(o, id->incarnation, id->number))) {
      continue;
    }
    if (!link_take(node, g, pg, s->local_sid, now)) {
      g->st.posts_dropped++;
      continue;
    }
    send_iwant(node, g, s->local_sid, id, now);
    g->st.post_repairs_asked++;
  }
}

static void on_iwant(sc_node *node, sc_session *s, const uint8_t *body,
                     size_t len, uint64_t now) {
  sc_post_id id;
  sc_mgroup *g;
  sc_member *m;
  const kept *k;
  if (sc_post_id_read(&id, body, len) != 0 ||
      (g = posting_group(node, s, id.group_id, SC_MSG_IWANT, len)) == NULL ||
      g->post == NULL || (k = kept_post(g->post, &id, now)) == NULL ||
      (m = sc_mesh_member_link(g, s->local_sid)) == NULL) {
    return;
  }
  if (!link_take(node, g, g->post, s->local_sid, now)) {
    g->st.posts_dropped++; /* asked back more often than the budget */
    return;
  }
  /* An empty interval: the asker hands it on along the ring only. */
  send_post(node, g, s->local_sid, &id, &m->gaddr, &m->gaddr, k->data, k->len,
            now);
}

int sc_post_on_message(sc_node *node, sc_session *s, uint64_t kind,
                       const uint8_t *body, size_t len, uint64_t now) {
  switch (kind) {
  case SC_MSG_POST:
    on_post(node, s, body, len, now);
    return 1;
  case SC_MSG_IHAVE:
    on_ihave(node, s, body, len, now);
    return 1;
  case SC_MSG_IWANT:
    on_iwant(node, s, body, len, now);
    return 1;
  default:
    return 0;
  }
}

/* ---- timers
 * -------------------------------------------------------------------
 */

void sc_post_on_timer(sc_node *node, uint64_t now) {
  size_t gi, i, done;
  for (gi = 0; gi < node->mesh.ngroups; gi++) {
    sc_mgroup *g = node->mesh.groups[gi];
    sc_pgroup *pg = g->post;
    uint32_t ring[2 * RING_TELL];
    /* Those due soon go with those due now, in the same IHAVEs. */
    uint64_t until = now + IHAVE_BATCH;
    if (pg == NULL || pg->nq == 0 || pg->q[0].due > now) {
      continue;
    }
    ring_links(node, g, now, ring);
    for (i = 0; i < 2 * RING_TELL; i++) {
      if (ring[i] != 0) {
        tell(node, g, ring[i], until, now);
      }
    }
    for (done = 0; done < pg->nq && pg->q[done].due <= until; done++) {
    }
    memmove(pg->q, pg->q + done, (pg->nq - done) * sizeof(*pg->q));
    pg->nq -= done;
  }
}

uint64_t sc_post_deadline(const sc_node *node) {
  uint64_t d = UINT64_MAX;
  size_t gi;
  for (gi = 0; gi < node->mesh.ngroups; gi++) {
    const sc_pgroup *pg = node->mesh.groups[gi]->post;
    /* Queued in due order: each waits the same delay. */
    if (pg != NULL && pg->nq > 0) {
      d = SC_MIN(d, pg->q[0].due);
    }
  }
  return d;
}

/* ---- the API
 * ------------------------------------------------------------------
 */

int sc_node_post(sc_node *node, const char *group, const uint8_t *data,
                 size_t len, uint64_t now) {
  sc_mgroup *g;
  sc_pgroup *pg;
  sc_post_id id;
  int rv;
  if (len > SC_POST_MAX || (len > 0 && data == NULL)) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = sc_mesh_group_of(node, group, SC_GROUP_POSTING, &g)) != 0) {
    return rv;
  }
  if ((pg = pgroup(node, g)) == NULL) {
    return SC_ERR_NOMEM;
  }
  memcpy(id.group_id, g->spec.id, SC_GROUP_ID_LEN);
  memcpy(id.origin, node->peer_id, SC_PEER_ID_LEN);
  id.incarnation = node->incarnation;
  id.number = pg->next++;
  keep(node, pg, &id, data, len, now);
  hand_on(node, g, &id, &g->self, &g->self, 1, 0, data, len, now);
  queue_ihave(pg, &id, 0, now);
  g->st.posts_sent++;
  sc_node_refresh_expiry(node);
  return 0;
}
