/*
 * stats.c: the stats socket: answers (JSON and Prometheus text) and the
 * non-blocking Unix socket server that serves them.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "sc_macro.h"
#include "stats_mesh.h"
#include "stats_stream.h"

_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN and EWOULDBLOCK differ");

/* ---- answers ------------------------------------------------------------ */

/* A counter of sc_node_stats: its JSON name and, when it maps to a metric
 * of its own, the metric. */
struct stat_field {
  const char *json;
  const char *metric; /* NULL: reported by a labelled or summed metric */
  const char *help;
  size_t off;
};

#define SC_FIELD(f) offsetof(sc_node_stats, f)

static const struct stat_field stat_fields[] = {
    {"packets_received", "stratocast_packets_received_total",
     "Datagrams handed to the protocol core.", SC_FIELD(packets_received)},
    {"packets_sent", "stratocast_packets_sent_total",
     "Datagrams the protocol core sent.", SC_FIELD(packets_sent)},
    {"bytes_received", "stratocast_bytes_received_total",
     "Bytes of the datagrams handed to the protocol core.",
     SC_FIELD(bytes_received)},
    {"bytes_sent", "stratocast_bytes_sent_total",
     "Bytes of the datagrams the protocol core sent.", SC_FIELD(bytes_sent)},
    {"send_errors", NULL, NULL, SC_FIELD(send_errors)},
    {"retries_sent", "stratocast_cookie_challenges_sent_total",
     "Cookie challenges sent to unvalidated handshake initiators.",
     SC_FIELD(retries_sent)},
    {"handshakes_started", NULL, NULL, SC_FIELD(handshakes_started)},
    {"handshakes_completed", NULL, NULL, SC_FIELD(handshakes_completed)},
    {"handshakes_failed", NULL, NULL, SC_FIELD(handshakes_failed)},
    {"sessions_replaced", "stratocast_sessions_replaced_total",
     "Sessions replaced by a new handshake from the same peer.",
     SC_FIELD(sessions_replaced)},
    {"sessions_timed_out", "stratocast_sessions_timed_out_total",
     "Sessions closed by the idle timeout.", SC_FIELD(sessions_timed_out)},
    {"path_migrations", "stratocast_path_migrations_total",
     "Validated peer address changes.", SC_FIELD(path_migrations)},
    {"packets_lost", "stratocast_packets_lost_total",
     "Packets declared lost by loss detection.", SC_FIELD(packets_lost)},
    {"packets_retransmitted", "stratocast_packets_retransmitted_total",
     "Control messages sent again after a loss.",
     SC_FIELD(packets_retransmitted)},
    {"stream_packets_sent", "stratocast_stream_packets_sent_total",
     "Datagrams sent that carried stream fragments or manifests.",
     SC_FIELD(stream_packets_sent)},
    {"stream_bytes_sent", "stratocast_stream_bytes_sent_total",
     "Bytes of the datagrams that carried stream data.",
     SC_FIELD(stream_bytes_sent)},
    {"dgrams_expired", "stratocast_datagrams_expired_total",
     "Datagrams dropped after waiting 1 s for the congestion window.",
     SC_FIELD(dgrams_expired)},
};

static uint64_t field_value(const sc_node_stats *st,
                            const struct stat_field *f) {
  uint64_t v;
  memcpy(&v, (const char *)st + f->off, sizeof(v));
  return v;
}

/* The node's sessions, read once per answer. */
struct session_list {
  sc_session_info *items;
  size_t n;
};

static int sessions_fetch(const sc_node *node, struct session_list *l) {
  size_t n = sc_node_sessions(node, NULL, 0);
  l->n = 0;
  l->items = NULL;
  if (n == 0) {
    return 0;
  }
  l->items = calloc(n, sizeof(*l->items));
  if (l->items == NULL) {
    return -1;
  }
  l->n = SC_MIN(n, sc_node_sessions(node, l->items, n));
  return 0;
}

