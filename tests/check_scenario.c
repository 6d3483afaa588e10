/*
 * check_scenario.c: stratosim's scenario parser
 * (tools/stratosim/sim_scenario.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sim_scenario.h"

#define TMP_PATH "check_scenario.tmp"

static sim_config cfg;
static char err[512];

static void setup(void) {
  sim_config_init(&cfg);
  err[0] = '\0';
}

static void teardown(void) {
  sim_config_free(&cfg);
  remove(TMP_PATH);
}

/* ok parses |line| as a command-line statement and expects success. */
static void ok(const char *line) {
  int rc = sim_config_parse_line(&cfg, line, "-e", err, sizeof(err));
  ck_assert_msg(rc == 0, "'%s' failed: %s", line, err);
}

/* bad expects |line| to fail with a message containing |msg| and to leave
 * the config exactly as it was: not one byte written, hence memcmp. */
static void bad(const char *line, const char *msg) {
  sim_config before;
  int rc;
  memcpy(&before, &cfg, sizeof(cfg));
  rc = sim_config_parse_line(&cfg, line, "scn:9", err, sizeof(err));
  ck_assert_msg(rc == -1, "'%s' was accepted", line);
  ck_assert_msg(strstr(err, msg) != NULL, "'%s': got '%s', want '%s'", line,
                err, msg);
  ck_assert_msg(strncmp(err, "scn:9: ", 7) == 0, "'%s': no prefix", err);
  ck_assert_msg(memcmp(&before, &cfg, sizeof(cfg)) == 0, "'%s' changed it",
                line);
}

static const sim_action *last(void) {
  ck_assert_uint_gt(cfg.nactions, 0);
  return &cfg.actions[cfg.nactions - 1];
}

static void write_file(const char *text) {
  FILE *f = fopen(TMP_PATH, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fputs(text, f) >= 0, 1);
  ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_defaults) {
  ck_assert_uint_eq(cfg.seed, 1);
  ck_assert_uint_eq(cfg.nodes, 10);
  ck_assert_uint_eq(cfg.duration, 60 * SIM_S);
  ck_assert_int_eq(cfg.place.kind, SIM_PLACE_GEO);
  ck_assert_uint_eq(cfg.place.access_min, SIM_MS);
  ck_assert_uint_eq(cfg.link.up_bps, 20000000);
  ck_assert_int_eq(cfg.log_level, -1);
  ck_assert_int_eq(cfg.per_node, 0);
  ck_assert_uint_eq(cfg.nboot + cfg.nactions, 0);
  /* Nothing to do, nothing to say. */
  ok("");
  ok("   \t  ");
  ok("# just a comment");
  ck_assert_int_eq(sim_config_parse_line(&cfg, NULL, NULL, NULL, 0), 0);
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_settings) {
  ok("seed 18446744073709551615");
  ck_assert_uint_eq(cfg.seed, UINT64_MAX);
  ok("seed 3 # later ones replace earlier ones");
  ok("seed\t4");
  ck_assert_uint_eq(cfg.seed, 4);
  ok("nodes 1000000");
  ck_assert_uint_eq(cfg.nodes, 1000000);
  ok("duration 1.5min");
  ck_assert_uint_eq(cfg.duration, 90 * SIM_S);
  ok("placement fixed 30ms");
  ck_assert_int_eq(cfg.place.kind, SIM_PLACE_FIXED);
  ck_assert_uint_eq(cfg.place.fixed, 30 * SIM_MS);
  ok("placement matrix data/rtt.txt");
  ck_assert_int_eq(cfg.place.kind, SIM_PLACE_MATRIX);
  ck_assert_str_eq(cfg.place.matrix_path, "data/rtt.txt");
  ok("placement geo");
  ck_assert_int_eq(cfg.place.kind, SIM_PLACE_GEO);
  ok("access-delay 2ms 8ms");
  ck_assert_uint_eq(cfg.place.access_max, 8 * SIM_MS);
  ok("access-delay 0 0");
  ok("max-sessions 64");
  ok("max-half-open 8");
  ok("target-peers 6");
  ok("idle-timeout 30s");
  ok("keepalive 5s");
  ok("handshake-timeout 2s");
  ck_assert_uint_eq(cfg.max_sessions + cfg.max_half_open, 72);
  ck_assert_uint_eq(cfg.target_peers, 6);
  ck_assert_uint_eq(cfg.idle_timeout, 30 * SIM_S);
  ck_assert_uint_eq(cfg.keepalive_interval, 5 * SIM_S);
  ck_assert_uint_eq(cfg.handshake_timeout, 2 * SIM_S);
  ok("log debug");
  ck_assert_int_eq(cfg.log_level, 3);
  ok("log none");
  ck_assert_int_eq(cfg.log_level, -1);
  ok("report per-node");
  ck_assert_int_eq(cfg.per_node, 1);
  ok("report aggregate");
  ck_assert_int_eq(cfg.per_node, 0);
  ok("bootstrap 1-9 from 0");
  ok("bootstrap all random 3");
  ck_assert_uint_eq(cfg.nboot, 2);
  ck_assert_uint_eq(cfg.boot[0].from.n, 1);
  ck_assert_uint_eq(cfg.boot[1].from.n, 0);
  ck_assert_uint_eq(cfg.boot[1].k, 3);
  ck_assert_uint_eq(cfg.nactions, 0);
}
END_TEST

