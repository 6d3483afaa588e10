/*
 * check_replay.c: the receive window (src/core/sc_replay.c).
 *
 * Besides the hand-written cases, a long random run compares the window
 * with a naive model: a byte per packet number and the rule "accept pn if
 * it is new and pn + SC_REPLAY_WINDOW >= top".
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "codec_checks.h"
#include "sc_replay.h"
#include "stratocast.h"

#define W SC_REPLAY_WINDOW

static sc_replay win;

static void setup(void) { sc_replay_init(&win); }

/* Accepts |pn| the way a session does: check, then update. */
static int accept(sc_replay *w, uint64_t pn) {
  int rv = sc_replay_check(w, pn);
  if (rv == 0) {
    sc_replay_update(w, pn);
  }
  return rv;
}

static void assert_range(const sc_pn_range *r, uint64_t lo, uint64_t hi) {
  ck_assert_uint_eq(r->lo, lo);
  ck_assert_uint_eq(r->hi, hi);
}

START_TEST(test_empty) {
  sc_pn_range r[4];
  ck_assert_uint_eq(win.top, 0);
  ck_assert_int_eq(sc_replay_check(&win, 0), 0);
  ck_assert_int_eq(sc_replay_check(&win, 12345), 0);
  ck_assert_int_eq(sc_replay_has(&win, 0), 0);
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 4), 0);
}
END_TEST

START_TEST(test_in_order) {
  sc_pn_range r[4];
  uint64_t pn;
  for (pn = 0; pn < 100; pn++) {
    ck_assert_int_eq(accept(&win, pn), 0);
  }
  ck_assert_uint_eq(win.top, 100);
  for (pn = 0; pn < 100; pn++) {
    ck_assert_int_eq(sc_replay_check(&win, pn), SC_ERR_REPLAY);
    ck_assert(sc_replay_has(&win, pn));
  }
  ck_assert(!sc_replay_has(&win, 100));
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 4), 1);
  assert_range(&r[0], 0, 99);
}
END_TEST

START_TEST(test_out_of_order) {
  ck_assert_int_eq(accept(&win, 100), 0);
  ck_assert_int_eq(accept(&win, 50), 0);
  ck_assert_int_eq(accept(&win, 50), SC_ERR_REPLAY);
  ck_assert_int_eq(accept(&win, 100), SC_ERR_REPLAY);
  ck_assert_int_eq(accept(&win, 51), 0);
  ck_assert_int_eq(accept(&win, 0), 0);
  ck_assert_int_eq(accept(&win, 0), SC_ERR_REPLAY);
  ck_assert_uint_eq(win.top, 101);
  ck_assert(sc_replay_has(&win, 51));
  ck_assert(!sc_replay_has(&win, 52));
}
END_TEST

/* Window is [top - W, top - 1]: W packet numbers, pn == top - W included. */
START_TEST(test_window_edge) {
  ck_assert_int_eq(accept(&win, 5000), 0);
  ck_assert_uint_eq(win.top, 5001);
  ck_assert_int_eq(sc_replay_check(&win, 5001 - W), 0);
  ck_assert_int_eq(sc_replay_check(&win, 5001 - W - 1), SC_ERR_REPLAY);
  ck_assert_int_eq(accept(&win, 5001 - W), 0);
  ck_assert(sc_replay_has(&win, 5001 - W));
  /* 5001 reuses the bit of 5001 - W, which slides out. */
  ck_assert_int_eq(accept(&win, 5001), 0);
  ck_assert(!sc_replay_has(&win, 5001 - W));
  ck_assert_int_eq(sc_replay_check(&win, 5001 - W), SC_ERR_REPLAY);
  ck_assert(sc_replay_has(&win, 5001));
  ck_assert_int_eq(sc_replay_check(&win, 5002 - W), 0);
}
END_TEST

START_TEST(test_small_top) {
  /* While top < W nothing is too old. */
  ck_assert_int_eq(accept(&win, W - 1), 0);
  ck_assert_int_eq(sc_replay_check(&win, 0), 0);
  ck_assert_int_eq(accept(&win, 0), 0);
  ck_assert_int_eq(accept(&win, W), 0);
  ck_assert(!sc_replay_has(&win, 0));
  ck_assert_int_eq(sc_replay_check(&win, 0), SC_ERR_REPLAY);
  ck_assert_int_eq(sc_replay_check(&win, 1), 0);
}
END_TEST

