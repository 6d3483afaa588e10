/*
 * daemon.h: stratocastd's event loop around one sans-I/O node.
 *
 * The daemon owns the UDP socket, the stats and API sockets and the node,
 * and glues
 * them to libev: a read watcher feeds recvmmsg batches to sc_node_recv, the
 * send callback queues datagrams that an ev_prepare watcher flushes with
 * sendmmsg before the loop sleeps, and the same prepare watcher re-arms the
 * single ev_timer from sc_node_get_expiry.
 *
 * The peer history (store.h) lives beside the node: peer events are noted
 * in it, a timer of its own flushes it, and at start its best peers are
 * handed to the node to rejoin through. Its wall-clock times are Unix
 * seconds; the core only ever sees the monotonic clock.
 */
#ifndef SC_SHELL_DAEMON_H
#define SC_SHELL_DAEMON_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "apisock.h"
#include "config.h"
#include "daemon_stream.h"
#include "grouptab.h"
#include "log.h"
#include "metricshttp.h"
#include "stats.h"
#include "store.h"
#include "stratocast.h"
#include "udp.h"

/* How long a graceful shutdown may take before the daemon exits anyway. */
#define SC_DAEMON_CLOSE_TIMEOUT (3 * (uint64_t)1000000000)

/* The history: pending changes are written this often (seconds), and at
 * start the best peers seen within SC_DAEMON_HISTORY_AGE are remembered. */
#define SC_DAEMON_FLUSH_INTERVAL 2.0
#define SC_DAEMON_RATE_INTERVAL 1.0 /* s between group rate samples */
#define SC_DAEMON_HISTORY_BEST 32
#define SC_DAEMON_HISTORY_AGE ((int64_t)30 * 24 * 3600)

/* Process exit statuses. */
enum sc_daemon_exit {
  SC_EXIT_OK = 0,
  SC_EXIT_RUNTIME = 1, /* something failed while running */
  SC_EXIT_USAGE = 2,   /* bad argument, config, address or state dir */
};

typedef struct sc_daemon {
  struct ev_loop *loop;
  sc_logger *log;       /* its level changes on SIGHUP */
  const sc_config *cfg; /* what it started with; outlives the daemon */
  sc_node *node;
  sc_udp udp;
  sc_statsock stats;
  ev_io udp_rd;
  ev_io udp_wr;   /* active only while the socket's send buffer is full */
  ev_timer timer; /* the core's next deadline (or the shutdown limit) */
  uint64_t timer_at;
  ev_prepare prepare;
  ev_signal sig_int;
  ev_signal sig_term;
  ev_signal sig_hup;       /* re-read the settings */
  uint64_t started_at;     /* monotonic ns */
  uint64_t close_deadline; /* UINT64_MAX until a signal asks to stop */
  int exit_code;           /* enum sc_daemon_exit */
  sc_ratelimit send_err_rl;
  sc_ratelimit recv_err_rl;
  sc_store *store;      /* NULL: running without history */
  ev_timer flush_timer; /* writes the history's pending changes */
  ev_timer rate_timer;  /* samples the group rates once a second */
  sc_grouprate rates;   /* for show groups */
  sc_grouptab groups;   /* joined, by the core's index, with their specs */
  sc_apisock api;       /* --api-socket; srv.fd -1 without one */
  sc_dstream streams;   /* --publish and --play */
  /* --metrics-listen; srv.fd -1 without one */
  sc_metricshttp metrics;
} sc_daemon;

/* sc_daemon_now returns CLOCK_MONOTONIC in nanoseconds. */
uint64_t sc_daemon_now(void);

/* sc_daemon_init checks |cfg| and sets everything up on |loop|: the
 * identity in the state dir, the UDP socket, the bootstrap addresses, the
 * stats socket, the node and its groups (a spec the core refuses is a usage
 * error), then the history (a history that cannot be opened is logged, and
 * the daemon runs without one); the node starts connecting to the bootstrap
 * peers. It prints nothing on failure: it returns SC_EXIT_USAGE or
 * SC_EXIT_RUNTIME with one line in |err| of |errlen| bytes, having undone
 * everything. On success it returns SC_EXIT_OK and logs the start through
 * |log|, which must outlive |d|. sodium_init must have run.
 * The Prometheus endpoint (--metrics-listen) opens after the stats socket;
 * a bad or busy address is a usage error. */
int sc_daemon_init(sc_daemon *d, struct ev_loop *loop, const sc_config *cfg,
                   sc_logger *log, char *err, size_t errlen);

/* sc_daemon_run runs the loop until a signal's graceful shutdown completes
 * (or times out) or a runtime failure, and returns the exit status. */
int sc_daemon_run(sc_daemon *d);

/* sc_daemon_free sends what is still queued if the socket takes it, closes
 * the node, the history (writing what is pending), the stats socket
 * (removing its file), the Prometheus endpoint and the UDP socket. */
void sc_daemon_free(sc_daemon *d);

#endif /* SC_SHELL_DAEMON_H */
