/*
 * stats_stream.h: the stats socket's answer about live streams ("show
 * streams") and their part of "metrics". The counters follow the anchor's
 * NetStreamMulticastInfo (fragments and bytes pushed to and from peers,
 * requested by and from peers, received from the source) plus duplicates,
 * gaps, forgeries, the latest seq and the delivery latency.
 * doc/stratocastd.md lists every field.
 */
#ifndef SC_SHELL_STATS_STREAM_H
#define SC_SHELL_STATS_STREAM_H

#include "json.h"
#include "stats.h"

/* sc_stats_answer_streams appends a JSON array, one object per stream the
 * node carries, and a newline. Returns 0 or -1 (out of memory). */
int sc_stats_answer_streams(const sc_stats_view *v, sc_textbuf *out);

/* sc_stats_metrics_stream appends the per-stream metrics. Returns 0 or -1
 * (out of memory). */
int sc_stats_metrics_stream(const sc_stats_view *v, sc_textbuf *out);

#endif /* SC_SHELL_STATS_STREAM_H */