static const struct {
  const char *word;
  uint64_t ns;
} times[] = {
    {"0", 0},
    {"0.0", 0},
    {"1ns", 1},
    {"1us", 1000},
    {"1ms", SIM_MS},
    {"1s", SIM_S},
    {"1min", 60 * SIM_S},
    {"1h", 3600 * SIM_S},
    {"1.5s", 1500 * SIM_MS},
    {"0.1s", 100 * SIM_MS},
    {"0.001ms", 1000},
    {"2500h", 9000000 * SIM_S},
    {"007ms", 7 * SIM_MS},
    {"1.0000000000000000001s", SIM_S},
};

START_TEST(test_times) {
  char line[128];
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(times); i++) {
    snprintf(line, sizeof(line), "keepalive %s", times[i].word);
    ok(line);
    ck_assert_msg(cfg.keepalive_interval == times[i].ns, "%s", line);
    snprintf(line, sizeof(line), "at %s heal", times[i].word);
    ok(line);
    ck_assert_uint_eq(last()->at, times[i].ns);
  }
}
END_TEST

/* Lines that fail, and a piece of their message. */
static const struct {
  const char *line, *msg;
} bad_lines[] = {
    {"lose 0.3", "unknown statement 'lose'"},
    {"nodes 0", "0 is out of range (1 to 1000000)"},
    {"nodes 1000001", "out of range"},
    {"nodes 1e3", "'1e3' is not a whole number"},
    {"nodes -1", "not a whole number"},
    {"nodes 12x", "not a whole number"},
    {"nodes +5", "not a whole number"},
    {"nodes 0x10", "not a whole number"},
    {"nodes 1.0", "not a whole number"},
    {"seed 18446744073709551616", "out of range"},
    {"seed 99999999999999999999999999", "out of range"},
    {"seed", "seed: missing number"},
    {"seed 1 2", "unexpected '2'"},
    {"duration 0", "must be above 0"},
    {"duration 5", "'5': missing unit"},
    {"jitter 0.5", "'0.5': missing unit"},
    {"duration 5x", "'5x' is not a time"},
    {"duration -1s", "not a time"},
    {"duration 1e3s", "not a time"},
    {"duration .5s", "not a time"},
    {"duration 1.s", "not a time"},
    {"duration 1.5.5s", "not a time"},
    {"duration s", "not a time"},
    {"duration 1S", "not a time"},
    {"duration 2502h", "too large"},
    {"duration 99999999999999999999999ns", "too large"},
    {"placement", "missing geo, fixed or matrix"},
    {"placement moon", "'moon' is not geo, fixed or matrix"},
    {"placement fixed", "missing time"},
    {"placement matrix", "missing matrix file"},
    {"access-delay 5ms 1ms", "the minimum is above the maximum"},
    {"access-delay 5ms", "missing time"},
    {"max-sessions 4294967296", "out of range"},
    {"log loud", "'loud' is not one of error, warn, info, debug, none"},
    {"report", "missing value"},
    {"bootstrap 0 random 0", "out of range (1 to"},
    {"bootstrap 0 from", "missing node set"},
    {"bootstrap 0 to 1", "'to' is not from or random"},
    {"at 5s seed 3", "seed cannot be timed"},
    {"at 5s bootstrap 0 from 1", "bootstrap cannot be timed"},
    {"at", "at: missing time"},
    {"at 5s", "at: missing statement"},
    {"at 5 heal", "missing unit"},
    {"at 5s at 6s heal", "unknown statement 'at'"},
    {"crash", "missing node set"},
    {"crash 5-3", "'5-3': range 5-3 is backwards"},
    {"crash 1,,2", "is not a node set"},
    {"crash 1,", "is not a node set"},
    {",", "unknown statement"},
    {"crash ,1", "is not a node set"},
    {"crash 1-", "is not a node set"},
    {"crash -1", "is not a node set"},
    {"crash 1-2-3", "is not a node set"},
    {"crash alls", "is not a node set"},
    {"crash 4294967296", "node index too large"},
    {"crash 1 2", "unexpected '2'"},
    {"heal now", "unexpected 'now'"},
    {"join 0-9 over", "missing time"},
    {"join 0-9 over 1s over 2s", "'over' repeats"},
    {"restart 1 history fresh", "'fresh' repeats or contradicts"},
    {"restart 1 nodes 2", "unexpected 'nodes'"},
    {"churn", "missing crash, leave or stop"},
    {"churn explode 1/s", "'explode' is not crash, leave or stop"},
    {"churn crash", "missing rate"},
    {"churn crash 0/s", "the rate must be above 0"},
    {"churn crash 1/day", "'1/day' is not a rate"},
    {"churn crash 1/s restart 0", "restart time must be above 0"},
    {"churn stop nodes 1", "unexpected 'nodes'"},
    {"uplink", "missing rate"},
    {"uplink 0", "the rate must be above 0 (or unlimited)"},
    {"uplink 5", "'5': missing unit"},
    {"uplink 5Mbit", "'5Mbit' is not a rate"},
    {"uplink 5mbit queue 64KB", "'64KB' is not a size"},
    {"uplink 5mbit queue", "missing size"},
    {"uplink 5mbit queue 1kB queue 2kB", "'queue' repeats"},
    {"loss 1.5", "1.5 is not a probability in [0, 1]"},
    {"loss 101%", "101% is not a probability in [0, 1]"},
    {"loss -0.1", "not a probability (like 0.3 or 30%)"},
    {"loss 0.3x", "not a probability"},
    {"loss 1e-3", "not a probability"},
    {"loss nan", "not a probability"},
    {"loss 0.1 nodes", "missing node set"},
    {"loss 0.1 nodes 1 nodes 2", "'nodes' repeats"},
    {"loss 0.1 queue 1kB", "unexpected 'queue'"},
    {"burst-loss 0.1", "missing probability"},
    {"burst-loss 0.1 0.2 0.3 0.4 0.5", "unexpected '0.5'"},
    {"burst-loss off 0.1", "unexpected '0.1'"},
    {"jitter 5", "missing unit"},
    {"reorder 0.1 5", "missing unit"},
    {"reorder 0.1 5ms 6ms", "unexpected '6ms'"},
    {"duplicate", "missing probability"},
    {"corrupt 2", "not a probability in [0, 1]"},
    {"heal x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x",
     "too many words (at most 32)"},
};

