/*
 * stats_mesh.c: the stats socket's answers about groups, neighbours and
 * the peer history, and their metrics.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "stats_mesh.h"

#include <stdlib.h>
#include <string.h>

#include "sc_macro.h"

#define GROUP_ID_HEXLEN (2 * SC_GROUP_ID_BYTES + 1)
#define GROUP_LABEL_LEN 16 /* hex characters of the ID in a metric label */

/* A counter of sc_group_stats, as a JSON member and a metric. */
struct group_field {
  const char *name; /* JSON; the metric is stratocast_group_NAME_total */
  const char *help;
  size_t off;
};

#define SC_GFIELD(f) offsetof(sc_group_stats, f)

static const struct group_field group_fields[] = {
    {"hellos_refused", "Membership proofs of peers that failed.",
     SC_GFIELD(hellos_refused)},
    {"reports_sent", "Membership reports sent.", SC_GFIELD(reports_sent)},
    {"reports_received", "Membership reports received.",
     SC_GFIELD(reports_received)},
    {"entries_refused", "Reported members refused over a table cap.",
     SC_GFIELD(entries_refused)},
    {"members_expired", "Member table entries that aged out.",
     SC_GFIELD(members_expired)},
    {"neighbors_dead", "Neighbours declared dead after a silence.",
     SC_GFIELD(neighbors_dead)},
    {"connects", "Connections started toward members.", SC_GFIELD(connects)},
    {"connect_failures",
     "Connections toward members that did not come up in time.",
     SC_GFIELD(connect_failures)},
    {"sheds", "Sessions no group needed, closed.", SC_GFIELD(sheds)},
    {"posts_sent", "Posts this node made.", SC_GFIELD(posts_sent)},
    {"posts_received", "Posts of others delivered here, each once.",
     SC_GFIELD(posts_received)},
    {"posts_duplicate", "Copies of posts already delivered.",
     SC_GFIELD(posts_duplicate)},
    {"posts_dropped",
     "Posts dropped over their origin's rate or a link's "
     "budget.",
     SC_GFIELD(posts_dropped)},
    {"posts_refused", "Posting messages in a group without posting.",
     SC_GFIELD(posts_refused)},
    {"posts_forwarded", "POSTs sent: own, handed on and repairs.",
     SC_GFIELD(posts_forwarded)},
    {"post_repairs_asked", "Posts asked for after an IHAVE (IWANTs).",
     SC_GFIELD(post_repairs_asked)},
    {"routes_sent", "Routed messages this node sent.", SC_GFIELD(routes_sent)},
    {"routes_received", "Routed messages delivered here.",
     SC_GFIELD(routes_received)},
    {"routes_forwarded", "Routed messages handed on toward their target.",
     SC_GFIELD(routes_forwarded)},
    {"routes_dropped",
     "Routed messages dropped: hop limit, no route or not "
     "exact.",
     SC_GFIELD(routes_dropped)},
    {"routes_refused", "Routing messages in a group without routing.",
     SC_GFIELD(routes_refused)},
    {"objects_fetched", "Objects fetched from neighbours and stored.",
     SC_GFIELD(objects_fetched)},
    {"objects_served", "Objects sent to neighbours that asked.",
     SC_GFIELD(objects_served)},
    {"fetches_sent", "Requests for objects.", SC_GFIELD(fetches_sent)},
    {"fetches_failed", "Requests for objects unanswered or denied.",
     SC_GFIELD(fetches_failed)},
    {"repl_refused", "Replication messages in a group without replication.",
     SC_GFIELD(repl_refused)},
    {"repl_dropped",
     "Replication messages malformed, unasked, or from a "
     "link cut off.",
     SC_GFIELD(repl_dropped)},
    {"post_data_bytes_sent", "Bytes of POST bodies sent.",
     SC_GFIELD(post_data_bytes_sent)},
    {"post_data_bytes_received", "Bytes of POST bodies received.",
     SC_GFIELD(post_data_bytes_received)},
    {"post_control_bytes_sent", "Bytes of IHAVE and IWANT bodies sent.",
     SC_GFIELD(post_control_bytes_sent)},
    {"post_control_bytes_received", "Bytes of IHAVE and IWANT bodies received.",
     SC_GFIELD(post_control_bytes_received)},
    {"route_bytes_sent", "Bytes of routing message bodies sent.",
     SC_GFIELD(route_bytes_sent)},
    {"route_bytes_received", "Bytes of routing message bodies received.",
     SC_GFIELD(route_bytes_received)},
    {"repl_bytes_sent", "Bytes of replication message bodies sent.",
     SC_GFIELD(repl_bytes_sent)},
    {"repl_bytes_received", "Bytes of replication message bodies received.",
     SC_GFIELD(repl_bytes_received)},
};

