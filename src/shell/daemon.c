/*
 * daemon.c: the libev shell around the node.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "identity.h"
#include "sc_macro.h"

/* recvmmsg rounds per wakeup before other watchers get a turn; the watcher
 * is level-triggered, so what is left is read on the next iteration. */
#define SC_DAEMON_MAX_RECV_ROUNDS 256

uint64_t sc_daemon_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * SC_SEC + (uint64_t)ts.tv_nsec;
}

static const char *close_reason_name(int reason) {
  switch (reason) {
  case SC_CLOSE_LOCAL:
    return "local";
  case SC_CLOSE_REMOTE:
    return "remote";
  case SC_CLOSE_IDLE:
    return "idle timeout";
  case SC_CLOSE_REPLACED:
    return "replaced";
  case SC_CLOSE_HANDSHAKE:
    return "handshake timeout";
  case SC_CLOSE_PROTOCOL:
    return "protocol error";
  case SC_CLOSE_SELF:
    return "self";
  default:
    return "none";
  }
}

/* Stops the loop with a runtime failure. */
static void fail(sc_daemon *d, const char *what, const char *why) {
  sc_logger_log(d->log, SC_LOG_ERROR, "%s: %s", what, why);
  d->exit_code = SC_EXIT_RUNTIME;
  ev_break(d->loop, EVBREAK_ALL);
}

/* Flushes the send queue; starts the write watcher if the socket is full. */
static void udp_flush(sc_daemon *d) {
  uint64_t skipped;
  int err, rc = sc_udp_flush(&d->udp, &err);
  if (rc == SC_UDP_BLOCKED) {
    ev_io_start(d->loop, &d->udp_wr);
  } else {
    ev_io_stop(d->loop, &d->udp_wr);
  }
  if (err != 0 &&
      sc_ratelimit_allow(&d->send_err_rl, sc_daemon_now(), &skipped)) {
    sc_logger_log(d->log, SC_LOG_DEBUG,
                  "sendmmsg: %s (%llu send errors in all)", strerror(err),
                  (unsigned long long)d->udp.counters.send_errors);
  }
}

/* ---- core callbacks ----------------------------------------------------- */

static int cb_send(void *user, const sc_addr *to, const uint8_t *data,
                   size_t len) {
  sc_daemon *d = user;
  int rc = sc_udp_enqueue(&d->udp, to, data, len);
  /* A full batch goes out at once; the rest waits for ev_prepare. */
  if (rc == 0 && sc_udp_pending(&d->udp) >= SC_UDP_BATCH &&
      !ev_is_active(&d->udp_wr)) {
    udp_flush(d);
  }
  return rc;
}

static void cb_rand(void *user, uint8_t *buf, size_t len) {
  (void)user;
  randombytes_buf(buf, len);
}

static void cb_log(void *user, int level, const char *msg) {
  sc_daemon *d = user;
  sc_logger_log(d->log, level, "%s", msg);
}

/* Notes |ev| in the history. A failure to reach an address whose owner is
 * unknown, or that turned out to be this node, says nothing about a peer. */
static void history_note(sc_daemon *d, const sc_peer_event *ev) {
  int64_t now = (int64_t)time(NULL);
  if (d->store == NULL || !ev->has_peer_id ||
      memcmp(ev->peer_id, sc_node_peer_id(d->node), SC_PEER_ID_LEN) == 0) {
    return;
  }
  switch (ev->kind) {
  case SC_PEER_UP:
    sc_store_note_up(d->store, ev->peer_id, &ev->addr, ev->rtt_ns / 1000, now);
    break;
  case SC_PEER_DOWN:
    sc_store_note_down(d->store, ev->peer_id, &ev->addr, ev->rtt_ns / 1000,
                       ev->bytes_sent, ev->bytes_received,
                       ev->reason == SC_CLOSE_IDLE, now);
    break;
  case SC_PEER_FAILED:
    sc_store_note_failed(d->store, ev->peer_id, &ev->addr, now);
    break;
  default:
    break;
  }
}

static void cb_stream_data(void *user, const sc_play_chunk *chunk) {
  sc_daemon *d = user;
  sc_dstream_on_play(&d->streams, chunk);
}

