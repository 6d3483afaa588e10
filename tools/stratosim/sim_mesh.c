/*
 * sim_mesh.c: the report's "mesh" section, measured from outside.
 *
 * With a group in the scenario, the simulator looks at every up node's
 * view of the first group (its address, estimate, target and neighbours,
 * through the public API) and checks it against the truth only it knows:
 *   - ring: are the true nearest live members on both sides neighbours?
 *   - estimate: how far is each node's member-count estimate from the
 *     number of live members?
 *   - routing: greedy forwarding over neighbour links toward random
 *     addresses: does it end at the member nearest the address, and in how
 *     many hops?
 *   - components: is the neighbour graph one connected component?
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sc_ring.h"
#include "sim_int.h"

#define STREAM_ROUTES 0x3000000000000000ULL
#define ROUTE_TRIALS 1000
#define NB_CAP 256

typedef struct view {
  uint32_t node;
  sc_ring_addr addr;
  uint64_t estimate;
  uint32_t target;
  uint32_t *nb; /* neighbour views (indices into the view array) */
  uint32_t nnb;
} view;

typedef struct mesh_m {
  view *v;
  uint32_t n;
  uint32_t *of; /* node index -> view index, UINT32_MAX when none */
} mesh_m;

static int by_addr(const void *a, const void *b) {
  return sc_ring_cmp(&((const view *)a)->addr, &((const view *)b)->addr);
}

/* Collects the views of the up nodes in group 0, sorted by address. */
static int collect(const sim *s, mesh_m *m) {
  sc_neighbor_info *nb = malloc(NB_CAP * sizeof(*nb));
  m->v = calloc(s->n ? s->n : 1, sizeof(*m->v));
  m->of = malloc((s->n ? s->n : 1) * sizeof(*m->of));
  m->n = 0;
  if (nb == NULL || m->v == NULL || m->of == NULL) {
    free(nb);
    return -1;
  }
  for (uint32_t i = 0; i < s->n; i++) {
    sc_group_info gi;
    const sim_node *nd = &s->nodes[i];
    if (nd->state != SIM_NODE_UP || nd->core == NULL ||
        sc_node_groups(nd->core, &gi, 1) < 1)
      continue;
    view *v = &m->v[m->n++];
    v->node = i;
    memcpy(v->addr.b, gi.address, SC_RING_LEN);
    v->estimate = gi.estimated_members;
    v->target = gi.target;
  }
  qsort(m->v, m->n, sizeof(*m->v), by_addr);
  for (uint32_t i = 0; i < s->n; i++)
    m->of[i] = UINT32_MAX;
  for (uint32_t k = 0; k < m->n; k++)
    m->of[m->v[k].node] = k;
  for (uint32_t k = 0; k < m->n; k++) {
    view *v = &m->v[k];
    size_t cnt = sc_node_neighbors(s->nodes[v->node].core, 0, nb, NB_CAP);
    v->nb = malloc((cnt ? cnt : 1) * sizeof(*v->nb));
    if (v->nb == NULL) {
      free(nb);
      return -1;
    }
    for (size_t q = 0; q < cnt && q < NB_CAP; q++) {
      uint32_t j = sim_index_of(s, &nb[q].addr);
      if (j != UINT32_MAX && m->of[j] != UINT32_MAX)
        v->nb[v->nnb++] = m->of[j];
    }
  }
  free(nb);
  return 0;
}

static int has_nb(const view *v, uint32_t k) {
  for (uint32_t q = 0; q < v->nnb; q++)
    if (v->nb[q] == k)
      return 1;
  return 0;
}

/* The live member nearest |t|: a binary search in the sorted ring, then
 * the better of the two around the insertion point. */
