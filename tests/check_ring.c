/*
 * check_ring.c: ring arithmetic mod 2^256 (src/core/sc_ring.c).
 *
 * Known values at the edges (wraparound, the antipode, ties), then random
 * runs: values confined to the low 16 bytes against a reference computed
 * with unsigned __int128, and full-width values against identities that
 * must hold for any ring.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "codec_checks.h"
#include "sc_ring.h"

#define RUNS 20000

__extension__ typedef unsigned __int128 u128;

/* ---- helpers ------------------------------------------------------------- */

static sc_ring_addr zero(void) {
  sc_ring_addr a;
  memset(&a, 0, sizeof(a));
  return a;
}

static sc_ring_addr all_ones(void) {
  sc_ring_addr a;
  memset(&a, 0xff, sizeof(a));
  return a;
}

static sc_ring_addr from_u128(u128 v) {
  sc_ring_addr a = zero();
  size_t i;
  for (i = 0; i < 16; i++) {
    a.b[SC_RING_LEN - 1 - i] = (uint8_t)(v >> (8 * i));
  }
  return a;
}

static sc_ring_addr from_u64(uint64_t v) { return from_u128(v); }

/* 2^n, n < 256. */
static sc_ring_addr pow2(unsigned n) {
  sc_ring_addr a = zero();
  a.b[SC_RING_LEN - 1 - n / 8] = (uint8_t)(1u << (n % 8));
  return a;
}

static int bit_is_set(const sc_ring_addr *a, unsigned n) {
  return (a->b[SC_RING_LEN - 1 - n / 8] >> (n % 8)) & 1;
}

static void assert_addr_eq(const sc_ring_addr *a, const sc_ring_addr *b) {
  ck_assert_mem_eq(a->b, b->b, SC_RING_LEN);
}

static sc_ring_addr add(sc_ring_addr a, sc_ring_addr b) {
  sc_ring_addr r;
  sc_ring_add(&r, &a, &b);
  return r;
}

static sc_ring_addr sub(sc_ring_addr a, sc_ring_addr b) {
  sc_ring_addr r;
  sc_ring_sub(&r, &a, &b);
  return r;
}

static sc_ring_addr dist(sc_ring_addr a, sc_ring_addr b) {
  sc_ring_addr r;
  sc_ring_distance(&r, &a, &b);
  return r;
}

/* A random address in the low |len| bytes. Some bytes are forced to 0x00
 * or 0xff so that long carry and borrow chains and equal prefixes are
 * common rather than vanishingly rare. */
static sc_ring_addr rand_addr(size_t len) {
  sc_ring_addr a = zero();
  size_t i;
  unsigned mode = (unsigned)(rng() % 4);
  for (i = SC_RING_LEN - len; i < SC_RING_LEN; i++) {
    uint64_t r = rng();
    a.b[i] = (uint8_t)r;
    if (mode == 1 && (r >> 8) % 2 == 0) {
      a.b[i] = 0;
    } else if (mode == 2 && (r >> 8) % 2 == 0) {
      a.b[i] = 0xff;
    }
  }
  if (mode == 3) {
    /* A short value: a random number of leading zero bytes. */
    size_t lead = (size_t)(rng() % (len + 1));
    memset(a.b + SC_RING_LEN - len, 0, lead);
  }
  return a;
}

static u128 to_u128(const sc_ring_addr *a) {
  u128 v = 0;
  size_t i;
  for (i = 0; i < 16; i++) {
    v = v << 8 | a->b[16 + i];
  }
  return v;
}

/* ---- known values -------------------------------------------------------- */

