/*
 * sim_route.c: the scenario's routed messages (`route` statements), in
 * virtual time, checked against the truth only the simulator knows.
 *
 * With a route statement every node puts the first group in nearest mode
 * at each start. `route COUNT [over TIME] [nodes SET]` sends COUNT routed
 * messages (sc_node_route), spread evenly over TIME (all at once without
 * it), each from a live member of SET drawn at random to a random 256-bit
 * address. At each send the simulator notes the live member nearest the
 * address, from every live member's address, and the number of live
 * members N. Each message names its trial in its payload, so the routed
 * callback can tell whether it arrived, once, at that member, and within
 * ceil(log2 N) + 2 hops.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sc_ring.h"
#include "sim_int.h"

/* A random stream of the run's seed (sim_world.c, sim_mesh.c and
 * sim_stream.c use others). */
#define STREAM_ROUTE 0x6000000000000000ULL
#define MAGIC 0x524f5554u /* "ROUT": the payload's first four bytes */
#define HOPS_CAP 64       /* hop counts tallied one by one below this */

typedef struct trial {
  uint32_t from, nearest; /* node indices */
  uint32_t members;       /* live members when it was sent */
  uint32_t bound;         /* ceil(log2 members) + 2 */
  uint32_t delivered;     /* times the routed callback had it */
} trial;

typedef struct member {
  sc_ring_addr addr;
  uint32_t node;
} member;

struct sim_routing {
  sim_rng rng;
  trial *t;
  size_t nt, cap;
  member *m; /* the live members, sorted by address, as of |m_at| */
  uint32_t nm;
  uint64_t m_at;
  uint64_t statements, refused, delivered, at_nearest, duplicates, strays;
  uint64_t over_bound, mode_errors, hop_bound_max;
  uint64_t hops[HOPS_CAP + 1]; /* the last one: HOPS_CAP or more */
  int first_error;             /* the core's first refusal, 0: none */
};