static size_t sessions_in_state(const struct session_list *l, int state) {
  size_t i, n = 0;
  for (i = 0; i < l->n; i++) {
    n += l->items[i].state == state;
  }
  return n;
}

static uint64_t since(uint64_t now, uint64_t then) {
  return now > then ? now - then : 0;
}

static void json_counters(sc_json *j, const sc_node_stats *st) {
  size_t i;
  sc_json_obj_begin(j);
  for (i = 0; i < SC_ARRAY_LEN(stat_fields); i++) {
    sc_json_key(j, stat_fields[i].json);
    sc_json_u64(j, field_value(st, &stat_fields[i]));
  }
  sc_json_key(j, "dropped");
  sc_json_obj_begin(j);
  for (i = 0; i < SC_DROP_REASON_COUNT; i++) {
    sc_json_key(j, sc_drop_reason_name((int)i));
    sc_json_u64(j, st->dropped[i]);
  }
  sc_json_obj_end(j);
  sc_json_obj_end(j);
}

static void json_udp_counters(sc_json *j, const sc_udp_counters *c) {
  sc_json_obj_begin(j);
  sc_json_key(j, "datagrams_sent");
  sc_json_u64(j, c->datagrams_sent);
  sc_json_key(j, "datagrams_received");
  sc_json_u64(j, c->datagrams_received);
  sc_json_key(j, "send_errors");
  sc_json_u64(j, c->send_errors);
  sc_json_key(j, "send_queue_dropped");
  sc_json_u64(j, c->send_queue_dropped);
  sc_json_key(j, "recv_errors");
  sc_json_u64(j, c->recv_errors);
  sc_json_key(j, "recv_truncated");
  sc_json_u64(j, c->recv_truncated);
  sc_json_obj_end(j);
}

static int answer_info(const sc_stats_view *v, sc_textbuf *out) {
  struct session_list l;
  sc_node_stats st;
  sc_json j;
  uint32_t max_sessions, push_capacity;
  char hex[SC_PEER_ID_HEXLEN], addr[SC_ADDR_STRLEN];
  if (sessions_fetch(v->node, &l) != 0) {
    return -1;
  }
  sc_node_get_stats(v->node, &st);
  sc_json_init(&j, out);
  sc_json_obj_begin(&j);
  sc_json_key(&j, "version");
  sc_json_str(&j, v->version);
  sc_json_key(&j, "peer_id");
  sc_json_str(&j, sc_hex(hex, sc_node_peer_id(v->node), SC_PEER_ID_LEN));
  sc_json_key(&j, "listen");
  sc_json_str(&j, sc_addr_format(&v->listen, addr));
  sc_json_key(&j, "uptime_s");
  sc_json_u64(&j, since(v->now, v->started_at) / SC_SEC);
  sc_json_key(&j, "sessions");
  sc_json_u64(&j, sc_node_session_count(v->node));
  sc_json_key(&j, "sessions_established");
  sc_json_u64(&j, sessions_in_state(&l, SC_SESSION_ESTABLISHED));
  sc_node_get_limits(v->node, &max_sessions, &push_capacity);
  sc_json_key(&j, "max_sessions");
  sc_json_u64(&j, max_sessions);
  sc_json_key(&j, "push_capacity");
  sc_json_u64(&j, push_capacity);
  sc_json_key(&j, "state");
  sc_json_str(&j, v->closing ? "closing" : "running");
  sc_json_key(&j, "counters");
  json_counters(&j, &st);
  sc_json_key(&j, "shell");
  json_udp_counters(&j, &v->udp);
  sc_json_obj_end(&j);
  sc_textbuf_append(out, "\n", 1);
  free(l.items);
  return 0;
}

