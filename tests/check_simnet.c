/*
 * check_simnet.c: stratosim's network model (tools/stratosim/sim_net.c).
 *
 * Each test configures an impairment, drives sim_net_send and
 * sim_net_receive directly, measures what comes out and compares it with
 * what it configured. Tolerances are several standard deviations of the
 * measurement, so they hold for any seed, not only the one used.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "sim_net.h"
#include "sim_rng.h"

#define SEED 42

static char err[256];

/* A link with no capacity limit and no impairment. */
static sim_link clean_link(void) {
  sim_link l;
  sim_link_default(&l);
  l.up_bps = 0;
  l.down_bps = 0;
  return l;
}

/* |n| nodes |core| apart with no access delay, every link |l|. */
static sim_net *fixed_net(uint32_t n, uint64_t core, const sim_link *l,
                          uint64_t seed) {
  sim_placement p;
  sim_net *net;
  sim_placement_default(&p);
  p.kind = SIM_PLACE_FIXED;
  p.fixed = core;
  p.access_min = p.access_max = 0;
  ck_assert_int_eq(sim_net_new(&net, n, &p, l, seed, err, sizeof(err)), 0);
  return net;
}

static double frac(uint64_t part, uint64_t whole) {
  return (double)part / (double)whole;
}

START_TEST(test_defaults) {
  sim_link l;
  sim_placement p;
  sim_link_default(&l);
  ck_assert_uint_eq(l.up_bps, 20000000);
  ck_assert_uint_eq(l.down_bps, 100000000);
  ck_assert_uint_eq(l.up_queue, 262144);
  ck_assert_uint_eq(l.down_queue, 262144);
  ck_assert(l.loss == 0.0 && l.ge_p_gb == 0.0 && l.reorder == 0.0);
  ck_assert(l.duplicate == 0.0 && l.corrupt == 0.0 && l.jitter == 0);
  sim_placement_default(&p);
  ck_assert_int_eq(p.kind, SIM_PLACE_GEO);
  ck_assert_uint_eq(p.access_min, 1 * SIM_MS);
  ck_assert_uint_eq(p.access_max, 5 * SIM_MS);
  ck_assert_str_eq(sim_fate_name(SIM_FATE_DELIVERED), "delivered");
  ck_assert_str_eq(sim_fate_name(SIM_FATE_UP_QUEUE), "up_queue");
  ck_assert_str_eq(sim_fate_name(SIM_FATE_PARTITION), "partition");
  ck_assert_str_eq(sim_fate_name(SIM_FATE_LOSS), "loss");
  ck_assert_str_eq(sim_fate_name(SIM_FATE_DOWN_QUEUE), "down_queue");
}
END_TEST

/* Fixed 20 ms, no access delay: every datagram takes exactly 20 ms plus its
 * transmission time. */
START_TEST(test_fixed_latency) {
  sim_link l = clean_link();
  sim_net *net = fixed_net(2, 20 * SIM_MS, &l, SEED);
  sim_route r;
  ck_assert_uint_eq(sim_net_latency(net, 0, 1), 20 * SIM_MS);
  ck_assert_uint_eq(sim_net_latency(net, 1, 1), 20 * SIM_MS);
  ck_assert_str_eq(sim_net_region(net, 1), "fixed");
  for (uint64_t t = 0; t < 100 * SIM_MS; t += SIM_MS) {
    sim_net_send(net, 0, 1, 1200, t, &r);
    ck_assert_int_eq(r.fate, SIM_FATE_DELIVERED);
    ck_assert_int_eq(r.ncopies, 1);
    ck_assert_uint_eq(r.at[0], t + 20 * SIM_MS);
    ck_assert_uint_eq(r.corrupt[0], 0);
  }
  /* 8 Mbit/s moves a byte per microsecond. */
  sim_net_link(net, 0)->up_bps = 8000000;
  sim_net_send(net, 0, 1, 1000, SIM_S, &r);
  ck_assert_uint_eq(r.at[0], SIM_S + 21 * SIM_MS);
  /* A byte at 24 Mbit/s takes 333.3 ns, rounded up. */
  sim_net_link(net, 0)->up_bps = 8000000 * 3;
  sim_net_send(net, 0, 1, 1, 2 * SIM_S, &r);
  ck_assert_uint_eq(r.at[0], 2 * SIM_S + 20 * SIM_MS + 334);
  ck_assert_uint_eq(sim_net_get_stats(net)->sent, 102);
  ck_assert_uint_eq(sim_net_get_stats(net)->bytes_sent, 100 * 1200 + 1001);
  sim_net_del(net);
}
END_TEST

