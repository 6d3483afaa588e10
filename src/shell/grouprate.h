/*
 * grouprate.h: the group messaging rates of "show groups", as the
 * anchor's NetGroupInfo gives them: bytes a second sent and received for
 * posting (data and control), routing and object replication, over the
 * last 10 s. The daemon samples the core's byte counters once a second;
 * this module keeps the samples and turns them into rates.
 */
#ifndef SC_SHELL_GROUPRATE_H
#define SC_SHELL_GROUPRATE_H

#include <stddef.h>
#include <stdint.h>

#include "stratocast.h"

#define SC_GROUPRATE_KINDS 8  /* the rates of a group, as sc_grouprate_names */
#define SC_GROUPRATE_SLOTS 11 /* samples kept: one a second, 10 s apart */
#define SC_GROUPRATE_GROUPS 8 /* groups followed */

typedef struct sc_grouprate_series {
  uint8_t group_id[SC_GROUP_ID_BYTES];
  uint64_t seen; /* the sampling round it was last seen in, 0: unused */
  uint64_t at[SC_GROUPRATE_SLOTS];
  uint64_t v[SC_GROUPRATE_SLOTS][SC_GROUPRATE_KINDS];
  size_t n, head; /* samples held; the slot of the next one */
} sc_grouprate_series;

typedef struct sc_grouprate {
  sc_grouprate_series s[SC_GROUPRATE_GROUPS];
  uint64_t round;
} sc_grouprate;

/* sc_grouprate_names lists the JSON names of the rates, in order. */
extern const char *const sc_grouprate_names[SC_GROUPRATE_KINDS];

/* sc_grouprate_init empties |r|. */
void sc_grouprate_init(sc_grouprate *r);

/* sc_grouprate_sample records the counters of the |n| groups of |g| at
 * |now| (monotonic ns). A group not in |g| is forgotten, and a group seen
 * for the first time starts a new series. */
void sc_grouprate_sample(sc_grouprate *r, const sc_group_info *g, size_t n,
                         uint64_t now);

/* sc_grouprate_get fills |out| with the bytes a second of group |group_id|
 * between its oldest and newest samples, at most 10 s apart. Returns 0, or
 * -1 when there are fewer than two samples (|out| is zeroed). */
int sc_grouprate_get(const sc_grouprate *r, const uint8_t *group_id,
                     double out[SC_GROUPRATE_KINDS]);

#endif /* SC_SHELL_GROUPRATE_H */
