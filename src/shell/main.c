/*
 * main.c: stratocastd, the stratocast node daemon.
 *
 * Exit status: 0 after a signal-driven shutdown (and for --help and
 * --version), 1 for a runtime failure, 2 for a bad argument, config file,
 * address or state directory, always with one line on stderr.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <ev.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>

#include "config.h"
#include "daemon.h"
#include "log.h"

static int run(const sc_config *cfg) {
  struct ev_loop *loop;
  sc_logger log;
  sc_daemon d;
  char err[1024];
  int rc;
  loop = ev_loop_new(EVFLAG_AUTO);
  if (loop == NULL) {
    fprintf(stderr, "stratocastd: cannot create the event loop\n");
    return SC_EXIT_RUNTIME;
  }
  sc_logger_init(&log, stderr, cfg->log_level);
  if (sc_config_syslog_path(cfg) != NULL &&
      sc_logger_use_syslog(&log, sc_config_syslog_path(cfg), err,
                           sizeof(err)) != 0) {
    fprintf(stderr, "stratocastd: --log-to: %s\n", err);
    ev_loop_destroy(loop);
    return SC_EXIT_USAGE;
  }
  rc = sc_daemon_init(&d, loop, cfg, &log, err, sizeof(err));
  if (rc != SC_EXIT_OK) {
    fprintf(stderr, "stratocastd: %s\n", err);
  } else {
    rc = sc_daemon_run(&d);
    sc_daemon_free(&d);
    sc_logger_log(&log, rc == SC_EXIT_OK ? SC_LOG_INFO : SC_LOG_ERROR,
                  "stopped (exit status %d)", rc);
  }
  sc_logger_use_stream(&log);
  ev_loop_destroy(loop);
  return rc;
}

int main(int argc, char **argv) {
  sc_config cfg;
  char err[1024];
  int rc;
  if (sc_config_load(&cfg, argc, argv, err, sizeof(err)) != 0) {
    fprintf(stderr, "stratocastd: %s\n", err);
    return SC_EXIT_USAGE;
  }
  if (cfg.action == SC_CONFIG_HELP) {
    sc_config_usage(stdout);
    sc_config_free(&cfg);
    return SC_EXIT_OK;
  }
  if (cfg.action == SC_CONFIG_VERSION) {
    printf("stratocastd " PACKAGE_VERSION "\n");
    sc_config_free(&cfg);
    return SC_EXIT_OK;
  }
  if (sodium_init() < 0) {
    fprintf(stderr, "stratocastd: libsodium failed to initialise\n");
    sc_config_free(&cfg);
    return SC_EXIT_RUNTIME;
  }
  /* A stats client that hangs up must not kill the daemon; writes to it
   * fail with EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  rc = run(&cfg);
  sc_config_free(&cfg);
  return rc;
}
