/*
 * check_cookie.c: address-validation cookies (src/core/sc_cookie.c).
 */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_cookie.h"
#include "sc_macro.h"

static uint8_t key1[SC_COOKIE_SECRET_LEN];
static uint8_t key2[SC_COOKIE_SECRET_LEN];
static uint8_t key3[SC_COOKIE_SECRET_LEN];
static sc_addr v4;
static sc_addr v6;
static sc_cookie_jar jar;

static void setup(void) {
  size_t i;
  for (i = 0; i < SC_COOKIE_SECRET_LEN; i++) {
    key1[i] = (uint8_t)(i + 1);
    key2[i] = (uint8_t)(0x40 + i);
    key3[i] = (uint8_t)(0x80 + i);
  }
  memset(&v4, 0, sizeof(v4));
  v4.family = SC_AF_INET;
  v4.ip[0] = 192;
  v4.ip[1] = 0;
  v4.ip[2] = 2;
  v4.ip[3] = 7;
  v4.port = 4433;
  memset(&v6, 0, sizeof(v6));
  v6.family = SC_AF_INET6;
  v6.ip[0] = 0x20;
  v6.ip[1] = 0x01;
  v6.ip[2] = 0x0d;
  v6.ip[3] = 0xb8;
  v6.ip[15] = 1;
  v6.port = 443;
  /* period 60 s, lifetime 30 s, starting in epoch 10 */
  ck_assert_int_eq(
      sc_cookie_init(&jar, key1, 600 * SC_SEC, 60 * SC_SEC, 30 * SC_SEC), 0);
}

/* For rotation: period = lifetime = 60 s, starting in epoch 9 at 590 s,
 * with |old| made at 599 s under key1, just before epoch 10. */
static uint8_t old[SC_COOKIE_LEN];

static void setup_rotation(void) {
  setup();
  ck_assert_int_eq(
      sc_cookie_init(&jar, key1, 590 * SC_SEC, 60 * SC_SEC, 60 * SC_SEC), 0);
  sc_cookie_make(&jar, &v4, 599 * SC_SEC, old);
}

START_TEST(test_layout) {
  /* The documented layout, computed independently. */
  uint8_t c[SC_COOKIE_LEN], in[23], mac[16];
  sc_cookie_make(&jar, &v6, 612 * SC_SEC + 999999999, c);
  ck_assert_uint_eq(c[0], 0);
  ck_assert_uint_eq(c[1], 0);
  ck_assert_uint_eq(c[2], 612 >> 8);
  ck_assert_uint_eq(c[3], 612 & 0xff);
  in[0] = SC_AF_INET6;
  memcpy(in + 1, v6.ip, 16);
  in[17] = 443 >> 8;
  in[18] = 443 & 0xff;
  memcpy(in + 19, c, 4);
  crypto_generichash(mac, sizeof(mac), in, sizeof(in), key1, sizeof(key1));
  ck_assert_mem_eq(c + 4, mac, 16);
}
END_TEST

START_TEST(test_round_trip) {
  uint8_t c[SC_COOKIE_LEN];
  sc_cookie_make(&jar, &v4, 601 * SC_SEC, c);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 601 * SC_SEC, c), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 610 * SC_SEC, c), 0);
  sc_cookie_make(&jar, &v6, 601 * SC_SEC, c);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v6, 601 * SC_SEC, c), 0);
}
END_TEST

START_TEST(test_wrong_address) {
  uint8_t c[SC_COOKIE_LEN];
  sc_addr a;
  uint64_t now = 601 * SC_SEC;
  sc_cookie_make(&jar, &v4, now, c);
  a = v4;
  a.ip[3] = 8;
  ck_assert_int_eq(sc_cookie_verify(&jar, &a, now, c), SC_ERR_CRYPTO);
  a = v4;
  a.port = 4434;
  ck_assert_int_eq(sc_cookie_verify(&jar, &a, now, c), SC_ERR_CRYPTO);
  a = v4;
  a.family = SC_AF_INET6;
  ck_assert_int_eq(sc_cookie_verify(&jar, &a, now, c), SC_ERR_CRYPTO);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v6, now, c), SC_ERR_CRYPTO);
  /* An IPv4 address owns only its first 4 bytes, as in sc_addr_eq. */
  a = v4;
  a.ip[10] = 0xff;
  ck_assert(sc_addr_eq(&a, &v4));
  ck_assert_int_eq(sc_cookie_verify(&jar, &a, now, c), 0);
  /* ... but every byte of an IPv6 address counts. */
  sc_cookie_make(&jar, &v6, now, c);
  a = v6;
  a.ip[8] = 1;
  ck_assert_int_eq(sc_cookie_verify(&jar, &a, now, c), SC_ERR_CRYPTO);
}
END_TEST