/* The group messaging events go to the API socket's subscribers. */
static void cb_post(void *user, const sc_post_event *ev) {
  sc_daemon *d = user;
  sc_api_event e;
  sc_api_event_post(&e, ev);
  sc_apisock_event(&d->api, &e);
}

static void cb_routed(void *user, const sc_route_event *ev) {
  sc_daemon *d = user;
  sc_api_event e;
  sc_api_event_routed(&e, ev);
  sc_apisock_event(&d->api, &e);
}

static void cb_object(void *user, const sc_object_event *ev) {
  sc_daemon *d = user;
  sc_api_event e;
  sc_api_event_object(&e, ev);
  sc_apisock_event(&d->api, &e);
}

static void cb_peer_event(void *user, const sc_peer_event *ev) {
  sc_daemon *d = user;
  char hex[SC_PEER_ID_HEXLEN], addr[SC_ADDR_STRLEN];
  const char *id =
      ev->has_peer_id ? sc_hex(hex, ev->peer_id, SC_PEER_ID_LEN) : "(unknown)";
  sc_addr_format(&ev->addr, addr);
  switch (ev->kind) {
  case SC_PEER_UP:
    sc_logger_log(d->log, SC_LOG_INFO, "peer up %s %s", id, addr);
    break;
  case SC_PEER_DOWN:
    sc_logger_log(d->log, SC_LOG_INFO,
                  "peer down %s %s reason %s (sent %llu B, received %llu B)",
                  id, addr, close_reason_name(ev->reason),
                  (unsigned long long)ev->bytes_sent,
                  (unsigned long long)ev->bytes_received);
    break;
  case SC_PEER_FAILED:
    sc_logger_log(d->log, SC_LOG_INFO, "peer failed %s %s reason %s", id, addr,
                  close_reason_name(ev->reason));
    break;
  default:
    break;
  }
  history_note(d, ev);
}

/* ---- watchers ----------------------------------------------------------- */

/* Handles a recvmmsg failure: transient ones are logged, others stop the
 * daemon. */
static void recv_error(sc_daemon *d, int err) {
  uint64_t skipped;
  switch (err) {
  case ECONNREFUSED: /* ICMP errors queued on the socket */
  case EHOSTUNREACH:
  case ENETUNREACH:
  case ENOBUFS:
  case ENOMEM:
    if (sc_ratelimit_allow(&d->recv_err_rl, sc_daemon_now(), &skipped)) {
      sc_logger_log(d->log, SC_LOG_DEBUG, "recvmmsg: %s", strerror(err));
    }
    return;
  default:
    fail(d, "recvmmsg", strerror(err));
  }
}

static void udp_read_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_daemon *d = sc_struct_of(w, sc_daemon, udp_rd);
  sc_udp_rx rx[SC_UDP_BATCH];
  int round, err = 0;
  (void)loop;
  (void)revents;
  for (round = 0; round < SC_DAEMON_MAX_RECV_ROUNDS; round++) {
    uint64_t now;
    int i, n = sc_udp_recv(&d->udp, rx, &err);
    if (n < 0) {
      recv_error(d, err);
      return;
    }
    if (n == 0) {
      return;
    }
    /* One clock read per batch: the datagrams arrived together. */
    now = sc_daemon_now();
    for (i = 0; i < n; i++) {
      int rc = sc_node_recv(d->node, rx[i].data, rx[i].len, &rx[i].from, now);
      uint64_t skipped;
      if (rc == SC_ERR_NOMEM &&
          sc_ratelimit_allow(&d->recv_err_rl, now, &skipped)) {
        sc_logger_log(d->log, SC_LOG_WARN,
                      "out of memory: incoming datagram dropped");
      }
    }
  }
}

static void udp_write_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_daemon *d = sc_struct_of(w, sc_daemon, udp_wr);
  (void)loop;
  (void)revents;
  udp_flush(d);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_daemon *d = sc_struct_of(w, sc_daemon, timer);
  uint64_t now = sc_daemon_now();
  int rc;
  (void)revents;
  d->timer_at = UINT64_MAX;
  if (now >= d->close_deadline) {
    sc_logger_log(d->log, SC_LOG_WARN,
                  "shutdown: %zu sessions still open after %llu s, exiting",
                  sc_node_session_count(d->node),
                  (unsigned long long)(SC_DAEMON_CLOSE_TIMEOUT / SC_SEC));
    ev_break(loop, EVBREAK_ALL);
    return;
  }
  rc = sc_node_handle_expiry(d->node, now);
  if (rc != 0) {
    /* Timers that did not run would fire again at once: stop here. */
    fail(d, "sc_node_handle_expiry", sc_strerror(rc));
  }
}

