/*
 * sim_stream.h: the scenario's live stream as the simulator sees it,
 * shared by the runtime (sim_stream.c) and the report (sim_streamrep.c).
 *
 * One node publishes one stream in the first group; every other node asks
 * to play it at each start. The simulator knows every byte it published
 * (derived from the seed and the seq), so it checks every chunk a core
 * plays, and it times every play against the fragment's publication.
 * Forgers are ordinary nodes that also send forged fragments, forged
 * manifests and replays to their neighbours.
 */
#ifndef SIM_STREAM_H
#define SIM_STREAM_H

#include "sim_int.h"

#define SIM_LH_MIN_BITS                                                        \
  16                      /* per-node latencies below 2^16 ns share a bucket   \
                           */
#define SIM_LH_SUB 32     /* buckets per power of two */
#define SIM_LH_OCTAVES 21 /* up to 2^37 ns, about 137 s */
#define SIM_LH_BUCKETS (1 + SIM_LH_OCTAVES * SIM_LH_SUB)

/* A forger's state. */
typedef struct sim_forger {
  double rate;                      /* attacks a second; 0: stopped */
  uint32_t gen;                     /* the live EV_FORGE chain */
  sim_rng rng;                      /* its seqs and garbage */
  uint8_t sk[SC_STREAM_SECRET_LEN]; /* its own stream key */
} sim_forger;

/* What one node played and the stream counters of its cores. */
typedef struct sim_player {
  /* This start: the first seq it played (SIM_NONE before), the last, and
   * bit k of |ontime|: seq first_seq + k was played within the deadline. */
  uint64_t first_seq, last_seq;
  uint64_t seen_lo, seen_hi; /* the seqs of the last start that played */
  uint64_t *ontime;
  size_t ontime_words;
  /* Over every start: finished starts' eligible and on-time fragments,
   * plays, late plays, forged or out-of-order plays, starts in the stream
   * for SIM_SILENT_AFTER that played nothing, and the first start-up. */
  uint64_t eligible, on_time, played, late, forged, order_errors, silent;
  uint64_t first_startup; /* SIM_NONE: never played */
  uint32_t *lat;          /* latency histogram, allocated at the first play */
  uint64_t lat_max;
  /* Stream counters: earlier core instances' and the last sample. */
  sc_stream_stats past, cur;
  sim_forger *forger; /* NULL: honest */
} sim_player;

#define SIM_SILENT_AFTER (10 * SIM_S)
#define SIM_PUBLISHER_DOWN 1 /* publish_rv: it was not up at the start */

struct sim_stream {
  const sim_action *a; /* the stream statement */
  uint32_t pub;        /* the publisher */
  uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];
  uint8_t id[SC_STREAM_ID_LEN];
  size_t size;       /* every fragment's payload bytes */
  uint64_t t0;       /* the stream statement ran; SIM_NONE before */
  uint64_t stop_at;  /* publishing ended; SIM_NONE while it goes on */
  uint64_t span_end; /* counters frozen; SIM_NONE before */
  int live;          /* publishing */
  int publish_rv;    /* what sc_node_publish or the last fragment said, or
                        SIM_PUBLISHER_DOWN */
  uint32_t handle;
  uint64_t *pub_at; /* publication time of each seq */
  size_t npub, pub_cap;
  uint64_t keyframes, play_errors;
  uint8_t *cache; /* expected payloads of recent seqs, CACHE slots */
  uint64_t *cache_seq;
  sc_node_stats all0, all1, pub0, pub1; /* at t0 and at span_end */
  sim_player *pl;                       /* one per node */
  uint32_t n;
  sim_hist latency, stretch, startup; /* stretch in thousandths */
  uint64_t children_peak; /* the forgers' children, highest sample */
  uint64_t forged_sent, replays_sent, manifests_sent;
  uint32_t nforgers;
};

/* sim_stream_live_info copies what |nd|'s core says of the stream into
 * |out| and returns 1, or returns 0 when it has no core or no such
 * stream. */
int sim_stream_live_info(const struct sim_stream *ss, const sim_node *nd,
                         sc_stream_info *out);

/* sim_stream_counters fills |out| with |i|'s stream counters over every
 * core, up to the end of the span (now, if it has not ended). */
void sim_stream_counters(const sim *s, uint32_t i, sc_stream_stats *out);

/* sim_stream_stats_add adds every counter of |src| to |dst| (every member
 * of sc_stream_stats is a uint64_t counter). */
void sim_stream_stats_add(sc_stream_stats *dst, const sc_stream_stats *src);

/* sim_stream_incarnation counts the fragments node |nd|'s current start
 * (if it played) was eligible for up to |end| and how many of them it
 * played on time. */
void sim_stream_incarnation(const sim *s, const sim_node *nd, uint64_t end,
                            uint64_t *eligible, uint64_t *on_time);

/* sim_stream_overlap returns how long [|from|, |to|) overlaps the time the
 * stream was published. */
uint64_t sim_stream_overlap(const struct sim_stream *ss, uint64_t from,
                            uint64_t to);

/* sim_lh_median returns the median of a per-node latency histogram of
 * |n| samples whose largest is |max|. */
uint64_t sim_lh_median(const uint32_t *lat, uint64_t n, uint64_t max);

#endif /* SIM_STREAM_H */