static uint64_t group_field_value(const sc_group_info *g,
                                  const struct group_field *f) {
  uint64_t v;
  memcpy(&v, (const char *)&g->stats + f->off, sizeof(v));
  return v;
}

/* The gauges of sc_group_info. */
enum group_gauge { GAUGE_KNOWN, GAUGE_ESTIMATE, GAUGE_NEIGHBORS, GAUGE_TARGET };

static const struct {
  const char *metric;
  const char *help;
  int which; /* enum group_gauge */
} group_gauges[] = {
    {"stratocast_group_members_known", "Members in the group's table.",
     GAUGE_KNOWN},
    {"stratocast_group_estimated_members",
     "Estimated members of the group, this node included.", GAUGE_ESTIMATE},
    {"stratocast_group_neighbors",
     "Neighbours in the group: chosen by this node or choosing it.",
     GAUGE_NEIGHBORS},
    {"stratocast_group_neighbor_target",
     "Neighbours this node chooses in the group.", GAUGE_TARGET},
};

static uint64_t group_gauge_value(const sc_group_info *g, int which) {
  switch (which) {
  case GAUGE_KNOWN:
    return g->members_known;
  case GAUGE_ESTIMATE:
    return g->estimated_members;
  case GAUGE_NEIGHBORS:
    return g->neighbors;
  default:
    return g->target;
  }
}

struct bit_name {
  unsigned bit;
  const char *name;
};

/* sc_group_info.features */
static const struct bit_name feature_names[] = {
    {1, "multicast"}, {2, "posting"}, {4, "routing"}, {8, "replication"}};

/* enum sc_neighbor_reason */
static const struct bit_name reason_names[] = {{SC_NB_RING, "ring"},
                                               {SC_NB_LOOKUP, "lookup"},
                                               {SC_NB_LATENCY, "latency"},
                                               {SC_NB_RANDOM, "random"},
                                               {SC_NB_ACCEPTED, "accepted"}};

/* The node's groups, read once per answer. */
struct group_list {
  sc_group_info *items;
  size_t n;
};

static int groups_fetch(const sc_node *node, struct group_list *l) {
  size_t n = sc_node_groups(node, NULL, 0);
  l->n = 0;
  l->items = NULL;
  if (n == 0) {
    return 0;
  }
  l->items = calloc(n, sizeof(*l->items));
  if (l->items == NULL) {
    return -1;
  }
  l->n = SC_MIN(n, sc_node_groups(node, l->items, n));
  return 0;
}

void sc_stats_json_hex(sc_json *j, const uint8_t *b, size_t len) {
  char hex[2 * 32 + 1];
  sc_json_str(j, sc_hex(hex, b, SC_MIN(len, (size_t)32)));
}

/* |milli| / 1000 with three decimals, or null when it is 0 (unknown). */
static void json_milli_or_null(sc_json *j, uint64_t milli) {
  if (milli != 0) {
    sc_json_fixed3(j, milli);
  } else {
    sc_json_null(j);
  }
}

/* An array of the names in |t| (|n| entries) of the bits set in |bits|. */
static void json_bit_names(sc_json *j, unsigned bits, const struct bit_name *t,
                           size_t n) {
  size_t i;
  sc_json_arr_begin(j);
  for (i = 0; i < n; i++) {
    if ((bits & t[i].bit) != 0) {
      sc_json_str(j, t[i].name);
    }
  }
  sc_json_arr_end(j);
}

/* The NetGroupInfo rates of |g|: null until two samples exist. */
static void json_rates(sc_json *j, const sc_grouprate *rates,
                       const sc_group_info *g) {
  double r[SC_GROUPRATE_KINDS];
  size_t i;
  sc_json_key(j, "rates");
  if (rates == NULL || sc_grouprate_get(rates, g->group_id, r) != 0) {
    sc_json_null(j);
    return;
  }
  sc_json_obj_begin(j);
  for (i = 0; i < SC_GROUPRATE_KINDS; i++) {
    sc_json_key(j, sc_grouprate_names[i]);
    sc_json_u64(j, (uint64_t)(r[i] + 0.5));
  }
  sc_json_obj_end(j);
}

static void json_group(sc_json *j, const sc_group_info *g, const char *name,
                       const sc_grouprate *rates) {
  size_t i;
  sc_json_obj_begin(j);
  sc_json_key(j, "name");
  if (name != NULL) {
    sc_json_str(j, name);
  } else {
    sc_json_null(j);
  }
  sc_json_key(j, "group_id");
  sc_stats_json_hex(j, g->group_id, SC_GROUP_ID_BYTES);
  sc_json_key(j, "address");
  sc_stats_json_hex(j, g->address, SC_GROUP_ADDR_BYTES);
  sc_json_key(j, "features");
  json_bit_names(j, g->features, feature_names, SC_ARRAY_LEN(feature_names));
  sc_json_key(j, "has_secret");
  sc_json_bool(j, g->has_secret);
  sc_json_key(j, "members_known");
  sc_json_u64(j, g->members_known);
  sc_json_key(j, "estimated_members");
  sc_json_u64(j, g->estimated_members);
  sc_json_key(j, "neighbors");
  sc_json_u64(j, g->neighbors);
  sc_json_key(j, "target");
  sc_json_u64(j, g->target);
  for (i = 0; i < SC_ARRAY_LEN(group_fields); i++) {
    sc_json_key(j, group_fields[i].name);
    sc_json_u64(j, group_field_value(g, &group_fields[i]));
  }
  json_rates(j, rates, g);
  sc_json_obj_end(j);
}

