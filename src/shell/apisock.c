/*
 * apisock.c: the local application API socket: connections, line framing,
 * output queues and event delivery. api.c answers the requests.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "apisock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_macro.h"

struct sc_api_client {
  sc_apisock *srv;
  sc_conn conn;
  sc_textbuf line; /* the request being read */
  int discarding;  /* the line went over the limit: skip to its end */
  int reading;     /* 0 after end of input */
  sc_textbuf out;
  uint64_t dropped; /* events dropped since the last "dropped" line */
  sc_api_subs subs;
};

static void client_close(sc_api_client *c, const char *why) {
  sc_apisock *a = c->srv;
  if (why != NULL) {
    sc_logger_log(a->log, SC_LOG_DEBUG, "api client %d dropped: %s", c->conn.fd,
                  why);
  }
  sc_conn_remove(&c->conn);
  sc_textbuf_free(&c->line);
  sc_textbuf_free(&c->out);
  free(c);
}

/* Reads requests only while the answers are going out. */
static void client_throttle(sc_api_client *c) {
  if (c->reading && c->out.len < SC_APISOCK_READ_BELOW) {
    ev_io_start(c->srv->loop, &c->conn.rd);
  } else {
    ev_io_stop(c->srv->loop, &c->conn.rd);
  }
}

/* Writes what the socket takes. Returns 0, or -1 if |c| was closed. */
static int client_flush(sc_api_client *c) {
  ssize_t n = sc_conn_send(&c->conn, c->out.data, c->out.len);
  if (n < 0) {
    client_close(c, strerror(errno));
    return -1;
  }
  sc_textbuf_consume(&c->out, (size_t)n);
  if (c->out.len == 0 && !c->reading) {
    client_close(c, NULL);
    return -1;
  }
  client_throttle(c);
  return 0;
}

/* Answers one complete line. Returns 0, or -1 if |c| was closed. */
static int client_request(sc_api_client *c, const char *line, size_t len) {
  sc_apisock *a = c->srv;
  sc_api_ctx ctx;
  if (len > 0 && line[len - 1] == '\r') {
    len--;
  }
  ctx.node = a->node;
  ctx.groups = a->groups;
  ctx.now = a->now();
  ctx.subs = &c->subs;
  ctx.log = a->log;
  if (sc_api_handle(&ctx, line, len, &c->out) < 0) {
    client_close(c, "output buffer full or out of memory");
    return -1;
  }
  return 0;
}

static void client_too_long(sc_api_client *c) {
  sc_textbuf_reset(&c->line);
  c->discarding = 1;
  sc_api_error_line(&c->out, "line_too_long",
                    "a request is at most 65536 bytes; the rest of the line "
                    "was skipped");
}

/* Splits |len| new bytes at |data| into lines. Returns 0, or -1 if |c| was
 * closed. */
static int client_feed(sc_api_client *c, const char *data, size_t len) {
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl != NULL ? (size_t)(nl - data) : len;
    if (c->discarding) {
      c->discarding = nl == NULL;
    } else if (c->line.len + take > SC_API_MAX_LINE + 1) {
      /* Room for the limit and a '\r' before the '\n'. */
      client_too_long(c);
      c->discarding = nl == NULL;
    } else if (sc_textbuf_append(&c->line, data, take) != 0) {
      client_close(c, "out of memory");
      return -1;
    } else if (nl != NULL) {
      int rc = client_request(c, c->line.data, c->line.len);
      if (rc != 0) {
        return rc;
      }
      sc_textbuf_reset(&c->line);
    }
    data += take + (nl != NULL);
    len -= take + (nl != NULL);
  }
  return 0;
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_api_client *c = sc_struct_of(w, sc_api_client, conn.rd);
  char buf[4096];
  (void)loop;
  (void)revents;
  while (c->out.len < SC_APISOCK_READ_BELOW) {
    ssize_t n = read(c->conn.fd, buf, sizeof(buf));
    int e = n < 0 ? errno : 0;
    if (n > 0) {
      if (client_feed(c, buf, (size_t)n) != 0) {
        return;
      }
      if (c->out.len > SC_APISOCK_HARD_OUTPUT) {
        client_close(c, "answers not read");
        return;
      }
      continue;
    }
    if (n < 0 && e == EINTR) {
      continue;
    }
    if (n < 0 && (e == EAGAIN)) {
      break;
    }
    if (n < 0) {
      client_close(c, strerror(e));
      return;
    }
    /* End of input: a last line without '\n' is still a request. */
    c->reading = 0;
    if (!c->discarding && c->line.len > 0 &&
        client_request(c, c->line.data, c->line.len) != 0) {
      return;
    }
    break;
  }
  client_flush(c);
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_api_client *c = sc_struct_of(w, sc_api_client, conn.wr);
  (void)loop;
  (void)revents;
  client_flush(c);
}

