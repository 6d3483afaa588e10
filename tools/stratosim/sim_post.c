/*
 * sim_post.c: the scenario's posts, in virtual time (`post` statements,
 * doc/simulation.md), and the report's "posting" section.
 *
 * A post statement spreads COUNT posts evenly over its span; each is made
 * by a member drawn at random among those up, in the first group. Its
 * bytes carry the post's number in the run, so every delivery is checked
 * byte for byte and counted per post and node. A post is expected at every
 * other node that was up when it was made and is still up, in the same
 * start, at the end of the run. The core's posting counters of every
 * start are summed for what the deliveries cost.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sim_int.h"

#define STREAM_POSTS 0x6a00000000000000ULL /* draws of the posting members */

typedef struct post_rec {
  uint32_t origin; /* the node that made it, UINT32_MAX: refused */
  uint64_t at;
} post_rec;

struct sim_posts {
  sim_rng rng;
  post_rec *rec;       /* every post of the run, in order */
  uint32_t nrec;       /* made so far */
  uint32_t cap;        /* posts in every statement */
  uint8_t *got;        /* cap x n: deliveries of each post at each node */
  sim_hist latency;    /* making to delivery */
  uint64_t refused;    /* sc_node_post errors */
  uint64_t bad;        /* deliveries with the wrong bytes or number */
  sc_group_stats past; /* first group's counters of cores gone */
};

static void fill(uint8_t *buf, size_t len, uint32_t k) {
  size_t i;
  memcpy(buf, &k, sizeof(k));
  for (i = sizeof(k); i < len; i++) {
    buf[i] = (uint8_t)(k * 31 + i);
  }
}

