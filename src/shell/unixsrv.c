/*
 * unixsrv.c: the listening Unix socket of the stats and API sockets.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "unixsrv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "sc_macro.h"
#include "stratocast.h"

static void accepted(sc_acceptor *a, int fd) {
  sc_unixsrv *u = sc_struct_of(a, sc_unixsrv, acceptor);
  u->on_accept(u, fd);
}

static void accept_paused(sc_acceptor *a, int err) {
  sc_unixsrv *u = sc_struct_of(a, sc_unixsrv, acceptor);
  sc_logger_log(u->log, SC_LOG_WARN, "%s: accept: %s", u->what, strerror(err));
}

/* Creates the socket's directory if it is missing. */
static int ensure_parent(const char *path, const char *origin, char *err,
                         size_t errlen) {
  char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
  char what[128];
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path) {
    return 0; /* the current directory or "/" */
  }
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  snprintf(what, sizeof(what), "%s directory", origin);
  return sc_config_mkdir_private(dir, what, err, errlen);
}

/* Removes a socket file left by a daemon that is gone; refuses to touch a
 * live one or anything that is not a socket. */
static int clear_stale(const struct sockaddr_un *sun, const char *origin,
                       char *err, size_t errlen) {
  struct stat st;
  int fd, rc, e;
  if (lstat(sun->sun_path, &st) != 0) {
    e = errno;
    if (e == ENOENT) {
      return 0;
    }
    snprintf(err, errlen, "%s %s: %s", origin, sun->sun_path, strerror(e));
    return -1;
  }
  if (!S_ISSOCK(st.st_mode)) {
    snprintf(err, errlen, "%s %s: exists and is not a socket", origin,
             sun->sun_path);
    return -1;
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    e = errno;
    snprintf(err, errlen, "%s: socket: %s", origin, strerror(e));
    return -1;
  }
  rc = connect(fd, (const struct sockaddr *)(const void *)sun, sizeof(*sun));
  e = rc != 0 ? errno : 0;
  close(fd);
  if (rc == 0) {
    snprintf(err, errlen,
             "%s %s: another stratocastd is answering on this socket", origin,
             sun->sun_path);
    return -1;
  }
  if (e == ECONNREFUSED) {
    if (unlink(sun->sun_path) != 0) {
      e = errno;
      if (e != ENOENT) {
        snprintf(err, errlen, "%s %s: cannot remove stale socket: %s", origin,
                 sun->sun_path, strerror(e));
        return -1;
      }
    }
    return 0;
  }
  if (e == ENOENT) {
    return 0;
  }
  snprintf(err, errlen, "%s %s: cannot check existing socket: %s", origin,
           sun->sun_path, strerror(e));
  return -1;
}

/* Binds and listens; the socket file is 0600 from its first moment. */
static int bind_listen(sc_unixsrv *s, const struct sockaddr_un *sun,
                       const char *origin, char *err, size_t errlen) {
  struct stat st;
  mode_t old;
  int rc, e;
  s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    e = errno;
    snprintf(err, errlen, "%s: socket: %s", origin, strerror(e));
    return -1;
  }
  old = umask(077);
  rc = bind(s->fd, (const struct sockaddr *)(const void *)sun, sizeof(*sun));
  e = rc != 0 ? errno : 0;
  umask(old);
  if (rc != 0) {
    snprintf(err, errlen, "%s %s: cannot bind: %s", origin, sun->sun_path,
             strerror(e));
    return -1;
  }
  if (chmod(sun->sun_path, 0600) != 0 || lstat(sun->sun_path, &st) != 0 ||
      listen(s->fd, 64) != 0) {
    e = errno;
    snprintf(err, errlen, "%s %s: %s", origin, sun->sun_path, strerror(e));
    unlink(sun->sun_path);
    return -1;
  }
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  return 0;
}

int sc_unixsrv_open(sc_unixsrv *u, struct ev_loop *loop, const char *path,
                    const char *origin, const char *what,
                    sc_unixsrv_accept_fn on_accept, const sc_logger *log,
                    char *err, size_t errlen) {
  struct sockaddr_un sun;
  memset(u, 0, sizeof(*u));
  u->fd = -1;
  u->loop = loop;
  u->log = log;
  u->what = what;
  u->on_accept = on_accept;
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(sun.sun_path)) {
    snprintf(err, errlen, "%s %s: path too long (at most %zu bytes)", origin,
             path, sizeof(sun.sun_path) - 1);
    return -1;
  }
  memcpy(sun.sun_path, path, strlen(path) + 1);
  u->path = malloc(strlen(path) + 1);
  if (u->path == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memcpy(u->path, path, strlen(path) + 1);
  if (ensure_parent(path, origin, err, errlen) != 0 ||
      clear_stale(&sun, origin, err, errlen) != 0 ||
      bind_listen(u, &sun, origin, err, errlen) != 0) {
    sc_unixsrv_close(u);
    return -1;
  }
  sc_acceptor_start(&u->acceptor, loop, u->fd, accepted, accept_paused);
  return 0;
}

void sc_unixsrv_close(sc_unixsrv *u) {
  struct stat st;
  if (u->fd >= 0) {
    sc_acceptor_stop(&u->acceptor);
    close(u->fd);
    /* Only our own file: a second daemon may have replaced a socket it
     * found unanswered. */
    if (u->path != NULL && lstat(u->path, &st) == 0 && st.st_dev == u->dev &&
        st.st_ino == u->ino) {
      unlink(u->path);
    }
  }
  u->fd = -1;
  free(u->path);
  u->path = NULL;
}
