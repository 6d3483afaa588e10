/*
 * sim_hist.c: log-linear histogram buckets.
 */
#include "sim_hist.h"

#include <string.h>

void sim_hist_init(sim_hist *h) {
  memset(h, 0, sizeof(*h));
  h->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v) {
  if (v < 64)
    return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 6..63 */
  unsigned sub = (unsigned)((v >> (e - 5)) & (SIM_HIST_SUB - 1));
  return 64 + (e - 6) * SIM_HIST_SUB + sub;
}

/* The largest value that falls in bucket |b|. */
static uint64_t bucket_top(unsigned b) {
  if (b < 64)
    return b;
  unsigned e = (b - 64) / SIM_HIST_SUB + 6;
  uint64_t sub = (b - 64) % SIM_HIST_SUB;
  uint64_t lo = ((uint64_t)SIM_HIST_SUB + sub) << (e - 5);
  return lo + (((uint64_t)1 << (e - 5)) - 1);
}

void sim_hist_add(sim_hist *h, uint64_t v) {
  h->b[bucket_of(v)]++;
  h->count++;
  h->sum += (double)v;
  if (v < h->min)
    h->min = v;
  if (v > h->max)
    h->max = v;
}

uint64_t sim_hist_quantile(const sim_hist *h, double q) {
  if (h->count == 0)
    return 0;
  if (q < 0.0)
    q = 0.0;
  if (q > 1.0)
    q = 1.0;
  /* The rank of the sample wanted, 1-based. */
  uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
  if (rank == 0)
    rank = 1;
  uint64_t seen = 0;
  for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++) {
    seen += h->b[b];
    if (seen >= rank) {
      uint64_t v = bucket_top(b);
      return v < h->min ? h->min : v > h->max ? h->max : v;
    }
  }
  return h->max;
}

double sim_hist_mean(const sim_hist *h) {
  return h->count ? h->sum / (double)h->count : 0.0;
}