static void client_new(sc_apisock *a, int fd) {
  static const char busy[] =
      "{\"error\":{\"code\":\"too_many_clients\",\"message\":\"at most 64 "
      "connections\"}}\n";
  sc_api_client *c;
  if (a->clients.n >= SC_APISOCK_MAX_CLIENTS ||
      (c = calloc(1, sizeof(*c))) == NULL) {
    sc_conn_refuse(fd, busy, sizeof(busy) - 1);
    sc_logger_log(a->log, SC_LOG_DEBUG, "api client refused: %s",
                  a->clients.n >= SC_APISOCK_MAX_CLIENTS ? "too many clients"
                                                         : "out of memory");
    return;
  }
  c->srv = a;
  c->reading = 1;
  sc_textbuf_init(&c->line, SC_API_MAX_LINE + 1);
  sc_textbuf_init(&c->out, SC_APISOCK_HARD_OUTPUT);
  sc_conn_add(&a->clients, &c->conn, fd, client_read_cb, client_write_cb);
}

static void on_accept(sc_unixsrv *u, int fd) {
  client_new(sc_struct_of(u, sc_apisock, srv), fd);
}

/* Queues |line| for |c| if it fits beside what waits, after telling of
 * the events dropped before it. */
static void client_event(sc_api_client *c, const sc_textbuf *line) {
  sc_apisock *a = c->srv;
  if (c->dropped > 0 && c->out.len + 64 + line->len <= SC_APISOCK_MAX_OUTPUT) {
    sc_api_dropped_line(&c->out, c->dropped);
    c->dropped = 0;
  }
  if (c->dropped > 0 || c->out.len + line->len > SC_APISOCK_MAX_OUTPUT ||
      sc_textbuf_append(&c->out, line->data, line->len) != 0) {
    c->dropped++;
    a->events_dropped++;
    return;
  }
  a->events_sent++;
  if (!ev_is_active(&c->conn.wr)) {
    client_flush(c);
  }
}

void sc_apisock_event(sc_apisock *a, const sc_api_event *e) {
  sc_conn *k, *next;
  sc_textbuf line;
  sc_textbuf_init(&line, 0);
  for (k = a->clients.head; k != NULL; k = next) {
    sc_api_client *c = sc_struct_of(k, sc_api_client, conn);
    size_t i;
    next = k->next; /* client_event may close |c| */
    for (i = 0; i < c->subs.n; i++) {
      const sc_api_sub *s = &c->subs.items[i];
      if ((s->events & e->kind) != 0 &&
          memcmp(s->group_id, e->group_id, SC_GROUP_ID_BYTES) == 0) {
        sc_textbuf_reset(&line);
        sc_api_event_line(&line, s->spec, e);
        if (line.oom) {
          a->events_dropped++;
        } else {
          client_event(c, &line);
        }
        break; /* one subscription per group and connection */
      }
    }
  }
  sc_textbuf_free(&line);
}

int sc_apisock_open(sc_apisock *a, struct ev_loop *loop, const char *path,
                    const char *origin, sc_node *node, sc_grouptab *groups,
                    uint64_t (*now)(void), const sc_logger *log, char *err,
                    size_t errlen) {
  memset(a, 0, sizeof(*a));
  a->loop = loop;
  a->log = log;
  a->node = node;
  a->groups = groups;
  a->now = now;
  sc_conns_init(&a->clients, loop);
  return sc_unixsrv_open(&a->srv, loop, path, origin, "api socket", on_accept,
                         log, err, errlen);
}

void sc_apisock_close(sc_apisock *a) {
  while (a->clients.head != NULL) {
    client_close(sc_struct_of(a->clients.head, sc_api_client, conn), NULL);
  }
  sc_unixsrv_close(&a->srv);
}
