/*
 * check_cc.c: congestion control and pacing (src/core/sc_cc.c).
 *
 * The expected windows are worked out by hand in the comments; mss is 1200
 * bytes, so the initial window is the 14720-byte floor.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "check_main.h"
#include "sc_cc.h"
#include "sc_macro.h"

#define MSS 1200

static sc_cc cc;
static sc_rtt rtt;

static void setup(void) {
  sc_cc_init(&cc, MSS, 0);
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
}

/* Sends |n| packets of MSS bytes at |now|; returns the first number. */
static uint64_t send_n(unsigned n, uint64_t now) {
  uint64_t first = cc.next_pn, i;
  for (i = 0; i < n; i++) {
    sc_cc_on_sent(&cc, first + i, MSS, now);
  }
  return first;
}

/* Acknowledges packet |pn| sent at |sent| with an RTT sample of |sample|. */
static void ack(uint64_t pn, uint64_t sent, uint64_t sample) {
  sc_rtt_update(&rtt, sample, 0, 0);
  sc_cc_on_acked(&cc, pn, MSS, sent, &rtt, sent + sample);
}

/* One round: |n| packets sent at |now|, all acked after |sample|. Returns
 * the time of the last ACK. */
static uint64_t round_trip(unsigned n, uint64_t sample, uint64_t now) {
  uint64_t first = send_n(n, now), i;
  for (i = 0; i < n; i++) {
    ack(first + i, now, sample);
  }
  return now + sample;
}

START_TEST(test_initial_window) {
  ck_assert_uint_eq(cc.cwnd, 14720);
  ck_assert_uint_eq(cc.ssthresh, UINT64_MAX);
  ck_assert_uint_eq(cc.bytes_in_flight, 0);
  ck_assert_int_eq(cc.has_recovery, 0);
  sc_cc_init(&cc, 1500, 0);
  ck_assert_uint_eq(cc.cwnd, 15000);
}
END_TEST

START_TEST(test_can_send) {
  send_n(12, 0);
  ck_assert_uint_eq(cc.bytes_in_flight, 14400);
  ck_assert_int_eq(sc_cc_can_send(&cc, 320), 1);
  ck_assert_int_eq(sc_cc_can_send(&cc, 321), 0);
  ck_assert_int_eq(sc_cc_can_send(&cc, SIZE_MAX), 0);
}
END_TEST

START_TEST(test_next_pn) {
  sc_cc_on_sent(&cc, 5, MSS, 0);
  ck_assert_uint_eq(cc.next_pn, 6);
  sc_cc_on_sent(&cc, 3, MSS, 0);
  ck_assert_uint_eq(cc.next_pn, 6);
  sc_cc_on_sent(&cc, UINT64_MAX, MSS, 0);
  ck_assert_uint_eq(cc.next_pn, UINT64_MAX);
}
END_TEST

START_TEST(test_no_underflow) {
  send_n(1, 0);
  sc_cc_on_acked(&cc, 0, 5000, 0, &rtt, 10);
  ck_assert_uint_eq(cc.bytes_in_flight, 0);
  sc_cc_on_lost(&cc, 5000, 0, 20);
  ck_assert_uint_eq(cc.bytes_in_flight, 0);
}
END_TEST

START_TEST(test_slow_start) {
  round_trip(10, 100 * SC_MS, 0);
  ck_assert_uint_eq(cc.cwnd, 14720 + 10 * MSS);
  ck_assert_uint_eq(cc.bytes_in_flight, 0);
  ck_assert_uint_eq(cc.ssthresh, UINT64_MAX);
}
END_TEST

