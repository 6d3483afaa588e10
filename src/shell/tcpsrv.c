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

static void accepted(sc_acceptor *a, int fd) {
  sc_tcpsrv *t = sc_struct_of(a, sc_tcpsrv, acceptor);
  t->on_accept(t, fd);
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
  sc_acceptor_start(&t->acceptor, loop, t->fd, accepted, NULL);
  return 0;
}

void sc_tcpsrv_close(sc_tcpsrv *t) {
  if (t->fd < 0) {
    return;
  }
  sc_acceptor_stop(&t->acceptor);
  close(t->fd);
  t->fd = -1;
}
