/*
 * main.c: the stratosim command line.
 *
 *   stratosim [-s SCENARIO] [--KEYWORD ARGS]... [-e STATEMENT]...
 *             [-r REPORT] [--per-node] [-q]
 *
 * The scenario file is read first; every statement on the command line
 * comes after it, in order, so the command line overrides the file.
 */
#include <config.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "sim.h"

static void usage(FILE *f) {
  fputs(
      "usage: stratosim [-s SCENARIO] [--KEYWORD ARGS]... [-e STATEMENT]...\n"
      "                 [-r REPORT] [--per-node] [-q]\n"
      "\n"
      "Runs N stratocast cores over a modelled network in virtual time and\n"
      "writes a JSON report (to stdout unless -r is given) and a summary on\n"
      "stderr. The same scenario and seed give a byte-identical report.\n"
      "\n"
      "  -s, --scenario FILE  read statements from FILE\n"
      "  -e STATEMENT         one more statement, e.g. -e 'at 20s crash 5'\n"
      "  --KEYWORD ARGS       the statement 'KEYWORD ARGS', e.g. --nodes 200,\n"
      "                       --loss 30%, --uplink '10mbit queue 64kB'\n"
      "  -r, --report FILE    write the report to FILE ('-': stdout)\n"
      "  --per-node           add the per-node table (report per-node)\n"
      "  -q, --quiet          no summary on stderr\n"
      "  -h, --help           this text\n"
      "  --version            print the version\n"
      "\n"
      "Statements and the report are described in doc/simulation.md.\n",
      f);
}

typedef struct opts {
  const char *scenario;
  const char *report;
  int quiet;
} opts;

/* A statement-valued option: "-e STATEMENT", "--per-node" or
 * "--KEYWORD ARGS". Sets |*stmt| (a pointer into argv or a static string)
 * and returns how many arguments it took, 0 when |argv[i]| is not one, -1
 * when its argument is missing. */
static int statement_option(int argc, char **argv, int i, const char **stmt,
                            char *buf, size_t buflen) {
  const char *a = argv[i];
  if (strcmp(a, "--per-node") == 0) {
    *stmt = "report per-node";
    return 1;
  }
  int is_e = strcmp(a, "-e") == 0;
  if (!is_e && !(a[0] == '-' && a[1] == '-' && sim_config_is_keyword(a + 2)))
    return 0;
  if (i + 1 >= argc)
    return -1;
  if (is_e) {
    *stmt = argv[i + 1];
  } else {
    snprintf(buf, buflen, "%s %s", a + 2, argv[i + 1]);
    *stmt = buf;
  }
  return 2;
}

/* Parses the options that are not statements. Returns 0, 1 (exit
 * successfully: help or version) or -1 (usage error, printed). */
static int parse_opts(int argc, char **argv, opts *o) {
  char buf[4096];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *stmt;
    int took = statement_option(argc, argv, i, &stmt, buf, sizeof(buf));
    if (took < 0) {
      fprintf(stderr, "stratosim: %s needs an argument\n", a);
      return -1;
    }
    if (took > 0) {
      i += took - 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 1;
    } else if (strcmp(a, "--version") == 0) {
      printf("stratosim %s\n", PACKAGE_VERSION);
      return 1;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      o->quiet = 1;
    } else if ((strcmp(a, "-s") == 0 || strcmp(a, "--scenario") == 0 ||
                strcmp(a, "-r") == 0 || strcmp(a, "--report") == 0)) {
      if (i + 1 >= argc) {
        fprintf(stderr, "stratosim: %s needs an argument\n", a);
        return -1;
      }
      int is_scenario = strcmp(a, "-s") == 0 || strcmp(a, "--scenario") == 0;
      const char **slot = is_scenario ? &o->scenario : &o->report;
      if (*slot != NULL) {
        fprintf(stderr, "stratosim: %s given twice\n", a);
        return -1;
      }
      *slot = argv[++i];
    } else if (a[0] != '-' && o->scenario == NULL) {
      o->scenario = a;
    } else {
      fprintf(stderr, "stratosim: unknown option '%s' (see --help)\n", a);
      return -1;
    }
  }
  return 0;
}

/* Loads the scenario file, then the command line's statements. */
static int build_config(int argc, char **argv, const opts *o, sim_config *cfg) {
  char err[512], buf[4096];
  if (o->scenario && sim_config_load(cfg, o->scenario, err, sizeof(err))) {
    fprintf(stderr, "stratosim: %s\n", err);
    return -1;
  }
  for (int i = 1; i < argc; i++) {
    const char *stmt;
    int took = statement_option(argc, argv, i, &stmt, buf, sizeof(buf));
    if (took <= 0) {
      /* -s, -r and positional arguments take one more. */
      if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--scenario") == 0 ||
          strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "--report") == 0)
        i++;
      continue;
    }
    if (sim_config_parse_line(cfg, stmt, argv[i], err, sizeof(err)) != 0) {
      fprintf(stderr, "stratosim: %s\n", err);
      return -1;
    }
    i += took - 1;
  }
  if (sim_config_finish(cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "stratosim: %s\n", err);
    return -1;
  }
  return 0;
}

static int write_report(sim *s, const char *path) {
  sc_textbuf out;
  sc_textbuf_init(&out, 0);
  if (sim_report(s, &out) != 0) {
    fprintf(stderr, "stratosim: out of memory writing the report\n");
    sc_textbuf_free(&out);
    return -1;
  }
  FILE *f = path == NULL || strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
  if (f == NULL) {
    fprintf(stderr, "stratosim: %s: %s\n", path, strerror(errno));
    sc_textbuf_free(&out);
    return -1;
  }
  int bad = fwrite(out.data, 1, out.len, f) != out.len;
  bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
  sc_textbuf_free(&out);
  if (bad) {
    fprintf(stderr, "stratosim: writing %s failed\n", path ? path : "stdout");
    return -1;
  }
  return 0;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  opts o = {0};
  int rv = parse_opts(argc, argv, &o);
  if (rv != 0)
    return rv > 0 ? EXIT_SUCCESS : 2;
  if (sodium_init() < 0) {
    fprintf(stderr, "stratosim: libsodium failed to start\n");
    return EXIT_FAILURE;
  }
  sim_config cfg;
  sim_config_init(&cfg);
  if (build_config(argc, argv, &o, &cfg) != 0) {
    sim_config_free(&cfg);
    return 2;
  }
  char err[512];
  sim *s = NULL;
  double t0 = wall_now();
  /* A scenario that cannot be built (a bad latency matrix) is a usage
   * error like a bad statement: exit status 2. */
  if (sim_new(&s, &cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "stratosim: %s\n", err);
    sim_config_free(&cfg);
    return 2;
  }
  rv = sim_run(s, err, sizeof(err));
  if (rv != 0) {
    fprintf(stderr, "stratosim: %s\n", err);
  } else {
    if (!o.quiet)
      sim_summary(s, stderr, wall_now() - t0);
    rv = write_report(s, o.report);
  }
  sim_del(s);
  sim_config_free(&cfg);
  return rv == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
