/*
 * tcpsrv.h: a listening TCP socket for the daemon's HTTP servers (the
 * stream sink's http:// and the Prometheus endpoint).
 *
 * The listener is non-blocking; connections are accepted as conn.h's
 * sc_acceptor does and go to the owner's callback. The IPv6 wildcard
 * ([::]) is dual-stack, as --listen is.
 */
#ifndef SC_SHELL_TCPSRV_H
#define SC_SHELL_TCPSRV_H

#include <ev.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conn.h"

#define SC_TCPSRV_BACKLOG 64

typedef struct sc_tcpsrv sc_tcpsrv;

/* Takes the accepted connection |fd| (the callee owns it). The owner of
 * |srv| finds itself with sc_struct_of. */
typedef void (*sc_tcpsrv_accept_fn)(sc_tcpsrv *srv, int fd);

struct sc_tcpsrv {
  struct ev_loop *loop;
  sc_tcpsrv_accept_fn on_accept;
  int fd;        /* -1 while closed */
  unsigned port; /* the bound port (the real one after port 0) */
  struct sockaddr_storage local; /* the bound address, with that port */
  sc_acceptor acceptor;
};

/* sc_tcpsrv_open binds |addr| (|addrlen| bytes; port 0 takes any free
 * port), listens and starts accepting on |loop|, handing each connection
 * to |on_accept|. Returns 0, or -1 with the problem in |err| of |errlen|
 * bytes ("cannot bind: Address already in use"); |t| is then closed. */
int sc_tcpsrv_open(sc_tcpsrv *t, struct ev_loop *loop,
                   const struct sockaddr_storage *addr, socklen_t addrlen,
                   sc_tcpsrv_accept_fn on_accept, char *err, size_t errlen);

/* sc_tcpsrv_close stops accepting and closes the socket. Safe on a closed
 * |t| (fd -1). Connections already handed out are the owner's. */
void sc_tcpsrv_close(sc_tcpsrv *t);

#endif /* SC_SHELL_TCPSRV_H */
