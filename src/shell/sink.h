/*
 * sink.h: where a played stream goes.
 *
 * Specs (iospec.h): "-" writes stdout; "udp://ADDR:PORT" sends datagrams
 * of at most SC_SINK_DATAGRAM bytes there (whole 188-byte packets when the
 * stream is MPEG-TS, as players expect); "http://ADDR:PORT/" listens and
 * answers every GET with "200 OK", Content-Type video/mp2t, no length and
 * "Connection: close", then streams to that client from the next clean
 * point on, for as long as it keeps up.
 *
 * Nothing here blocks the loop. A client whose unsent backlog would exceed
 * the bound is dropped and counted; stdout (unless it is a regular file)
 * is made non-blocking with a bounded buffer whose overflow drops data
 * until the next clean point; UDP drops what the socket refuses. A client
 * or pipe that goes away is counted, never fatal (MSG_NOSIGNAL, and
 * SIGPIPE is ignored once stdout is a sink).
 */
#ifndef SC_SHELL_SINK_H
#define SC_SHELL_SINK_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#define SC_SINK_DATAGRAM (7 * 188)         /* bytes per UDP datagram */
#define SC_SINK_DEFAULT_BACKLOG (4u << 20) /* bytes per client or stdout */
#define SC_SINK_MAX_REQUEST 8192           /* bytes of an HTTP request head */
#define SC_SINK_REQUEST_TIMEOUT 10.0       /* seconds to send the head */
#define SC_SINK_LINGER 2.0                 /* seconds to drain before close */

typedef struct sc_sink sc_sink;

typedef struct sc_sink_stats {
  uint64_t bytes_in;         /* bytes given to sc_sink_write */
  uint64_t bytes_written;    /* bytes the kernel took (summed over clients) */
  uint64_t bytes_dropped;    /* bytes given up: buffer full, pipe closed,
                                datagram refused, a dropped client's backlog */
  uint64_t write_errors;     /* writes failed for another reason than a full
                                buffer (EPIPE, ECONNREFUSED, ...) */
  uint64_t clients_now;      /* HTTP clients with an accepted request */
  uint64_t clients_total;    /* ... since the start */
  uint64_t clients_slow;     /* dropped: backlog over the bound */
  uint64_t clients_gone;     /* went away (reset, EPIPE) */
  uint64_t requests_refused; /* answered 400/405/408/431 */
} sc_sink_stats;

/* sc_sink_open opens |spec| on |loop|. |max_backlog| bounds the bytes
 * queued for one HTTP client or for stdout (0: SC_SINK_DEFAULT_BACKLOG).
 * Returns 0 and the sink in |*ps|, or -1 with one line in |err| of
 * |errlen| bytes ("cannot bind: Address already in use") and |*ps| NULL. */
int sc_sink_open(sc_sink **ps, struct ev_loop *loop, const char *spec,
                 size_t max_backlog, char *err, size_t errlen);

/* sc_sink_write sends the next |len| bytes of the stream. |clean| is 1 when
 * a player may start at |data|'s first byte (a new HTTP client starts at
 * the next such write; stdout resumes at one after an overflow). Never
 * blocks and never fails: what cannot be delivered is counted. */
void sc_sink_write(sc_sink *k, const uint8_t *data, size_t len, int clean);

/* sc_sink_close closes every connection and frees |k|; queued bytes are
 * lost (stdout's are written first if it takes them at once). Restores
 * stdout's flags. NULL is fine. */
void sc_sink_close(sc_sink *k);

/* sc_sink_get_stats fills |out| with |k|'s counters. */
void sc_sink_get_stats(const sc_sink *k, sc_sink_stats *out);

/* sc_sink_local_port returns the bound port of an HTTP sink (useful after
 * binding port 0), else 0. */
unsigned sc_sink_local_port(const sc_sink *k);

#endif /* SC_SHELL_SINK_H */
