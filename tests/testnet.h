/*
 * testnet.h: an in-memory network of real cores under a fake clock, for
 * the unit tests. Datagrams sent by one node are queued with a delay and
 * delivered to whichever node owns the destination address; a seeded
 * generator drops a chosen fraction of them. Everything is deterministic
 * for a given seed.
 */
#ifndef SC_TESTNET_H
#define SC_TESTNET_H

#include <stddef.h>
#include <stdint.h>

#include "stratocast.h"

#define TN_MAX_NODES 256

typedef struct tn tn;

/* A stream sink sees every played chunk of every node. */
typedef void (*tn_play_fn)(void *arg, int node, const sc_play_chunk *chunk);

/* A post sink sees every post delivered to every node. */
typedef void (*tn_post_fn)(void *arg, int node, const sc_post_event *ev);

/* A routed sink sees every routed message delivered to every node. */
typedef void (*tn_routed_fn)(void *arg, int node, const sc_route_event *ev);

/* An object sink sees every object a node fetched and stored. */
typedef void (*tn_object_fn)(void *arg, int node, const sc_object_event *ev);

/* A tap sees every datagram at send time, before loss is decided. */
typedef void (*tn_tap_fn)(void *arg, int from_node, const sc_addr *from,
                          const sc_addr *to, const uint8_t *data, size_t len);

typedef struct tn_node {
  tn *net;
  int index;
  sc_node *node; /* NULL while the node is down */
  sc_addr addr;
  uint8_t secret[SC_KEY_LEN];
  uint64_t rng;
  int events_up, events_down, events_failed;
  int last_down_reason;
} tn_node;

/* tn_new creates an empty network at time 0 with a one-way delay of 10 ms
 * and no loss. Aborts on allocation failure (test code). */
tn *tn_new(uint64_t seed);

/* tn_del frees the network and every node in it. */
void tn_del(tn *net);

/* tn_add adds a node listening on "10.0.0.N:4433" style address |addr|
 * (NULL: one is made up), with a secret derived from the seed. |settings|
 * may be NULL for defaults; |mem| may be NULL. Returns its index, or a
 * negative SC_ERR_* when sc_node_new failed (the slot is then unused). */
int tn_add(tn *net, const char *addr, const sc_settings *settings,
           const sc_mem *mem);

/* tn_get returns node |i|. */
tn_node *tn_get(tn *net, int i);

/* tn_set_loss drops each datagram with probability |permille| / 1000. */
void tn_set_loss(tn *net, unsigned permille);

/* tn_set_delay sets the one-way delay for every datagram. */
void tn_set_delay(tn *net, uint64_t delay);

/* tn_set_tap installs |fn| (NULL removes it). */
void tn_set_tap(tn *net, tn_tap_fn fn, void *arg);

/* tn_set_play installs the stream sink |fn| (NULL removes it). */
void tn_set_play(tn *net, tn_play_fn fn, void *arg);

/* tn_set_post installs the post sink |fn| (NULL removes it). */
void tn_set_post(tn *net, tn_post_fn fn, void *arg);

/* tn_set_routed installs the routed sink |fn| (NULL removes it). */
void tn_set_routed(tn *net, tn_routed_fn fn, void *arg);

/* tn_set_object installs the object sink |fn| (NULL removes it). */
void tn_set_object(tn *net, tn_object_fn fn, void *arg);

/* tn_now returns the current virtual time. */
uint64_t tn_now(const tn *net);

/* tn_connect makes node |i| keep a session with node |j|'s address. */
int tn_connect(tn *net, int i, int j);

/* tn_group adds |n| nodes with default settings, node i at 10.0.i.1:4433
 * (one /24 each), joins each to the group |spec| and connects each to
 * node 0. Returns 0, or -1 if a node could not be added or join (the
 * nodes must be the network's first). */
int tn_group(tn *net, int n, const char *spec);

/* tn_run advances virtual time by |duration|, delivering datagrams and
 * firing node timers in time order. */
void tn_run(tn *net, uint64_t duration);

/* tn_run_until runs until |pred| returns nonzero (checked after every
 * event) or |limit| of virtual time passes; returns the pred result. */
int tn_run_until(tn *net, int (*pred)(tn *net, void *arg), void *arg,
                 uint64_t limit);

/* tn_crash removes node |i| without any goodbye; datagrams to it vanish. */
void tn_crash(tn *net, int i);

/* tn_restart brings node |i| back with the same secret and address (a new
 * process: new incarnation, no sessions). Returns sc_node_new's result. */
int tn_restart(tn *net, int i, const sc_settings *settings);

/* tn_move changes node |i|'s address: what it sends now comes from
 * |addr|, and datagrams to the old address are lost. */
void tn_move(tn *net, int i, const char *addr);

/* tn_inject delivers |data| to node |i| at once as if it came from
 * |from|. Returns sc_node_recv's result. */
int tn_inject(tn *net, int i, const sc_addr *from, const uint8_t *data,
              size_t len);

/* tn_session_with returns node |i|'s session info with node |j| (by peer
 * ID, established only) in |out|, or 0 if there is none. Counts how many
 * such sessions exist in |*count| when |count| is not NULL. */
int tn_session_with(tn *net, int i, int j, sc_session_info *out, int *count);

/* tn_catch_sealed runs the network for one keepalive interval (11 s) with
 * every datagram lost, and copies into |out| (|cap| bytes) the last DATA
 * packet node |i| sent: a genuine sealed packet that nobody received, for
 * tests that forge, replay or redirect it. The caller's tap still sees the
 * traffic; loss and tap are restored. Returns its length, 0 if none. */
size_t tn_catch_sealed(tn *net, int i, uint8_t *out, size_t cap);

/* tn_pair_up is a tn_run_until predicate: |arg| points to two node
 * indices, and each must hold an established session with the other. */
int tn_pair_up(tn *net, void *arg);

/* tn_stats returns node |i|'s counters. */
sc_node_stats tn_stats(tn *net, int i);

/* tn_addr parses |s| or aborts. */
sc_addr tn_addr(const char *s);

/* tn_queued returns the datagrams in flight. */
size_t tn_queued(const tn *net);

#endif /* SC_TESTNET_H */