START_TEST(test_flipped_bit) {
  uint8_t c[SC_COOKIE_LEN], bad[SC_COOKIE_LEN];
  uint64_t now = 601 * SC_SEC;
  unsigned bit;
  sc_cookie_make(&jar, &v4, now, c);
  for (bit = 0; bit < 8 * SC_COOKIE_LEN; bit++) {
    memcpy(bad, c, sizeof(bad));
    bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    ck_assert_msg(sc_cookie_verify(&jar, &v4, now, bad) == SC_ERR_CRYPTO,
                  "bit %u", bit);
  }
}
END_TEST

START_TEST(test_expiry_boundary) {
  uint8_t c[SC_COOKIE_LEN];
  uint64_t t0 = 600 * SC_SEC;
  sc_cookie_make(&jar, &v4, t0, c);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, t0 + 30 * SC_SEC, c), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, t0 + 30 * SC_SEC + 1, c),
                   SC_ERR_STATE);
  /* Age counts from the whole second in the cookie, so a cookie made late
   * in a second expires up to 1 s early, never late. */
  sc_cookie_make(&jar, &v4, t0 + 999999999, c);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, t0 + 30 * SC_SEC, c), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, t0 + 30 * SC_SEC + 1, c),
                   SC_ERR_STATE);
}
END_TEST

START_TEST(test_future) {
  uint8_t c[SC_COOKIE_LEN];
  sc_cookie_make(&jar, &v4, 620 * SC_SEC, c);
  /* One second of slack for the truncation to seconds. */
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 619 * SC_SEC, c), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 619 * SC_SEC - 1, c),
                   SC_ERR_STATE);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 605 * SC_SEC, c), SC_ERR_STATE);
}
END_TEST

START_TEST(test_one_rotation) {
  uint8_t c[SC_COOKIE_LEN];
  ck_assert_uint_eq(jar.epoch, 9);
  ck_assert_uint_eq(sc_cookie_next_rotation(&jar), 600 * SC_SEC);
  sc_cookie_rotate(&jar, key2, 600 * SC_SEC);
  ck_assert_uint_eq(jar.epoch, 10);
  ck_assert_int_eq(jar.has_prev, 1);
  ck_assert_uint_eq(sc_cookie_next_rotation(&jar), 660 * SC_SEC);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 600 * SC_SEC, old), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 659 * SC_SEC, old), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 659 * SC_SEC + 1, old),
                   SC_ERR_STATE);
  sc_cookie_make(&jar, &v4, 600 * SC_SEC, c);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 600 * SC_SEC, c), 0);
  /* The new cookie is under the new key, not the old one. */
  ck_assert(memcmp(c + 4, old + 4, 16) != 0);
}
END_TEST

START_TEST(test_two_rotations) {
  uint8_t mid[SC_COOKIE_LEN];
  sc_cookie_rotate(&jar, key2, 600 * SC_SEC);
  sc_cookie_make(&jar, &v4, 600 * SC_SEC, mid);
  sc_cookie_rotate(&jar, key3, 660 * SC_SEC);
  ck_assert_int_eq(jar.has_prev, 1);
  /* The key of epoch 9 is gone: that is a MAC failure, not an expiry. */
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 660 * SC_SEC, old),
                   SC_ERR_CRYPTO);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 600 * SC_SEC, old),
                   SC_ERR_CRYPTO);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 660 * SC_SEC, mid), 0);
}
END_TEST

START_TEST(test_non_adjacent_rotation) {
  sc_cookie_rotate(&jar, key2, 720 * SC_SEC);
  ck_assert_uint_eq(jar.epoch, 12);
  ck_assert_int_eq(jar.has_prev, 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 600 * SC_SEC, old),
                   SC_ERR_CRYPTO);
  {
    static const uint8_t zero[SC_COOKIE_SECRET_LEN];
    ck_assert_mem_eq(jar.prev, zero, sizeof(zero));
  }
}
END_TEST

START_TEST(test_rekey_same_epoch) {
  uint8_t mid[SC_COOKIE_LEN];
  sc_cookie_rotate(&jar, key2, 600 * SC_SEC);
  sc_cookie_make(&jar, &v4, 605 * SC_SEC, mid);
  sc_cookie_rotate(&jar, key3, 610 * SC_SEC);
  /* Same epoch: key2 is forgotten, key1 is still the key of epoch 9. */
  ck_assert_uint_eq(jar.epoch, 10);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 610 * SC_SEC, old), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 610 * SC_SEC, mid),
                   SC_ERR_CRYPTO);
}
END_TEST

