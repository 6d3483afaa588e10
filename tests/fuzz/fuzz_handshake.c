/*
 * fuzz_handshake.c: hostile handshake messages at each step of Noise XX.
 *
 * data[0] picks the step; the rest is the Noise message the fuzzer
 * controls (seeds hold valid ones):
 *   0  message 1 in an INIT that carries a valid cookie (the responder
 *      does DH and keeps state for it)
 *   1  message 2 in a RESPONSE to a node's own INIT
 *   2  message 3 in a FINISH after a genuine exchange of messages 1 and 2
 *   3  the Noise engine alone: data[1] picks which XX message is read
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sc_cookie.h"
#include "sc_macro.h"
#include "sc_noise.h"
#include "sc_packet.h"

#define PROTO "Noise_XX_25519_ChaChaPoly_BLAKE2b"

static const uint8_t prologue[] = {'s', 't', 'r', 'a', 't', 'o', 'c',
                                   'a', 's', 't', '/', '1'};

typedef struct last_sent {
  uint8_t data[SC_MAX_PACKET];
  size_t len;
} last_sent;

static void tap_last(void *arg, int from_node, const sc_addr *from,
                     const sc_addr *to, const uint8_t *data, size_t len) {
  last_sent *l = arg;
  (void)from;
  (void)to;
  if (from_node == 0 && len <= sizeof(l->data)) {
    memcpy(l->data, data, len);
    l->len = len;
  }
}

/* The harness's own initiator: fixed keys, so runs repeat exactly. */
static void initiator_init(sc_noise_hs *hs) {
  uint8_t s[32], e[32];
  sc_noise_config cfg;
  memset(s, 0x11, sizeof(s));
  memset(e, 0x22, sizeof(e));
  memset(&cfg, 0, sizeof(cfg));
  cfg.protocol_name = PROTO;
  cfg.initiator = 1;
  cfg.prologue = prologue;
  cfg.prologue_len = sizeof(prologue);
  cfg.s = s;
  cfg.e = e;
  if (sc_noise_hs_init(hs, &cfg) != 0) {
    abort();
  }
}

static void send_init(tn *net, const sc_addr *from, const uint8_t *cookie,
                      const uint8_t *noise, size_t len) {
  uint8_t pkt[SC_MAX_PACKET];
  sc_wr w;
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_init(&w, 99, cookie, cookie ? SC_COOKIE_LEN : 0, noise, len);
  tn_inject(net, 0, from, pkt, w.len);
}

/* Runs message 1 up to the point where node 0 answered it with a RESPONSE
 * (or a RETRY when |cookie| is NULL). |msg1| is what the INIT carries. */
static int exchange_init(tn *net, last_sent *l, const sc_addr *from,
                         const uint8_t *msg1, size_t len, sc_pkt *answer) {
  uint8_t cookie[SC_COOKIE_LEN];
  send_init(net, from, NULL, msg1, len);
  if (sc_pkt_decode(answer, l->data, l->len) != 0 ||
      answer->type != SC_PKT_RETRY) {
    return -1;
  }
  memcpy(cookie, answer->cookie, SC_COOKIE_LEN);
  l->len = 0;
  send_init(net, from, cookie, msg1, len);
  if (l->len == 0 || sc_pkt_decode(answer, l->data, l->len) != 0) {
    return -1;
  }
  return answer->type == SC_PKT_RESPONSE ? 0 : -1;
}

static void step_finish(tn *net, last_sent *l, const uint8_t *msg,
                        size_t len) {
  sc_addr from = tn_addr("10.0.0.7:4433");
  uint8_t m1[64], payload[256], pkt[SC_MAX_PACKET];
  sc_noise_hs hs;
  sc_pkt resp;
  sc_wr w;
  sc_ssize n;
  initiator_init(&hs);
  n = sc_noise_hs_write(&hs, NULL, 0, m1, sizeof(m1));
  if (n < 0 || exchange_init(net, l, &from, m1, (size_t)n, &resp) != 0 ||
      sc_noise_hs_read(&hs, resp.noise, resp.noise_len, payload,
                       sizeof(payload)) < 0) {
    abort(); /* the genuine part of the exchange must work */
  }
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_finish(&w, resp.sender_sid, msg, len);
  tn_inject(net, 0, &from, pkt, w.len);
}

static void step_response(tn *net, last_sent *l, const uint8_t *msg,
                          size_t len) {
  sc_addr peer = tn_addr("10.0.0.8:4433");
  uint8_t pkt[SC_MAX_PACKET];
  sc_pkt init;
  sc_wr w;
  sc_node_connect(tn_get(net, 0)->node, &peer, tn_now(net));
  if (sc_pkt_decode(&init, l->data, l->len) != 0 ||
      init.type != SC_PKT_INIT) {
    abort();
  }
  sc_wr_init(&w, pkt, sizeof(pkt));
  sc_pkt_write_response(&w, init.sender_sid, 1234, msg, len);
  tn_inject(net, 0, &peer, pkt, w.len);
}

