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

static void stats_view(void *user, sc_stats_view *v) {
  sc_daemon *d = user;
  v->node = d->node;
  v->version = PACKAGE_VERSION;
  v->listen = d->udp.local;
  v->now = sc_daemon_now();
  v->started_at = d->started_at;
  v->closing = d->close_deadline != UINT64_MAX;
  v->udp = d->udp.counters;
}

/* ---- setup -------------------------------------------------------------- */

/* Resolves every --bootstrap into a new array |*out|. */
static int resolve_bootstrap(sc_daemon *d, const sc_config *cfg, sc_addr **out,
                             char *err, size_t errlen) {
  char problem[256];
  size_t i;
  *out = calloc(cfg->nbootstrap + 1, sizeof(**out));
  if (*out == NULL) {
    snprintf(err, errlen, "out of memory");
    return SC_EXIT_RUNTIME;
  }
  for (i = 0; i < cfg->nbootstrap; i++) {
    const sc_config_value *v = &cfg->bootstrap[i];
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
  memset(&cbs, 0, sizeof(cbs));
  cbs.send = cb_send;
  cbs.rand = cb_rand;
  cbs.log = cb_log;
  cbs.peer_event = cb_peer_event;
  rc = sc_node_new(&d->node, &settings, &cbs, NULL, d, sc_daemon_now());
  sodium_memzero(settings.static_secret, SC_KEY_LEN);
  if (rc != 0) {
    snprintf(err, errlen, "cannot create the node: %s", sc_strerror(rc));
    d->node = NULL;
    return rc == SC_ERR_CRYPTO ? SC_EXIT_USAGE : SC_EXIT_RUNTIME;
  }
  return SC_EXIT_OK;
}

static void start_watchers(sc_daemon *d) {
  ev_io_init(&d->udp_rd, udp_read_cb, d->udp.fd, EV_READ);
  ev_io_init(&d->udp_wr, udp_write_cb, d->udp.fd, EV_WRITE);
  ev_init(&d->timer, timer_cb);
  ev_prepare_init(&d->prepare, prepare_cb);
  ev_signal_init(&d->sig_int, signal_cb, SIGINT);
  ev_signal_init(&d->sig_term, signal_cb, SIGTERM);
  ev_io_start(d->loop, &d->udp_rd);
  ev_prepare_start(d->loop, &d->prepare);
  ev_signal_start(d->loop, &d->sig_int);
  ev_signal_start(d->loop, &d->sig_term);
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
}

static void connect_bootstrap(sc_daemon *d, const sc_config *cfg,
                              const sc_addr *addrs) {
  char addr[SC_ADDR_STRLEN];
  size_t i;
  for (i = 0; i < cfg->nbootstrap; i++) {
    int rc = sc_node_connect(d->node, &addrs[i], sc_daemon_now());
    sc_addr_format(&addrs[i], addr);
    if (rc != 0) {
      sc_logger_log(d->log, SC_LOG_WARN, "bootstrap %s (%s): %s",
                    cfg->bootstrap[i].value, addr, sc_strerror(rc));
    } else {
      sc_logger_log(d->log, SC_LOG_INFO, "bootstrap %s: connecting to %s",
                    cfg->bootstrap[i].value, addr);
    }
  }
}

int sc_daemon_init(sc_daemon *d, struct ev_loop *loop, const sc_config *cfg,
                   const sc_logger *log, char *err, size_t errlen) {
  uint8_t secret[SC_KEY_LEN];
  sc_addr *bootstrap = NULL;
  int created = 0, rc;
  memset(d, 0, sizeof(*d));
  d->loop = loop;
  d->log = log;
  d->udp.fd = -1;
  d->stats.fd = -1;
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
  if (rc == SC_EXIT_OK) {
    rc = create_node(d, cfg, secret, err, errlen);
  }
  sodium_memzero(secret, sizeof(secret));
  if (rc != SC_EXIT_OK) {
    free(bootstrap);
    sc_daemon_free(d);
    return rc;
  }
  start_watchers(d);
  log_start(d, cfg, created);
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
    ev_prepare_stop(d->loop, &d->prepare);
    ev_signal_stop(d->loop, &d->sig_int);
    ev_signal_stop(d->loop, &d->sig_term);
  }
  sc_statsock_close(&d->stats);
  sc_node_del(d->node);
  d->node = NULL;
  sc_udp_close(&d->udp);
}
