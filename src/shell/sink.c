/*
 * sink.c: stdout, UDP and HTTP outputs for a played stream.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "httpreq.h"
#include "iospec.h"
#include "mpegts.h"
#include "sc_macro.h"
#include "tcpsrv.h"

_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN and EWOULDBLOCK differ");

/* ---- an output with a bounded queue -------------------------------------- */

/* Bytes the descriptor did not take yet: buf[off .. off + len). */
struct outq {
  int fd;
  int is_sock;
  uint8_t *buf;
  size_t off, len, cap;
};

static void outq_init(struct outq *o, int fd, int is_sock) {
  memset(o, 0, sizeof(*o));
  o->fd = fd;
  o->is_sock = is_sock;
}

static void outq_clear(struct outq *o) {
  free(o->buf);
  o->buf = NULL;
  o->off = o->len = o->cap = 0;
}

/* Appends |n| bytes; -1 when the queue would pass |max| or memory ran
 * out. */
static int outq_push(struct outq *o, const uint8_t *d, size_t n, size_t max) {
  if (n > max - SC_MIN(max, o->len)) {
    return -1;
  }
  if (o->off + o->len + n > o->cap) {
    if (o->off > 0) {
      memmove(o->buf, o->buf + o->off, o->len);
      o->off = 0;
    }
    if (o->len + n > o->cap) {
      size_t cap = SC_MAX(o->len + n, SC_MIN(max, SC_MAX(o->cap * 2, 65536)));
      uint8_t *grown = realloc(o->buf, cap);
      if (grown == NULL) {
        return -1;
      }
      o->buf = grown;
      o->cap = cap;
    }
  }
  memcpy(o->buf + o->off + o->len, d, n);
  o->len += n;
  return 0;
}

/* One write or send. Returns the bytes taken (0 if it would block), or
 * -errno. */
static ssize_t out_once(const struct outq *o, const uint8_t *d, size_t n) {
  for (;;) {
    ssize_t w = o->is_sock ? send(o->fd, d, n, MSG_NOSIGNAL | MSG_DONTWAIT)
                           : write(o->fd, d, n);
    int e = w < 0 ? errno : 0;
    if (w >= 0) {
      return w;
    }
    if (e == EAGAIN) {
      return 0;
    }
    if (e != EINTR) {
      return -(ssize_t)e;
    }
  }
}

/* Writes the queue out. Returns 0 when it is empty, 1 when bytes remain,
 * or -errno. */
static int outq_flush(struct outq *o, uint64_t *written) {
  while (o->len > 0) {
    ssize_t w = out_once(o, o->buf + o->off, o->len);
    if (w < 0) {
      return (int)w;
    }
    if (w == 0) {
      return 1;
    }
    *written += (uint64_t)w;
    o->off += (size_t)w;
    o->len -= (size_t)w;
  }
  o->off = 0;
  return 0;
}

/* Writes |n| bytes behind the queue: what the descriptor takes now, the
 * rest queued. Returns 0, 1 when the backlog would pass |max| (nothing was
 * taken then), or -errno. */
static int outq_write(struct outq *o, const uint8_t *d, size_t n, size_t max,
                      uint64_t *written) {
  if (o->len == 0 && n <= max) {
    ssize_t w = out_once(o, d, n);
    if (w < 0) {
      return (int)w;
    }
    *written += (uint64_t)w;
    d += w;
    n -= (size_t)w;
    if (n == 0) {
      return 0;
    }
  }
  return outq_push(o, d, n, max) == 0 ? 0 : 1;
}

/* ---- the sink ----------------------------------------------------------- */

enum client_state {
  CLIENT_REQUEST = 0, /* reading the request head */
  CLIENT_STREAMING,   /* answered 200; streaming */
  CLIENT_CLOSING,     /* answered an error; draining before close */
};