static uint32_t true_nearest(const mesh_m *m, const sc_ring_addr *t) {
  uint32_t lo = 0, hi = m->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (sc_ring_cmp(&m->v[mid].addr, t) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  uint32_t a = lo % m->n, b = (lo + m->n - 1) % m->n;
  return sc_ring_closer(t, &m->v[a].addr, &m->v[b].addr) ? a : b;
}

/* Greedy forwarding from |k| toward |t|; returns the hop count and where
 * it stopped in |*end|. */
static unsigned route(const mesh_m *m, uint32_t k, const sc_ring_addr *t,
                      uint32_t *end) {
  unsigned hops = 0;
  for (;;) {
    const view *v = &m->v[k];
    uint32_t best = k;
    for (uint32_t q = 0; q < v->nnb; q++)
      if (sc_ring_closer(t, &m->v[v->nb[q]].addr, &m->v[best].addr))
        best = v->nb[q];
    if (best == k || hops >= 64)
      break;
    k = best;
    hops++;
  }
  *end = k;
  return hops;
}

static uint32_t find(uint32_t *p, uint32_t x) {
  while (p[x] != x)
    x = p[x] = p[p[x]];
  return x;
}

static uint32_t components(const mesh_m *m, uint32_t *largest) {
  uint32_t *p = malloc((m->n ? m->n : 1) * sizeof(*p)), comps = m->n;
  uint32_t *size = calloc(m->n ? m->n : 1, sizeof(*size));
  *largest = 0;
  if (p == NULL || size == NULL) {
    free(p);
    free(size);
    return 0;
  }
  for (uint32_t k = 0; k < m->n; k++)
    p[k] = k;
  for (uint32_t k = 0; k < m->n; k++)
    for (uint32_t q = 0; q < m->v[k].nnb; q++) {
      uint32_t a = find(p, k), b = find(p, m->v[k].nb[q]);
      if (a != b) {
        p[a] = b;
        comps--;
      }
    }
  for (uint32_t k = 0; k < m->n; k++)
    if (++size[find(p, k)] > *largest)
      *largest = size[find(p, k)];
  free(p);
  free(size);
  return comps;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report_ring(sc_json *j, const mesh_m *m) {
  uint32_t ok = 0, nmin = UINT32_MAX, nmax = 0, in_range = 0;
  uint64_t nsum = 0;
  for (uint32_t k = 0; k < m->n; k++) {
    const view *v = &m->v[k];
    uint32_t succ = (k + 1) % m->n, pred = (k + m->n - 1) % m->n;
    ok += m->n < 2 || (has_nb(v, succ) && has_nb(v, pred));
    nmin = v->nnb < nmin ? v->nnb : nmin;
    nmax = v->nnb > nmax ? v->nnb : nmax;
    nsum += v->nnb;
    /* §11.4: a node chooses |target| and accepts up to as many again. */
    uint32_t lo = v->target / 2 < m->n - 1 ? v->target / 2 : m->n - 1;
    in_range += v->nnb >= lo && v->nnb <= 2 * v->target;
  }
  sim_kv(j, "members", m->n);
  sc_json_key(j, "neighbours");
  sc_json_obj_begin(j);
  sim_kv(j, "min", m->n ? nmin : 0);
  sim_kd(j, "mean", m->n ? (double)nsum / m->n : 0.0);
  sim_kv(j, "max", nmax);
  sim_kd(j, "in_target_range", m->n ? (double)in_range / m->n : 0.0);
  sc_json_obj_end(j);
  sim_kd(j, "ring_nearest_ok", m->n ? (double)ok / m->n : 0.0);
}

static void report_estimate(sc_json *j, const mesh_m *m) {
  double *err = malloc((m->n ? m->n : 1) * sizeof(*err));
  if (err == NULL)
    return;
  for (uint32_t k = 0; k < m->n; k++)
    err[k] = fabs((double)m->v[k].estimate - m->n) / m->n;
  qsort(err, m->n, sizeof(*err), cmp_double);
  sc_json_key(j, "estimate_error");
  sc_json_obj_begin(j);
  sim_kd(j, "p50", m->n ? err[m->n / 2] : 0.0);
  sim_kd(j, "p90", m->n ? err[m->n * 9 / 10] : 0.0);
  sim_kd(j, "max", m->n ? err[m->n - 1] : 0.0);
  sc_json_obj_end(j);
  free(err);
}

static void report_routing(sc_json *j, const sim *s, const mesh_m *m) {
  sim_rng rng;
  sim_hist hops;
  unsigned bound = 2;
  uint32_t found = 0, within = 0;
  sim_rng_seed(&rng, s->cfg->seed, STREAM_ROUTES);
  sim_hist_init(&hops);
  while ((1u << (bound - 2)) < m->n)
    bound++;
  for (unsigned t = 0; m->n > 0 && t < ROUTE_TRIALS; t++) {
    sc_ring_addr target;
    uint32_t end, src = (uint32_t)sim_rng_below(&rng, m->n);
    sim_rng_bytes(&rng, target.b, SC_RING_LEN);
    unsigned h = route(m, src, &target, &end);
    int ok = end == true_nearest(m, &target);
    found += (uint32_t)ok;
    within += ok && h <= bound;
    sim_hist_add(&hops, h);
  }
  sc_json_key(j, "routing");
  sc_json_obj_begin(j);
  sim_kv(j, "trials", m->n ? ROUTE_TRIALS : 0);
  sim_kd(j, "reached_nearest", m->n ? (double)found / ROUTE_TRIALS : 0.0);
  sim_kv(j, "hop_bound", bound);
  sim_kd(j, "within_bound", m->n ? (double)within / ROUTE_TRIALS : 0.0);
  sim_kv(j, "hops_p50", sim_hist_quantile(&hops, 0.5));
  sim_kv(j, "hops_p99", sim_hist_quantile(&hops, 0.99));
  sim_kv(j, "hops_max", hops.count ? hops.max : 0);
  sc_json_obj_end(j);
}

int sim_mesh_report(sc_json *j, const sim *s) {
  mesh_m m = {0};
  int rv = collect(s, &m);
  if (rv == 0) {
    uint32_t largest, comps = components(&m, &largest);
    sc_json_key(j, "mesh");
    sc_json_obj_begin(j);
    report_ring(j, &m);
    report_estimate(j, &m);
    report_routing(j, s, &m);
    sim_kv(j, "components", comps);
    sim_kv(j, "largest_component", largest);
    sc_json_obj_end(j);
  }
  for (uint32_t k = 0; m.v != NULL && k < m.n; k++)
    free(m.v[k].nb);
  free(m.v);
  free(m.of);
  return rv;
}
