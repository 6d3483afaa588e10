/*
 * source.h: the live input a publishing node cuts into chunks.
 *
 * Specs (iospec.h): "-" reads stdin; "udp://ADDR:PORT" binds there and
 * receives datagrams, as sent by `ffmpeg ... -f mpegts udp://ADDR:PORT`
 * (a multicast ADDR is joined); "file:PATH" reads a regular file at its
 * real-time rate: by its PCRs when it is MPEG-TS, or at a given rate in
 * bits/s, which then overrides the PCRs. A file that is not MPEG-TS, or
 * has no PCR in its first SC_SOURCE_PROBE_LEN bytes, needs a rate.
 *
 * The bytes are cut by a chunker (chunker.h: whole TS packets, a new
 * clean chunk at every keyframe; plain chunks for anything else). A
 * partial chunk goes out once the input has been idle for
 * SC_SOURCE_IDLE_FLUSH seconds, and at the end of the input.
 */
#ifndef SC_SHELL_SOURCE_H
#define SC_SHELL_SOURCE_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#define SC_SOURCE_IDLE_FLUSH 0.020     /* seconds */
#define SC_SOURCE_PROBE_LEN (1u << 20) /* file bytes searched for a PCR */
#define SC_SOURCE_READ_LEN 65536       /* bytes per read, datagram size */

typedef struct sc_source sc_source;

/* Receives a chunk of |len| bytes (1..max_payload); |clean| is 1 when a
 * player may start at its first byte. |data| is valid during the call.
 * The callback must not close the source. */
typedef void (*sc_source_chunk_cb)(void *arg, const uint8_t *data, size_t len,
                                   int clean);

/* Called once when the input ends: |err| is 0 at end of file, else the
 * errno of the failed read. Every chunk came before it. The callback may
 * close the source; the source does nothing more in any case. UDP sources
 * never end. */
typedef void (*sc_source_end_cb)(void *arg, int err);

typedef struct sc_source_stats {
  uint64_t bytes_in;        /* bytes read */
  uint64_t chunks_out;      /* chunks handed to the callback */
  uint64_t ts_packets;      /* TS packets in those chunks */
  uint64_t sync_losses;     /* times the TS sync was lost */
  uint64_t resyncs;         /* times it was found again */
  uint64_t discarded_bytes; /* garbage and partial packets dropped */
  uint64_t clock_reanchors; /* pacing restarted after a PCR jump or stall */
  uint64_t read_errors;     /* UDP receive errors (counted, not fatal) */
  int kind;                 /* enum sc_chunker_kind: TS, raw, or not yet */
} sc_source_stats;

/* sc_source_open opens |spec| on |loop| and starts reading. Chunks are
 * at most |max_payload| bytes (at least 188). |rate_bps| paces a file
 * source (0: by its PCRs) and must be 0 for the others. |on_chunk| and
 * |on_end| get |arg|; neither is called before sc_source_open returns.
 * Returns 0 and the source in |*ps|, or -1 with one line in |err| of
 * |errlen| bytes ("cannot bind: Address already in use", "not MPEG-TS, so
 * its rate is unknown: give a rate") and |*ps| NULL. Stdin is read
 * through a non-blocking descriptor of its own (iospec.h). */
int sc_source_open(sc_source **ps, struct ev_loop *loop, const char *spec,
                   size_t max_payload, uint64_t rate_bps,
                   sc_source_chunk_cb on_chunk, sc_source_end_cb on_end,
                   void *arg, char *err, size_t errlen);

/* sc_source_close stops |s| and frees it, without flushing a partial
 * chunk. NULL is fine. */
void sc_source_close(sc_source *s);

/* sc_source_get_stats fills |out| with |s|'s counters. */
void sc_source_get_stats(const sc_source *s, sc_source_stats *out);

/* sc_source_local_port returns the bound port of a UDP source (useful
 * after binding port 0), else 0. */
unsigned sc_source_local_port(const sc_source *s);

#endif /* SC_SHELL_SOURCE_H */