/* Re-arms the one timer at the earlier of the core's deadline and the
 * shutdown limit. */
static void timer_rearm(sc_daemon *d) {
  uint64_t at = SC_MIN(sc_node_get_expiry(d->node), d->close_deadline), now;
  double delay;
  if (at == d->timer_at && ev_is_active(&d->timer)) {
    return;
  }
  ev_timer_stop(d->loop, &d->timer);
  d->timer_at = at;
  if (at == UINT64_MAX) {
    return;
  }
  /* libev measures the delay from its cached loop time. */
  ev_now_update(d->loop);
  now = sc_daemon_now();
  delay = at > now ? (double)(at - now) / 1e9 : 0.;
  ev_timer_set(&d->timer, delay, 0.);
  ev_timer_start(d->loop, &d->timer);
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
  sc_daemon *d = sc_struct_of(w, sc_daemon, prepare);
  (void)revents;
  if (!ev_is_active(&d->udp_wr)) {
    udp_flush(d);
  }
  if (d->close_deadline != UINT64_MAX && sc_node_is_closed(d->node) &&
      sc_udp_pending(&d->udp) == 0) {
    sc_logger_log(d->log, SC_LOG_INFO, "all sessions closed");
    ev_break(loop, EVBREAK_ALL);
    return;
  }
  timer_rearm(d);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents) {
  sc_daemon *d = w->signum == SIGINT ? sc_struct_of(w, sc_daemon, sig_int)
                                     : sc_struct_of(w, sc_daemon, sig_term);
  uint64_t now = sc_daemon_now();
  (void)revents;
  if (d->close_deadline != UINT64_MAX) {
    sc_logger_log(d->log, SC_LOG_WARN, "%s again: exiting now",
                  w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    ev_break(loop, EVBREAK_ALL);
    return;
  }
  sc_logger_log(d->log, SC_LOG_INFO, "%s: closing %zu sessions",
                w->signum == SIGINT ? "SIGINT" : "SIGTERM",
                sc_node_session_count(d->node));
  d->close_deadline = now + SC_DAEMON_CLOSE_TIMEOUT;
  sc_node_close(d->node, now);
}

/* Applies a --log-to that differs from where the log goes now. Returns
 * nonzero if it tried. */
static int reload_log_to(sc_daemon *d, const sc_config *fresh) {
  const char *was =
      d->log->syslog_fd >= 0 ? d->log->syslog_addr.sun_path : NULL;
  const char *now = sc_config_syslog_path(fresh);
  char err[256];
  if (was == now || (was != NULL && now != NULL && strcmp(was, now) == 0)) {
    return 0;
  }
  if (now == NULL) {
    sc_logger_use_stream(d->log);
  } else if (sc_logger_use_syslog(d->log, now, err, sizeof(err)) != 0) {
    sc_logger_log(d->log, SC_LOG_ERROR, "SIGHUP: log-to: %s; log unchanged",
                  err);
    return 1;
  }
  sc_logger_log(d->log, SC_LOG_WARN, "SIGHUP: log now goes to %s",
                now != NULL ? now : "stderr");
  return 1;
}

/* Applies the limits of |fresh| that differ from the node's and logs
 * each. Returns how many changed. */
static int hup_limits(sc_daemon *d, const sc_config *fresh) {
  uint32_t sessions, capacity;
  size_t open = sc_node_session_count(d->node);
  int rv;
  sc_node_get_limits(d->node, &sessions, &capacity);
  if (fresh->max_sessions == sessions && fresh->push_capacity == capacity) {
    return 0;
  }
  /* The config checked both ranges, which lie within the core's. */
  rv = sc_node_set_limits(d->node, fresh->max_sessions, fresh->push_capacity,
                          sc_daemon_now());
  if (rv < 0) {
    sc_logger_log(d->log, SC_LOG_ERROR, "SIGHUP: limits not applied: %s",
                  sc_strerror(rv));
    return 0;
  }
  if (fresh->max_sessions != sessions) {
    sc_logger_log(
        d->log, SC_LOG_WARN,
        "SIGHUP: max sessions now %lu (was %lu; %zu open%s)",
        (unsigned long)fresh->max_sessions, (unsigned long)sessions, open,
        open >= fresh->max_sessions ? ", new ones refused until fewer" : "");
  }
  if (fresh->push_capacity != capacity) {
    sc_logger_log(d->log, SC_LOG_WARN,
                  "SIGHUP: push capacity now %lu (was %lu; revoked %d grant%s)",
                  (unsigned long)fresh->push_capacity, (unsigned long)capacity,
                  rv, rv == 1 ? "" : "s");
  }
  return (fresh->max_sessions != sessions) + (fresh->push_capacity != capacity);
}

/* SIGHUP: loads the command line and the config file again. The log level,
 * the log target and the limits apply at once; anything else that changed
 * is only reported, since it takes a restart. A file that no longer loads
 * changes nothing. */
static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents) {
  sc_daemon *d = sc_struct_of(w, sc_daemon, sig_hup);
  sc_config fresh;
  char err[1024], changed[512];
  int applied;
  (void)loop;
  (void)revents;
  if (sc_config_load(&fresh, d->cfg->argc, d->cfg->argv, err, sizeof(err)) !=
      0) {
    sc_logger_log(d->log, SC_LOG_ERROR, "SIGHUP: %s; nothing changed", err);
    return;
  }
  applied = fresh.log_level != d->log->level;
  if (applied) {
    d->log->level = fresh.log_level;
    sc_node_set_log_level(d->node, fresh.log_level);
    sc_logger_log(d->log, SC_LOG_WARN, "SIGHUP: log level now %s",
                  sc_logger_level_name(fresh.log_level));
  }
  applied |= reload_log_to(d, &fresh);
  applied |= hup_limits(d, &fresh) > 0;
  if (sc_config_changes(d->cfg, &fresh, 1, changed, sizeof(changed)) > 0) {
    sc_logger_log(d->log, SC_LOG_WARN,
                  "SIGHUP: %s changed; not applied until a restart", changed);
  } else if (!applied) {
    sc_logger_log(d->log, SC_LOG_INFO, "SIGHUP: %s read again, no change",
                  d->cfg->file != NULL ? d->cfg->file : "the command line");
  }
  sc_config_free(&fresh);
}

