/*
 * fuzz_common.h: what the fuzz harnesses share: a live pair of nodes on
 * the in-memory wire, a way to seal chosen plaintext with a live
 * session's keys, and the seed-corpus writer.
 */
#ifndef SC_FUZZ_COMMON_H
#define SC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "testnet.h"

/* The entry point every harness defines (libFuzzer's). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seeds: each harness defines fuzz_seeds, which calls |emit| once per
 * seed input. The corpus-replay driver writes them with --seeds DIR. */
typedef void (*fuzz_emit_fn)(void *arg, const uint8_t *data, size_t len);
void fuzz_seeds(fuzz_emit_fn emit, void *arg);

/* fuzz_pair creates a network where node 1 has an established session
 * with node 0 (both sides confirmed). Aborts if that fails: the harness
 * itself is broken then. */
tn *fuzz_pair(void);

/* fuzz_seal writes into |out| (SC_MAX_PACKET bytes) a DATA packet from
 * node |from| to its peer over their session, carrying |plain| of |len|
 * bytes (truncated to fit) as the sealed payload. Returns its length. */
size_t fuzz_seal(tn *net, int from, const uint8_t *plain, size_t len,
                 uint8_t *out);

/* A cursor over the fuzz input: records of [kind u8][len u16][bytes]. */
typedef struct fuzz_rec {
  uint8_t kind;
  const uint8_t *data;
  size_t len;
} fuzz_rec;

/* fuzz_next reads one record; returns 0 at the end. Short input yields a
 * short final record rather than nothing. */
int fuzz_next(const uint8_t **p, size_t *left, fuzz_rec *r);

/* fuzz_put_rec appends a record to |buf| at |*len| (cap |cap|). */
void fuzz_put_rec(uint8_t *buf, size_t *len, size_t cap, uint8_t kind,
                  const uint8_t *data, size_t dlen);

#endif /* SC_FUZZ_COMMON_H */