static void json_session(sc_json *j, const sc_session_info *s, uint64_t now) {
  char addr[SC_ADDR_STRLEN];
  sc_json_obj_begin(j);
  sc_json_key(j, "local_id");
  sc_json_u64(j, s->local_id);
  sc_json_key(j, "peer_id");
  if (s->has_peer_id) {
    char hex[SC_PEER_ID_HEXLEN];
    sc_json_str(j, sc_hex(hex, s->peer_id, SC_PEER_ID_LEN));
  } else {
    sc_json_null(j);
  }
  sc_json_key(j, "address");
  sc_json_str(j, sc_addr_format(&s->addr, addr));
  sc_json_key(j, "state");
  sc_json_str(j, sc_session_state_name(s->state));
  sc_json_key(j, "initiator");
  sc_json_bool(j, s->initiator);
  /* Nanoseconds / 1000 = thousandths of a millisecond. */
  sc_json_key(j, "rtt_ms");
  sc_json_fixed3(j, s->srtt_ns / 1000);
  sc_json_key(j, "rttvar_ms");
  sc_json_fixed3(j, s->rttvar_ns / 1000);
  sc_json_key(j, "min_rtt_ms");
  sc_json_fixed3(j, s->min_rtt_ns / 1000);
  sc_json_key(j, "cwnd_bytes");
  sc_json_u64(j, s->cwnd_bytes);
  sc_json_key(j, "bytes_in_flight");
  sc_json_u64(j, s->bytes_in_flight);
  sc_json_key(j, "pacing_rate_bytes_per_s");
  sc_json_u64(j, s->pacing_rate_bps);
  sc_json_key(j, "bytes_sent");
  sc_json_u64(j, s->bytes_sent);
  sc_json_key(j, "bytes_received");
  sc_json_u64(j, s->bytes_received);
  sc_json_key(j, "packets_sent");
  sc_json_u64(j, s->packets_sent);
  sc_json_key(j, "packets_received");
  sc_json_u64(j, s->packets_received);
  sc_json_key(j, "packets_lost");
  sc_json_u64(j, s->packets_lost);
  /* Seconds with three decimals; null when the moment is not known yet. */
  sc_json_key(j, "age_s");
  if (s->established_at != 0) {
    sc_json_fixed3(j, since(now, s->established_at) / SC_MS);
  } else {
    sc_json_null(j);
  }
  sc_json_key(j, "idle_s");
  if (s->last_received != 0) {
    sc_json_fixed3(j, since(now, s->last_received) / SC_MS);
  } else {
    sc_json_null(j);
  }
  sc_json_obj_end(j);
}

static int answer_sessions(const sc_stats_view *v, sc_textbuf *out) {
  struct session_list l;
  sc_json j;
  size_t i;
  if (sessions_fetch(v->node, &l) != 0) {
    return -1;
  }
  sc_json_init(&j, out);
  sc_json_arr_begin(&j);
  for (i = 0; i < l.n; i++) {
    json_session(&j, &l.items[i], v->now);
  }
  sc_json_arr_end(&j);
  sc_textbuf_append(out, "\n", 1);
  free(l.items);
  return 0;
}

