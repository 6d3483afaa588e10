/*
 * metricshttp.c: the Prometheus endpoint, one request per connection.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "metricshttp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpreq.h"
#include "json.h"
#include "sc_macro.h"
#include "udp.h"

_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN and EWOULDBLOCK differ");

#define METRICS_PATH "/metrics"
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* An answer is the metrics text and a head well under 512 bytes. */
#define MAX_ANSWER (SC_STATS_MAX_OUTPUT + 512)

enum client_state {
  CLIENT_REQUEST,   /* reading the head */
  CLIENT_ANSWERING, /* writing the answer; further input is ignored */
  CLIENT_DRAINING,  /* answer sent and our side closed: wait for EOF */
};

struct sc_metricshttp_client {
  sc_metricshttp *m;
  sc_conn conn;
  int state;      /* enum client_state */
  ev_timer timer; /* the whole exchange, then the linger after a 408 */
  size_t reqlen;
  char req[SC_METRICSHTTP_MAX_REQUEST];
  sc_textbuf out;
};

static void client_close(sc_metricshttp_client *c, const char *why) {
  sc_metricshttp *m = c->m;
  if (why != NULL) {
    sc_logger_log(m->log, SC_LOG_DEBUG, "metrics client %d dropped: %s",
                  c->conn.fd, why);
  }
  ev_timer_stop(m->loop, &c->timer);
  sc_conn_remove(&c->conn);
  sc_textbuf_free(&c->out);
  free(c);
}

/* Writes what the socket takes. Returns 0, or -1 if |c| was closed. */
static int client_flush(sc_metricshttp_client *c) {
  ssize_t n = sc_conn_send(&c->conn, c->out.data, c->out.len);
  if (n < 0) {
    client_close(c, strerror(errno));
    return -1;
  }
  sc_textbuf_consume(&c->out, (size_t)n);
  if (c->out.len > 0) {
    return 0;
  }
  if (!ev_is_active(&c->conn.rd)) {
    client_close(c, NULL); /* the client closed its side already */
    return -1;
  }
  /* Answer sent: half-close and read until the client closes too, so that
   * unread request bytes cannot turn our FIN into a reset that destroys
   * the answer. The timer still bounds the wait. */
  shutdown(c->conn.fd, SHUT_WR);
  c->state = CLIENT_DRAINING;
  return 0;
}

/* Queues |head| of |head_len| bytes and |body| (NULL: none) and starts
 * sending; may close |c|. */
static void client_send(sc_metricshttp_client *c, const char *head,
                        size_t head_len, const sc_textbuf *body) {
  c->state = CLIENT_ANSWERING;
  if (sc_textbuf_append(&c->out, head, head_len) != 0 ||
      (body != NULL &&
       sc_textbuf_append(&c->out, body->data, body->len) != 0)) {
    client_close(c, "out of memory");
    return;
  }
  (void)client_flush(c);
}

/* Answers the error |status|; may close |c|. */
static void client_refuse(sc_metricshttp_client *c, int status) {
  char head[256];
  size_t n = sc_httpreq_refusal(head, sizeof(head), status);
  sc_logger_log(c->m->log, SC_LOG_DEBUG, "metrics client %d: answered %d",
                c->conn.fd, status);
  client_send(c, head, n, NULL);
}

/* Answers 200 with the metrics text; may close |c|. */
static void client_metrics(sc_metricshttp_client *c) {
  sc_metricshttp *m = c->m;
  sc_stats_view view;
  sc_textbuf body;
  char head[256];
  int n;
  memset(&view, 0, sizeof(view));
  m->view_fn(m->view_user, &view);
  sc_textbuf_init(&body, SC_STATS_MAX_OUTPUT);
  if (sc_stats_answer(&view, "metrics", strlen("metrics"), &body) != 0) {
    sc_textbuf_free(&body);
    client_refuse(c, 500);
    return;
  }
  n = snprintf(head, sizeof(head),
               "HTTP/1.1 200 OK\r\nContent-Type: " CONTENT_TYPE "\r\n"
               "Content-Length: %zu\r\nCache-Control: no-cache\r\n"
               "Connection: close\r\n\r\n",
               body.len);
  client_send(c, head, (size_t)n, &body);
  sc_textbuf_free(&body);
}

/* "/metrics", with or without a query (Prometheus may add "params"). */
static int is_metrics_target(const char *t, size_t len) {
  size_t n = strlen(METRICS_PATH);
  return len >= n && memcmp(t, METRICS_PATH, n) == 0 &&
         (len == n || t[n] == '?');
}

