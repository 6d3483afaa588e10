/*
 * sc_mesh.c: groups, membership and neighbour selection
 * (doc/protocol.md §11).
 *
 * Life of a member link: a session comes up, each side sends GROUP_HELLO
 * for every group it is in (with a proof bound to the session's handshake
 * when the group has a secret); a valid HELLO for a joined group makes the
 * session a member link, and the two start exchanging membership reports
 * (MEMBERS, computed for the receiver's address, sent when they change or
 * every 30 s) and neighbour choices (NEIGHBOR). A rebuild, every second
 * when something changed and every five seconds anyway, picks the
 * neighbours from the member table, connects to the chosen ones it has no
 * session with, and tells each linked member whether it is chosen. A
 * session that no group needs is closed after a grace period; a member
 * link with nothing to send pings every BEAT, and one silent for NB_DEAD
 * is declared dead.
 */
#include "sc_mesh.h"

#include <sodium.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_mcast.h"
#include "sc_mem.h"
#include "sc_meshmsg.h"
#include "sc_node_int.h"
#include "sc_post.h"
#include "sc_repl.h"
#include "sc_route.h"

_Static_assert(SC_MESH_VOUCH_MAX == SC_MEMBERS_MAX,
               "a link record holds what one report can vouch for");

/* doc/protocol.md §11.4: the mesh's parameters. */
#define RING_SIDE 4    /* ring-nearest neighbours on each side */
#define LATENCY_NB 2   /* lowest-RTT neighbours */
#define LOOKUP_MAX 24  /* lookup offsets at most */
#define PREFIX_TABLE 8 /* table entries per /24 or /48 */
#define PREFIX_NB 3    /* chosen neighbours per /24 or /48 */
#define REPORT_NEAR 8  /* report entries nearest the receiver */
#define CONNECTS_PER_REBUILD 4
#define REBUILD_FAST (1 * SC_SEC)
#define REBUILD_SLOW (5 * SC_SEC)
#define REPORT_INTERVAL (2 * SC_SEC) /* links' reports are reviewed */
#define REPORT_REFRESH (30 * SC_SEC) /* an unchanged report is resent */
#define BEAT (2 * SC_SEC)            /* a member link sending nothing pings */
#define NB_DEAD (6 * SC_SEC)         /* a linked member silent this long */
#define INTRO_AFTER (1 * SC_SEC)     /* a direct attempt's head start */
#define CROSS_DELAY (1500 * SC_MS)   /* see may_connect */
#define CONNECT_TIMEOUT (3 * SC_SEC)
#define RETRY_AFTER (30 * SC_SEC)
#define ENTRY_FRESH (15 * SC_SEC) /* worth connecting to, worth reporting */
#define ENTRY_TTL (60 * SC_SEC)   /* forgotten after */
#define SHED_GRACE (10 * SC_SEC)  /* a new session's time to find a use */
#define REJOIN_INTERVAL (5 * SC_SEC)
#define REJOIN_BATCH 4
#define LOST_KEEP (10 * 60 * SC_SEC) /* a lost member is remembered ... */
#define LOST_EVERY (30 * SC_SEC)     /* ... and one is tried this often */

/* ---- small helpers -------------------------------------------------------
 */

static uint64_t age_of(const sc_member *m, uint64_t now) {
  return now > m->heard_at ? now - m->heard_at : 0;
}

/* The /24 (IPv4) or /48 (IPv6) an address belongs to; loopback addresses
 * are exempt from the prefix caps (a local swarm shares one). */
static int same_prefix(const sc_addr *a, const sc_addr *b) {
  size_t n = a->family == SC_AF_INET ? 3 : 6;
  return a->family == b->family && memcmp(a->ip, b->ip, n) == 0;
}

static int is_loopback(const sc_addr *a) {
  static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 1};
  return a->family == SC_AF_INET ? a->ip[0] == 127 : memcmp(a->ip, v6, 16) == 0;
}

static int addr_ok(const sc_addr *a) {
  static const uint8_t zero[16];
  return (a->family == SC_AF_INET || a->family == SC_AF_INET6) &&
         a->port != 0 &&
         memcmp(a->ip, zero, a->family == SC_AF_INET ? 4 : 16) != 0;
}

sc_mgroup *sc_mesh_group(const sc_node *node, const uint8_t *id) {
  size_t i;
  for (i = 0; i < node->mesh.ngroups; i++) {
    if (memcmp(node->mesh.groups[i]->spec.id, id, SC_GROUP_ID_LEN) == 0) {
      return node->mesh.groups[i];
    }
  }
  return NULL;
}

static uint64_t id64_of(const uint8_t *peer_id) {
  uint64_t v;
  memcpy(&v, peer_id, sizeof(v));
  return v;
}

static sc_member *member_by_id(sc_mgroup *g, const uint8_t *peer_id) {
  uint64_t key = id64_of(peer_id);
  size_t i;
  for (i = 0; i < g->n; i++) {
    if (g->m[i].id64 == key &&
        memcmp(g->m[i].peer_id, peer_id, SC_PEER_ID_LEN) == 0) {
      return &g->m[i];
    }
  }
  return NULL;
}

sc_member *sc_mesh_member_link(sc_mgroup *g, uint32_t sid) {
  size_t i;
  for (i = 0; sid != 0 && i < g->n; i++) {
    if (g->m[i].sid == sid) {
      return &g->m[i];
    }
  }
  return NULL;
}

static void update_joined(sc_node *node);

static void send_msg(sc_session *s, uint64_t kind, const sc_wr *w, int rv,
                     uint64_t now) {
  if (rv == 0 && sc_session_is_usable(s)) {
    sc_session_send_msg(s, kind, w->buf, w->len, now);
  }
}

/* ---- the member table ----------------------------------------------------
 */

/* Reallocates the array |p| of |*cap| elements of |size| bytes to twice as
 * many (|first| when empty); returns the new array, or NULL with |p| and
 * |*cap| unchanged. */
static void *grow(sc_node *node, void *p, size_t *cap, size_t size,
                  size_t first) {
  size_t c = *cap ? 2 * *cap : first;
  void *q = sc_mem_realloc(node->mem, p, c * size);
  if (q != NULL) {
    *cap = c;
  }
  return q;
}

static sc_member *member_by_id64(sc_mgroup *g, uint64_t key) {
  size_t i;
  for (i = 0; i < g->n; i++) {
    if (g->m[i].id64 == key) {
      return &g->m[i];
    }
  }
  return NULL;
}

/* ---- link records and vouches (§11.3.3) ----------------------------------
 *
 * Each member link's latest report names, at age 0, the members it holds
 * links with. Those members are alive as long as that link is and until
 * its next report leaves them out, so they need no refreshing by age. A
 * member's |vouchers| counts the link records that name it; the records
 * are kept exact as members and links come and go.
 */

static sc_mlink *link_find(sc_mgroup *g, uint32_t sid) {
  size_t i;
  for (i = 0; i < g->nlinks; i++) {
    if (g->links[i].sid == sid) {
      return &g->links[i];
    }
  }
  return NULL;
}

/* The record for member link |sid|, created empty if need be; NULL when
 * out of memory. */
static sc_mlink *link_get(sc_node *node, sc_mgroup *g, uint32_t sid) {
  sc_mlink *l = link_find(g, sid);
  if (l != NULL) {
    return l;
  }
  if (g->nlinks == g->links_cap) {
    sc_mlink *p = grow(node, g->links, &g->links_cap, sizeof(*p), 8);
    if (p == NULL) {
      return NULL;
    }
    g->links = p;
  }
  l = &g->links[g->nlinks++];
  memset(l, 0, sizeof(*l));
  l->sid = sid;
  return l;
}