/* Access delays: each end's is added once, twice for a node to itself. */
START_TEST(test_access_delay) {
  sim_link l = clean_link();
  sim_placement p;
  sim_net *net;
  sim_placement_default(&p);
  p.kind = SIM_PLACE_FIXED;
  p.fixed = 10 * SIM_MS;
  ck_assert_int_eq(sim_net_new(&net, 50, &p, &l, SEED, err, sizeof(err)), 0);
  for (uint32_t a = 0; a < 50; a++) {
    uint64_t self = sim_net_latency(net, a, a) - 10 * SIM_MS;
    ck_assert_uint_ge(self, 2 * SIM_MS);
    ck_assert_uint_le(self, 10 * SIM_MS);
    for (uint32_t b = 0; b < 50; b++) {
      uint64_t other = sim_net_latency(net, b, b) - 10 * SIM_MS;
      ck_assert_uint_eq(sim_net_latency(net, a, b),
                        10 * SIM_MS + self / 2 + other / 2);
    }
  }
  sim_net_del(net);
}
END_TEST

/* 15 Mbit/s offered to a 10 Mbit/s uplink with a 64 KiB queue. */
START_TEST(test_upload_capacity) {
  const uint64_t rate = 10000000, queue = 65536, len = 1200;
  const uint64_t gap = len * 8 * SIM_S / 15000000; /* 640 us */
  sim_link l = clean_link();
  sim_net *net;
  sim_route r;
  uint64_t sent = 0, dropped = 0, bytes = 0, qmax = 0;
  l.up_bps = rate;
  l.up_queue = queue;
  net = fixed_net(2, 10 * SIM_MS, &l, SEED);
  for (uint64_t t = 0; t < 10 * SIM_S; t += gap, sent++) {
    sim_net_send(net, 0, 1, len, t, &r);
    if (r.fate == SIM_FATE_UP_QUEUE) {
      dropped++;
      continue;
    }
    ck_assert_int_eq(r.fate, SIM_FATE_DELIVERED);
    if (r.at[0] - t - 10 * SIM_MS > qmax)
      qmax = r.at[0] - t - 10 * SIM_MS;
    /* Goodput over the steady state, seconds 1 to 9. */
    if (r.at[0] >= SIM_S && r.at[0] < 9 * SIM_S)
      bytes += len;
  }
  ck_assert_double_eq_tol((double)bytes * 8 / 8.0 /* s */, (double)rate,
                          0.02 * (double)rate);
  /* Waiting time: at most a full queue plus the datagram itself, and the
   * queue does fill. */
  ck_assert_uint_le(qmax, (queue + len) * 8 * SIM_S / rate + 1);
  ck_assert_uint_ge(qmax, (queue - len) * 8 * SIM_S / rate);
  ck_assert_uint_eq(sim_net_get_stats(net)->dropped[SIM_FATE_UP_QUEUE],
                    dropped);
  ck_assert_double_eq_tol(frac(dropped, sent), 1.0 / 3, 0.01);
  sim_net_del(net);

  /* Below capacity nothing queues: 1200 bytes take 960 us. */
  net = fixed_net(2, 10 * SIM_MS, &l, SEED);
  for (uint64_t t = 0; t < SIM_S; t += 2 * gap) {
    sim_net_send(net, 0, 1, len, t, &r);
    ck_assert_uint_eq(r.at[0], t + 10 * SIM_MS + 960000);
  }
  sim_net_del(net);
}
END_TEST

