/*
 * sc_cc.h: the congestion controller and pacer of one session
 * (doc/protocol.md §7).
 *
 * NewReno as in RFC 9002 §7 (slow start, congestion avoidance, one window
 * reduction per recovery period, persistent congestion collapses the
 * window), HyStart++ (RFC 9406) to leave slow start when the RTT of a round
 * rises, a delay response in congestion avoidance (one multiplicative
 * decrease per round while the queueing delay stays above a target), and a
 * token-bucket pacer at 1.25 x cwnd / srtt (2 x in slow start).
 *
 * Loss: a loss halves the window, but not below twice the bandwidth-delay
 * product the session delivered lately (the highest delivery rate of the
 * last 8 rounds x min RTT): a loss that comes with no queueing delay is
 * more likely noise on the path than congestion, and a live stream that
 * NewReno halved on every random loss could not keep its rate on a long,
 * lossy path. Congestion shows as delay, which the delay response below
 * answers without that floor, or as heavy loss: above 20% of the bytes of
 * the last rounds (acked and lost, halved each round) there is no floor.
 * Under light loss the window also stays at least the initial window: a
 * session that carries little for a while (a relay's session that sends
 * only maps until it is asked to push) would otherwise be halved to 2
 * packets by a few random losses, and then need many round trips to carry
 * a stream again just when it is asked to.
 *
 * The window grows only while the sender uses at least half of the window
 * it had when the round began (the most in flight over this round or the
 * last), as RFC 9002 §7.8 asks.
 *
 * The delay response: round_min_rtt - min_rtt over at least 8 samples of a
 * round above max(60 ms, min_rtt / 2) cuts cwnd to 85 % (sc_cc.c says why).
 */
#ifndef SC_CC_H
#define SC_CC_H

#include <stddef.h>
#include <stdint.h>

#include "sc_rtt.h"

typedef struct sc_cc {
  uint64_t mss;
  uint64_t cwnd;
  uint64_t ssthresh; /* UINT64_MAX until the first congestion event */
  uint64_t bytes_in_flight;
  uint64_t recovery_start; /* send time at the start of recovery */
  int has_recovery;        /* recovery_start is set (0 is a valid time) */
  uint64_t ca_bytes_acked; /* congestion-avoidance byte counter */
  /* rounds: a round ends when a packet numbered >= round_end is acked */
  uint64_t next_pn;   /* the packet number the next send will use */
  uint64_t round_end; /* packet number that ends the current round */
  uint64_t round_min_rtt, last_round_min_rtt;
  uint64_t round_max_flight, last_round_max_flight; /* bytes in flight */
  uint64_t round_cwnd; /* the window when the round began */
  /* delivery rate: bytes acked per round over its duration, for the last
   * 8 rounds (bytes per second) */
  uint64_t round_start, round_acked;
  uint64_t rates[8];
  unsigned rate_next;
  uint64_t min_rtt; /* the session's, copied from sc_rtt on each ACK */
  uint64_t acked_acc, lost_acc; /* bytes, halved at each round's end */
  uint32_t round_samples;
  int delay_reduced_this_round;
  /* pacing */
  uint64_t pace_tokens; /* bytes that may leave now */
  uint64_t pace_last;   /* when the tokens were last refilled */
} sc_cc;

/* sc_cc_init starts in slow start with a window of 10 * |mss| (at least
 * 14720 bytes if 10 * mss is smaller, as RFC 9002 recommends) at |now|. */
void sc_cc_init(sc_cc *cc, size_t mss, uint64_t now);

/* sc_cc_on_sent accounts |bytes| of an in-flight packet numbered |pn| sent
 * at |now| and spends pacing tokens. */
void sc_cc_on_sent(sc_cc *cc, uint64_t pn, size_t bytes, uint64_t now);

/* sc_cc_on_acked processes one newly acknowledged in-flight packet numbered
 * |pn| of |bytes|, sent at |sent_time|; |rtt| already holds any sample this
 * ACK produced. Grows the window outside recovery, runs HyStart++ and the
 * delay response. */
void sc_cc_on_acked(sc_cc *cc, uint64_t pn, size_t bytes, uint64_t sent_time,
                    const sc_rtt *rtt, uint64_t now);

/* sc_cc_on_lost removes a lost packet from flight and, if it was sent after
 * the current recovery period began, halves the window and starts a new
 * recovery period at |now|. */
void sc_cc_on_lost(sc_cc *cc, size_t bytes, uint64_t sent_time, uint64_t now);

/* sc_cc_on_persistent_congestion collapses the window to 2 * mss. */
void sc_cc_on_persistent_congestion(sc_cc *cc);

/* sc_cc_can_send returns nonzero if a packet of |bytes| fits the window. */
int sc_cc_can_send(const sc_cc *cc, size_t bytes);

/* sc_cc_pacing_rate returns the pacing rate in bytes per second for
 * |rtt|, or 0 before the first RTT sample (no pacing yet). */
uint64_t sc_cc_pacing_rate(const sc_cc *cc, const sc_rtt *rtt);

/* sc_cc_next_send_time returns the earliest time, not before |now|, at
 * which a packet of |bytes| may leave under the pacer. It refills tokens up
 * to a burst of 10 * mss. */
uint64_t sc_cc_next_send_time(sc_cc *cc, const sc_rtt *rtt, size_t bytes,
                              uint64_t now);

#endif /* SC_CC_H */