START_TEST(test_big_jump) {
  sc_pn_range r[4];
  uint64_t pn;
  for (pn = 0; pn < W; pn++) {
    ck_assert_int_eq(accept(&win, pn), 0);
  }
  ck_assert_int_eq(accept(&win, W - 1 + 3000), 0);
  for (pn = W - 1 + 3000 - W + 1; pn < W - 1 + 3000; pn++) {
    ck_assert_int_eq(sc_replay_check(&win, pn), 0);
    ck_assert(!sc_replay_has(&win, pn));
  }
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 4), 1);
  assert_range(&r[0], W - 1 + 3000, W - 1 + 3000);
}
END_TEST

START_TEST(test_partial_jump) {
  sc_pn_range r[4];
  uint64_t pn;
  for (pn = 0; pn < W; pn++) {
    ck_assert_int_eq(accept(&win, pn), 0);
  }
  /* top becomes 2101: the window is [53, 2100]; 2048..2099 were skipped. */
  ck_assert_int_eq(accept(&win, 2100), 0);
  for (pn = 2048; pn < 2100; pn++) {
    ck_assert(!sc_replay_has(&win, pn));
    ck_assert_int_eq(sc_replay_check(&win, pn), 0);
  }
  for (pn = 53; pn < 2048; pn++) {
    ck_assert(sc_replay_has(&win, pn));
  }
  ck_assert_int_eq(sc_replay_check(&win, 52), SC_ERR_REPLAY);
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 4), 2);
  assert_range(&r[0], 2100, 2100);
  assert_range(&r[1], 53, 2047);
}
END_TEST

START_TEST(test_ranges_max_and_floor) {
  sc_pn_range r[16];
  uint64_t pn;
  for (pn = 0; pn <= 20; pn += 2) {
    ck_assert_int_eq(accept(&win, pn), 0);
  }
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 16), 11);
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 3), 3);
  assert_range(&r[0], 20, 20);
  assert_range(&r[1], 18, 18);
  assert_range(&r[2], 16, 16);
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, NULL, 0), 0);
  ck_assert_uint_eq(sc_replay_ranges(&win, 15, r, 16), 3);
  ck_assert_uint_eq(r[2].lo, 16);
  ck_assert_uint_eq(sc_replay_ranges(&win, 20, r, 16), 1);
  ck_assert_uint_eq(sc_replay_ranges(&win, 21, r, 16), 0);
  for (pn = 21; pn < 100; pn++) {
    ck_assert_int_eq(accept(&win, pn), 0);
  }
  /* The floor cuts a run. */
  ck_assert_uint_eq(sc_replay_ranges(&win, 40, r, 16), 1);
  assert_range(&r[0], 40, 99);
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 16), 11);
  assert_range(&r[0], 20, 99);
  assert_range(&r[9], 2, 2);
  assert_range(&r[10], 0, 0);
}
END_TEST

START_TEST(test_near_max) {
  sc_pn_range r[4];
  const uint64_t top = UINT64_MAX;
  ck_assert_int_eq(sc_replay_check(&win, UINT64_MAX), SC_ERR_REPLAY);
  ck_assert_int_eq(accept(&win, UINT64_MAX - 1), 0);
  ck_assert_uint_eq(win.top, top);
  ck_assert_int_eq(sc_replay_check(&win, UINT64_MAX), SC_ERR_REPLAY);
  ck_assert_int_eq(sc_replay_check(&win, UINT64_MAX - 1), SC_ERR_REPLAY);
  ck_assert(sc_replay_has(&win, UINT64_MAX - 1));
  ck_assert(!sc_replay_has(&win, UINT64_MAX));
  ck_assert_int_eq(sc_replay_check(&win, top - W), 0);
  ck_assert_int_eq(sc_replay_check(&win, top - W - 1), SC_ERR_REPLAY);
  ck_assert_int_eq(accept(&win, top - W), 0);
  ck_assert_int_eq(accept(&win, top - 3), 0);
  ck_assert_uint_eq(sc_replay_ranges(&win, 0, r, 4), 3);
  assert_range(&r[0], UINT64_MAX - 1, UINT64_MAX - 1);
  assert_range(&r[1], UINT64_MAX - 3, UINT64_MAX - 3);
  assert_range(&r[2], top - W, top - W);
}
END_TEST

/* ---- the random comparison with a naive model ---------------------------- */

#define MODEL_SPAN 2000000 /* packet numbers base .. base + MODEL_SPAN - 1 */

typedef struct model {
  uint64_t base;
  uint64_t top; /* offset from base; 0 = nothing yet */
  int any;
  uint8_t seen[MODEL_SPAN];
} model;

static int model_check(const model *m, uint64_t off) {
  if (m->seen[off] || (m->any && off + W < m->top)) {
    return SC_ERR_REPLAY;
  }
  return 0;
}

static void model_update(model *m, uint64_t off) {
  m->seen[off] = 1;
  if (!m->any || off + 1 > m->top) {
    m->top = off + 1;
  }
  m->any = 1;
}