START_TEST(test_fractional_period) {
  uint8_t c[SC_COOKIE_LEN];
  uint64_t period = 1500 * SC_MS;
  ck_assert_int_eq(sc_cookie_init(&jar, key1, 0, period, period), 0);
  ck_assert_uint_eq(jar.epoch, 0);
  /* Epoch 1 starts at 1.5 s, but cookies carry whole seconds, so the first
   * second stamped in it is 2 s. */
  ck_assert_uint_eq(sc_cookie_next_rotation(&jar), 2 * SC_SEC);
  sc_cookie_make(&jar, &v4, 1900 * SC_MS, c);
  sc_cookie_rotate(&jar, key2, 2 * SC_SEC);
  ck_assert_uint_eq(jar.epoch, 1);
  ck_assert_int_eq(jar.has_prev, 1);
  ck_assert_uint_eq(sc_cookie_next_rotation(&jar), 3 * SC_SEC);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 2 * SC_SEC, c), 0);
}
END_TEST

START_TEST(test_timestamp_wrap) {
  uint8_t c[SC_COOKIE_LEN];
  uint64_t t0 = (UINT64_C(1) << 32) - 1; /* stamped 0xffffffff */
  ck_assert_int_eq(
      sc_cookie_init(&jar, key1, t0 * SC_SEC, 60 * SC_SEC, 60 * SC_SEC), 0);
  sc_cookie_make(&jar, &v4, t0 * SC_SEC, c);
  ck_assert_uint_eq(c[0], 0xff);
  ck_assert_uint_eq(c[3], 0xff);
  /* At t0 + 6 s the low 32 bits of the clock have wrapped to 5. */
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, (t0 + 6) * SC_SEC, c), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, (t0 + 61) * SC_SEC, c),
                   SC_ERR_STATE);
  /* Early in the clock's life, 0xffffffff would be before its origin. */
  ck_assert_int_eq(sc_cookie_init(&jar, key1, 0, 60 * SC_SEC, 60 * SC_SEC), 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 5 * SC_SEC, c), SC_ERR_CRYPTO);
}
END_TEST

START_TEST(test_init_args) {
  sc_cookie_jar j;
  ck_assert_int_eq(sc_cookie_init(NULL, key1, 0, SC_SEC, SC_SEC),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_cookie_init(&j, NULL, 0, SC_SEC, SC_SEC),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_cookie_init(&j, key1, 0, SC_SEC - 1, SC_SEC - 1),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_cookie_init(&j, key1, 0, 2 * SC_SEC, SC_SEC - 1),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_cookie_init(&j, key1, 0, 2 * SC_SEC, 2 * SC_SEC + 1),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_cookie_init(&j, key1, 0, SC_SEC, SC_SEC), 0);
  ck_assert_int_eq(sc_cookie_init(&j, key1, 7 * SC_SEC, 2 * SC_SEC, SC_SEC), 0);
  ck_assert_uint_eq(j.epoch, 3);
  ck_assert_int_eq(j.has_prev, 0);
  ck_assert_uint_eq(j.period, 2 * SC_SEC);
  ck_assert_uint_eq(j.lifetime, SC_SEC);
}
END_TEST

START_TEST(test_wipe) {
  static const uint8_t zero[SC_COOKIE_SECRET_LEN];
  uint8_t c[SC_COOKIE_LEN];
  sc_cookie_make(&jar, &v4, 601 * SC_SEC, c);
  sc_cookie_rotate(&jar, key2, 660 * SC_SEC);
  ck_assert_int_eq(jar.has_prev, 1);
  sc_cookie_wipe(&jar);
  ck_assert_mem_eq(jar.cur, zero, sizeof(zero));
  ck_assert_mem_eq(jar.prev, zero, sizeof(zero));
  ck_assert_int_eq(jar.has_prev, 0);
  ck_assert_int_eq(sc_cookie_verify(&jar, &v4, 661 * SC_SEC, c), SC_ERR_CRYPTO);
}
END_TEST

static Suite *cookie_suite(void) {
  Suite *s = suite_create("cookie");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_layout);
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_wrong_address);
  tcase_add_test(tc, test_flipped_bit);
  tcase_add_test(tc, test_expiry_boundary);
  tcase_add_test(tc, test_future);
  tcase_add_test(tc, test_fractional_period);
  tcase_add_test(tc, test_timestamp_wrap);
  tcase_add_test(tc, test_wipe);
  suite_add_tcase(s, tc);
  tc = tcase_create("rotation");
  tcase_add_checked_fixture(tc, setup_rotation, NULL);
  tcase_add_test(tc, test_one_rotation);
  tcase_add_test(tc, test_two_rotations);
  tcase_add_test(tc, test_non_adjacent_rotation);
  tcase_add_test(tc, test_rekey_same_epoch);
  suite_add_tcase(s, tc);
  tc = tcase_create("args");
  tcase_add_test(tc, test_init_args);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(cookie_suite()); }
