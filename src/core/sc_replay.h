/*
 * sc_replay.h: the receive window of one session (doc/protocol.md §6.2).
 *
 * It remembers which of the last SC_REPLAY_WINDOW packet numbers arrived,
 * so it both rejects replays and feeds the ACK ranges: one record of what
 * was received serves both.
 */
#ifndef SC_REPLAY_H
#define SC_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define SC_REPLAY_WINDOW 2048 /* bits; a multiple of 64 */

typedef struct sc_replay {
  uint64_t top; /* highest packet number accepted plus one; 0 = none yet */
  uint64_t bits[SC_REPLAY_WINDOW / 64]; /* ring: bit (pn % window) */
} sc_replay;

/* sc_replay_init empties |w|. */
void sc_replay_init(sc_replay *w);

/* sc_replay_check returns 0 if |pn| has not been seen and is inside the
 * window, else SC_ERR_REPLAY. It changes nothing: call it before the costly
 * decryption, and sc_replay_update only after authentication succeeds. */
int sc_replay_check(const sc_replay *w, uint64_t pn);

/* sc_replay_update records |pn| as received. |pn| must have passed
 * sc_replay_check. */
void sc_replay_update(sc_replay *w, uint64_t pn);

/* sc_replay_has returns nonzero if |pn| is recorded as received (packets
 * that slid out of the window count as not received). */
int sc_replay_has(const sc_replay *w, uint64_t pn);

/* One run of received packet numbers, |hi| >= |lo|, both inclusive. */
typedef struct sc_pn_range {
  uint64_t lo, hi;
} sc_pn_range;

/* sc_replay_ranges writes up to |max| runs of received packet numbers into
 * |out|, highest first, never looking below |floor|, and returns how many it
 * wrote. */
size_t sc_replay_ranges(const sc_replay *w, uint64_t floor, sc_pn_range *out,
                        size_t max);

#endif /* SC_REPLAY_H */
