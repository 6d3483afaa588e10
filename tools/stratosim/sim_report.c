/*
 * sim_report.c: the JSON report of a run and its human summary.
 *
 * The report holds only what follows from the scenario and the seed:
 * virtual times, counts, the bytes the cores allocated. Host figures that
 * vary between runs (wall time, RSS) go to the summary alone, so that two
 * runs of one scenario give byte-identical reports.
 */
#include "sim_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "json.h"

static const char *state_name(int st) {
  switch (st) {
  case SIM_NODE_IDLE:
    return "idle";
  case SIM_NODE_UP:
    return "up";
  case SIM_NODE_LEAVING:
    return "leaving";
  case SIM_NODE_CRASHED:
    return "crashed";
  case SIM_NODE_LEFT:
    return "left";
  default:
    return "?";
  }
}

static const char *placement_name(int kind) {
  switch (kind) {
  case SIM_PLACE_FIXED:
    return "fixed";
  case SIM_PLACE_MATRIX:
    return "matrix";
  case SIM_PLACE_UNIFORM:
    return "uniform";
  default:
    return "geo";
  }
}

/* What the report says of one node at the end of the run. */
typedef struct node_end {
  uint32_t established;  /* sessions past their handshake */
  uint32_t stale;        /* sessions to a peer long gone */
  uint32_t boot_missing; /* bootstrap peers up but not in session */
  sc_node_stats st;      /* every incarnation */
} node_end;

static int has_session_with(const sc_session_info *si, size_t n, uint32_t j) {
  sc_addr a = sim_addr_of(j);
  for (size_t k = 0; k < n; k++)
    if (si[k].state == SC_SESSION_ESTABLISHED && sc_addr_eq(&si[k].addr, &a))
      return 1;
  return 0;
}

/* A session is stale when its peer has been down for longer than the idle
 * timeout plus a keepalive: the core should have noticed by then. */
static int peer_is_long_gone(const sim *s, uint32_t j) {
  const sim_node *p = &s->nodes[j];
  sc_settings st;
  sim_core_settings(s->cfg, &st);
  uint64_t grace = st.idle_timeout + st.keepalive_interval;
  return (p->state == SIM_NODE_CRASHED || p->state == SIM_NODE_LEFT) &&
         s->now - p->down_at > grace;
}

static void node_end_of(const sim *s, const sim_node *nd, node_end *out) {
  memset(out, 0, sizeof(*out));
  out->st = nd->past;
  if (nd->core == NULL)
    return;
  sc_node_stats cur;
  sc_node_get_stats(nd->core, &cur);
  sim_stats_add(&out->st, &cur);
  size_t n = sc_node_session_count(nd->core);
  sc_session_info *si = n ? calloc(n, sizeof(*si)) : NULL;
  if (n && si == NULL)
    return;
  n = sc_node_sessions(nd->core, si, n);
  for (size_t k = 0; k < n; k++) {
    uint32_t j = sim_index_of(s, &si[k].addr);
    out->established += si[k].state == SC_SESSION_ESTABLISHED;
    out->stale += j != UINT32_MAX && peer_is_long_gone(s, j);
  }
  uint32_t t[64];
  uint32_t nt = sim_bootstrap_targets(s, nd->index, t, 64);
  for (uint32_t k = 0; k < nt && k < 64; k++)
    out->boot_missing +=
        s->nodes[t[k]].state == SIM_NODE_UP && !has_session_with(si, n, t[k]);
  free(si);
}

void sim_kv(sc_json *j, const char *key, uint64_t v) {
  sc_json_key(j, key);
  sc_json_u64(j, v);
}

void sim_kd(sc_json *j, const char *key, double v) {
  sc_json_key(j, key);
  sc_json_double(j, v);
}

/* Durations in the report are milliseconds with microsecond decimals. */
void sim_kms(sc_json *j, const char *key, uint64_t ns) {
  sc_json_key(j, key);
  sc_json_fixed3(j, ns / 1000);
}

static void hist_json(sc_json *j, const char *key, const sim_hist *h) {
  sc_json_key(j, key);
  sc_json_obj_begin(j);
  sc_json_key(j, "count");
  sc_json_u64(j, h->count);
  double mean = sim_hist_mean(h);
  sim_kms(j, "mean", (uint64_t)mean);
  sim_kms(j, "p50", sim_hist_quantile(h, 0.50));
  sim_kms(j, "p99", sim_hist_quantile(h, 0.99));
  sim_kms(j, "max", h->count ? h->max : 0);
  sc_json_obj_end(j);
}

typedef struct totals {
  uint64_t up, connected, never, stale, boot_missing, idle_count;
  uint64_t nb_min, nb_max, nb_sum;
  uint64_t mem_peak_sum, mem_peak_max;
  sc_node_stats st;
} totals;