START_TEST(test_one_reduction_per_recovery) {
  uint64_t i;
  for (i = 0; i < 10; i++) {
    sc_cc_on_sent(&cc, i, MSS, (i + 1) * SC_MS);
  }
  sc_cc_on_lost(&cc, MSS, 1 * SC_MS, 50 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 7360);
  ck_assert_uint_eq(cc.ssthresh, 7360);
  ck_assert_int_eq(cc.has_recovery, 1);
  ck_assert_uint_eq(cc.recovery_start, 50 * SC_MS);
  /* Sent before recovery began: no second cut, no growth. */
  sc_cc_on_lost(&cc, MSS, 2 * SC_MS, 51 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 7360);
  ack(2, 3 * SC_MS, 100 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 7360);
  ck_assert_uint_eq(cc.bytes_in_flight, 7 * MSS);
  /* A packet sent after it starts a new period. */
  sc_cc_on_sent(&cc, 10, MSS, 60 * SC_MS);
  sc_cc_on_lost(&cc, MSS, 60 * SC_MS, 100 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 3680);
  ck_assert_uint_eq(cc.ssthresh, 3680);
  ck_assert_uint_eq(cc.recovery_start, 100 * SC_MS);
  /* The window never drops below 2 * mss. */
  sc_cc_on_lost(&cc, MSS, 101 * SC_MS, 110 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 2400);
  sc_cc_on_lost(&cc, MSS, 111 * SC_MS, 120 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 2400);
  ck_assert_uint_eq(cc.ssthresh, 2400);
}
END_TEST

START_TEST(test_recovery_at_time_zero) {
  send_n(3, 0);
  sc_cc_on_lost(&cc, MSS, 0, 0);
  ck_assert_uint_eq(cc.cwnd, 7360);
  sc_cc_on_lost(&cc, MSS, 0, 0);
  ck_assert_uint_eq(cc.cwnd, 7360);
  sc_cc_on_acked(&cc, 2, MSS, 0, &rtt, 0);
  ck_assert_uint_eq(cc.cwnd, 7360);
}
END_TEST

START_TEST(test_congestion_avoidance) {
  uint64_t first, i;
  send_n(1, 0);
  sc_cc_on_lost(&cc, MSS, 0, SC_MS);
  ck_assert_uint_eq(cc.cwnd, 7360);
  first = send_n(7, 2 * SC_MS);
  for (i = 0; i < 6; i++) {
    ack(first + i, 2 * SC_MS, 100 * SC_MS);
  }
  ck_assert_uint_eq(cc.cwnd, 7360);
  ck_assert_uint_eq(cc.ca_bytes_acked, 7200);
  /* 8400 >= 7360: one mss, the remainder carries over. */
  ack(first + 6, 2 * SC_MS, 100 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 8560);
  ck_assert_uint_eq(cc.ca_bytes_acked, 1040);
  /* The next mss takes a full 8560 bytes: 1040 + 6 * 1200 < 8560. */
  first = send_n(7, 200 * SC_MS);
  for (i = 0; i < 6; i++) {
    ack(first + i, 200 * SC_MS, 100 * SC_MS);
  }
  ck_assert_uint_eq(cc.cwnd, 8560);
  ack(first + 6, 200 * SC_MS, 100 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 9760);
  ck_assert_uint_eq(cc.ca_bytes_acked, 880);
  /* Exactly one window's worth is enough. */
  sc_cc_on_sent(&cc, cc.next_pn, 9760 - 880, 300 * SC_MS);
  sc_cc_on_acked(&cc, cc.next_pn - 1, 9760 - 880, 300 * SC_MS, &rtt,
                 400 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 10960);
  ck_assert_uint_eq(cc.ca_bytes_acked, 0);
}
END_TEST

START_TEST(test_persistent_congestion) {
  send_n(2, 0);
  sc_cc_on_lost(&cc, MSS, 0, SC_MS);
  ck_assert_uint_eq(cc.cwnd, 7360);
  sc_cc_on_persistent_congestion(&cc);
  ck_assert_uint_eq(cc.cwnd, 2400);
  ck_assert_uint_eq(cc.ssthresh, 7360);
  ck_assert_int_eq(cc.has_recovery, 0);
  /* Recovery is over: even an old packet grows the window, in slow start
   * up to ssthresh. */
  ack(1, 0, 100 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 3600);
}
END_TEST

/* ---- HyStart++ ---------------------------------------------------------- */

START_TEST(test_hystart_exit) {
  uint64_t t = round_trip(10, 100 * SC_MS, 0);
  ck_assert_uint_eq(cc.cwnd, 26720);
  ck_assert_uint_eq(cc.round_min_rtt, 100 * SC_MS);
  /* eta = 100 / 8 = 12.5 ms; the 8th sample of the round at 112.5 ms ends
   * slow start at 26720 + 8 * 1200; the last four ACKs count in CA. (12
   * packets: at least half the window in flight, so it may grow.) */
  round_trip(12, 112500 * 1000, t);
  ck_assert_uint_eq(cc.last_round_min_rtt, 100 * SC_MS);
  ck_assert_uint_eq(cc.ssthresh, 36320);
  ck_assert_uint_eq(cc.cwnd, 36320);
  ck_assert_uint_eq(cc.ca_bytes_acked, 4800);
}
END_TEST

