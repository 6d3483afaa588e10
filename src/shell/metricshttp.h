/*
 * metricshttp.h: the Prometheus endpoint (--metrics-listen), a small
 * HTTP/1.1 server that answers "GET /metrics" with the text the stats
 * socket's "metrics" command gives (stats.h), as
 * "Content-Type: text/plain; version=0.0.4; charset=utf-8".
 *
 * One request per connection ("Connection: close"). Another target is
 * answered 404, another method 405, a malformed head 400, a head over
 * SC_METRICSHTTP_MAX_REQUEST bytes or SC_HTTPREQ_MAX_FIELDS field lines
 * 431 (httpreq.h checks the head). At most SC_METRICSHTTP_MAX_CLIENTS
 * connections are served at once; the next one gets 503. A connection
 * has SC_METRICSHTTP_TIMEOUT seconds for the whole exchange: one that has
 * not sent its head by then gets 408, one that has not read its answer is
 * closed. Nothing here blocks the loop.
 */
#ifndef SC_SHELL_METRICSHTTP_H
#define SC_SHELL_METRICSHTTP_H

#include <ev.h>
#include <stddef.h>

#include "conn.h"
#include "log.h"
#include "stats.h"
#include "tcpsrv.h"

#define SC_METRICSHTTP_MAX_CLIENTS 16
#define SC_METRICSHTTP_MAX_REQUEST 4096 /* bytes of a request head */
#define SC_METRICSHTTP_TIMEOUT 10.0     /* seconds per connection */
#define SC_METRICSHTTP_LINGER 2.0       /* seconds to drain after a refusal */

typedef struct sc_metricshttp_client sc_metricshttp_client;

typedef struct sc_metricshttp {
  struct ev_loop *loop;
  const sc_logger *log;
  sc_stats_view_fn view_fn;
  void *view_user;
  sc_tcpsrv srv; /* srv.fd -1 while closed */
  sc_conns clients;
} sc_metricshttp;

/* sc_metricshttp_open parses |addr| (numeric "ADDR:PORT" as --listen;
 * port 0 takes any free port), listens there and starts answering on
 * |loop|. |origin| names the setting in messages ("--metrics-listen").
 * |view_fn| and |user| produce the data for every answer; |log| must
 * outlive |m|. Returns 0, or -1 with one line in |err| of |errlen| bytes
 * naming the setting ("--metrics-listen 127.0.0.1:9433: cannot bind:
 * Address already in use"); |m| is then closed. */
int sc_metricshttp_open(sc_metricshttp *m, struct ev_loop *loop,
                        const char *addr, const char *origin,
                        sc_stats_view_fn view_fn, void *user,
                        const sc_logger *log, char *err, size_t errlen);

/* sc_metricshttp_close drops every connection and stops listening. Safe
 * on a closed |m| (srv.fd -1). */
void sc_metricshttp_close(sc_metricshttp *m);

#endif /* SC_SHELL_METRICSHTTP_H */