static void flush_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_daemon *d = sc_struct_of(w, sc_daemon, flush_timer);
  (void)loop;
  (void)revents;
  /* A failure is logged by the store, which keeps the changes. */
  if (sc_store_pending(d->store) > 0) {
    (void)sc_store_flush(d->store);
  }
}

static void rate_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_daemon *d = sc_struct_of(w, sc_daemon, rate_timer);
  sc_group_info gi[SC_GROUPRATE_GROUPS];
  size_t n = sc_node_groups(d->node, gi, SC_GROUPRATE_GROUPS);
  (void)loop;
  (void)revents;
  sc_grouprate_sample(&d->rates, gi, SC_MIN(n, (size_t)SC_GROUPRATE_GROUPS),
                      sc_daemon_now());
}

static void stats_view(void *user, sc_stats_view *v) {
  sc_daemon *d = user;
  v->node = d->node;
  v->version = PACKAGE_VERSION;
  v->listen = d->udp.local;
  v->now = sc_daemon_now();
  v->started_at = d->started_at;
  v->closing = d->close_deadline != UINT64_MAX;
  v->udp = d->udp.counters;
  v->store = d->store;
  v->group_names = (const char *const *)d->groups.names;
  v->ngroup_names = d->groups.n;
  v->rates = &d->rates;
}

/* ---- setup -------------------------------------------------------------- */

