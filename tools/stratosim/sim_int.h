/*
 * sim_int.h: the insides of a stratosim run, shared by the event loop
 * (sim_world.c) and the report (sim_report.c).
 */
#ifndef SIM_INT_H
#define SIM_INT_H

#include "sim.h"
#include "sim_heap.h"
#include "sim_hist.h"
#include "sim_net.h"
#include "sim_rng.h"
#include "stratocast.h"

#define SIM_PORT 4433
#define SIM_NONE UINT64_MAX /* no time, no seq */

/* What an event in the queue is (sim_event.kind). */
enum sim_ev_kind {
  EV_ARRIVE = 1, /* ptr: a datagram reaching its receiver's downlink */
  EV_DELIVER,    /* ptr: a datagram fully received */
  EV_ACTION,     /* ptr: a scenario action */
  EV_START,      /* node joins */
  EV_RESTART,    /* node restarts without its peer history */
  EV_RESTART_HISTORY,
  EV_CHURN,    /* node: the churn generation it belongs to */
  EV_FRAGMENT, /* the publisher cuts the next fragment (sim_stream.c) */
  EV_SAMPLE,   /* the stream's counters are read (sim_stream.c) */
  EV_SPAN_END, /* the stream's measured span ends (sim_stream.c) */
  EV_FORGE,    /* node: a forger attacks; ptr: its generation */
  EV_POST,     /* node: the post's rank in ptr, its action (sim_post.c) */
  EV_ROUTE,    /* ptr: a route statement sends one message (sim_route.c) */
};
#define SIM_HISTORY 8 /* peers a node remembers for a restart with history */

enum sim_node_state {
  SIM_NODE_IDLE = 0, /* has not joined yet */
  SIM_NODE_UP,
  SIM_NODE_LEAVING, /* closing gracefully */
  SIM_NODE_CRASHED,
  SIM_NODE_LEFT,
};

typedef struct sim_node {
  struct sim *sim;
  sc_node *core; /* NULL unless UP or LEAVING */
  sc_mem mem;    /* counting allocator; |user| is this node */
  sim_rng rng;   /* the core's randomness, per incarnation */
  uint32_t index;
  uint8_t state; /* enum sim_node_state */
  uint8_t nhistory;
  uint16_t starts;
  uint64_t joined_at;   /* first start */
  uint64_t started_at;  /* this incarnation */
  uint64_t first_up_at; /* first session ever */
  uint64_t rejoin_wait; /* restarted, waiting for a session since then */
  uint64_t down_at;     /* crashed or left */
  uint64_t mem_now, mem_peak;
  sc_node_stats past; /* counters of earlier incarnations */
  uint32_t history[SIM_HISTORY];
  uint8_t peer_id[SC_PEER_ID_LEN]; /* the same at every start */
} sim_node;

struct sim_stream;
struct sim_posts;
struct sim_routing;
struct sim_repl;

struct sim {
  const sim_config *cfg;
  struct sim_stream *stream; /* NULL without stream or forge statements */
  struct sim_repl *repl;     /* NULL without a replicate statement */
  struct sim_posts *posts;   /* NULL without post statements */
  struct sim_routing *route; /* NULL without route statements */
  sim_net *net;
  sim_node *nodes;
  uint32_t n;
  sim_events ev;
  sim_timers timers;
  uint64_t now;
  sim_rng rng; /* the scenario's: churn */
  const sim_action *churn;
  uint32_t churn_gen;
  uint32_t next_side; /* partitions made so far */
  int oom;

  /* What the report shows. */
  uint64_t events;
  uint64_t no_route;  /* datagrams to an address no node has */
  uint64_t node_down; /* datagrams that reached a node that was down */
  uint64_t joins, crashes, leaves, restarts;
  uint64_t peer_up, peer_down, peer_failed;
  uint64_t down_reason[8]; /* peer_down by enum sc_close_reason */
  uint64_t detections;     /* a peer saw a crashed node's session end */
  uint64_t mem_total_now, mem_total_peak, mem_leaked;
  sim_hist owd;     /* one-way delay of delivered datagrams */
  sim_hist startup; /* first start to first session */
  sim_hist rejoin;  /* restart to first session */
  sim_hist detect;  /* crash to a peer's session ending */
};

