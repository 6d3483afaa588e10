/*
 * udp.h: the daemon's UDP socket: addresses, batched receive and a bounded
 * send queue flushed with sendmmsg.
 *
 * This module does socket calls only; the daemon decides when to call them
 * (libev watchers). Addresses cross into the core as sc_addr: on a
 * dual-stack IPv6 socket, IPv4-mapped addresses (::ffff:a.b.c.d) become
 * SC_AF_INET on the way in and are mapped back on the way out, so the core
 * sees one form of every peer address.
 */
#ifndef SC_SHELL_UDP_H
#define SC_SHELL_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stratocast.h"

#define SC_UDP_BATCH 32          /* datagrams per recvmmsg/sendmmsg */
#define SC_UDP_RX_BUFLEN 2048    /* receive buffer per datagram */
#define SC_UDP_MAX_DATAGRAM 1500 /* largest datagram the queue accepts */
#define SC_UDP_QUEUE_CAP 1024    /* datagrams waiting for the socket */

/* Counters of what the shell itself saw; the core counts the rest. */
typedef struct sc_udp_counters {
  uint64_t datagrams_sent;     /* accepted by sendmmsg */
  uint64_t datagrams_received; /* returned by recvmmsg */
  uint64_t send_errors;        /* refused by sendmmsg */
  uint64_t send_queue_dropped; /* oldest dropped because the queue was full */
  uint64_t recv_errors;        /* recvmmsg failures other than EAGAIN */
  uint64_t recv_truncated;     /* datagrams longer than SC_UDP_RX_BUFLEN */
} sc_udp_counters;

/* One queued outgoing datagram. */
typedef struct sc_udp_slot {
  struct sockaddr_storage to;
  socklen_t tolen;
  size_t len;
  uint8_t data[SC_UDP_MAX_DATAGRAM];
} sc_udp_slot;

/* One received datagram; |data| points into the socket's receive buffers
 * and stays valid until the next sc_udp_recv. */
typedef struct sc_udp_rx {
  const uint8_t *data;
  size_t len;
  sc_addr from;
} sc_udp_rx;

typedef struct sc_udp {
  int fd;
  int family;         /* AF_INET or AF_INET6 */
  int dualstack;      /* IPv6 wildcard with IPV6_V6ONLY cleared */
  sc_addr local;      /* bound address, with the real port */
  sc_udp_slot *queue; /* ring of SC_UDP_QUEUE_CAP slots */
  size_t qhead;
  size_t qlen;
  uint8_t (*rxbuf)[SC_UDP_RX_BUFLEN]; /* SC_UDP_BATCH buffers */
  sc_udp_counters counters;
} sc_udp;

/* sc_udp_parse_listen parses a numeric "1.2.3.4:5" or "[v6]:5" (port 0 =
 * any) into |ss| and |*sslen|; an IPv4-mapped IPv6 address becomes IPv4.
 * Returns 0, or -1 with the problem (e.g. "invalid port") in |err|. */
int sc_udp_parse_listen(const char *s, struct sockaddr_storage *ss,
                        socklen_t *sslen, char *err, size_t errlen);

/* sc_udp_resolve turns "HOST:PORT" (numeric IPv4, "[IPv6]" or a name looked
 * up with getaddrinfo, numeric forms first) into |out|, choosing an address
 * |u| can send to. Port 0 is refused. Blocks while a name is resolved.
 * Returns 0, or -1 with the problem in |err|. */
int sc_udp_resolve(const sc_udp *u, const char *s, sc_addr *out, char *err,
                   size_t errlen);

/* sc_udp_addr_from_sockaddr converts |sa| into |out| (IPv4-mapped IPv6 to
 * SC_AF_INET). Returns 0, or -1 for another family. */
int sc_udp_addr_from_sockaddr(const struct sockaddr *sa, sc_addr *out);

/* sc_udp_open creates a non-blocking UDP socket bound to |sa| and the send
 * queue. Returns 0, or -1 with the problem in |err| ("cannot bind: Address
 * already in use"); then |u| holds nothing to close. */
int sc_udp_open(sc_udp *u, const struct sockaddr *sa, socklen_t salen,
                char *err, size_t errlen);

/* sc_udp_close closes the socket and frees the queue. Safe to call twice. */
void sc_udp_close(sc_udp *u);

/* sc_udp_enqueue copies the datagram |data| of |len| bytes for |to| into the
 * send queue; when the queue is full the oldest waiting datagram is dropped
 * and counted. Returns 0, or SC_ERR_INVALID_ARG when |len| exceeds
 * SC_UDP_MAX_DATAGRAM or |to| cannot be reached from this socket's family
 * (not counted here: the core counts refused sends). */
int sc_udp_enqueue(sc_udp *u, const sc_addr *to, const uint8_t *data,
                   size_t len);

/* sc_udp_pending returns the number of queued datagrams. */
size_t sc_udp_pending(const sc_udp *u);

enum sc_udp_flush_result {
  SC_UDP_FLUSHED = 0, /* the queue is empty */
  SC_UDP_BLOCKED = 1, /* the socket would block; wait until writable */
};

/* sc_udp_flush sends queued datagrams with sendmmsg, SC_UDP_BATCH at a time,
 * until the queue is empty or the socket would block. A datagram the
 * kernel refuses for another reason is dropped and counted; the errno of
 * the last such failure is stored in |*last_err| (0 if none) so the caller
 * can log it. Returns an enum sc_udp_flush_result. */
int sc_udp_flush(sc_udp *u, int *last_err);

/* sc_udp_recv reads up to SC_UDP_BATCH datagrams into |out| with one
 * recvmmsg. Returns how many (0 when the socket would block), or -1 with
 * the errno in |*err| (counted in recv_errors). Datagrams from an
 * unsupported address family are skipped. */
int sc_udp_recv(sc_udp *u, sc_udp_rx out[SC_UDP_BATCH], int *err);

#endif /* SC_SHELL_UDP_H */