START_TEST(test_bad_lines) {
  size_t i;
  ok("crash 1");
  ok("bootstrap 0 from 1");
  for (i = 0; i < SC_ARRAY_LEN(bad_lines); i++) {
    bad(bad_lines[i].line, bad_lines[i].msg);
  }
  ck_assert_uint_eq(cfg.nactions, 1);
  ck_assert_uint_eq(cfg.nboot, 1);
}
END_TEST

START_TEST(test_messages) {
  static const struct {
    const char *where, *line, *msg;
  } cases[] = {
      {"scn.txt:4", "loss 1.5",
       "scn.txt:4: loss: 1.5 is not a probability "
       "in [0, 1]"},
      {"scn.txt:7", "lose 0.3", "scn.txt:7: unknown statement 'lose'"},
      {"--loss", "loss 1.5", "--loss: 1.5 is not a probability in [0, 1]"},
      {"-e", "at 5s seed 3", "-e: seed cannot be timed"},
      {"-e", "jitter 5",
       "-e: jitter: '5': missing unit (like 1.5s; units ns, us, ms, s, min, "
       "h)"},
  };
  char small[12];
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(cases); i++) {
    ck_assert_int_eq(sim_config_parse_line(&cfg, cases[i].line, cases[i].where,
                                           err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, cases[i].msg);
  }
  /* Short buffers are truncated, never overrun; no buffer is fine. */
  ck_assert_int_eq(
      sim_config_parse_line(&cfg, "loss 2", "scn.txt:4", small, sizeof(small)),
      -1);
  ck_assert_str_eq(small, "scn.txt:4: ");
  ck_assert_int_eq(sim_config_parse_line(&cfg, "loss 2", "x", small, 1), -1);
  ck_assert_str_eq(small, "");
  ck_assert_int_eq(sim_config_parse_line(&cfg, "loss 2", "x", NULL, 0), -1);
}
END_TEST