/* Two senders at 8 Mbit/s each converge on a 10 Mbit/s downlink. */
typedef struct arrival {
  uint64_t at;
  uint32_t len;
} arrival;

static int by_time(const void *a, const void *b) {
  const arrival *x = a, *y = b;
  return x->at < y->at ? -1 : x->at > y->at;
}

START_TEST(test_download_queue) {
  const uint64_t rate = 10000000, queue = 20000, len = 1000;
  sim_link l = clean_link();
  sim_net *net = fixed_net(3, 5 * SIM_MS, &l, SEED);
  arrival *arr = malloc(20000 * sizeof(*arr));
  size_t n = 0;
  uint64_t done, bytes = 0, qmax = 0, dropped = 0;
  sim_route r;
  sim_net_link(net, 2)->down_bps = rate;
  sim_net_link(net, 2)->down_queue = queue;
  for (uint64_t t = 0; t < 5 * SIM_S; t += SIM_MS) {
    for (uint32_t s = 0; s < 2; s++) {
      sim_net_send(net, s, 2, len, t + s * SIM_MS / 2, &r);
      arr[n++] = (arrival){r.at[0], (uint32_t)len};
    }
  }
  qsort(arr, n, sizeof(*arr), by_time);
  for (size_t i = 0; i < n; i++) {
    if (sim_net_receive(net, 2, arr[i].len, arr[i].at, &done) !=
        SIM_FATE_DELIVERED) {
      dropped++;
      continue;
    }
    if (done - arr[i].at > qmax)
      qmax = done - arr[i].at;
    if (done >= SIM_S && done < 4 * SIM_S)
      bytes += arr[i].len;
  }
  ck_assert_double_eq_tol((double)bytes * 8 / 3.0, (double)rate,
                          0.02 * (double)rate);
  ck_assert_uint_le(qmax, (queue + len) * 8 * SIM_S / rate + 1);
  ck_assert_double_eq_tol(frac(dropped, n), 6.0 / 16, 0.01);
  ck_assert_uint_eq(sim_net_get_stats(net)->dropped[SIM_FATE_DOWN_QUEUE],
                    dropped);
  ck_assert_uint_eq(sim_net_get_stats(net)->delivered, n - dropped);
  /* An unlimited, idle downlink hands a datagram over at once. */
  ck_assert_int_eq(sim_net_receive(net, 0, len, 7 * SIM_S, &done),
                   SIM_FATE_DELIVERED);
  ck_assert_uint_eq(done, 7 * SIM_S);
  free(arr);
  sim_net_del(net);
}
END_TEST

START_TEST(test_loss_rate) {
  const uint64_t n = 100000;
  sim_link l = clean_link();
  sim_net *net;
  sim_route r;
  uint64_t lost = 0;
  l.loss = 0.3;
  net = fixed_net(2, 10 * SIM_MS, &l, SEED);
  for (uint64_t i = 0; i < n; i++) {
    sim_net_send(net, 0, 1, 100, i * 1000, &r);
    lost += r.fate == SIM_FATE_LOSS;
    ck_assert_int_eq(r.ncopies, r.fate == SIM_FATE_DELIVERED);
  }
  ck_assert_double_eq_tol(frac(lost, n), 0.3, 0.01);
  ck_assert_uint_eq(sim_net_get_stats(net)->dropped[SIM_FATE_LOSS], lost);
  sim_net_del(net);
}
END_TEST

/* Gilbert-Elliott: the bad state holds pi_b = p_gb / (p_gb + p_bg) of the
 * time and lasts 1 / p_bg datagrams on average. */