struct client {
  sc_sink *k;
  sc_conn conn;
  int state;       /* enum client_state */
  int started;     /* has had its clean point */
  struct outq out; /* on conn.fd */
  ev_timer timer;  /* request timeout, then linger */
  size_t reqlen;
  char req[SC_SINK_MAX_REQUEST];
};

struct sc_sink {
  struct ev_loop *loop;
  int kind; /* enum sc_iospec_kind */
  size_t max_backlog;
  sc_sink_stats st;
  /* stdout and UDP */
  struct outq out;
  sc_iospec_stdio stdio;
  ev_io out_wr;
  int blocking; /* stdout is a regular file: plain blocking writes */
  int broken;   /* stdout failed for good (EPIPE) */
  int skipping; /* stdout overflowed: dropping until a clean point */
  /* UDP */
  int ts; /* -1 until the first write tells; then 1 if it is MPEG-TS */
  size_t dgram_len;
  uint8_t dgram[SC_SINK_DATAGRAM];
  /* HTTP */
  sc_tcpsrv srv;
  sc_conns clients;
};

/* ---- stdout ------------------------------------------------------------- */

/* A reader that went away (EPIPE) or a full disk does not come back:
 * from now on everything is dropped. */
static void stdout_fail(sc_sink *k) {
  k->st.write_errors++;
  k->st.bytes_dropped += k->out.len;
  outq_clear(&k->out);
  ev_io_stop(k->loop, &k->out_wr);
  k->broken = 1;
}

static void stdout_wr_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_sink *k = sc_struct_of(w, sc_sink, out_wr);
  int r = outq_flush(&k->out, &k->st.bytes_written);
  (void)revents;
  if (r < 0) {
    stdout_fail(k);
  } else if (r == 0) {
    ev_io_stop(loop, w);
  }
}

static void stdout_write(sc_sink *k, const uint8_t *d, size_t n, int clean) {
  int r;
  if (k->broken || (k->skipping && !clean)) {
    k->st.bytes_dropped += n;
    return;
  }
  k->skipping = 0;
  if (k->blocking) {
    while (n > 0) {
      ssize_t w = write(k->out.fd, d, n);
      int e = w < 0 ? errno : 0;
      if (w < 0 && e == EINTR) {
        continue;
      }
      if (w <= 0) {
        k->st.bytes_dropped += n;
        stdout_fail(k);
        return;
      }
      k->st.bytes_written += (uint64_t)w;
      d += w;
      n -= (size_t)w;
    }
    return;
  }
  r = outq_write(&k->out, d, n, k->max_backlog, &k->st.bytes_written);
  if (r == 1) {
    /* The reader is too slow: drop, and give it a place to start over. */
    k->st.bytes_dropped += n;
    k->skipping = 1;
  } else if (r < 0) {
    k->st.bytes_dropped += n;
    stdout_fail(k);
  } else if (k->out.len > 0) {
    ev_io_start(k->loop, &k->out_wr);
  }
}

static int open_stdout(sc_sink *k, char *err, size_t errlen) {
  struct stat st;
  int e;
  if (fstat(STDOUT_FILENO, &st) != 0) {
    e = errno;
    snprintf(err, errlen, "stdout: %s", strerror(e));
    return -1;
  }
  /* A vanished reader must show up as EPIPE, not kill the daemon. */
  signal(SIGPIPE, SIG_IGN);
  if (S_ISREG(st.st_mode)) {
    k->blocking = 1;
    outq_init(&k->out, STDOUT_FILENO, 0);
    return 0;
  }
  if (sc_iospec_stdio_open(&k->stdio, STDOUT_FILENO, O_WRONLY, err, errlen) !=
      0) {
    return -1;
  }
  outq_init(&k->out, k->stdio.fd, 0);
  ev_io_init(&k->out_wr, stdout_wr_cb, k->stdio.fd, EV_WRITE);
  return 0;
}

/* ---- UDP ---------------------------------------------------------------- */