static void totals_of(const sim *s, const node_end *e, totals *t) {
  memset(t, 0, sizeof(*t));
  t->nb_min = UINT64_MAX;
  for (uint32_t i = 0; i < s->n; i++) {
    const sim_node *nd = &s->nodes[i];
    sim_stats_add(&t->st, &e[i].st);
    t->stale += e[i].stale;
    t->mem_peak_sum += nd->mem_peak;
    if (nd->mem_peak > t->mem_peak_max)
      t->mem_peak_max = nd->mem_peak;
    if (nd->state == SIM_NODE_IDLE)
      t->idle_count++;
    if (nd->state != SIM_NODE_UP)
      continue;
    t->up++;
    t->connected += e[i].established > 0;
    t->never += nd->first_up_at == UINT64_MAX;
    t->boot_missing += e[i].boot_missing;
    t->nb_sum += e[i].established;
    if (e[i].established < t->nb_min)
      t->nb_min = e[i].established;
    if (e[i].established > t->nb_max)
      t->nb_max = e[i].established;
  }
  if (t->up == 0)
    t->nb_min = 0;
}

static void report_scenario(sc_json *j, const sim *s) {
  const sim_config *c = s->cfg;
  sc_json_key(j, "scenario");
  sc_json_obj_begin(j);
  sim_kv(j, "seed", c->seed);
  sim_kv(j, "nodes", c->nodes);
  sim_kms(j, "duration_ms", c->duration);
  sc_json_key(j, "placement");
  sc_json_str(j, placement_name(c->place.kind));
  sim_kv(j, "bootstrap_rules", c->nboot);
  sim_kv(j, "actions", c->nactions);
  sc_json_key(j, "crypto");
  sc_json_str(j, "real");
  sc_json_obj_end(j);
}

static void report_nodes(sc_json *j, const sim *s, const totals *t) {
  sc_json_key(j, "nodes");
  sc_json_obj_begin(j);
  sim_kv(j, "total", s->n);
  sim_kv(j, "joined", s->joins);
  sim_kv(j, "never_joined", t->idle_count);
  sim_kv(j, "up_at_end", t->up);
  sim_kv(j, "connected_at_end", t->connected);
  sim_kv(j, "never_connected", t->never);
  sim_kv(j, "crashes", s->crashes);
  sim_kv(j, "leaves", s->leaves);
  sim_kv(j, "restarts", s->restarts);
  sc_json_key(j, "neighbours");
  sc_json_obj_begin(j);
  sim_kv(j, "min", t->nb_min);
  sc_json_key(j, "mean");
  sc_json_double(j, t->up ? (double)t->nb_sum / (double)t->up : 0.0);
  sim_kv(j, "max", t->nb_max);
  sc_json_obj_end(j);
  hist_json(j, "startup_ms", &s->startup);
  hist_json(j, "rejoin_ms", &s->rejoin);
  sc_json_obj_end(j);
}

static void report_sessions(sc_json *j, const sim *s, const totals *t) {
  sc_json_key(j, "sessions");
  sc_json_obj_begin(j);
  sim_kv(j, "handshakes_started", t->st.handshakes_started);
  sim_kv(j, "handshakes_completed", t->st.handshakes_completed);
  sim_kv(j, "handshakes_failed", t->st.handshakes_failed);
  sim_kv(j, "retries_sent", t->st.retries_sent);
  sim_kv(j, "timed_out", t->st.sessions_timed_out);
  sim_kv(j, "replaced", t->st.sessions_replaced);
  sim_kv(j, "path_migrations", t->st.path_migrations);
  sim_kv(j, "peer_up_events", s->peer_up);
  sim_kv(j, "peer_down_events", s->peer_down);
  static const char *why[8] = {"none",     "local",     "remote",   "idle",
                               "replaced", "handshake", "protocol", "self"};
  sc_json_key(j, "peer_down_by_reason");
  sc_json_obj_begin(j);
  for (int r = 0; r < 8; r++)
    sim_kv(j, why[r], s->down_reason[r]);
  sc_json_obj_end(j);
  sim_kv(j, "peer_failed_events", s->peer_failed);
  sim_kv(j, "bootstrap_missing", t->boot_missing);
  sim_kv(j, "stale", t->stale);
  sc_json_obj_end(j);
  sc_json_key(j, "failures");
  sc_json_obj_begin(j);
  sim_kv(j, "detections", s->detections);
  hist_json(j, "detection_ms", &s->detect);
  sc_json_obj_end(j);
}