int sim_route_new(sim *s, char *err, size_t errlen) {
  struct sim_routing *r;
  if (sim_config_first(s->cfg, SIM_ACT_ROUTE) == NULL)
    return 0;
  if ((r = calloc(1, sizeof(*r))) == NULL ||
      (r->m = malloc((s->n ? s->n : 1) * sizeof(*r->m))) == NULL) {
    free(r);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  sim_rng_seed(&r->rng, s->cfg->seed, STREAM_ROUTE);
  r->m_at = SIM_NONE;
  s->route = r;
  return 0;
}

void sim_route_del(struct sim_routing *r) {
  if (r == NULL)
    return;
  free(r->t);
  free(r->m);
  free(r);
}

void sim_route_node_up(sim *s, sim_node *nd) {
  if (sc_node_set_receive_mode(nd->core, s->cfg->groups[0],
                               SC_RECEIVE_NEAREST) != 0)
    s->route->mode_errors++;
}

/* ---- the truth ----------------------------------------------------------- */

static int by_addr(const void *a, const void *b) {
  return sc_ring_cmp(&((const member *)a)->addr, &((const member *)b)->addr);
}

/* Collects the live members of the first group, sorted, once per instant. */
static void collect(sim *s) {
  struct sim_routing *r = s->route;
  if (r->m_at == s->now)
    return;
  r->nm = 0;
  for (uint32_t i = 0; i < s->n; i++) {
    const sim_node *nd = &s->nodes[i];
    sc_group_info gi;
    if (nd->state != SIM_NODE_UP || nd->core == NULL ||
        sc_node_groups(nd->core, &gi, 1) < 1)
      continue;
    memcpy(r->m[r->nm].addr.b, gi.address, SC_RING_LEN);
    r->m[r->nm++].node = i;
  }
  qsort(r->m, r->nm, sizeof(*r->m), by_addr);
  r->m_at = s->now;
}

/* The live member nearest |t|: the better of the two around where |t|
 * would be inserted. */
static uint32_t true_nearest(const struct sim_routing *r,
                             const sc_ring_addr *t) {
  uint32_t lo = 0, hi = r->nm;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (sc_ring_cmp(&r->m[mid].addr, t) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  uint32_t a = lo % r->nm, b = (lo + r->nm - 1) % r->nm;
  return sc_ring_closer(t, &r->m[a].addr, &r->m[b].addr) ? r->m[a].node
                                                         : r->m[b].node;
}

static uint32_t hop_bound(uint32_t n) {
  uint32_t b = 0;
  while (b < 32 && (1u << b) < n)
    b++;
  return b + 2;
}

/* ---- sending ------------------------------------------------------------- */

/* A live member of |set| drawn at random, or UINT32_MAX. */
static uint32_t pick_sender(sim *s, const sim_set *set) {
  struct sim_routing *r = s->route;
  uint32_t cand = 0;
  for (uint32_t k = 0; k < r->nm; k++)
    cand += (uint32_t)sim_set_has(set, r->m[k].node);
  if (cand == 0)
    return UINT32_MAX;
  uint64_t pick = sim_rng_below(&r->rng, cand);
  for (uint32_t k = 0; k < r->nm; k++)
    if (sim_set_has(set, r->m[k].node) && pick-- == 0)
      return r->m[k].node;
  return UINT32_MAX;
}

static int grow(struct sim_routing *r) {
  if (r->nt < r->cap)
    return 0;
  size_t cap = r->cap ? 2 * r->cap : 1024;
  trial *t = realloc(r->t, cap * sizeof(*t));
  if (t == NULL)
    return -1;
  r->t = t;
  r->cap = cap;
  return 0;
}

/* Sends one message of statement |a|. */
static void send_one(sim *s, const sim_action *a) {
  struct sim_routing *r = s->route;
  collect(s);
  uint32_t from = pick_sender(s, &a->set);
  if (from == UINT32_MAX) {
    r->refused++;
    return;
  }
  if (grow(r) != 0) {
    s->oom = 1;
    return;
  }
  sc_ring_addr target;
  sim_rng_bytes(&r->rng, target.b, SC_RING_LEN);
  /* Recorded before sending: a message that stops at its sender is
   * delivered inside the call. */
  trial *t = &r->t[r->nt];
  t->from = from;
  t->nearest = true_nearest(r, &target);
  t->members = r->nm;
  t->bound = hop_bound(r->nm);
  t->delivered = 0;
  uint8_t payload[8];
  uint32_t id = (uint32_t)r->nt, magic = MAGIC;
  memcpy(payload, &magic, 4);
  memcpy(payload + 4, &id, 4);
  sim_node *nd = &s->nodes[from];
  r->nt++;
  int rv = sc_node_route(nd->core, s->cfg->groups[0], target.b, payload,
                         sizeof(payload), s->now);
  if (rv != 0) {
    r->nt--;
    r->refused++;
    if (r->first_error == 0)
      r->first_error = rv;
    if (rv == SC_ERR_NOMEM)
      s->oom = 1;
  }
  sim_after_activity(s, nd);
}

void sim_route_action(sim *s, const sim_action *a) {
  s->route->statements++;
  if (a->span == 0) {
    for (uint64_t k = 0; k < a->count && !s->oom; k++)
      send_one(s, a);
    return;
  }
  /* Evenly over [at, at + span): message k at at + k * span / count. */
  for (uint64_t k = 0; k < a->count; k++)
    sim_push(s, s->now + sim_mul_div(k, a->span, a->count, 0), EV_ROUTE, 0,
             (void *)(uintptr_t)a);
}

void sim_route_event(sim *s, const sim_event *e) {
  if (s->route != NULL)
    send_one(s, (const sim_action *)e->ptr);
}

/* ---- receiving ----------------------------------------------------------- */

void sim_route_on_routed(void *user, const sc_route_event *ev) {
  sim_node *nd = user;
  struct sim_routing *r = nd->sim->route;
  uint32_t id, magic;
  if (r == NULL || ev->len != 8) {
    if (r != NULL)
      r->strays++;
    return;
  }
  memcpy(&magic, ev->data, 4);
  memcpy(&id, ev->data + 4, 4);
  if (magic != MAGIC || id >= r->nt) {
    r->strays++;
    return;
  }
  trial *t = &r->t[id];
  if (t->delivered++ > 0) {
    r->duplicates++;
    return;
  }
  r->delivered++;
  r->at_nearest += nd->index == t->nearest;
  r->over_bound += ev->hops > t->bound;
  r->hops[ev->hops < HOPS_CAP ? ev->hops : HOPS_CAP]++;
}

/* ---- the report ---------------------------------------------------------- */

/* The |q| quantile of the hop counts delivered (the ceil(q n)-th lowest). */
static uint64_t hops_q(const struct sim_routing *r, double q) {
  uint64_t need = (uint64_t)((double)r->delivered * q + 0.999999), seen = 0;
  for (uint32_t h = 0; h <= HOPS_CAP; h++) {
    seen += r->hops[h];
    if (seen >= need && seen > 0)
      return h;
  }
  return 0;
}

static uint64_t hops_max(const struct sim_routing *r) {
  for (uint32_t h = HOPS_CAP + 1; h-- > 0;)
    if (r->hops[h] > 0)
      return h;
  return 0;
}

/* The routing counters of every up core's first group. */
static void core_sums(const sim *s, sc_group_stats *sum) {
  memset(sum, 0, sizeof(*sum));
  for (uint32_t i = 0; i < s->n; i++) {
    sc_group_info gi;
    const sim_node *nd = &s->nodes[i];
    if (nd->core == NULL || sc_node_groups(nd->core, &gi, 1) < 1)
      continue;
    sum->routes_forwarded += gi.stats.routes_forwarded;
    sum->routes_dropped += gi.stats.routes_dropped;
    sum->routes_refused += gi.stats.routes_refused;
    sum->route_bytes_sent += gi.stats.route_bytes_sent;
  }
}

int sim_route_report(sc_json *j, const sim *s) {
  const struct sim_routing *r = s->route;
  if (r == NULL)
    return 0;
  uint32_t mmin = UINT32_MAX, mmax = 0, bmax = 0;
  for (size_t k = 0; k < r->nt; k++) {
    mmin = r->t[k].members < mmin ? r->t[k].members : mmin;
    mmax = r->t[k].members > mmax ? r->t[k].members : mmax;
    bmax = r->t[k].bound > bmax ? r->t[k].bound : bmax;
  }
  sc_group_stats sum;
  core_sums(s, &sum);
  sc_json_key(j, "route");
  sc_json_obj_begin(j);
  sim_kv(j, "statements", r->statements);
  sim_kv(j, "sent", r->nt);
  sim_kv(j, "refused", r->refused);
  sc_json_key(j, "first_error");
  if (r->first_error == 0)
    sc_json_null(j);
  else
    sc_json_str(j, sc_strerror(r->first_error));
  sim_kv(j, "mode_errors", r->mode_errors);
  sim_kv(j, "members_min", r->nt ? mmin : 0);
  sim_kv(j, "members_max", mmax);
  sim_kv(j, "delivered", r->delivered);
  sim_kv(j, "delivered_nearest", r->at_nearest);
  sim_kd(j, "nearest_ratio",
         r->nt ? (double)r->at_nearest / (double)r->nt : 0.0);
  sim_kv(j, "duplicates", r->duplicates);
  sim_kv(j, "strays", r->strays);
  sim_kv(j, "hop_bound", bmax);
  sim_kv(j, "over_bound", r->over_bound);
  sim_kv(j, "hops_p50", hops_q(r, 0.5));
  sim_kv(j, "hops_p99", hops_q(r, 0.99));
  sim_kv(j, "hops_max", hops_max(r));
  sim_kv(j, "forwarded", sum.routes_forwarded);
  sim_kv(j, "dropped", sum.routes_dropped);
  sim_kv(j, "route_bytes_sent", sum.route_bytes_sent);
  sc_json_obj_end(j);
  return 0;
}

void sim_route_summary(const sim *s, FILE *f) {
  const struct sim_routing *r = s->route;
  if (r == NULL)
    return;
  uint32_t bmax = 0;
  for (size_t k = 0; k < r->nt; k++)
    bmax = r->t[k].bound > bmax ? r->t[k].bound : bmax;
  fprintf(f,
          "  route: %zu sent, %llu delivered, %llu at the nearest member; "
          "hops p50 %llu p99 %llu max %llu (bound %u, %llu over)\n",
          r->nt, (unsigned long long)r->delivered,
          (unsigned long long)r->at_nearest, (unsigned long long)hops_q(r, 0.5),
          (unsigned long long)hops_q(r, 0.99), (unsigned long long)hops_max(r),
          bmax, (unsigned long long)r->over_bound);
}