int sc_stats_answer_groups(const sc_stats_view *v, sc_textbuf *out) {
  struct group_list l;
  sc_json j;
  size_t i;
  if (groups_fetch(v->node, &l) != 0) {
    return -1;
  }
  sc_json_init(&j, out);
  sc_json_arr_begin(&j);
  for (i = 0; i < l.n; i++) {
    json_group(&j, &l.items[i], i < v->ngroup_names ? v->group_names[i] : NULL,
               v->rates);
  }
  sc_json_arr_end(&j);
  sc_textbuf_append(out, "\n", 1);
  free(l.items);
  return 0;
}

static void json_neighbor(sc_json *j, const uint8_t *group_id,
                          const sc_neighbor_info *nb, uint64_t now) {
  char addr[SC_ADDR_STRLEN];
  sc_json_obj_begin(j);
  sc_json_key(j, "group_id");
  sc_stats_json_hex(j, group_id, SC_GROUP_ID_BYTES);
  sc_json_key(j, "peer_id");
  sc_stats_json_hex(j, nb->peer_id, SC_PEER_ID_LEN);
  sc_json_key(j, "address");
  sc_stats_json_hex(j, nb->address, SC_GROUP_ADDR_BYTES);
  sc_json_key(j, "addr");
  sc_json_str(j, sc_addr_format(&nb->addr, addr));
  sc_json_key(j, "distance");
  sc_stats_json_hex(j, nb->distance, SC_GROUP_ADDR_BYTES);
  sc_json_key(j, "reasons");
  json_bit_names(j, nb->reasons, reason_names, SC_ARRAY_LEN(reason_names));
  /* Nanoseconds / 1000 = thousandths of a millisecond. */
  sc_json_key(j, "rtt_ms");
  json_milli_or_null(j, nb->rtt_ns / 1000);
  sc_json_key(j, "age_s");
  sc_json_fixed3(j, (now > nb->since ? now - nb->since : 0) / SC_MS);
  sc_json_obj_end(j);
}

/* Appends group |index|'s neighbours. Returns 0 or -1 (out of memory). */
static int json_group_neighbors(sc_json *j, const sc_stats_view *v,
                                size_t index, const uint8_t *group_id) {
  sc_neighbor_info *nb;
  size_t i, n = sc_node_neighbors(v->node, index, NULL, 0);
  if (n == 0) {
    return 0;
  }
  nb = calloc(n, sizeof(*nb));
  if (nb == NULL) {
    return -1;
  }
  n = SC_MIN(n, sc_node_neighbors(v->node, index, nb, n));
  for (i = 0; i < n; i++) {
    json_neighbor(j, group_id, &nb[i], v->now);
  }
  free(nb);
  return 0;
}

int sc_stats_answer_neighbors(const sc_stats_view *v, sc_textbuf *out) {
  struct group_list l;
  sc_json j;
  size_t i;
  int rc = 0;
  if (groups_fetch(v->node, &l) != 0) {
    return -1;
  }
  sc_json_init(&j, out);
  sc_json_arr_begin(&j);
  for (i = 0; i < l.n && rc == 0; i++) {
    rc = json_group_neighbors(&j, v, i, l.items[i].group_id);
  }
  sc_json_arr_end(&j);
  sc_textbuf_append(out, "\n", 1);
  free(l.items);
  return rc;
}

/* State of a walk over the history. */
struct history_walk {
  sc_json j;
  size_t n;
};

static void json_unix(sc_json *j, int64_t t) {
  sc_json_u64(j, t > 0 ? (uint64_t)t : 0);
}