static void vouch_count(sc_mgroup *g, const sc_mlink *l, int up) {
  uint32_t i;
  for (i = 0; i < l->nvouch; i++) {
    sc_member *m = member_by_id64(g, l->vouch[i]);
    if (m == NULL) {
      continue;
    }
    /* No rebuild at once for this: the member's candidacy shifts at
     * most, and the periodic rebuild will see it. */
    m->vouchers = up ? m->vouchers + 1 : m->vouchers - (m->vouchers > 0);
  }
}

/* Forgets member link |sid|'s record and what it vouched for. */
static void link_drop(sc_mgroup *g, uint32_t sid) {
  sc_mlink *l = link_find(g, sid);
  if (l != NULL) {
    vouch_count(g, l, 0);
    *l = g->links[--g->nlinks];
  }
}

/* Replaces what link |l| vouches for with what its report |msg| says. */
static void vouch_set(sc_mgroup *g, sc_mlink *l, const sc_members_msg *msg) {
  size_t i;
  vouch_count(g, l, 0);
  l->nvouch = 0;
  for (i = 0; i < msg->n && l->nvouch < SC_MESH_VOUCH_MAX; i++) {
    const sc_member *m =
        msg->e[i].age_ms == 0 ? member_by_id(g, msg->e[i].peer_id) : NULL;
    if (m != NULL) {
      l->vouch[l->nvouch++] = m->id64;
    }
  }
  vouch_count(g, l, 1);
}

/* Takes out of every record a member that leaves the table. */
static void vouch_forget(sc_mgroup *g, uint64_t id64) {
  size_t i;
  uint32_t j;
  for (i = 0; i < g->nlinks; i++) {
    sc_mlink *l = &g->links[i];
    for (j = 0; j < l->nvouch; j++) {
      if (l->vouch[j] == id64) {
        l->vouch[j--] = l->vouch[--l->nvouch];
      }
    }
  }
}

/* Removes entry |i| (order is not kept). */
static void member_remove(sc_mgroup *g, size_t i) {
  if (g->m[i].vouchers > 0) {
    vouch_forget(g, g->m[i].id64);
  }
  g->m[i] = g->m[--g->n];
  g->dirty = 1;
}

/* |m| is no longer a member link. */
static void member_unlink(sc_mgroup *g, sc_member *m) {
  link_drop(g, m->sid);
  m->sid = 0;
  m->peer_chose = 0;
  m->told = 2;
  g->dirty = 1;
}

/* The entry to give up for a newcomer: the stalest one without a member
 * link, among those sharing |prefix| when it is not NULL. */
static long evictable(const sc_mgroup *g, const sc_addr *prefix) {
  long best = -1;
  size_t i;
  for (i = 0; i < g->n; i++) {
    const sc_member *m = &g->m[i];
    if (m->sid != 0 || m->csid != 0 ||
        (prefix != NULL && !same_prefix(&m->addr, prefix))) {
      continue;
    }
    if (best < 0 || m->heard_at < g->m[best].heard_at) {
      best = (long)i;
    }
  }
  return best;
}

/* Makes room for a member at |addr|: §11.5 caps the entries per prefix and
 * in all. Returns 0, or SC_ERR_LIMIT when the newcomer must be refused. */
static int make_room(sc_mgroup *g, const sc_addr *addr, uint64_t heard_at) {
  size_t i, same = 0;
  long v;
  if (!is_loopback(addr)) {
    for (i = 0; i < g->n; i++) {
      same += (size_t)same_prefix(&g->m[i].addr, addr);
    }
    if (same >= PREFIX_TABLE) {
      v = evictable(g, addr);
      if (v < 0 || g->m[v].heard_at >= heard_at) {
        return SC_ERR_LIMIT;
      }
      member_remove(g, (size_t)v);
      return 0;
    }
  }
  if (g->n < SC_MESH_TABLE_MAX) {
    return 0;
  }
  v = evictable(g, NULL);
  if (v < 0 || g->m[v].heard_at >= heard_at) {
    return SC_ERR_LIMIT;
  }
  member_remove(g, (size_t)v);
  return 0;
}

/* Adds a member, or returns NULL (refused by a cap, or out of memory). */
static sc_member *member_add(sc_node *node, sc_mgroup *g,
                             const uint8_t *peer_id, const sc_addr *addr,
                             uint64_t heard_at) {
  sc_member *m;
  if (make_room(g, addr, heard_at) != 0) {
    g->st.entries_refused++;
    return NULL;
  }
  if (g->n == g->cap) {
    sc_member *p = grow(node, g->m, &g->cap, sizeof(*p), 16);
    if (p == NULL) {
      return NULL;
    }
    g->m = p;
  }
  m = &g->m[g->n++];
  memset(m, 0, sizeof(*m));
  memcpy(m->peer_id, peer_id, SC_PEER_ID_LEN);
  sc_group_address(&m->gaddr, g->spec.id, peer_id);
  m->pos = sc_ring_top64(&m->gaddr);
  m->id64 = id64_of(peer_id);
  m->addr = *addr;
  m->heard_at = heard_at;
  m->told = 2;
  g->dirty = 1;
  return m;
}

/* ---- member links --------------------------------------------------------
 */

/* §11.3.1: HELLO, or with |leaving| the word that this node left |g|. */
static void send_hello(sc_node *node, sc_mgroup *g, sc_session *s, int leaving,
                       uint64_t now) {
  sc_hello_msg h;
  uint8_t body[SC_GROUP_ID_LEN + 1 + SC_GROUP_PROOF_LEN];
  sc_wr w;
  memcpy(h.group_id, g->spec.id, SC_GROUP_ID_LEN);
  h.leaving = leaving;
  h.has_proof = g->spec.has_secret && !leaving;
  if (h.has_proof) {
    sc_group_proof(h.proof, &g->spec, s->hs_hash, sizeof(s->hs_hash),
                   node->peer_id);
  }
  sc_wr_init(&w, body, sizeof(body));
  send_msg(s, SC_MSG_GROUP_HELLO, &w, sc_hello_write(&w, &h), now);
}

void sc_mesh_on_up(sc_node *node, sc_session *s, uint64_t now) {
  size_t i;
  for (i = 0; i < node->mesh.ngroups; i++) {
    send_hello(node, node->mesh.groups[i], s, 0, now);
  }
}

void sc_mesh_on_down(sc_node *node, sc_session *s, uint64_t now) {
  size_t i, j;
  for (i = 0; i < node->mesh.ngroups; i++) {
    sc_mgroup *g = node->mesh.groups[i];
    for (j = 0; j < g->n; j++) {
      sc_member *m = &g->m[j];
      if (m->csid == s->local_sid) {
        m->csid = 0;
      }
      if (m->via == s->local_sid) {
        m->via = 0;
      }
      if (m->sid == s->local_sid) {
        member_unlink(g, m);
        if (s->close_reason == SC_CLOSE_IDLE) {
          /* Dead, not merely shed: no longer fresh. */
          m->heard_at = SC_MIN(m->heard_at, now - SC_MIN(now, ENTRY_FRESH));
          m->lost_at = now;
        }
      }
    }
    link_drop(g, s->local_sid);
  }
  update_joined(node);
}

static void report_link(sc_mgroup *g, const sc_member *m, sc_session *s,
                        uint64_t now, int force);

/* §11.3.1: a member that left is no member link, nor in the table: it is
 * not reported, and comes back only with a new HELLO. */
