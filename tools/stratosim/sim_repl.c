/*
 * sim_repl.c: the scenario's object replication (the `replicate`
 * statement, doc/simulation.md).
 *
 * At the statement's time the seed node writes COUNT objects of SIZE bytes
 * (bytes drawn from the seed and the index) in the first group, and every
 * other node that is up sets the strategy and wants them all; a node that
 * starts later does so at its start. Every object a core hands to the
 * object callback is checked byte for byte. A member's completion time is
 * the first time one of its cores held every object; the report gives the
 * times at which 50%, 90% and 100% of the members had completed, and the
 * cores' replication counters, summed over every core (those of cores
 * that went down are kept).
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sim_int.h"

#define STREAM_OBJECT 0x6000000000000000ULL /* + index: an object's bytes */

struct sim_repl {
  const sim_action *a;
  uint32_t seed;
  uint64_t t0;          /* when the objects were written; SIM_NONE before */
  int write_error;      /* the core's error writing them, 0 */
  uint32_t *held;       /* per node: objects its current core fetched */
  uint64_t *done_at;    /* per node: first held them all; SIM_NONE */
  uint8_t *member;      /* per node: it wanted them */
  sc_group_stats *past; /* per node: counters of cores gone */
  uint64_t corrupt;     /* objects handed over that differ */
  uint64_t want_errors; /* sc_node_object_want calls refused */
};

static void object_bytes(uint64_t seed, uint64_t index, uint8_t *out,
                         size_t len) {
  sim_rng r;
  sim_rng_seed(&r, seed, STREAM_OBJECT + index);
  sim_rng_bytes(&r, out, len);
}

int sim_repl_new(sim *s, char *err, size_t errlen) {
  const sim_action *a = sim_config_first(s->cfg, SIM_ACT_REPLICATE);
  struct sim_repl *r;
  if (a == NULL)
    return 0;
  if ((r = calloc(1, sizeof(*r))) == NULL)
    goto oom;
  s->repl = r;
  r->a = a;
  r->seed = a->set.r[0].lo;
  r->t0 = SIM_NONE;
  r->held = calloc(s->n, sizeof(*r->held));
  r->done_at = malloc(s->n * sizeof(*r->done_at));
  r->member = calloc(s->n, 1);
  r->past = calloc(s->n, sizeof(*r->past));
  if (r->held == NULL || r->done_at == NULL || r->member == NULL ||
      r->past == NULL)
    goto oom;
  for (uint32_t i = 0; i < s->n; i++)
    r->done_at[i] = SIM_NONE;
  return 0;
oom:
  snprintf(err, errlen, "out of memory");
  return -1;
}

void sim_repl_del(struct sim_repl *r) {
  if (r == NULL)
    return;
  free(r->held);
  free(r->done_at);
  free(r->member);
  free(r->past);
  free(r);
}

/* Makes node |nd| want the objects. */
static void join_in(sim *s, sim_node *nd) {
  struct sim_repl *r = s->repl;
  const char *g = s->cfg->groups[0];
  int rv = sc_node_set_replication(nd->core, g, r->a->strategy);
  if (rv == 0)
    rv = sc_node_object_want(nd->core, g, 0, r->a->obj_count, 1, s->now);
  if (rv == SC_ERR_NOMEM)
    s->oom = 1;
  else if (rv != 0)
    r->want_errors++;
  else
    r->member[nd->index] = 1;
}

void sim_repl_action(sim *s, const sim_action *a) {
  struct sim_repl *r = s->repl;
  sim_node *seed = &s->nodes[r->seed];
  uint8_t buf[SC_OBJECT_MAX_LEN];
  (void)a;
  r->t0 = s->now;
  if (seed->core == NULL || seed->state != SIM_NODE_UP) {
    r->write_error = SC_ERR_STATE;
    return;
  }
  for (uint64_t x = 0; x < r->a->obj_count && r->write_error == 0; x++) {
    object_bytes(s->cfg->seed, x, buf, r->a->obj_size);
    r->write_error = sc_node_object_write(seed->core, s->cfg->groups[0], x, buf,
                                          r->a->obj_size, s->now);
  }
  if (r->write_error == SC_ERR_NOMEM)
    s->oom = 1;
  for (uint32_t i = 0; i < s->n; i++)
    if (i != r->seed && s->nodes[i].state == SIM_NODE_UP)
      join_in(s, &s->nodes[i]);
  sim_after_activity(s, seed);
}

void sim_repl_node_up(sim *s, sim_node *nd) {
  struct sim_repl *r = s->repl;
  r->held[nd->index] = 0;
  if (r->t0 != SIM_NONE && nd->index != r->seed)
    join_in(s, nd);
}

static void group_stats(const sim_node *nd, sc_group_stats *out) {
  sc_group_info gi;
  memset(out, 0, sizeof(*out));
  if (nd->core != NULL && sc_node_groups(nd->core, &gi, 1) >= 1)
    *out = gi.stats;
}

static void stats_add(sc_group_stats *dst, const sc_group_stats *src) {
  /* Every member is a uint64_t counter (stratocast.h). */
  uint64_t *d = (uint64_t *)dst;
  const uint64_t *c = (const uint64_t *)src;
  for (size_t k = 0; k < sizeof(*src) / sizeof(uint64_t); k++)
    d[k] += c[k];
}

void sim_repl_node_down(sim *s, sim_node *nd) {
  sc_group_stats st;
  group_stats(nd, &st);
  stats_add(&s->repl->past[nd->index], &st);
}