START_TEST(test_sets) {
  const sim_set *s;
  ok("crash all");
  s = &last()->set;
  ck_assert_uint_eq(s->n, 1);
  ck_assert_int_eq(sim_set_has(s, UINT32_MAX), 1);
  ck_assert_uint_eq(sim_set_count(s, 10), 10);
  ck_assert_uint_eq(sim_set_count(s, 0), 0);
  ck_assert_uint_eq(sim_set_nth(s, 10, 9), 9);
  ck_assert_uint_eq(sim_set_nth(s, 10, 10), UINT32_MAX);
  ok("crash 0-9,20,30-39");
  s = &last()->set;
  ck_assert_uint_eq(sim_set_count(s, 100), 21);
  ck_assert_uint_eq(sim_set_count(s, 35), 16);
  ck_assert_uint_eq(sim_set_nth(s, 100, 10), 20);
  ck_assert_uint_eq(sim_set_nth(s, 100, 11), 30);
  ck_assert_uint_eq(sim_set_nth(s, 100, 20), 39);
  ck_assert_uint_eq(sim_set_nth(s, 100, 21), UINT32_MAX);
  ck_assert_uint_eq(sim_set_nth(s, 25, 11), UINT32_MAX);
  ck_assert_int_eq(sim_set_has(s, 20), 1);
  ck_assert_int_eq(sim_set_has(s, 21), 0);
  ck_assert_int_eq(sim_set_has(s, 40), 0);
  /* Overlapping, adjacent and unordered ranges are merged. */
  ok("crash 0-5,3-8");
  ck_assert_uint_eq(last()->set.n, 1);
  ck_assert_uint_eq(sim_set_count(&last()->set, 100), 9);
  ok("crash 8,3,5-6,7,3");
  s = &last()->set;
  ck_assert_uint_eq(s->n, 2);
  ck_assert_uint_eq(sim_set_count(s, 100), 5);
  ck_assert_uint_eq(sim_set_nth(s, 100, 0), 3);
  ck_assert_uint_eq(sim_set_nth(s, 100, 1), 5);
  ck_assert_uint_eq(sim_set_nth(s, 100, 4), 8);
  ok("crash 4294967295,0-4294967294");
  ck_assert_uint_eq(last()->set.n, 1);
  ok("crash 7,all");
  ck_assert_uint_eq(last()->set.n, 1);
  ck_assert_uint_eq(sim_set_count(&last()->set, 5), 5);
}
END_TEST

