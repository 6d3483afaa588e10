/*
 * sc_mcastmsg.h: the multicast engine's messages (doc/protocol.md §13.2).
 *
 * Two announcements ride the reliable control messages of a session
 * (§6.4): STREAM (a stream exists in a group) and PUSH (which classes of a
 * stream the receiver should push to the sender). Everything the engine
 * sends many times a second rides datagrams (§6.3.5), each starting with
 * a kind byte: FRAGMENT and MANIFEST carry the stream itself (§12), MAP
 * tells a neighbour what the sender holds, PULL asks for missing
 * fragments. Datagrams name a stream by its tag: the first 8 bytes of the
 * stream ID.
 *
 * Every writer writes the whole body or nothing; every reader checks the
 * whole body and refuses trailing bytes.
 */
#ifndef SC_MCASTMSG_H
#define SC_MCASTMSG_H

#include <stddef.h>
#include <stdint.h>

#include "sc_group.h"
#include "sc_stream.h"
#include "sc_wire.h"

enum sc_mcast_msg_kind {
  SC_MSG_STREAM = 8, /* a stream of this group exists */
  SC_MSG_PUSH = 9,   /* push me these classes of a stream */
  SC_MSG_REFUSE = 10 /* I will not push you these classes (no capacity) */
};

enum sc_mcast_dgram_kind {
  SC_DG_FRAGMENT = 1,
  SC_DG_MANIFEST = 2,
  SC_DG_MAP = 3,
  SC_DG_PULL = 4,
};

#define SC_MC_CLASSES 8 /* sequence classes: seq mod 8 */
#define SC_MAP_BITS 64  /* seqs below the top a map describes */
#define SC_PULL_BITS 64 /* seqs one PULL may ask for */

/* PUSH mask bits. */
enum {
  SC_PUSH_CLASSES = 0xff, /* bit c: push fragments of class c, and the
                             manifests of blocks starting in class c */
  SC_PUSH_MAPS = 256,     /* send fragment maps */
  SC_PUSH_ALL = 511,
};

typedef struct sc_stream_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  uint8_t key[SC_STREAM_KEY_LEN];
  size_t name_len; /* 1..SC_STREAM_NAME_MAX */
  char name[SC_STREAM_NAME_MAX + 1];
} sc_stream_msg;

/* PUSH and REFUSE share a body. */
typedef struct sc_push_msg {
  uint8_t stream_id[SC_STREAM_ID_LEN];
  uint16_t mask; /* SC_PUSH_* bits; others are malformed */
} sc_push_msg;

typedef struct sc_map_msg {
  uint64_t tag;
  uint64_t top;                /* the highest authentic seq the sender holds */
  uint64_t age_ms;             /* since it became authentic there */
  uint64_t key;                /* the highest keyframe held, UINT64_MAX: none */
  uint8_t hops[SC_MC_CLASSES]; /* pushes from the source per class, 0 at
                                  the publisher, 255: not pushed */
  unsigned nbits;              /* 0..SC_MAP_BITS */
  uint64_t bits; /* bit i: holds top - nbits + i (sc_window_map's order) */
} sc_map_msg;

/* PULL flags. */
enum {
  SC_PULL_MANIFESTS = 1,      /* send the manifests of these seqs' blocks */
  SC_PULL_ONLY_MANIFESTS = 2, /* ... and not the fragments (the asker holds
                                 them, unverified); needs MANIFESTS */
};

typedef struct sc_pull_msg {
  uint64_t tag;
  unsigned flags; /* SC_PULL_* */
  uint64_t first; /* bit i of |bits| asks for first + i */
  unsigned nbits; /* 1..SC_PULL_BITS */
  uint64_t bits;
} sc_pull_msg;

/* sc_stream_tag returns the tag of |stream_id|. */
uint64_t sc_stream_tag(const uint8_t stream_id[SC_STREAM_ID_LEN]);

/* Writers: 0, SC_ERR_BUFFER or SC_ERR_INVALID_ARG. The datagram writers
 * write the kind byte too. */
int sc_stream_msg_write(sc_wr *w, const sc_stream_msg *m);
int sc_push_write(sc_wr *w, const sc_push_msg *m);
int sc_map_write(sc_wr *w, const sc_map_msg *m);
int sc_pull_write(sc_wr *w, const sc_pull_msg *m);

/* Readers: 0 or SC_ERR_MALFORMED. The datagram readers take the body
 * after the kind byte. */
int sc_stream_msg_read(sc_stream_msg *m, const uint8_t *body, size_t len);
int sc_push_read(sc_push_msg *m, const uint8_t *body, size_t len);
int sc_map_read(sc_map_msg *m, const uint8_t *body, size_t len);
int sc_pull_read(sc_pull_msg *m, const uint8_t *body, size_t len);

#endif /* SC_MCASTMSG_H */
