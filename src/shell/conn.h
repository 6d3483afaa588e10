/*
 * conn.h: the connections of the daemon's stream servers (the stats and
 * API sockets, the Prometheus endpoint, the HTTP sink): accepting them on
 * a listening socket, and keeping each in its server's list with its
 * descriptor and its read and write watchers.
 *
 * A server embeds an sc_acceptor for its listener and an sc_conns for its
 * clients; each client embeds an sc_conn and finds itself from a watcher
 * with sc_struct_of(w, type, conn.rd). What a client holds beyond that
 * (buffers, timers, state) stays the server's.
 */
#ifndef SC_SHELL_CONN_H
#define SC_SHELL_CONN_H

#include <ev.h>
#include <stddef.h>
#include <sys/types.h>

#define SC_ACCEPT_RETRY 1.0 /* seconds of pause after EMFILE and co. */

typedef struct sc_acceptor sc_acceptor;

/* Takes the accepted connection |fd| (the callee owns it). */
typedef void (*sc_acceptor_fn)(sc_acceptor *a, int fd);

/* Told that accepting failed with |err| (out of descriptors or memory)
 * and pauses for SC_ACCEPT_RETRY. */
typedef void (*sc_acceptor_pause_fn)(sc_acceptor *a, int err);

struct sc_acceptor {
  struct ev_loop *loop; /* NULL until started */
  int fd;               /* the listening socket; not owned */
  sc_acceptor_fn on_accept;
  sc_acceptor_pause_fn on_pause; /* optional */
  ev_io io;
  ev_timer retry;
};

/* sc_acceptor_start accepts on the listening socket |fd| (non-blocking)
 * whenever it is readable, handing each connection, non-blocking and
 * close-on-exec, to |on_accept|. When accept fails for lack of
 * descriptors or memory it calls |on_pause| (may be NULL) and pauses for
 * SC_ACCEPT_RETRY seconds instead of spinning on a listener that stays
 * readable. */
void sc_acceptor_start(sc_acceptor *a, struct ev_loop *loop, int fd,
                       sc_acceptor_fn on_accept, sc_acceptor_pause_fn on_pause);

/* sc_acceptor_stop stops accepting; the listener stays open. Safe on an
 * acceptor that was zeroed and never started. */
void sc_acceptor_stop(sc_acceptor *a);

typedef struct sc_conn sc_conn;
typedef void (*sc_conn_io_fn)(struct ev_loop *loop, ev_io *w, int revents);

/* A server's clients, doubly linked. */
typedef struct sc_conns {
  struct ev_loop *loop;
  sc_conn *head;
  size_t n;
} sc_conns;

struct sc_conn {
  sc_conns *set;
  sc_conn *prev, *next;
  int fd;
  ev_io rd, wr;
};

/* sc_conns_init makes |s| an empty list on |loop|. */
void sc_conns_init(sc_conns *s, struct ev_loop *loop);

/* sc_conn_add links |c| into |s| as the connection |fd| (which it then
 * owns), with |on_read| and |on_write| as its watchers' callbacks, and
 * starts reading. */
void sc_conn_add(sc_conns *s, sc_conn *c, int fd, sc_conn_io_fn on_read,
                 sc_conn_io_fn on_write);

/* sc_conn_remove stops both watchers, closes the descriptor and unlinks
 * |c|; the caller frees what holds it. */
void sc_conn_remove(sc_conn *c);

/* sc_conn_send sends from |data| (|len| bytes) what the socket takes,
 * going on after EINTR. It watches for writability while some is left and
 * stops watching once all went. Returns the bytes sent, or -1 with errno
 * set when the connection failed (the caller closes it). */
ssize_t sc_conn_send(sc_conn *c, const void *data, size_t len);

/* What sc_conn_read_head found. */
enum sc_conn_read {
  SC_CONN_HEAD,   /* more of the request head arrived */
  SC_CONN_WAIT,   /* nothing more for now */
  SC_CONN_END,    /* the client closed its side */
  SC_CONN_FAILED, /* a read error; errno tells which */
};

/* sc_conn_read_head reads what a client of a one-request server sent:
 * while |head| is wanted (|want|), into |head| after its |*len| bytes (at
 * most |cap| in all), returning SC_CONN_HEAD as soon as some arrived;
 * after that, into a scratch buffer that is thrown away. It reads at most
 * 8 times, so that one chatty client cannot starve the others. Returns an
 * enum sc_conn_read. */
int sc_conn_read_head(sc_conn *c, int want, char *head, size_t *len,
                      size_t cap);

/* sc_conn_refuse sends |msg| (|len| bytes) on the new connection |fd| as
 * best it can (its buffer is empty, so it usually fits) and closes it. */
void sc_conn_refuse(int fd, const char *msg, size_t len);

#endif /* SC_SHELL_CONN_H */