static void report_traffic(sc_json *j, const totals *t) {
  sc_json_key(j, "traffic");
  sc_json_obj_begin(j);
  sim_kv(j, "packets_sent", t->st.packets_sent);
  sim_kv(j, "bytes_sent", t->st.bytes_sent);
  sim_kv(j, "packets_received", t->st.packets_received);
  sim_kv(j, "bytes_received", t->st.bytes_received);
  sim_kv(j, "packets_lost", t->st.packets_lost);
  sim_kv(j, "packets_retransmitted", t->st.packets_retransmitted);
  sim_kv(j, "send_errors", t->st.send_errors);
  sc_json_key(j, "dropped");
  sc_json_obj_begin(j);
  for (int r = 0; r < SC_DROP_REASON_COUNT; r++)
    sim_kv(j, sc_drop_reason_name(r), t->st.dropped[r]);
  sc_json_obj_end(j);
  sc_json_obj_end(j);
}

static void report_network(sc_json *j, const sim *s) {
  const sim_net_stats *ns = sim_net_get_stats(s->net);
  sc_json_key(j, "network");
  sc_json_obj_begin(j);
  sim_kv(j, "datagrams", ns->sent);
  sim_kv(j, "bytes", ns->bytes_sent);
  sim_kv(j, "delivered", ns->delivered);
  sim_kv(j, "bytes_delivered", ns->bytes_delivered);
  sc_json_key(j, "dropped");
  sc_json_obj_begin(j);
  for (int f = 1; f < SIM_FATE_COUNT; f++)
    sim_kv(j, sim_fate_name(f), ns->dropped[f]);
  sim_kv(j, "node_down", s->node_down);
  sim_kv(j, "no_route", s->no_route);
  sc_json_obj_end(j);
  sim_kv(j, "in_flight_at_end", sim_in_flight(s));
  sim_kv(j, "duplicated", ns->duplicated);
  sim_kv(j, "corrupted", ns->corrupted);
  sim_kv(j, "reordered", ns->reordered);
  hist_json(j, "one_way_delay_ms", &s->owd);
  sc_json_obj_end(j);
}

static void report_memory(sc_json *j, const sim *s, const totals *t) {
  sc_json_key(j, "memory");
  sc_json_obj_begin(j);
  sim_kv(j, "core_bytes_peak_total", s->mem_total_peak);
  sim_kv(j, "core_bytes_at_end", s->mem_total_now);
  sim_kv(j, "core_bytes_peak_per_node_mean", s->n ? t->mem_peak_sum / s->n : 0);
  sim_kv(j, "core_bytes_peak_per_node_max", t->mem_peak_max);
  sim_kv(j, "core_bytes_leaked", s->mem_leaked);
  sc_json_obj_end(j);
}

static void report_per_node(sc_json *j, const sim *s, const node_end *e) {
  sc_json_key(j, "per_node");
  sc_json_arr_begin(j);
  for (uint32_t i = 0; i < s->n; i++) {
    const sim_node *nd = &s->nodes[i];
    char addr[SC_ADDR_STRLEN];
    sc_addr a = sim_addr_of(i);
    uint64_t drops = 0;
    for (int r = 0; r < SC_DROP_REASON_COUNT; r++)
      drops += e[i].st.dropped[r];
    sc_json_obj_begin(j);
    sim_kv(j, "node", i);
    sc_json_key(j, "addr");
    sc_json_str(j, sc_addr_format(&a, addr));
    sc_json_key(j, "region");
    sc_json_str(j, sim_net_region(s->net, i));
    sc_json_key(j, "state");
    sc_json_str(j, state_name(nd->state));
    sim_kv(j, "starts", nd->starts);
    sim_kv(j, "sessions", e[i].established);
    sc_json_key(j, "startup_ms");
    if (nd->first_up_at == UINT64_MAX)
      sc_json_null(j);
    else
      sc_json_fixed3(j, (nd->first_up_at - nd->joined_at) / 1000);
    sim_kv(j, "handshakes_completed", e[i].st.handshakes_completed);
    sim_kv(j, "handshakes_failed", e[i].st.handshakes_failed);
    sim_kv(j, "bytes_sent", e[i].st.bytes_sent);
    sim_kv(j, "bytes_received", e[i].st.bytes_received);
    sim_kv(j, "packets_lost", e[i].st.packets_lost);
    sim_kv(j, "dropped", drops);
    sim_kv(j, "core_bytes_peak", nd->mem_peak);
    sc_group_info gi;
    if (nd->core != NULL && sc_node_groups(nd->core, &gi, 1) > 0) {
      sim_kv(j, "group_neighbors", gi.neighbors);
      sim_kv(j, "group_target", gi.target);
      sim_kv(j, "group_estimate", gi.estimated_members);
      sim_kv(j, "group_members_known", gi.members_known);
      sc_neighbor_info nb[256];
      size_t cnt = sc_node_neighbors(nd->core, 0, nb, 256), acc = 0;
      for (size_t q = 0; q < cnt && q < 256; q++)
        acc += nb[q].reasons == SC_NB_ACCEPTED;
      sim_kv(j, "group_accepted_only", acc);
    }
    sim_stream_node_fields(j, s, i);
    sc_json_obj_end(j);
  }
  sc_json_arr_end(j);
}

