/*
 * sc_ring.h: group addresses on the ring of integers mod 2^256.
 *
 * A group address is 32 bytes read as one big-endian unsigned integer.
 * The ring distance between two addresses is the shorter way round:
 * min(a - b, b - a) mod 2^256 (doc/protocol.md §11.2). Everything here is
 * constant-size arithmetic on 32-byte arrays; nothing allocates or fails.
 */
#ifndef SC_RING_H
#define SC_RING_H

#include <stdint.h>

#define SC_RING_LEN 32

typedef struct sc_ring_addr {
  uint8_t b[SC_RING_LEN]; /* big-endian */
} sc_ring_addr;

/* sc_ring_cmp compares |a| and |b| as integers: <0, 0 or >0. */
int sc_ring_cmp(const sc_ring_addr *a, const sc_ring_addr *b);

/* sc_ring_add sets |*out| = |a| + |b| mod 2^256 (|out| may alias). */
void sc_ring_add(sc_ring_addr *out, const sc_ring_addr *a,
                 const sc_ring_addr *b);

/* sc_ring_sub sets |*out| = |a| - |b| mod 2^256 (|out| may alias): the
 * clockwise distance from |b| to |a|. */
void sc_ring_sub(sc_ring_addr *out, const sc_ring_addr *a,
                 const sc_ring_addr *b);

/* sc_ring_distance sets |*out| to the ring distance between |a| and |b|. */
void sc_ring_distance(sc_ring_addr *out, const sc_ring_addr *a,
                      const sc_ring_addr *b);

/* sc_ring_closer returns nonzero if |a| is strictly nearer to |target| than
 * |b| by ring distance; on a tie, if |a| < |b| as integers (so that every
 * node ranks candidates the same way). 0 when |a| equals |b|. */
int sc_ring_closer(const sc_ring_addr *target, const sc_ring_addr *a,
                   const sc_ring_addr *b);

/* sc_ring_offset sets |*out| = |a| + 2^(256 - k) mod 2^256, the k-th
 * log-spaced lookup point of |a|: k = 1 is the opposite side of the ring,
 * k = 2 a quarter round, ... Valid for 1 <= k <= 256. */
void sc_ring_offset(sc_ring_addr *out, const sc_ring_addr *a, unsigned k);

/* sc_ring_top64 returns the 64 most significant bits of |a|. Ring
 * arithmetic on them is within one of the top 64 bits of the exact result,
 * which lets hot loops decide most comparisons without the full width. */
uint64_t sc_ring_top64(const sc_ring_addr *a);

/* sc_ring_fraction returns |d| / 2^256 as a double in [0, 1). */
double sc_ring_fraction(const sc_ring_addr *d);

/* sc_ring_log2 returns floor(log2(|d|)), or -1 when |d| is zero. */
int sc_ring_log2(const sc_ring_addr *d);

#endif /* SC_RING_H */