START_TEST(test_cmp) {
  sc_ring_addr a = zero(), b = from_u64(1), top = pow2(255), max = all_ones();
  ck_assert_int_eq(sc_ring_cmp(&a, &a), 0);
  ck_assert_int_lt(sc_ring_cmp(&a, &b), 0);
  ck_assert_int_gt(sc_ring_cmp(&b, &a), 0);
  ck_assert_int_lt(sc_ring_cmp(&b, &top), 0);
  ck_assert_int_gt(sc_ring_cmp(&max, &top), 0);
  /* Big-endian: the first byte is the most significant. */
  a = zero();
  b = zero();
  a.b[0] = 1;
  b.b[SC_RING_LEN - 1] = 0xff;
  ck_assert_int_gt(sc_ring_cmp(&a, &b), 0);
}
END_TEST

START_TEST(test_add_sub_wrap) {
  sc_ring_addr z = zero(), one = from_u64(1), max = all_ones(), r;
  r = sub(z, one);
  assert_addr_eq(&r, &max); /* 0 - 1 = 2^256 - 1 */
  r = add(max, one);
  assert_addr_eq(&r, &z);
  r = add(pow2(255), pow2(255));
  assert_addr_eq(&r, &z);
  r = sub(one, z);
  assert_addr_eq(&r, &one);
  r = sub(pow2(128), one);
  ck_assert_int_eq(sc_ring_log2(&r), 127);
  ck_assert_int_eq(r.b[15], 0);
  ck_assert_int_eq(r.b[16], 0xff);
  ck_assert_int_eq(r.b[31], 0xff);
}
END_TEST

START_TEST(test_aliasing) {
  sc_ring_addr a = from_u64(1000), b = from_u64(7), r;
  sc_ring_add(&a, &a, &b);
  r = from_u64(1007);
  assert_addr_eq(&a, &r);
  sc_ring_sub(&b, &a, &b);
  r = from_u64(1000);
  assert_addr_eq(&b, &r);
  sc_ring_add(&a, &a, &a);
  r = from_u64(2014);
  assert_addr_eq(&a, &r);
  sc_ring_sub(&a, &a, &a);
  r = zero();
  assert_addr_eq(&a, &r);
  a = from_u64(5);
  b = from_u64(9);
  sc_ring_distance(&a, &a, &b);
  r = from_u64(4);
  assert_addr_eq(&a, &r);
}
END_TEST

START_TEST(test_distance_known) {
  sc_ring_addr z = zero(), max = all_ones(), half = pow2(255), d, e, a;
  d = dist(from_u64(5), from_u64(3));
  e = from_u64(2);
  assert_addr_eq(&d, &e);
  d = dist(from_u64(3), from_u64(5));
  assert_addr_eq(&d, &e);
  d = dist(z, max); /* across zero, not the long way round */
  e = from_u64(1);
  assert_addr_eq(&d, &e);
  d = dist(z, z);
  assert_addr_eq(&d, &z);
  /* The antipode is 2^255 away whichever way it is measured. */
  a = from_u64(12345);
  d = dist(a, add(a, half));
  assert_addr_eq(&d, &half);
  d = dist(add(a, half), a);
  assert_addr_eq(&d, &half);
  d = dist(z, half);
  assert_addr_eq(&d, &half);
  /* The minimum of both ways: just short of the antipode on either side. */
  e = sub(half, from_u64(1));
  d = dist(z, sub(half, from_u64(1)));
  assert_addr_eq(&d, &e);
  d = dist(z, add(half, from_u64(1)));
  assert_addr_eq(&d, &e);
}
END_TEST

START_TEST(test_closer_known) {
  sc_ring_addr t = from_u64(100), a = from_u64(90), b = from_u64(111);
  ck_assert(sc_ring_closer(&t, &a, &b));
  ck_assert(!sc_ring_closer(&t, &b, &a));
  /* A tie goes to the smaller address. */
  b = from_u64(110);
  ck_assert(sc_ring_closer(&t, &a, &b));
  ck_assert(!sc_ring_closer(&t, &b, &a));
  /* ... also across zero, where the smaller one is clockwise. */
  t = zero();
  a = sub(zero(), from_u64(5));
  b = from_u64(5);
  ck_assert(sc_ring_closer(&t, &b, &a));
  ck_assert(!sc_ring_closer(&t, &a, &b));
  /* Across zero, nearer wins over smaller. */
  a = sub(zero(), from_u64(4));
  ck_assert(sc_ring_closer(&t, &a, &b));
  ck_assert(!sc_ring_closer(&t, &b, &a));
  /* The target itself is nearest; nothing is closer than itself. */
  ck_assert(sc_ring_closer(&t, &t, &b));
  ck_assert(!sc_ring_closer(&t, &b, &b));
  ck_assert(!sc_ring_closer(&t, &t, &t));
}
END_TEST