/* sim_addr_of returns node |i|'s address: 10.x.y.z:4433 with x.y.z = i+1. */
sc_addr sim_addr_of(uint32_t i);

/* sim_index_of returns the node owning |a|, or UINT32_MAX. */
uint32_t sim_index_of(const sim *s, const sc_addr *a);

/* sim_core_settings fills |st| with the core settings |c| asks for (the
 * core's defaults where it says nothing), without a secret. */
void sim_core_settings(const sim_config *c, sc_settings *st);

/* sim_stats_add adds every counter of |src| to |dst|. */
void sim_stats_add(sc_node_stats *dst, const sc_node_stats *src);

/* sim_node_stats fills |out| with |nd|'s counters over every start. */
void sim_node_stats(const sim_node *nd, sc_node_stats *out);

/* sim_stats_sum fills |out| with the counters of every node, every start. */
void sim_stats_sum(const sim *s, sc_node_stats *out);

/* sim_push schedules an event; on failure it sets |s->oom| (and frees
 * |ptr| for a datagram). */
void sim_push(sim *s, uint64_t at, uint32_t kind, uint32_t node, void *ptr);

/* sim_after_activity re-arms |nd|'s timer from its core after the
 * simulator called into it. */
void sim_after_activity(sim *s, sim_node *nd);

struct sc_json;

/* "key": value members of the report: a counter, a ratio, a duration in
 * ns written as milliseconds with microsecond decimals. */
void sim_kv(struct sc_json *j, const char *key, uint64_t v);
void sim_kd(struct sc_json *j, const char *key, double v);
void sim_kms(struct sc_json *j, const char *key, uint64_t ns);

/* sim_mesh_report writes the "mesh" section (the first group, as the nodes
 * see it against the truth). Returns 0 or -1 when memory ran out. */
int sim_mesh_report(struct sc_json *j, const sim *s);

/* sim_in_flight returns how many datagram copies are still on their way. */
uint64_t sim_in_flight(const sim *s);

/* sim_bootstrap_targets fills |out| (|cap| entries) with the nodes node |i|
 * bootstraps from, in the order it connects, and returns how many there
 * are (which may exceed |cap|). The choice is the same at every start. */
uint32_t sim_bootstrap_targets(const sim *s, uint32_t i, uint32_t *out,
                               uint32_t cap);

/* ---- the stream (sim_stream.c, sim_streamrep.c) ---- */

/* sim_stream_new prepares the scenario's stream and forgers (nothing
 * without stream or forge statements); |frag_max| is the core's largest
 * fragment. Returns 0, or -1 with a message in |err|. */
int sim_stream_new(sim *s, size_t frag_max, char *err, size_t errlen);

/* sim_stream_del frees it; NULL is fine. */
void sim_stream_del(struct sim_stream *ss);

/* sim_stream_on_play is the cores' stream_data callback; |user| is the
 * node. */
void sim_stream_on_play(void *user, const sc_play_chunk *chunk);

/* sim_stream_node_up: |nd| has just started (its groups joined): it asks
 * to play the stream. sim_stream_node_down: |nd|'s core is about to be
 * deleted: its counters are kept. */
void sim_stream_node_up(sim *s, sim_node *nd);
void sim_stream_node_down(sim *s, sim_node *nd);

/* sim_stream_action runs a stream, stream stop or forge action. */
void sim_stream_action(sim *s, const sim_action *a);

/* sim_stream_event handles EV_FRAGMENT, EV_SAMPLE, EV_SPAN_END and
 * EV_FORGE. */
void sim_stream_event(sim *s, const sim_event *e);