static void step_engine(uint8_t which, const uint8_t *msg, size_t len) {
  sc_noise_hs ini, res;
  sc_noise_config cfg;
  uint8_t s[32], e[32], buf[512], payload[512];
  sc_ssize n;
  initiator_init(&ini);
  memset(s, 0x33, sizeof(s));
  memset(e, 0x44, sizeof(e));
  memset(&cfg, 0, sizeof(cfg));
  cfg.protocol_name = PROTO;
  cfg.prologue = prologue;
  cfg.prologue_len = sizeof(prologue);
  cfg.s = s;
  cfg.e = e;
  if (sc_noise_hs_init(&res, &cfg) != 0) {
    abort();
  }
  which %= 3;
  if (which == 0) {
    sc_noise_hs_read(&res, msg, len, payload, sizeof(payload));
    return;
  }
  n = sc_noise_hs_write(&ini, NULL, 0, buf, sizeof(buf));
  if (n < 0 || sc_noise_hs_read(&res, buf, (size_t)n, payload,
                                sizeof(payload)) < 0) {
    abort();
  }
  if (which == 1) {
    sc_noise_hs_read(&ini, msg, len, payload, sizeof(payload));
    return;
  }
  n = sc_noise_hs_write(&res, NULL, 0, buf, sizeof(buf));
  if (n < 0 || sc_noise_hs_read(&ini, buf, (size_t)n, payload,
                                sizeof(payload)) < 0) {
    abort();
  }
  sc_noise_hs_read(&res, msg, len, payload, sizeof(payload));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tn *net;
  last_sent l;
  sc_addr from = tn_addr("10.0.0.6:4433");
  sc_pkt answer;
  if (size < 1) {
    return 0;
  }
  if (data[0] % 4 == 3) {
    step_engine(size > 1 ? data[1] : 0, data + SC_MIN(size, (size_t)2),
                size - SC_MIN(size, (size_t)2));
    return 0;
  }
  net = tn_new(2);
  memset(&l, 0, sizeof(l));
  tn_set_tap(net, tap_last, &l);
  if (tn_add(net, "10.0.0.1:4433", NULL, NULL) != 0) {
    abort();
  }
  switch (data[0] % 4) {
  case 0:
    if (size - 1 == SC_NOISE_DHLEN) {
      exchange_init(net, &l, &from, data + 1, size - 1, &answer);
    } else {
      send_init(net, &from, NULL, data + 1, size - 1);
    }
    break;
  case 1:
    step_response(net, &l, data + 1, size - 1);
    break;
  default:
    step_finish(net, &l, data + 1, size - 1);
    break;
  }
  tn_run(net, 30 * SC_SEC);
  tn_del(net);
  return 0;
}

/* ---- seeds: valid messages at each step ----------------------------------- */

static void emit_step(fuzz_emit_fn emit, void *arg, uint8_t step,
                      const uint8_t *msg, size_t len) {
  uint8_t buf[600];
  buf[0] = step;
  memcpy(buf + 1, msg, len);
  emit(arg, buf, len + 1);
}

void fuzz_seeds(fuzz_emit_fn emit, void *arg) {
  sc_noise_hs ini;
  uint8_t m1[64], m3[256], payload[256], eng[3];
  sc_ssize n;
  sc_pkt resp;
  last_sent l;
  sc_addr from = tn_addr("10.0.0.7:4433");
  tn *net = tn_new(2);
  memset(&l, 0, sizeof(l));
  tn_set_tap(net, tap_last, &l);
  tn_add(net, "10.0.0.1:4433", NULL, NULL);
  initiator_init(&ini);
  n = sc_noise_hs_write(&ini, NULL, 0, m1, sizeof(m1));
  emit_step(emit, arg, 0, m1, (size_t)n);
  if (exchange_init(net, &l, &from, m1, (size_t)n, &resp) != 0) {
    abort();
  }
  emit_step(emit, arg, 1, resp.noise, resp.noise_len);
  sc_noise_hs_read(&ini, resp.noise, resp.noise_len, payload,
                   sizeof(payload));
  {
    sc_hs_payload hp;
    sc_wr w;
    memset(&hp, 0, sizeof(hp));
    hp.incarnation = 7;
    sc_wr_init(&w, payload, sizeof(payload));
    sc_hs_payload_write(&w, &hp);
    n = sc_noise_hs_write(&ini, payload, w.len, m3, sizeof(m3));
  }
  emit_step(emit, arg, 2, m3, (size_t)n);
  eng[0] = 3;
  eng[1] = 0;
  memcpy(eng + 2, m1, 1);
  emit(arg, eng, sizeof(eng));
  tn_del(net);
}
