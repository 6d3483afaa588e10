/*
 * sc_mcast_int.h: the multicast engine's insides, shared by sc_mcast.c
 * (streams, messages, API), sc_msched.c (the scheduler) and sc_mplay.c
 * (playing). The parameters are those of doc/protocol.md §13.
 *
 * Times are ns; fragment timestamps are µs (the publisher's clock).
 */
#ifndef SC_MCAST_INT_H
#define SC_MCAST_INT_H

#include "sc_macro.h"
#include "sc_mcast.h"
#include "sc_mcastmsg.h"
#include "sc_mesh.h"
#include "sc_node_int.h"
#include "sc_session.h"
#include "sc_stream.h"
#include "sc_window.h"

#define TICK (20 * SC_MS)
#define REVIEW (500 * SC_MS) /* class choice and neighbour sync */
#define PEERS_MAX 64         /* neighbours per stream */
#define TRACK 512            /* seqs followed for pulls (2^k) */
#define SCAN_MAX 256         /* seqs examined per tick */
#define PULL_PER_PEER 48     /* outstanding pulls per neighbour */
#define PULL_TRIES 6         /* then the player skips it */
#define PULL_TIMEOUT_MIN (60 * SC_MS)
#define PULL_TIMEOUT_MAX (1 * SC_SEC)
#define PUSH_WAIT (600 * SC_MS)     /* a pusher's head start on a pull */
#define MANIFEST_WAIT (100 * SC_MS) /* a pending fragment waits, then pull */
#define STALL (1500 * SC_MS)        /* a pusher silent on its class */
#define SILENT (300 * SC_MS)  /* ... and behind: its seqs are pulled at once */
#define STARVED (300 * SC_MS) /* nothing new: maps from every neighbour */
#define STARVED_MAX (5 * SC_SEC)     /* ... until the stream is likely paused */
#define REFUSED_FOR (30 * SC_SEC)    /* a stalled pusher is not asked again */
#define MISSES_MAX 4                 /* pulls of a class a review, then move */
#define LATE_FOR (10 * SC_SEC)       /* a pusher that missed: not asked again */
#define MOVE_MARGIN (90 * SC_MS)     /* a challenger must be this much ahead */
#define SPREAD (8 * SC_MS)           /* score cost of each class held */
#define LEAD_SAMPLES 3               /* before a lead estimate counts */
#define MAP_FRESH (2 * SC_SEC)       /* a map older than this says nothing */
#define MAP_REFRESH (1 * SC_SEC)     /* an unchanged map is resent after */
#define MAP_EXTRA 2                  /* map subscriptions beside pushers */
#define ROTATE (5 * SC_SEC)          /* the exploring subscription moves */
#define BAN_BASE (60 * SC_SEC)       /* doubles with each offence */
#define JUNK_LIMIT 64                /* unasked useless fragments, decaying */
#define STREAM_IDLE (30 * SC_SEC)    /* no authentic data: forget it */
#define RETUNE (1 * SC_SEC)          /* far behind, nothing authentic */
#define ANNOUNCE_AGAIN (15 * SC_SEC) /* a live stream is told again */

#define CLASS(seq) ((unsigned)((seq) % SC_MC_CLASSES))
#define NONE UINT64_MAX

/* ---- state ----------------------------------------------------------------
 */

typedef struct mpeer {
  uint32_t sid;
  uint16_t asked;        /* what this node asked it for (SC_PUSH_* bits) */
  uint16_t granted;      /* what it asked of this node, as honoured */
  uint64_t announced_at; /* told of the stream then (NONE: never) */
  /* its last map */
  uint64_t map_top, map_key, map_bits, map_at, map_eta;
  unsigned map_nbits;
  uint8_t map_hops[SC_MC_CLASSES];
  int map_sampled; /* the lead sample of map_top was taken */
  /* how much sooner than this node it gets fragments, per class (ns) */
  int64_t lead[SC_MC_CLASSES];
  uint32_t lead_n[SC_MC_CLASSES];
  uint64_t class_since[SC_MC_CLASSES]; /* asked to push class c since */
  uint64_t class_last[SC_MC_CLASSES];  /* last pushed seq of class c + 1 */
  uint64_t class_last_at[SC_MC_CLASSES];
  uint64_t class_first[SC_MC_CLASSES]; /* first seq of c pushed since asked */
  uint64_t refused_until; /* stalled, late or refusing: not asked before */
  uint32_t misses[SC_MC_CLASSES]; /* its class seqs pulled since review */
  uint32_t outstanding;           /* pulls asked of it */
  uint64_t tune_at;               /* a tune-in fetch asked of it, 0: never */
  uint64_t next_map, sent_top, sent_at;
  uint64_t banned_until;
  uint32_t offences, junk;
  uint64_t rtt;
} mpeer;