START_TEST(test_offset_known) {
  sc_ring_addr a = from_u64(77), r, e;
  sc_ring_offset(&r, &a, 1); /* the antipode */
  e = add(a, pow2(255));
  assert_addr_eq(&r, &e);
  e = dist(a, r);
  assert_addr_eq(&e, &(sc_ring_addr){.b = {0x80}}); /* 2^255 */
  sc_ring_offset(&r, &a, 2);                        /* a quarter round */
  e = add(a, pow2(254));
  assert_addr_eq(&r, &e);
  sc_ring_offset(&r, &a, 256); /* the next address */
  e = from_u64(78);
  assert_addr_eq(&r, &e);
  a = all_ones();
  sc_ring_offset(&r, &a, 256);
  e = zero();
  assert_addr_eq(&r, &e);
  a = pow2(255);
  sc_ring_offset(&a, &a, 1); /* aliasing, and wrapping to zero */
  assert_addr_eq(&a, &e);
}
END_TEST

START_TEST(test_offset_every_k) {
  unsigned k, n;
  rng_seed(UINT64_C(0x0ff5e7));
  for (n = 0; n < 64; n++) {
    sc_ring_addr a = rand_addr(SC_RING_LEN);
    for (k = 1; k <= 256; k++) {
      sc_ring_addr r, step, e = pow2(256 - k);
      sc_ring_offset(&r, &a, k);
      step = sub(r, a);
      assert_addr_eq(&step, &e);
    }
  }
}
END_TEST

START_TEST(test_log2_known) {
  sc_ring_addr a = zero();
  unsigned n;
  ck_assert_int_eq(sc_ring_log2(&a), -1);
  a = from_u64(1);
  ck_assert_int_eq(sc_ring_log2(&a), 0);
  a = from_u64(3);
  ck_assert_int_eq(sc_ring_log2(&a), 1);
  a = all_ones();
  ck_assert_int_eq(sc_ring_log2(&a), 255);
  for (n = 0; n < 256; n++) {
    a = pow2(n);
    ck_assert_int_eq(sc_ring_log2(&a), (int)n);
    a = add(a, sub(a, from_u64(1))); /* 2^(n+1) - 1 */
    ck_assert_int_eq(sc_ring_log2(&a), (int)n);
  }
}
END_TEST

START_TEST(test_fraction_known) {
  sc_ring_addr a = zero();
  ck_assert(sc_ring_fraction(&a) == 0.0);
  a = pow2(255);
  ck_assert(sc_ring_fraction(&a) == 0.5);
  a = pow2(254);
  ck_assert(sc_ring_fraction(&a) == 0.25);
  a = add(pow2(254), pow2(253));
  ck_assert(sc_ring_fraction(&a) == 0.375);
  a = from_u64(1);
  ck_assert(sc_ring_fraction(&a) == 0x1p-256);
  a = from_u64((UINT64_C(1) << 53) - 1); /* 53 bits: exact */
  ck_assert(sc_ring_fraction(&a) == 0x1.fffffffffffffp-204);
  a = from_u64(UINT64_MAX); /* 64 bits: truncated, not rounded up to 2^64 */
  ck_assert(sc_ring_fraction(&a) == 0x1.fffffffffffffp-193);
  /* The top of the ring stays below 1. */
  a = all_ones();
  ck_assert(sc_ring_fraction(&a) == 1.0 - 0x1p-53);
}
END_TEST

