/*
 * stats_mesh.h: the stats socket's answers about groups, neighbours and
 * the peer history ("show groups", "show neighbors", "show history") and
 * their part of "metrics". stats.c dispatches to them and lends them its
 * Prometheus helpers, declared here too. doc/stratocastd.md lists every
 * field.
 */
#ifndef SC_SHELL_STATS_MESH_H
#define SC_SHELL_STATS_MESH_H

#include <stdint.h>

#include "json.h"
#include "stats.h"

/* The most peers "show history" lists (the most recently seen), which
 * keeps its answer well under SC_STATS_MAX_OUTPUT. */
#define SC_STATS_HISTORY_MAX 10000

/* The answers append one line to |out| from |v| and return 0, 1 when the
 * line is a JSON error object, or -1 when memory ran out (|out| may hold
 * part of an answer then; the caller drops the client). */

/* sc_stats_answer_groups: a JSON array, one object per joined group. */
int sc_stats_answer_groups(const sc_stats_view *v, sc_textbuf *out);

/* sc_stats_answer_neighbors: a JSON array, one object per neighbour of
 * every group, each group's nearest first. */
int sc_stats_answer_neighbors(const sc_stats_view *v, sc_textbuf *out);

/* sc_stats_answer_history: a JSON array, one object per peer of the
 * history (empty without one); a history that cannot be read is an error
 * object. */
int sc_stats_answer_history(const sc_stats_view *v, sc_textbuf *out);

/* sc_stats_metrics_mesh appends the per-group and history metrics.
 * Returns 0 or -1 (out of memory). */
int sc_stats_metrics_mesh(const sc_stats_view *v, sc_textbuf *out);

/* From stats_mesh.c: |b| (|len| bytes, at most 32) as a JSON string of
 * lower-case hex. */
void sc_stats_json_hex(sc_json *j, const uint8_t *b, size_t len);

/* From stats.c: "# HELP" and "# TYPE" lines for metric |name|. */
void sc_stats_metric_head(sc_textbuf *b, const char *name, const char *type,
                          const char *help);

/* From stats.c: one sample of |name|, with the label |label|="|value|"
 * unless |label| is NULL. |value| must need no escaping. */
void sc_stats_metric_u64(sc_textbuf *b, const char *name, const char *label,
                         const char *value, uint64_t v);

/* From stats.c: appends {"error":|msg|,"command":|cmd|} (without the
 * command when |cmd| is NULL) and a newline. */
void sc_stats_answer_error(sc_textbuf *out, const char *msg, const char *cmd,
                           size_t len);

#endif /* SC_SHELL_STATS_MESH_H */
