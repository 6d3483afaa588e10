/*
 * check_rtt.c: RTT estimation (src/core/sc_rtt.c), RFC 9002 §5.
 */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_rtt.h"

#define MAD (25 * SC_MS) /* max_ack_delay used throughout */

static sc_rtt rtt;

static void setup(void) { sc_rtt_init(&rtt, SC_RTT_INITIAL); }

START_TEST(test_init) {
  ck_assert_uint_eq(rtt.smoothed, 333 * SC_MS);
  ck_assert_uint_eq(rtt.var, 166500 * 1000);
  ck_assert_int_eq(rtt.has_sample, 0);
  /* 333 + 4 * 166.5 + 25 ms */
  ck_assert_uint_eq(sc_rtt_pto(&rtt, MAD), 1024 * SC_MS);
  ck_assert_uint_eq(sc_rtt_loss_delay(&rtt), 374625 * 1000);
}
END_TEST

START_TEST(test_first_sample) {
  /* The first sample ignores ack_delay entirely. */
  sc_rtt_update(&rtt, 100 * SC_MS, 10 * SC_MS, MAD);
  ck_assert_int_eq(rtt.has_sample, 1);
  ck_assert_uint_eq(rtt.latest, 100 * SC_MS);
  ck_assert_uint_eq(rtt.smoothed, 100 * SC_MS);
  ck_assert_uint_eq(rtt.var, 50 * SC_MS);
  ck_assert_uint_eq(rtt.min, 100 * SC_MS);
}
END_TEST

START_TEST(test_later_samples) {
  sc_rtt_update(&rtt, 100 * SC_MS, 0, MAD);
  /* 120 >= 100 + 10: adjusted = 110 ms;
   * var = (3 * 50 + |100 - 110|) / 4 = 40 ms;
   * srtt = (7 * 100 + 110) / 8 = 101.25 ms. */
  sc_rtt_update(&rtt, 120 * SC_MS, 10 * SC_MS, MAD);
  ck_assert_uint_eq(rtt.latest, 120 * SC_MS);
  ck_assert_uint_eq(rtt.min, 100 * SC_MS);
  ck_assert_uint_eq(rtt.var, 40 * SC_MS);
  ck_assert_uint_eq(rtt.smoothed, 101250 * 1000);
  /* ack_delay 50 ms is capped at 25 ms: adjusted = 175 ms;
   * var = (3 * 40 + 73.75) / 4 = 48.4375 ms;
   * srtt = (7 * 101.25 + 175) / 8 = 110.46875 ms. */
  sc_rtt_update(&rtt, 200 * SC_MS, 50 * SC_MS, MAD);
  ck_assert_uint_eq(rtt.var, 48437500);
  ck_assert_uint_eq(rtt.smoothed, 110468750);
  /* A lower sample lowers min_rtt (before any ack_delay). */
  sc_rtt_update(&rtt, 90 * SC_MS, 5 * SC_MS, MAD);
  ck_assert_uint_eq(rtt.min, 90 * SC_MS);
  ck_assert_uint_eq(rtt.latest, 90 * SC_MS);
}
END_TEST

START_TEST(test_ack_delay_not_below_min) {
  sc_rtt_update(&rtt, 100 * SC_MS, 0, MAD);
  /* 105 < 100 + 10: the delay is not subtracted. var = (150 + 5) / 4. */
  sc_rtt_update(&rtt, 105 * SC_MS, 10 * SC_MS, MAD);
  ck_assert_uint_eq(rtt.var, 38750 * 1000);
  ck_assert_uint_eq(rtt.smoothed, 100625 * 1000);
  /* Exactly min + ack_delay: subtracted, adjusted = 100 ms.
   * var = (3 * 38.75 + 0.625) / 4, srtt = (7 * 100.625 + 100) / 8. */
  sc_rtt_update(&rtt, 110 * SC_MS, 10 * SC_MS, MAD);
  ck_assert_uint_eq(rtt.var, 29218750);
  ck_assert_uint_eq(rtt.smoothed, 100546875);
  /* A delay above max_ack_delay is capped, then still checked against
   * min: 126 >= 100 + 25, adjusted = 101 ms;
   * srtt = (7 * 100.546875 + 101) / 8 = 100.603515625 ms, rounded down. */
  sc_rtt_update(&rtt, 126 * SC_MS, 30 * SC_MS, MAD);
  ck_assert_uint_eq(rtt.smoothed, 100603515);
}
END_TEST