void sc_stats_metric_head(sc_textbuf *b, const char *name, const char *type,
                          const char *help) {
  sc_textbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sc_stats_metric_u64(sc_textbuf *b, const char *name, const char *label,
                         const char *value, uint64_t v) {
  if (label != NULL) {
    sc_textbuf_printf(b, "%s{%s=\"%s\"} %llu\n", name, label, value,
                      (unsigned long long)v);
  } else {
    sc_textbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
  }
}

/* Writes a nanosecond quantity as seconds with nine decimals. */
static void metric_seconds(sc_textbuf *b, const char *name, uint64_t ns) {
  sc_textbuf_printf(b, "%s %llu.%09llu\n", name,
                    (unsigned long long)(ns / SC_SEC),
                    (unsigned long long)(ns % SC_SEC));
}

/* Label values are our own names, but escape them as the format asks. */
static void metric_info(sc_textbuf *b, const char *version) {
  const char *p;
  sc_stats_metric_head(b, "stratocast_info", "gauge",
                       "Build information; the value is always 1.");
  sc_textbuf_puts(b, "stratocast_info{version=\"");
  for (p = version; *p != '\0'; p++) {
    if (*p == '\\' || *p == '"') {
      sc_textbuf_append(b, "\\", 1);
      sc_textbuf_append(b, p, 1);
    } else if (*p == '\n') {
      sc_textbuf_puts(b, "\\n");
    } else {
      sc_textbuf_append(b, p, 1);
    }
  }
  sc_textbuf_puts(b, "\"} 1\n");
}

static void metric_sessions(sc_textbuf *b, const sc_node *node,
                            const struct session_list *l) {
  static const int states[] = {SC_SESSION_HANDSHAKE, SC_SESSION_ESTABLISHED,
                               SC_SESSION_CLOSING};
  uint64_t sum = 0, n = 0;
  uint32_t max_sessions, push_capacity;
  size_t i;
  sc_stats_metric_head(b, "stratocast_sessions", "gauge", "Sessions by state.");
  for (i = 0; i < SC_ARRAY_LEN(states); i++) {
    sc_stats_metric_u64(b, "stratocast_sessions", "state",
                        sc_session_state_name(states[i]),
                        sessions_in_state(l, states[i]));
  }
  sc_node_get_limits(node, &max_sessions, &push_capacity);
  sc_stats_metric_head(b, "stratocast_sessions_limit", "gauge",
                       "Sessions of any state the node accepts "
                       "(--max-sessions).");
  sc_stats_metric_u64(b, "stratocast_sessions_limit", NULL, NULL, max_sessions);
  sc_stats_metric_head(b, "stratocast_push_capacity", "gauge",
                       "Class pushes the node grants per stream "
                       "(--push-capacity).");
  sc_stats_metric_u64(b, "stratocast_push_capacity", NULL, NULL, push_capacity);
  for (i = 0; i < l->n; i++) {
    if (l->items[i].state == SC_SESSION_ESTABLISHED) {
      sum += l->items[i].srtt_ns;
      n++;
    }
  }
  sc_stats_metric_head(
      b, "stratocast_rtt_seconds", "gauge",
      "Mean smoothed round-trip time over established sessions "
      "(0 when there are none).");
  metric_seconds(b, "stratocast_rtt_seconds", n > 0 ? sum / n : 0);
}

static void metric_counters(sc_textbuf *b, const sc_node_stats *st,
                            const sc_udp_counters *udp) {
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(stat_fields); i++) {
    if (stat_fields[i].metric != NULL) {
      sc_stats_metric_head(b, stat_fields[i].metric, "counter",
                           stat_fields[i].help);
      sc_stats_metric_u64(b, stat_fields[i].metric, NULL, NULL,
                          field_value(st, &stat_fields[i]));
    }
  }
  sc_stats_metric_head(b, "stratocast_send_errors_total", "counter",
                       "Datagrams that could not be sent: refused by the send "
                       "callback or by the socket.");
  sc_stats_metric_u64(b, "stratocast_send_errors_total", NULL, NULL,
                      st->send_errors + udp->send_errors);
  sc_stats_metric_head(b, "stratocast_send_queue_dropped_total", "counter",
                       "Datagrams dropped from a full send queue.");
  sc_stats_metric_u64(b, "stratocast_send_queue_dropped_total", NULL, NULL,
                      udp->send_queue_dropped);
  sc_stats_metric_head(b, "stratocast_receive_errors_total", "counter",
                       "Failed reads from the UDP socket.");
  sc_stats_metric_u64(b, "stratocast_receive_errors_total", NULL, NULL,
                      udp->recv_errors);
  sc_stats_metric_head(b, "stratocast_packets_dropped_total", "counter",
                       "Received datagrams dropped, by reason.");
  for (i = 0; i < SC_DROP_REASON_COUNT; i++) {
    sc_stats_metric_u64(b, "stratocast_packets_dropped_total", "reason",
                        sc_drop_reason_name((int)i), st->dropped[i]);
  }
  sc_stats_metric_head(
      b, "stratocast_handshakes_total", "counter",
      "Handshakes started (as initiator), completed (either role) "
      "and failed (initiator gave up).");
  sc_stats_metric_u64(b, "stratocast_handshakes_total", "result", "started",
                      st->handshakes_started);
  sc_stats_metric_u64(b, "stratocast_handshakes_total", "result", "completed",
                      st->handshakes_completed);
  sc_stats_metric_u64(b, "stratocast_handshakes_total", "result", "failed",
                      st->handshakes_failed);
}

