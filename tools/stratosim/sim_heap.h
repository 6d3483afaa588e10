/*
 * sim_heap.h: the two priority queues that order a stratosim run.
 *
 * Events (datagrams in flight, scenario actions, churn) go into a binary
 * min-heap keyed by (time, insertion sequence): ties fire in the order they
 * were scheduled, so a run never depends on heap layout. Node timers go
 * into an indexed heap with one slot per node, keyed by (deadline, node):
 * a node's deadline changes after almost every datagram it handles, and
 * updating it in place keeps the queue at one entry per node instead of
 * piling up stale timers.
 */
#ifndef SIM_HEAP_H
#define SIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_event {
  uint64_t at;
  uint64_t seq;  /* assigned by sim_events_push */
  uint32_t kind; /* the caller's */
  uint32_t node; /* the caller's */
  void *ptr;     /* the caller's */
} sim_event;

typedef struct sim_events {
  sim_event *h;
  size_t n, cap;
  uint64_t next_seq;
} sim_events;

/* sim_events_init makes |q| empty. */
void sim_events_init(sim_events *q);

/* sim_events_free releases |q|'s memory (not what |ptr|s point to). */
void sim_events_free(sim_events *q);

/* sim_events_push schedules |ev| (its |seq| is overwritten). Returns 0, or
 * -1 when memory runs out. */
int sim_events_push(sim_events *q, const sim_event *ev);

/* sim_events_peek returns the earliest event, or NULL when empty. */
const sim_event *sim_events_peek(const sim_events *q);

/* sim_events_pop removes the earliest event into |out|; returns 0, or -1
 * when empty. */
int sim_events_pop(sim_events *q, sim_event *out);

#define SIM_TIMER_NONE UINT32_MAX

/* An indexed heap of per-node deadlines. */
typedef struct sim_timers {
  uint32_t *h;   /* heap of node indices */
  uint32_t *pos; /* pos[node]: index in h, or SIM_TIMER_NONE */
  uint64_t *at;  /* at[node]: the deadline */
  uint32_t n, cap;
} sim_timers;

/* sim_timers_init makes room for nodes 0..nnodes-1. Returns 0 or -1. */
int sim_timers_init(sim_timers *t, uint32_t nnodes);

/* sim_timers_free releases |t|'s memory. */
void sim_timers_free(sim_timers *t);

/* sim_timers_set sets |node|'s deadline to |at|; UINT64_MAX removes it. */
void sim_timers_set(sim_timers *t, uint32_t node, uint64_t at);

/* sim_timers_min returns the earliest deadline (UINT64_MAX when none) and
 * its node in |*node|. */
uint64_t sim_timers_min(const sim_timers *t, uint32_t *node);

#endif /* SIM_HEAP_H */
