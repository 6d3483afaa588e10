/*
 * daemon_stream.c: stratocastd's live streams (see daemon_stream.h).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "daemon_stream.h"

#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "streamkey.h"

/* Each chunk from the source becomes one fragment. */
static void on_chunk(void *arg, const uint8_t *data, size_t len, int clean) {
  sc_dstream *ds = arg;
  int rc = sc_node_publish_fragment(ds->node, ds->pub_handle, data, len, clean,
                                    sc_daemon_now());
  if (rc != 0 && ds->publish_errors++ == 0) {
    sc_logger_log(ds->log, SC_LOG_WARN, "publish: a fragment was refused: %s",
                  sc_strerror(rc));
  }
}

static void on_end(void *arg, int err) {
  sc_dstream *ds = arg;
  if (err == 0) {
    sc_logger_log(ds->log, SC_LOG_INFO,
                  "publish: the source ended; the stream stays up for its "
                  "viewers' window");
  } else {
    sc_logger_log(ds->log, SC_LOG_ERROR, "publish: the source failed: %s",
                  strerror(err));
  }
  sc_source_close(ds->source);
  ds->source = NULL;
}

void sc_dstream_on_play(sc_dstream *ds, const sc_play_chunk *chunk) {
  if (ds->sink != NULL && chunk->handle == ds->play_handle) {
    sc_sink_write(ds->sink, chunk->data, chunk->len, chunk->keyframe);
  }
}

static int start_publish(sc_dstream *ds, const sc_config *cfg,
                         const char *group, uint64_t now, char *err,
                         size_t errlen) {
  sc_streamkey key;
  char hex[SC_STREAMKEY_HEX_LEN];
  int created = 0, rc;
  if (sc_streamkey_load_or_create(&key, cfg->stream_key.value,
                                  cfg->stream_key.origin, &created, err,
                                  errlen) != 0) {
    return SC_EXIT_USAGE;
  }
  rc = sc_node_publish(ds->node, group, cfg->publish.value, key.secret, now,
                       &ds->pub_handle);
  sc_streamkey_hex(hex, key.pub);
  sc_streamkey_wipe(&key); /* the core keeps its own copy */
  if (rc != 0) {
    snprintf(err, errlen, "%s %s: cannot publish: %s%s", cfg->publish.origin,
             cfg->publish.value, sc_strerror(rc),
             rc == SC_ERR_STATE ? " (the group's publishers option does not "
                                  "list this stream key, or multicast is off)"
                                : "");
    return SC_EXIT_USAGE;
  }
  if (sc_source_open(&ds->source, ds->loop, cfg->source.value,
                     sc_node_fragment_max(ds->node), cfg->rate_bps, on_chunk,
                     on_end, ds, err, errlen) != 0) {
    char why[512];
    snprintf(why, sizeof(why), "%s", err);
    snprintf(err, errlen, "%s %s: %s", cfg->source.origin, cfg->source.value,
             why);
    return SC_EXIT_USAGE;
  }
  ds->publishing = 1;
  sc_logger_log(ds->log, SC_LOG_INFO,
                "publishing %s from %s with stream key %s (%s %s)",
                cfg->publish.value, cfg->source.value, hex,
                created ? "created" : "loaded", cfg->stream_key.value);
  return SC_EXIT_OK;
}

static int start_play(sc_dstream *ds, const sc_config *cfg, const char *group,
                      uint64_t now, char *err, size_t errlen) {
  uint8_t key[SC_STREAM_KEY_LEN];
  int rc;
  if (cfg->publisher.value != NULL &&
      sc_streamkey_parse_hex(key, cfg->publisher.value) != 0) {
    snprintf(err, errlen, "%s %s: not a stream key (64 hex digits)",
             cfg->publisher.origin, cfg->publisher.value);
    return SC_EXIT_USAGE;
  }
  rc = sc_node_play(ds->node, group, cfg->play.value,
                    cfg->publisher.value != NULL ? key : NULL, now,
                    &ds->play_handle);
  if (rc != 0) {
    snprintf(err, errlen, "%s %s: cannot play: %s", cfg->play.origin,
             cfg->play.value, sc_strerror(rc));
    return SC_EXIT_USAGE;
  }
  if (sc_sink_open(&ds->sink, ds->loop, cfg->sink.value, 0, err, errlen) !=
      0) {
    char why[512];
    snprintf(why, sizeof(why), "%s", err);
    snprintf(err, errlen, "%s %s: %s", cfg->sink.origin, cfg->sink.value,
             why);
    return SC_EXIT_USAGE;
  }
  ds->playing = 1;
  sc_logger_log(ds->log, SC_LOG_INFO, "playing %s into %s", cfg->play.value,
                cfg->sink.value);
  return SC_EXIT_OK;
}

int sc_dstream_start(sc_dstream *ds, struct ev_loop *loop, const sc_logger *log,
                     sc_node *node, const sc_config *cfg, uint64_t now,
                     char *err, size_t errlen) {
  const char *group;
  int rc = SC_EXIT_OK;
  memset(ds, 0, sizeof(*ds));
  ds->loop = loop;
  ds->log = log;
  ds->node = node;
  if (cfg->publish.value == NULL && cfg->play.value == NULL) {
    return SC_EXIT_OK;
  }
  /* The config insists on a --group with --publish and --play. */
  group = cfg->groups.items[0].value;
  if (cfg->publish.value != NULL) {
    rc = start_publish(ds, cfg, group, now, err, errlen);
  }
  if (rc == SC_EXIT_OK && cfg->play.value != NULL) {
    rc = start_play(ds, cfg, group, now, err, errlen);
  }
  if (rc != SC_EXIT_OK) {
    sc_dstream_stop(ds);
  }
  return rc;
}

void sc_dstream_stop(sc_dstream *ds) {
  sc_source_close(ds->source);
  ds->source = NULL;
  sc_sink_close(ds->sink);
  ds->sink = NULL;
}
