/*
 * fuzz_packet.c: every decoder, and a live node fed hostile datagrams.
 *
 * The input is a list of records (fuzz_common.h). By kind:
 *   0  a raw datagram to node 0 from its peer's address
 *   1  a raw datagram to node 0 from a stranger's address
 *   2  plaintext sealed with the peer's live session keys, so that the
 *      chunk processing behind authentication is reached
 *   3  virtual time passes (data[0] x 10 ms) and queued traffic flows
 * Every record's bytes also go through each decoder directly (packets,
 * chunks, handshake payloads, mesh, stream, multicast and group messaging
 * messages).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sc_macro.h"
#include "sc_mcastmsg.h"
#include "sc_meshmsg.h"
#include "sc_packet.h"
#include "sc_postmsg.h"
#include "sc_replmsg.h"
#include "sc_routemsg.h"
#include "sc_stream.h"

static void check(int ok) {
  if (!ok) {
    abort(); /* a decoder broke its own contract */
  }
}

static void decode_chunks(const uint8_t *data, size_t len) {
  sc_rd r;
  sc_chunk c;
  size_t i;
  sc_rd_init(&r, data, len);
  while (sc_chunk_next(&r, &c) == 1) {
    sc_ack ack;
    sc_msg_view m;
    sc_peer_entry peers[SC_PEERS_MAX];
    size_t n;
    check(c.body >= data && c.body + c.len <= data + len);
    if (sc_ack_decode(&ack, c.body, c.len) == 0) {
      check(ack.nranges >= 1 && ack.nranges <= SC_ACK_MAX_RANGES);
      for (i = 0; i < ack.nranges; i++) {
        check(ack.ranges[i].lo <= ack.ranges[i].hi);
        check(i == 0 || ack.ranges[i].hi + 1 < ack.ranges[i - 1].lo);
      }
    }
    if (sc_msg_decode(&m, c.body, c.len) == 0) {
      check(m.body + m.len == c.body + c.len);
      if (sc_peers_read(peers, &n, m.body, m.len) == 0) {
        check(n <= SC_PEERS_MAX);
      }
    }
  }
}

/* The mesh messages' bodies (doc/protocol.md §11.3). */
static void decode_mesh(const uint8_t *data, size_t len) {
  sc_hello_msg h;
  sc_mreq_msg q;
  sc_members_msg m;
  sc_neighbor_msg nb;
  sc_intro_msg in;
  sc_hello_read(&h, data, len);
  sc_mreq_read(&q, data, len);
  if (sc_members_read(&m, data, len) == 0) {
    check(m.n <= SC_MEMBERS_MAX);
  }
  if (sc_neighbor_read(&nb, data, len) == 0) {
    check(nb.chosen <= 1);
  }
  sc_intro_request_read(&in, data, len);
  sc_intro_read(&in, data, len);
}

/* Stream fragments and manifests (doc/protocol.md §12). */
static void decode_stream(const uint8_t *data, size_t len) {
  sc_frag f;
  sc_manifest man;
  if (sc_frag_read(&f, data, len) == 0) {
    check(f.payload + f.payload_len == data + len);
  }
  if (sc_manifest_read(&man, data, len) == 0) {
    check(man.count >= 1 && man.count <= SC_STREAM_BLOCK);
    check(man.first < UINT64_MAX - man.count + 1);
  }
}

/* The multicast engine's messages (doc/protocol.md §13.2). */
static void decode_mcast(const uint8_t *data, size_t len) {
  sc_stream_msg sm;
  sc_push_msg pm;
  sc_map_msg map;
  sc_pull_msg pull;
  if (sc_stream_msg_read(&sm, data, len) == 0) {
    check(sm.name_len >= 1 && sm.name_len <= SC_STREAM_NAME_MAX);
    check(strlen(sm.name) == sm.name_len);
  }
  if (sc_push_read(&pm, data, len) == 0) {
    check(pm.mask <= SC_PUSH_ALL);
  }
  if (sc_map_read(&map, data, len) == 0) {
    check(map.nbits <= SC_MAP_BITS);
    check(map.key == UINT64_MAX || map.key <= map.top);
  }
  if (sc_pull_read(&pull, data, len) == 0) {
    check(pull.nbits >= 1 && pull.nbits <= SC_PULL_BITS);
    check(pull.flags == 0 || pull.flags == 1 || pull.flags == 3);
  }
}

/* The group messaging bodies (doc/protocol.md §14). */
static void decode_groupmsg(const uint8_t *data, size_t len) {
  sc_post_msg pm;
  sc_post_id id;
  sc_ihave_msg ih;
  if (sc_post_read(&pm, data, len) == 0) {
    check(pm.len <= SC_POST_MAX && pm.payload + pm.len == data + len);
  }
  (void)sc_post_id_read(&id, data, len);
  if (sc_ihave_read(&ih, data, len) == 0) {
    check(ih.n >= 1 && ih.n <= SC_IHAVE_MAX);
  }
}