static void udp_send(sc_sink *k, const uint8_t *d, size_t n) {
  ssize_t w;
  int e;
  do {
    w = send(k->out.fd, d, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    e = w < 0 ? errno : 0;
  } while (w < 0 && e == EINTR);
  if (w >= 0) {
    k->st.bytes_written += (uint64_t)w;
    return;
  }
  /* Live datagrams are not queued: late is as bad as lost. */
  k->st.bytes_dropped += n;
  if (e != EAGAIN && e != ENOBUFS) {
    k->st.write_errors++; /* ECONNREFUSED: nobody listens there yet */
  }
}

/* Returns 1 if |d| starts with a TS packet and every 188th byte is a
 * sync byte. */
static int looks_like_ts(const uint8_t *d, size_t n) {
  size_t i;
  if (n < SC_TS_PACKET) {
    return 0;
  }
  for (i = 0; i < n; i += SC_TS_PACKET) {
    if (d[i] != SC_TS_SYNC) {
      return 0;
    }
  }
  return 1;
}

static void udp_write(sc_sink *k, const uint8_t *d, size_t n) {
  size_t whole;
  if (k->ts < 0) {
    k->ts = looks_like_ts(d, n);
  }
  if (!k->ts) {
    while (n > 0) {
      size_t part = SC_MIN(n, (size_t)SC_SINK_DATAGRAM);
      udp_send(k, d, part);
      d += part;
      n -= part;
    }
    return;
  }
  /* TS: full datagrams of 7 packets; a partial packet waits for the rest
   * so that every datagram starts and ends on a packet boundary. */
  while (n > 0) {
    size_t part = SC_MIN(n, sizeof(k->dgram) - k->dgram_len);
    memcpy(k->dgram + k->dgram_len, d, part);
    k->dgram_len += part;
    d += part;
    n -= part;
    if (k->dgram_len == sizeof(k->dgram)) {
      udp_send(k, k->dgram, k->dgram_len);
      k->dgram_len = 0;
    }
  }
  whole = k->dgram_len / SC_TS_PACKET * SC_TS_PACKET;
  if (whole > 0) {
    udp_send(k, k->dgram, whole);
    memmove(k->dgram, k->dgram + whole, k->dgram_len - whole);
    k->dgram_len -= whole;
  }
}

static int open_udp(sc_sink *k, const sc_iospec *io, char *err, size_t errlen) {
  int e, fd = socket(io->addr.ss_family,
                     SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    e = errno;
    snprintf(err, errlen, "cannot create UDP socket: %s", strerror(e));
    return -1;
  }
  outq_init(&k->out, fd, 1);
  if (connect(fd, (const struct sockaddr *)(const void *)&io->addr,
              io->addrlen) != 0) {
    e = errno;
    snprintf(err, errlen, "cannot send there: %s", strerror(e));
    return -1;
  }
  k->ts = -1;
  return 0;
}

/* ---- HTTP clients ------------------------------------------------------- */

static void client_close(struct client *c) {
  sc_sink *k = c->k;
  ev_timer_stop(k->loop, &c->timer);
  sc_conn_remove(&c->conn);
  outq_clear(&c->out);
  if (c->state == CLIENT_STREAMING) {
    k->st.clients_now--;
  }
  free(c);
}

/* Closes a streaming client that failed; its backlog and |pending| bytes
 * it will not get are dropped. */
static void client_drop(struct client *c, uint64_t *counter, size_t pending) {
  c->k->st.bytes_dropped += c->out.len + pending;
  (*counter)++;
  client_close(c);
}

/* Sends what is queued. Returns 0, or -1 if |c| was closed. */
static int client_flush(struct client *c) {
  sc_sink *k = c->k;
  int r = outq_flush(&c->out, &k->st.bytes_written);
  if (r < 0) {
    if (c->state == CLIENT_STREAMING) {
      client_drop(c, &k->st.clients_gone, 0);
    } else {
      client_close(c);
    }
    return -1;
  }
  if (r == 1) {
    ev_io_start(k->loop, &c->conn.wr);
    return 0;
  }
  ev_io_stop(k->loop, &c->conn.wr);
  if (c->state == CLIENT_CLOSING) {
    /* Answer sent: half-close and read until the client closes too, so
     * that unread request bytes cannot turn our FIN into a reset that
     * destroys the answer. */
    shutdown(c->out.fd, SHUT_WR);
  }
  return 0;
}

/* Answers an error |status| and starts closing. */
static void client_refuse(struct client *c, int status) {
  sc_sink *k = c->k;
  char head[256];
  size_t n = sc_httpreq_refusal(head, sizeof(head), status);
  k->st.requests_refused++;
  c->state = CLIENT_CLOSING;
  ev_timer_stop(k->loop, &c->timer);
  ev_timer_set(&c->timer, SC_SINK_LINGER, 0.);
  ev_timer_start(k->loop, &c->timer);
  if (outq_push(&c->out, (const uint8_t *)head, n, sizeof(head)) == 0) {
    (void)client_flush(c);
  } else {
    client_close(c);
  }
}

static void client_accept_get(struct client *c) {
  static const char ok[] = "HTTP/1.1 200 OK\r\n"
                           "Content-Type: video/mp2t\r\n"
                           "Cache-Control: no-cache\r\n"
                           "Connection: close\r\n\r\n";
  sc_sink *k = c->k;
  c->state = CLIENT_STREAMING;
  k->st.clients_now++;
  k->st.clients_total++;
  ev_timer_stop(k->loop, &c->timer);
  if (outq_push(&c->out, (const uint8_t *)ok, sizeof(ok) - 1, k->max_backlog) !=
      0) {
    client_drop(c, &k->st.clients_slow, 0);
    return;
  }
  (void)client_flush(c);
}

/* Acts on the request bytes read so far; may close |c|. */
static void client_request(struct client *c) {
  size_t head_len;
  int rc = sc_httpreq_parse(c->req, c->reqlen, &head_len);
  int status = sc_httpreq_status(rc, c->reqlen == sizeof(c->req));
  if (status != 0) {
    client_refuse(c, status);
  } else if (rc == SC_HTTPREQ_GET) {
    client_accept_get(c);
  }
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents) {
  struct client *c = sc_struct_of(w, struct client, conn.rd);
  int r = sc_conn_read_head(&c->conn, c->state == CLIENT_REQUEST, c->req,
                            &c->reqlen, sizeof(c->req));
  (void)revents;
  if (r == SC_CONN_HEAD) {
    client_request(c); /* may close |c|; a pipelined rest is ignored */
  } else if (r == SC_CONN_END && c->state == CLIENT_STREAMING) {
    ev_io_stop(loop, w); /* a half-close; keep sending */
  } else if (r == SC_CONN_FAILED && c->state == CLIENT_STREAMING) {
    client_drop(c, &c->k->st.clients_gone, 0);
  } else if (r != SC_CONN_WAIT) {
    client_close(c);
  }
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents) {
  struct client *c = sc_struct_of(w, struct client, conn.wr);
  (void)loop;
  (void)revents;
  (void)client_flush(c);
}

static void client_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  struct client *c = sc_struct_of(w, struct client, timer);
  (void)loop;
  (void)revents;
  if (c->state == CLIENT_REQUEST) {
    client_refuse(c, 408);
  } else {
    client_close(c);
  }
}

