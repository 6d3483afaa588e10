/*
 * sc_mesh.h: groups and mesh maintenance (doc/protocol.md §11).
 *
 * For every group it has joined, the node keeps a table of the members it
 * knows (peer ID, group address, transport address, when it last heard of
 * them) and a set of neighbours chosen by ring distance: the ring-nearest
 * on both sides, one near each log-spaced lookup offset, the lowest-RTT
 * members and one random member. Members prove membership on a session
 * with GROUP_HELLO; only proved members exchange membership reports and
 * neighbour choices. The mesh rides on the node's sessions: one session
 * carries any number of groups.
 */
#ifndef SC_MESH_H
#define SC_MESH_H

#include <stddef.h>
#include <stdint.h>

#include "sc_group.h"
#include "sc_ring.h"
#include "stratocast.h"

struct sc_session;

#define SC_MESH_MAX_GROUPS 8
#define SC_MESH_TABLE_MAX 512 /* members known per group */
#define SC_MESH_KNOWN_MAX 64  /* remembered peers (sc_node_remember) */
#define SC_MESH_VOUCH_MAX 16  /* = SC_MEMBERS_MAX, entries in one report */

/* A member of a group, as this node knows it. */
typedef struct sc_member {
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_ring_addr gaddr;
  uint64_t pos;  /* sc_ring_top64(gaddr), for the fast paths */
  uint64_t id64; /* the first 8 bytes of peer_id, likewise */
  sc_addr addr;
  uint64_t heard_at;   /* last sign of life, direct or reported */
  uint64_t retry_at;   /* a connection attempt failed: not before this */
  uint64_t connect_at; /* a connection attempt is in progress since */
  uint64_t since;      /* the member link is up since */
  uint64_t wanted_at;  /* chosen without a link since (0: not waiting) */
  uint32_t sid;        /* session of the member link, 0 when none */
  uint32_t csid;       /* session being connected, 0 when none */
  uint32_t via;        /* session of the member that reported it */
  uint64_t lost_at;    /* its link died of silence then (a crash or a
                          cut between networks), 0: not */
  uint32_t vouchers;   /* member links whose latest report lists it at age
                          0, as one of their own member links */
  uint8_t chosen;      /* why this node chose it (SC_NB_* bits), 0: not */
  uint8_t peer_chose;  /* it chose this node */
  uint8_t told;        /* the chosen state last sent: 0, 1, or 2 = never */
  uint8_t introduced;  /* an introduction was asked for this attempt */
} sc_member;

/* A member link's reports (doc/protocol.md §11.3.3): what this node last
 * sent on it, and which members the peer's latest report listed at age 0
 * (by id64), that is which it holds member links with. */
typedef struct sc_mlink {
  uint32_t sid;
  uint32_t nvouch;
  uint64_t sent_hash; /* the content of the last report sent */
  uint64_t sent_at;   /* ... and when */
  uint64_t vouch[SC_MESH_VOUCH_MAX];
} sc_mlink;

/* One joined group. */
typedef struct sc_mgroup {
  sc_group_spec spec;
  sc_ring_addr self; /* this node's group address */
  uint64_t self64;   /* its top 64 bits */
  sc_member *m;
  size_t n, cap;
  sc_mlink *links; /* one per member link */
  size_t nlinks, links_cap;
  uint64_t next_rebuild, next_report;
  uint64_t estimate;  /* estimated member count, this node included */
  uint32_t target;    /* neighbours this node wants */
  size_t random_pool; /* candidates when the random member was drawn */
  uint64_t next_lost; /* next attempt to reach a lost member */
  int dirty;          /* rebuild at the next chance */
  sc_group_stats st;
  struct sc_pgroup *post;  /* posting (sc_post.c), NULL until used */
  struct sc_rgroup *route; /* routing (sc_route.c), NULL until used */
  struct sc_ogroup *repl;  /* replication (sc_repl.c), NULL until used */
} sc_mgroup;

typedef struct sc_mesh {
  sc_mgroup *groups[SC_MESH_MAX_GROUPS];
  size_t ngroups;
  sc_known_peer known[SC_MESH_KNOWN_MAX];
  size_t nknown;
  size_t known_next;   /* round-robin position for rejoining */
  uint64_t rejoin_at;  /* next attempt through remembered peers */
  uint64_t next_sweep; /* next check for sessions no group needs */
  int joined;          /* cached sc_mesh_is_joined */
} sc_mesh;

/* sc_mesh_group returns the joined group with ID |id|, or NULL. */
sc_mgroup *sc_mesh_group(const sc_node *node, const uint8_t *id);

/* sc_mesh_group_of finds the joined group named by |spec| (a spec, as
 * given to sc_node_join_group) with |feature| (an enum sc_group_feature
 * bit) on, into |*g|. Returns 0, SC_ERR_MALFORMED (bad spec),
 * SC_ERR_NOT_FOUND (not joined) or SC_ERR_STATE (feature off). */
int sc_mesh_group_of(sc_node *node, const char *spec, unsigned feature,
                     sc_mgroup **g);

/* sc_mesh_member_link returns the member of |g| whose member link is the
 * session |sid| (a proved member, doc/protocol.md §11.2), or NULL. */
sc_member *sc_mesh_member_link(sc_mgroup *g, uint32_t sid);

/* Hooks the node calls. */
void sc_mesh_free(sc_node *node);
void sc_mesh_on_up(sc_node *node, struct sc_session *s, uint64_t now);
void sc_mesh_on_down(sc_node *node, struct sc_session *s, uint64_t now);
/* sc_mesh_on_message handles a mesh message; returns 0 when |kind| is not
 * one. */
int sc_mesh_on_message(sc_node *node, struct sc_session *s, uint64_t kind,
                       const uint8_t *body, size_t len, uint64_t now);
void sc_mesh_on_timer(sc_node *node, uint64_t now);
uint64_t sc_mesh_deadline(const sc_node *node);
/* sc_mesh_is_joined returns nonzero when every joined group has a
 * neighbour: the bootstrap peers may then rest. The answer is cached and
 * refreshed by the hooks above, where links and choices change. */
int sc_mesh_is_joined(const sc_node *node);

#endif /* SC_MESH_H */
