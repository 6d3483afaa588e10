/*
 * sc_mcast.h: the multicast engine (doc/protocol.md §13).
 *
 * Every member of a group relays every stream published in it. Per stream
 * the node keeps a window of authentic fragments (sc_window) and, per
 * neighbour (a member link of the stream's group), what it asked that
 * neighbour to push, what the neighbour asked of it, and the neighbour's
 * last fragment map. The scheduler:
 *   - asks up to push_peers neighbours to push disjoint sequence classes
 *     (seq mod 8), each class to the neighbour whose maps show it would
 *     deliver first, and moves a class when another would deliver it
 *     sooner or the pusher stalls (an overloaded neighbour drops pushes);
 *   - pulls what is still missing from a neighbour whose map shows it,
 *     a bounded number at a time per neighbour, retrying elsewhere;
 *   - forwards each fragment to whoever asked for its class once it is
 *     authentic, and never anything that is not;
 *   - bans a neighbour that sends a forgery: it loses its push roles;
 *   - plays the streams the host asked for in order from a clean point,
 *     skipping a gap that stays open past the gap timeout.
 * Datagrams carry everything frequent; STREAM and PUSH are reliable.
 */
#ifndef SC_MCAST_H
#define SC_MCAST_H

#include <stddef.h>
#include <stdint.h>

#include "stratocast.h"

struct sc_session;
struct sc_mstream;
struct sc_mgroup;

#define SC_MCAST_STREAMS_MAX 16 /* streams a node carries */
#define SC_MCAST_PLAYS_MAX 16   /* play requests */

/* A stream the host asked to play, bound to a stream once one matches. */
typedef struct sc_play_req {
  uint32_t handle;
  uint8_t group_id[32];
  char name[SC_STREAM_NAME_MAX + 1];
  int has_key;
  uint8_t key[SC_STREAM_KEY_LEN];
} sc_play_req;

typedef struct sc_mcast {
  struct sc_mstream *streams[SC_MCAST_STREAMS_MAX];
  size_t nstreams;
  sc_play_req plays[SC_MCAST_PLAYS_MAX];
  size_t nplays;
  uint32_t next_handle;
} sc_mcast;

/* Hooks the node calls. */
void sc_mcast_free(sc_node *node);
/* sc_mcast_on_message handles a reliable engine message; returns 0 when
 * |kind| is not one. */
int sc_mcast_on_message(sc_node *node, struct sc_session *s, uint64_t kind,
                        const uint8_t *body, size_t len, uint64_t now);
void sc_mcast_on_dgram(sc_node *node, struct sc_session *s, const uint8_t *body,
                       size_t len, uint64_t now);
void sc_mcast_on_timer(sc_node *node, uint64_t now);
/* sc_mcast_group_gone drops every stream of |g|, published, played or
 * relayed, and every play request for it: the node is leaving |g|, which
 * is freed next. */
void sc_mcast_group_gone(sc_node *node, const struct sc_mgroup *g);
uint64_t sc_mcast_deadline(const sc_node *node);
/* sc_mcast_limit_pushes revokes, in every stream, the class pushes granted
 * past settings.push_capacity (after it was lowered) and sends each asker
 * that lost some a REFUSE naming them. Returns how many were revoked. */
uint32_t sc_mcast_limit_pushes(sc_node *node, uint64_t now);

#endif /* SC_MCAST_H */