void sim_repl_on_object(void *user, const sc_object_event *ev) {
  sim_node *nd = user;
  sim *s = nd->sim;
  struct sim_repl *r = s->repl;
  uint8_t buf[SC_OBJECT_MAX_LEN];
  if (ev->index >= r->a->obj_count || ev->len != r->a->obj_size) {
    r->corrupt++;
    return;
  }
  object_bytes(s->cfg->seed, ev->index, buf, ev->len);
  if (ev->len > 0 && memcmp(buf, ev->data, ev->len) != 0) {
    r->corrupt++;
    return;
  }
  if (++r->held[nd->index] == r->a->obj_count &&
      r->done_at[nd->index] == SIM_NONE)
    r->done_at[nd->index] = s->now;
}

/* ---- the report ---- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The times since t0 at which the ⌈q·members⌉-th member completed, for
 * q = 0.5, 0.9, 1 (SIM_NONE: not reached); the member count in |*m| and
 * how many completed in |*done|. */
static int completion(const sim *s, uint64_t t[3], uint32_t *m,
                      uint32_t *done) {
  const struct sim_repl *r = s->repl;
  static const double q[3] = {0.5, 0.9, 1.0};
  uint64_t *v = malloc((s->n + 1) * sizeof(*v));
  if (v == NULL)
    return -1;
  *m = *done = 0;
  for (uint32_t i = 0; i < s->n; i++) {
    if (!r->member[i])
      continue;
    v[(*m)++] = r->done_at[i];
    *done += r->done_at[i] != SIM_NONE;
  }
  qsort(v, *m, sizeof(*v), cmp_u64);
  for (int k = 0; k < 3; k++) {
    uint32_t rank = (uint32_t)(q[k] * *m + 0.999999);
    t[k] = *m == 0 || rank == 0 || v[rank - 1] == SIM_NONE
               ? SIM_NONE
               : v[rank - 1] - r->t0;
  }
  free(v);
  return 0;
}

static void totals(const sim *s, sc_group_stats *all, sc_group_stats *seed) {
  memset(all, 0, sizeof(*all));
  for (uint32_t i = 0; i < s->n; i++) {
    sc_group_stats st;
    group_stats(&s->nodes[i], &st);
    stats_add(&st, &s->repl->past[i]);
    stats_add(all, &st);
    if (i == s->repl->seed)
      *seed = st;
  }
}

static void kms_or_null(sc_json *j, const char *key, uint64_t ns) {
  if (ns == SIM_NONE) {
    sc_json_key(j, key);
    sc_json_null(j);
  } else {
    sim_kms(j, key, ns);
  }
}

int sim_repl_report(sc_json *j, const sim *s) {
  const struct sim_repl *r = s->repl;
  sc_group_stats all, seed;
  uint64_t t[3];
  uint32_t m, done;
  if (r == NULL)
    return 0;
  if (completion(s, t, &m, &done) != 0)
    return -1;
  totals(s, &all, &seed);
  sc_json_key(j, "replication");
  sc_json_obj_begin(j);
  sim_kv(j, "from", r->seed);
  sim_kv(j, "count", r->a->obj_count);
  sim_kv(j, "size", r->a->obj_size);
  sc_json_key(j, "strategy");
  sc_json_str(j, r->a->strategy == SC_REPL_RAREST_FIRST ? "rarest" : "lowest");
  kms_or_null(j, "started_ms", r->t0);
  sc_json_key(j, "write_error");
  if (r->write_error == 0)
    sc_json_null(j);
  else
    sc_json_str(j, sc_strerror(r->write_error));
  sim_kv(j, "want_errors", r->want_errors);
  sim_kv(j, "members", m);
  sim_kv(j, "complete", done);
  kms_or_null(j, "t50_ms", t[0]);
  kms_or_null(j, "t90_ms", t[1]);
  kms_or_null(j, "t100_ms", t[2]);
  sim_kv(j, "objects_fetched", all.objects_fetched);
  sim_kv(j, "fetches_sent", all.fetches_sent);
  sim_kv(j, "fetches_failed", all.fetches_failed);
  sim_kv(j, "wasted_fetches", all.fetches_sent - all.objects_fetched);
  sim_kv(j, "objects_served", all.objects_served);
  sim_kv(j, "seed_served", seed.objects_served);
  sim_kv(j, "bytes_sent", all.repl_bytes_sent);
  sim_kv(j, "refused", all.repl_refused);
  sim_kv(j, "dropped", all.repl_dropped);
  sim_kv(j, "corrupt", r->corrupt);
  sc_json_obj_end(j);
  return 0;
}

void sim_repl_summary(const sim *s, FILE *f) {
  uint64_t t[3];
  uint32_t m, done;
  sc_group_stats all, seed;
  if (s->repl == NULL || completion(s, t, &m, &done) != 0)
    return;
  totals(s, &all, &seed);
  fprintf(f,
          "  replication: %llu objects, %s-first, %u/%u members complete; "
          "50%% at %.3f s, 90%% at %.3f s, 100%% at %.3f s; "
          "%llu fetched, %llu wasted fetches, seed served %llu\n",
          (unsigned long long)s->repl->a->obj_count,
          s->repl->a->strategy == SC_REPL_RAREST_FIRST ? "rarest" : "lowest",
          done, m, t[0] == SIM_NONE ? -1.0 : (double)t[0] / 1e9,
          t[1] == SIM_NONE ? -1.0 : (double)t[1] / 1e9,
          t[2] == SIM_NONE ? -1.0 : (double)t[2] / 1e9,
          (unsigned long long)all.objects_fetched,
          (unsigned long long)(all.fetches_sent - all.objects_fetched),
          (unsigned long long)seed.objects_served);
}
