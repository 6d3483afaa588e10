/*
 * sc_ring.c: arithmetic on the ring of integers mod 2^256 (doc/protocol.md
 * §11.2).
 *
 * Addresses stay big-endian byte arrays: add and subtract walk the bytes
 * from the least significant (b[31]) up with a carry, which also makes
 * |out| aliasing |a| or |b| safe (each byte is read before it is written).
 * sc_ring_fraction reads 64-bit limbs so it can take 53 significant bits
 * from any position.
 *
 * Nothing here needs to be constant-time: addresses are public.
 */
#include "sc_ring.h"

#include <string.h>

#define LIMBS (SC_RING_LEN / 8)
#define MANT_BITS 53 /* significand of an IEEE 754 double */

int sc_ring_cmp(const sc_ring_addr *a, const sc_ring_addr *b) {
  return memcmp(a->b, b->b, SC_RING_LEN);
}

void sc_ring_add(sc_ring_addr *out, const sc_ring_addr *a,
                 const sc_ring_addr *b) {
  unsigned carry = 0;
  size_t i = SC_RING_LEN;
  while (i-- > 0) {
    unsigned s = (unsigned)a->b[i] + b->b[i] + carry;
    out->b[i] = (uint8_t)s;
    carry = s >> 8;
  }
}

void sc_ring_sub(sc_ring_addr *out, const sc_ring_addr *a,
                 const sc_ring_addr *b) {
  unsigned borrow = 0;
  size_t i = SC_RING_LEN;
  while (i-- > 0) {
    /* 0x100 keeps the difference non-negative; bit 8 clear means a
     * borrow was taken. */
    unsigned s = 0x100u + a->b[i] - b->b[i] - borrow;
    out->b[i] = (uint8_t)s;
    borrow = (s >> 8) ^ 1u;
  }
}

void sc_ring_distance(sc_ring_addr *out, const sc_ring_addr *a,
                      const sc_ring_addr *b) {
  sc_ring_addr ab, ba;
  sc_ring_sub(&ab, a, b);
  sc_ring_sub(&ba, b, a);
  *out = sc_ring_cmp(&ab, &ba) <= 0 ? ab : ba;
}

int sc_ring_closer(const sc_ring_addr *target, const sc_ring_addr *a,
                   const sc_ring_addr *b) {
  sc_ring_addr da, db;
  int c;
  sc_ring_distance(&da, target, a);
  sc_ring_distance(&db, target, b);
  c = sc_ring_cmp(&da, &db);
  if (c != 0) {
    return c < 0;
  }
  /* doc/protocol.md §11.2: ties go to the smaller address, so that every
   * node ranks the two sides of |target| the same way. */
  return sc_ring_cmp(a, b) < 0;
}

void sc_ring_offset(sc_ring_addr *out, const sc_ring_addr *a, unsigned k) {
  sc_ring_addr step;
  unsigned bit;
  if (k < 1 || k > 256) {
    /* Outside the contract: leave |a| where it is rather than wrap to a
     * point nobody asked for. */
    *out = *a;
    return;
  }
  bit = 256 - k; /* 0 is the least significant bit */
  memset(&step, 0, sizeof(step));
  step.b[SC_RING_LEN - 1 - bit / 8] = (uint8_t)(1u << (bit % 8));
  sc_ring_add(out, a, &step);
}

int sc_ring_log2(const sc_ring_addr *d) {
  size_t i;
  for (i = 0; i < SC_RING_LEN; i++) {
    if (d->b[i] != 0) {
      int top = 7;
      while ((d->b[i] >> top) == 0) {
        top--;
      }
      return (int)(8 * (SC_RING_LEN - 1 - i)) + top;
    }
  }
  return -1;
}

/* Bits lo .. lo + 63 of |d| (zero above bit 255), lo < 256. */
static uint64_t bits_from(const sc_ring_addr *d, unsigned lo) {
  uint64_t limb[LIMBS + 1] = {0}; /* limb[j] holds bits 64j .. 64j + 63 */
  unsigned j, i, sh = lo % 64;
  for (j = 0; j < LIMBS; j++) {
    for (i = 0; i < 8; i++) {
      limb[j] = limb[j] << 8 | d->b[SC_RING_LEN - 8 * (j + 1) + i];
    }
  }
  j = lo / 64;
  if (sh == 0) {
    return limb[j];
  }
  return limb[j] >> sh | limb[j + 1] << (64 - sh);
}

/* 2^-n for n <= 256, exactly (no libm: the core does not link it). */
static double pow2_neg(unsigned n) {
  double s = 1.0;
  while (n >= 32) {
    s *= 0x1p-32;
    n -= 32;
  }
  return s / (double)(UINT32_C(1) << n);
}

double sc_ring_fraction(const sc_ring_addr *d) {
  int top = sc_ring_log2(d);
  unsigned lo = 0;
  uint64_t mant;
  /* Keep the 53 bits from the top one down (all of them when there are no
   * more: exact), so the result is the largest double <= d / 2^256:
   * monotonic, within one ulp, and never rounded up to 1.0. */
  if (top >= MANT_BITS) {
    lo = (unsigned)top - (MANT_BITS - 1);
  }
  mant = bits_from(d, lo); /* < 2^53, so the conversion is exact */
  return (double)mant * pow2_neg(256 - lo);
}

uint64_t sc_ring_top64(const sc_ring_addr *a) {
  uint64_t v = 0;
  unsigned i;
  for (i = 0; i < 8; i++) {
    v = v << 8 | a->b[i];
  }
  return v;
}
