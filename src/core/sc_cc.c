/*
 * sc_cc.c: the congestion controller and pacer of one session
 * (doc/protocol.md §7).
 *
 * NewReno with byte counting (RFC 9002 §7), HyStart++ without Conservative
 * Slow Start (RFC 9406 §4.2: leaving slow start goes straight to congestion
 * avoidance), a delay response and a token-bucket pacer.
 *
 * Rounds: a round ends when a packet numbered at or above round_end is
 * acknowledged; the next one then runs until the packets sent so far are
 * acknowledged. The ACK that ends a round is the first sample of the next,
 * as in Linux's HyStart.
 *
 * Delay response: in congestion avoidance, once a round has at least 8 RTT
 * samples, its queueing delay is round_min_rtt - min_rtt. When that exceeds
 * the target max(60 ms, min_rtt / 2) the window shrinks to 85 % (never
 * below 2 * mss) and ssthresh follows, at most once per round and never
 * within a recovery period. The target tolerates the standing queue of a
 * cellular or Wi-Fi link (tens of ms) without reacting, and the min_rtt / 2
 * term keeps long paths, whose RTT jitters more in absolute terms, from
 * shrinking on noise.
 *
 * Pacing: the host asks sc_cc_next_send_time before each send and sends
 * only when it returns |now|; sc_cc_on_sent then spends the tokens. Only
 * next_send_time refills, because on_sent has no RTT to compute a rate.
 * Refills credit whole bytes and carry the unused part of the elapsed time
 * over, so frequent calls do not lose tokens to rounding.
 *
 * All arithmetic is 64-bit integer; products that may exceed 64 bits go
 * through mul_div, a portable 64 x 64 / 64 with a 128-bit intermediate.
 */
#include "sc_cc.h"

#include <string.h>

#include "sc_macro.h"

#define INITIAL_WINDOW_FLOOR 14720 /* RFC 9002 §7.2 */
#define HYSTART_MIN_SAMPLES 8      /* RFC 9406 N_RTT_SAMPLE */
#define HYSTART_MIN_ETA (4 * SC_MS)
#define HYSTART_MAX_ETA (16 * SC_MS)
#define DELAY_MIN_SAMPLES 8
#define DELAY_TARGET_FLOOR (60 * SC_MS)
#define DELAY_DECREASE_PCT 85
#define BURST_PACKETS 10

/* floor(a * b / c) for c > 0, saturating at UINT64_MAX; |*rem_nonzero|
 * says whether the division left a remainder. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c, int *rem_nonzero) {
  const uint64_t m32 = 0xffffffffu;
  uint64_t p00, p01, p10, mid, lo, hi, r, q = 0;
  int i;
  if (b == 0 || a <= UINT64_MAX / b) {
    *rem_nonzero = (a * b) % c != 0;
    return a * b / c;
  }
  p00 = (a & m32) * (b & m32);
  p01 = (a & m32) * (b >> 32);
  p10 = (a >> 32) * (b & m32);
  mid = (p00 >> 32) + (p01 & m32) + (p10 & m32);
  lo = (p00 & m32) | mid << 32;
  hi = (a >> 32) * (b >> 32) + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  if (hi >= c) {
    *rem_nonzero = 1;
    return UINT64_MAX;
  }
  /* Shift-subtract long division of hi:lo by c; r < c throughout, so a
   * carry out of r means r + 2^64 >= c. */
  r = hi;
  for (i = 63; i >= 0; i--) {
    uint64_t carry = r >> 63;
    r = r << 1 | ((lo >> i) & 1);
    q <<= 1;
    if (carry || r >= c) {
      r -= c;
      q |= 1;
    }
  }
  *rem_nonzero = r != 0;
  return q;
}

static uint64_t mul_div_floor(uint64_t a, uint64_t b, uint64_t c) {
  int rem;
  return mul_div(a, b, c, &rem);
}

static uint64_t mul_div_ceil(uint64_t a, uint64_t b, uint64_t c) {
  int rem;
  uint64_t q = mul_div(a, b, c, &rem);
  return rem && q != UINT64_MAX ? q + 1 : q;
}

static uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

static uint64_t min_window(const sc_cc *cc) { return 2 * cc->mss; }

static uint64_t initial_window(const sc_cc *cc) {
  return SC_MAX(BURST_PACKETS * cc->mss, (uint64_t)INITIAL_WINDOW_FLOOR);
}

static int is_slow_start(const sc_cc *cc) { return cc->cwnd < cc->ssthresh; }

/* RFC 9002 §7.3.2: packets sent before the recovery period began do not
 * move the window. */
static int is_in_recovery(const sc_cc *cc, uint64_t sent_time) {
  return cc->has_recovery && sent_time <= cc->recovery_start;
}