int sim_report(sim *s, sc_textbuf *out) {
  node_end *e = calloc(s->n ? s->n : 1, sizeof(*e));
  if (e == NULL)
    return -1;
  for (uint32_t i = 0; i < s->n; i++)
    node_end_of(s, &s->nodes[i], &e[i]);
  totals t;
  totals_of(s, e, &t);
  sc_json j;
  sc_json_init(&j, out);
  sc_json_obj_begin(&j);
  sim_kv(&j, "stratosim_report", 1);
  report_scenario(&j, s);
  sim_kms(&j, "virtual_time_ms", s->now);
  sim_kv(&j, "events", s->events);
  report_nodes(&j, s, &t);
  report_sessions(&j, s, &t);
  report_traffic(&j, &t);
  report_network(&j, s);
  report_memory(&j, s, &t);
  if (s->cfg->ngroups > 0 && sim_mesh_report(&j, s) != 0) {
    free(e);
    return -1;
  }
  if (sim_stream_report(&j, s) != 0 || sim_posts_report(&j, s) != 0 ||
      sim_route_report(&j, s) != 0 || sim_repl_report(&j, s) != 0) {
    free(e);
    return -1;
  }
  if (s->cfg->per_node)
    report_per_node(&j, s, e);
  sc_json_obj_end(&j);
  sc_textbuf_puts(out, "\n");
  free(e);
  return out->oom ? -1 : 0;
}

/* Quantile |q| of |h| in units of |unit| ns. */
static double q_in(const sim_hist *h, double q, double unit) {
  uint64_t v = sim_hist_quantile(h, q);
  return (double)v / unit;
}

static int has_established(const sc_node *core) {
  sc_session_info si[64];
  size_t n = core ? sc_node_sessions(core, si, 64) : 0;
  for (size_t k = 0; k < n && k < 64; k++)
    if (si[k].state == SC_SESSION_ESTABLISHED)
      return 1;
  return 0;
}

void sim_summary(sim *s, FILE *f, double wall) {
  struct rusage ru;
  const sim_net_stats *ns = sim_net_get_stats(s->net);
  long rss_kib = 0;
  double cpu = 0.0;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    rss_kib = ru.ru_maxrss;
    cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  }
  uint64_t up = 0, conn = 0;
  for (uint32_t i = 0; i < s->n; i++) {
    const sim_node *nd = &s->nodes[i];
    up += nd->state == SIM_NODE_UP;
    conn += nd->state == SIM_NODE_UP && has_established(nd->core);
  }
  fprintf(f,
          "stratosim: %u nodes, %.3f s virtual, seed %llu, crypto real\n"
          "  nodes: %llu joined, %llu up at end, %llu in session; "
          "%llu crashes, %llu leaves, %llu restarts\n"
          "  startup p50 %.1f ms, p99 %.1f ms; crash detected by peers "
          "%llu times, p50 %.1f s\n"
          "  network: %llu datagrams, %llu delivered, one-way delay p50 "
          "%.1f ms p99 %.1f ms\n"
          "  host: wall %.2f s, %llu events (%.0f events/s), peak RSS "
          "%.1f MiB, core memory peak %llu B total\n"
          "  host: CPU %.2f s, %.1f us per node per virtual second\n",
          s->n, (double)s->now / 1e9, (unsigned long long)s->cfg->seed,
          (unsigned long long)s->joins, (unsigned long long)up,
          (unsigned long long)conn, (unsigned long long)s->crashes,
          (unsigned long long)s->leaves, (unsigned long long)s->restarts,
          q_in(&s->startup, 0.5, 1e6), q_in(&s->startup, 0.99, 1e6),
          (unsigned long long)s->detections, q_in(&s->detect, 0.5, 1e9),
          (unsigned long long)ns->sent, (unsigned long long)ns->delivered,
          q_in(&s->owd, 0.5, 1e6), q_in(&s->owd, 0.99, 1e6), wall,
          (unsigned long long)s->events,
          wall > 0 ? (double)s->events / wall : 0.0, (double)rss_kib / 1024.0,
          (unsigned long long)s->mem_total_peak, cpu,
          s->n && s->now ? cpu * 1e6 / s->n / ((double)s->now / 1e9) : 0.0);
  sim_repl_summary(s, f);
  sim_stream_summary(s, f);
  sim_posts_summary(s, f);
  sim_route_summary(s, f);
}