static int model_has(const model *m, uint64_t off) {
  return m->any && off < m->top && off + W >= m->top && m->seen[off];
}

/* Runs of seen offsets from top - 1 down to max(floor, top - W). */
static size_t model_ranges(const model *m, uint64_t floor_off, sc_pn_range *out,
                           size_t max) {
  uint64_t limit, off;
  size_t n = 0;
  int in_run = 0;
  if (!m->any) {
    return 0;
  }
  limit = m->top >= W ? m->top - W : 0;
  limit = floor_off > limit ? floor_off : limit;
  for (off = m->top; off-- > limit;) {
    if (m->seen[off] && !in_run) {
      if (n == max) {
        break;
      }
      out[n].hi = m->base + off;
      out[n].lo = m->base + off;
      in_run = 1;
      n++;
    } else if (m->seen[off]) {
      out[n - 1].lo = m->base + off;
    } else {
      in_run = 0;
    }
  }
  return n;
}

/* Picks the next offset: mostly in or just below the window or just above
 * top, sometimes a jump within or beyond the window. */
static uint64_t pick(const model *m) {
  uint64_t r = rng_below(1000), lo;
  if (r < 2) {
    return m->top + W + rng_below(2 * W);
  }
  if (r < 20) {
    return m->top + rng_below(W);
  }
  if (r < 350) {
    return m->top + rng_below(8);
  }
  lo = m->top > W + 200 ? m->top - W - 200 : 0;
  return lo + rng_below(m->top - lo + 1);
}

static void compare_ranges(const model *m) {
  sc_pn_range a[64], b[64];
  size_t max = (size_t)rng_below(65), na, nb, i;
  uint64_t floor_off = m->top > 3000 ? rng_below(m->top) : 0;
  na = sc_replay_ranges(&win, m->base + floor_off, a, max);
  nb = model_ranges(m, floor_off, b, max);
  ck_assert_uint_eq(na, nb);
  for (i = 0; i < na; i++) {
    assert_range(&a[i], b[i].lo, b[i].hi);
  }
}

static void run_model(uint64_t base, uint64_t seed) {
  model *m = calloc(1, sizeof(*m));
  unsigned ops = 0, accepted = 0, i;
  ck_assert_ptr_nonnull(m);
  m->base = base;
  rng_seed(seed);
  for (;;) {
    uint64_t off = pick(m);
    int want, got;
    if (off >= MODEL_SPAN) {
      break;
    }
    want = model_check(m, off);
    got = sc_replay_check(&win, base + off);
    ck_assert_msg(want == got, "op %u pn +%llu: %d != %d", ops,
                  (unsigned long long)off, got, want);
    if (got == 0) {
      sc_replay_update(&win, base + off);
      model_update(m, off);
      accepted++;
    }
    if (ops % 53 == 0) {
      for (i = 0; i < 40; i++) {
        uint64_t q = m->top > W + 100 ? m->top - W - 100 : 0;
        q += rng_below(W + 200);
        if (q < MODEL_SPAN) {
          ck_assert_int_eq(sc_replay_has(&win, base + q), model_has(m, q));
        }
      }
      compare_ranges(m);
    }
    ops++;
  }
  ck_assert_uint_eq(win.top, base + m->top);
  /* Enough work happened for the comparison to mean something. */
  ck_assert_uint_ge(ops, 50000);
  ck_assert_uint_ge(accepted, 20000);
  if (getenv("SC_REPLAY_VERBOSE") != NULL) {
    fprintf(stderr, "ops %u accepted %u\n", ops, accepted);
  }
  free(m);
}

START_TEST(test_random_vs_model) { run_model(0, UINT64_C(0x5eed1234abcd)); }
END_TEST

START_TEST(test_random_vs_model_near_max) {
  run_model(UINT64_MAX - MODEL_SPAN - 1, UINT64_C(0x9e3779b97f4a7c15));
}
END_TEST

static Suite *replay_suite(void) {
  Suite *s = suite_create("replay");
  TCase *tc = tcase_create("window");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_empty);
  tcase_add_test(tc, test_in_order);
  tcase_add_test(tc, test_out_of_order);
  tcase_add_test(tc, test_window_edge);
  tcase_add_test(tc, test_small_top);
  tcase_add_test(tc, test_big_jump);
  tcase_add_test(tc, test_partial_jump);
  tcase_add_test(tc, test_ranges_max_and_floor);
  tcase_add_test(tc, test_near_max);
  suite_add_tcase(s, tc);
  tc = tcase_create("model");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_random_vs_model);
  tcase_add_test(tc, test_random_vs_model_near_max);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(replay_suite()); }
