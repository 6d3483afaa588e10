/*
 * sc_routemsg.h: the routing message (doc/protocol.md §14.2).
 *
 * ROUTE carries a message toward the member of a group whose address is
 * nearest a target address, one member link at a time. It is a reliable
 * message (§6.4) on member links.
 *
 * The writer writes the whole body or nothing; the reader checks the whole
 * body: a hop count outside 1..SC_ROUTE_HOPS_MAX, a flag it does not know,
 * the neighbour flag with a hop count other than 1, or a payload over
 * SC_ROUTE_MAX make it malformed.
 */
#ifndef SC_ROUTEMSG_H
#define SC_ROUTEMSG_H

#include <stddef.h>
#include <stdint.h>

#include "sc_group.h"
#include "sc_ring.h"
#include "sc_wire.h"
#include "stratocast.h"

enum sc_route_msg_kind {
  SC_MSG_ROUTE = 14 /* a routed message on its way to its target */
};

/* Bits of sc_route_msg.flags. */
enum sc_route_flag {
  /* Sent to the sender's next member up or down the ring (the target is
   * that member's address): delivered at the first hop, whatever the
   * receiver's receive mode, and never handed on. */
  SC_ROUTE_F_NEIGHBOR = 0x01
};
#define SC_ROUTE_F_KNOWN 0x01 /* every flag a reader accepts */

#define SC_ROUTE_MAX SC_ROUTE_MAX_LEN /* payload bytes a ROUTE may carry */
#define SC_ROUTE_HOPS_MAX 32          /* member links a ROUTE may cross */
#define SC_ROUTE_FIXED_LEN (SC_GROUP_ID_LEN + SC_RING_LEN + SC_PEER_ID_LEN + 2)

typedef struct sc_route_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  sc_ring_addr target;
  uint8_t origin[SC_PEER_ID_LEN]; /* the member that sent it first */
  uint8_t hops;           /* member links crossed, this one included: 1.. */
  uint8_t flags;          /* enum sc_route_flag bits */
  const uint8_t *payload; /* into the body read; 0..SC_ROUTE_MAX bytes */
  size_t len;
} sc_route_msg;

/* sc_route_write appends the body of ROUTE |m| to |w|. Returns 0,
 * SC_ERR_INVALID_ARG (a field the reader would refuse) or SC_ERR_BUFFER
 * (nothing written). */
int sc_route_write(sc_wr *w, const sc_route_msg *m);

/* sc_route_read parses the |len| bytes at |body| into |m|, whose payload
 * then points into |body|. Returns 0 or SC_ERR_MALFORMED. */
int sc_route_read(sc_route_msg *m, const uint8_t *body, size_t len);

#endif /* SC_ROUTEMSG_H */