static void run_ge(double lb, double lg, double *loss, double *burst) {
  const uint64_t n = 400000;
  sim_link l = clean_link();
  sim_net *net;
  sim_route r;
  uint64_t lost = 0, bursts = 0;
  int prev = 0;
  l.ge_p_gb = 0.01;
  l.ge_p_bg = 0.2;
  l.ge_loss_bad = lb;
  l.ge_loss_good = lg;
  net = fixed_net(2, 10 * SIM_MS, &l, SEED);
  for (uint64_t i = 0; i < n; i++) {
    sim_net_send(net, 0, 1, 100, i * 1000, &r);
    int now_lost = r.fate == SIM_FATE_LOSS;
    lost += (uint64_t)now_lost;
    bursts += (uint64_t)(now_lost && !prev);
    prev = now_lost;
  }
  *loss = frac(lost, n);
  *burst = frac(lost, bursts);
  sim_net_del(net);
}

START_TEST(test_burst_loss) {
  const double pi_b = 0.01 / (0.01 + 0.2);
  double loss, burst;
  run_ge(1.0, 0.0, &loss, &burst);
  ck_assert_double_eq_tol(loss, pi_b, 0.1 * pi_b);
  ck_assert_double_eq_tol(burst, 1 / 0.2, 0.1 / 0.2);
  run_ge(0.5, 0.01, &loss, &burst);
  ck_assert_double_eq_tol(loss, pi_b * 0.5 + (1 - pi_b) * 0.01,
                          0.1 * (pi_b * 0.5 + (1 - pi_b) * 0.01));
}
END_TEST

START_TEST(test_jitter) {
  const uint64_t n = 100000, jitter = 10 * SIM_MS;
  sim_link l = clean_link();
  sim_net *net;
  sim_route r;
  uint64_t max = 0;
  double sum = 0;
  l.jitter = jitter;
  net = fixed_net(2, 20 * SIM_MS, &l, SEED);
  for (uint64_t i = 0; i < n; i++) {
    sim_net_send(net, 0, 1, 100, i * SIM_MS, &r);
    ck_assert_uint_ge(r.at[0], i * SIM_MS + 20 * SIM_MS);
    uint64_t extra = r.at[0] - i * SIM_MS - 20 * SIM_MS;
    sum += (double)extra;
    max = extra > max ? extra : max;
  }
  ck_assert_uint_le(max, jitter);
  ck_assert_uint_ge(max, jitter * 99 / 100);
  /* Standard error of the mean: 10 ms / sqrt(12 n) = 9 us. */
  ck_assert_double_eq_tol(sum / (double)n, (double)jitter / 2, 0.1 * SIM_MS);
  sim_net_del(net);
}
END_TEST

/* Datagrams 1 ms apart, a tenth of them held back 5 ms: each held one is
 * overtaken by a later one unless the next four are all held too. */
START_TEST(test_reorder) {
  const size_t n = 100000;
  sim_link l = clean_link();
  sim_net *net;
  sim_route r;
  uint64_t *at = malloc(n * sizeof(*at)), first_later = UINT64_MAX;
  size_t late = 0;
  l.reorder = 0.1;
  l.reorder_delay = 5 * SIM_MS;
  net = fixed_net(2, 20 * SIM_MS, &l, SEED);
  for (size_t i = 0; i < n; i++) {
    sim_net_send(net, 0, 1, 100, i * SIM_MS, &r);
    at[i] = r.at[0];
  }
  /* Walk back, keeping the earliest arrival of everything sent later. */
  for (size_t i = n; i-- > 0;) {
    late += at[i] > first_later;
    first_later = at[i] < first_later ? at[i] : first_later;
  }
  ck_assert_double_eq_tol(frac(late, n), 0.1, 0.005);
  ck_assert_double_eq_tol(frac(sim_net_get_stats(net)->reordered, n), 0.1,
                          0.005);
  free(at);
  sim_net_del(net);
}
END_TEST