START_TEST(test_actions) {
  const sim_action *a;
  ok("join 0-9");
  a = last();
  ck_assert_int_eq(a->verb, SIM_ACT_JOIN);
  ck_assert_uint_eq(a->at + a->span, 0);
  ck_assert_int_eq(a->line, 0);
  ok("at 2s join 10-19 over 5s");
  ck_assert_uint_eq(last()->at, 2 * SIM_S);
  ck_assert_uint_eq(last()->span, 5 * SIM_S);
  ok("leave 3");
  ck_assert_int_eq(last()->verb, SIM_ACT_LEAVE);
  ok("crash 4");
  ck_assert_int_eq(last()->verb, SIM_ACT_CRASH);
  ok("partition 0-4");
  ck_assert_int_eq(last()->verb, SIM_ACT_PARTITION);
  ok("heal");
  ck_assert_int_eq(last()->verb, SIM_ACT_HEAL);
  ck_assert_uint_eq(last()->set.r[0].hi, UINT32_MAX);
  ok("restart 3");
  ck_assert_int_eq(last()->verb, SIM_ACT_RESTART);
  ck_assert_int_eq(last()->history, 0);
  ok("restart 3 history");
  ck_assert_int_eq(last()->history, 1);
  ok("restart 3 fresh");
  ck_assert_int_eq(last()->history, 0);
  ok("churn crash 2/s");
  a = last();
  ck_assert_int_eq(a->verb, SIM_ACT_CHURN);
  ck_assert_int_eq(a->churn_kind, SIM_CHURN_CRASH);
  ck_assert_double_eq(a->rate, 2.0);
  ck_assert_uint_eq(a->downtime, 0);
  ck_assert_uint_eq(sim_set_count(&a->set, 50), 50);
  ok("at 1min churn leave 30/min nodes 5-9 history restart 10s");
  a = last();
  ck_assert_int_eq(a->churn_kind, SIM_CHURN_LEAVE);
  ck_assert_double_eq(a->rate, 0.5);
  ck_assert_uint_eq(a->downtime, 10 * SIM_S);
  ck_assert_int_eq(a->history, 1);
  ck_assert_uint_eq(sim_set_count(&a->set, 50), 5);
  ok("churn crash 0.25");
  ck_assert_double_eq(last()->rate, 0.25);
  ok("churn leave 36/h");
  ck_assert_double_eq_tol(last()->rate, 0.01, 1e-12);
  ok("churn stop");
  ck_assert_int_eq(last()->verb, SIM_ACT_CHURN_STOP);
}
END_TEST

/* route COUNT [over TIME] [nodes SET], and its group. */
START_TEST(test_route) {
  const sim_action *a;
  ok("at 5s route 1000 over 2s nodes 0-4");
  a = last();
  ck_assert_int_eq(a->verb, SIM_ACT_ROUTE);
  ck_assert_uint_eq(a->count, 1000);
  ck_assert_uint_eq(a->at, 5 * SIM_S);
  ck_assert_uint_eq(a->span, 2 * SIM_S);
  ck_assert_uint_eq(sim_set_count(&a->set, 50), 5);
  ok("route 1");
  ck_assert_uint_eq(last()->span, 0);
  ck_assert_uint_eq(sim_set_count(&last()->set, 50), 50);
  bad("route", "route: missing count");
  bad("route 0", "route: ");
  bad("route 1000001", "route: ");
  bad("route 5 rate 2", "route: unexpected 'rate'");
  ck_assert(sim_config_first(&cfg, SIM_ACT_ROUTE) != NULL);
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), -1);
  ck_assert_str_eq(err,
                   "route: needs a group statement (it routes in the first "
                   "group)");
  ok("group demo");
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), 0);
}
END_TEST

/* link applies |line|'s action to the default link. */
static sim_link link_after(const char *line) {
  sim_link l;
  ok(line);
  ck_assert_int_eq(last()->verb, SIM_ACT_LINK);
  sim_link_default(&l);
  sim_link_apply(&l, last());
  return l;
}

