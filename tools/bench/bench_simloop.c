/*
 * bench_simloop.c: what the simulator adds to every datagram, against what
 * the core itself spends on one.
 *
 * The simulator's share of a datagram is: the model's decision
 * (sim_net_send), a copy into a heap-allocated packet, two passes through
 * the event queue (downlink, then reception) and the downlink decision
 * (sim_net_receive). The baseline, measured in the same run, is the AEAD
 * work every DATA packet costs the cores (ChaCha20-Poly1305 seal at the
 * sender, open at the receiver) for the same size. The ratio says how much
 * a simulated datagram costs beyond the protocol's own crypto; multiply by
 * the datagram rate of a scenario to project its wall time.
 *
 * usage: bench_simloop [NODES [DATAGRAMS]]   (defaults 1000, 2000000)
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_heap.h"
#include "sim_net.h"
#include "sim_rng.h"

#define LEN 1200

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct pkt {
  uint32_t src, dst, len;
  uint8_t data[LEN];
} pkt;

/* Sends |count| datagrams between random pairs of |n| nodes, each sender
 * offering one every 10 ms of virtual time, and runs them to reception. */
static double sim_side(uint32_t n, uint64_t count, uint64_t *delivered) {
  sim_placement pl;
  sim_link link;
  sim_net *net;
  char err[256];
  sim_placement_default(&pl);
  sim_link_default(&link);
  if (sim_net_new(&net, n, &pl, &link, 1, err, sizeof(err)) != 0) {
    fprintf(stderr, "bench_simloop: %s\n", err);
    exit(1);
  }
  sim_events q;
  sim_events_init(&q);
  sim_rng rng;
  sim_rng_seed(&rng, 1, 99);
  static uint8_t payload[LEN];
  uint64_t now = 0, sent = 0;
  *delivered = 0;
  double t0 = now_s();
  while (sent < count || q.n > 0) {
    const sim_event *e = sim_events_peek(&q);
    uint64_t next_send = (sent / n) * 10 * SIM_MS;
    if (sent < count && (e == NULL || next_send <= e->at)) {
      now = next_send > now ? next_send : now;
      uint32_t src = (uint32_t)(sent % n);
      uint32_t dst = (uint32_t)sim_rng_below(&rng, n);
      sim_route r;
      sim_net_send(net, src, dst, LEN, now, &r);
      for (int c = 0; c < r.ncopies; c++) {
        pkt *p = malloc(sizeof(*p));
        p->src = src;
        p->dst = dst;
        p->len = LEN;
        memcpy(p->data, payload, LEN);
        sim_event ev = {.at = r.at[c], .kind = 1, .ptr = p};
        sim_events_push(&q, &ev);
      }
      sent++;
      continue;
    }
    sim_event ev;
    sim_events_pop(&q, &ev);
    now = ev.at;
    pkt *p = ev.ptr;
    uint64_t done = UINT64_MAX;
    if (ev.kind == 1 &&
        sim_net_receive(net, p->dst, p->len, now, &done) ==
            SIM_FATE_DELIVERED &&
        done > now) {
      ev.at = done;
      ev.kind = 2;
      sim_events_push(&q, &ev);
      continue;
    }
    *delivered += ev.kind == 2 || done <= now;
    free(p);
  }
  double t = now_s() - t0;
  sim_events_free(&q);
  sim_net_del(net);
  return t;
}

/* Seals and opens |count| datagrams of LEN bytes. */
static double crypto_side(uint64_t count) {
  static uint8_t msg[LEN], box[LEN + 16], out[LEN];
  uint8_t key[32], nonce[12] = {0};
  randombytes_buf(key, sizeof(key));
  double t0 = now_s();
  for (uint64_t i = 0; i < count; i++) {
    memcpy(nonce, &i, sizeof(i));
    unsigned long long blen, olen;
    crypto_aead_chacha20poly1305_ietf_encrypt(box, &blen, msg, LEN, NULL, 0,
                                              NULL, nonce, key);
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &olen, NULL, box, blen,
                                                  NULL, 0, nonce, key) != 0)
      abort();
  }
  return now_s() - t0;
}

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000;
  uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000;
  if (n == 0 || count == 0 || sodium_init() < 0)
    return 2;
  uint64_t delivered;
  double ts = sim_side(n, count, &delivered);
  double tc = crypto_side(count);
  double per_sim = ts / (double)count * 1e9,
         per_aead = tc / (double)count * 1e9;
  printf("datagrams %llu over %u nodes, %llu delivered\n",
         (unsigned long long)count, n, (unsigned long long)delivered);
  printf("simulator per datagram:        %8.0f ns\n", per_sim);
  printf("baseline, AEAD seal+open %dB: %8.0f ns\n", LEN, per_aead);
  printf("ratio simulator / AEAD:        %8.2f\n", per_sim / per_aead);
  return 0;
}
