/*
 * stats_stream.c: "show streams" and the stream metrics.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "stats_stream.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_macro.h"
#include "stats_mesh.h"

#define STREAM_LABEL_LEN 16 /* hex characters of the ID in a metric label */

/* A counter of sc_stream_stats, as a JSON member and a metric. */
struct stream_field {
  const char *name; /* JSON; the metric is stratocast_stream_NAME_total */
  const char *help;
  size_t off;
};

#define SC_SFIELD(f) offsetof(sc_stream_stats, f)

static const struct stream_field stream_fields[] = {
    {"fragments_from_source", "Fragments this node published.",
     SC_SFIELD(fragments_from_source)},
    {"bytes_from_source", "Payload bytes this node published.",
     SC_SFIELD(bytes_from_source)},
    {"fragments_pushed_to_peers", "Fragments pushed to neighbours.",
     SC_SFIELD(fragments_pushed_to_peers)},
    {"bytes_pushed_to_peers", "Fragment bytes pushed to neighbours.",
     SC_SFIELD(bytes_pushed_to_peers)},
    {"fragments_pushed_from_peers",
     "New fragments neighbours pushed to this node.",
     SC_SFIELD(fragments_pushed_from_peers)},
    {"bytes_pushed_from_peers",
     "Payload bytes of new fragments pushed to this node.",
     SC_SFIELD(bytes_pushed_from_peers)},
    {"fragments_requested_by_peers", "Fragments sent to answer pulls.",
     SC_SFIELD(fragments_requested_by_peers)},
    {"bytes_requested_by_peers", "Fragment bytes sent to answer pulls.",
     SC_SFIELD(bytes_requested_by_peers)},
    {"fragments_requested_from_peers", "Fragments this node pulled for.",
     SC_SFIELD(fragments_requested_from_peers)},
    {"fragments_pulled_from_peers", "New fragments that answered pulls.",
     SC_SFIELD(fragments_pulled_from_peers)},
    {"bytes_pulled_from_peers", "Payload bytes of answered pulls.",
     SC_SFIELD(bytes_pulled_from_peers)},
    {"fragments_received_unasked",
     "New fragments neither pushed by request nor pulled.",
     SC_SFIELD(fragments_received_unasked)},
    {"duplicates", "Fragments received again.", SC_SFIELD(duplicates)},
    {"duplicate_bytes", "Payload bytes of fragments received again.",
     SC_SFIELD(duplicate_bytes)},
    {"forgeries", "Forged fragments and manifests dropped.",
     SC_SFIELD(forgeries)},
    {"stale", "Fragments older than the window.", SC_SFIELD(stale)},
    {"push_drops", "Pushes a congested session could not take.",
     SC_SFIELD(push_drops)},
    {"pull_giveups", "Missing fragments given up on after every retry.",
     SC_SFIELD(pull_giveups)},
    {"fragments_played", "Fragments handed to the sink in order.",
     SC_SFIELD(fragments_played)},
    {"bytes_played", "Payload bytes handed to the sink.",
     SC_SFIELD(bytes_played)},
    {"gaps", "Gaps skipped while playing.", SC_SFIELD(gaps)},
    {"gap_fragments", "Fragments skipped in gaps.", SC_SFIELD(gap_fragments)},
    {"class_moves", "Push classes moved to another neighbour.",
     SC_SFIELD(class_moves)},
    {"retunes", "Times this node fell far behind and tuned in anew.",
     SC_SFIELD(retunes)},
    {"peers_banned", "Neighbours banned for forgeries or junk.",
     SC_SFIELD(peers_banned)},
    {"manifests_published", "Signed manifests this node published.",
     SC_SFIELD(manifests_published)},
    {"manifests_received", "Verified manifests received.",
     SC_SFIELD(manifests_received)},
};

static uint64_t field_value(const sc_stream_info *s,
                            const struct stream_field *f) {
  uint64_t v;
  memcpy(&v, (const char *)&s->stats + f->off, sizeof(v));
  return v;
}

struct stream_list {
  sc_stream_info *items;
  size_t n;
};

static int streams_fetch(const sc_node *node, struct stream_list *l) {
  size_t n = sc_node_streams(node, NULL, 0);
  l->n = 0;
  l->items = NULL;
  if (n == 0) {
    return 0;
  }
  l->items = calloc(n, sizeof(*l->items));
  if (l->items == NULL) {
    return -1;
  }
  l->n = SC_MIN(n, sc_node_streams(node, l->items, n));
  return 0;
}

/* A seq, or null for "none" (UINT64_MAX). */
static void json_seq(sc_json *j, uint64_t seq) {
  if (seq == UINT64_MAX) {
    sc_json_null(j);
  } else {
    sc_json_u64(j, seq);
  }
}

