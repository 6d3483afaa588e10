/*
 * udp.c: UDP socket, address conversion, recvmmsg and a sendmmsg queue.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* recvmmsg and sendmmsg make this Linux-only, where the two are one. */
_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN and EWOULDBLOCK differ");

/* ---- addresses ---------------------------------------------------------- */

/* Splits "HOST:PORT" or "[HOST]:PORT" into |host| and |*port|. Returns 0, or
 * -1 with the problem in |err|. |*bracketed| tells whether [] were used. */
static int split_hostport(const char *s, char *host, size_t hostlen,
                          unsigned long *port, int *bracketed, char *err,
                          size_t errlen) {
  const char *colon, *hend, *p;
  unsigned long v = 0;
  *bracketed = s[0] == '[';
  if (*bracketed) {
    hend = strchr(s, ']');
    if (hend == NULL) {
      snprintf(err, errlen, "missing ']' after the IPv6 address");
      return -1;
    }
    colon = hend + 1;
    s++;
    if (*colon != ':') {
      snprintf(err, errlen, "missing port (use [ADDR]:PORT)");
      return -1;
    }
  } else {
    colon = strrchr(s, ':');
    if (colon == NULL) {
      snprintf(err, errlen, "missing port (use ADDR:PORT)");
      return -1;
    }
    if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
      snprintf(err, errlen, "IPv6 addresses need brackets ([::1]:4433)");
      return -1;
    }
    hend = colon;
  }
  if (hend == s || (size_t)(hend - s) >= hostlen) {
    snprintf(err, errlen, hend == s ? "missing address" : "address too long");
    return -1;
  }
  memcpy(host, s, (size_t)(hend - s));
  host[hend - s] = '\0';
  for (p = colon + 1; *p >= '0' && *p <= '9' && v <= 65535; p++) {
    v = v * 10 + (unsigned long)(*p - '0');
  }
  if (p == colon + 1 || *p != '\0' || v > 65535) {
    snprintf(err, errlen, "invalid port");
    return -1;
  }
  *port = v;
  return 0;
}

/* Fills |ss| from a numeric |host|; IPv4-mapped IPv6 becomes IPv4. Returns 0
 * or -1 if |host| is not numeric in the form |bracketed| asks for. */
static int numeric_sockaddr(const char *host, int bracketed, uint16_t port,
                            struct sockaddr_storage *ss, socklen_t *sslen) {
  struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
  memset(ss, 0, sizeof(*ss));
  if (!bracketed && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    *sslen = sizeof(*sin);
    return 0;
  }
  if (!bracketed || inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
    return -1;
  }
  if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
    struct in_addr v4;
    memcpy(&v4, &sin6->sin6_addr.s6_addr[12], 4);
    memset(ss, 0, sizeof(*ss));
    sin->sin_family = AF_INET;
    sin->sin_addr = v4;
    sin->sin_port = htons(port);
    *sslen = sizeof(*sin);
    return 0;
  }
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  *sslen = sizeof(*sin6);
  return 0;
}

int sc_udp_parse_listen(const char *s, struct sockaddr_storage *ss,
                        socklen_t *sslen, char *err, size_t errlen) {
  char host[INET6_ADDRSTRLEN + 8];
  unsigned long port;
  int bracketed;
  if (split_hostport(s, host, sizeof(host), &port, &bracketed, err, errlen) !=
      0) {
    return -1;
  }
  if (numeric_sockaddr(host, bracketed, (uint16_t)port, ss, sslen) != 0) {
    snprintf(err, errlen,
             "invalid address '%s' (use a numeric IPv4 address or an IPv6 "
             "address in brackets)",
             host);
    return -1;
  }
  return 0;
}

int sc_udp_addr_from_sockaddr(const struct sockaddr *sa, sc_addr *out) {
  memset(out, 0, sizeof(*out));
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *sin =
        (const struct sockaddr_in *)(const void *)sa;
    out->family = SC_AF_INET;
    memcpy(out->ip, &sin->sin_addr, 4);
    out->port = ntohs(sin->sin_port);
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 =
        (const struct sockaddr_in6 *)(const void *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      out->family = SC_AF_INET;
      memcpy(out->ip, &sin6->sin6_addr.s6_addr[12], 4);
    } else {
      out->family = SC_AF_INET6;
      memcpy(out->ip, &sin6->sin6_addr, 16);
    }
    out->port = ntohs(sin6->sin6_port);
    return 0;
  }
  return -1;
}

/* Converts |a| into a destination for this socket; -1 if unreachable from
 * it (IPv6 on an IPv4 socket, IPv4 on an IPv6-only socket). */
