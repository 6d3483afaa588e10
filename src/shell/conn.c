/*
 * conn.c: accepting and keeping the connections of the daemon's stream
 * servers.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "conn.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_macro.h"

_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN and EWOULDBLOCK differ");

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_acceptor *a = sc_struct_of(w, sc_acceptor, io);
  (void)revents;
  for (;;) {
    int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) {
      a->on_accept(a, fd);
      continue;
    }
    if (e == EAGAIN) {
      return;
    }
    if (e == EINTR || e == ECONNABORTED || e == EPROTO) {
      continue;
    }
    /* Out of descriptors or memory: pause instead of spinning on a
     * listener that stays readable. */
    if (a->on_pause != NULL) {
      a->on_pause(a, e);
    }
    ev_io_stop(loop, &a->io);
    ev_timer_set(&a->retry, SC_ACCEPT_RETRY, 0.);
    ev_timer_start(loop, &a->retry);
    return;
  }
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_acceptor *a = sc_struct_of(w, sc_acceptor, retry);
  (void)revents;
  ev_io_start(loop, &a->io);
}

void sc_acceptor_start(sc_acceptor *a, struct ev_loop *loop, int fd,
                       sc_acceptor_fn on_accept,
                       sc_acceptor_pause_fn on_pause) {
  a->loop = loop;
  a->fd = fd;
  a->on_accept = on_accept;
  a->on_pause = on_pause;
  ev_io_init(&a->io, accept_cb, fd, EV_READ);
  ev_timer_init(&a->retry, retry_cb, SC_ACCEPT_RETRY, 0.);
  ev_io_start(loop, &a->io);
}

void sc_acceptor_stop(sc_acceptor *a) {
  if (a->loop == NULL) {
    return;
  }
  ev_io_stop(a->loop, &a->io);
  ev_timer_stop(a->loop, &a->retry);
}

void sc_conns_init(sc_conns *s, struct ev_loop *loop) {
  s->loop = loop;
  s->head = NULL;
  s->n = 0;
}

void sc_conn_add(sc_conns *s, sc_conn *c, int fd, sc_conn_io_fn on_read,
                 sc_conn_io_fn on_write) {
  c->set = s;
  c->fd = fd;
  ev_io_init(&c->rd, on_read, fd, EV_READ);
  ev_io_init(&c->wr, on_write, fd, EV_WRITE);
  ev_io_start(s->loop, &c->rd);
  c->prev = NULL;
  c->next = s->head;
  if (s->head != NULL) {
    s->head->prev = c;
  }
  s->head = c;
  s->n++;
}

void sc_conn_remove(sc_conn *c) {
  sc_conns *s = c->set;
  ev_io_stop(s->loop, &c->rd);
  ev_io_stop(s->loop, &c->wr);
  close(c->fd);
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    s->head = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  s->n--;
}

ssize_t sc_conn_send(sc_conn *c, const void *data, size_t len) {
  const char *p = data;
  size_t sent = 0;
  while (sent < len) {
    ssize_t n = send(c->fd, p + sent, len - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno != EAGAIN) {
      return -1;
    } else {
      break;
    }
  }
  if (sent < len) {
    ev_io_start(c->set->loop, &c->wr);
  } else {
    ev_io_stop(c->set->loop, &c->wr);
  }
  return (ssize_t)sent;
}

int sc_conn_read_head(sc_conn *c, int want, char *head, size_t *len,
                      size_t cap) {
  char scratch[4096];
  int rounds;
  for (rounds = 0; rounds < 8; rounds++) {
    ssize_t n = want ? recv(c->fd, head + *len, cap - *len, MSG_DONTWAIT)
                     : recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
    if (n > 0 && want) {
      *len += (size_t)n;
      return SC_CONN_HEAD;
    }
    if (n > 0 || (n < 0 && errno == EINTR)) {
      continue; /* after the head: read and ignore */
    }
    if (n < 0) {
      return errno == EAGAIN ? SC_CONN_WAIT : SC_CONN_FAILED;
    }
    return SC_CONN_END;
  }
  return SC_CONN_WAIT;
}

void sc_conn_refuse(int fd, const char *msg, size_t len) {
  (void)send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  close(fd);
}
