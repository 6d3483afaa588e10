/*
 * fuzz_mcast.c: the multicast engine fed hostile traffic from a neighbour
 * that knows the stream.
 *
 * Node 1 publishes the stream "live" in the group "fuzz" (a fixed key, so
 * the stream ID and tag are the same in every run and the seeds can use
 * them); node 0 plays it. Once the member link is up and node 0 carries
 * the stream, the input is a list of records (fuzz_common.h). By kind:
 *   0  a datagram from node 1 to node 0, its bytes as they are
 *   1  a datagram of kind MAP or PULL (data[0] picks) naming the stream's
 *      tag, with the rest of the bytes after the tag
 *   2  a fragment with the stream's ID, the rest of the header and the
 *      payload from the bytes (seq, timestamp, flags taken from them)
 *   3  a reliable message from node 1: STREAM, PUSH or REFUSE (data[0]
 *      picks) with the rest as its body; PUSH and REFUSE get the stream ID
 *      in front
 *   4  node 1 publishes the bytes as a fragment
 *   5  virtual time passes (data[0] x 10 ms)
 * Node 0 must neither crash nor leak, and whatever it plays must be what
 * node 1 published.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sc_macro.h"
#include "sc_mcastmsg.h"
#include "sc_node_int.h"

#define GROUP "fuzz"

static uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];
static uint8_t stream_id[SC_STREAM_ID_LEN];
static int ready;

/* Every payload node 1 published, by seq, to check what node 0 plays. */
#define PUBLISHED_MAX 256
static uint8_t pub_hash[PUBLISHED_MAX][16];
static size_t npub;

static void check(int ok) {
  if (!ok) {
    abort();
  }
}

static void setup_keys(void) {
  uint8_t seed[crypto_sign_SEEDBYTES];
  if (ready) {
    return;
  }
  check(sodium_init() >= 0);
  memset(seed, 0x5c, sizeof(seed));
  crypto_sign_seed_keypair(pk, sk, seed);
  check(sc_stream_id(stream_id, pk, "live", 4) == 0);
  ready = 1;
}

static void on_play(void *arg, int node, const sc_play_chunk *ch) {
  uint8_t h[16];
  (void)arg;
  check(node == 0);
  check(ch->seq < npub);
  crypto_generichash(h, sizeof(h), ch->data, ch->len, NULL, 0);
  check(memcmp(h, pub_hash[ch->seq], sizeof(h)) == 0);
}

static int stream_known(tn *net, void *arg) {
  (void)arg;
  return sc_node_streams(tn_get(net, 0)->node, NULL, 0) == 1;
}

static uint32_t publish(tn *net, uint32_t h, const uint8_t *data, size_t len,
                        int key) {
  sc_node *n1 = tn_get(net, 1)->node;
  len = SC_MIN(len, sc_node_fragment_max(n1));
  if (len == 0 || npub == PUBLISHED_MAX) {
    return h;
  }
  crypto_generichash(pub_hash[npub], 16, data, len, NULL, 0);
  check(sc_node_publish_fragment(n1, h, data, len, key, tn_now(net)) == 0);
  npub++;
  return h;
}

static sc_session *link_1_to_0(tn *net) {
  sc_node *n1 = tn_get(net, 1)->node;
  sc_session *s = sc_node_session_with(n1, sc_node_peer_id(tn_get(net, 0)->node));
  return s != NULL && sc_session_is_usable(s) ? s : NULL;
}

static void send_dgram(tn *net, const uint8_t *body, size_t len) {
  sc_session *s = link_1_to_0(net);
  if (s != NULL && len > 0) {
    (void)sc_session_send_dgram(s, body, len, 0, tn_now(net));
    sc_node_refresh_expiry(tn_get(net, 1)->node);
  }
}

static void send_msg(tn *net, uint64_t kind, const uint8_t *body, size_t len) {
  sc_session *s = link_1_to_0(net);
  if (s != NULL) {
    (void)sc_session_send_msg(s, kind, body, SC_MIN(len, (size_t)SC_MSG_MAX),
                              tn_now(net));
    sc_node_refresh_expiry(tn_get(net, 1)->node);
  }
}