/* Resolves every --bootstrap into a new array |*out|. */
static int resolve_bootstrap(sc_daemon *d, const sc_config *cfg, sc_addr **out,
                             char *err, size_t errlen) {
  char problem[256];
  size_t i;
  *out = calloc(cfg->bootstrap.n + 1, sizeof(**out));
  if (*out == NULL) {
    snprintf(err, errlen, "out of memory");
    return SC_EXIT_RUNTIME;
  }
  for (i = 0; i < cfg->bootstrap.n; i++) {
    const sc_config_value *v = &cfg->bootstrap.items[i];
    if (sc_udp_resolve(&d->udp, v->value, &(*out)[i], problem,
                       sizeof(problem)) != 0) {
      snprintf(err, errlen, "%s %s: %s", v->origin, v->value, problem);
      free(*out);
      *out = NULL;
      return SC_EXIT_USAGE;
    }
  }
  return SC_EXIT_OK;
}

/* Identity and UDP socket: the steps whose failure is the operator's. */
static int open_identity_and_socket(sc_daemon *d, const sc_config *cfg,
                                    uint8_t secret[SC_KEY_LEN], int *created,
                                    char *err, size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t sslen;
  char problem[256];
  uint8_t pub[SC_KEY_LEN], id[SC_PEER_ID_LEN];
  if (sc_udp_parse_listen(cfg->listen.value, &ss, &sslen, problem,
                          sizeof(problem)) != 0) {
    snprintf(err, errlen, "%s %s: %s", cfg->listen.origin, cfg->listen.value,
             problem);
    return SC_EXIT_USAGE;
  }
  if (sc_identity_load_or_create(cfg->state_dir.value, cfg->state_dir.origin,
                                 secret, created, err, errlen) != 0) {
    return SC_EXIT_USAGE;
  }
  if (sc_identity_from_secret(secret, pub, id) != 0) {
    snprintf(err, errlen, "identity file %s/%s: not a usable X25519 key",
             cfg->state_dir.value, SC_IDENTITY_FILE);
    return SC_EXIT_USAGE;
  }
  if (sc_udp_open(&d->udp, (struct sockaddr *)(void *)&ss, sslen, problem,
                  sizeof(problem)) != 0) {
    snprintf(err, errlen, "%s %s: %s", cfg->listen.origin, cfg->listen.value,
             problem);
    return SC_EXIT_USAGE;
  }
  return SC_EXIT_OK;
}

static int create_node(sc_daemon *d, const sc_config *cfg,
                       const uint8_t secret[SC_KEY_LEN], char *err,
                       size_t errlen) {
  sc_settings settings;
  sc_callbacks cbs;
  int rc;
  sc_settings_default(&settings);
  memcpy(settings.static_secret, secret, SC_KEY_LEN);
  settings.log_level = cfg->log_level;
  settings.stream_window = cfg->window_ns;
  settings.max_sessions = cfg->max_sessions;
  settings.push_capacity = cfg->push_capacity;
  memset(&cbs, 0, sizeof(cbs));
  cbs.send = cb_send;
  cbs.rand = cb_rand;
  cbs.log = cb_log;
  cbs.peer_event = cb_peer_event;
  cbs.stream_data = cb_stream_data;
  cbs.post = cb_post;
  cbs.routed = cb_routed;
  cbs.object = cb_object;
  rc = sc_node_new(&d->node, &settings, &cbs, NULL, d, sc_daemon_now());
  sodium_memzero(settings.static_secret, SC_KEY_LEN);
  if (rc != 0) {
    snprintf(err, errlen, "cannot create the node: %s", sc_strerror(rc));
    d->node = NULL;
    return rc == SC_ERR_CRYPTO ? SC_EXIT_USAGE : SC_EXIT_RUNTIME;
  }
  return SC_EXIT_OK;
}

/* Copies the group spec |spec| into |out| with the value of every secret
 * option replaced by "***": specs end up in messages and logs. The name
 * ends at the first '?', and the options (a secret may hold '?' and '=',
 * never '&') at each '&'. */
static void spec_redact(const char *spec, char *out, size_t outlen) {
  size_t namelen = strcspn(spec, "?");
  const char *p = spec + namelen;
  snprintf(out, outlen, "%.*s", (int)namelen, spec);
  while (*p != '\0') {
    const char *end = strchr(p + 1, '&');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    size_t used = strlen(out);
    if (strncasecmp(p + 1, "secret=", 7) == 0) {
      snprintf(out + used, outlen - used, "%.8s***", p);
    } else {
      snprintf(out + used, outlen - used, "%.*s", (int)len, p);
    }
    p += len;
  }
}