START_TEST(test_link) {
  sim_link l, d;
  sim_link_default(&d);
  l = link_after("uplink 5mbit");
  ck_assert_uint_eq(l.up_bps, 5000000);
  ck_assert_uint_eq(l.up_queue, d.up_queue);
  ck_assert_double_eq(last()->v[1], -1);
  l = link_after("uplink unlimited queue 64KiB nodes 1");
  ck_assert_uint_eq(l.up_bps + l.up_queue, 65536);
  l = link_after("downlink 1.5gbit queue 1MB");
  ck_assert_uint_eq(l.down_bps, 1500000000);
  ck_assert_uint_eq(l.down_queue, 1000000);
  ck_assert_uint_eq(l.up_bps, d.up_bps);
  l = link_after("downlink 2kbit queue 0");
  ck_assert_uint_eq(l.down_bps + l.down_queue, 2000);
  l = link_after("uplink 1bit queue 1500B");
  ck_assert_uint_eq(l.up_queue, 1500);
  l = link_after("uplink 1bit queue 2kB");
  ck_assert_uint_eq(l.up_queue, 2000);
  l = link_after("uplink 1bit queue 1MiB");
  ck_assert_uint_eq(l.up_queue, 1048576);
  l = link_after("loss 30%");
  ck_assert_double_eq_tol(l.loss, 0.3, 1e-15);
  l = link_after("loss 1");
  ck_assert_double_eq(l.loss, 1.0);
  l = link_after("burst-loss 0.01 0.3");
  ck_assert_double_eq(l.ge_p_gb, 0.01);
  ck_assert_double_eq(l.ge_p_bg, 0.3);
  ck_assert_double_eq(l.ge_loss_bad, 1.0);
  ck_assert_double_eq(l.ge_loss_good, 0.0);
  l = link_after("burst-loss 1% 30% 0.9 nodes 2");
  ck_assert_double_eq(l.ge_loss_bad, 0.9);
  ck_assert_uint_eq(sim_set_count(&last()->set, 10), 1);
  l = link_after("burst-loss 0.01 0.3 0.9 0.05");
  ck_assert_double_eq(l.ge_loss_good, 0.05);
  l = link_after("burst-loss off nodes 3");
  ck_assert_double_eq(l.ge_p_gb + l.ge_loss_bad + l.ge_loss_good, 0.0);
  ck_assert_double_eq(l.ge_p_bg, 1.0);
  l = link_after("jitter 5ms");
  ck_assert_uint_eq(l.jitter, 5 * SIM_MS);
  l = link_after("reorder 0.1");
  ck_assert_double_eq(l.reorder, 0.1);
  ck_assert_uint_eq(l.reorder_delay, 10 * SIM_MS);
  l = link_after("reorder 0.1 3ms nodes 3");
  ck_assert_uint_eq(l.reorder_delay, 3 * SIM_MS);
  l = link_after("duplicate 1%");
  ck_assert_double_eq(l.duplicate, 0.01);
  l = link_after("corrupt 0.001");
  ck_assert_double_eq(l.corrupt, 0.001);
  /* Other actions leave the link alone. */
  ok("crash 1");
  l = d;
  sim_link_apply(&l, last());
  ck_assert_int_eq(memcmp(&l, &d, sizeof(l)), 0);
}
END_TEST

START_TEST(test_finish) {
  static const char *lines[] = {"at 5s crash 1", "at 1s crash 2",
                                "at 5s crash 3", "crash 4", "at 1s crash 5"};
  static const uint32_t order[] = {4, 2, 5, 1, 3};
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(lines); i++) {
    ok(lines[i]);
  }
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), 0);
  for (i = 0; i < SC_ARRAY_LEN(order); i++) {
    ck_assert_uint_eq(cfg.actions[i].set.r[0].lo, order[i]);
  }
  /* Every index below nodes, counted at the end. */
  ok("crash 10");
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), -1);
  ck_assert_str_eq(err, "command line: crash: node 10 is out of range "
                        "(the run has 10 nodes)");
  ok("nodes 11");
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), 0);
  ok("bootstrap 0-3 from 12");
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), -1);
  ck_assert_str_eq(err, "bootstrap: node 12 is out of range (the run has 11 "
                        "nodes)");
}
END_TEST

START_TEST(test_finish_time) {
  ck_assert_int_eq(
      sim_config_parse_line(&cfg, "at 60s loss 0.1", "f:3", err, sizeof(err)),
      0);
  ck_assert_int_eq(last()->line, 3);
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), -1);
  ck_assert_str_eq(err, "line 3: loss: at 60s is not before the end "
                        "(duration 60s)");
  ok("duration 61s");
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_sort_stable) {
  char line[64];
  size_t i;
  ok("nodes 300");
  for (i = 0; i < 300; i++) {
    snprintf(line, sizeof(line), "at %us crash %u", (unsigned)(i * 7 % 13),
             (unsigned)i);
    ok(line);
  }
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), 0);
  for (i = 1; i < cfg.nactions; i++) {
    const sim_action *a = &cfg.actions[i - 1], *b = &cfg.actions[i];
    ck_assert(a->at < b->at ||
              (a->at == b->at && a->set.r[0].lo < b->set.r[0].lo));
  }
}
END_TEST