START_TEST(test_hystart_flat) {
  /* Each round keeps at least half the window in flight, so it grows. */
  uint64_t t = round_trip(10, 100 * SC_MS, 0);
  t = round_trip(12, 112500 * 1000 - 1, t);
  ck_assert_uint_eq(cc.ssthresh, UINT64_MAX);
  ck_assert_uint_eq(cc.cwnd, 14720 + 22 * MSS);
  /* Compared with the last round, not the first. */
  round_trip(21, 112500 * 1000 - 1, t);
  ck_assert_uint_eq(cc.ssthresh, UINT64_MAX);
  ck_assert_uint_eq(cc.cwnd, 14720 + 43 * MSS);
}
END_TEST

START_TEST(test_hystart_initial_slow_start_only) {
  uint64_t t = round_trip(10, 100 * SC_MS, 0);
  /* 10 packets of a 22-packet window: under half, no growth (§7.8). */
  t = round_trip(10, 100 * SC_MS, t);
  ck_assert_uint_eq(cc.cwnd, 26720);
  send_n(1, t);
  sc_cc_on_lost(&cc, MSS, t, t + 1);
  sc_cc_on_persistent_congestion(&cc);
  ck_assert_uint_eq(cc.cwnd, 2400);
  /* Not half of 26720: the last round delivered 12000 bytes in 100 ms,
   * a 12000-byte BDP, and a loss keeps twice that. */
  ck_assert_uint_eq(cc.ssthresh, 24000);
  /* Back in slow start below ssthresh, a rising RTT does not end it. */
  t = round_trip(2, 100 * SC_MS, t + 2);
  round_trip(8, 200 * SC_MS, t);
  ck_assert_uint_eq(cc.ssthresh, 24000);
  ck_assert_uint_eq(cc.cwnd, 2400 + 10 * MSS);
}
END_TEST

/* A random loss halves the window only down to twice the bandwidth-delay
 * product delivered lately; with nothing delivered yet it halves it. */
START_TEST(test_loss_keeps_twice_bdp) {
  uint64_t t = 0;
  int i;
  for (i = 0; i < 4; i++) {
    t = round_trip(30, 50 * SC_MS, t); /* 36000 bytes per 50 ms round */
  }
  /* The window grew well past twice the BDP (36000 B / 50 ms x 50 ms min
   * RTT = 36000), and half of it is still less than that. */
  cc.cwnd = 100000;
  send_n(1, t);
  sc_cc_on_lost(&cc, MSS, t, t + 1);
  ck_assert_uint_eq(cc.ssthresh, 72000);
  ck_assert_uint_eq(cc.cwnd, 72000);
  /* A second loss in a later recovery period: no lower than the floor. */
  t += 60 * SC_MS;
  send_n(1, t);
  sc_cc_on_lost(&cc, MSS, t, t + 1);
  ck_assert_uint_eq(cc.cwnd, 72000);
  /* Persistent congestion still collapses it. */
  sc_cc_on_persistent_congestion(&cc);
  ck_assert_uint_eq(cc.cwnd, 2 * MSS);
}
END_TEST

/* Light loss on a session that carries little keeps the initial window;
 * heavy loss does not. */
START_TEST(test_light_loss_keeps_initial_window) {
  uint64_t t = 0;
  int i;
  for (i = 0; i < 8; i++) {
    t = round_trip(6, 100 * SC_MS, t); /* 7200 bytes per 100 ms round */
  }
  ck_assert_uint_eq(cc.cwnd, 14720);
  send_n(1, t);
  sc_cc_on_lost(&cc, MSS, t, t + 1);
  ck_assert_uint_eq(cc.cwnd, 14720);
  ck_assert_uint_eq(cc.ssthresh, 14720);
  /* Above the initial window it halves down to it, not below. */
  cc.cwnd = 20000;
  t += 200 * SC_MS;
  send_n(1, t);
  sc_cc_on_lost(&cc, MSS, t, t + 1);
  ck_assert_uint_eq(cc.cwnd, 14720);
  /* Heavy loss: a fifth of the recent bytes lost. */
  for (i = 0; i < 4; i++) {
    t += 200 * SC_MS;
    send_n(1, t);
    sc_cc_on_lost(&cc, MSS, t, t + 1);
  }
  ck_assert_uint_lt(cc.cwnd, 14720);
}
END_TEST