/* Builds the message for a group spec the core refused with |rc|;
 * |joined| groups were joined before it. Returns the exit status. */
static int group_error(int rc, const sc_config_value *v, size_t joined,
                       char *err, size_t errlen) {
  char shown[1024];
  spec_redact(v->value, shown, sizeof(shown));
  switch (rc) {
  case SC_ERR_MALFORMED:
    snprintf(err, errlen,
             "%s %s: malformed group spec (want NAME[?KEY=VALUE[&KEY=VALUE]"
             "...] with keys features, secret and publishers)",
             v->origin, shown);
    return SC_EXIT_USAGE;
  case SC_ERR_STATE:
    snprintf(err, errlen,
             "%s %s: group given twice (an earlier group has the same name, "
             "features and secret)",
             v->origin, shown);
    return SC_EXIT_USAGE;
  case SC_ERR_LIMIT:
    snprintf(err, errlen, "%s %s: too many groups (at most %zu)", v->origin,
             shown, joined);
    return SC_EXIT_USAGE;
  default:
    snprintf(err, errlen, "%s %s: cannot join: %s", v->origin, shown,
             sc_strerror(rc));
    return SC_EXIT_RUNTIME;
  }
}

/* Joins every --group; the core is the judge of a spec. The table keeps
 * each group's spec and name for the stats and API sockets. */
static int join_groups(sc_daemon *d, const sc_config *cfg, char *err,
                       size_t errlen) {
  size_t i;
  for (i = 0; i < cfg->groups.n; i++) {
    int rc = sc_grouptab_join(&d->groups, d->node, cfg->groups.items[i].value,
                              sc_daemon_now());
    if (rc < 0) {
      return group_error(rc, &cfg->groups.items[i], i, err, errlen);
    }
  }
  return SC_EXIT_OK;
}

/* The API socket, when asked for, once the node and its groups are up. */
static int open_api(sc_daemon *d, const sc_config *cfg, char *err,
                    size_t errlen) {
  if (cfg->api_socket.value == NULL) {
    return SC_EXIT_OK;
  }
  return sc_apisock_open(&d->api, d->loop, cfg->api_socket.value,
                         cfg->api_socket.origin, d->node, &d->groups,
                         sc_daemon_now, d->log, err, errlen) == 0
             ? SC_EXIT_OK
             : SC_EXIT_USAGE;
}

/* Hands the node the best peers of the history to rejoin through when its
 * bootstrap peers are gone. */
static void remember_history(sc_daemon *d) {
  sc_store_peer best[SC_DAEMON_HISTORY_BEST];
  uint64_t now = sc_daemon_now();
  long i, kept = 0, n;
  n = sc_store_best(d->store, best, SC_ARRAY_LEN(best), SC_DAEMON_HISTORY_AGE,
                    (int64_t)time(NULL));
  for (i = 0; i < n; i++) {
    sc_known_peer kp;
    double permille = best[i].score * 1000.0 + 0.5;
    memset(&kp, 0, sizeof(kp));
    memcpy(kp.peer_id, best[i].peer_id, SC_PEER_ID_LEN);
    kp.addr = best[i].addr;
    kp.rtt_ns = best[i].rtt_us * 1000;
    kp.score_permille = permille >= 1000.0 ? 1000 : (uint32_t)permille;
    /* An unusable address (never reached) or our own ID is skipped. */
    kept += sc_node_remember(d->node, &kp, now) == 0;
  }
  if (n > 0) {
    sc_logger_log(d->log, SC_LOG_INFO,
                  "history: %ld peers to rejoin through (of the best %ld)",
                  kept, n);
  }
}

/* Opens the history in the state dir; without one the daemon runs on. */
static void open_history(sc_daemon *d, const sc_config *cfg) {
  char problem[1024];
  if (sc_store_open(&d->store, cfg->state_dir.value, d->log, problem,
                    sizeof(problem)) != 0) {
    sc_logger_log(d->log, SC_LOG_WARN, "%s; running without history", problem);
    d->store = NULL;
    return;
  }
  ev_timer_start(d->loop, &d->flush_timer);
  remember_history(d);
}

