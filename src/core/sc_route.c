/*
 * sc_route.c: directed routing (sc_route.h, doc/protocol.md §14.2).
 *
 * A ROUTE goes to the member link nearest its target (§11.2 ordering), if
 * that link is nearer the target than this node; otherwise it stops here
 * and is delivered if this node's receive mode takes it. Each receiver
 * checks that it is strictly nearer the target than the member link the
 * message came from (whose address it knows from the link's proved peer
 * ID, not from the message), so every hop shrinks the distance and no
 * message can visit a node twice, whatever a forger writes; the hop limit
 * is a second guard. Per member link a token bucket bounds what a
 * neighbour may make this node receive and hand on.
 */
#include "sc_route.h"

#include <string.h>

#include "sc_bucket.h"
#include "sc_macro.h"
#include "sc_mem.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_routemsg.h"
#include "sc_session.h"

#define RATE 200                 /* ROUTEs a member link may bring a second */
#define BURST 400                /* ... and at once */
#define LINK_SETTLE (5 * SC_SEC) /* a neighbour link this old is preferred */

struct sc_rgroup {
  int mode;        /* enum sc_receive_mode */
  sc_budgets link; /* what each member link may bring */
};

void sc_route_group_free(sc_node *node, sc_rgroup *rg) {
  if (rg != NULL) {
    sc_budgets_free(node, &rg->link);
    sc_mem_free(node->mem, rg);
  }
}

/* |g|'s routing state, made on first use (the mode EXACT); NULL without
 * memory. */
static sc_rgroup *rgroup(sc_node *node, sc_mgroup *g) {
  if (g->route == NULL) {
    g->route = sc_mem_calloc(node->mem, 1, sizeof(*g->route));
    if (g->route != NULL) {
      g->route->mode = SC_RECEIVE_EXACT;
    }
  }
  return g->route;
}

/* ---- choosing and sending
 * -----------------------------------------------------
 */

/* Whether |m| is a settled link: a neighbour (either end chose it, §11.4)
 * up for LINK_SETTLE. A link neither end chose is about to be shed, and a
 * young one may yet be closed by the peer's caps (§11.5); either takes
 * with it what is on its way. */
static int is_settled(const sc_member *m, uint64_t now) {
  return (m->chosen || m->peer_chose) && now - m->since >= LINK_SETTLE;
}

/* The usable member link of |g| nearest |t| and strictly nearer it than
 * this node, among the settled ones only if |settled|; or NULL. */
static sc_member *nearest_link(sc_node *node, sc_mgroup *g,
                               const sc_ring_addr *t, int settled,
                               uint64_t now) {
  const sc_ring_addr *best = &g->self;
  sc_member *pick = NULL;
  size_t i;
  for (i = 0; i < g->n; i++) {
    sc_member *m = &g->m[i];
    sc_session *s;
    if (m->sid == 0 || (settled && !is_settled(m, now)) ||
        !sc_ring_closer(t, &m->gaddr, best) ||
        (s = sc_node_session(node, m->sid)) == NULL ||
        !sc_session_is_usable(s)) {
      continue;
    }
    best = &m->gaddr;
    pick = m;
  }
  return pick;
}

/* §14.2: the next hop toward |t|, a settled link if one is nearer than
 * this node, else any member link nearer; NULL when none is: then this
 * node is where a message to |t| stops. */
static sc_member *next_hop(sc_node *node, sc_mgroup *g, const sc_ring_addr *t,
                           uint64_t now) {
  sc_member *m = nearest_link(node, g, t, 1, now);
  return m != NULL ? m : nearest_link(node, g, t, 0, now);
}

/* The usable member link of |g| nearest this node going up (clockwise) or
 * down the ring, or NULL. */
