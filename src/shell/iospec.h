/*
 * iospec.h: the syntax of a stream's source (--source) and sink (--sink).
 *
 *   source: "-" (stdin), "udp://ADDR:PORT" (bind there and receive),
 *           "file:PATH" (a file read at its real-time rate)
 *   sink:   "-" (stdout), "udp://ADDR:PORT" (send datagrams there),
 *           "http://ADDR:PORT/" (listen and serve every GET)
 * ADDR is numeric: 192.0.2.1, or an IPv6 address in brackets ([::1]).
 * Parsing does no I/O; config.c uses it to check the options early and
 * source.c and sink.c to open them, so the three agree. The "-" ends are
 * opened here too, since both modules need them non-blocking.
 */
#ifndef SC_SHELL_IOSPEC_H
#define SC_SHELL_IOSPEC_H

#include <stddef.h>
#include <sys/socket.h>

enum sc_iospec_kind {
  SC_IOSPEC_STDIO = 0, /* "-": stdin for a source, stdout for a sink */
  SC_IOSPEC_UDP = 1,
  SC_IOSPEC_FILE = 2, /* sources only */
  SC_IOSPEC_HTTP = 3, /* sinks only */
};

typedef struct sc_iospec {
  int kind;                     /* enum sc_iospec_kind */
  struct sockaddr_storage addr; /* UDP and HTTP */
  socklen_t addrlen;
  const char *path; /* FILE: points into the parsed string */
} sc_iospec;

/* sc_iospec_parse_source parses the source |s| into |out| (port 0, any
 * free port, is allowed). Returns 0, or -1 with the problem in |err| of
 * |errlen| bytes (without |s| itself, which the caller names). */
int sc_iospec_parse_source(sc_iospec *out, const char *s, char *err,
                           size_t errlen);

/* sc_iospec_parse_sink parses the sink |s| into |out|; a UDP destination
 * needs a port, an HTTP listener may take port 0. Returns 0, or -1 with
 * the problem in |err|. */
int sc_iospec_parse_sink(sc_iospec *out, const char *s, char *err,
                         size_t errlen);

/* The "-" end of a spec, non-blocking: stdin or stdout. */
typedef struct sc_iospec_stdio {
  int fd;          /* the descriptor to use */
  int own;         /* |fd| was opened here and is closed by _stdio_close */
  int saved_flags; /* >= 0: the flags to restore on |fd| at close */
} sc_iospec_stdio;

/* sc_iospec_stdio_open gives a non-blocking descriptor for |fd| (0 or 1),
 * |accmode| O_RDONLY or O_WRONLY. It reopens the pipe or terminal through
 * /proc/self/fd, so that O_NONBLOCK does not leak into the descriptions
 * the shell and stderr share with us; where that fails (a socket) it sets
 * O_NONBLOCK on |fd| itself and remembers the flags to restore. Returns 0,
 * or -1 with the problem in |err|. */
int sc_iospec_stdio_open(sc_iospec_stdio *io, int fd, int accmode, char *err,
                         size_t errlen);

/* sc_iospec_stdio_close undoes sc_iospec_stdio_open. */
void sc_iospec_stdio_close(sc_iospec_stdio *io);

#endif /* SC_SHELL_IOSPEC_H */
