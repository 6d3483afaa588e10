/*
 * stratoctl.h: what stratoctl.c and its `top` command (stratoctl_top.c)
 * share.
 */
#ifndef STRATOCTL_H
#define STRATOCTL_H

#include <stddef.h>

/* ctl_usage_error prints "stratoctl: |what| |arg| (see --help)" on stderr
 * (|arg| may be NULL) and returns 2, the usage error status. */
int ctl_usage_error(const char *what, const char *arg);

/* ctl_connect connects a stream socket to the Unix socket at |path|.
 * Returns the descriptor (close-on-exec, blocking), or -1 after printing
 * why on stderr. */
int ctl_connect(const char *path);

/* ctl_send_all writes the |len| bytes of |buf| to |fd|, retrying on EINTR,
 * without SIGPIPE. Returns 0, or -1 after printing the error on stderr. */
int ctl_send_all(int fd, const char *buf, size_t len);

/* ctl_top runs `stratoctl top` with the words |argv[i..argc)| after
 * "top": a live view of the node whose stats socket is |path| (its -s
 * overrides it), one frame a second, until interrupted or -n frames.
 * Returns the exit status: 0, 1 (daemon unreachable or an unexpected
 * answer, printed) or 2 (usage error, printed). */
int ctl_top(const char *path, int argc, char **argv, int i);

#endif /* STRATOCTL_H */