void sc_cc_init(sc_cc *cc, size_t mss, uint64_t now) {
  memset(cc, 0, sizeof(*cc));
  cc->mss = mss;
  cc->cwnd = initial_window(cc);
  cc->round_cwnd = cc->cwnd;
  cc->ssthresh = UINT64_MAX;
  cc->round_min_rtt = UINT64_MAX;
  cc->last_round_min_rtt = UINT64_MAX;
  cc->pace_tokens = BURST_PACKETS * cc->mss;
  cc->pace_last = now;
}

void sc_cc_on_sent(sc_cc *cc, uint64_t pn, size_t bytes, uint64_t now) {
  (void)now;
  cc->bytes_in_flight += bytes;
  cc->round_max_flight = SC_MAX(cc->round_max_flight, cc->bytes_in_flight);
  if (pn >= cc->next_pn) {
    cc->next_pn = pn == UINT64_MAX ? UINT64_MAX : pn + 1;
  }
  cc->pace_tokens = sat_sub(cc->pace_tokens, bytes);
}

/* The highest delivery rate of the last rounds, bytes per second. */
static uint64_t max_rate(const sc_cc *cc) {
  uint64_t m = 0;
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(cc->rates); i++) {
    m = SC_MAX(m, cc->rates[i]);
  }
  return m;
}

static void track_round(sc_cc *cc, uint64_t pn, const sc_rtt *rtt,
                        uint64_t now) {
  if (pn >= cc->round_end) {
    int rem;
    if (now > cc->round_start && cc->round_acked > 0) {
      cc->rates[cc->rate_next++ % SC_ARRAY_LEN(cc->rates)] =
          mul_div(cc->round_acked, SC_SEC, now - cc->round_start, &rem);
    }
    cc->round_start = now;
    cc->round_acked = 0;
    cc->acked_acc /= 2;
    cc->lost_acc /= 2;
    cc->last_round_min_rtt = cc->round_min_rtt;
    cc->round_min_rtt = UINT64_MAX;
    cc->round_samples = 0;
    cc->delay_reduced_this_round = 0;
    cc->round_end = cc->next_pn;
    cc->last_round_max_flight = cc->round_max_flight;
    cc->round_max_flight = cc->bytes_in_flight;
    cc->round_cwnd = cc->cwnd;
  }
  if (rtt->has_sample) {
    /* Less the ACK delay: a receiver that holds ACKs of datagrams for up
     * to SC_DGRAM_ACK_DELAY must not look like a growing queue. */
    cc->round_min_rtt = SC_MIN(cc->round_min_rtt, rtt->adjusted);
    if (cc->round_samples < UINT32_MAX) {
      cc->round_samples++;
    }
  }
}

static void slow_start(sc_cc *cc, uint64_t bytes) {
  uint64_t eta;
  cc->cwnd += bytes;
  /* RFC 9406 §4.3: only the initial slow start; after a congestion event
   * ssthresh is already a better limit than the RTT. */
  if (cc->ssthresh != UINT64_MAX || cc->round_samples < HYSTART_MIN_SAMPLES ||
      cc->last_round_min_rtt == UINT64_MAX || cc->round_min_rtt == UINT64_MAX) {
    return;
  }
  /* RFC 9406 §4.2: RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms). */
  eta = cc->last_round_min_rtt / 8;
  eta = SC_MIN(SC_MAX(eta, HYSTART_MIN_ETA), HYSTART_MAX_ETA);
  if (cc->round_min_rtt >= cc->last_round_min_rtt + eta) {
    cc->ssthresh = cc->cwnd;
  }
}

/* Returns 1 if the window was reduced for queueing delay. */
static int delay_response(sc_cc *cc, const sc_rtt *rtt) {
  uint64_t queue, target, cwnd;
  if (cc->delay_reduced_this_round || !rtt->has_sample ||
      cc->round_samples < DELAY_MIN_SAMPLES ||
      cc->round_min_rtt == UINT64_MAX) {
    return 0;
  }
  queue = sat_sub(cc->round_min_rtt, rtt->min);
  target = SC_MAX(DELAY_TARGET_FLOOR, rtt->min / 2);
  if (queue <= target) {
    return 0;
  }
  /* cwnd * 85 / 100 without the product overflowing. */
  cwnd = cc->cwnd / 100 * DELAY_DECREASE_PCT +
         cc->cwnd % 100 * DELAY_DECREASE_PCT / 100;
  cc->cwnd = SC_MAX(cwnd, min_window(cc));
  cc->ssthresh = cc->cwnd;
  cc->ca_bytes_acked = 0;
  cc->delay_reduced_this_round = 1;
  return 1;
}

static void congestion_avoidance(sc_cc *cc, uint64_t bytes) {
  /* RFC 3465 byte counting: one mss per window's worth of acked bytes. */
  cc->ca_bytes_acked += bytes;
  while (cc->ca_bytes_acked >= cc->cwnd) {
    cc->ca_bytes_acked -= cc->cwnd;
    cc->cwnd += cc->mss;
  }
}

