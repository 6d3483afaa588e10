/*
 * tcpsrv.c: a listening TCP socket on libev.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "tcpsrv.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sc_macro.h"

_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN and EWOULDBLOCK differ");

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_tcpsrv *t = sc_struct_of(w, sc_tcpsrv, accept_w);
  (void)revents;
  for (;;) {
    int fd = accept4(t->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) {
      t->on_accept(t, fd);
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
    ev_io_stop(loop, &t->accept_w);
    ev_timer_set(&t->accept_retry, SC_TCPSRV_ACCEPT_RETRY, 0.);
    ev_timer_start(loop, &t->accept_retry);
    return;
  }
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_tcpsrv *t = sc_struct_of(w, sc_tcpsrv, accept_retry);
  (void)revents;
  ev_io_start(loop, &t->accept_w);
}

static unsigned sockaddr_port(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) {
    return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
  }
  return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
}

/* Creates, binds and listens. Returns 0, or -1 with a message. */
static int bind_listen(sc_tcpsrv *t, const struct sockaddr_storage *addr,
                       socklen_t addrlen, char *err, size_t errlen) {
  int e, one = 1, off = 0;
  t->fd =
      socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (t->fd < 0) {
    e = errno;
    snprintf(err, errlen, "cannot create TCP socket: %s", strerror(e));
    return -1;
  }
  (void)setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (addr->ss_family == AF_INET6 &&
      IN6_IS_ADDR_UNSPECIFIED(
          &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr)) {
    /* [::] serves IPv4 clients too, as --listen does. */
    (void)setsockopt(t->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (bind(t->fd, (const struct sockaddr *)(const void *)addr, addrlen) != 0) {
    e = errno;
    snprintf(err, errlen, "cannot bind: %s", strerror(e));
    return -1;
  }
  if (listen(t->fd, SC_TCPSRV_BACKLOG) != 0) {
    e = errno;
    snprintf(err, errlen, "cannot listen: %s", strerror(e));
    return -1;
  }
  return 0;
}

int sc_tcpsrv_open(sc_tcpsrv *t, struct ev_loop *loop,
                   const struct sockaddr_storage *addr, socklen_t addrlen,
                   sc_tcpsrv_accept_fn on_accept, char *err, size_t errlen) {
  socklen_t blen = sizeof(t->local);
  memset(t, 0, sizeof(*t));
  t->loop = loop;
  t->on_accept = on_accept;
  t->fd = -1;
  if (bind_listen(t, addr, addrlen, err, errlen) != 0) {
    sc_tcpsrv_close(t);
    return -1;
  }
  if (getsockname(t->fd, (struct sockaddr *)(void *)&t->local, &blen) != 0) {
    memcpy(&t->local, addr, addrlen);
  }
  t->port = sockaddr_port(&t->local);
  ev_io_init(&t->accept_w, accept_cb, t->fd, EV_READ);
  ev_timer_init(&t->accept_retry, accept_retry_cb, SC_TCPSRV_ACCEPT_RETRY, 0.);
  ev_io_start(loop, &t->accept_w);
  return 0;
}

void sc_tcpsrv_close(sc_tcpsrv *t) {
  if (t->fd < 0) {
    return;
  }
  ev_io_stop(t->loop, &t->accept_w);
  ev_timer_stop(t->loop, &t->accept_retry);
  close(t->fd);
  t->fd = -1;
}