/* RFC 9002 §7.8: a sender that keeps less than half its window in flight
 * (a stream at a steady rate) does not grow the window, in slow start or
 * after it; one that fills it does. */
START_TEST(test_app_limited_no_growth) {
  uint64_t t = 0;
  int i;
  for (i = 0; i < 50; i++) {
    t = round_trip(3, 50 * SC_MS, t);
  }
  ck_assert_uint_eq(cc.cwnd, 14720);
  t = round_trip(10, 50 * SC_MS, t);
  ck_assert_uint_eq(cc.cwnd, 14720 + 10 * MSS);
}
END_TEST

START_TEST(test_hystart_needs_8_samples) {
  uint64_t t = round_trip(7, 100 * SC_MS, 0);
  /* 7 packets of a 19-packet window: under half, so no growth either. */
  round_trip(7, 200 * SC_MS, t);
  ck_assert_uint_eq(cc.ssthresh, UINT64_MAX);
  ck_assert_uint_eq(cc.cwnd, 14720 + 7 * MSS);
}
END_TEST

/* eta = clamp(last / 8, 4 ms, 16 ms): a round at |last|, then one at
 * |next|, which ends slow start if |exits|. */
typedef struct eta_case {
  uint64_t last, next;
  int exits;
} eta_case;

static const eta_case eta_cases[] = {
    {20 * SC_MS, 24 * SC_MS - 1, 0},   {20 * SC_MS, 24 * SC_MS, 1},
    {200 * SC_MS, 216 * SC_MS - 1, 0}, {200 * SC_MS, 216 * SC_MS, 1},
    {64 * SC_MS, 72 * SC_MS - 1, 0},   {64 * SC_MS, 72 * SC_MS, 1},
};

static void check_eta_case(const eta_case *c) {
  uint64_t t = round_trip(10, c->last, 0);
  round_trip(10, c->next, t);
  ck_assert_int_eq(cc.ssthresh != UINT64_MAX, c->exits);
}

START_TEST(test_hystart_eta_clamp) { check_eta_case(&eta_cases[_i]); }
END_TEST

/* ---- delay response ----------------------------------------------------- */

/* One slow-start round at |base| RTT, then a loss, which (light) keeps
 * the initial window; the tests below start congestion avoidance from
 * cwnd = ssthresh = 13360. Returns the time. */
static uint64_t enter_ca(uint64_t base) {
  uint64_t t = round_trip(10, base, 0);
  send_n(1, t);
  sc_cc_on_lost(&cc, MSS, t, t + base);
  ck_assert_uint_eq(cc.cwnd, 14720);
  ck_assert_uint_eq(cc.ssthresh, 14720);
  cc.cwnd = cc.ssthresh = 13360;
  return t + base + 1;
}

START_TEST(test_delay_response) {
  uint64_t t = enter_ca(100 * SC_MS);
  /* No queue: 10 * 1200 < 13360, no growth yet. */
  t = round_trip(10, 100 * SC_MS, t);
  ck_assert_uint_eq(cc.cwnd, 13360);
  ck_assert_uint_eq(cc.ca_bytes_acked, 12000);
  /* 61 ms of queue > 60 ms: acks 1-7 grow to 14560 (at 14400 bytes), the
   * 8th sample cuts to 14560 * 0.85 = 12376, acks 9-10 count again. */
  t = round_trip(10, 161 * SC_MS, t);
  ck_assert_uint_eq(cc.cwnd, 12376);
  ck_assert_uint_eq(cc.ssthresh, 12376);
  ck_assert_int_eq(cc.delay_reduced_this_round, 1);
  ck_assert_uint_eq(cc.ca_bytes_acked, 2400);
  /* Next round, once more: 12376 * 85 / 100 = 10519.6. */
  t = round_trip(10, 161 * SC_MS, t);
  ck_assert_uint_eq(cc.cwnd, 10519);
  ck_assert_uint_eq(cc.ca_bytes_acked, 2400);
  /* 60 ms is not above the target: 2400 + 7 * 1200 >= 10519 gives one
   * mss, 281 + 3 * 1200 stays. */
  round_trip(10, 160 * SC_MS, t);
  ck_assert_uint_eq(cc.cwnd, 11719);
  ck_assert_uint_eq(cc.ca_bytes_acked, 3881);
  ck_assert_uint_eq(cc.ssthresh, 10519);
}
END_TEST