/* Prometheus text exposition format 0.0.4, closed by "# EOF". */
static int answer_metrics(const sc_stats_view *v, sc_textbuf *out) {
  struct session_list l;
  sc_node_stats st;
  if (sessions_fetch(v->node, &l) != 0) {
    return -1;
  }
  sc_node_get_stats(v->node, &st);
  metric_info(out, v->version);
  sc_stats_metric_head(out, "stratocast_uptime_seconds", "gauge",
                       "Seconds since the daemon started.");
  metric_seconds(out, "stratocast_uptime_seconds",
                 since(v->now, v->started_at));
  metric_sessions(out, v->node, &l);
  metric_counters(out, &st, &v->udp);
  free(l.items);
  if (sc_stats_metrics_mesh(v, out) != 0 ||
      sc_stats_metrics_stream(v, out) != 0) {
    return -1;
  }
  sc_textbuf_puts(out, "# EOF\n");
  return 0;
}

static const char *const command_names[] = {
    "show info",    "show sessions", "show groups", "show neighbors",
    "show streams", "show history",  "metrics",     "help"};

static int answer_help(sc_textbuf *out) {
  sc_json j;
  size_t i;
  sc_json_init(&j, out);
  sc_json_obj_begin(&j);
  sc_json_key(&j, "commands");
  sc_json_arr_begin(&j);
  for (i = 0; i < SC_ARRAY_LEN(command_names); i++) {
    sc_json_str(&j, command_names[i]);
  }
  sc_json_arr_end(&j);
  sc_json_obj_end(&j);
  sc_textbuf_append(out, "\n", 1);
  return 0;
}

void sc_stats_answer_error(sc_textbuf *out, const char *msg, const char *cmd,
                           size_t len) {
  sc_json j;
  sc_json_init(&j, out);
  sc_json_obj_begin(&j);
  sc_json_key(&j, "error");
  sc_json_str(&j, msg);
  if (cmd != NULL) {
    sc_json_key(&j, "command");
    sc_json_strn(&j, cmd, len);
  }
  sc_json_obj_end(&j);
  sc_textbuf_append(out, "\n", 1);
}

/* Copies |cmd| into |norm| with blanks trimmed and runs of blanks reduced to
 * one space. |norm| has room for |len| + 1 bytes. */
static size_t normalize(const char *cmd, size_t len, char *norm) {
  size_t i, n = 0;
  for (i = 0; i < len; i++) {
    int blank = cmd[i] == ' ' || cmd[i] == '\t';
    if (!blank) {
      norm[n++] = cmd[i];
    } else if (n > 0 && norm[n - 1] != ' ') {
      norm[n++] = ' ';
    }
  }
  if (n > 0 && norm[n - 1] == ' ') {
    n--;
  }
  norm[n] = '\0';
  return n;
}

int sc_stats_answer(const sc_stats_view *view, const char *cmd, size_t len,
                    sc_textbuf *out) {
  char norm[SC_STATS_MAX_LINE + 1];
  size_t n;
  int rc;
  if (len > SC_STATS_MAX_LINE) {
    sc_stats_answer_error(out, "line too long", NULL, 0);
    return out->oom ? -1 : 1;
  }
  n = normalize(cmd, len, norm);
  if (n == 0) {
    return 0;
  }
  if (strcmp(norm, "show info") == 0) {
    rc = answer_info(view, out);
  } else if (strcmp(norm, "show sessions") == 0) {
    rc = answer_sessions(view, out);
  } else if (strcmp(norm, "show groups") == 0) {
    rc = sc_stats_answer_groups(view, out);
  } else if (strcmp(norm, "show neighbors") == 0) {
    rc = sc_stats_answer_neighbors(view, out);
  } else if (strcmp(norm, "show streams") == 0) {
    rc = sc_stats_answer_streams(view, out);
  } else if (strcmp(norm, "show history") == 0) {
    rc = sc_stats_answer_history(view, out);
  } else if (strcmp(norm, "metrics") == 0) {
    rc = answer_metrics(view, out);
  } else if (strcmp(norm, "help") == 0) {
    rc = answer_help(out);
  } else {
    sc_stats_answer_error(out, "unknown command", norm, n);
    rc = 1;
  }
  return rc < 0 || out->oom ? -1 : rc;
}