START_TEST(test_load) {
  const sim_action *a;
  write_file("# a scenario\n"
             "seed 7   # trailing comment\r\n"
             "nodes 20\r\n"
             "\t\n"
             "placement fixed 20ms\n"
             "at 10s crash 0-4\n"
             "at 5s join 5-9 over 2s");
  ck_assert_int_eq(sim_config_load(&cfg, TMP_PATH, err, sizeof(err)), 0);
  ck_assert_uint_eq(cfg.seed, 7);
  ck_assert_uint_eq(cfg.nodes, 20);
  ck_assert_int_eq(sim_config_finish(&cfg, err, sizeof(err)), 0);
  a = &cfg.actions[0];
  ck_assert_int_eq(a->verb, SIM_ACT_JOIN);
  ck_assert_int_eq(a->line, 7);
  ck_assert_int_eq(cfg.actions[1].line, 6);
  /* A bad line is named; the lines before it stay. */
  write_file("seed 9\n\nloss 2\n");
  ck_assert_int_eq(sim_config_load(&cfg, TMP_PATH, err, sizeof(err)), -1);
  ck_assert_str_eq(err, TMP_PATH ":3: loss: 2 is not a probability in "
                                 "[0, 1]");
  ck_assert_uint_eq(cfg.seed, 9);
  ck_assert_int_eq(
      sim_config_load(&cfg, "/nonexistent/x.scn", err, sizeof(err)), -1);
  ck_assert_str_eq(err, "/nonexistent/x.scn: No such file or directory");
}
END_TEST

START_TEST(test_load_long_line) {
  char *text = malloc(16384);
  size_t n;
  ck_assert_ptr_nonnull(text);
  /* 4096 bytes before the newline are fine (line 2), 4097 are not. */
  n = (size_t)sprintf(text, "heal\n#");
  memset(text + n, 'x', 4095);
  n += 4095 + (size_t)sprintf(text + n + 4095, "\n#");
  memset(text + n, 'y', 4096);
  sprintf(text + n + 4096, "\n");
  write_file(text);
  free(text);
  ck_assert_int_eq(sim_config_load(&cfg, TMP_PATH, err, sizeof(err)), -1);
  ck_assert_str_eq(err, TMP_PATH ":3: line too long (more than 4096 bytes)");
  ck_assert_uint_eq(cfg.nactions, 1);
}
END_TEST

static const char *const keywords[] = {"seed",
                                       "nodes",
                                       "duration",
                                       "placement",
                                       "access-delay",
                                       "max-sessions",
                                       "max-half-open",
                                       "target-peers",
                                       "idle-timeout",
                                       "keepalive",
                                       "handshake-timeout",
                                       "log",
                                       "report",
                                       "bootstrap",
                                       "join",
                                       "leave",
                                       "crash",
                                       "restart",
                                       "partition",
                                       "heal",
                                       "churn",
                                       "uplink",
                                       "downlink",
                                       "loss",
                                       "burst-loss",
                                       "jitter",
                                       "reorder",
                                       "duplicate",
                                       "corrupt"};

START_TEST(test_keywords) {
  static const char *no[] = {"at",    "",          "lose", "Seed",
                             "seed ", "nodes-max", "all"};
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(keywords); i++) {
    ck_assert_msg(sim_config_is_keyword(keywords[i]), "%s", keywords[i]);
  }
  for (i = 0; i < SC_ARRAY_LEN(no); i++) {
    ck_assert_msg(!sim_config_is_keyword(no[i]), "%s", no[i]);
  }
  ck_assert_int_eq(sim_config_is_keyword(NULL), 0);
}
END_TEST

START_TEST(test_long_lines) {
  size_t len = 200000, i, k;
  char *line = malloc(len + 16);
  ck_assert_ptr_nonnull(line);
  /* One huge word. */
  memset(line, 'a', len);
  line[len] = '\0';
  ck_assert_int_eq(sim_config_parse_line(&cfg, line, "-e", err, sizeof(err)),
                   -1);
  /* A set of 20000 separate nodes and one of 20000 adjacent ones. */
  for (k = 1; k <= 2; k++) {
    size_t at = (size_t)sprintf(line, "crash 0");
    for (i = 1; i < 20000; i++) {
      at += (size_t)sprintf(line + at, ",%u", (unsigned)(i * k));
    }
    ok(line);
    ck_assert_uint_eq(last()->set.n, k == 1 ? 1 : 20000);
    ck_assert_uint_eq(sim_set_count(&last()->set, 1000000), 20000);
    ck_assert_uint_eq(sim_set_nth(&last()->set, 1000000, 19999), 19999 * k);
  }
  free(line);
}
END_TEST

