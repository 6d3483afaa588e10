/*
 * sc_node_int.h: the node's insides, shared with sc_session.c.
 *
 * The node owns the sessions (sorted by local session ID), the bootstrap
 * targets and the cookie keys, dispatches datagrams, and applies the
 * policies that span sessions: which of two sessions with one peer to keep,
 * whom to introduce, whom to reconnect.
 */
#ifndef SC_NODE_INT_H
#define SC_NODE_INT_H

#include <stdarg.h>

#include "sc_cookie.h"
#include "sc_mcast.h"
#include "sc_mesh.h"
#include "sc_packet.h"
#include "sc_session.h"
#include "stratocast.h"

/* A bootstrap address the node keeps a session with (sc_node_connect). */
typedef struct sc_target {
  sc_addr addr;
  uint32_t sid;     /* session serving it, 0 when none */
  uint64_t next_at; /* next connection attempt */
  uint64_t backoff;
  int is_self; /* the address answered with our own identity */
} sc_target;

struct sc_node {
  const sc_mem *mem;
  sc_settings settings;
  sc_callbacks cb;
  void *user;
  uint8_t static_pub[SC_KEY_LEN];
  uint8_t peer_id[SC_PEER_ID_LEN];
  uint64_t incarnation;
  uint64_t created_at;
  sc_cookie_jar cookies;
  sc_node_stats stats;
  int closing;
  uint64_t expiry; /* cached minimum of every deadline */

  sc_session **sessions; /* sorted by local_sid */
  size_t nsessions, sessions_cap;

  sc_target *targets;
  size_t ntargets, targets_cap;

  sc_mesh mesh;   /* joined groups and remembered peers */
  sc_mcast mcast; /* streams */

  /* Two scratch buffers: a received packet's plaintext stays intact while
   * its chunks make the node build and send other packets. */
  uint8_t rxbuf[SC_MAX_PACKET];
  uint8_t txbuf[SC_MAX_PACKET];
  uint8_t mcbuf[SC_MAX_PACKET]; /* a datagram the engine is sending */
};

/* sc_node_send hands |len| bytes to the send callback and counts them. */
void sc_node_send(sc_node *node, const sc_addr *to, const uint8_t *data,
                  size_t len);

/* sc_node_rand fills |buf| with |len| random bytes from the callback. */
void sc_node_rand(sc_node *node, uint8_t *buf, size_t len);

/* sc_node_log formats and logs a line if |level| is enabled. */
void sc_node_log(sc_node *node, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* sc_node_drop counts a datagram dropped for |reason|. */
void sc_node_drop(sc_node *node, int reason);

/* sc_node_on_established is called once when |s| completes its handshake;
 * it may close |s| or other sessions. */
void sc_node_on_established(sc_node *node, sc_session *s, uint64_t now);

/* sc_node_session returns the session with local ID |sid|, or NULL. */
sc_session *sc_node_session(const sc_node *node, uint32_t sid);

/* sc_node_session_with returns a live session (handshake or established,
 * not closing) with the peer |peer_id|, or NULL. */
sc_session *sc_node_session_with(const sc_node *node, const uint8_t *peer_id);

/* sc_node_connect_peer starts a handshake with |peer_id| at |addr| and
 * stores the new session's local ID in |*sid| (when not NULL). Returns 0,
 * SC_ERR_LIMIT, SC_ERR_NOMEM or SC_ERR_CRYPTO. */
int sc_node_connect_peer(sc_node *node, const sc_addr *addr,
                         const uint8_t *peer_id, uint64_t now, uint32_t *sid);

/* sc_node_is_target returns nonzero if session |sid| serves a bootstrap
 * address. */
int sc_node_is_target(const sc_node *node, uint32_t sid);

/* sc_node_refresh_expiry recomputes the node's deadline after a change
 * made outside a recv or expiry call. */
void sc_node_refresh_expiry(sc_node *node);

/* sc_node_on_dgram delivers one datagram from |s|. */
void sc_node_on_dgram(sc_node *node, sc_session *s, const uint8_t *body,
                      size_t len, uint64_t now);

/* sc_node_on_message delivers one in-order control message from |s|. */
void sc_node_on_message(sc_node *node, sc_session *s, uint64_t kind,
                        const uint8_t *body, size_t len, uint64_t now);

#endif /* SC_NODE_INT_H */