void sc_cc_on_acked(sc_cc *cc, uint64_t pn, size_t bytes, uint64_t sent_time,
                    const sc_rtt *rtt, uint64_t now) {
  cc->bytes_in_flight = sat_sub(cc->bytes_in_flight, bytes);
  track_round(cc, pn, rtt, now);
  cc->round_acked += bytes;
  cc->acked_acc += bytes;
  if (rtt->has_sample) {
    cc->min_rtt = rtt->min;
  }
  if (is_in_recovery(cc, sent_time)) {
    return;
  }
  /* RFC 9002 §7.8: a sender that used less than half the window it had
   * at the start of this round, in this round or the last, has not shown
   * that the path takes more; a live stream at a steady rate would
   * otherwise grow the window without bound. */
  if (2 * SC_MAX(cc->round_max_flight, cc->last_round_max_flight) <
      cc->round_cwnd) {
    bytes = 0;
  }
  if (is_slow_start(cc)) {
    slow_start(cc, bytes);
    return;
  }
  /* A reduction replaces this ACK's growth. */
  if (!delay_response(cc, rtt) && bytes > 0) {
    congestion_avoidance(cc, bytes);
  }
}

void sc_cc_on_lost(sc_cc *cc, size_t bytes, uint64_t sent_time, uint64_t now) {
  cc->bytes_in_flight = sat_sub(cc->bytes_in_flight, bytes);
  cc->lost_acc += bytes;
  if (is_in_recovery(cc, sent_time)) {
    return;
  }
  /* RFC 9002 §7.3.2: one reduction per recovery period; under light loss
   * not below twice the delivered bandwidth-delay product, nor below the
   * initial window (see sc_cc.h). */
  cc->has_recovery = 1;
  cc->recovery_start = now;
  {
    int rem;
    uint64_t floor = SC_MAX(
        2 * mul_div(max_rate(cc), cc->min_rtt, SC_SEC, &rem), initial_window(cc));
    if (5 * cc->lost_acc > cc->lost_acc + cc->acked_acc) {
      floor = 0; /* heavy loss: no floor */
    }
    cc->ssthresh =
        SC_MAX(SC_MAX(cc->cwnd / 2, min_window(cc)), SC_MIN(floor, cc->cwnd));
  }
  cc->cwnd = cc->ssthresh;
  cc->ca_bytes_acked = 0;
}

void sc_cc_on_persistent_congestion(sc_cc *cc) {
  /* RFC 9002 §7.6.2 */
  cc->cwnd = min_window(cc);
  cc->has_recovery = 0;
  cc->recovery_start = 0;
  cc->ca_bytes_acked = 0;
}

int sc_cc_can_send(const sc_cc *cc, size_t bytes) {
  return bytes <= cc->cwnd && cc->bytes_in_flight <= cc->cwnd - bytes;
}

uint64_t sc_cc_pacing_rate(const sc_cc *cc, const sc_rtt *rtt) {
  /* bytes per second = cwnd * gain / srtt, with srtt in ns. */
  uint64_t gain_ns = is_slow_start(cc) ? 2 * SC_SEC : SC_SEC + SC_SEC / 4;
  uint64_t rate;
  if (!rtt->has_sample) {
    return 0;
  }
  rate = mul_div_floor(cc->cwnd, gain_ns, SC_MAX(rtt->smoothed, 1));
  /* 0 means "not pacing"; a paced session always gets some rate. */
  return SC_MAX(rate, 1);
}

/* Adds the tokens earned since pace_last at |rate|, up to the burst. */
static void refill(sc_cc *cc, uint64_t rate, uint64_t now) {
  uint64_t room = sat_sub(BURST_PACKETS * cc->mss, cc->pace_tokens), earned;
  if (now <= cc->pace_last) {
    return;
  }
  if (rate == 0) {
    /* Not pacing: nothing is earned, and the idle time is not banked. */
    cc->pace_last = now;
    return;
  }
  earned = mul_div_floor(rate, now - cc->pace_last, SC_SEC);
  if (earned >= room) {
    /* A full bucket forgets the rest of the elapsed time. */
    cc->pace_tokens += room;
    cc->pace_last = now;
    return;
  }
  cc->pace_tokens += earned;
  /* Keep the part of a byte not yet earned for the next refill; the
   * ceiling can only undercredit, by under 1 ns per refill. */
  cc->pace_last += mul_div_ceil(earned, SC_SEC, rate);
}

uint64_t sc_cc_next_send_time(sc_cc *cc, const sc_rtt *rtt, size_t bytes,
                              uint64_t now) {
  uint64_t rate = sc_cc_pacing_rate(cc, rtt), wait, at;
  refill(cc, rate, now);
  if (rate == 0 || cc->pace_tokens >= bytes) {
    return now;
  }
  /* Count from pace_last, not |now|: the time banked since the last whole
   * byte already pays for part of the wait. */
  wait = mul_div_ceil(bytes - cc->pace_tokens, SC_SEC, rate);
  at = wait > UINT64_MAX - cc->pace_last ? UINT64_MAX : cc->pace_last + wait;
  return SC_MAX(at, now);
}
