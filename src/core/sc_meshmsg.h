/*
 * sc_meshmsg.h: the mesh's control messages (doc/protocol.md §11.3), as
 * bodies of reliable messages (§6.4). Every writer writes the whole body
 * or nothing; every reader checks the whole body and refuses trailing
 * bytes.
 */
#ifndef SC_MESHMSG_H
#define SC_MESHMSG_H

#include <stddef.h>
#include <stdint.h>

#include "sc_group.h"
#include "sc_wire.h"
#include "stratocast.h"

enum sc_mesh_msg_kind {
  SC_MSG_GROUP_HELLO = 2,       /* I am a member of this group (with a proof),
                                   or I left it */
  SC_MSG_MEMBERS_REQUEST = 3,   /* members you know nearest to an address */
  SC_MSG_MEMBERS = 4,           /* a membership report */
  SC_MSG_NEIGHBOR = 5,          /* I chose you as a neighbour, or no longer */
  SC_MSG_INTRODUCE_REQUEST = 6, /* introduce me to this peer */
  SC_MSG_INTRODUCE = 7,         /* this peer wants to talk: connect now */
};

#define SC_MEMBERS_MAX 16 /* entries in one MEMBERS message */

typedef struct sc_hello_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  int has_proof;
  int leaving; /* flag 2: the sender left the group (no proof) */
  uint8_t proof[SC_GROUP_PROOF_LEN];
} sc_hello_msg;

typedef struct sc_mreq_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  sc_ring_addr target;
  uint64_t max; /* entries wanted, at most SC_MEMBERS_MAX are sent */
} sc_mreq_msg;

typedef struct sc_mentry {
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr;
  uint64_t age_ms; /* how long ago the reporter last heard of it */
} sc_mentry;

typedef struct sc_members_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  size_t n;
  sc_mentry e[SC_MEMBERS_MAX];
} sc_members_msg;

typedef struct sc_neighbor_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  uint8_t chosen; /* 0 or 1 */
} sc_neighbor_msg;

typedef struct sc_intro_msg {
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr; /* INTRODUCE only; absent in INTRODUCE_REQUEST */
} sc_intro_msg;

/* Writers: 0, SC_ERR_BUFFER or SC_ERR_INVALID_ARG. */
int sc_hello_write(sc_wr *w, const sc_hello_msg *m);
int sc_mreq_write(sc_wr *w, const sc_mreq_msg *m);
int sc_members_write(sc_wr *w, const sc_members_msg *m);
int sc_neighbor_write(sc_wr *w, const sc_neighbor_msg *m);
int sc_intro_request_write(sc_wr *w, const sc_intro_msg *m);
int sc_intro_write(sc_wr *w, const sc_intro_msg *m);

/* sc_members_digest returns a 64-bit digest of what |m| says that a
 * receiver's view depends on (doc/protocol.md §11.3.3): each entry's peer
 * ID and address, and whether its age is 0, in order. The other ages are
 * left out, as they change with every report. Not cryptographic: it tells
 * a sender whether a report differs from the one it sent before. */
uint64_t sc_members_digest(const sc_members_msg *m);

/* Readers: 0 or SC_ERR_MALFORMED. */
int sc_hello_read(sc_hello_msg *m, const uint8_t *body, size_t len);
int sc_mreq_read(sc_mreq_msg *m, const uint8_t *body, size_t len);
int sc_members_read(sc_members_msg *m, const uint8_t *body, size_t len);
int sc_neighbor_read(sc_neighbor_msg *m, const uint8_t *body, size_t len);
int sc_intro_request_read(sc_intro_msg *m, const uint8_t *body, size_t len);
int sc_intro_read(sc_intro_msg *m, const uint8_t *body, size_t len);

#endif /* SC_MESHMSG_H */