/* ---- random, low 16 bytes against unsigned __int128 ------------------------
 */

static int log2_u128(u128 v) {
  int n = -1;
  while (v != 0) {
    v >>= 1;
    n++;
  }
  return n;
}

static void check_low_pair(const sc_ring_addr *a, const sc_ring_addr *b) {
  u128 x = to_u128(a), y = to_u128(b), dxy = x >= y ? x - y : y - x;
  sc_ring_addr r, e;
  int c = sc_ring_cmp(a, b);
  ck_assert_int_eq(c < 0, x < y);
  ck_assert_int_eq(c == 0, x == y);
  r = add(*a, *b);
  e = from_u128(x + y);
  e.b[15] = (uint8_t)(x + y < x); /* the carry out of 128 bits */
  assert_addr_eq(&r, &e);
  r = sub(*a, *b);
  e = from_u128(x - y);
  if (x < y) {
    memset(e.b, 0xff, 16); /* 2^256 + x - y */
  }
  assert_addr_eq(&r, &e);
  r = dist(*a, *b);
  e = from_u128(dxy);
  assert_addr_eq(&r, &e);
  ck_assert_int_eq(sc_ring_log2(&r), log2_u128(dxy));
  ck_assert_int_eq(sc_ring_log2(a), log2_u128(x));
}

START_TEST(test_random_low128) {
  int n;
  rng_seed(UINT64_C(0x5eed0128));
  for (n = 0; n < RUNS; n++) {
    sc_ring_addr a = rand_addr(16), b = rand_addr(16), t = rand_addr(16);
    u128 x = to_u128(&a), y = to_u128(&b), z = to_u128(&t);
    u128 dx = x >= z ? x - z : z - x, dy = y >= z ? y - z : z - y;
    int want = dx != dy ? dx < dy : x < y;
    check_low_pair(&a, &b);
    ck_assert_int_eq(sc_ring_closer(&t, &a, &b), want);
  }
}
END_TEST

/* ---- random, full width: identities ----------------------------------------
 */

START_TEST(test_random_identities) {
  sc_ring_addr half = pow2(255);
  int n;
  rng_seed(UINT64_C(0x5eed0256));
  for (n = 0; n < RUNS; n++) {
    sc_ring_addr a = rand_addr(SC_RING_LEN), b = rand_addr(SC_RING_LEN);
    sc_ring_addr c = rand_addr(SC_RING_LEN), r, s, d;
    r = sub(add(a, b), b);
    assert_addr_eq(&r, &a);
    r = add(sub(a, b), b);
    assert_addr_eq(&r, &a);
    r = add(a, b);
    s = add(b, a);
    assert_addr_eq(&r, &s);
    r = add(add(a, b), c);
    s = add(a, add(b, c));
    assert_addr_eq(&r, &s);
    /* a - b = -(b - a) */
    r = add(sub(a, b), sub(b, a));
    s = zero();
    assert_addr_eq(&r, &s);
    d = dist(a, b);
    r = dist(b, a);
    assert_addr_eq(&d, &r);
    ck_assert_int_le(sc_ring_cmp(&d, &half), 0);
    /* The shorter of the two ways round. */
    r = sub(a, b);
    s = sub(b, a);
    ck_assert(sc_ring_cmp(&d, &r) == 0 || sc_ring_cmp(&d, &s) == 0);
    ck_assert_int_le(sc_ring_cmp(&d, &r), 0);
    ck_assert_int_le(sc_ring_cmp(&d, &s), 0);
    /* Turning the ring changes no distance. */
    r = dist(add(a, c), add(b, c));
    assert_addr_eq(&r, &d);
    /* Exactly one of two different candidates is the closer. */
    if (sc_ring_cmp(&a, &b) != 0) {
      ck_assert_int_eq(sc_ring_closer(&c, &a, &b) + sc_ring_closer(&c, &b, &a),
                       1);
    } else {
      ck_assert(!sc_ring_closer(&c, &a, &b));
    }
  }
}
END_TEST

