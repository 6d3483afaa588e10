/*
 * unixsrv.h: a listening Unix stream socket for the daemon's local
 * sockets (the stats socket, the API socket).
 *
 * The socket lives in a directory created 0700 when missing and is itself
 * 0600 from its first moment. A socket file left by a daemon that is gone
 * is removed; one that another daemon answers on, or a file that is not a
 * socket, is refused. Connections are accepted as conn.h's sc_acceptor
 * does and go to the owner's callback; a pause in accepting is logged.
 */
#ifndef SC_SHELL_UNIXSRV_H
#define SC_SHELL_UNIXSRV_H

#include <ev.h>
#include <stddef.h>
#include <sys/types.h>

#include "conn.h"
#include "log.h"

typedef struct sc_unixsrv sc_unixsrv;

/* Takes the accepted connection |fd| (the callee owns it). The owner of
 * |srv| finds itself with sc_struct_of. */
typedef void (*sc_unixsrv_accept_fn)(sc_unixsrv *srv, int fd);

struct sc_unixsrv {
  struct ev_loop *loop;
  const sc_logger *log;
  sc_unixsrv_accept_fn on_accept;
  const char *what; /* "stats socket": names it in log lines */
  int fd;           /* -1 while closed */
  char *path;
  dev_t dev; /* identity of the socket file we bound, so that we never */
  ino_t ino; /* remove one another daemon created after us */
  sc_acceptor acceptor;
};

/* sc_unixsrv_open creates the directory of |path| if missing (0700),
 * removes a stale socket file there (only if connecting to it is
 * refused), binds and listens (file mode 0600) and starts accepting on
 * |loop|, handing each connection to |on_accept|. |origin| names the
 * setting in messages ("--stats-socket"); |what| (a static string) names
 * the socket in log lines; |log| must outlive |u|. Returns 0, or -1 with
 * one line in |err|: the path is too long or is not a socket, another
 * daemon answers on it, or a syscall failed. |u| is then closed. */
int sc_unixsrv_open(sc_unixsrv *u, struct ev_loop *loop, const char *path,
                    const char *origin, const char *what,
                    sc_unixsrv_accept_fn on_accept, const sc_logger *log,
                    char *err, size_t errlen);

/* sc_unixsrv_close stops accepting, closes the socket and removes its file
 * if it is still the one |u| created. Safe on a closed |u| (fd -1). */
void sc_unixsrv_close(sc_unixsrv *u);

#endif /* SC_SHELL_UNIXSRV_H */