/* Acts on the request bytes read so far; may close |c|. */
static void client_request(sc_metricshttp_client *c) {
  const char *target;
  size_t head_len, target_len;
  int rc = sc_httpreq_parse(c->req, c->reqlen, &head_len);
  int status = sc_httpreq_status(rc, c->reqlen == sizeof(c->req));
  if (status != 0) {
    client_refuse(c, status);
  } else if (rc == SC_HTTPREQ_GET) {
    sc_httpreq_target(c->req, head_len, &target, &target_len);
    if (is_metrics_target(target, target_len)) {
      client_metrics(c);
    } else {
      client_refuse(c, 404);
    }
  }
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_metricshttp_client *c = sc_struct_of(w, sc_metricshttp_client, conn.rd);
  int r = sc_conn_read_head(&c->conn, c->state == CLIENT_REQUEST, c->req,
                            &c->reqlen, sizeof(c->req));
  (void)revents;
  if (r == SC_CONN_HEAD) {
    client_request(c); /* may close |c| */
  } else if (r == SC_CONN_FAILED) {
    client_close(c, strerror(errno));
  } else if (r == SC_CONN_END && c->state == CLIENT_ANSWERING) {
    ev_io_stop(loop, w); /* a half-close: keep sending */
  } else if (r == SC_CONN_END) {
    client_close(c, c->state == CLIENT_REQUEST && c->reqlen > 0
                        ? "closed before the end of its request"
                        : NULL);
  }
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_metricshttp_client *c = sc_struct_of(w, sc_metricshttp_client, conn.wr);
  (void)loop;
  (void)revents;
  (void)client_flush(c);
}

static void client_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_metricshttp_client *c = sc_struct_of(w, sc_metricshttp_client, timer);
  (void)revents;
  if (c->state != CLIENT_REQUEST) {
    client_close(c, c->state == CLIENT_ANSWERING ? "did not read its answer"
                                                 : NULL);
    return;
  }
  /* A short grace to take the 408 and close. */
  ev_timer_set(&c->timer, SC_METRICSHTTP_LINGER, 0.);
  ev_timer_start(loop, &c->timer);
  client_refuse(c, 408);
}

/* Answers 503 as best it can and closes |fd|. */
static void refuse_busy(sc_metricshttp *m, int fd) {
  char head[256];
  size_t n = sc_httpreq_refusal(head, sizeof(head), 503);
  sc_conn_refuse(fd, head, n);
  sc_logger_log(m->log, SC_LOG_DEBUG, "metrics client refused: %s",
                m->clients.n >= SC_METRICSHTTP_MAX_CLIENTS ? "too many clients"
                                                           : "out of memory");
}

static void on_accept(sc_tcpsrv *srv, int fd) {
  sc_metricshttp *m = sc_struct_of(srv, sc_metricshttp, srv);
  sc_metricshttp_client *c;
  if (m->clients.n >= SC_METRICSHTTP_MAX_CLIENTS ||
      (c = calloc(1, sizeof(*c))) == NULL) {
    refuse_busy(m, fd);
    return;
  }
  c->m = m;
  c->state = CLIENT_REQUEST;
  sc_textbuf_init(&c->out, MAX_ANSWER);
  ev_timer_init(&c->timer, client_timer_cb, SC_METRICSHTTP_TIMEOUT, 0.);
  ev_timer_start(m->loop, &c->timer);
  sc_conn_add(&m->clients, &c->conn, fd, client_read_cb, client_write_cb);
}

int sc_metricshttp_open(sc_metricshttp *m, struct ev_loop *loop,
                        const char *addr, const char *origin,
                        sc_stats_view_fn view_fn, void *user,
                        const sc_logger *log, char *err, size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t sslen;
  char why[256];
  memset(m, 0, sizeof(*m));
  m->loop = loop;
  m->log = log;
  m->view_fn = view_fn;
  m->view_user = user;
  m->srv.fd = -1;
  sc_conns_init(&m->clients, loop);
  if (sc_udp_parse_listen(addr, &ss, &sslen, why, sizeof(why)) != 0 ||
      sc_tcpsrv_open(&m->srv, loop, &ss, sslen, on_accept, why, sizeof(why)) !=
          0) {
    snprintf(err, errlen, "%s %s: %s", origin, addr, why);
    return -1;
  }
  return 0;
}

void sc_metricshttp_close(sc_metricshttp *m) {
  while (m->clients.head != NULL) {
    client_close(sc_struct_of(m->clients.head, sc_metricshttp_client, conn),
                 NULL);
  }
  sc_tcpsrv_close(&m->srv);
}