static int history_row(void *arg, const sc_store_peer *p) {
  struct history_walk *w = arg;
  sc_json *j = &w->j;
  sc_json_obj_begin(j);
  sc_json_key(j, "peer_id");
  sc_stats_json_hex(j, p->peer_id, SC_PEER_ID_LEN);
  sc_json_key(j, "addr");
  if (p->addr.family == SC_AF_INET || p->addr.family == SC_AF_INET6) {
    char addr[SC_ADDR_STRLEN];
    sc_json_str(j, sc_addr_format(&p->addr, addr));
  } else {
    sc_json_null(j);
  }
  sc_json_key(j, "first_seen");
  json_unix(j, p->first_seen);
  sc_json_key(j, "last_seen");
  json_unix(j, p->last_seen);
  sc_json_key(j, "sessions");
  sc_json_u64(j, p->sessions);
  sc_json_key(j, "failures");
  sc_json_u64(j, p->failures);
  /* Microseconds = thousandths of a millisecond. */
  sc_json_key(j, "rtt_ms");
  json_milli_or_null(j, p->rtt_us);
  sc_json_key(j, "bytes_sent");
  sc_json_u64(j, p->bytes_sent);
  sc_json_key(j, "bytes_received");
  sc_json_u64(j, p->bytes_received);
  sc_json_key(j, "score");
  sc_json_fixed3(j, p->score > 0 ? (uint64_t)(p->score * 1000.0 + 0.5) : 0);
  sc_json_obj_end(j);
  return ++w->n >= SC_STATS_HISTORY_MAX || j->out->oom;
}

int sc_stats_answer_history(const sc_stats_view *v, sc_textbuf *out) {
  struct history_walk w;
  sc_textbuf rows;
  int rc;
  if (v->store == NULL) {
    sc_textbuf_puts(out, "[]\n");
    return 0;
  }
  /* Rows go to a buffer of their own so that a read failing half-way
   * leaves nothing but the error object. */
  sc_textbuf_init(&rows, out->max);
  memset(&w, 0, sizeof(w));
  sc_json_init(&w.j, &rows);
  sc_json_arr_begin(&w.j);
  rc = sc_store_each(v->store, history_row, &w);
  sc_json_arr_end(&w.j);
  sc_textbuf_append(&rows, "\n", 1);
  if (rows.oom) {
    rc = -1;
  } else if (rc != 0) {
    sc_stats_answer_error(out, "history unreadable", NULL, 0);
    rc = 1;
  } else {
    sc_textbuf_append(out, rows.data, rows.len);
  }
  sc_textbuf_free(&rows);
  return rc;
}

/* One metric with a sample per group; |field| is a counter of
 * group_fields, or NULL for gauge |gauge| of group_gauges. */
static void metric_per_group(sc_textbuf *b, const struct group_list *l,
                             const struct group_field *field, size_t gauge) {
  char name[96], label[GROUP_ID_HEXLEN];
  size_t i;
  if (field != NULL) {
    snprintf(name, sizeof(name), "stratocast_group_%s_total", field->name);
    sc_stats_metric_head(b, name, "counter", field->help);
  } else {
    snprintf(name, sizeof(name), "%s", group_gauges[gauge].metric);
    sc_stats_metric_head(b, name, "gauge", group_gauges[gauge].help);
  }
  for (i = 0; i < l->n; i++) {
    const sc_group_info *g = &l->items[i];
    sc_hex(label, g->group_id, SC_GROUP_ID_BYTES);
    label[GROUP_LABEL_LEN] = '\0';
    sc_stats_metric_u64(b, name, "group", label,
                        field != NULL
                            ? group_field_value(g, field)
                            : group_gauge_value(g, group_gauges[gauge].which));
  }
}

static void metric_history(sc_textbuf *b, const sc_store *store) {
  sc_store_stats st;
  memset(&st, 0, sizeof(st));
  if (store != NULL) {
    sc_store_get_stats(store, &st);
  }
  sc_stats_metric_head(b, "stratocast_history_flushes_total", "counter",
                       "Peer history transactions committed.");
  sc_stats_metric_u64(b, "stratocast_history_flushes_total", NULL, NULL,
                      st.flushes);
  sc_stats_metric_head(b, "stratocast_history_flush_errors_total", "counter",
                       "Peer history transactions that failed (their "
                       "changes are kept for the next).");
  sc_stats_metric_u64(b, "stratocast_history_flush_errors_total", NULL, NULL,
                      st.flush_errors);
  sc_stats_metric_head(b, "stratocast_history_pending", "gauge",
                       "Peers with history changes not written yet.");
  sc_stats_metric_u64(b, "stratocast_history_pending", NULL, NULL,
                      store != NULL ? sc_store_pending(store) : 0);
}

int sc_stats_metrics_mesh(const sc_stats_view *v, sc_textbuf *out) {
  struct group_list l;
  size_t i;
  if (groups_fetch(v->node, &l) != 0) {
    return -1;
  }
  /* A node in no group has no group metrics at all. */
  for (i = 0; l.n > 0 && i < SC_ARRAY_LEN(group_gauges); i++) {
    metric_per_group(out, &l, NULL, i);
  }
  for (i = 0; l.n > 0 && i < SC_ARRAY_LEN(group_fields); i++) {
    metric_per_group(out, &l, &group_fields[i], 0);
  }
  metric_history(out, v->store);
  free(l.items);
  return 0;
}