START_TEST(test_delay_response_once_per_round) {
  uint64_t t = enter_ca(100 * SC_MS), first, i;
  t = round_trip(10, 100 * SC_MS, t);
  /* A round of 30 packets, all delayed: one cut only. */
  first = send_n(30, t);
  for (i = 0; i < 30; i++) {
    ack(first + i, t, 200 * SC_MS);
    if (i == 7) {
      ck_assert_uint_eq(cc.ssthresh, 12376);
    }
  }
  ck_assert_uint_eq(cc.ssthresh, 12376);
  ck_assert_uint_ge(cc.cwnd, 12376);
}
END_TEST

START_TEST(test_delay_target_half_min) {
  /* min_rtt 200 ms: target max(60 ms, 100 ms) = 100 ms. */
  uint64_t t = enter_ca(200 * SC_MS);
  t = round_trip(10, 300 * SC_MS, t);
  ck_assert_uint_eq(cc.ssthresh, 13360);
  round_trip(10, 300 * SC_MS + 1, t);
  ck_assert_uint_eq(cc.ssthresh, (13360 + MSS) * 85 / 100);
}
END_TEST

START_TEST(test_no_delay_response_in_recovery) {
  uint64_t i;
  round_trip(10, 100 * SC_MS, 0);
  send_n(10, 100 * SC_MS); /* pn 10..19 */
  sc_cc_on_lost(&cc, MSS, 100 * SC_MS, 250 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 14720);
  /* pn 11.. open a new round with 200 ms of queue, but they were sent
   * before recovery began. */
  for (i = 11; i < 20; i++) {
    ack(i, 100 * SC_MS, 300 * SC_MS);
  }
  ck_assert_uint_eq(cc.round_samples, 9);
  ck_assert_uint_eq(cc.round_min_rtt, 300 * SC_MS);
  ck_assert_uint_eq(cc.cwnd, 14720);
  ck_assert_uint_eq(cc.ssthresh, 14720);
}
END_TEST

/* ---- pacing ------------------------------------------------------------- */

START_TEST(test_pacing_rate) {
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), 0);
  sc_rtt_update(&rtt, 100 * SC_MS, 0, 0);
  /* slow start: 14720 * 2 / 0.1 s */
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), 294400);
  sc_cc_on_lost(&cc, 0, 0, 0);
  /* congestion avoidance (a light loss keeps the initial window):
   * 14720 * 1.25 / 0.1 s */
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), 184000);
  /* Products beyond 64 bits. */
  cc.cwnd = UINT64_C(1000000000000);
  cc.ssthresh = UINT64_MAX;
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, SC_MS, 0, 0);
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), UINT64_C(2000000000000000));
  cc.cwnd = UINT64_C(1000000000001);
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 7 * SC_MS, 0, 0);
  /* 2000000000002000 / 7 = 285714285714571.4 */
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), UINT64_C(285714285714571));
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 3, 0, 0);
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), UINT64_MAX);
  /* 1e10 * 2e9 / 1 = 2e19: just past 2^64, so the high half equals the
   * divisor. */
  cc.cwnd = UINT64_C(10000000000);
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 1, 0, 0);
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), UINT64_MAX);
  cc.cwnd = UINT64_C(9000000000); /* 1.8e19 fits */
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt),
                    UINT64_C(18000000000000000000));
  ck_assert_uint_eq(sc_cc_next_send_time(&cc, &rtt, MSS, 10 * SC_SEC),
                    10 * SC_SEC);
  /* A paced session never reports 0. */
  cc.cwnd = 2400;
  cc.ssthresh = 2400;
  sc_rtt_init(&rtt, SC_RTT_INITIAL);
  sc_rtt_update(&rtt, 10000 * SC_SEC, 0, 0);
  ck_assert_uint_eq(sc_cc_pacing_rate(&cc, &rtt), 1);
}
END_TEST