/* Ties happen only at equal distances, which random values never hit: make
 * them, on both sides of random targets and across zero. */
START_TEST(test_random_ties) {
  int n;
  rng_seed(UINT64_C(0x5eed71e5));
  for (n = 0; n < RUNS; n++) {
    sc_ring_addr t = rand_addr(SC_RING_LEN), x = rand_addr(SC_RING_LEN);
    sc_ring_addr a = add(t, x), b = sub(t, x);
    int a_first = sc_ring_cmp(&a, &b) < 0;
    if (sc_ring_cmp(&a, &b) == 0) {
      continue; /* x is 0 or 2^255 */
    }
    ck_assert_int_eq(sc_ring_closer(&t, &a, &b), a_first);
    ck_assert_int_eq(sc_ring_closer(&t, &b, &a), !a_first);
  }
}
END_TEST

/* floor(x * 2^256) for x in [0, 1) with an integral x * 2^256, by peeling
 * 64 bits at a time: every step is exact in double arithmetic. */
static sc_ring_addr addr_of_fraction(double x) {
  sc_ring_addr a = zero();
  size_t limb, i;
  for (limb = 0; limb < SC_RING_LEN / 8; limb++) {
    uint64_t v;
    x *= 0x1p64;
    v = (uint64_t)x;
    x -= (double)v;
    for (i = 0; i < 8; i++) {
      a.b[8 * limb + i] = (uint8_t)(v >> (56 - 8 * i));
    }
  }
  ck_assert(x == 0.0);
  return a;
}

/* |d| with only its 53 most significant bits kept. */
static sc_ring_addr top53(sc_ring_addr d) {
  int top = 255, n;
  while (top >= 0 && !bit_is_set(&d, (unsigned)top)) {
    top--;
  }
  for (n = 0; n <= top - 53; n++) {
    d.b[SC_RING_LEN - 1 - n / 8] &= (uint8_t) ~(1u << (n % 8));
  }
  return d;
}

START_TEST(test_fraction_random) {
  int n;
  rng_seed(UINT64_C(0x5eedf4ac));
  for (n = 0; n < RUNS; n++) {
    sc_ring_addr a = rand_addr(1 + (size_t)(rng() % SC_RING_LEN));
    sc_ring_addr b = rand_addr(SC_RING_LEN), r, e;
    double fa = sc_ring_fraction(&a), fb = sc_ring_fraction(&b);
    /* Exactly the largest double <= d / 2^256. */
    ck_assert(fa >= 0.0 && fa < 1.0);
    r = addr_of_fraction(fa);
    e = top53(a);
    assert_addr_eq(&r, &e);
    /* Monotonic, including between neighbours. */
    if (sc_ring_cmp(&a, &b) <= 0) {
      ck_assert(fa <= fb);
    } else {
      ck_assert(fa >= fb);
    }
    r = add(a, from_u64(1));
    if (sc_ring_cmp(&r, &a) > 0) {
      ck_assert(sc_ring_fraction(&r) >= fa);
    }
  }
}
END_TEST

static Suite *ring_suite(void) {
  Suite *s = suite_create("ring");
  TCase *tc = tcase_create("known");
  tcase_add_test(tc, test_cmp);
  tcase_add_test(tc, test_add_sub_wrap);
  tcase_add_test(tc, test_aliasing);
  tcase_add_test(tc, test_distance_known);
  tcase_add_test(tc, test_closer_known);
  tcase_add_test(tc, test_offset_known);
  tcase_add_test(tc, test_log2_known);
  tcase_add_test(tc, test_fraction_known);
  suite_add_tcase(s, tc);
  tc = tcase_create("random");
  tcase_add_test(tc, test_offset_every_k);
  tcase_add_test(tc, test_random_low128);
  tcase_add_test(tc, test_random_identities);
  tcase_add_test(tc, test_random_ties);
  tcase_add_test(tc, test_fraction_random);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(ring_suite()); }
