/*
 * sc_cookie.h: stateless address-validation cookies (doc/protocol.md §5).
 *
 * A cookie is a 4-byte timestamp (whole seconds of the node's clock) and a
 * 16-byte keyed BLAKE2b MAC over the address and the timestamp. The MAC key
 * rotates every |period|; the previous key is kept, so a cookie stays
 * verifiable for its whole |lifetime| (lifetime <= period). Verifying keeps
 * no state and does no DH.
 */
#ifndef SC_COOKIE_H
#define SC_COOKIE_H

#include <stdint.h>

#include "stratocast.h"

#define SC_COOKIE_LEN 20
#define SC_COOKIE_SECRET_LEN 32

typedef struct sc_cookie_jar {
  uint8_t cur[SC_COOKIE_SECRET_LEN];
  uint8_t prev[SC_COOKIE_SECRET_LEN];
  uint64_t epoch;    /* epoch of |cur|: floor(seconds / period_s) */
  int has_prev;      /* |prev| holds the key of epoch - 1 */
  uint64_t period;   /* nanoseconds */
  uint64_t lifetime; /* nanoseconds */
} sc_cookie_jar;

/* sc_cookie_init sets up |jar| with |secret| as the key of the epoch that
 * contains |now|. |period| and |lifetime| are in nanoseconds, both at least
 * one second, lifetime <= period. Returns 0 or SC_ERR_INVALID_ARG. */
int sc_cookie_init(sc_cookie_jar *jar, const uint8_t *secret, uint64_t now,
                   uint64_t period, uint64_t lifetime);

/* sc_cookie_next_rotation returns when the current epoch ends. */
uint64_t sc_cookie_next_rotation(const sc_cookie_jar *jar);

/* sc_cookie_rotate moves to the epoch containing |now| with |secret| as its
 * key. The old key becomes the previous one only if the epochs are
 * adjacent; otherwise it is forgotten. Both are wiped when discarded. */
void sc_cookie_rotate(sc_cookie_jar *jar, const uint8_t *secret, uint64_t now);

/* sc_cookie_make writes the cookie for |addr| at |now| into |out|. */
void sc_cookie_make(const sc_cookie_jar *jar, const sc_addr *addr, uint64_t now,
                    uint8_t out[SC_COOKIE_LEN]);

/* sc_cookie_verify checks |cookie| for |addr| at |now|. Returns 0,
 * SC_ERR_CRYPTO when the MAC is wrong or its key is gone, or SC_ERR_STATE
 * when the cookie is expired or from the future. Compares in constant
 * time. */
int sc_cookie_verify(const sc_cookie_jar *jar, const sc_addr *addr,
                     uint64_t now, const uint8_t cookie[SC_COOKIE_LEN]);

/* sc_cookie_wipe zeroes the keys. */
void sc_cookie_wipe(sc_cookie_jar *jar);

#endif /* SC_COOKIE_H */