/* ---- clients ------------------------------------------------------------ */

struct sc_stats_client {
  sc_statsock *srv;
  sc_conn conn;
  ev_timer idle;
  char line[SC_STATS_MAX_LINE + 1]; /* + room for a '\r' before '\n' */
  size_t linelen;
  int reading;    /* still reading commands */
  int discarding; /* after an overlong line: swallow input until EOF */
  sc_textbuf out;
};

static void client_close(sc_stats_client *c, const char *why) {
  sc_statsock *s = c->srv;
  if (why != NULL) {
    sc_logger_log(s->log, SC_LOG_DEBUG, "stats client %d dropped: %s",
                  c->conn.fd, why);
  }
  ev_timer_stop(s->loop, &c->idle);
  sc_conn_remove(&c->conn);
  sc_textbuf_free(&c->out);
  free(c);
}

/* Writes what the socket takes. Returns 0, or -1 if |c| was closed. */
static int client_flush(sc_stats_client *c) {
  ssize_t n = sc_conn_send(&c->conn, c->out.data, c->out.len);
  if (n < 0) {
    client_close(c, strerror(errno));
    return -1;
  }
  if (n > 0) {
    sc_textbuf_consume(&c->out, (size_t)n);
    ev_timer_again(c->srv->loop, &c->idle);
  }
  if (c->out.len > 0) {
    return 0;
  }
  if (!c->reading) {
    if (!c->discarding) {
      client_close(c, NULL);
      return -1;
    }
    /* Answers are out; tell the client while we drain its input. */
    shutdown(c->conn.fd, SHUT_WR);
  }
  return 0;
}

/* Answers an overlong line and stops reading commands. */
static void client_too_long(sc_stats_client *c) {
  c->reading = 0;
  c->discarding = 1;
  c->linelen = 0;
  sc_stats_answer_error(&c->out, "line too long", NULL, 0);
}

/* Answers one complete line. Returns 0, or -1 if |c| was closed. */
static int client_command(sc_stats_client *c, const char *cmd, size_t len) {
  sc_statsock *s = c->srv;
  sc_stats_view view;
  sc_textbuf answer;
  int rc;
  if (len > 0 && cmd[len - 1] == '\r') {
    len--;
  }
  if (len > SC_STATS_MAX_LINE) {
    client_too_long(c);
    return 0;
  }
  memset(&view, 0, sizeof(view));
  s->view_fn(s->view_user, &view);
  sc_textbuf_init(&answer, SC_STATS_MAX_OUTPUT);
  rc = sc_stats_answer(&view, cmd, len, &answer);
  if (rc >= 0 && answer.len > 0) {
    rc = sc_textbuf_append(&c->out, answer.data, answer.len);
  }
  sc_textbuf_free(&answer);
  if (rc < 0) {
    client_close(c, "output buffer full or out of memory");
    return -1;
  }
  ev_timer_again(s->loop, &c->idle);
  return 0;
}

/* Splits |len| new bytes at |data| into lines. Returns 0, or -1 if |c| was
 * closed. */
