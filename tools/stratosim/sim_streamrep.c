/*
 * sim_streamrep.c: the report's "stream" section and the stream fields of
 * the per-node table. doc/simulation.md defines every figure; the ones
 * that need care:
 *   - delivery: a node's fragments played within `deadline` of their
 *     publication, over the fragments it was eligible for: in each start
 *     that played, from the first seq it played to the last published at
 *     least `deadline` before that start ended (went down, or the run
 *     ended). Nodes eligible for nothing are left out.
 *   - stretch: a play's latency over the direct one-way delay from the
 *     publisher (the model's base delay, access delays included).
 *   - duplicates, overhead, broadcaster upload: over the measured span
 *     (sim_stream.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sim_stream.h"

/* What the section shows, gathered once. */
typedef struct stream_m {
  double *ratio;    /* delivery of each node eligible for something */
  double *nstretch; /* each playing node's median latency / direct */
  uint32_t nratio, nnstretch;
  uint64_t eligible, on_time, played, late, forged, order_errors;
  uint64_t never_played, silent;
  sc_stream_stats all; /* every node, every core, over the span */
  uint64_t honest_banned, honest_forgeries, forgers_children;
} stream_m;

/* Quantile |q| of |h| in units of |unit|. */
static double q_in(const sim_hist *h, double q, double unit) {
  uint64_t v = sim_hist_quantile(h, q);
  return (double)v / unit;
}