static void json_stream(sc_json *j, const sc_stream_info *s) {
  size_t i;
  sc_json_obj_begin(j);
  sc_json_key(j, "name");
  sc_json_str(j, s->name);
  sc_json_key(j, "stream_id");
  sc_stats_json_hex(j, s->stream_id, SC_STREAM_ID_LEN);
  sc_json_key(j, "publisher");
  sc_stats_json_hex(j, s->key, SC_STREAM_KEY_LEN);
  sc_json_key(j, "group_id");
  sc_stats_json_hex(j, s->group_id, SC_GROUP_ID_BYTES);
  sc_json_key(j, "roles");
  sc_json_arr_begin(j);
  if (s->roles & SC_STREAM_PUBLISHER) {
    sc_json_str(j, "publisher");
  }
  if (s->roles & SC_STREAM_RELAY) {
    sc_json_str(j, "relay");
  }
  if (s->roles & SC_STREAM_PLAYING) {
    sc_json_str(j, "playing");
  }
  sc_json_arr_end(j);
  sc_json_key(j, "latest_seq");
  json_seq(j, s->top);
  sc_json_key(j, "start_seq");
  json_seq(j, s->start);
  sc_json_key(j, "next_play_seq");
  json_seq(j, s->next_play);
  sc_json_key(j, "peers");
  sc_json_u64(j, s->peers);
  sc_json_key(j, "pushers");
  sc_json_u64(j, s->pushers);
  sc_json_key(j, "children");
  sc_json_u64(j, s->children);
  sc_json_key(j, "fragments_held");
  sc_json_u64(j, s->fragments_held);
  sc_json_key(j, "bytes_held");
  sc_json_u64(j, s->bytes_held);
  sc_json_key(j, "pending");
  sc_json_u64(j, s->pending);
  /* µs / 1000 = ms with three decimals. */
  sc_json_key(j, "latency_ms");
  sc_json_fixed3(j, s->latency_us);
  sc_json_key(j, "latency_max_ms");
  sc_json_fixed3(j, s->latency_max_us);
  for (i = 0; i < SC_ARRAY_LEN(stream_fields); i++) {
    sc_json_key(j, stream_fields[i].name);
    sc_json_u64(j, field_value(s, &stream_fields[i]));
  }
  sc_json_obj_end(j);
}

int sc_stats_answer_streams(const sc_stats_view *v, sc_textbuf *out) {
  struct stream_list l;
  sc_json j;
  size_t i;
  if (streams_fetch(v->node, &l) != 0) {
    return -1;
  }
  sc_json_init(&j, out);
  sc_json_arr_begin(&j);
  for (i = 0; i < l.n; i++) {
    json_stream(&j, &l.items[i]);
  }
  sc_json_arr_end(&j);
  sc_textbuf_append(out, "\n", 1);
  free(l.items);
  return 0;
}

/* The label of stream |s|: the first 16 hex characters of its ID. */
static const char *stream_label(const sc_stream_info *s, char *buf) {
  sc_hex(buf, s->stream_id, SC_STREAM_ID_LEN);
  buf[STREAM_LABEL_LEN] = '\0';
  return buf;
}

int sc_stats_metrics_stream(const sc_stats_view *v, sc_textbuf *out) {
  struct stream_list l;
  char name[96], label[2 * SC_STREAM_ID_LEN + 1];
  size_t i, k;
  if (streams_fetch(v->node, &l) != 0) {
    return -1;
  }
  for (k = 0; k < SC_ARRAY_LEN(stream_fields); k++) {
    snprintf(name, sizeof(name), "stratocast_stream_%s_total",
             stream_fields[k].name);
    sc_stats_metric_head(out, name, "counter", stream_fields[k].help);
    for (i = 0; i < l.n; i++) {
      sc_stats_metric_u64(out, name, "stream", stream_label(&l.items[i], label),
                          field_value(&l.items[i], &stream_fields[k]));
    }
  }
  sc_stats_metric_head(out, "stratocast_stream_latest_seq", "gauge",
                       "The highest authentic seq held.");
  for (i = 0; i < l.n; i++) {
    if (l.items[i].top != UINT64_MAX) {
      sc_stats_metric_u64(out, "stratocast_stream_latest_seq", "stream",
                          stream_label(&l.items[i], label), l.items[i].top);
    }
  }
  /* In seconds, the base unit promtool asks for, with microsecond
   * precision. */
  sc_stats_metric_head(out, "stratocast_stream_latency_seconds", "gauge",
                       "Smoothed delay from the publisher's timestamp to "
                       "arrival (meaningful when the clocks agree).");
  for (i = 0; i < l.n; i++) {
    sc_textbuf_printf(out,
                      "stratocast_stream_latency_seconds{stream=\"%s\"} "
                      "%llu.%06llu\n",
                      stream_label(&l.items[i], label),
                      (unsigned long long)(l.items[i].latency_us / 1000000),
                      (unsigned long long)(l.items[i].latency_us % 1000000));
  }
  sc_stats_metric_head(out, "stratocast_stream_pushers", "gauge",
                       "Neighbours pushing classes of the stream here.");
  for (i = 0; i < l.n; i++) {
    sc_stats_metric_u64(out, "stratocast_stream_pushers", "stream",
                        stream_label(&l.items[i], label), l.items[i].pushers);
  }
  sc_stats_metric_head(out, "stratocast_stream_children", "gauge",
                       "Neighbours this node pushes classes to.");
  for (i = 0; i < l.n; i++) {
    sc_stats_metric_u64(out, "stratocast_stream_children", "stream",
                        stream_label(&l.items[i], label), l.items[i].children);
  }
  free(l.items);
  return out->oom ? -1 : 0;
}
