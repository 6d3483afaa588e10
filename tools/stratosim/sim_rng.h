/*
 * sim_rng.h: the simulator's deterministic random numbers.
 *
 * xoshiro256** seeded through splitmix64. Every consumer of randomness in
 * stratosim (the network model, each node's core, the scenario's churn)
 * owns its own stream derived from the run's seed and a stream number, so
 * that adding draws in one place never shifts another's sequence. Not
 * cryptographic: the simulator stands in for the host's CSPRNG only so that
 * a run can be replayed byte for byte.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_rng {
  uint64_t s[4];
} sim_rng;

/* sim_rng_seed makes |r| the stream |stream| of the run seeded by |seed|. */
void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream);

/* sim_rng_u64 returns the next 64 random bits. */
uint64_t sim_rng_u64(sim_rng *r);

/* sim_rng_unit returns a double uniform in [0, 1). */
double sim_rng_unit(sim_rng *r);

/* sim_rng_below returns an integer uniform in [0, n); 0 when n is 0. */
uint64_t sim_rng_below(sim_rng *r, uint64_t n);

/* sim_rng_chance returns 1 with probability |p| (p <= 0: never, p >= 1:
 * always, and then no draw is made). */
int sim_rng_chance(sim_rng *r, double p);

/* sim_rng_exp returns an exponentially distributed value of mean |mean|,
 * rounded down. */
uint64_t sim_rng_exp(sim_rng *r, double mean);

/* sim_rng_normal returns a standard normal deviate (Box-Muller). */
double sim_rng_normal(sim_rng *r);

/* sim_rng_bytes fills |buf| with |len| random bytes. */
void sim_rng_bytes(sim_rng *r, uint8_t *buf, size_t len);

#endif /* SIM_RNG_H */