START_TEST(test_duplicate_corrupt) {
  const uint64_t n = 100000;
  sim_link l = clean_link();
  sim_net *net;
  sim_route r;
  uint64_t dup = 0, copies = 0, bad = 0, apart = 0;
  l.duplicate = 0.05;
  l.corrupt = 0.02;
  l.jitter = SIM_MS;
  net = fixed_net(2, 20 * SIM_MS, &l, SEED);
  for (uint64_t i = 0; i < n; i++) {
    sim_net_send(net, 0, 1, 100, i * SIM_MS, &r);
    ck_assert_int_eq(r.fate, SIM_FATE_DELIVERED);
    dup += r.ncopies == 2;
    apart += r.ncopies == 2 && r.at[0] != r.at[1];
    for (int c = 0; c < r.ncopies; c++, copies++) {
      bad += r.corrupt[c] != 0;
      ck_assert_uint_le(r.at[c], i * SIM_MS + 21 * SIM_MS);
    }
  }
  ck_assert_double_eq_tol(frac(dup, n), 0.05, 0.003);
  ck_assert_double_eq_tol(frac(bad, copies), 0.02, 0.002);
  /* Each copy draws its own jitter. */
  ck_assert_uint_ge(apart, dup * 99 / 100);
  ck_assert_uint_eq(sim_net_get_stats(net)->duplicated, dup);
  ck_assert_uint_eq(sim_net_get_stats(net)->corrupted, bad);
  sim_net_del(net);
}
END_TEST

START_TEST(test_partition) {
  sim_link l = clean_link();
  sim_net *net;
  sim_route r;
  l.up_bps = 8000000; /* 1 byte per microsecond */
  net = fixed_net(4, 10 * SIM_MS, &l, SEED);
  sim_net_set_side(net, 2, 1);
  sim_net_set_side(net, 3, 1);
  ck_assert_uint_eq(sim_net_side(net, 0), 0);
  ck_assert_uint_eq(sim_net_side(net, 3), 1);
  sim_net_send(net, 0, 2, 1000, 0, &r);
  ck_assert_int_eq(r.fate, SIM_FATE_PARTITION);
  ck_assert_int_eq(r.ncopies, 0);
  /* The dropped datagram still took 1 ms of node 0's uplink. */
  sim_net_send(net, 0, 1, 1000, 0, &r);
  ck_assert_int_eq(r.fate, SIM_FATE_DELIVERED);
  ck_assert_uint_eq(r.at[0], 12 * SIM_MS);
  sim_net_send(net, 3, 2, 1000, 0, &r);
  ck_assert_int_eq(r.fate, SIM_FATE_DELIVERED);
  sim_net_send(net, 2, 1, 1000, 0, &r);
  ck_assert_int_eq(r.fate, SIM_FATE_PARTITION);
  ck_assert_uint_eq(sim_net_get_stats(net)->dropped[SIM_FATE_PARTITION], 2);
  sim_net_set_side(net, 2, 0); /* healed */
  sim_net_send(net, 2, 1, 1000, SIM_S, &r);
  ck_assert_int_eq(r.fate, SIM_FATE_DELIVERED);
  sim_net_del(net);
}
END_TEST

static uint64_t fnv(uint64_t h, const void *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
  return h;
}

/* Sends the same random traffic through a fresh model of |seed| and
 * returns a hash of every route and latency. */
static uint64_t run_traffic(uint64_t seed, const sim_placement *p,
                            const sim_link *l) {
  sim_net *net;
  sim_rng traffic;
  sim_route r;
  uint64_t h = 1469598103934665603ULL;
  ck_assert_int_eq(sim_net_new(&net, 200, p, l, seed, err, sizeof(err)), 0);
  sim_rng_seed(&traffic, 7, 1);
  for (uint64_t i = 0; i < 20000; i++) {
    uint32_t a = (uint32_t)sim_rng_below(&traffic, 200);
    uint32_t b = (uint32_t)sim_rng_below(&traffic, 200);
    sim_net_send(net, a, b, 1 + sim_rng_below(&traffic, 1400), i * 100000, &r);
    uint64_t lat = sim_net_latency(net, a, b);
    h = fnv(h, &r, sizeof(r)); /* no padding; sim_net_send fills it all */
    h = fnv(h, &lat, sizeof(lat));
  }
  sim_net_del(net);
  return h;
}

