/*
 * daemon_stream.h: stratocastd's live streams: the stream key, the source
 * it publishes from (--publish/--source) and the sink it plays into
 * (--play/--sink), glued to the node.
 *
 * The source hands chunks of at most one fragment's payload, each flagged
 * when it starts at a clean point; each becomes one fragment. The node
 * hands played fragments back in order through its stream_data callback,
 * which the daemon forwards here.
 */
#ifndef SC_SHELL_DAEMON_STREAM_H
#define SC_SHELL_DAEMON_STREAM_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "sink.h"
#include "source.h"
#include "stratocast.h"

typedef struct sc_dstream {
  struct ev_loop *loop;
  const sc_logger *log;
  sc_node *node;
  sc_source *source; /* NULL: not publishing, or the source ended */
  sc_sink *sink;     /* NULL: not playing */
  uint32_t pub_handle, play_handle;
  int publishing, playing;
  uint64_t publish_errors; /* fragments the core refused */
} sc_dstream;

/* sc_dstream_start sets up what |cfg| asks for on |node|, whose groups are
 * joined: streams use the first --group. Publishing loads or creates the
 * stream key and opens the source; playing opens the sink. Returns 0, or
 * an exit status (enum sc_daemon_exit) with one line in |err|, having
 * undone everything. The daemon's prepare watcher re-arms its timer after
 * a source callback drove the node, as after any other. */
int sc_dstream_start(sc_dstream *ds, struct ev_loop *loop, const sc_logger *log,
                     sc_node *node, const sc_config *cfg, uint64_t now,
                     char *err, size_t errlen);

/* sc_dstream_on_play takes one played chunk from the node. */
void sc_dstream_on_play(sc_dstream *ds, const sc_play_chunk *chunk);

/* sc_dstream_stop closes the source and the sink; harmless twice. */
void sc_dstream_stop(sc_dstream *ds);

#endif /* SC_SHELL_DAEMON_STREAM_H */
