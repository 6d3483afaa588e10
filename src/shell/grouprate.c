/*
 * grouprate.c: group messaging rates (grouprate.h).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "grouprate.h"

#include <string.h>

const char *const sc_grouprate_names[SC_GROUPRATE_KINDS] = {
    "posting_send_data_bytes_per_s",    "posting_send_control_bytes_per_s",
    "posting_receive_data_bytes_per_s", "posting_receive_control_bytes_per_s",
    "routing_send_bytes_per_s",         "routing_receive_bytes_per_s",
    "replication_send_bytes_per_s",     "replication_receive_bytes_per_s",
};

static void counters(const sc_group_stats *st, uint64_t v[SC_GROUPRATE_KINDS]) {
  v[0] = st->post_data_bytes_sent;
  v[1] = st->post_control_bytes_sent;
  v[2] = st->post_data_bytes_received;
  v[3] = st->post_control_bytes_received;
  v[4] = st->route_bytes_sent;
  v[5] = st->route_bytes_received;
  v[6] = st->repl_bytes_sent;
  v[7] = st->repl_bytes_received;
}

void sc_grouprate_init(sc_grouprate *r) { memset(r, 0, sizeof(*r)); }

/* The series of group |id|, or SC_GROUPRATE_GROUPS. */
static size_t find(const sc_grouprate *r, const uint8_t *id) {
  size_t i;
  for (i = 0; i < SC_GROUPRATE_GROUPS; i++) {
    if (r->s[i].seen != 0 &&
        memcmp(r->s[i].group_id, id, SC_GROUP_ID_BYTES) == 0) {
      break;
    }
  }
  return i;
}

void sc_grouprate_sample(sc_grouprate *r, const sc_group_info *g, size_t n,
                         uint64_t now) {
  size_t i, k;
  r->round++;
  for (i = 0; i < n; i++) {
    size_t at = find(r, g[i].group_id);
    sc_grouprate_series *s = at < SC_GROUPRATE_GROUPS ? &r->s[at] : NULL;
    for (k = 0; s == NULL && k < SC_GROUPRATE_GROUPS; k++) {
      if (r->s[k].seen == 0) {
        s = &r->s[k];
        memset(s, 0, sizeof(*s));
        memcpy(s->group_id, g[i].group_id, SC_GROUP_ID_BYTES);
      }
    }
    if (s == NULL) {
      continue;
    }
    s->seen = r->round;
    s->at[s->head] = now;
    counters(&g[i].stats, s->v[s->head]);
    s->head = (s->head + 1) % SC_GROUPRATE_SLOTS;
    if (s->n < SC_GROUPRATE_SLOTS) {
      s->n++;
    }
  }
  for (k = 0; k < SC_GROUPRATE_GROUPS; k++) {
    if (r->s[k].seen != r->round) {
      r->s[k].seen = 0; /* left: its counters are gone with it */
    }
  }
}

int sc_grouprate_get(const sc_grouprate *r, const uint8_t *group_id,
                     double out[SC_GROUPRATE_KINDS]) {
  size_t at = find(r, group_id), newest, oldest, k;
  const sc_grouprate_series *s = at < SC_GROUPRATE_GROUPS ? &r->s[at] : NULL;
  double secs;
  memset(out, 0, SC_GROUPRATE_KINDS * sizeof(*out));
  if (s == NULL || s->n < 2) {
    return -1;
  }
  newest = (s->head + SC_GROUPRATE_SLOTS - 1) % SC_GROUPRATE_SLOTS;
  oldest = (s->head + SC_GROUPRATE_SLOTS - s->n) % SC_GROUPRATE_SLOTS;
  if (s->at[newest] <= s->at[oldest]) {
    return -1;
  }
  secs = (double)(s->at[newest] - s->at[oldest]) / 1e9;
  for (k = 0; k < SC_GROUPRATE_KINDS; k++) {
    /* Counters only grow; a smaller value would be a new core's. */
    uint64_t d = s->v[newest][k] >= s->v[oldest][k]
                     ? s->v[newest][k] - s->v[oldest][k]
                     : 0;
    out[k] = (double)d / secs;
  }
  return 0;
}
