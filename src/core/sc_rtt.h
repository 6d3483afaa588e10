/*
 * sc_rtt.h: round-trip time estimation (RFC 9002 §5 semantics).
 */
#ifndef SC_RTT_H
#define SC_RTT_H

#include <stdint.h>

#define SC_RTT_INITIAL (333 * (uint64_t)1000000) /* RFC 9002 kInitialRtt */
#define SC_RTT_GRANULARITY ((uint64_t)1000000)   /* 1 ms */

typedef struct sc_rtt {
  uint64_t latest;   /* last sample, ns */
  uint64_t adjusted; /* ... less the peer's ACK delay, as trusted */
  uint64_t smoothed; /* srtt, ns */
  uint64_t var;      /* rttvar, ns */
  uint64_t min;      /* minimum sample over the session, ns */
  int has_sample;
} sc_rtt;

/* sc_rtt_init sets srtt to |initial| and rttvar to initial/2, no sample. */
void sc_rtt_init(sc_rtt *r, uint64_t initial);

/* sc_rtt_update folds in |sample| (ack receipt time minus send time) with
 * the peer's reported |ack_delay|, which is subtracted only when that keeps
 * the sample at or above min_rtt, and capped at |max_ack_delay|. The first
 * sample sets srtt = sample, rttvar = sample / 2. Samples of 0 are raised to
 * 1 ns. */
void sc_rtt_update(sc_rtt *r, uint64_t sample, uint64_t ack_delay,
                   uint64_t max_ack_delay);

/* sc_rtt_pto returns srtt + max(4 * rttvar, granularity) + |max_ack_delay|:
 * the probe timeout before backoff. */
uint64_t sc_rtt_pto(const sc_rtt *r, uint64_t max_ack_delay);

/* sc_rtt_loss_delay returns max(9/8 * max(srtt, latest), granularity): how
 * long after a later packet was acknowledged an unacknowledged one is
 * declared lost. */
uint64_t sc_rtt_loss_delay(const sc_rtt *r);

#endif /* SC_RTT_H */