static int addr_to_sockaddr(const sc_udp *u, const sc_addr *a,
                            struct sockaddr_storage *ss, socklen_t *sslen) {
  memset(ss, 0, sizeof(*ss));
  if (u->family == AF_INET && a->family == SC_AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, a->ip, 4);
    sin->sin_port = htons(a->port);
    *sslen = sizeof(*sin);
    return 0;
  }
  if (u->family == AF_INET6 &&
      (a->family == SC_AF_INET6 || (a->family == SC_AF_INET && u->dualstack))) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
    sin6->sin6_family = AF_INET6;
    if (a->family == SC_AF_INET) {
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&sin6->sin6_addr.s6_addr[12], a->ip, 4);
    } else {
      memcpy(&sin6->sin6_addr, a->ip, 16);
    }
    sin6->sin6_port = htons(a->port);
    *sslen = sizeof(*sin6);
    return 0;
  }
  return -1;
}

/* Looks |host| up and stores the first address this socket can reach. */
static int resolve_name(const sc_udp *u, const char *host, uint16_t port,
                        sc_addr *out, char *err, size_t errlen) {
  struct addrinfo hints, *res = NULL, *ai;
  struct sockaddr_storage ss;
  socklen_t sslen;
  int rc;
  memset(&hints, 0, sizeof(hints));
  if (u->family == AF_INET) {
    hints.ai_family = AF_INET;
  } else {
    hints.ai_family = u->dualstack ? AF_UNSPEC : AF_INET6;
  }
  hints.ai_socktype = SOCK_DGRAM;
  rc = getaddrinfo(host, NULL, &hints, &res);
  if (rc != 0) {
    snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
    return -1;
  }
  rc = -1;
  for (ai = res; ai != NULL && rc != 0; ai = ai->ai_next) {
    if (sc_udp_addr_from_sockaddr(ai->ai_addr, out) == 0) {
      out->port = port;
      rc = addr_to_sockaddr(u, out, &ss, &sslen);
    }
  }
  freeaddrinfo(res);
  if (rc != 0) {
    snprintf(err, errlen,
             "'%s' has no address reachable from the listen "
             "socket's address family",
             host);
  }
  return rc;
}

int sc_udp_resolve(const sc_udp *u, const char *s, sc_addr *out, char *err,
                   size_t errlen) {
  char host[256];
  unsigned long port;
  int bracketed;
  struct sockaddr_storage ss;
  socklen_t sslen;
  if (split_hostport(s, host, sizeof(host), &port, &bracketed, err, errlen) !=
      0) {
    return -1;
  }
  if (port == 0) {
    snprintf(err, errlen, "invalid port (must be 1-65535)");
    return -1;
  }
  if (numeric_sockaddr(host, bracketed, (uint16_t)port, &ss, &sslen) != 0) {
    if (bracketed) {
      snprintf(err, errlen, "invalid IPv6 address '%s'", host);
      return -1;
    }
    return resolve_name(u, host, (uint16_t)port, out, err, errlen);
  }
  sc_udp_addr_from_sockaddr((const struct sockaddr *)(const void *)&ss, out);
  if (addr_to_sockaddr(u, out, &ss, &sslen) != 0) {
    snprintf(err, errlen, "address family does not match --listen");
    return -1;
  }
  return 0;
}

/* ---- the socket --------------------------------------------------------- */

