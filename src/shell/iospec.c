/*
 * iospec.c: parsing source and sink specs.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "iospec.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "udp.h"

#define UDP_PREFIX "udp://"
#define HTTP_PREFIX "http://"
#define FILE_PREFIX "file:"

static int has_prefix(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static unsigned port_of(const sc_iospec *spec) {
  if (spec->addr.ss_family == AF_INET) {
    return ntohs(
        ((const struct sockaddr_in *)(const void *)&spec->addr)->sin_port);
  }
  return ntohs(
      ((const struct sockaddr_in6 *)(const void *)&spec->addr)->sin6_port);
}

/* Parses the numeric "ADDR:PORT" |hp| of a URL into |out|. */
static int parse_hostport(sc_iospec *out, const char *hp, const char *scheme,
                          char *err, size_t errlen) {
  char inner[200];
  if (strchr(hp, '?') != NULL) {
    snprintf(err, errlen, "%s options ('?...') are not supported", scheme);
    return -1;
  }
  if (sc_udp_parse_listen(hp, &out->addr, &out->addrlen, inner,
                          sizeof(inner)) != 0) {
    snprintf(err, errlen, "%s", inner);
    return -1;
  }
  return 0;
}

int sc_iospec_parse_source(sc_iospec *out, const char *s, char *err,
                           size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (strcmp(s, "-") == 0) {
    out->kind = SC_IOSPEC_STDIO;
    return 0;
  }
  if (has_prefix(s, FILE_PREFIX)) {
    out->kind = SC_IOSPEC_FILE;
    out->path = s + strlen(FILE_PREFIX);
    if (out->path[0] == '\0') {
      snprintf(err, errlen, "missing path after 'file:'");
      return -1;
    }
    return 0;
  }
  if (has_prefix(s, UDP_PREFIX)) {
    out->kind = SC_IOSPEC_UDP;
    return parse_hostport(out, s + strlen(UDP_PREFIX), "udp://", err, errlen);
  }
  snprintf(err, errlen,
           "unknown source (want -, udp://ADDR:PORT or file:PATH)");
  return -1;
}

int sc_iospec_parse_sink(sc_iospec *out, const char *s, char *err,
                         size_t errlen) {
  char hp[200];
  size_t n;
  memset(out, 0, sizeof(*out));
  if (strcmp(s, "-") == 0) {
    out->kind = SC_IOSPEC_STDIO;
    return 0;
  }
  if (has_prefix(s, UDP_PREFIX)) {
    out->kind = SC_IOSPEC_UDP;
    if (parse_hostport(out, s + strlen(UDP_PREFIX), "udp://", err, errlen) !=
        0) {
      return -1;
    }
    if (port_of(out) == 0) {
      snprintf(err, errlen, "invalid port (must be 1-65535)");
      return -1;
    }
    return 0;
  }
  if (has_prefix(s, HTTP_PREFIX)) {
    const char *hostport = s + strlen(HTTP_PREFIX);
    out->kind = SC_IOSPEC_HTTP;
    /* Every path is served, so only "/" (or nothing) may follow. */
    n = strcspn(hostport, "/");
    if (hostport[n] == '/' && hostport[n + 1] != '\0') {
      snprintf(err, errlen,
               "no path may follow the port (want "
               "http://ADDR:PORT/)");
      return -1;
    }
    if (n >= sizeof(hp)) {
      snprintf(err, errlen, "address too long");
      return -1;
    }
    memcpy(hp, hostport, n);
    hp[n] = '\0';
    return parse_hostport(out, hp, "http://", err, errlen);
  }
  snprintf(err, errlen,
           "unknown sink (want -, udp://ADDR:PORT or http://ADDR:PORT/)");
  return -1;
}

int sc_iospec_stdio_open(sc_iospec_stdio *io, int fd, int accmode, char *err,
                         size_t errlen) {
  char path[32];
  int flags, e;
  io->fd = -1;
  io->own = 0;
  io->saved_flags = -1;
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  io->fd = open(path, accmode | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (io->fd >= 0) {
    io->own = 1;
    return 0;
  }
  flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    e = errno;
    snprintf(err, errlen, "%s: %s", fd == STDIN_FILENO ? "stdin" : "stdout",
             strerror(e));
    return -1;
  }
  io->fd = fd;
  io->saved_flags = flags;
  return 0;
}

void sc_iospec_stdio_close(sc_iospec_stdio *io) {
  if (io->own && io->fd >= 0) {
    close(io->fd);
  } else if (io->saved_flags >= 0) {
    (void)fcntl(io->fd, F_SETFL, io->saved_flags);
  }
  io->fd = -1;
  io->own = 0;
  io->saved_flags = -1;
}
