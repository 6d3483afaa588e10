/*
 * sim_scenario.h: what a stratosim run does, parsed from a scenario file
 * and the command line.
 *
 * A scenario is a list of statements, one per line; '#' starts a comment.
 * The command line adds statements after the file's, so it overrides: every
 * statement keyword is also an option (`--loss 0.3` is the statement
 * `loss 0.3`; `-e 'at 20s crash 5'` takes a whole statement). The grammar
 * and the meaning of each statement are in doc/simulation.md.
 *
 * Statements that shape the whole run (seed, nodes, duration, placement,
 * access-delay, core settings, bootstrap, report, log) are settings; a later
 * one replaces an earlier one (bootstrap rules accumulate). Every other
 * statement is an action that happens at a virtual time: `at TIME ...`, or
 * at time 0 without the prefix. Actions at one time keep their order.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "sim_net.h"

/* A set of node indices: inclusive ranges. "all" is one range 0..UINT32_MAX;
 * a set is resolved against the node count when used. */
typedef struct sim_range {
  uint32_t lo, hi;
} sim_range;

typedef struct sim_set {
  sim_range *r;
  size_t n;
} sim_set;

/* sim_set_has returns nonzero if |i| is in |set|. */
int sim_set_has(const sim_set *set, uint32_t i);

/* sim_set_count returns how many of nodes 0..nnodes-1 are in |set|. */
uint32_t sim_set_count(const sim_set *set, uint32_t nnodes);

/* sim_set_nth returns the |k|-th smallest node of |set| below |nnodes|, or
 * UINT32_MAX when there are not that many. */
uint32_t sim_set_nth(const sim_set *set, uint32_t nnodes, uint32_t k);

enum sim_verb {
  SIM_ACT_JOIN = 1,    /* |set| starts, spread evenly over [at, at + span) */
  SIM_ACT_LEAVE,       /* |set| closes gracefully and goes away */
  SIM_ACT_CRASH,       /* |set| vanishes without a word */
  SIM_ACT_RESTART,     /* |set| (down) starts again; |history| */
  SIM_ACT_PARTITION,   /* |set| moves to a new side of a partition */
  SIM_ACT_HEAL,        /* every node back on one side */
  SIM_ACT_LINK,        /* change link parameter |field| of |set| */
  SIM_ACT_CHURN,       /* start a churn process (replaces a running one) */
  SIM_ACT_CHURN_STOP,  /* stop the churn process */
  SIM_ACT_STREAM,      /* the node of |set| starts publishing the stream */
  SIM_ACT_STREAM_STOP, /* the stream ends */
  SIM_ACT_FORGE,       /* |set| become forgers (|rate| > 0) or stop (0) */
  SIM_ACT_REPLICATE,   /* the node of |set| writes objects, all want them */
  SIM_ACT_POST,        /* |count| posts from random members over |span| */
  SIM_ACT_ROUTE,       /* |count| routed messages from members of |set| */
};

/* Link parameters a SIM_ACT_LINK changes. */
enum sim_field {
  SIM_F_UPLINK = 1, /* v[0]: rate bit/s (0 unlimited); v[1]: queue bytes,
                       negative = unchanged */
  SIM_F_DOWNLINK,   /* as SIM_F_UPLINK */
  SIM_F_LOSS,       /* v[0] */
  SIM_F_BURST_LOSS, /* v[0] p_gb, v[1] p_bg, v[2] loss_bad, v[3] loss_good */
  SIM_F_JITTER,     /* v[0] ns */
  SIM_F_REORDER,    /* v[0] probability, v[1] delay ns */
  SIM_F_DUPLICATE,  /* v[0] */
  SIM_F_CORRUPT,    /* v[0] */
};

enum sim_churn_kind {
  SIM_CHURN_CRASH = 1,
  SIM_CHURN_LEAVE = 2,
};

#define SIM_STREAM_NAME_MAX 128 /* the core's limit */
#define SIM_FORGE_RATE 20.0     /* forge SET: attacks a second by default */
#define SIM_POSTS_MAX 100000    /* posts in one post statement */
#define SIM_ROUTE_MAX 1000000   /* route COUNT: at most this many */