START_TEST(test_determinism) {
  sim_placement p;
  sim_link l;
  sim_placement_default(&p);
  sim_link_default(&l);
  l.loss = 0.05;
  l.ge_p_gb = 0.01;
  l.ge_p_bg = 0.3;
  l.ge_loss_bad = 0.5;
  l.jitter = 3 * SIM_MS;
  l.reorder = 0.02;
  l.reorder_delay = 10 * SIM_MS;
  l.duplicate = 0.01;
  l.corrupt = 0.01;
  ck_assert_uint_eq(run_traffic(1, &p, &l), run_traffic(1, &p, &l));
  ck_assert_uint_ne(run_traffic(1, &p, &l), run_traffic(2, &p, &l));
  /* Without impairments or random placement the seed changes nothing:
   * nothing is drawn. */
  sim_link_default(&l);
  p.kind = SIM_PLACE_FIXED;
  p.fixed = 30 * SIM_MS;
  p.access_min = p.access_max = 2 * SIM_MS;
  ck_assert_uint_eq(run_traffic(1, &p, &l), run_traffic(2, &p, &l));
}
END_TEST

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Every pair of 2000 nodes in the default geography. */
START_TEST(test_geo) {
  const uint32_t n = 2000;
  sim_placement p;
  sim_link l = clean_link();
  sim_net *net;
  uint64_t *lat = malloc((size_t)n * (n - 1) / 2 * sizeof(*lat));
  size_t k = 0, nregions = 0;
  const char *seen[32] = {NULL};
  sim_placement_default(&p);
  ck_assert_int_eq(sim_net_new(&net, n, &p, &l, SEED, err, sizeof(err)), 0);
  for (uint32_t a = 0; a < n; a++) {
    const char *name = sim_net_region(net, a);
    size_t j = 0;
    while (j < nregions && strcmp(seen[j], name) != 0)
      j++;
    if (j == nregions && nregions < 32)
      seen[nregions++] = name;
    ck_assert_uint_ge(sim_net_latency(net, a, a), 2 * SIM_MS);
    ck_assert_uint_le(sim_net_latency(net, a, a), 10 * SIM_MS);
    for (uint32_t b = a + 1; b < n; b++) {
      lat[k] = sim_net_latency(net, a, b);
      ck_assert_uint_eq(lat[k], sim_net_latency(net, b, a));
      k++;
    }
  }
  qsort(lat, k, sizeof(*lat), cmp_u64);
  printf("geo latency over %zu pairs: min %.1f ms, median %.1f ms, "
         "max %.1f ms\n",
         k, (double)lat[0] / 1e6, (double)lat[k / 2] / 1e6,
         (double)lat[k - 1] / 1e6);
  ck_assert_uint_ge(lat[0], 2 * SIM_MS);
  ck_assert_uint_le(lat[k - 1], 160 * SIM_MS);
  ck_assert_uint_ge(lat[k / 2], 30 * SIM_MS);
  ck_assert_uint_le(lat[k / 2], 100 * SIM_MS);
  ck_assert_uint_ge(nregions, 10);
  free(lat);
  sim_net_del(net);
}
END_TEST