/* sim_stream_report writes the "stream" section when a stream ran;
 * sim_stream_node_fields adds node |i|'s stream fields to the per-node
 * table. Both return 0 or -1 when memory ran out. */
int sim_stream_report(struct sc_json *j, const sim *s);
void sim_stream_node_fields(struct sc_json *j, const sim *s, uint32_t i);

/* sim_stream_summary prints the stream's line of the summary, if any. */
void sim_stream_summary(const sim *s, FILE *f);

/* ---- posts (sim_post.c) ---- */

/* sim_posts_new prepares the tally of the scenario's posts (nothing
 * without post statements). sim_posts_del frees it; NULL is fine. */
int sim_posts_new(sim *s, char *err, size_t errlen);
void sim_posts_del(struct sim_posts *ps);

/* sim_posts_action starts a post statement; sim_posts_event makes the
 * post of an EV_POST event. */
void sim_posts_action(sim *s, const sim_action *a);
void sim_posts_event(sim *s, const sim_event *e);

/* sim_posts_on_post is the cores' post callback; |user| is the sim_node.
 * sim_posts_node_down: |nd|'s core is about to be deleted. */
void sim_posts_on_post(void *user, const sc_post_event *ev);
void sim_posts_node_down(sim *s, sim_node *nd);

/* sim_posts_report writes the "posting" section when posts were made;
 * sim_posts_summary prints their line of the summary. */
int sim_posts_report(struct sc_json *j, const sim *s);
void sim_posts_summary(const sim *s, FILE *f);
/* ---- routed messages (sim_route.c) ---- */

/* sim_route_new prepares the route statements' state (nothing without
 * one). Returns 0, or -1 with a message in |err|. */
int sim_route_new(sim *s, char *err, size_t errlen);

/* sim_route_del frees it; NULL is fine. */
void sim_route_del(struct sim_routing *r);

/* sim_route_node_up: |nd| has just started (its groups joined): it takes
 * routed messages in nearest mode in the first group. */
void sim_route_node_up(sim *s, sim_node *nd);

/* sim_route_on_routed is the cores' routed callback; |user| is the node. */
void sim_route_on_routed(void *user, const sc_route_event *ev);

/* sim_route_action runs a route statement; sim_route_event handles
 * EV_ROUTE. */
void sim_route_action(sim *s, const sim_action *a);
void sim_route_event(sim *s, const sim_event *e);

/* sim_route_report writes the "route" section when a route statement is
 * in the scenario (0, or -1 when memory ran out); sim_route_summary prints
 * its line of the summary. */
int sim_route_report(struct sc_json *j, const sim *s);
void sim_route_summary(const sim *s, FILE *f);

/* ---- object replication (sim_repl.c) ---- */

/* sim_repl_new prepares the scenario's replicate statement (nothing
 * without one). Returns 0, or -1 with a message in |err|. */
int sim_repl_new(sim *s, char *err, size_t errlen);

/* sim_repl_del frees it; NULL is fine. */
void sim_repl_del(struct sim_repl *r);

/* sim_repl_action runs the replicate action: the seed writes the objects
 * and every other up node wants them. */
void sim_repl_action(sim *s, const sim_action *a);

/* sim_repl_node_up: |nd| has just started (its groups joined): after the
 * action, it wants the objects. sim_repl_node_down: |nd|'s core is about
 * to be deleted: its counters are kept. */
void sim_repl_node_up(sim *s, sim_node *nd);
void sim_repl_node_down(sim *s, sim_node *nd);

/* sim_repl_on_object is the cores' object callback; |user| is the node. */
void sim_repl_on_object(void *user, const sc_object_event *ev);

/* sim_repl_report writes the "replication" section when there is one;
 * returns 0 or -1 when memory ran out. */
int sim_repl_report(struct sc_json *j, const sim *s);

/* sim_repl_summary prints the replication line of the summary, if any. */
void sim_repl_summary(const sim *s, FILE *f);

#endif /* SIM_INT_H */