static double ratio_of(uint64_t a, uint64_t b) {
  return b > 0 ? (double)a / (double)b : 0.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The value of rank ceil(q * n) in sorted |v| (q = 0: the smallest). */
static double rank_of(const double *v, uint32_t n, double q) {
  double r = ceil(q * n);
  uint32_t k = r < 1 ? 0 : (uint32_t)r - 1;
  return n == 0 ? 0.0 : v[k < n ? k : n - 1];
}

/* Node |i|'s eligible and on-time fragments and silent starts, the
 * current start included. */
static void node_delivery(const sim *s, uint32_t i, uint64_t *eligible,
                          uint64_t *on_time, uint64_t *silent) {
  const struct sim_stream *ss = s->stream;
  const sim_player *pl = &ss->pl[i];
  const sim_node *nd = &s->nodes[i];
  uint64_t e = 0, o = 0;
  *silent = pl->silent;
  if (nd->core != NULL) {
    sim_stream_incarnation(s, nd, s->now, &e, &o);
    if (pl->first_seq == SIM_NONE && i != ss->pub &&
        sim_stream_overlap(ss, nd->started_at, s->now) >= SIM_SILENT_AFTER)
      (*silent)++;
  }
  *eligible = pl->eligible + e;
  *on_time = pl->on_time + o;
}

/* Node |i|'s median latency over its direct delay; -1 when it played
 * nothing. */
static double node_stretch(const sim *s, uint32_t i, uint64_t *median) {
  const struct sim_stream *ss = s->stream;
  const sim_player *pl = &ss->pl[i];
  uint64_t direct = sim_net_latency(s->net, ss->pub, i);
  *median = sim_lh_median(pl->lat, pl->played, pl->lat_max);
  if (pl->played == 0 || direct == 0)
    return -1.0;
  return (double)*median / (double)direct;
}

static void gather_node(const sim *s, uint32_t i, stream_m *m) {
  const struct sim_stream *ss = s->stream;
  const sim_player *pl = &ss->pl[i];
  uint64_t elig, ontime, silent, median;
  sc_stream_stats st;
  sc_stream_info si;
  sim_stream_counters(s, i, &st);
  sim_stream_stats_add(&m->all, &st);
  if (pl->forger != NULL) {
    /* Forgers are left out of every player figure. */
    m->forged += pl->forged;
    if (sim_stream_live_info(ss, &s->nodes[i], &si))
      m->forgers_children += si.children;
    return;
  }
  m->honest_banned += st.peers_banned;
  m->honest_forgeries += st.forgeries;
  node_delivery(s, i, &elig, &ontime, &silent);
  m->eligible += elig;
  m->on_time += ontime;
  m->silent += silent;
  m->never_played += pl->played == 0 && silent > 0;
  if (elig > 0)
    m->ratio[m->nratio++] = (double)ontime / (double)elig;
  double st_node = node_stretch(s, i, &median);
  if (st_node >= 0)
    m->nstretch[m->nnstretch++] = st_node;
  m->played += pl->played;
  m->late += pl->late;
  m->forged += pl->forged;
  m->order_errors += pl->order_errors;
}

static int gather(const sim *s, stream_m *m) {
  memset(m, 0, sizeof(*m));
  m->ratio = malloc((s->n ? s->n : 1) * sizeof(*m->ratio));
  m->nstretch = malloc((s->n ? s->n : 1) * sizeof(*m->nstretch));
  if (m->ratio == NULL || m->nstretch == NULL)
    return -1;
  for (uint32_t i = 0; i < s->n; i++)
    gather_node(s, i, m);
  qsort(m->ratio, m->nratio, sizeof(*m->ratio), cmp_double);
  qsort(m->nstretch, m->nnstretch, sizeof(*m->nstretch), cmp_double);
  return 0;
}

static void hist_ms(sc_json *j, const char *key, const sim_hist *h, double q) {
  sc_json_key(j, key);
  sc_json_obj_begin(j);
  sim_kv(j, "count", h->count);
  sim_kms(j, "p50", sim_hist_quantile(h, 0.5));
  sim_kms(j, q == 0.9 ? "p90" : "p99", sim_hist_quantile(h, q));
  sim_kms(j, "max", h->count ? h->max : 0);
  sc_json_obj_end(j);
}

static void report_head(sc_json *j, const sim *s) {
  const struct sim_stream *ss = s->stream;
  sim_kv(j, "publisher", ss->pub);
  sc_json_key(j, "name");
  sc_json_str(j, ss->a->name);
  sim_kv(j, "rate_bps", ss->a->bps);
  sim_kv(j, "fragment_bytes", ss->size);
  sim_kms(j, "keyframe_ms", ss->a->keyframe);
  sim_kms(j, "deadline_ms", s->cfg->deadline);
  sim_kms(j, "started_ms", ss->t0);
  sc_json_key(j, "stopped_ms");
  if (ss->stop_at == SIM_NONE)
    sc_json_null(j);
  else
    sc_json_fixed3(j, ss->stop_at / 1000);
  sim_kms(j, "span_ms",
          (ss->span_end != SIM_NONE ? ss->span_end : s->now) - ss->t0);
  sc_json_key(j, "publish_error");
  if (ss->publish_rv == 0)
    sc_json_null(j);
  else
    sc_json_str(j, ss->publish_rv == SIM_PUBLISHER_DOWN
                       ? "publisher down"
                       : sc_strerror(ss->publish_rv));
  sim_kv(j, "play_errors", ss->play_errors);
  sc_json_key(j, "published");
  sc_json_obj_begin(j);
  sim_kv(j, "fragments", ss->npub);
  sim_kv(j, "bytes", ss->npub * ss->size);
  sim_kv(j, "keyframes", ss->keyframes);
  sc_json_obj_end(j);
}

static void report_delivery(sc_json *j, const sim *s, const stream_m *m) {
  const struct sim_stream *ss = s->stream;
  double sum = 0;
  for (uint32_t k = 0; k < m->nratio; k++)
    sum += m->ratio[k];
  sc_json_key(j, "delivery");
  sc_json_obj_begin(j);
  sim_kv(j, "nodes", m->nratio);
  sim_kd(j, "min", rank_of(m->ratio, m->nratio, 0));
  sim_kd(j, "p1", rank_of(m->ratio, m->nratio, 0.01));
  sim_kd(j, "p10", rank_of(m->ratio, m->nratio, 0.10));
  sim_kd(j, "mean", m->nratio ? sum / m->nratio : 0.0);
  sim_kv(j, "eligible", m->eligible);
  sim_kv(j, "on_time", m->on_time);
  sc_json_obj_end(j);
  sim_kv(j, "never_played", m->never_played);
  sim_kv(j, "silent_starts", m->silent);
  sc_json_key(j, "played");
  sc_json_obj_begin(j);
  sim_kv(j, "fragments", m->played);
  sim_kv(j, "late", m->late);
  sc_json_obj_end(j);
  hist_ms(j, "latency_ms", &ss->latency, 0.99);
  sc_json_key(j, "stretch");
  sc_json_obj_begin(j);
  sim_kd(j, "p50", q_in(&ss->stretch, 0.5, 1000.0));
  sim_kd(j, "p99", q_in(&ss->stretch, 0.99, 1000.0));
  sim_kd(j, "node_p50", rank_of(m->nstretch, m->nnstretch, 0.5));
  sim_kd(j, "node_p99", rank_of(m->nstretch, m->nnstretch, 0.99));
  sc_json_obj_end(j);
  hist_ms(j, "startup_ms", &ss->startup, 0.9);
}

static void report_cost(sc_json *j, const sim *s, const stream_m *m) {
  const struct sim_stream *ss = s->stream;
  sc_node_stats all1 = ss->all1, pub1 = ss->pub1;
  if (ss->span_end == SIM_NONE) {
    sim_stats_sum(s, &all1);
    sim_node_stats(&s->nodes[ss->pub], &pub1);
  }
  uint64_t useful = m->all.bytes_pushed_from_peers +
                    m->all.bytes_pulled_from_peers +
                    m->all.fragments_received_unasked * ss->size;
  uint64_t sent = all1.bytes_sent - ss->all0.bytes_sent;
  uint64_t data = all1.stream_bytes_sent - ss->all0.stream_bytes_sent;
  uint64_t up = pub1.bytes_sent - ss->pub0.bytes_sent;
  sc_json_key(j, "duplicates");
  sc_json_obj_begin(j);
  sim_kd(j, "ratio", ratio_of(m->all.duplicate_bytes, useful));
  sim_kv(j, "bytes", m->all.duplicate_bytes);
  sim_kv(j, "useful_bytes", useful);
  sc_json_obj_end(j);
  sc_json_key(j, "control_overhead");
  sc_json_obj_begin(j);
  sim_kd(j, "ratio", ratio_of(sent - data, data));
  sim_kv(j, "bytes_sent", sent);
  sim_kv(j, "stream_bytes_sent", data);
  sc_json_obj_end(j);
  sc_json_key(j, "broadcaster_upload");
  sc_json_obj_begin(j);
  sim_kd(j, "ratio", ratio_of(up, ss->npub * ss->size));
  sim_kv(j, "bytes_sent", up);
  sc_json_obj_end(j);
  sim_kv(j, "dgrams_expired", all1.dgrams_expired - ss->all0.dgrams_expired);
}

static void report_engine(sc_json *j, const sim *s, const stream_m *m) {
  const struct sim_stream *ss = s->stream;
  sc_json_key(j, "gaps");
  sc_json_obj_begin(j);
  sim_kv(j, "count", m->all.gaps);
  sim_kv(j, "skipped_fragments", m->all.gap_fragments);
  sc_json_obj_end(j);
  sc_json_key(j, "pulls");
  sc_json_obj_begin(j);
  sim_kv(j, "requested", m->all.fragments_requested_from_peers);
  sim_kv(j, "served", m->all.fragments_requested_by_peers);
  sim_kv(j, "received", m->all.fragments_pulled_from_peers);
  sim_kv(j, "giveups", m->all.pull_giveups);
  sc_json_obj_end(j);
  sim_kv(j, "class_moves", m->all.class_moves);
  sim_kv(j, "retunes", m->all.retunes);
  sim_kv(j, "push_drops", m->all.push_drops);
  sim_kv(j, "stale", m->all.stale);
  sim_kv(j, "forged_played", m->forged);
  sim_kv(j, "order_errors", m->order_errors);
  sc_json_key(j, "attack");
  sc_json_obj_begin(j);
  sim_kv(j, "forgers", ss->nforgers);
  sim_kv(j, "forged_sent", ss->forged_sent);
  sim_kv(j, "manifests_sent", ss->manifests_sent);
  sim_kv(j, "replays_sent", ss->replays_sent);
  sim_kv(j, "forgers_children_peak", ss->children_peak);
  sim_kv(j, "forgers_children_at_end", m->forgers_children);
  sim_kv(j, "honest_peers_banned", m->honest_banned);
  sim_kv(j, "honest_forgeries_detected", m->honest_forgeries);
  sc_json_obj_end(j);
}

int sim_stream_report(sc_json *j, const sim *s) {
  const struct sim_stream *ss = s->stream;
  stream_m m;
  if (ss == NULL || ss->t0 == SIM_NONE)
    return 0;
  int rv = gather(s, &m);
  if (rv == 0) {
    sc_json_key(j, "stream");
    sc_json_obj_begin(j);
    report_head(j, s);
    report_delivery(j, s, &m);
    report_cost(j, s, &m);
    report_engine(j, s, &m);
    sc_json_obj_end(j);
  }
  free(m.ratio);
  free(m.nstretch);
  return rv;
}

void sim_stream_node_fields(sc_json *j, const sim *s, uint32_t i) {
  const struct sim_stream *ss = s->stream;
  const sim_player *pl;
  uint64_t elig, ontime, silent, median;
  sc_stream_stats st;
  if (ss == NULL || ss->t0 == SIM_NONE)
    return;
  pl = &ss->pl[i];
  node_delivery(s, i, &elig, &ontime, &silent);
  double stretch = node_stretch(s, i, &median);
  sim_stream_counters(s, i, &st);
  sc_json_key(j, "stream_role");
  sc_json_str(j, i == ss->pub ? "publisher" : pl->forger ? "forger" : "player");
  sim_kv(j, "stream_played", pl->played);
  sim_kv(j, "stream_eligible", elig);
  sim_kv(j, "stream_on_time", ontime);
  sc_json_key(j, "stream_delivery");
  if (elig > 0)
    sc_json_double(j, (double)ontime / (double)elig);
  else
    sc_json_null(j);
  sc_json_key(j, "stream_startup_ms");
  if (pl->first_startup == SIM_NONE)
    sc_json_null(j);
  else
    sc_json_fixed3(j, pl->first_startup / 1000);
  sc_json_key(j, "stream_latency_p50_ms");
  if (pl->played == 0)
    sc_json_null(j);
  else
    sc_json_fixed3(j, median / 1000);
  sc_json_key(j, "stream_stretch_p50");
  if (stretch < 0)
    sc_json_null(j);
  else
    sc_json_double(j, stretch);
  sim_kv(j, "stream_silent_starts", silent);
  sim_kv(j, "stream_forged_played", pl->forged);
  sim_kv(j, "stream_gaps", st.gaps);
  sim_kv(j, "stream_duplicate_bytes", st.duplicate_bytes);
  sim_kv(j, "stream_peers_banned", st.peers_banned);
  sc_stream_info si;
  int up = sim_stream_live_info(ss, &s->nodes[i], &si);
  sim_kv(j, "stream_children", up ? si.children : 0);
  sim_kv(j, "stream_pushers", up ? si.pushers : 0);
}

void sim_stream_summary(const sim *s, FILE *f) {
  const struct sim_stream *ss = s->stream;
  uint64_t eligible = 0, on_time = 0, forged = 0;
  if (ss == NULL || ss->t0 == SIM_NONE)
    return;
  for (uint32_t i = 0; i < s->n; i++) {
    uint64_t e, o, silent;
    forged += ss->pl[i].forged;
    if (ss->pl[i].forger != NULL)
      continue;
    node_delivery(s, i, &e, &o, &silent);
    eligible += e;
    on_time += o;
  }
  fprintf(f,
          "  stream: %zu fragments published, %.4f%% of eligible played on "
          "time, latency p50 %.1f ms p99 %.1f ms, forged played %llu\n",
          ss->npub, 100.0 * ratio_of(on_time, eligible),
          q_in(&ss->latency, 0.5, 1e6), q_in(&ss->latency, 0.99, 1e6),
          (unsigned long long)forged);
}
