/*
 * apisock.h: the local application API socket (--api-socket, doc/api.md):
 * a Unix stream socket that takes newline-delimited JSON requests (api.h
 * answers them) and sends event lines to the connections that subscribed.
 *
 * The socket is opened as the stats socket is (unixsrv.h: 0600 in a 0700
 * directory). Limits: SC_APISOCK_MAX_CLIENTS connections; a request line
 * of at most SC_API_MAX_LINE bytes (the rest of a longer line is skipped,
 * an error is answered and the connection goes on); per connection,
 * events queue up to SC_APISOCK_MAX_OUTPUT bytes, and an event that does
 * not fit is dropped and counted: the connection hears of the count in a
 * "dropped" event once there is room again. Requests are read only while
 * less than SC_APISOCK_READ_BELOW bytes wait to be sent, so answers are
 * never dropped: a client that sends and does not read is throttled.
 * There is no idle timeout: a subscriber may wait for hours.
 */
#ifndef SC_SHELL_APISOCK_H
#define SC_SHELL_APISOCK_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "conn.h"
#include "grouptab.h"
#include "log.h"
#include "stratocast.h"
#include "unixsrv.h"

#define SC_APISOCK_MAX_CLIENTS 64
#define SC_APISOCK_MAX_OUTPUT (1u << 20)  /* queued bytes that take events */
#define SC_APISOCK_READ_BELOW (64u << 10) /* read requests below this */
/* A connection whose answers pass this, which the read throttle above
 * should make impossible, is dropped. */
#define SC_APISOCK_HARD_OUTPUT (SC_APISOCK_MAX_OUTPUT + (2u << 20))

typedef struct sc_api_client sc_api_client;

typedef struct sc_apisock {
  struct ev_loop *loop;
  const sc_logger *log;
  sc_node *node;
  sc_grouptab *groups;
  uint64_t (*now)(void); /* the monotonic clock, ns */
  sc_unixsrv srv;
  sc_conns clients;
  uint64_t events_sent, events_dropped; /* over every connection */
} sc_apisock;

/* sc_apisock_open opens the API socket at |path| (sc_unixsrv_open's rules;
 * |origin| names the setting in messages, "--api-socket") and serves it on
 * |loop|: requests act on |node| and its joined groups |groups| at the
 * time |now| returns. Everything given must outlive |a|. Returns 0, or -1
 * with one line in |err|. */
int sc_apisock_open(sc_apisock *a, struct ev_loop *loop, const char *path,
                    const char *origin, sc_node *node, sc_grouptab *groups,
                    uint64_t (*now)(void), const sc_logger *log, char *err,
                    size_t errlen);

/* sc_apisock_event queues |e| for every connection subscribed to its kind
 * in its group. */
void sc_apisock_event(sc_apisock *a, const sc_api_event *e);

/* sc_apisock_close drops every connection, stops accepting and removes the
 * socket file if it is still ours. Safe on a closed |a| (srv.fd -1). */
void sc_apisock_close(sc_apisock *a);

#endif /* SC_SHELL_APISOCK_H */
