/*
 * sim_rng.c: xoshiro256** (Blackman and Vigna) seeded with splitmix64.
 */
#include "sim_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream) {
  /* Mix the stream number in before expanding, so streams 1 and 2 of seed
   * 7 share nothing with streams of seed 8. */
  uint64_t x = seed ^ splitmix64(&stream);
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
}

uint64_t sim_rng_u64(sim_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double sim_rng_unit(sim_rng *r) {
  return (double)(sim_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t sim_rng_below(sim_rng *r, uint64_t n) {
  if (n == 0)
    return 0;
  /* Rejection keeps the result exactly uniform. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do
    v = sim_rng_u64(r);
  while (v >= limit);
  return v % n;
}

int sim_rng_chance(sim_rng *r, double p) {
  if (p <= 0.0)
    return 0;
  if (p >= 1.0)
    return 1;
  return sim_rng_unit(r) < p;
}

uint64_t sim_rng_exp(sim_rng *r, double mean) {
  double u = sim_rng_unit(r);
  double v = -log1p(-u) * mean;
  return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

double sim_rng_normal(sim_rng *r) {
  double u1 = sim_rng_unit(r), u2 = sim_rng_unit(r);
  return sqrt(-2.0 * log1p(-u1)) * cos(6.283185307179586 * u2);
}

void sim_rng_bytes(sim_rng *r, uint8_t *buf, size_t len) {
  while (len > 0) {
    uint64_t v = sim_rng_u64(r);
    for (int i = 0; i < 8 && len > 0; i++, len--) {
      *buf++ = (uint8_t)v;
      v >>= 8;
    }
  }
}