typedef struct sim_action {
  uint64_t at;       /* virtual time */
  int verb;          /* enum sim_verb */
  sim_set set;       /* the nodes it applies to ("all" when not given) */
  uint64_t span;     /* SIM_ACT_JOIN, SIM_ACT_POST: spread */
  int history;       /* RESTART, CHURN: restart with the peer history */
  int field;         /* SIM_ACT_LINK: enum sim_field */
  double v[4];       /* SIM_ACT_LINK values */
  int churn_kind;    /* SIM_ACT_CHURN: enum sim_churn_kind */
  double rate;       /* SIM_ACT_CHURN: events per second over the swarm */
  uint64_t downtime; /* SIM_ACT_CHURN: restart after this; 0 = never */
  /* SIM_ACT_REPLICATE (|set| is its one seed): objects, their size, the
   * fetch order (enum sc_repl_strategy). */
  uint64_t obj_count, obj_size;
  int strategy;
  /* SIM_ACT_STREAM (|set| is its one publisher): bit rate, fragment
   * payload size (0: the core's largest), keyframe interval, name. */
  uint64_t bps, frag_size, keyframe;
  char name[SIM_STREAM_NAME_MAX + 1];
  /* SIM_ACT_POST, SIM_ACT_ROUTE: how many, spread over |span|; the
   * bytes of each post */
  uint64_t count, msg_size;
  int line; /* where it was written, for messages */
} sim_action;

/* `bootstrap SET from SET2`: each node of |set| connects to every node of
 * |from| but itself. `bootstrap SET random K`: each node i of |set|
 * connects to |k| distinct nodes drawn from 0..i-1 (all of them when
 * fewer). Rules apply in order each time a node starts. */
typedef struct sim_bootstrap {
  sim_set set;
  sim_set from; /* n == 0 for a random rule */
  uint32_t k;
} sim_bootstrap;

#define SIM_GROUPS_MAX 8
#define SIM_GROUP_SPEC_MAX 512

typedef struct sim_config {
  uint64_t seed;     /* default 1 */
  uint32_t nodes;    /* default 10 */
  uint64_t duration; /* default 60 s */
  sim_placement place;
  sim_link link; /* every node's link before any action */
  /* Core settings; 0 leaves the core's default. */
  uint32_t max_sessions, max_half_open, target_peers;
  uint64_t idle_timeout, keepalive_interval, handshake_timeout;
  uint64_t stream_window, relay_margin, map_interval, manifest_interval;
  uint64_t gap_timeout;
  uint32_t push_peers, push_capacity;
  uint64_t deadline; /* a fragment played later is late; default 2 s */
  int log_level;     /* -1 (default): no core logging; else enum sc_log_level */
  int per_node;      /* the report includes the per-node table */
  sim_bootstrap *boot;
  size_t nboot;
  /* Groups every node joins at every start (group specs, doc/protocol.md
   * §11.1; the core checks them). */
  char groups[SIM_GROUPS_MAX][SIM_GROUP_SPEC_MAX];
  size_t ngroups;
  sim_action *actions; /* sorted by |at| (stable) after sim_config_finish */
  size_t nactions;
} sim_config;

/* sim_config_init fills |c| with the defaults (no bootstrap rule, no
 * action). */
void sim_config_init(sim_config *c);

/* sim_config_free releases what |c| allocated and leaves it initialised. */
void sim_config_free(sim_config *c);

/* sim_config_parse_line parses one statement |line| (comments and blank
 * lines are fine). |where| ("FILE:LINE" or "--option") prefixes messages.
 * Returns 0, or -1 with a message in |err| (at most |errlen| bytes) such as
 * "scn.txt:4: loss: 1.5 is not a probability in [0, 1]". */
int sim_config_parse_line(sim_config *c, const char *line, const char *where,
                          char *err, size_t errlen);

/* sim_config_load parses every line of the file at |path|. Returns 0, or -1
 * with a message naming the file (and line) in |err|. */
int sim_config_load(sim_config *c, const char *path, char *err, size_t errlen);

/* sim_config_is_keyword returns nonzero if |word| starts a statement, so
 * that the command line can accept it as an option. */
int sim_config_is_keyword(const char *word);

/* sim_config_finish checks the whole (every node index below |nodes|,
 * every action before |duration|, at most one stream and a group for it,
 * ...) and sorts the actions by time.
 * Returns 0, or -1 with a message in |err|. */
int sim_config_finish(sim_config *c, char *err, size_t errlen);

/* sim_config_first returns the scenario's first action of |verb| (enum
 * sim_verb), or NULL. */
const sim_action *sim_config_first(const sim_config *c, int verb);

/* sim_link_apply applies a SIM_ACT_LINK action |a| to |l|. */
void sim_link_apply(sim_link *l, const sim_action *a);

#endif /* SIM_SCENARIO_H */