START_TEST(test_integer_rounding) {
  sc_rtt_init(&rtt, 0);
  sc_rtt_update(&rtt, 3, 0, 0);
  ck_assert_uint_eq(rtt.smoothed, 3);
  ck_assert_uint_eq(rtt.var, 1);
  sc_rtt_update(&rtt, 10, 0, 0);
  ck_assert_uint_eq(rtt.var, 2);      /* (3 + 7) / 4 */
  ck_assert_uint_eq(rtt.smoothed, 3); /* (21 + 10) / 8 */
}
END_TEST

START_TEST(test_zero_sample) {
  sc_rtt_update(&rtt, 0, 0, MAD);
  ck_assert_uint_eq(rtt.latest, 1);
  ck_assert_uint_eq(rtt.min, 1);
  ck_assert_uint_eq(rtt.smoothed, 1);
  ck_assert_uint_eq(rtt.var, 0);
}
END_TEST

START_TEST(test_pto) {
  sc_rtt_update(&rtt, 100 * SC_MS, 0, MAD);
  ck_assert_uint_eq(sc_rtt_pto(&rtt, MAD), (100 + 200 + 25) * SC_MS);
  ck_assert_uint_eq(sc_rtt_pto(&rtt, 0), 300 * SC_MS);
  /* Granularity floors the variance term. */
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 1000, 0, MAD);
  ck_assert_uint_eq(rtt.var, 500);
  ck_assert_uint_eq(sc_rtt_pto(&rtt, MAD), 1000 + SC_RTT_GRANULARITY + MAD);
  /* 4 * rttvar just at granularity. */
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 500 * 1000, 0, MAD);
  ck_assert_uint_eq(sc_rtt_pto(&rtt, 0), 500 * 1000 + SC_MS);
}
END_TEST

START_TEST(test_loss_delay) {
  sc_rtt_update(&rtt, 100 * SC_MS, 0, MAD);
  ck_assert_uint_eq(sc_rtt_loss_delay(&rtt), 112500 * 1000);
  /* latest above srtt takes over. */
  sc_rtt_update(&rtt, 200 * SC_MS, 0, MAD);
  ck_assert_uint_eq(rtt.smoothed, 112500 * 1000);
  ck_assert_uint_eq(sc_rtt_loss_delay(&rtt), 225 * SC_MS);
  /* floor(9/8 * 7) = 7, under granularity. */
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 7, 0, MAD);
  ck_assert_uint_eq(sc_rtt_loss_delay(&rtt), SC_RTT_GRANULARITY);
  /* Rounds down: 9/8 * 1000001 = 1125001.125. */
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 1000001, 0, MAD);
  ck_assert_uint_eq(sc_rtt_loss_delay(&rtt), 1125001);
}
END_TEST

static Suite *rtt_suite(void) {
  Suite *s = suite_create("rtt");
  TCase *tc = tcase_create("estimator");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_init);
  tcase_add_test(tc, test_first_sample);
  tcase_add_test(tc, test_later_samples);
  tcase_add_test(tc, test_ack_delay_not_below_min);
  tcase_add_test(tc, test_integer_rounding);
  tcase_add_test(tc, test_zero_sample);
  suite_add_tcase(s, tc);
  tc = tcase_create("timers");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_pto);
  tcase_add_test(tc, test_loss_delay);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(rtt_suite()); }
