/*
 * fuzz_scenario.c: stratosim's two text parsers, the scenario and the
 * latency matrix, fed arbitrary files.
 *
 * The input is written to a file and loaded as a scenario (sim_config_load,
 * then sim_config_finish) and as a latency matrix (sim_net_new with
 * SIM_PLACE_MATRIX). Either must accept it or refuse it with a message;
 * nothing may crash, leak or read out of bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "sim_net.h"
#include "sim_scenario.h"

static void check(int ok) {
  if (!ok) {
    abort(); /* a parser broke its own contract */
  }
}

static const char *input_path(void) {
  static char path[64];
  if (path[0] == '\0') {
    snprintf(path, sizeof(path), "/tmp/fuzz_scenario.%ld", (long)getpid());
  }
  return path;
}

static void parse_scenario(const char *path) {
  sim_config c;
  char err[256];
  sim_config_init(&c);
  if (sim_config_load(&c, path, err, sizeof(err)) == 0) {
    if (sim_config_finish(&c, err, sizeof(err)) == 0) {
      for (size_t i = 1; i < c.nactions; i++) {
        check(c.actions[i - 1].at <= c.actions[i].at);
      }
      check(c.nodes >= 1);
    } else {
      check(err[0] != '\0');
    }
  } else {
    check(err[0] != '\0');
  }
  sim_config_free(&c);
}

static void parse_matrix(const char *path) {
  sim_placement pl;
  sim_link link;
  sim_net *net = NULL;
  char err[256];
  sim_placement_default(&pl);
  sim_link_default(&link);
  pl.kind = SIM_PLACE_MATRIX;
  snprintf(pl.matrix_path, sizeof(pl.matrix_path), "%s", path);
  if (sim_net_new(&net, 5, &pl, &link, 1, err, sizeof(err)) == 0) {
    for (uint32_t a = 0; a < 5; a++) {
      for (uint32_t b = 0; b < 5; b++) {
        (void)sim_net_latency(net, a, b);
      }
    }
    sim_net_del(net);
  } else {
    check(err[0] != '\0');
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = input_path();
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    return 0;
  }
  size_t wrote = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || wrote != size) {
    unlink(path);
    return 0;
  }
  parse_scenario(path);
  parse_matrix(path);
  unlink(path);
  return 0;
}

void fuzz_seeds(fuzz_emit_fn emit, void *arg) {
  static const char *seeds[] = {
      "nodes 60\nduration 90s\nbootstrap 1-59 random 2\njoin all over 10s\n"
      "loss 2%\nburst-loss 0.01 0.3 nodes 0-9\njitter 5ms\n"
      "reorder 1% 15ms\nduplicate 0.5%\ncorrupt 0.5%\n"
      "uplink 2mbit queue 32kB nodes 50-59\n",
      "nodes 40\nat 20s crash 0\nat 30s crash 10-19\n"
      "at 40s restart 10-19 history\nreport per-node\n",
      "nodes 100\nat 20s partition 50-99\nat 80s heal\n"
      "at 30s churn crash 0.2/s restart 5s history nodes 30-49\n"
      "at 60s churn stop\n",
      "seed 7\nplacement fixed 20ms\naccess-delay 0 0\n"
      "downlink unlimited queue 1MiB\nmax-sessions 1024\nlog none\n",
      "# a 3-site latency matrix\n0 10.5 80\n10 0 75\n80 75.25 0\n",
  };
  for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    emit(arg, (const uint8_t *)seeds[i], strlen(seeds[i]));
  }
}
