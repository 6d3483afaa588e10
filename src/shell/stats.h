/*
 * stats.h: the stats socket, a Unix stream socket that answers one-line
 * commands ("show info", "show sessions", "show groups", "show neighbors",
 * "show history", "metrics", "help") with one-line JSON or Prometheus
 * text. doc/stratocastd.md lists every field.
 *
 * The socket lives in a directory the daemon creates 0700 when missing and
 * is itself 0600. Clients are non-blocking: each has a line buffer, an
 * output buffer and an idle timer, and a client that sends an overlong
 * line, stops reading or stays silent is dropped.
 */
#ifndef SC_SHELL_STATS_H
#define SC_SHELL_STATS_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "grouprate.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "stratocast.h"
#include "udp.h"
#include "unixsrv.h"

#define SC_STATS_MAX_CLIENTS 64
#define SC_STATS_MAX_LINE 1024         /* bytes per command, no newline */
#define SC_STATS_MAX_OUTPUT (4u << 20) /* queued answer bytes per client */
#define SC_STATS_IDLE_TIMEOUT 10.0     /* seconds */

/* What the answers report, gathered by the daemon at the moment of a
 * command. Nothing here is owned by the view. */
typedef struct sc_stats_view {
  const sc_node *node;
  const char *version;
  sc_addr listen;      /* the bound UDP address */
  uint64_t now;        /* monotonic ns */
  uint64_t started_at; /* monotonic ns */
  int closing;         /* SIGTERM seen, sessions closing */
  sc_udp_counters udp; /* the shell's own socket counters */
  /* The peer history, NULL when the daemon runs without one. Not const:
   * reading it writes its pending changes first. */
  sc_store *store;
  const char *const *group_names; /* by group index, |ngroup_names| */
  size_t ngroup_names;
  const sc_grouprate *rates; /* NetGroupInfo rates; NULL: none */
} sc_stats_view;

/* Fills |view| with the current state; |user| is the pointer given to
 * sc_statsock_open. */
typedef void (*sc_stats_view_fn)(void *user, sc_stats_view *view);

typedef struct sc_stats_client sc_stats_client;

typedef struct sc_statsock {
  struct ev_loop *loop;
  const sc_logger *log;
  sc_stats_view_fn view_fn;
  void *view_user;
  sc_unixsrv srv;
  sc_conns clients;
} sc_statsock;

/* sc_statsock_open opens the socket at |path| as sc_unixsrv_open does
 * (0600 in a 0700 directory, stale files removed) and starts answering on
 * |loop|. |origin| names the setting in messages ("--stats-socket").
 * |view_fn| and |user| produce the data for every answer; |log| must
 * outlive |s|. Returns 0, or -1 with one line in |err|. */
int sc_statsock_open(sc_statsock *s, struct ev_loop *loop, const char *path,
                     const char *origin, sc_stats_view_fn view_fn, void *user,
                     const sc_logger *log, char *err, size_t errlen);

/* sc_statsock_close drops every client, stops accepting and removes the
 * socket file if it is still the one |s| created. Safe to call on a
 * closed |s| (srv.fd -1). */
void sc_statsock_close(sc_statsock *s);

/* sc_stats_answer appends the answer to the command line |cmd| of |len|
 * bytes (no newline; surrounding and repeated blanks are ignored) to |out|,
 * using |view|. An empty command appends nothing. Returns 0 for a normal
 * answer, 1 when the answer is a JSON error object, or -1 when |out| ran
 * out of room. */
int sc_stats_answer(const sc_stats_view *view, const char *cmd, size_t len,
                    sc_textbuf *out);

#endif /* SC_SHELL_STATS_H */