static uint64_t xorshift(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* Random lines of keywords, statement-like words and raw bytes: whatever
 * comes, the parser answers 0, or -1 with a message and the config as it
 * was; it never crashes (ASan and UBSan watch) and leaks nothing. */
START_TEST(test_garbage) {
  static const char *const vocab[] = {
      "at",    "0",       "1",      "-1",         "1.5s",
      "10ms",  "1e3",     "all",    "0-9",        "5-3",
      "1,2,",  "30%",     "1.5",    "unlimited",  "queue",
      "nodes", "history", "fresh",  "over",       "restart",
      "off",   "from",    "random", "stop",       "crash",
      "leave", "2/s",     "1/min",  "#",          ",",
      "-",     ".",       "1kB",    "4294967296", "5mbit",
      "2500h", "9",       "0.5",    "s",          "99999999999999999999"};
  uint64_t x = 88172645463325252u, r;
  char line[512], small[24];
  sim_config before;
  size_t i, len, n;
  int rc;
  for (i = 0; i < 30000; i++) {
    len = 0;
    for (n = xorshift(&x) % 10; n > 0 && len < 400; n--) {
      r = xorshift(&x);
      if (r % 8 == 0) {
        line[len++] = (char)(1 + (r >> 8) % 255);
        line[len++] = (char)(1 + (r >> 16) % 255);
      } else {
        len += (size_t)sprintf(line + len, "%s",
                               r % 8 < 4
                                   ? keywords[(r >> 8) % SC_ARRAY_LEN(keywords)]
                                   : vocab[(r >> 8) % SC_ARRAY_LEN(vocab)]);
      }
      if ((r >> 32) % 5 != 0) {
        line[len++] = (r >> 40) % 2 ? ' ' : '\t';
      }
    }
    line[len] = '\0';
    small[0] = '\0';
    memcpy(&before, &cfg, sizeof(cfg));
    rc = sim_config_parse_line(&cfg, line, "g:1", small, sizeof(small));
    ck_assert_msg(rc == 0 || (rc == -1 && strlen(small) > 0), "'%s'", line);
    ck_assert_msg(rc == 0 || memcmp(&before, &cfg, sizeof(cfg)) == 0, "'%s'",
                  line);
    if (i % 1000 == 999) {
      rc = sim_config_finish(&cfg, err, sizeof(err));
      ck_assert(rc == 0 || strlen(err) > 0);
    }
  }
  ck_assert_uint_gt(cfg.nactions, 20); /* some garbage is fine */
}
END_TEST

START_TEST(test_free_reinit) {
  sim_config fresh;
  ok("seed 5");
  ok("bootstrap 0 from 1-2");
  ok("at 1s loss 0.5");
  sim_config_free(&cfg);
  sim_config_init(&fresh);
  ck_assert_int_eq(memcmp(&cfg, &fresh, sizeof(cfg)), 0);
  sim_config_free(&cfg); /* twice is fine */
}
END_TEST

static Suite *scenario_suite(void) {
  Suite *s = suite_create("scenario");
  TCase *tc = tcase_create("statements");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_settings);
  tcase_add_test(tc, test_times);
  tcase_add_test(tc, test_bad_lines);
  tcase_add_test(tc, test_messages);
  tcase_add_test(tc, test_sets);
  tcase_add_test(tc, test_actions);
  tcase_add_test(tc, test_link);
  tcase_add_test(tc, test_route);
  tcase_add_test(tc, test_keywords);
  suite_add_tcase(s, tc);
  tc = tcase_create("whole");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_finish);
  tcase_add_test(tc, test_finish_time);
  tcase_add_test(tc, test_sort_stable);
  tcase_add_test(tc, test_load);
  tcase_add_test(tc, test_load_long_line);
  tcase_add_test(tc, test_free_reinit);
  suite_add_tcase(s, tc);
  tc = tcase_create("robustness");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_long_lines);
  tcase_add_test(tc, test_garbage);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(scenario_suite()); }
