/*
 * sim_hist.h: a fixed-size log-linear histogram for latency-like values.
 *
 * Values below 64 have a bucket each; above, every power of two is split
 * into 32 buckets, so a quantile is exact to within 1/32 (3%) of its value.
 * Adding is O(1) and the memory is fixed, whatever the number of samples.
 */
#ifndef SIM_HIST_H
#define SIM_HIST_H

#include <stdint.h>

#define SIM_HIST_SUB 32
#define SIM_HIST_BUCKETS (64 + 59 * SIM_HIST_SUB)

typedef struct sim_hist {
  uint64_t count;
  uint64_t min, max;
  double sum;
  uint64_t b[SIM_HIST_BUCKETS];
} sim_hist;

/* sim_hist_init empties |h|. */
void sim_hist_init(sim_hist *h);

/* sim_hist_add records |v|. */
void sim_hist_add(sim_hist *h, uint64_t v);

/* sim_hist_quantile returns a value v such that a fraction |q| (0..1) of
 * the samples are <= v: the upper end of the bucket holding the q-th
 * sample, clamped to [min, max]. 0 when empty. */
uint64_t sim_hist_quantile(const sim_hist *h, double q);

/* sim_hist_mean returns the mean, 0 when empty. */
double sim_hist_mean(const sim_hist *h);

#endif /* SIM_HIST_H */