static sc_member *ring_next(sc_node *node, sc_mgroup *g, int dir) {
  sc_ring_addr best, d;
  sc_member *pick = NULL;
  size_t i;
  for (i = 0; i < g->n; i++) {
    sc_member *m = &g->m[i];
    sc_session *s;
    if (m->sid == 0 || (s = sc_node_session(node, m->sid)) == NULL ||
        !sc_session_is_usable(s)) {
      continue;
    }
    if (dir == SC_ROUTE_UP) {
      sc_ring_sub(&d, &m->gaddr, &g->self);
    } else {
      sc_ring_sub(&d, &g->self, &m->gaddr);
    }
    if (pick == NULL || sc_ring_cmp(&d, &best) < 0) {
      pick = m;
      best = d;
    }
  }
  return pick;
}

/* Sends |m| on |to|'s member link and counts it. Returns 0 or the send's
 * error. */
static int send_route(sc_node *node, sc_mgroup *g, const sc_member *to,
                      const sc_route_msg *m, uint64_t now) {
  sc_session *s = sc_node_session(node, to->sid);
  uint8_t body[SC_ROUTE_FIXED_LEN + SC_ROUTE_MAX];
  sc_wr w;
  int rv;
  if (s == NULL) {
    return SC_ERR_STATE;
  }
  sc_wr_init(&w, body, sizeof(body));
  if ((rv = sc_route_write(&w, m)) != 0 ||
      (rv = sc_session_send_msg(s, SC_MSG_ROUTE, body, w.len, now)) != 0) {
    return rv;
  }

  g->st.routes_forwarded++;
  g->st.route_bytes_sent += sc_varint_len(SC_MSG_ROUTE) + w.len;
  return 0;
}

/* ---- delivering
 * ---------------------------------------------------------------
 */

static void deliver(sc_node *node, sc_mgroup *g, const sc_route_msg *m,
                    unsigned hops) {
  sc_route_event ev;
  g->st.routes_received++;
  if (node->cb.routed == NULL) {
    return;
  }
  memcpy(ev.group_id, m->group_id, SC_GROUP_ID_BYTES);
  memcpy(ev.origin, m->origin, SC_PEER_ID_LEN);
  memcpy(ev.target, m->target.b, SC_GROUP_ADDR_BYTES);
  ev.hops = hops;
  ev.data = m->payload;
  ev.len = m->len;
  node->cb.routed(node->user, &ev);
}

/* |m| (having crossed m->hops links) stops at this node: delivered if the
 * receive mode takes it, else dropped and counted. */
static void stop_here(sc_node *node, sc_mgroup *g, const sc_route_msg *m) {
  int mode = g->route != NULL ? g->route->mode : SC_RECEIVE_EXACT;
  if (mode == SC_RECEIVE_NEAREST || sc_ring_cmp(&m->target, &g->self) == 0) {
    deliver(node, g, m, m->hops);
  } else {
    g->st.routes_dropped++;
  }
}

/* Hands |m| on toward its target, or stops it here. |m->hops| counts the
 * links crossed so far. Returns 0 or a send error (counted as a drop). */
static int route_on(sc_node *node, sc_mgroup *g, sc_route_msg *m,
                    uint64_t now) {
  sc_member *next = next_hop(node, g, &m->target, now);
  int rv;
  if (next == NULL) {
    stop_here(node, g, m);
    return 0;
  }
  if (m->hops >= SC_ROUTE_HOPS_MAX) {
    g->st.routes_dropped++;
    return 0;
  }
  m->hops++;
  if ((rv = send_route(node, g, next, m, now)) != 0) {
    g->st.routes_dropped++;
  }
  return rv;
}