static void client_new(sc_sink *k, int fd) {
  struct client *c = calloc(1, sizeof(*c));
  int one = 1;
  if (c == NULL) {
    close(fd);
    return;
  }
  /* Chunks are small and late is useless: no Nagle delay. */
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->k = k;
  outq_init(&c->out, fd, 1);
  ev_timer_init(&c->timer, client_timer_cb, SC_SINK_REQUEST_TIMEOUT, 0.);
  ev_timer_start(k->loop, &c->timer);
  sc_conn_add(&k->clients, &c->conn, fd, client_read_cb, client_write_cb);
}

static void on_accept(sc_tcpsrv *srv, int fd) {
  client_new(sc_struct_of(srv, sc_sink, srv), fd);
}

static void http_write(sc_sink *k, const uint8_t *d, size_t n, int clean) {
  sc_conn *e, *next;
  for (e = k->clients.head; e != NULL; e = next) {
    struct client *c = sc_struct_of(e, struct client, conn);
    int r;
    next = e->next;
    if (c->state != CLIENT_STREAMING || (!c->started && !clean)) {
      continue;
    }
    c->started = 1;
    r = outq_write(&c->out, d, n, k->max_backlog, &k->st.bytes_written);
    if (r == 1) {
      client_drop(c, &k->st.clients_slow, n);
    } else if (r < 0) {
      client_drop(c, &k->st.clients_gone, n);
    } else if (c->out.len > 0) {
      ev_io_start(k->loop, &c->conn.wr);
    }
  }
}