static void decode_route_repl(const uint8_t *data, size_t len) {
  static sc_repl_runs_msg runs; /* 8 kB: not on the stack */
  sc_route_msg rm;
  sc_repl_fetch_msg fm;
  sc_repl_object_msg om;
  size_t i;
  if (sc_route_read(&rm, data, len) == 0) {
    check(rm.hops >= 1 && rm.hops <= SC_ROUTE_HOPS_MAX);
    check(rm.len <= SC_ROUTE_MAX && rm.payload + rm.len == data + len);
  }
  if (sc_repl_runs_read(&runs, data, len) == 0) {
    check(runs.n <= SC_REPL_RUNS_MAX);
    for (i = 0; i < runs.n; i++) {
      check(runs.run[i].len >= 1);
      check(runs.run[i].first + runs.run[i].len - 1 <= SC_REPL_INDEX_MAX);
      check(i == 0 ||
            runs.run[i].first > runs.run[i - 1].first + runs.run[i - 1].len);
    }
  }
  if (sc_repl_fetch_read(&fm, data, len) == 0) {
    check(fm.n >= 1 && fm.n <= SC_REPL_FETCH_MAX);
    for (i = 1; i < fm.n; i++) {
      check(fm.index[i] > fm.index[i - 1]);
    }
  }
  if (sc_repl_object_read(&om, data, len, 1) == 0) {
    check(om.len <= SC_REPL_OBJECT_MAX && om.data + om.len == data + len);
  }
  (void)sc_repl_object_read(&om, data, len, 0);
}

static void decode_all(const uint8_t *data, size_t len) {
  sc_pkt pkt;
  sc_hs_payload hp;
  if (sc_pkt_decode(&pkt, data, len) == 0) {
    if (pkt.noise != NULL) {
      check(pkt.noise + pkt.noise_len <= data + len);
    }
    if (pkt.type == SC_PKT_DATA) {
      check(pkt.sealed_len > SC_AEAD_TAG_LEN);
    }
  }
  sc_hs_payload_read(&hp, data, len);
  decode_chunks(data, len);
  decode_mesh(data, len);
  decode_stream(data, len);
  decode_mcast(data, len);
  decode_groupmsg(data, len);
  decode_route_repl(data, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tn *net = fuzz_pair();
  sc_addr peer = tn_get(net, 1)->addr, stranger = tn_addr("203.0.113.1:1");
  uint8_t pkt[SC_MAX_PACKET];
  fuzz_rec r;
  int steps = 0;
  while (steps++ < 64 && fuzz_next(&data, &size, &r)) {
    size_t n;
    decode_all(r.data, r.len);
    switch (r.kind % 4) {
    case 0:
      tn_inject(net, 0, &peer, r.data, r.len);
      break;
    case 1:
      tn_inject(net, 0, &stranger, r.data, r.len);
      break;
    case 2:
      n = fuzz_seal(net, 1, r.data, r.len, pkt);
      tn_inject(net, 0, &peer, pkt, n);
      break;
    default:
      tn_run(net, (r.len > 0 ? r.data[0] : 1u) * 10 * SC_MS);
      break;
    }
  }
  tn_run(net, 5 * SC_SEC);
  tn_del(net);
  return 0;
}

/* ---- seeds ----------------------------------------------------------------
 */

static void chunk_rec(uint8_t *buf, size_t *len, uint8_t type,
                      const uint8_t *body, size_t blen) {
  uint8_t plain[SC_MAX_PACKET];
  sc_wr w;
  sc_wr_init(&w, plain, sizeof(plain));
  sc_chunk_write(&w, type, body, blen);
  fuzz_put_rec(buf, len, 4096, 2, plain, w.len);
}

void fuzz_seeds(fuzz_emit_fn emit, void *arg) {
  uint8_t buf[4096], body[512], tick = 5;
  size_t len = 0;
  sc_pn_range ranges[3] = {{10, 12}, {4, 7}, {0, 1}};
  sc_peer_entry peer;
  sc_wr w;
  memset(&peer, 0, sizeof(peer));
  memset(peer.peer_id, 7, sizeof(peer.peer_id));
  peer.addr = tn_addr("10.0.0.9:4433");
  chunk_rec(buf, &len, SC_CHUNK_PING, NULL, 0);
  emit(arg, buf, len);
  len = 0;
  sc_wr_init(&w, body, sizeof(body));
  sc_ack_write(&w, ranges, 3, 100);
  fuzz_put_rec(buf, &len, sizeof(buf), 2, body, w.len);
  fuzz_put_rec(buf, &len, sizeof(buf), 3, &tick, 1);
  emit(arg, buf, len);
  len = 0;
  sc_wr_init(&w, body, sizeof(body));
  sc_peers_write(&w, &peer, 1);
  {
    uint8_t msg[600];
    sc_wr m;
    sc_wr_init(&m, msg, sizeof(msg));
    sc_msg_write(&m, 0, SC_MSG_PEERS, body, w.len);
    sc_msg_write(&m, 2, 77, body, 3);
    fuzz_put_rec(buf, &len, sizeof(buf), 2, msg, m.len);
  }
  fuzz_put_rec(buf, &len, sizeof(buf), 3, &tick, 1);
  emit(arg, buf, len);
  len = 0;
  memset(body, 0xab, SC_PATH_DATA_LEN);
  chunk_rec(buf, &len, SC_CHUNK_PATH_CHALLENGE, body, SC_PATH_DATA_LEN);
  chunk_rec(buf, &len, SC_CHUNK_PATH_RESPONSE, body, SC_PATH_DATA_LEN);
  body[0] = 1;
  chunk_rec(buf, &len, SC_CHUNK_CLOSE, body, 1);
  emit(arg, buf, len);
  len = 0;
  sc_wr_init(&w, body, sizeof(body));
  sc_pkt_write_init(&w, 42, NULL, 0, body + 100, 32);
  fuzz_put_rec(buf, &len, sizeof(buf), 1, body, w.len);
  sc_wr_init(&w, body, sizeof(body));
  sc_pkt_write_data_header(&w, 1, 5);
  sc_wr_zeros(&w, 40);
  fuzz_put_rec(buf, &len, sizeof(buf), 0, body, w.len);
  emit(arg, buf, len);
}
