/*
 * sc_rtt.c: round-trip time estimation (RFC 9002 §5).
 *
 * Integer nanoseconds throughout; the 7/8 and 3/4 weights round down, as
 * in ngtcp2. The products 7 * srtt and 3 * rttvar overflow only for RTTs of
 * decades.
 */
#include "sc_rtt.h"

#include "sc_macro.h"

void sc_rtt_init(sc_rtt *r, uint64_t initial) {
  r->latest = 0;
  r->smoothed = initial;
  r->var = initial / 2;
  r->min = 0;
  r->has_sample = 0;
}

void sc_rtt_update(sc_rtt *r, uint64_t sample, uint64_t ack_delay,
                   uint64_t max_ack_delay) {
  uint64_t adjusted, diff;
  if (sample == 0) {
    sample = 1;
  }
  r->latest = sample;
  r->adjusted = sample;
  if (!r->has_sample) {
    /* RFC 9002 §5.3: the first sample replaces the initial estimate. */
    r->min = sample;
    r->smoothed = sample;
    r->var = sample / 2;
    r->has_sample = 1;
    return;
  }
  /* RFC 9002 §5.2: min_rtt ignores ack_delay. */
  r->min = SC_MIN(r->min, sample);
  /* RFC 9002 §5.3: trust the peer's delay only up to max_ack_delay, and
   * never so far that the sample drops below min_rtt. sample >= min here,
   * so the subtraction cannot wrap. */
  ack_delay = SC_MIN(ack_delay, max_ack_delay);
  adjusted = sample;
  if (sample - r->min >= ack_delay) {
    adjusted = sample - ack_delay;
  }
  r->adjusted = adjusted;
  diff =
      r->smoothed > adjusted ? r->smoothed - adjusted : adjusted - r->smoothed;
  r->var = (3 * r->var + diff) / 4;
  r->smoothed = (7 * r->smoothed + adjusted) / 8;
}

uint64_t sc_rtt_pto(const sc_rtt *r, uint64_t max_ack_delay) {
  /* RFC 9002 §6.2.1 */
  return r->smoothed + SC_MAX(4 * r->var, SC_RTT_GRANULARITY) + max_ack_delay;
}

uint64_t sc_rtt_loss_delay(const sc_rtt *r) {
  /* RFC 9002 §6.1.2: kTimeThreshold = 9/8; x + x / 8 == floor(9x / 8). */
  uint64_t base = SC_MAX(r->smoothed, r->latest);
  return SC_MAX(base + base / 8, SC_RTT_GRANULARITY);
}