int sim_posts_new(sim *s, char *err, size_t errlen) {
  const sim_config *c = s->cfg;
  uint64_t total = 0;
  struct sim_posts *ps;
  for (size_t i = 0; i < c->nactions; i++)
    if (c->actions[i].verb == SIM_ACT_POST)
      total += c->actions[i].count;
  if (total == 0)
    return 0;
  if (total > UINT32_MAX / 2 || total * s->n > ((uint64_t)1 << 32)) {
    snprintf(err, errlen, "post: %llu posts at %u nodes is too many to track",
             (unsigned long long)total, s->n);
    return -1;
  }
  ps = calloc(1, sizeof(*ps));
  if (ps == NULL || (ps->rec = calloc(total, sizeof(*ps->rec))) == NULL ||
      (ps->got = calloc(total * s->n, 1)) == NULL) {
    sim_posts_del(ps);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  ps->cap = (uint32_t)total;
  sim_rng_seed(&ps->rng, c->seed, STREAM_POSTS);
  sim_hist_init(&ps->latency);
  s->posts = ps;
  return 0;
}

void sim_posts_del(struct sim_posts *ps) {
  if (ps == NULL)
    return;
  free(ps->rec);
  free(ps->got);
  free(ps);
}

/* ---- making posts -------------------------------------------------------- */

/* The |k|-th post of action |a| (an EV_POST event): made now, by a member
 * drawn among those up; the next one is scheduled. */
static void make_post(sim *s, const sim_action *a, uint32_t k) {
  struct sim_posts *ps = s->posts;
  uint8_t buf[SC_POST_MAX_LEN];
  uint32_t up = 0, pick, i, n = ps->nrec;
  post_rec *r;
  if (n == ps->cap)
    return;
  r = &ps->rec[ps->nrec++];
  r->origin = UINT32_MAX;
  r->at = s->now;
  for (i = 0; i < s->n; i++)
    up += s->nodes[i].state == SIM_NODE_UP;
  if (up > 0) {
    pick = (uint32_t)sim_rng_below(&ps->rng, up);
    for (i = 0; i < s->n; i++)
      if (s->nodes[i].state == SIM_NODE_UP && pick-- == 0)
        break;
    fill(buf, (size_t)a->msg_size, n);
    int rv = sc_node_post(s->nodes[i].core, s->cfg->groups[0], buf,
                          (size_t)a->msg_size, s->now);
    if (rv == 0)
      r->origin = i;
    else if (rv == SC_ERR_NOMEM)
      s->oom = 1;
    sim_after_activity(s, &s->nodes[i]);
  }
  ps->refused += r->origin == UINT32_MAX;
  if (k + 1 < a->count)
    sim_push(s, a->at + sim_mul_div(k + 1, a->span, a->count, 0), EV_POST,
             k + 1, &s->cfg->actions[a - s->cfg->actions]);
}

void sim_posts_action(sim *s, const sim_action *a) {
  if (s->posts != NULL)
    make_post(s, a, 0);
}

void sim_posts_event(sim *s, const sim_event *e) {
  if (s->posts != NULL)
    make_post(s, e->ptr, e->node);
}

void sim_posts_on_post(void *user, const sc_post_event *ev) {
  sim_node *nd = user;
  sim *s = nd->sim;
  struct sim_posts *ps = s->posts;
  uint8_t want[SC_POST_MAX_LEN];
  uint32_t k;
  uint8_t *g;
  if (ev->len < sizeof(k)) {
    ps->bad++;
    return;
  }
  memcpy(&k, ev->data, sizeof(k));
  fill(want, ev->len, k);
  if (k >= ps->nrec || ps->rec[k].origin == UINT32_MAX ||
      memcmp(ev->data, want, ev->len) != 0 ||
      memcmp(ev->origin, s->nodes[ps->rec[k].origin].peer_id, SC_PEER_ID_LEN) !=
          0) {
    ps->bad++;
    return;
  }
  g = &ps->got[(size_t)k * s->n + nd->index];
  if (*g < UINT8_MAX)
    (*g)++;
  if (*g == 1)
    sim_hist_add(&ps->latency, s->now - ps->rec[k].at);
}

/* Adds the first group's counters of |nd|'s core to |out|. */
static void add_group_stats(const sim_node *nd, sc_group_stats *out) {
  sc_group_info gi;
  if (nd->core == NULL || sc_node_groups(nd->core, &gi, 1) == 0)
    return;
  uint64_t *d = (uint64_t *)out;
  const uint64_t *c = (const uint64_t *)&gi.stats;
  /* Every member is a uint64_t counter (stratocast.h). */
  for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
    d[k] += c[k];
}

void sim_posts_node_down(sim *s, sim_node *nd) {
  if (s->posts != NULL)
    add_group_stats(nd, &s->posts->past);
}

/* ---- the report ---------------------------------------------------------- */

typedef struct post_m {
  uint64_t made, expected, once, missed, twice, unexpected;
  uint32_t complete; /* posts every expected node got once */
  sc_group_stats st; /* every start */
} post_m;

/* Whether node |i| was expected to get post |r|: up when it was made and
 * up, in that start, now; not its origin. */
static int is_expected(const sim *s, uint32_t i, const post_rec *r) {
  const sim_node *nd = &s->nodes[i];
  return i != r->origin && nd->state == SIM_NODE_UP && nd->started_at <= r->at;
}

static void measure(const sim *s, post_m *m) {
  const struct sim_posts *ps = s->posts;
  memset(m, 0, sizeof(*m));
  m->st = ps->past;
  for (uint32_t i = 0; i < s->n; i++)
    add_group_stats(&s->nodes[i], &m->st);
  for (uint32_t k = 0; k < ps->nrec; k++) {
    const post_rec *r = &ps->rec[k];
    const uint8_t *g = &ps->got[(size_t)k * s->n];
    int all = 1;
    if (r->origin == UINT32_MAX)
      continue;
    m->made++;
    for (uint32_t i = 0; i < s->n; i++) {
      if (!is_expected(s, i, r)) {
        m->unexpected += g[i];
        continue;
      }
      m->expected++;
      m->once += g[i] == 1;
      m->missed += g[i] == 0;
      m->twice += g[i] > 1;
      all &= g[i] == 1;
    }
    m->complete += (uint32_t)all;
  }
}

static double per(uint64_t a, uint64_t b) {
  return b > 0 ? (double)a / (double)b : 0.0;
}

int sim_posts_report(sc_json *j, const sim *s) {
  const struct sim_posts *ps = s->posts;
  uint64_t delivered;
  post_m m;
  if (ps == NULL)
    return 0;
  measure(s, &m);
  delivered = m.st.posts_received;
  sc_json_key(j, "posting");
  sc_json_obj_begin(j);
  sim_kv(j, "posts", m.made);
  sim_kv(j, "refused", ps->refused);
  sim_kv(j, "expected", m.expected);
  sim_kv(j, "delivered_once", m.once);
  sim_kv(j, "missed", m.missed);
  sim_kv(j, "delivered_twice", m.twice);
  sim_kv(j, "delivered_unexpected", m.unexpected);
  sim_kv(j, "bad_bytes", ps->bad);
  sim_kd(j, "delivery", per(m.once, m.expected));
  sim_kv(j, "posts_complete", m.complete);
  sim_kms(j, "latency_p50_ms", sim_hist_quantile(&ps->latency, 0.5));
  sim_kms(j, "latency_p99_ms", sim_hist_quantile(&ps->latency, 0.99));
  sim_kms(j, "latency_max_ms", sim_hist_quantile(&ps->latency, 1.0));
  /* What the deliveries cost, from the cores' counters. */
  sim_kv(j, "deliveries", delivered);
  sim_kv(j, "post_messages", m.st.posts_forwarded);
  sim_kv(j, "duplicate_messages", m.st.posts_duplicate);
  sim_kv(j, "repairs_asked", m.st.post_repairs_asked);
  sim_kv(j, "dropped", m.st.posts_dropped);
  sim_kd(j, "messages_per_delivery", per(m.st.posts_forwarded, delivered));
  sim_kd(j, "duplicates_per_delivery", per(m.st.posts_duplicate, delivered));
  sim_kd(j, "duplicates_per_post", per(m.st.posts_duplicate, m.made));
  sim_kv(j, "data_bytes", m.st.post_data_bytes_sent);
  sim_kv(j, "control_bytes", m.st.post_control_bytes_sent);
  sim_kd(j, "control_per_data",
         per(m.st.post_control_bytes_sent, m.st.post_data_bytes_sent));
  sc_json_obj_end(j);
  return 0;
}

void sim_posts_summary(const sim *s, FILE *f) {
  uint64_t p50, p99;
  post_m m;
  if (s->posts == NULL)
    return;
  measure(s, &m);
  p50 = sim_hist_quantile(&s->posts->latency, 0.5);
  p99 = sim_hist_quantile(&s->posts->latency, 0.99);
  fprintf(f,
          "  posting: %llu posts, %.4f%% of expected deliveries made once "
          "(%llu missed, %llu twice), %.3f messages and %.4f duplicates per "
          "delivery, latency p50 %.1f ms p99 %.1f ms\n",
          (unsigned long long)m.made, 100.0 * per(m.once, m.expected),
          (unsigned long long)m.missed, (unsigned long long)m.twice,
          per(m.st.posts_forwarded, m.st.posts_received),
          per(m.st.posts_duplicate, m.st.posts_received), (double)p50 / 1e6,
          (double)p99 / 1e6);
}