int sc_udp_open(sc_udp *u, const struct sockaddr *sa, socklen_t salen,
                char *err, size_t errlen) {
  struct sockaddr_storage bound;
  socklen_t blen = sizeof(bound);
  int e, off = 0;
  memset(u, 0, sizeof(*u));
  memset(&bound, 0, sizeof(bound));
  u->family = sa->sa_family;
  u->fd = socket(u->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (u->fd < 0) {
    e = errno;
    snprintf(err, errlen, "cannot create UDP socket: %s", strerror(e));
    return -1;
  }
  if (u->family == AF_INET6 &&
      IN6_IS_ADDR_UNSPECIFIED(
          &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) {
    /* One socket for both families; IPv4 peers arrive as ::ffff:a.b.c.d. */
    if (setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0) {
      u->dualstack = 1;
    }
  }
  if (bind(u->fd, sa, salen) != 0) {
    e = errno;
    snprintf(err, errlen, "cannot bind: %s", strerror(e));
    goto fail;
  }
  if (getsockname(u->fd, (struct sockaddr *)(void *)&bound, &blen) != 0) {
    e = errno;
    snprintf(err, errlen, "getsockname: %s", strerror(e));
    goto fail;
  }
  sc_udp_addr_from_sockaddr((struct sockaddr *)(void *)&bound, &u->local);
  u->queue = calloc(SC_UDP_QUEUE_CAP, sizeof(*u->queue));
  u->rxbuf = calloc(SC_UDP_BATCH, sizeof(*u->rxbuf));
  if (u->queue == NULL || u->rxbuf == NULL) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  return 0;
fail:
  sc_udp_close(u);
  return -1;
}

void sc_udp_close(sc_udp *u) {
  if (u->fd >= 0) {
    close(u->fd);
  }
  u->fd = -1;
  free(u->queue);
  free(u->rxbuf);
  u->queue = NULL;
  u->rxbuf = NULL;
  u->qhead = 0;
  u->qlen = 0;
}

/* ---- sending ------------------------------------------------------------ */

int sc_udp_enqueue(sc_udp *u, const sc_addr *to, const uint8_t *data,
                   size_t len) {
  sc_udp_slot *slot;
  struct sockaddr_storage ss;
  socklen_t sslen;
  if (len > SC_UDP_MAX_DATAGRAM || addr_to_sockaddr(u, to, &ss, &sslen) != 0) {
    return SC_ERR_INVALID_ARG;
  }
  if (u->qlen == SC_UDP_QUEUE_CAP) {
    /* Newer datagrams carry fresher state (acks, live fragments). */
    u->qhead = (u->qhead + 1) % SC_UDP_QUEUE_CAP;
    u->qlen--;
    u->counters.send_queue_dropped++;
  }
  slot = &u->queue[(u->qhead + u->qlen) % SC_UDP_QUEUE_CAP];
  slot->to = ss;
  slot->tolen = sslen;
  slot->len = len;
  memcpy(slot->data, data, len);
  u->qlen++;
  return 0;
}

size_t sc_udp_pending(const sc_udp *u) { return u->qlen; }

/* Drops |n| datagrams from the head of the queue. */
static void queue_pop(sc_udp *u, size_t n) {
  u->qhead = (u->qhead + n) % SC_UDP_QUEUE_CAP;
  u->qlen -= n;
}

int sc_udp_flush(sc_udp *u, int *last_err) {
  struct mmsghdr msgs[SC_UDP_BATCH];
  struct iovec iov[SC_UDP_BATCH];
  *last_err = 0;
  while (u->qlen > 0) {
    unsigned i, n = (unsigned)(u->qlen < SC_UDP_BATCH ? u->qlen : SC_UDP_BATCH);
    int sent, e;
    memset(msgs, 0, sizeof(msgs[0]) * n);
    for (i = 0; i < n; i++) {
      sc_udp_slot *slot = &u->queue[(u->qhead + i) % SC_UDP_QUEUE_CAP];
      iov[i].iov_base = slot->data;
      iov[i].iov_len = slot->len;
      msgs[i].msg_hdr.msg_name = &slot->to;
      msgs[i].msg_hdr.msg_namelen = slot->tolen;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    sent = sendmmsg(u->fd, msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) {
      /* A short count means the next datagram failed; the next call
       * reports why. */
      queue_pop(u, (size_t)sent);
      u->counters.datagrams_sent += (uint64_t)sent;
      continue;
    }
    e = errno;
    if (e == EINTR) {
      continue;
    }
    if (e == EAGAIN) {
      return SC_UDP_BLOCKED;
    }
    /* The head datagram is unsendable (no route, too big, filtered). */
    queue_pop(u, 1);
    u->counters.send_errors++;
    *last_err = e;
  }
  return SC_UDP_FLUSHED;
}

/* ---- receiving ---------------------------------------------------------- */

int sc_udp_recv(sc_udp *u, sc_udp_rx out[SC_UDP_BATCH], int *err) {
  struct mmsghdr msgs[SC_UDP_BATCH];
  struct iovec iov[SC_UDP_BATCH];
  struct sockaddr_storage from[SC_UDP_BATCH];
  int i, n, got = 0, e;
  memset(msgs, 0, sizeof(msgs));
  for (i = 0; i < SC_UDP_BATCH; i++) {
    iov[i].iov_base = u->rxbuf[i];
    iov[i].iov_len = SC_UDP_RX_BUFLEN;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  do {
    n = recvmmsg(u->fd, msgs, SC_UDP_BATCH, MSG_DONTWAIT, NULL);
    e = n < 0 ? errno : 0;
  } while (n < 0 && e == EINTR);
  if (n < 0) {
    if (e == EAGAIN) {
      return 0;
    }
    u->counters.recv_errors++;
    *err = e;
    return -1;
  }
  for (i = 0; i < n; i++) {
    if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
      u->counters.recv_truncated++;
    }
    if (sc_udp_addr_from_sockaddr((struct sockaddr *)(void *)&from[i],
                                  &out[got].from) != 0) {
      continue;
    }
    out[got].data = u->rxbuf[i];
    out[got].len =
        msgs[i].msg_len < SC_UDP_RX_BUFLEN ? msgs[i].msg_len : SC_UDP_RX_BUFLEN;
    got++;
  }
  u->counters.datagrams_received += (uint64_t)n;
  return got;
}