static void on_route(sc_node *node, sc_session *s, const uint8_t *body,
                     size_t len, uint64_t now) {
  sc_route_msg m;
  sc_mgroup *g;
  sc_member *from;
  sc_rgroup *rg;
  if (sc_route_read(&m, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  /* §14: only on a member link of a joined group. */
  if ((g = sc_mesh_group(node, m.group_id)) == NULL) {
    return;
  }
  g->st.route_bytes_received += sc_varint_len(SC_MSG_ROUTE) + len;
  if ((from = sc_mesh_member_link(g, s->local_sid)) == NULL) {
    g->st.routes_dropped++;
    return;
  }
  if (!(g->spec.features & SC_GROUP_ROUTING)) {
    g->st.routes_refused++;
    return;
  }
  if ((rg = rgroup(node, g)) == NULL ||
      !sc_budgets_take(node, g, &rg->link, s->local_sid, RATE, BURST, now)) {
    g->st.routes_dropped++;
    return;
  }
  if (m.flags & SC_ROUTE_F_NEIGHBOR) {
    /* §14.2: for this node only, and only if it is the target named. */
    if (sc_ring_cmp(&m.target, &g->self) == 0) {
      deliver(node, g, &m, m.hops);
    } else {
      g->st.routes_dropped++;
    }
    return;
  }
  /* §14.2: every hop strictly nearer the target; a message that is not
   * (misrouted, or forged to circle) goes no further. */
  if (!sc_ring_closer(&m.target, &g->self, &from->gaddr)) {
    g->st.routes_dropped++;
    return;
  }
  (void)route_on(node, g, &m, now);
}

int sc_route_on_message(sc_node *node, sc_session *s, uint64_t kind,
                        const uint8_t *body, size_t len, uint64_t now) {
  if (kind != SC_MSG_ROUTE) {
    return 0;
  }
  on_route(node, s, body, len, now);
  return 1;
}

/* ---- the API
 * ------------------------------------------------------------------
 */

int sc_node_set_receive_mode(sc_node *node, const char *group, int mode) {
  sc_mgroup *g;
  sc_rgroup *rg;
  int rv;
  if (mode != SC_RECEIVE_EXACT && mode != SC_RECEIVE_NEAREST) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = sc_mesh_group_of(node, group, SC_GROUP_ROUTING, &g)) != 0) {
    return rv;
  }
  if ((rg = rgroup(node, g)) == NULL) {
    return SC_ERR_NOMEM;
  }
  rg->mode = mode;
  return 0;
}

/* Checks the arguments common to both ways of sending and finds the
 * group; fills the message's fixed fields but the target. */
static int start(sc_node *node, const char *group, const uint8_t *data,
                 size_t len, sc_mgroup **g, sc_route_msg *m) {
  int rv;
  if (len > SC_ROUTE_MAX || (len > 0 && data == NULL)) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = sc_mesh_group_of(node, group, SC_GROUP_ROUTING, g)) != 0) {
    return rv;
  }
  memset(m, 0, sizeof(*m));
  memcpy(m->group_id, (*g)->spec.id, SC_GROUP_ID_LEN);
  memcpy(m->origin, node->peer_id, SC_PEER_ID_LEN);
  m->payload = data;
  m->len = len;
  return 0;
}

int sc_node_route(sc_node *node, const char *group,
                  const uint8_t target[SC_GROUP_ADDR_BYTES],
                  const uint8_t *data, size_t len, uint64_t now) {
  sc_mgroup *g;
  sc_route_msg m;
  int rv;
  if (target == NULL) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = start(node, group, data, len, &g, &m)) != 0) {
    return rv;
  }
  memcpy(m.target.b, target, SC_RING_LEN);
  g->st.routes_sent++;
  rv = route_on(node, g, &m, now);
  sc_node_refresh_expiry(node);
  return rv;
}

int sc_node_route_neighbor(sc_node *node, const char *group, int dir,
                           const uint8_t *data, size_t len, uint64_t now) {
  sc_mgroup *g;
  sc_member *to;
  sc_route_msg m;
  int rv;
  if (dir != SC_ROUTE_UP && dir != SC_ROUTE_DOWN) {
    return SC_ERR_INVALID_ARG;
  }
  if ((rv = start(node, group, data, len, &g, &m)) != 0) {
    return rv;
  }
  if ((to = ring_next(node, g, dir)) == NULL) {
    return SC_ERR_NOT_FOUND;
  }
  m.target = to->gaddr;
  m.hops = 1;
  m.flags = SC_ROUTE_F_NEIGHBOR;
  g->st.routes_sent++;
  if ((rv = send_route(node, g, to, &m, now)) != 0) {
    g->st.routes_dropped++;
  }
  sc_node_refresh_expiry(node);
  return rv;
}