static void record(tn *net, uint32_t h, const fuzz_rec *r) {
  uint8_t buf[SC_MAX_PACKET + 64];
  size_t n;
  switch (r->kind % 6) {
  case 0:
    send_dgram(net, r->data, SC_MIN(r->len, sizeof(buf)));
    break;
  case 1:
    if (r->len == 0) {
      break;
    }
    buf[0] = (r->data[0] & 1) ? SC_DG_PULL : SC_DG_MAP;
    sc_put_u64(buf + 1, sc_stream_tag(stream_id));
    n = SC_MIN(r->len - 1, sizeof(buf) - 9);
    memcpy(buf + 9, r->data + 1, n);
    send_dgram(net, buf, 9 + n);
    break;
  case 2:
    buf[0] = SC_DG_FRAGMENT;
    memcpy(buf + 1, stream_id, SC_STREAM_ID_LEN);
    n = SC_MIN(r->len, sizeof(buf) - 1 - SC_STREAM_ID_LEN);
    memcpy(buf + 1 + SC_STREAM_ID_LEN, r->data, n);
    send_dgram(net, buf, 1 + SC_STREAM_ID_LEN + n);
    break;
  case 3:
    if (r->len == 0) {
      break;
    }
    if (r->data[0] % 3 == 0) {
      send_msg(net, SC_MSG_STREAM, r->data + 1, r->len - 1);
      break;
    }
    memcpy(buf, stream_id, SC_STREAM_ID_LEN);
    n = SC_MIN(r->len - 1, sizeof(buf) - SC_STREAM_ID_LEN);
    memcpy(buf + SC_STREAM_ID_LEN, r->data + 1, n);
    send_msg(net, r->data[0] % 3 == 1 ? SC_MSG_PUSH : SC_MSG_REFUSE, buf,
             SC_STREAM_ID_LEN + n);
    break;
  case 4:
    publish(net, h, r->data, r->len, r->len > 0 && (r->data[0] & 1));
    break;
  default:
    tn_run(net, (r->len > 0 ? r->data[0] : 1u) * 10 * SC_MS);
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tn *net;
  uint32_t h, ph;
  fuzz_rec r;
  int steps = 0, i;
  setup_keys();
  npub = 0;
  net = tn_new(3);
  tn_set_play(net, on_play, NULL);
  check(tn_add(net, "10.0.0.1:4433", NULL, NULL) == 0);
  check(tn_add(net, "10.0.1.1:4433", NULL, NULL) == 1);
  check(sc_node_join_group(tn_get(net, 0)->node, GROUP, 0) == 0);
  check(sc_node_join_group(tn_get(net, 1)->node, GROUP, 0) == 0);
  check(tn_connect(net, 1, 0) == 0);
  check(sc_node_play(tn_get(net, 0)->node, GROUP, "live", NULL, 0, &ph) == 0);
  tn_run(net, 500 * SC_MS);
  check(sc_node_publish(tn_get(net, 1)->node, GROUP, "live", sk, tn_now(net),
                        &h) == 0);
  check(tn_run_until(net, stream_known, NULL, 5 * SC_SEC));
  for (i = 0; i < 20; i++) {
    uint8_t payload[64];
    memset(payload, i, sizeof(payload));
    publish(net, h, payload, sizeof(payload), i % 5 == 0);
    tn_run(net, 10 * SC_MS);
  }
  while (steps++ < 64 && fuzz_next(&data, &size, &r)) {
    record(net, h, &r);
  }
  tn_run(net, 3 * SC_SEC);
  {
    sc_stream_info si[2];
    check(sc_node_streams(tn_get(net, 0)->node, si, 2) <= 2);
  }
  tn_del(net);
  return 0;
}

/* ---- seeds ----------------------------------------------------------------
 */

void fuzz_seeds(fuzz_emit_fn emit, void *arg) {
  uint8_t buf[4096], body[512], tick = 5;
  size_t len = 0;
  sc_wr w;
  sc_map_msg map;
  sc_pull_msg pull;
  setup_keys();
  /* A map and a pull that parse, naming the stream. */
  memset(&map, 0, sizeof(map));
  map.tag = sc_stream_tag(stream_id);
  map.top = 30;
  map.key = 25;
  map.nbits = 16;
  map.bits = 0xff0f;
  sc_wr_init(&w, body, sizeof(body));
  check(sc_map_write(&w, &map) == 0);
  body[8] = 0; /* record 1: MAP, then the tag, then these bytes */
  fuzz_put_rec(buf, &len, sizeof(buf), 1, body + 8, w.len - 8);
  memset(&pull, 0, sizeof(pull));
  pull.tag = map.tag;
  pull.flags = SC_PULL_MANIFESTS;
  pull.first = 3;
  pull.nbits = 10;
  pull.bits = 0x3ff;
  sc_wr_init(&w, body, sizeof(body));
  check(sc_pull_write(&w, &pull) == 0);
  body[8] = 1; /* PULL */
  fuzz_put_rec(buf, &len, sizeof(buf), 1, body + 8, w.len - 8);
  fuzz_put_rec(buf, &len, sizeof(buf), 5, &tick, 1);
  emit(arg, buf, len);
  /* A forged fragment just past the live edge, a PUSH for every class. */
  len = 0;
  memset(body, 0, sizeof(body));
  sc_put_u64(body, 21);
  sc_put_u64(body + 8, 1000);
  body[16] = 1;
  memcpy(body + 17, "forged", 6);
  fuzz_put_rec(buf, &len, sizeof(buf), 2, body, 23);
  body[0] = 1;
  body[1] = 0x01;
  body[2] = 0xff;
  fuzz_put_rec(buf, &len, sizeof(buf), 3, body, 3);
  fuzz_put_rec(buf, &len, sizeof(buf), 4, (const uint8_t *)"more data", 9);
  fuzz_put_rec(buf, &len, sizeof(buf), 5, &tick, 1);
  emit(arg, buf, len);
}