/* Writes |text| to a new temporary file; its name goes to |path|. */
static void write_temp(char *path, const char *text) {
  strcpy(path, "/tmp/check_simnet_XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

/* Loads |text| as a matrix and returns sim_net_new's result. */
static int load_text(const char *text, sim_net **net, char *path) {
  sim_placement p;
  sim_link l = clean_link();
  int rc;
  write_temp(path, text);
  sim_placement_default(&p);
  p.kind = SIM_PLACE_MATRIX;
  p.access_min = p.access_max = SIM_MS;
  snprintf(p.matrix_path, sizeof(p.matrix_path), "%s", path);
  rc = sim_net_new(net, 7, &p, &l, SEED, err, sizeof(err));
  unlink(path);
  return rc;
}

START_TEST(test_matrix) {
  char path[64];
  sim_net *net;
  ck_assert_int_eq(load_text("# three sites, ms\n\n0 10 20.5\n"
                             "  11 0 30   # row 2\n\t\n21 31 0.25\r\n",
                             &net, path),
                   0);
  /* Node i at site i % 3, plus 1 ms of access at each end. */
  ck_assert_uint_eq(sim_net_latency(net, 0, 2), 22500000);
  ck_assert_uint_eq(sim_net_latency(net, 2, 0), 23 * SIM_MS);
  ck_assert_uint_eq(sim_net_latency(net, 4, 5), 32 * SIM_MS);
  ck_assert_uint_eq(sim_net_latency(net, 3, 6), 2 * SIM_MS);
  ck_assert_uint_eq(sim_net_latency(net, 5, 5), 2250000);
  ck_assert_str_eq(sim_net_region(net, 4), "site 1");
  ck_assert_str_eq(sim_net_region(net, 6), "site 0");
  sim_net_del(net);
}
END_TEST

static const struct {
  const char *text;
  const char *want; /* after "PATH" */
} bad_matrices[] = {
    {"0 1 2\n1 0 2\n1 2\n", ":3: expected 3 numbers, found 2"},
    {"0 1 2\n1 0 2 3\n", ":2: expected 3 numbers, found 4"},
    {"0 1\n# x\n1 x2\n", ":3: bad number 'x2'"},
    {"0 1ms\n", ":1: bad number '1ms'"},
    {"0 -1\n1 0\n", ":1: delay '-1' is not a non-negative finite number"},
    {"nan\n", ":1: delay 'nan' is not"},
    {"0 inf\n1 0\n", ":1: delay 'inf' is not"},
    {"0 1\n1 0\n\n2 2\n", ":4: more than 2 rows"},
    {"0 1 2\n1 0 2\n", ": expected 3 rows, found 2"},
    {"# nothing here\n\n", ": no latency rows"},
    {"", ": no latency rows"},
};

START_TEST(test_matrix_errors) {
  char path[64], want[128];
  sim_net *net;
  ck_assert_int_eq(load_text(bad_matrices[_i].text, &net, path), -1);
  ck_assert_ptr_null(net);
  snprintf(want, sizeof(want), "%s%s", path, bad_matrices[_i].want);
  ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\"", err);
}
END_TEST

START_TEST(test_matrix_missing) {
  sim_placement p;
  sim_link l = clean_link();
  sim_net *net;
  sim_placement_default(&p);
  p.kind = SIM_PLACE_MATRIX;
  strcpy(p.matrix_path, "/tmp/check_simnet_no_such_file");
  ck_assert_int_eq(sim_net_new(&net, 3, &p, &l, SEED, err, sizeof(err)), -1);
  ck_assert_str_eq(err,
                   "/tmp/check_simnet_no_such_file: No such file or directory");
  p.kind = SIM_PLACE_FIXED;
  p.access_min = 2;
  p.access_max = 1;
  ck_assert_int_eq(sim_net_new(&net, 3, &p, &l, SEED, err, sizeof(err)), -1);
}
END_TEST

static Suite *simnet_suite(void) {
  Suite *s = suite_create("simnet");
  TCase *tc = tcase_create("delay");
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_fixed_latency);
  tcase_add_test(tc, test_access_delay);
  tcase_add_test(tc, test_jitter);
  tcase_add_test(tc, test_reorder);
  suite_add_tcase(s, tc);
  tc = tcase_create("capacity");
  tcase_add_test(tc, test_upload_capacity);
  tcase_add_test(tc, test_download_queue);
  suite_add_tcase(s, tc);
  tc = tcase_create("impairments");
  tcase_add_test(tc, test_loss_rate);
  tcase_add_test(tc, test_burst_loss);
  tcase_add_test(tc, test_duplicate_corrupt);
  tcase_add_test(tc, test_partition);
  tcase_add_test(tc, test_determinism);
  suite_add_tcase(s, tc);
  tc = tcase_create("placement");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_geo);
  tcase_add_test(tc, test_matrix);
  tcase_add_loop_test(tc, test_matrix_errors, 0,
                      (int)(sizeof(bad_matrices) / sizeof(bad_matrices[0])));
  tcase_add_test(tc, test_matrix_missing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(simnet_suite()); }