static int open_http(sc_sink *k, const sc_iospec *io, char *err,
                     size_t errlen) {
  return sc_tcpsrv_open(&k->srv, k->loop, &io->addr, io->addrlen, on_accept,
                        err, errlen);
}

/* ---- the sink ----------------------------------------------------------- */

int sc_sink_open(sc_sink **ps, struct ev_loop *loop, const char *spec,
                 size_t max_backlog, char *err, size_t errlen) {
  sc_iospec io;
  sc_sink *k;
  int rc;
  *ps = NULL;
  if (sc_iospec_parse_sink(&io, spec, err, errlen) != 0) {
    return -1;
  }
  k = calloc(1, sizeof(*k));
  if (k == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  k->loop = loop;
  sc_conns_init(&k->clients, loop);
  k->kind = io.kind;
  k->max_backlog = max_backlog > 0 ? max_backlog : SC_SINK_DEFAULT_BACKLOG;
  k->srv.fd = -1;
  k->stdio.fd = -1;
  k->stdio.saved_flags = -1;
  outq_init(&k->out, -1, 0);
  ev_io_init(&k->out_wr, stdout_wr_cb, -1, EV_WRITE);
  switch (io.kind) {
  case SC_IOSPEC_UDP:
    rc = open_udp(k, &io, err, errlen);
    break;
  case SC_IOSPEC_HTTP:
    rc = open_http(k, &io, err, errlen);
    break;
  default:
    rc = open_stdout(k, err, errlen);
    break;
  }
  if (rc != 0) {
    sc_sink_close(k);
    return -1;
  }
  *ps = k;
  return 0;
}

void sc_sink_write(sc_sink *k, const uint8_t *data, size_t len, int clean) {
  if (len == 0) {
    return;
  }
  k->st.bytes_in += len;
  switch (k->kind) {
  case SC_IOSPEC_UDP:
    udp_write(k, data, len);
    break;
  case SC_IOSPEC_HTTP:
    http_write(k, data, len, clean);
    break;
  default:
    stdout_write(k, data, len, clean);
    break;
  }
}

void sc_sink_close(sc_sink *k) {
  if (k == NULL) {
    return;
  }
  while (k->clients.head != NULL) {
    client_close(sc_struct_of(k->clients.head, struct client, conn));
  }
  sc_tcpsrv_close(&k->srv);
  ev_io_stop(k->loop, &k->out_wr);
  if (k->kind == SC_IOSPEC_STDIO) {
    if (!k->blocking && !k->broken) {
      uint64_t ignored = 0;
      (void)outq_flush(&k->out, &ignored); /* what it takes at once */
    }
    sc_iospec_stdio_close(&k->stdio);
  } else if (k->out.fd >= 0) {
    close(k->out.fd);
  }
  outq_clear(&k->out);
  free(k);
}

void sc_sink_get_stats(const sc_sink *k, sc_sink_stats *out) { *out = k->st; }

unsigned sc_sink_local_port(const sc_sink *k) {
  return k->kind == SC_IOSPEC_HTTP ? k->srv.port : 0;
}