static void start_watchers(sc_daemon *d) {
  ev_io_init(&d->udp_rd, udp_read_cb, d->udp.fd, EV_READ);
  ev_io_init(&d->udp_wr, udp_write_cb, d->udp.fd, EV_WRITE);
  ev_init(&d->timer, timer_cb);
  ev_timer_init(&d->flush_timer, flush_timer_cb, SC_DAEMON_FLUSH_INTERVAL,
                SC_DAEMON_FLUSH_INTERVAL);
  ev_timer_init(&d->rate_timer, rate_timer_cb, SC_DAEMON_RATE_INTERVAL,
                SC_DAEMON_RATE_INTERVAL);
  sc_grouprate_init(&d->rates);
  ev_prepare_init(&d->prepare, prepare_cb);
  ev_signal_init(&d->sig_int, signal_cb, SIGINT);
  ev_signal_init(&d->sig_term, signal_cb, SIGTERM);
  ev_signal_init(&d->sig_hup, hup_cb, SIGHUP);
  ev_io_start(d->loop, &d->udp_rd);
  ev_timer_start(d->loop, &d->rate_timer);
  ev_prepare_start(d->loop, &d->prepare);
  ev_signal_start(d->loop, &d->sig_int);
  ev_signal_start(d->loop, &d->sig_term);
  ev_signal_start(d->loop, &d->sig_hup);
}

/* Logs each group with its ID. */
static void log_groups(sc_daemon *d) {
  char hex[2 * SC_GROUP_ID_BYTES + 1], shown[1024];
  size_t i;
  for (i = 0; i < d->groups.n; i++) {
    spec_redact(d->groups.specs[i], shown, sizeof(shown));
    sc_logger_log(d->log, SC_LOG_INFO, "group %s: joined, group ID %s", shown,
                  sc_hex(hex, d->groups.ids[i], SC_GROUP_ID_BYTES));
  }
}

/* Logs the endpoint with its real port (--metrics-listen may give 0). */
static void log_metrics(sc_daemon *d) {
  sc_addr a;
  char addr[SC_ADDR_STRLEN];
  if (sc_udp_addr_from_sockaddr(
          (const struct sockaddr *)(const void *)&d->metrics.srv.local, &a) ==
      0) {
    sc_logger_log(d->log, SC_LOG_INFO, "metrics on http://%s/metrics",
                  sc_addr_format(&a, addr));
  }
}

static void log_start(sc_daemon *d, const sc_config *cfg, int created) {
  char hex[SC_PEER_ID_HEXLEN], addr[SC_ADDR_STRLEN];
  if (created) {
    sc_logger_log(d->log, SC_LOG_INFO, "created a new identity in %s/%s",
                  cfg->state_dir.value, SC_IDENTITY_FILE);
  }
  sc_logger_log(d->log, SC_LOG_INFO,
                "stratocastd %s: peer %s listening on %s, stats socket %s",
                PACKAGE_VERSION,
                sc_hex(hex, sc_node_peer_id(d->node), SC_PEER_ID_LEN),
                sc_addr_format(&d->udp.local, addr), cfg->stats_socket.value);
  if (cfg->api_socket.value != NULL) {
    sc_logger_log(d->log, SC_LOG_INFO, "api socket %s", cfg->api_socket.value);
  }
  if (d->metrics.srv.fd >= 0) {
    log_metrics(d);
  }
  log_groups(d);
}

static void connect_bootstrap(sc_daemon *d, const sc_config *cfg,
                              const sc_addr *addrs) {
  char addr[SC_ADDR_STRLEN];
  size_t i;
  for (i = 0; i < cfg->bootstrap.n; i++) {
    int rc = sc_node_connect(d->node, &addrs[i], sc_daemon_now());
    sc_addr_format(&addrs[i], addr);
    if (rc != 0) {
      sc_logger_log(d->log, SC_LOG_WARN, "bootstrap %s (%s): %s",
                    cfg->bootstrap.items[i].value, addr, sc_strerror(rc));
    } else {
      sc_logger_log(d->log, SC_LOG_INFO, "bootstrap %s: connecting to %s",
                    cfg->bootstrap.items[i].value, addr);
    }
  }
}

