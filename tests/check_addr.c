/*
 * check_addr.c: addresses without socket headers: RFC 5952 formatting and
 * strict parsing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stratocast.h"

static void assert_roundtrip(const char *text) {
  sc_addr a;
  char buf[SC_ADDR_STRLEN];
  ck_assert_msg(sc_addr_parse(&a, text) == 0, "%s does not parse", text);
  ck_assert_str_eq(sc_addr_format(&a, buf), text);
}

START_TEST(test_v4) {
  sc_addr a;
  assert_roundtrip("127.0.0.1:4433");
  assert_roundtrip("0.0.0.0:0");
  assert_roundtrip("255.255.255.255:65535");
  ck_assert_int_eq(sc_addr_parse(&a, "10.1.2.3:80"), 0);
  ck_assert_int_eq(a.family, SC_AF_INET);
  ck_assert_uint_eq(a.port, 80);
  ck_assert_int_eq(a.ip[0], 10);
  ck_assert_int_eq(a.ip[3], 3);
}
END_TEST

/* RFC 5952 §4: lower case, no leading zeros, the longest run of two or
 * more zero groups shortened (the first on a tie), a lone zero group
 * written out. */
START_TEST(test_v6_canonical) {
  static const char *const canon[] = {
      "[::1]:4433",
      "[::]:1",
      "[2001:db8::1]:443",
      "[2001:db8:0:1:1:1:1:1]:443", /* a single zero group stays */
      "[2001:0:0:1::1]:9",          /* the longer run is shortened */
      "[2001:db8::1:0:0:1]:9",      /* the first run on a tie */
      "[fe80::]:7",
      "[1:2:3:4:5:6:7:8]:65535",
      "[::ffff:1:2]:5",
  };
  size_t i;
  for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
    assert_roundtrip(canon[i]);
  }
}
END_TEST

START_TEST(test_v6_normalises) {
  sc_addr a;
  char buf[SC_ADDR_STRLEN];
  ck_assert_int_eq(
      sc_addr_parse(&a, "[2001:0DB8:0000:0000:0000:0000:0000:0001]:1"), 0);
  ck_assert_str_eq(sc_addr_format(&a, buf), "[2001:db8::1]:1");
  ck_assert_int_eq(sc_addr_parse(&a, "[0:0:0:0:0:0:0:0]:2"), 0);
  ck_assert_str_eq(sc_addr_format(&a, buf), "[::]:2");
}
END_TEST

START_TEST(test_rejects) {
  static const char *const bad[] = {
      "",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:65536",
      "127.0.0.1:-1",
      "127.0.0.1:80x",
      "256.0.0.1:1",
      "1.2.3:1",
      "1.2.3.4.5:1",
      "01.2.3.4:1",
      "1..3.4:1",
      "a.b.c.d:1",
      "::1:80",
      "[::1]",
      "[::1]:",
      "[::1:80",
      "[1:2:3:4:5:6:7:8:9]:1",
      "[1::2::3]:1",
      "[12345::]:1",
      "[g::]:1",
      "[1:2:3:4:5:6:7]:1",
      "[:1]:1",
  };
  size_t i;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sc_addr a;
    memset(&a, 0x5a, sizeof(a));
    ck_assert_msg(sc_addr_parse(&a, bad[i]) == SC_ERR_MALFORMED, "'%s' parsed",
                  bad[i]);
    ck_assert_int_eq(a.family, 0x5a); /* untouched on failure */
  }
}
END_TEST

START_TEST(test_eq) {
  sc_addr a, b;
  ck_assert_int_eq(sc_addr_parse(&a, "10.0.0.1:1"), 0);
  b = a;
  ck_assert(sc_addr_eq(&a, &b));
  b.ip[15] = 9; /* beyond an IPv4 address: not part of it */
  ck_assert(sc_addr_eq(&a, &b));
  b.port = 2;
  ck_assert(!sc_addr_eq(&a, &b));
  ck_assert_int_eq(sc_addr_parse(&b, "[::a00:1]:1"), 0);
  ck_assert(!sc_addr_eq(&a, &b)); /* families differ */
}
END_TEST

START_TEST(test_hex) {
  uint8_t in[3] = {0x00, 0xab, 0xff};
  char out[7];
  ck_assert_str_eq(sc_hex(out, in, 3), "00abff");
}
END_TEST

static Suite *addr_suite(void) {
  Suite *s = suite_create("addr");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_v4);
  tcase_add_test(tc, test_v6_canonical);
  tcase_add_test(tc, test_v6_normalises);
  tcase_add_test(tc, test_rejects);
  tcase_add_test(tc, test_eq);
  tcase_add_test(tc, test_hex);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(addr_suite()); }