static void on_leave(sc_mgroup *g, const sc_session *s) {
  size_t i;
  for (i = 0; i < g->n; i++) {
    if (memcmp(g->m[i].peer_id, s->peer_id, SC_PEER_ID_LEN) == 0) {
      if (g->m[i].sid != 0) {
        member_unlink(g, &g->m[i]);
      }
      member_remove(g, i);
      return;
    }
  }
}

/* §11.3.1: a valid HELLO for a joined group makes |s| a member link. */
static void on_hello(sc_node *node, sc_session *s, const uint8_t *body,
                     size_t len, uint64_t now) {
  sc_hello_msg h;
  sc_mgroup *g;
  sc_member *m;
  if (sc_hello_read(&h, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  g = sc_mesh_group(node, h.group_id);
  if (g == NULL || !s->has_peer_id) {
    return; /* not a group of ours: nothing to say */
  }
  if (h.leaving) {
    on_leave(g, s);
    return;
  }
  if (g->spec.has_secret &&
      (!h.has_proof || !sc_group_proof_check(h.proof, &g->spec, s->hs_hash,
                                             sizeof(s->hs_hash), s->peer_id))) {
    g->st.hellos_refused++;
    sc_node_log(node, SC_LOG_INFO,
                "a peer without the group's secret was "
                "refused membership");
    return;
  }
  m = member_by_id(g, s->peer_id);
  if (m == NULL) {
    m = member_add(node, g, s->peer_id, &s->addr, now);
  }
  if (m == NULL || link_get(node, g, s->local_sid) == NULL) {
    return;
  }
  if (m->sid != 0 && m->sid != s->local_sid) {
    link_drop(g, m->sid); /* the older of two sessions with the peer */
  }
  m->sid = s->local_sid;
  m->csid = 0;
  m->connect_at = 0;
  m->addr = s->addr;
  m->heard_at = now;
  m->since = now;
  m->lost_at = 0;
  m->told = 2;
  g->dirty = 1;
  /* §11.2: a newcomer learns at once who is near its address. */
  report_link(g, m, s, now, 1);
}

static void enforce_quota(sc_node *node, sc_mgroup *g, uint64_t now);

static void on_neighbor(sc_node *node, sc_session *s, const uint8_t *body,
                        size_t len, uint64_t now) {
  sc_neighbor_msg nb;
  sc_mgroup *g;
  sc_member *m;
  if (sc_neighbor_read(&nb, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  g = sc_mesh_group(node, nb.group_id);
  m = g ? sc_mesh_member_link(g, s->local_sid) : NULL;
  if (m != NULL && m->peer_chose != nb.chosen) {
    m->peer_chose = nb.chosen;
    g->dirty = 1;
    if (nb.chosen && !m->chosen) {
      enforce_quota(node, g, now); /* §11.5, at once */
    }
  }
}

/* ---- membership reports --------------------------------------------------
 */

/* Ring order on the top 64 bits decides whenever the two values differ by
 * more than the one unit a borrow from the lower bits can change; the full
 * width settles the rest (sc_ring_top64). */
static uint64_t dist64(uint64_t a, uint64_t b) {
  uint64_t d = a - b, e = b - a;
  return d < e ? d : e;
}

static int closer(const sc_ring_addr *t, uint64_t t64, const sc_member *a,
                  const sc_member *b) {
  uint64_t da = dist64(t64, a->pos), db = dist64(t64, b->pos);
  if (da + 1 < db) {
    return 1;
  }
  if (db + 1 < da) {
    return 0;
  }
  return sc_ring_closer(t, &a->gaddr, &b->gaddr);
}

/* §11.3.3: a report lists only members the sender holds a link with or
 * that one of its links vouches for, so that what it says changes when
 * links change, not as time passes. */
static int reportable(const sc_member *m) {
  return m->sid != 0 || m->vouchers > 0;
}

/* Whether this node has recent word of |m|: the estimate counts these. */
static int known(const sc_member *m, uint64_t now) {
  return reportable(m) || age_of(m, now) < ENTRY_FRESH;
}

/* Fills |idx| with up to |k| entries nearest |target|, nearest first, that
 * are reportable, or also merely known at |now| when |known_too| is set,
 * skipping |skip| (a peer ID, or NULL); returns how many. */
static size_t nearest(const sc_mgroup *g, const sc_ring_addr *target,
                      const uint8_t *skip, size_t *idx, size_t k, int known_too,
                      uint64_t now) {
  uint64_t t64 = sc_ring_top64(target);
  size_t i, n = 0;
  for (i = 0; i < g->n; i++) {
    const sc_member *m = &g->m[i];
    size_t j;
    if (!(known_too ? known(m, now) : reportable(m)) ||
        (skip != NULL && memcmp(m->peer_id, skip, SC_PEER_ID_LEN) == 0)) {
      continue;
    }
    /* Insertion into the short sorted list. */
    if (n < k) {
      j = n++;
    } else if (closer(target, t64, m, &g->m[idx[k - 1]])) {
      j = k - 1;
    } else {
      continue;
    }
    while (j > 0 && closer(target, t64, m, &g->m[idx[j - 1]])) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = i;
  }
  return n;
}

static unsigned lookups(const sc_mgroup *g) {
  unsigned k = 1;
  while (k < LOOKUP_MAX && ((uint64_t)1 << k) < g->estimate) {
    k++;
  }
  return k;
}

static void add_entry(sc_members_msg *msg, const sc_member *m, uint64_t now) {
  size_t i;
  for (i = 0; i < msg->n; i++) {
    if (memcmp(msg->e[i].peer_id, m->peer_id, SC_PEER_ID_LEN) == 0) {
      return;
    }
  }
  if (msg->n < SC_MEMBERS_MAX) {
    sc_mentry *e = &msg->e[msg->n++];
    memcpy(e->peer_id, m->peer_id, SC_PEER_ID_LEN);
    e->addr = m->addr;
    e->age_ms = m->sid != 0 ? 0 : age_of(m, now) / SC_MS;
  }
}

/* §11.3.3: fills |msg| with the members nearest |target| and near its
 * lookup offsets, leaving out |skip| (the receiver). */
static void build_report(const sc_mgroup *g, const sc_ring_addr *target,
                         const uint8_t *skip, uint64_t now,
                         sc_members_msg *msg) {
  size_t idx[REPORT_NEAR], n, i;
  unsigned k, nk = lookups(g);
  memcpy(msg->group_id, g->spec.id, SC_GROUP_ID_LEN);
  msg->n = 0;
  n = nearest(g, target, skip, idx, REPORT_NEAR, 0, 0);
  for (i = 0; i < n; i++) {
    add_entry(msg, &g->m[idx[i]], now);
  }
  for (k = 1; k <= nk && msg->n < SC_MEMBERS_MAX; k++) {
    sc_ring_addr off;
    sc_ring_offset(&off, target, k);
    if (nearest(g, &off, skip, idx, 1, 0, 0) == 1) {
      add_entry(msg, &g->m[idx[0]], now);
    }
  }
}

static void send_members(sc_mgroup *g, sc_session *s, const sc_members_msg *msg,
                         uint64_t now) {
  uint8_t body[SC_MSG_MAX];
  sc_wr w;
  sc_wr_init(&w, body, sizeof(body));
  send_msg(s, SC_MSG_MEMBERS, &w, sc_members_write(&w, msg), now);
  g->st.reports_sent++;
}

/* §11.3.3: the report for member link |m| (session |s|) goes out when its
 * content differs from the last one sent on the link, when that one is
 * REPORT_REFRESH old, or when |force| is set (a new link). */
static void report_link(sc_mgroup *g, const sc_member *m, sc_session *s,
                        uint64_t now, int force) {
  sc_mlink *l = link_find(g, m->sid);
  sc_members_msg msg;
  uint64_t h;
  if (l == NULL) {
    return;
  }
  build_report(g, &m->gaddr, s->peer_id, now, &msg);
  h = sc_members_digest(&msg);
  if (!force && h == l->sent_hash && now - l->sent_at < REPORT_REFRESH) {
    return;
  }
  send_members(g, s, &msg, now);
  l->sent_hash = h;
  l->sent_at = now;
}

static void on_members(sc_node *node, sc_session *s, const uint8_t *body,
                       size_t len, uint64_t now) {
  sc_members_msg msg;
  sc_mgroup *g;
  sc_mlink *l;
  size_t i;
  if (sc_members_read(&msg, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  g = sc_mesh_group(node, msg.group_id);
  /* Only a proved member may tell us about members (§11.3.3). */
  l = g != NULL ? link_find(g, s->local_sid) : NULL;
  if (l == NULL) {
    return;
  }
  g->st.reports_received++;
  for (i = 0; i < msg.n; i++) {
    const sc_mentry *e = &msg.e[i];
    uint64_t age = e->age_ms > now / SC_MS ? now / SC_MS : e->age_ms;
    uint64_t heard = now - age * SC_MS;
    sc_member *m;
    if (memcmp(e->peer_id, node->peer_id, SC_PEER_ID_LEN) == 0 ||
        !addr_ok(&e->addr) || age * SC_MS >= ENTRY_TTL) {
      continue;
    }
    m = member_by_id(g, e->peer_id);
    if (m == NULL) {
      m = member_add(node, g, e->peer_id, &e->addr, heard);
    } else if (heard > m->heard_at) {
      m->heard_at = heard;
      if (m->sid == 0 && m->csid == 0) {
        m->addr = e->addr;
      }
    }
    if (m != NULL && m->sid == 0) {
      m->via = s->local_sid;
    }
  }
  vouch_set(g, l, &msg);
}

static void on_members_request(sc_node *node, sc_session *s,
                               const uint8_t *body, size_t len, uint64_t now) {
  sc_mreq_msg q;
  sc_mgroup *g;
  if (sc_mreq_read(&q, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  g = sc_mesh_group(node, q.group_id);
  if (g != NULL && link_find(g, s->local_sid) != NULL) {
    sc_members_msg msg;
    build_report(g, &q.target, s->peer_id, now, &msg);
    send_members(g, s, &msg, now);
  }
}

/* ---- introductions (§11.3.5) ---------------------------------------------
 */

static int is_member_link(const sc_node *node, uint32_t sid) {
  size_t i;
  for (i = 0; i < node->mesh.ngroups; i++) {
    if (sc_mesh_member_link(node->mesh.groups[i], sid) != NULL) {
      return 1;
    }
  }
  return 0;
}

/* Asked by a member to introduce it to a peer we have a link with: we
 * forward its identity and the address we see it at, so that both sides
 * send at once and open their NAT mappings. */
static void on_intro_request(sc_node *node, sc_session *s, const uint8_t *body,
                             size_t len, uint64_t now) {
  sc_intro_msg q, fwd;
  sc_session *t;
  uint8_t buf[SC_PEER_ID_LEN + 19];
  sc_wr w;
  if (sc_intro_request_read(&q, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  t = sc_node_session_with(node, q.peer_id);
  if (t == NULL || t == s || !is_member_link(node, s->local_sid) ||
      !is_member_link(node, t->local_sid)) {
    return;
  }
  memcpy(fwd.peer_id, s->peer_id, SC_PEER_ID_LEN);
  fwd.addr = s->addr;
  sc_wr_init(&w, buf, sizeof(buf));
  send_msg(t, SC_MSG_INTRODUCE, &w, sc_intro_write(&w, &fwd), now);
}

static void on_intro(sc_node *node, sc_session *s, const uint8_t *body,
                     size_t len, uint64_t now) {
  sc_intro_msg m;
  if (sc_intro_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  if (!is_member_link(node, s->local_sid) || !addr_ok(&m.addr) ||
      memcmp(m.peer_id, node->peer_id, SC_PEER_ID_LEN) == 0 ||
      sc_node_session_with(node, m.peer_id) != NULL || node->closing) {
    return;
  }
  sc_node_connect_peer(node, &m.addr, m.peer_id, now, NULL);
}

int sc_mesh_on_message(sc_node *node, sc_session *s, uint64_t kind,
                       const uint8_t *body, size_t len, uint64_t now) {
  switch (kind) {
  case SC_MSG_GROUP_HELLO:
    on_hello(node, s, body, len, now);
    break;
  case SC_MSG_MEMBERS_REQUEST:
    on_members_request(node, s, body, len, now);
    break;
  case SC_MSG_MEMBERS:
    on_members(node, s, body, len, now);
    break;
  case SC_MSG_NEIGHBOR:
    on_neighbor(node, s, body, len, now);
    break;
  case SC_MSG_INTRODUCE_REQUEST:
    on_intro_request(node, s, body, len, now);
    break;
  case SC_MSG_INTRODUCE:
    on_intro(node, s, body, len, now);
    break;
  default:
    return 0;
  }
  update_joined(node);
  return 1;
}

/* ---- rebuilding the neighbour set ------------------------------------------
 */

static int candidate(const sc_member *m, uint64_t now) {
  return m->sid != 0 || ((m->vouchers > 0 || age_of(m, now) < ENTRY_FRESH) &&
                         now >= m->retry_at);
}

static void introduce(sc_node *node, sc_member *m, uint64_t now);

/* Keeps the entries' links honest: refreshes live ones, declares silent
 * ones dead, gives up slow connection attempts, forgets old entries. */
static void maintain(sc_node *node, sc_mgroup *g, uint64_t now) {
  size_t i = g->n;
  while (i-- > 0) {
    sc_member *m = &g->m[i];
    sc_session *s = m->sid ? sc_node_session(node, m->sid) : NULL;
    if (m->sid != 0 && (s == NULL || !sc_session_is_usable(s))) {
      member_unlink(g, m);
    } else if (s != NULL && now - s->last_recv > NB_DEAD) {
      /* §11.4: a member link carries a packet at least every BEAT each
       * way; this much silence means the peer is gone. */
      g->st.neighbors_dead++;
      sc_session_close(s, SC_CLOSE_IDLE, now);
      member_unlink(g, m);
      m->heard_at = s->last_recv;
      m->lost_at = now;
    } else if (s != NULL) {
      m->heard_at = s->last_recv;
    } else if (m->vouchers > 0) {
      m->heard_at = now; /* a live link holds a link with it */
    }
    if (m->csid != 0 && m->sid == 0 && !m->introduced &&
        now - m->connect_at > INTRO_AFTER) {
      introduce(node, m, now);
    }
    if (m->csid != 0 && m->sid == 0 && now - m->connect_at > CONNECT_TIMEOUT) {
      sc_session *c = sc_node_session(node, m->csid);
      if (c != NULL && !sc_session_is_usable(c)) {
        sc_session_close(c, SC_CLOSE_HANDSHAKE, now);
      }
      m->csid = 0;
      m->retry_at = now + RETRY_AFTER;
      g->st.connect_failures++;
      g->dirty = 1;
    } else if (m->sid != 0) {
      m->csid = 0;
    }
    if (m->sid == 0 && m->csid == 0 && age_of(m, now) >= ENTRY_TTL &&
        (m->lost_at == 0 || now - m->lost_at >= LOST_KEEP)) {
      g->st.members_expired++;
      member_remove(g, i);
    }
  }
}

/* §11.4: the member count from the density of addresses around this node:
 * the j nearest members lie within ring distance d_j, an arc of 2 d_j. */
static void estimate(sc_mgroup *g, uint64_t now) {
  size_t idx[16], n = nearest(g, &g->self, NULL, idx, 16, 1, now);
  sc_ring_addr d;
  double frac, est;
  if (n < 16) {
    /* Fewer than 16 members known: reports spread everything near a node,
     * so a group this small is one we know whole; density would only add
     * noise (one neighbour close by would claim a crowd). */
    g->estimate = n + 1;
    return;
  }
  sc_ring_distance(&d, &g->self, &g->m[idx[n - 1]].gaddr);
  frac = 2.0 * sc_ring_fraction(&d);
  est = frac > 0.0 ? (double)n / frac : (double)n;
  /* Never below what we know of. */
  if (est < (double)n + 1.0) {
    est = (double)n + 1.0;
  }
  g->estimate = est > 1e12 ? (uint64_t)1e12 : (uint64_t)est;
}

#define PICKS_MAX (2 * RING_SIDE + LOOKUP_MAX + LATENCY_NB + 1)

typedef struct pick {
  sc_mgroup *g;
  uint8_t *bits; /* per entry: chosen reasons being built */
  uint64_t now;
  uint16_t picked[PICKS_MAX]; /* the entries with bits, in order */
  size_t npicked;
} pick;

static void mark(pick *p, size_t i, uint8_t bit) {
  if (p->bits[i] == 0 && p->npicked < PICKS_MAX) {
    p->picked[p->npicked++] = (uint16_t)i;
  }
  p->bits[i] |= bit;
}

/* Whether PREFIX_NB picks already share |m|'s prefix: asked for nearly
 * every entry, so it looks at the picks only. */
static int prefix_full(const pick *p, const sc_member *m) {
  size_t j, same = 0;
  if (is_loopback(&m->addr)) {
    return 0;
  }
  for (j = 0; j < p->npicked; j++) {
    same += (size_t)same_prefix(&p->g->m[p->picked[j]].addr, &m->addr);
  }
  return same >= PREFIX_NB;
}

/* Nonzero if |a| comes before |b| going clockwise (|ccw| = 0) or
 * counter-clockwise from this node; fast path as in closer(). */
static int ring_before(const sc_mgroup *g, const sc_member *a,
                       const sc_member *b, int ccw) {
  uint64_t da = ccw ? g->self64 - a->pos : a->pos - g->self64;
  uint64_t db = ccw ? g->self64 - b->pos : b->pos - g->self64;
  sc_ring_addr x, y;
  if (da + 1 < db && da + 1 != 0) {
    return 1;
  }
  if (db + 1 < da && db + 1 != 0) {
    return 0;
  }
  if (ccw) {
    sc_ring_sub(&x, &g->self, &a->gaddr);
    sc_ring_sub(&y, &g->self, &b->gaddr);
  } else {
    sc_ring_sub(&x, &a->gaddr, &g->self);
    sc_ring_sub(&y, &b->gaddr, &g->self);
  }
  return sc_ring_cmp(&x, &y) < 0;
}

/* Marks with |bit| the |k| candidates with the smallest clockwise
 * (|ccw| = 0) or counter-clockwise distance from this node. */
static void pick_ring(pick *p, int ccw, size_t k) {
  sc_mgroup *g = p->g;
  size_t taken;
  for (taken = 0; taken < k; taken++) {
    long best = -1;
    size_t i;
    for (i = 0; i < g->n; i++) {
      const sc_member *m = &g->m[i];
      if ((p->bits[i] & SC_NB_RING) || !candidate(m, p->now)) {
        continue;
      }
      if (best < 0 || ring_before(g, m, &g->m[best], ccw)) {
        best = (long)i;
      }
    }
    if (best < 0) {
      return;
    }
    mark(p, (size_t)best, SC_NB_RING);
  }
}

/* Marks the candidate nearest |target| that is not in a full prefix. */
static void pick_near(pick *p, const sc_ring_addr *target, uint8_t bit) {
  sc_mgroup *g = p->g;
  uint64_t t64 = sc_ring_top64(target);
  long best = -1;
  size_t i;
  for (i = 0; i < g->n; i++) {
    const sc_member *m = &g->m[i];
    if (!candidate(m, p->now) || (p->bits[i] == 0 && prefix_full(p, m))) {
      continue;
    }
    if (best < 0 || closer(target, t64, m, &g->m[best])) {
      best = (long)i;
    }
  }
  if (best >= 0) {
    mark(p, (size_t)best, bit);
  }
}

static uint64_t link_rtt(const sc_node *node, const sc_member *m) {
  const sc_session *s = m->sid ? sc_node_session(node, m->sid) : NULL;
  return s != NULL && s->rtt.has_sample ? s->rtt.smoothed : UINT64_MAX;
}

/* The RTT a member is expected to have: measured on its link, or, for a
 * reliable peer remembered from an earlier run (score of at least half),
 * the RTT the history recorded (§11.6). UINT64_MAX when unknown. */
static uint64_t expected_rtt(const sc_node *node, const sc_member *m,
                             uint64_t now) {
  size_t i;
  if (m->sid != 0) {
    return link_rtt(node, m);
  }
  if (!candidate(m, now)) {
    return UINT64_MAX;
  }
  for (i = 0; i < node->mesh.nknown; i++) {
    const sc_known_peer *k = &node->mesh.known[i];
    if (id64_of(k->peer_id) == m->id64 &&
        memcmp(k->peer_id, m->peer_id, SC_PEER_ID_LEN) == 0) {
      return k->rtt_ns != 0 && k->score_permille >= 500 ? k->rtt_ns
                                                        : UINT64_MAX;
    }
  }
  return UINT64_MAX;
}

static void pick_latency(sc_node *node, pick *p, size_t k) {
  sc_mgroup *g = p->g;
  size_t taken;
  for (taken = 0; taken < k; taken++) {
    long best = -1;
    uint64_t br = UINT64_MAX;
    size_t i;
    for (i = 0; i < g->n; i++) {
      uint64_t r;
      if (p->bits[i] != 0 || prefix_full(p, &g->m[i])) {
        continue;
      }
      r = expected_rtt(node, &g->m[i], p->now);
      if (r < br) {
        best = (long)i;
        br = r;
      }
    }
    if (best < 0) {
      return;
    }
    mark(p, (size_t)best, SC_NB_LATENCY);
  }
}

/* A random number below |n| (n > 0). */
static uint32_t rand_below(sc_node *node, uint32_t n) {
  uint8_t r[4];
  sc_node_rand(node, r, sizeof(r));
  return ((uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 |
          r[3]) %
         n;
}

static int random_ok(const pick *p, size_t i) {
  return p->bits[i] == 0 && candidate(&p->g->m[i], p->now) &&
         !prefix_full(p, &p->g->m[i]);
}

/* One random member, kept while it stays a candidate so that the mesh
 * does not churn, but drawn again once the candidates have doubled since
 * (a joiner's first pick, made among a handful, would otherwise stay the
 * bootstrap node for ever). */
static void pick_random(sc_node *node, pick *p) {
  sc_mgroup *g = p->g;
  size_t i, count = 0;
  long kept = -1;
  uint32_t k;
  for (i = 0; i < g->n; i++) {
    if ((g->m[i].chosen & SC_NB_RANDOM) && candidate(&g->m[i], p->now)) {
      kept = (long)i;
    }
    count += (size_t)random_ok(p, i);
  }
  if (kept >= 0 && count < 2 * g->random_pool) {
    mark(p, (size_t)kept, SC_NB_RANDOM);
    return;
  }
  if (count == 0) {
    return;
  }
  g->random_pool = count;
  k = rand_below(node, (uint32_t)count);
  for (i = 0; i < g->n; i++) {
    if (random_ok(p, i) && k-- == 0) {
      mark(p, i, SC_NB_RANDOM);
      return;
    }
  }
}

static void tell(sc_node *node, sc_mgroup *g, sc_member *m, uint64_t now) {
  sc_neighbor_msg nb;
  uint8_t body[SC_GROUP_ID_LEN + 1];
  sc_session *s = sc_node_session(node, m->sid);
  sc_wr w;
  uint8_t chosen = m->chosen != 0;
  if (s == NULL || m->told == chosen) {
    return;
  }
  memcpy(nb.group_id, g->spec.id, SC_GROUP_ID_LEN);
  nb.chosen = chosen;
  sc_wr_init(&w, body, sizeof(body));
  send_msg(s, SC_MSG_NEIGHBOR, &w, sc_neighbor_write(&w, &nb), now);
  m->told = chosen;
}

static void connect_member(sc_node *node, sc_mgroup *g, sc_member *m,
                           uint64_t now) {
  uint32_t sid = 0;
  if (sc_node_session_with(node, m->peer_id) != NULL ||
      sc_node_connect_peer(node, &m->addr, m->peer_id, now, &sid) != 0) {
    return;
  }
  m->csid = sid;
  m->connect_at = now;
  m->introduced = 0;
  g->st.connects++;
}

/* §11.3.5: a direct attempt that has not come up within INTRO_AFTER asks
 * the member that told us about the peer to introduce us, so that both
 * sides send at once and open their NAT mappings. */
static void introduce(sc_node *node, sc_member *m, uint64_t now) {
  sc_session *via = m->via ? sc_node_session(node, m->via) : NULL;
  sc_intro_msg q;
  uint8_t body[SC_PEER_ID_LEN];
  sc_wr w;
  m->introduced = 1;
  if (via == NULL || !sc_session_is_usable(via)) {
    return;
  }
  memcpy(q.peer_id, m->peer_id, SC_PEER_ID_LEN);
  sc_wr_init(&w, body, sizeof(body));
  send_msg(via, SC_MSG_INTRODUCE_REQUEST, &w, sc_intro_request_write(&w, &q),
           now);
}

/* Two members that choose each other would both connect and then drop one
 * of the crossing sessions: the one with the greater peer ID gives the
 * other CROSS_DELAY to connect first. */
static int may_connect(const sc_node *node, sc_member *m, uint64_t now) {
  if (memcmp(node->peer_id, m->peer_id, SC_PEER_ID_LEN) < 0) {
    return 1;
  }
  if (m->wanted_at == 0) {
    m->wanted_at = now;
  }
  return now - m->wanted_at >= CROSS_DELAY;
}

/* §11.4: tries to reach one member whose link died of silence in the last
 * LOST_KEEP. Each side of a cut between networks stays joined through its
 * own members, rests its bootstrap peers, and forgets the other side's
 * members once nothing is heard of them: without this, the mesh would
 * stay split after the cut heals. One link across is enough: its reports
 * bring the ring neighbours on the other side. */
static int lost_ok(const sc_member *m, uint64_t now) {
  return m->lost_at != 0 && m->sid == 0 && m->csid == 0 && now >= m->retry_at;
}

static void try_lost(sc_node *node, sc_mgroup *g, uint64_t now) {
  size_t i, count = 0;
  uint32_t k;
  g->next_lost = now + LOST_EVERY;
  for (i = 0; i < g->n; i++) {
    count += (size_t)lost_ok(&g->m[i], now);
  }
  if (count == 0 || node->closing) {
    return;
  }
  k = rand_below(node, (uint32_t)count);
  for (i = 0; i < g->n; i++) {
    if (lost_ok(&g->m[i], now) && k-- == 0) {
      connect_member(node, g, &g->m[i], now);
      return;
    }
  }
}

static void rebuild(sc_node *node, sc_mgroup *g, uint64_t now) {
  uint8_t bits[SC_MESH_TABLE_MAX];
  pick p = {g, bits, now, {0}, 0};
  unsigned k, nk;
  size_t i, connects = 0;
  maintain(node, g, now);
  estimate(g, now);
  memset(bits, 0, g->n);
  pick_ring(&p, 0, RING_SIDE);
  pick_ring(&p, 1, RING_SIDE);
  nk = lookups(g);
  for (k = 1; k <= nk; k++) {
    sc_ring_addr off;
    sc_ring_offset(&off, &g->self, k);
    pick_near(&p, &off, SC_NB_LOOKUP);
  }
  pick_latency(node, &p, LATENCY_NB);
  pick_random(node, &p);
  g->target = 2 * RING_SIDE + nk + LATENCY_NB + 1;
  for (i = 0; i < g->n; i++) {
    sc_member *m = &g->m[i];
    m->chosen = bits[i];
    if (m->sid != 0) {
      tell(node, g, m, now);
    } else if (!m->chosen) {
      m->wanted_at = 0;
    } else if (m->csid == 0 && !node->closing &&
               connects < CONNECTS_PER_REBUILD && may_connect(node, m, now)) {
      connect_member(node, g, m, now);
      connects++;
    }
  }
  g->dirty = 0;
  g->next_rebuild = now + REBUILD_SLOW;
  enforce_quota(node, g, now);
  /* A connection held back by may_connect must not wait for the slow
   * period. */
  for (i = 0; i < g->n; i++) {
    const sc_member *m = &g->m[i];
    if (m->chosen && m->wanted_at != 0 && m->csid == 0 && m->sid == 0) {
      uint64_t due = m->wanted_at + CROSS_DELAY;
      g->next_rebuild =
          SC_MIN(g->next_rebuild, due > now ? due : now + REBUILD_FAST);
    }
  }
}

/* ---- timers --------------------------------------------------------------
 */

static void report_all(sc_node *node, sc_mgroup *g, uint64_t now) {
  size_t i;
  for (i = 0; i < g->n; i++) {
    sc_session *s = g->m[i].sid ? sc_node_session(node, g->m[i].sid) : NULL;
    if (s != NULL && sc_session_is_usable(s)) {
      report_link(g, &g->m[i], s, now, 0);
    }
  }
}

/* Makes |s| send a PING (§6.3.1) now, which the peer acknowledges at once.
 * The session layer has no call for this yet: its own keepalive (§8) only
 * fires after 10 s, so the mesh asks for the PING the way that keepalive
 * does. */
/* §11.4, liveness: a member link that has sent nothing for BEAT sends a
 * PING, whose immediate ACK keeps the other direction alive too; a link
 * silent for NB_DEAD has the group rebuilt at once, which closes it. */
static void beat(sc_node *node, sc_mgroup *g, uint64_t now) {
  size_t i;
  for (i = 0; i < g->n; i++) {
    sc_session *s = g->m[i].sid ? sc_node_session(node, g->m[i].sid) : NULL;
    if (s == NULL || !sc_session_is_usable(s)) {
      continue;
    }
    if (now - s->last_recv > NB_DEAD) {
      g->dirty = 1;
    } else if (now - s->last_send >= BEAT) {
      sc_session_ping(s, now);
    }
  }
}

/* A session is needed while some group has a neighbour on it (§11.4), or
 * while it is young, or while it serves a bootstrap peer and the node has
 * not joined its groups yet. */
static int neighbor_anywhere(const sc_node *node, uint32_t sid) {
  size_t i, j;
  for (i = 0; i < node->mesh.ngroups; i++) {
    const sc_mgroup *g = node->mesh.groups[i];
    for (j = 0; j < g->n; j++) {
      if (g->m[j].sid == sid && (g->m[j].chosen || g->m[j].peer_chose)) {
        return 1;
      }
    }
  }
  return 0;
}

static int session_needed(const sc_node *node, const sc_session *s,
                          uint64_t now) {
  return now - s->established_at < SHED_GRACE ||
         (sc_node_is_target(node, s->local_sid) && !sc_mesh_is_joined(node)) ||
         neighbor_anywhere(node, s->local_sid);
}

static int chosen_anywhere(const sc_node *node, uint32_t sid) {
  size_t i, j;
  for (i = 0; i < node->mesh.ngroups; i++) {
    const sc_mgroup *g = node->mesh.groups[i];
    for (j = 0; j < g->n; j++) {
      if (g->m[j].sid == sid && g->m[j].chosen) {
        return 1;
      }
    }
  }
  return 0;
}

/* §11.5: links the peer chose and this node did not may be at most as many
 * as the neighbours this node chooses itself; the newest beyond that are
 * closed, so that no crowd of strangers can fill a node's links. */
static void enforce_quota(sc_node *node, sc_mgroup *g, uint64_t now) {
  for (;;) {
    size_t i, accepted = 0;
    long newest = -1;
    for (i = 0; i < g->n; i++) {
      const sc_member *m = &g->m[i];
      if (m->sid == 0 || m->chosen || !m->peer_chose) {
        continue;
      }
      accepted++;
      if (!chosen_anywhere(node, m->sid) &&
          (newest < 0 || m->since > g->m[newest].since)) {
        newest = (long)i;
      }
    }
    if (accepted <= g->target || newest < 0) {
      return;
    }
    sc_session_close(sc_node_session(node, g->m[newest].sid), SC_CLOSE_LOCAL,
                     now);
    member_unlink(g, &g->m[newest]);
    g->st.sheds++;
  }
}

static void shed(sc_node *node, uint64_t now) {
  size_t i;
  for (i = 0; i < node->mesh.ngroups; i++) {
    enforce_quota(node, node->mesh.groups[i], now);
  }
  for (i = 0; i < node->nsessions; i++) {
    sc_session *s = node->sessions[i];
    if (sc_session_is_usable(s) && !session_needed(node, s, now)) {
      node->mesh.groups[0]->st.sheds++;
      sc_session_close(s, SC_CLOSE_LOCAL, now);
    }
  }
}

static int has_usable_session(const sc_node *node) {
  size_t i;
  for (i = 0; i < node->nsessions; i++) {
    if (sc_session_is_usable(node->sessions[i])) {
      return 1;
    }
  }
  return 0;
}

/* With no session at all, try the remembered peers a few at a time. */
static void rejoin(sc_node *node, uint64_t now) {
  sc_mesh *mh = &node->mesh;
  size_t k;
  if (mh->nknown == 0 || has_usable_session(node) || now < mh->rejoin_at) {
    return;
  }
  for (k = 0; k < REJOIN_BATCH && k < mh->nknown; k++) {
    const sc_known_peer *p = &mh->known[mh->known_next++ % mh->nknown];
    if (sc_node_session_with(node, p->peer_id) == NULL) {
      sc_node_connect_peer(node, &p->addr, p->peer_id, now, NULL);
    }
  }
  mh->rejoin_at = now + REJOIN_INTERVAL;
}

/* A change is acted on within REBUILD_FAST of the last rebuild; without
 * one the set is reviewed every REBUILD_SLOW. */
static uint64_t rebuild_due(const sc_mgroup *g) {
  uint64_t early = REBUILD_SLOW - REBUILD_FAST;
  if (!g->dirty) {
    return g->next_rebuild;
  }
  return g->next_rebuild > early ? g->next_rebuild - early : 0;
}

/* Spreads reports over time: every node reporting on the same tick would
 * make bursts. */
static uint64_t jittered(sc_node *node, uint64_t interval) {
  uint8_t r[2];
  sc_node_rand(node, r, sizeof(r));
  return interval * 3 / 4 +
         (interval / 2) * ((uint64_t)r[0] << 8 | r[1]) / 65536;
}

void sc_mesh_on_timer(sc_node *node, uint64_t now) {
  sc_mesh *mh = &node->mesh;
  size_t i;
  for (i = 0; i < mh->ngroups; i++) {
    sc_mgroup *g = mh->groups[i];
    if (now >= rebuild_due(g)) {
      rebuild(node, g, now);
    }
    if (now >= g->next_lost) {
      try_lost(node, g, now);
    }
    if (now >= g->next_report) {
      report_all(node, g, now);
      g->next_report = now + jittered(node, REPORT_INTERVAL);
    }
  }
  update_joined(node);
  if (mh->ngroups > 0 && now >= mh->next_sweep) {
    for (i = 0; i < mh->ngroups; i++) {
      beat(node, mh->groups[i], now);
    }
    shed(node, now);
    mh->next_sweep = now + REBUILD_FAST;
    update_joined(node);
  }
  if (!node->closing) {
    rejoin(node, now);
  }
}

uint64_t sc_mesh_deadline(const sc_node *node) {
  const sc_mesh *mh = &node->mesh;
  uint64_t d = UINT64_MAX;
  size_t i;
  for (i = 0; i < mh->ngroups; i++) {
    const sc_mgroup *g = mh->groups[i];
    d = SC_MIN(d, SC_MIN(rebuild_due(g), g->next_report));
    d = SC_MIN(d, g->next_lost);
  }
  if (mh->ngroups > 0) {
    d = SC_MIN(d, mh->next_sweep);
  }
  if (mh->nknown > 0 && !has_usable_session(node)) {
    d = SC_MIN(d, mh->rejoin_at);
  }
  return d;
}

/* Whether every group has a neighbour: scanned only where links or
 * choices change, and cached, because the node asks after every datagram. */
static int joined_now(const sc_node *node) {
  size_t i, j;
  if (node->mesh.ngroups == 0) {
    return 0;
  }
  for (i = 0; i < node->mesh.ngroups; i++) {
    const sc_mgroup *g = node->mesh.groups[i];
    int ok = 0;
    for (j = 0; j < g->n && !ok; j++) {
      ok = g->m[j].sid != 0 && (g->m[j].chosen || g->m[j].peer_chose);
    }
    if (!ok) {
      return 0;
    }
  }
  return 1;
}

static void update_joined(sc_node *node) {
  node->mesh.joined = joined_now(node);
}

int sc_mesh_is_joined(const sc_node *node) { return node->mesh.joined; }

/* ---- the public face -----------------------------------------------------
 */

int sc_node_join_group(sc_node *node, const char *spec, uint64_t now) {
  sc_mesh *mh = &node->mesh;
  sc_mgroup *g;
  sc_group_spec gs;
  size_t i;
  if (node->closing) {
    return SC_ERR_CLOSED;
  }
  if (spec == NULL || sc_group_spec_parse(&gs, spec) != 0) {
    return SC_ERR_MALFORMED;
  }
  if (sc_mesh_group(node, gs.id) != NULL) {
    return SC_ERR_STATE;
  }
  if (mh->ngroups == SC_MESH_MAX_GROUPS) {
    return SC_ERR_LIMIT;
  }
  g = sc_mem_calloc(node->mem, 1, sizeof(*g));
  if (g == NULL) {
    return SC_ERR_NOMEM;
  }
  g->spec = gs;
  sc_group_address(&g->self, gs.id, node->peer_id);
  g->self64 = sc_ring_top64(&g->self);
  g->estimate = 1;
  g->next_rebuild = now;
  g->next_lost = now + jittered(node, LOST_EVERY);
  g->next_report = now + jittered(node, REPORT_INTERVAL);
  mh->groups[mh->ngroups++] = g;
  mh->next_sweep = now + REBUILD_FAST;
  for (i = 0; i < node->nsessions; i++) {
    if (sc_session_is_usable(node->sessions[i])) {
      send_hello(node, g, node->sessions[i], 0, now);
    }
  }
  update_joined(node);
  sc_node_refresh_expiry(node);
  return (int)(mh->ngroups - 1);
}

int sc_mesh_group_of(sc_node *node, const char *spec, unsigned feature,
                     sc_mgroup **g) {
  sc_group_spec gs;
  if (spec == NULL || sc_group_spec_parse(&gs, spec) != 0) {
    return SC_ERR_MALFORMED;
  }
  *g = sc_mesh_group(node, gs.id);
  if (*g == NULL) {
    return SC_ERR_NOT_FOUND;
  }
  return ((*g)->spec.features & feature) ? 0 : SC_ERR_STATE;
}

/* Frees a group and the state of every feature it holds. */
static void group_free(sc_node *node, sc_mgroup *g) {
  sc_mem_free(node->mem, g->m);
  sc_mem_free(node->mem, g->links);
  sc_post_group_free(node, g->post);
  sc_route_group_free(node, g->route);
  sc_repl_group_free(node, g->repl);
  sc_mem_free(node->mem, g);
}

/* Each member link of |g|, which the node has just left, hears so; one
 * that no other group has as a neighbour, and that serves no bootstrap
 * peer, is closed at once: the sweep does not run without groups. */
static void leave_links(sc_node *node, sc_mgroup *g, uint64_t now) {
  size_t i;
  for (i = 0; i < g->n; i++) {
    sc_session *s = g->m[i].sid ? sc_node_session(node, g->m[i].sid) : NULL;
    if (s == NULL || !sc_session_is_usable(s)) {
      continue;
    }
    if (neighbor_anywhere(node, s->local_sid) ||
        sc_node_is_target(node, s->local_sid)) {
      send_hello(node, g, s, 1, now);
    } else {
      sc_session_close(s, SC_CLOSE_LOCAL, now);
    }
  }
}

int sc_node_leave_group(sc_node *node, const char *spec, uint64_t now) {
  sc_mesh *mh = &node->mesh;
  sc_group_spec gs;
  sc_mgroup *g;
  size_t k;
  if (spec == NULL || sc_group_spec_parse(&gs, spec) != 0) {
    return SC_ERR_MALFORMED;
  }
  for (k = 0; k < mh->ngroups; k++) {
    if (memcmp(mh->groups[k]->spec.id, gs.id, SC_GROUP_ID_LEN) == 0) {
      break;
    }
  }
  if (k == mh->ngroups) {
    return SC_ERR_NOT_FOUND;
  }
  /* Out of the list first: what the other groups need is judged without
   * it, and the session hooks no longer see it. */
  g = mh->groups[k];
  memmove(&mh->groups[k], &mh->groups[k + 1],
          (mh->ngroups - k - 1) * sizeof(mh->groups[0]));
  mh->groups[--mh->ngroups] = NULL;
  leave_links(node, g, now);
  sc_mcast_group_gone(node, g);
  group_free(node, g);
  update_joined(node);
  sc_node_refresh_expiry(node);
  return 0;
}

void sc_mesh_free(sc_node *node) {
  size_t i;
  for (i = 0; i < node->mesh.ngroups; i++) {
    group_free(node, node->mesh.groups[i]);
  }
  node->mesh.ngroups = 0;
}

static size_t neighbor_count(const sc_mgroup *g) {
  size_t i, n = 0;
  for (i = 0; i < g->n; i++) {
    n += g->m[i].sid != 0 && (g->m[i].chosen || g->m[i].peer_chose);
  }
  return n;
}

size_t sc_node_groups(const sc_node *node, sc_group_info *out, size_t cap) {
  size_t i;
  for (i = 0; i < node->mesh.ngroups && i < cap; i++) {
    const sc_mgroup *g = node->mesh.groups[i];
    sc_group_info *o = &out[i];
    memset(o, 0, sizeof(*o));
    memcpy(o->group_id, g->spec.id, SC_GROUP_ID_LEN);
    memcpy(o->address, g->self.b, SC_RING_LEN);
    o->features = g->spec.features;
    o->has_secret = g->spec.has_secret;
    o->members_known = (uint32_t)g->n;
    o->estimated_members = g->estimate;
    o->neighbors = (uint32_t)neighbor_count(g);
    o->target = g->target;
    o->stats = g->st;
  }
  return node->mesh.ngroups;
}

static void neighbor_info(const sc_node *node, const sc_mgroup *g,
                          const sc_member *m, sc_neighbor_info *o) {
  sc_ring_addr d;
  memset(o, 0, sizeof(*o));
  memcpy(o->peer_id, m->peer_id, SC_PEER_ID_LEN);
  memcpy(o->address, m->gaddr.b, SC_RING_LEN);
  sc_ring_distance(&d, &g->self, &m->gaddr);
  memcpy(o->distance, d.b, SC_RING_LEN);
  o->addr = m->addr;
  o->reasons = m->chosen | (m->peer_chose ? SC_NB_ACCEPTED : 0);
  o->rtt_ns = link_rtt(node, m) == UINT64_MAX ? 0 : link_rtt(node, m);
  o->since = m->since;
}

size_t sc_node_neighbors(const sc_node *node, size_t index,
                         sc_neighbor_info *out, size_t cap) {
  const sc_mgroup *g;
  size_t i, n = 0;
  if (index >= node->mesh.ngroups) {
    return 0;
  }
  g = node->mesh.groups[index];
  for (i = 0; i < g->n; i++) {
    const sc_member *m = &g->m[i];
    size_t j;
    if (m->sid == 0 || !(m->chosen || m->peer_chose)) {
      continue;
    }
    /* Insertion by distance keeps the answer nearest first. */
    j = n < cap ? n : cap;
    if (j < cap) {
      sc_neighbor_info tmp;
      neighbor_info(node, g, m, &tmp);
      while (j > 0 &&
             memcmp(out[j - 1].distance, tmp.distance, SC_RING_LEN) > 0) {
        out[j] = out[j - 1];
        j--;
      }
      out[j] = tmp;
    }
    n++;
  }
  return n;
}

int sc_node_remember(sc_node *node, const sc_known_peer *p, uint64_t now) {
  sc_mesh *mh = &node->mesh;
  size_t i;
  (void)now;
  if (!addr_ok(&p->addr) ||
      memcmp(p->peer_id, node->peer_id, SC_PEER_ID_LEN) == 0) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < mh->nknown; i++) {
    if (memcmp(mh->known[i].peer_id, p->peer_id, SC_PEER_ID_LEN) == 0) {
      mh->known[i] = *p;
      return 0;
    }
  }
  if (mh->nknown == SC_MESH_KNOWN_MAX) {
    return SC_ERR_LIMIT;
  }
  /* Best score first, then lowest RTT (0: unknown, last). */
  i = mh->nknown++;
  while (i > 0 && (mh->known[i - 1].score_permille < p->score_permille ||
                   (mh->known[i - 1].score_permille == p->score_permille &&
                    p->rtt_ns != 0 &&
                    (mh->known[i - 1].rtt_ns == 0 ||
                     mh->known[i - 1].rtt_ns > p->rtt_ns)))) {
    mh->known[i] = mh->known[i - 1];
    i--;
  }
  mh->known[i] = *p;
  sc_node_refresh_expiry(node);
  return 0;
}