START_TEST(test_next_send_time) {
  uint64_t t;
  sc_rtt_update(&rtt, 100 * SC_MS, 0, 0); /* 294400 bytes/s */
  ck_assert_uint_eq(cc.pace_tokens, 12000);
  ck_assert_uint_eq(sc_cc_next_send_time(&cc, &rtt, MSS, 0), 0);
  send_n(10, 0);
  ck_assert_uint_eq(cc.pace_tokens, 0);
  /* 1200 / 294400 s = 4076086.96 ns, rounded up */
  ck_assert_uint_eq(sc_cc_next_send_time(&cc, &rtt, MSS, 0), 4076087);
  ck_assert_uint_eq(sc_cc_next_send_time(&cc, &rtt, MSS, 4076087), 4076087);
  ck_assert_uint_eq(cc.pace_tokens, 1200);
  send_n(1, 4076087);
  /* 1 ms later: 294.4 bytes earned, 294 credited for ceil(998641.3) ns;
   * the other 306 need ceil(1039402.2) ns from there. */
  t = 4076087 + SC_MS;
  ck_assert_uint_eq(sc_cc_next_send_time(&cc, &rtt, 600, t),
                    4076087 + 998642 + 1039403);
  ck_assert_uint_eq(cc.pace_tokens, 294);
  /* Long idle: capped at a burst of 10 * mss. */
  ck_assert_uint_eq(sc_cc_next_send_time(&cc, &rtt, MSS, 10 * SC_SEC),
                    10 * SC_SEC);
  ck_assert_uint_eq(cc.pace_tokens, 12000);
}
END_TEST

START_TEST(test_pacing_fractions_carry) {
  uint64_t t = 0;
  sc_rtt_update(&rtt, 100 * SC_MS, 0, 0);
  send_n(10, 0);
  /* Asked every microsecond, each call earns 0.29 bytes; the fractions
   * must add up rather than be dropped. */
  while (sc_cc_next_send_time(&cc, &rtt, MSS, t) != t) {
    t += 1000;
    ck_assert_uint_lt(t, 5 * SC_MS);
  }
  ck_assert_uint_ge(t, 4076087);
  ck_assert_uint_le(t, 4076087 + 1200 + 1000);
}
END_TEST

START_TEST(test_no_pacing_without_sample) {
  send_n(20, 0);
  ck_assert_uint_eq(cc.pace_tokens, 0);
  ck_assert_uint_eq(sc_cc_next_send_time(&cc, &rtt, MSS, 5), 5);
}
END_TEST

static Suite *cc_suite(void) {
  Suite *s = suite_create("cc");
  TCase *tc = tcase_create("window");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_initial_window);
  tcase_add_test(tc, test_can_send);
  tcase_add_test(tc, test_next_pn);
  tcase_add_test(tc, test_no_underflow);
  tcase_add_test(tc, test_slow_start);
  tcase_add_test(tc, test_one_reduction_per_recovery);
  tcase_add_test(tc, test_recovery_at_time_zero);
  tcase_add_test(tc, test_congestion_avoidance);
  tcase_add_test(tc, test_persistent_congestion);
  suite_add_tcase(s, tc);
  tc = tcase_create("hystart");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_hystart_exit);
  tcase_add_test(tc, test_hystart_flat);
  tcase_add_test(tc, test_hystart_needs_8_samples);
  tcase_add_test(tc, test_hystart_initial_slow_start_only);
  tcase_add_test(tc, test_app_limited_no_growth);
  tcase_add_test(tc, test_loss_keeps_twice_bdp);
  tcase_add_test(tc, test_light_loss_keeps_initial_window);
  tcase_add_loop_test(tc, test_hystart_eta_clamp, 0,
                      (int)(sizeof(eta_cases) / sizeof(eta_cases[0])));
  suite_add_tcase(s, tc);
  tc = tcase_create("delay");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_delay_response);
  tcase_add_test(tc, test_delay_response_once_per_round);
  tcase_add_test(tc, test_delay_target_half_min);
  tcase_add_test(tc, test_no_delay_response_in_recovery);
  suite_add_tcase(s, tc);
  tc = tcase_create("pacing");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_pacing_rate);
  tcase_add_test(tc, test_next_send_time);
  tcase_add_test(tc, test_pacing_fractions_carry);
  tcase_add_test(tc, test_no_pacing_without_sample);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(cc_suite()); }