typedef struct track {
  uint64_t seq; /* NONE: free */
  uint64_t known_at, asked_at;
  uint32_t sid; /* asked of, 0: not asked */
  uint8_t tries;
} track;

typedef struct sc_mstream {
  uint32_t handle;
  uint8_t id[SC_STREAM_ID_LEN];
  uint64_t tag;
  uint8_t key[SC_STREAM_KEY_LEN];
  char name[SC_STREAM_NAME_MAX + 1];
  sc_mgroup *g;
  sc_window *win;
  unsigned roles;
  /* publisher */
  uint8_t sk[SC_STREAM_SECRET_LEN];
  sc_manifest blk; /* the open block, blk.count fragments so far */
  uint64_t blk_started, next_seq;
  /* neighbours */
  mpeer *p;
  size_t np, pcap;
  uint32_t rotate_sid;
  uint64_t rotate_at;
  /* what exists and what is wanted */
  uint64_t start;     /* tune-in seq, NONE until chosen */
  uint64_t known_top; /* the highest seq known to exist, NONE */
  uint64_t scan;      /* no seq in [start, scan) is missing */
  track tr[TRACK];
  /* playing */
  uint32_t play;       /* play handle, 0: not playing */
  uint64_t next_play;  /* NONE until the start is known */
  uint64_t gap_since;  /* NONE: no gap open */
  int play_started;    /* a keyframe was played */
  uint8_t was_starved; /* starved at the last tick */
  /* timers and counters */
  uint64_t last_data, next_tick, next_review;
  uint64_t latency, latency_max; /* µs */
  int has_latency;
  sc_stream_stats st;
} sc_mstream;

typedef sc_mstream mstream;

/* ---- shared helpers (sc_mcast.c) ----------------------------------------- */

uint64_t sc_mc_jitter(sc_node *node, uint64_t base);
/* A neighbour whose session is usable and who is not banned. */
int sc_mc_peer_valid(const sc_node *node, const mpeer *p, uint64_t now);
mpeer *sc_mc_peer(mstream *st, uint32_t sid);
mpeer *sc_mc_peer_add(sc_node *node, mstream *st, uint32_t sid);
void sc_mc_peer_remove(mstream *st, size_t i);
/* Forgets that |t| was asked of |p|. */
void sc_mc_track_forget(mpeer *p, track *t);
/* Makes |t| follow |seq| from |now|, forgetting a pull still outstanding
 * for the seq it followed (else that neighbour's count would never come
 * down, and once at PULL_PER_PEER it would never be asked again). */
void sc_mc_track_follow(mstream *st, track *t, uint64_t seq, uint64_t now);
/* Sends a datagram of the engine; |flags| are SC_DGRAM_* bits. */
int sc_mc_dg_send(sc_node *node, uint32_t sid, const uint8_t *buf, size_t len,
                  unsigned flags, uint64_t now);
void sc_mc_send_push(sc_node *node, mstream *st, mpeer *p, uint16_t mask,
                     uint64_t now);
void sc_mc_announce(sc_node *node, mstream *st, mpeer *p, uint64_t now);
int sc_mc_popcount8(unsigned v);

/* ---- the scheduler (sc_msched.c) ------------------------------------------
 */

/* sc_mc_sync_peers syncs the neighbours with the group's member links and
 * announces the stream to new ones. */
void sc_mc_sync_peers(sc_node *node, mstream *st, uint64_t now);
/* sc_mc_tick runs what is due for |st|: the publisher's block timer,
 * reviews, maps, pulls, playback. */
void sc_mc_tick(sc_node *node, mstream *st, uint64_t now);
/* The publisher closes its open block (sc_mcast.c). */
void sc_mc_close_block(sc_node *node, mstream *st, uint64_t now);

/* ---- playing (sc_mplay.c)
 * ---------------------------------------------------- */

/* sc_mc_play_bind binds |st| to the first unbound play request it
 * matches. */
void sc_mc_play_bind(sc_node *node, mstream *st);
/* sc_mc_play_run plays what can be played. */
void sc_mc_play_run(sc_node *node, mstream *st, uint64_t now);

#endif /* SC_MCAST_INT_H */
