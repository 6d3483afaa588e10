/*
 * check_grouprate.c: the NetGroupInfo rates of "show groups"
 * (src/shell/grouprate.c): bytes a second over the last 10 s of samples,
 * per group, a group left forgotten and a new one followed.
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "grouprate.h"

#define S 1000000000ull

static sc_group_info group(uint8_t id, uint64_t posted, uint64_t routed) {
  sc_group_info g;
  memset(&g, 0, sizeof(g));
  g.group_id[0] = id;
  g.stats.post_data_bytes_sent = posted;
  g.stats.route_bytes_received = routed;
  return g;
}

/* Two groups at steady rates: each rate is its own, over 10 s once more
 * than 10 samples were taken. */
START_TEST(test_rates) {
  sc_grouprate r;
  sc_group_info g[2];
  double out[SC_GROUPRATE_KINDS];
  uint64_t t;
  sc_grouprate_init(&r);
  g[0] = group(1, 0, 0);
  sc_grouprate_sample(&r, g, 1, 5 * S);
  ck_assert_int_eq(sc_grouprate_get(&r, g[0].group_id, out), -1);
  ck_assert(out[0] == 0.0);
  for (t = 1; t <= 30; t++) {
    /* 1,000 B/s posted for 20 s, then 3,000 B/s */
    uint64_t posted = t <= 20 ? 1000 * t : 20000 + 3000 * (t - 20);
    g[0] = group(1, posted, 0);
    g[1] = group(2, 0, 500 * t);
    sc_grouprate_sample(&r, g, 2, (5 + t) * S);
  }
  ck_assert_int_eq(sc_grouprate_get(&r, g[0].group_id, out), 0);
  ck_assert_double_eq_tol(out[0], 3000.0, 1e-9);
  ck_assert(out[5] == 0.0);
  ck_assert_int_eq(sc_grouprate_get(&r, g[1].group_id, out), 0);
  ck_assert_double_eq_tol(out[5], 500.0, 1e-9);
  ck_assert(out[0] == 0.0);
  ck_assert_str_eq(sc_grouprate_names[0], "posting_send_data_bytes_per_s");
}
END_TEST

/* A group gone from a sample is forgotten; joining again starts anew, and
 * counters that went down (a new core) give 0, not a wrap. */
START_TEST(test_left_and_back) {
  sc_grouprate r;
  sc_group_info g[SC_GROUPRATE_GROUPS];
  double out[SC_GROUPRATE_KINDS];
  uint8_t k;
  sc_grouprate_init(&r);
  g[0] = group(1, 100, 0);
  sc_grouprate_sample(&r, g, 1, 1 * S);
  g[0] = group(1, 200, 0);
  sc_grouprate_sample(&r, g, 1, 2 * S);
  ck_assert_int_eq(sc_grouprate_get(&r, g[0].group_id, out), 0);
  ck_assert_double_eq_tol(out[0], 100.0, 1e-9);
  sc_grouprate_sample(&r, g, 0, 3 * S);
  ck_assert_int_eq(sc_grouprate_get(&r, g[0].group_id, out), -1);
  g[0] = group(1, 50, 0);
  sc_grouprate_sample(&r, g, 1, 4 * S);
  ck_assert_int_eq(sc_grouprate_get(&r, g[0].group_id, out), -1);
  /* Eight groups fill every series; the first keeps its own. */
  for (k = 0; k < SC_GROUPRATE_GROUPS; k++) {
    g[k] = group((uint8_t)(k + 1), k == 0 ? 10 : 1000, 0);
  }
  sc_grouprate_sample(&r, g, SC_GROUPRATE_GROUPS, 5 * S);
  ck_assert_int_eq(sc_grouprate_get(&r, g[0].group_id, out), 0);
  ck_assert(out[0] == 0.0); /* 50 then 10: a new core, not a wrap */
  ck_assert_int_eq(sc_grouprate_get(&r, g[7].group_id, out), -1);
}
END_TEST

static Suite *grouprate_suite(void) {
  Suite *s = suite_create("grouprate");
  TCase *tc = tcase_create("rates");
  tcase_add_test(tc, test_rates);
  tcase_add_test(tc, test_left_and_back);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(grouprate_suite()); }
