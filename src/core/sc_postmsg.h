/*
 * sc_postmsg.h: the posting messages (doc/protocol.md §14.1).
 *
 * POST carries a post and the interval of the ring that its receiver is
 * to hand it on in; IHAVE tells a ring neighbour that the sender holds
 * some posts, and IWANT asks for one. All three are reliable messages (§6.4) on
 * member links.
 *
 * Every writer writes the whole body or nothing; every reader checks the
 * whole body and refuses trailing bytes.
 */
#ifndef SC_POSTMSG_H
#define SC_POSTMSG_H

#include <stddef.h>
#include <stdint.h>

#include "sc_group.h"
#include "sc_ring.h"
#include "sc_wire.h"
#include "stratocast.h"

enum sc_post_msg_kind {
  SC_MSG_POST = 11,  /* a post, and the interval to hand it on in */
  SC_MSG_IHAVE = 12, /* I hold these posts */
  SC_MSG_IWANT = 13  /* send me this post */
};

#define SC_POST_MAX SC_POST_MAX_LEN /* payload bytes a post may carry */
#define SC_IHAVE_MAX 16             /* post IDs in one IHAVE */

/* A post is named by its origin, the origin's incarnation (random per
 * start, so that a restarted origin's numbers are new) and its number,
 * counted from 0 in each incarnation. */
typedef struct sc_post_id {
  uint8_t group_id[SC_GROUP_ID_LEN];
  uint8_t origin[SC_PEER_ID_LEN];
  uint64_t incarnation;
  uint64_t number;
} sc_post_id;

typedef struct sc_post_msg {
  sc_post_id id;
  sc_ring_addr lo, hi;    /* hand on to members in (lo, hi) clockwise; none
                             when lo == hi */
  const uint8_t *payload; /* into the body read; 0..SC_POST_MAX bytes */
  size_t len;
} sc_post_msg;

int sc_post_write(sc_wr *w, const sc_post_msg *m);
int sc_post_read(sc_post_msg *m, const uint8_t *body, size_t len);

/* IWANT's body: the post's ID. */
int sc_post_id_write(sc_wr *w, const sc_post_id *m);
int sc_post_id_read(sc_post_id *m, const uint8_t *body, size_t len);

/* IHAVE: 1..SC_IHAVE_MAX post IDs of one group. The reader fills each
 * ID's group from the message's. */
typedef struct sc_ihave_msg {
  size_t n;
  sc_post_id ids[SC_IHAVE_MAX];
} sc_ihave_msg;

int sc_ihave_write(sc_wr *w, const sc_ihave_msg *m);
int sc_ihave_read(sc_ihave_msg *m, const uint8_t *body, size_t len);

#endif /* SC_POSTMSG_H */