int sc_daemon_init(sc_daemon *d, struct ev_loop *loop, const sc_config *cfg,
                   sc_logger *log, char *err, size_t errlen) {
  uint8_t secret[SC_KEY_LEN];
  sc_addr *bootstrap = NULL;
  int created = 0, rc;
  memset(d, 0, sizeof(*d));
  d->loop = loop;
  d->log = log;
  d->cfg = cfg;
  d->udp.fd = -1;
  d->stats.srv.fd = -1;
  d->api.srv.fd = -1;
  d->metrics.srv.fd = -1;
  d->timer_at = UINT64_MAX;
  d->close_deadline = UINT64_MAX;
  d->started_at = sc_daemon_now();
  sc_ratelimit_init(&d->send_err_rl, 10 * SC_SEC, 5);
  sc_ratelimit_init(&d->recv_err_rl, 10 * SC_SEC, 5);
  rc = open_identity_and_socket(d, cfg, secret, &created, err, errlen);
  if (rc == SC_EXIT_OK) {
    rc = resolve_bootstrap(d, cfg, &bootstrap, err, errlen);
  }
  if (rc == SC_EXIT_OK &&
      sc_statsock_open(&d->stats, loop, cfg->stats_socket.value,
                       cfg->stats_socket.origin, stats_view, d, log, err,
                       errlen) != 0) {
    rc = SC_EXIT_USAGE;
  }
  if (rc == SC_EXIT_OK && cfg->metrics_listen.value != NULL &&
      sc_metricshttp_open(&d->metrics, loop, cfg->metrics_listen.value,
                          cfg->metrics_listen.origin, stats_view, d, log, err,
                          errlen) != 0) {
    rc = SC_EXIT_USAGE;
  }
  if (rc == SC_EXIT_OK) {
    rc = create_node(d, cfg, secret, err, errlen);
  }
  sodium_memzero(secret, sizeof(secret));
  /* Before the history: a mistyped spec must not touch history.db. */
  if (rc == SC_EXIT_OK) {
    rc = join_groups(d, cfg, err, errlen);
  }
  if (rc == SC_EXIT_OK) {
    rc = open_api(d, cfg, err, errlen);
  }
  if (rc == SC_EXIT_OK) {
    rc = sc_dstream_start(&d->streams, loop, log, d->node, cfg, sc_daemon_now(),
                          err, errlen);
  }
  if (rc != SC_EXIT_OK) {
    free(bootstrap);
    sc_daemon_free(d);
    return rc;
  }
  start_watchers(d);
  log_start(d, cfg, created);
  open_history(d, cfg);
  connect_bootstrap(d, cfg, bootstrap);
  free(bootstrap);
  return SC_EXIT_OK;
}

int sc_daemon_run(sc_daemon *d) {
  ev_run(d->loop, 0);
  return d->exit_code;
}

void sc_daemon_free(sc_daemon *d) {
  int err;
  if (d->udp.fd >= 0 && sc_udp_pending(&d->udp) > 0) {
    (void)sc_udp_flush(&d->udp, &err);
  }
  if (d->loop != NULL) {
    ev_io_stop(d->loop, &d->udp_rd);
    ev_io_stop(d->loop, &d->udp_wr);
    ev_timer_stop(d->loop, &d->timer);
    ev_timer_stop(d->loop, &d->flush_timer);
    ev_timer_stop(d->loop, &d->rate_timer);
    ev_prepare_stop(d->loop, &d->prepare);
    ev_signal_stop(d->loop, &d->sig_int);
    ev_signal_stop(d->loop, &d->sig_term);
    ev_signal_stop(d->loop, &d->sig_hup);
  }
  sc_statsock_close(&d->stats);
  sc_metricshttp_close(&d->metrics);
  sc_apisock_close(&d->api);
  sc_dstream_stop(&d->streams);
  sc_node_del(d->node);
  d->node = NULL;
  /* After the node: its last peer events are in the final flush. */
  sc_store_close(d->store);
  d->store = NULL;
  sc_grouptab_free(&d->groups);
  sc_udp_close(&d->udp);
}