static int client_feed(sc_stats_client *c, const char *data, size_t len) {
  while (len > 0 && c->reading) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl != NULL ? (size_t)(nl - data) : len;
    /* The buffer holds SC_STATS_MAX_LINE bytes plus a '\r' that may come
     * before the '\n'. */
    if (take > sizeof(c->line) - c->linelen) {
      client_too_long(c);
      return 0;
    }
    memcpy(c->line + c->linelen, data, take);
    c->linelen += take;
    if (nl == NULL) {
      if (c->linelen > SC_STATS_MAX_LINE && c->line[c->linelen - 1] != '\r') {
        client_too_long(c);
      }
      return 0;
    }
    data += take + 1;
    len -= take + 1;
    take = c->linelen;
    c->linelen = 0;
    if (client_command(c, c->line, take) != 0) {
      return -1;
    }
  }
  return 0;
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_stats_client *c = sc_struct_of(w, sc_stats_client, conn.rd);
  char buf[4096];
  int rounds;
  (void)loop;
  (void)revents;
  /* A few reads per wakeup keep one chatty client from starving others. */
  for (rounds = 0; rounds < 8; rounds++) {
    ssize_t n = read(c->conn.fd, buf, sizeof(buf));
    int e = n < 0 ? errno : 0;
    if (n > 0) {
      if (!c->discarding && client_feed(c, buf, (size_t)n) != 0) {
        return;
      }
      continue;
    }
    if (n < 0 && e == EINTR) {
      continue;
    }
    if (n < 0 && e == EAGAIN) {
      break;
    }
    if (n < 0) {
      client_close(c, strerror(e));
      return;
    }
    /* EOF: a last line without '\n' still counts as a command. */
    ev_io_stop(c->srv->loop, &c->conn.rd);
    if (c->reading && c->linelen > 0 &&
        client_command(c, c->line, c->linelen) != 0) {
      return;
    }
    c->reading = 0;
    c->discarding = 0;
    break;
  }
  client_flush(c);
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_stats_client *c = sc_struct_of(w, sc_stats_client, conn.wr);
  (void)loop;
  (void)revents;
  client_flush(c);
}

static void client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_stats_client *c = sc_struct_of(w, sc_stats_client, idle);
  (void)loop;
  (void)revents;
  client_close(c, "idle timeout");
}

static void client_new(sc_statsock *s, int fd) {
  static const char busy[] = "{\"error\":\"too many clients\"}\n";
  sc_stats_client *c;
  if (s->clients.n >= SC_STATS_MAX_CLIENTS ||
      (c = calloc(1, sizeof(*c))) == NULL) {
    sc_conn_refuse(fd, busy, sizeof(busy) - 1);
    sc_logger_log(s->log, SC_LOG_DEBUG, "stats client refused: %s",
                  s->clients.n >= SC_STATS_MAX_CLIENTS ? "too many clients"
                                                       : "out of memory");
    return;
  }
  c->srv = s;
  c->reading = 1;
  sc_textbuf_init(&c->out, SC_STATS_MAX_OUTPUT);
  ev_timer_init(&c->idle, client_idle_cb, 0., SC_STATS_IDLE_TIMEOUT);
  ev_timer_again(s->loop, &c->idle);
  sc_conn_add(&s->clients, &c->conn, fd, client_read_cb, client_write_cb);
}

static void on_accept(sc_unixsrv *u, int fd) {
  client_new(sc_struct_of(u, sc_statsock, srv), fd);
}

int sc_statsock_open(sc_statsock *s, struct ev_loop *loop, const char *path,
                     const char *origin, sc_stats_view_fn view_fn, void *user,
                     const sc_logger *log, char *err, size_t errlen) {
  memset(s, 0, sizeof(*s));
  s->loop = loop;
  s->log = log;
  s->view_fn = view_fn;
  s->view_user = user;
  sc_conns_init(&s->clients, loop);
  return sc_unixsrv_open(&s->srv, loop, path, origin, "stats socket", on_accept,
                         log, err, errlen);
}

void sc_statsock_close(sc_statsock *s) {
  while (s->clients.head != NULL) {
    client_close(sc_struct_of(s->clients.head, sc_stats_client, conn), NULL);
  }
  sc_unixsrv_close(&s->srv);
}
