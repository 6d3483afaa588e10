/*
 * sc_packet.c: the wire formats of doc/protocol.md §2-§6.
 */
#include "sc_packet.h"

#include <string.h>

#include "sc_cookie.h"
#include "sc_macro.h"

/* ---- packets (§3) ---------------------------------------------------------
 */

static int decode_init(sc_pkt *pkt, sc_rd *r) {
  uint8_t clen;
  if (sc_rd_u32(r, &pkt->sender_sid) != 0 || sc_rd_u8(r, &clen) != 0) {
    return SC_ERR_BUFFER;
  }
  /* §3.2: a cookie is absent or exactly SC_COOKIE_LEN bytes. */
  if (clen != 0 && clen != SC_COOKIE_LEN) {
    return SC_ERR_MALFORMED;
  }
  pkt->cookie_len = clen;
  if (sc_rd_span(r, &pkt->cookie, clen) != 0) {
    return SC_ERR_BUFFER;
  }
  if (clen == 0) {
    pkt->cookie = NULL;
  }
  pkt->noise_len = sc_rd_left(r);
  return sc_rd_span(r, &pkt->noise, pkt->noise_len);
}

static int decode_retry(sc_pkt *pkt, sc_rd *r) {
  uint8_t clen;
  if (sc_rd_u32(r, &pkt->receiver_sid) != 0 ||
      sc_rd_span(r, &pkt->echo, SC_ECHO_LEN) != 0 || sc_rd_u8(r, &clen) != 0) {
    return SC_ERR_BUFFER;
  }
  if (clen != SC_COOKIE_LEN) {
    return SC_ERR_MALFORMED;
  }
  pkt->cookie_len = clen;
  if (sc_rd_span(r, &pkt->cookie, clen) != 0) {
    return SC_ERR_BUFFER;
  }
  return sc_rd_left(r) == 0 ? 0 : SC_ERR_MALFORMED;
}

int sc_pkt_decode(sc_pkt *pkt, const uint8_t *data, size_t len) {
  sc_rd r;
  uint8_t version;
  memset(pkt, 0, sizeof(*pkt));
  pkt->len = len;
  sc_rd_init(&r, data, len);
  if (sc_rd_u8(&r, &version) != 0 || sc_rd_u8(&r, &pkt->type) != 0) {
    return SC_ERR_BUFFER;
  }
  if (version != SC_VERSION) {
    return SC_ERR_VERSION;
  }
  switch (pkt->type) {
  case SC_PKT_INIT:
    return decode_init(pkt, &r);
  case SC_PKT_RETRY:
    return decode_retry(pkt, &r);
  case SC_PKT_RESPONSE:
    if (sc_rd_u32(&r, &pkt->receiver_sid) != 0 ||
        sc_rd_u32(&r, &pkt->sender_sid) != 0) {
      return SC_ERR_BUFFER;
    }
    pkt->noise_len = sc_rd_left(&r);
    return sc_rd_span(&r, &pkt->noise, pkt->noise_len);
  case SC_PKT_FINISH:
    if (sc_rd_u32(&r, &pkt->receiver_sid) != 0) {
      return SC_ERR_BUFFER;
    }
    pkt->noise_len = sc_rd_left(&r);
    return sc_rd_span(&r, &pkt->noise, pkt->noise_len);
  case SC_PKT_DATA:
    if (sc_rd_u32(&r, &pkt->receiver_sid) != 0 ||
        sc_rd_u64(&r, &pkt->pn) != 0) {
      return SC_ERR_BUFFER;
    }
    /* §3.6: packet numbers stay below 2^62 so that ACKs can carry them. */
    if (pkt->pn > SC_VARINT_MAX) {
      return SC_ERR_MALFORMED;
    }
    /* An empty plaintext is never sent (§6.1): a sealed part without one
     * byte beyond its tag is too short for any DATA packet. */
    if (sc_rd_left(&r) < SC_AEAD_TAG_LEN + 1) {
      return SC_ERR_BUFFER;
    }
    pkt->sealed_len = sc_rd_left(&r);
    return sc_rd_span(&r, &pkt->sealed, pkt->sealed_len);
  default:
    return SC_ERR_MALFORMED;
  }
}

static int write_head(sc_wr *w, uint8_t type) {
  if (sc_wr_left(w) < 2) {
    return SC_ERR_BUFFER;
  }
  sc_wr_u8(w, SC_VERSION);
  return sc_wr_u8(w, type);
}

int sc_pkt_write_init(sc_wr *w, uint32_t sender_sid, const uint8_t *cookie,
                      size_t cookie_len, const uint8_t *noise,
                      size_t noise_len) {
  if (cookie_len != 0 && cookie_len != SC_COOKIE_LEN) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < 7 + cookie_len + noise_len) {
    return SC_ERR_BUFFER;
  }
  write_head(w, SC_PKT_INIT);
  sc_wr_u32(w, sender_sid);
  sc_wr_u8(w, (uint8_t)cookie_len);
  sc_wr_bytes(w, cookie, cookie_len);
  return sc_wr_bytes(w, noise, noise_len);
}

int sc_pkt_write_retry(sc_wr *w, uint32_t receiver_sid,
                       const uint8_t echo[SC_ECHO_LEN], const uint8_t *cookie,
                       size_t cookie_len) {
  if (cookie_len != SC_COOKIE_LEN) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < 7 + SC_ECHO_LEN + cookie_len) {
    return SC_ERR_BUFFER;
  }
  write_head(w, SC_PKT_RETRY);
  sc_wr_u32(w, receiver_sid);
  sc_wr_bytes(w, echo, SC_ECHO_LEN);
  sc_wr_u8(w, (uint8_t)cookie_len);
  return sc_wr_bytes(w, cookie, cookie_len);
}

int sc_pkt_write_response(sc_wr *w, uint32_t receiver_sid, uint32_t sender_sid,
                          const uint8_t *noise, size_t noise_len) {
  if (sc_wr_left(w) < 10 + noise_len) {
    return SC_ERR_BUFFER;
  }
  write_head(w, SC_PKT_RESPONSE);
  sc_wr_u32(w, receiver_sid);
  sc_wr_u32(w, sender_sid);
  return sc_wr_bytes(w, noise, noise_len);
}

int sc_pkt_write_finish(sc_wr *w, uint32_t receiver_sid, const uint8_t *noise,
                        size_t noise_len) {
  if (sc_wr_left(w) < 6 + noise_len) {
    return SC_ERR_BUFFER;
  }
  write_head(w, SC_PKT_FINISH);
  sc_wr_u32(w, receiver_sid);
  return sc_wr_bytes(w, noise, noise_len);
}

int sc_pkt_write_data_header(sc_wr *w, uint32_t receiver_sid, uint64_t pn) {
  if (sc_wr_left(w) < SC_DATA_HEADER_LEN) {
    return SC_ERR_BUFFER;
  }
  write_head(w, SC_PKT_DATA);
  sc_wr_u32(w, receiver_sid);
  return sc_wr_u64(w, pn);
}

/* ---- chunks (§6.3) -------------------------------------------------------
 */

int sc_chunk_next(sc_rd *r, sc_chunk *c) {
  uint64_t len;
  if (sc_rd_left(r) == 0) {
    return 0;
  }
  if (sc_rd_u8(r, &c->type) != 0 || sc_rd_varint(r, &len) != 0 ||
      len > sc_rd_left(r)) {
    return SC_ERR_MALFORMED;
  }
  c->len = (size_t)len;
  sc_rd_span(r, &c->body, c->len);
  return 1;
}

size_t sc_chunk_overhead(size_t len) { return 1 + sc_varint_len(len); }

int sc_chunk_write(sc_wr *w, uint8_t type, const uint8_t *body, size_t len) {
  if (sc_wr_left(w) < sc_chunk_overhead(len) + len) {
    return SC_ERR_BUFFER;
  }
  sc_wr_u8(w, type);
  sc_wr_varint(w, len);
  return sc_wr_bytes(w, body, len);
}

/* §6.3.2: largest, delay, count of further ranges, first range length,
 * then (gap, length) pairs, each gap being the number of missing packet
 * numbers between two ranges minus one. */
int sc_ack_decode(sc_ack *ack, const uint8_t *body, size_t len) {
  sc_rd r;
  uint64_t largest, count, first, i, lo;
  sc_rd_init(&r, body, len);
  ack->nranges = 0;
  if (sc_rd_varint(&r, &largest) != 0 ||
      sc_rd_varint(&r, &ack->delay_us) != 0 || sc_rd_varint(&r, &count) != 0 ||
      sc_rd_varint(&r, &first) != 0 || first > largest) {
    return SC_ERR_MALFORMED;
  }
  lo = largest - first;
  ack->ranges[0].hi = largest;
  ack->ranges[0].lo = lo;
  ack->nranges = 1;
  for (i = 0; i < count; i++) {
    uint64_t gap, rlen, hi;
    if (sc_rd_varint(&r, &gap) != 0 || sc_rd_varint(&r, &rlen) != 0 ||
        lo < gap + 2) {
      return SC_ERR_MALFORMED;
    }
    hi = lo - gap - 2;
    if (rlen > hi) {
      return SC_ERR_MALFORMED;
    }
    lo = hi - rlen;
    if (ack->nranges < SC_ACK_MAX_RANGES) {
      ack->ranges[ack->nranges].hi = hi;
      ack->ranges[ack->nranges].lo = lo;
      ack->nranges++;
    }
  }
  return sc_rd_left(&r) == 0 ? 0 : SC_ERR_MALFORMED;
}

static size_t ack_body_len(const sc_pn_range *ranges, size_t n,
                           uint64_t delay_us) {
  size_t len = sc_varint_len(ranges[0].hi) + sc_varint_len(delay_us) +
               sc_varint_len(n - 1) +
               sc_varint_len(ranges[0].hi - ranges[0].lo);
  size_t i;
  for (i = 1; i < n; i++) {
    len += sc_varint_len(ranges[i - 1].lo - ranges[i].hi - 2) +
           sc_varint_len(ranges[i].hi - ranges[i].lo);
  }
  return len;
}

int sc_ack_write(sc_wr *w, const sc_pn_range *ranges, size_t n,
                 uint64_t delay_us) {
  size_t i, body;
  if (n == 0 || ranges[0].hi > SC_VARINT_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  delay_us = SC_MIN(delay_us, SC_VARINT_MAX);
  n = SC_MIN(n, (size_t)SC_ACK_MAX_RANGES);
  /* Drop the oldest ranges until the chunk fits. */
  for (;;) {
    body = ack_body_len(ranges, n, delay_us);
    if (sc_chunk_overhead(body) + body <= sc_wr_left(w)) {
      break;
    }
    if (--n == 0) {
      return SC_ERR_BUFFER;
    }
  }
  sc_wr_u8(w, SC_CHUNK_ACK);
  sc_wr_varint(w, body);
  sc_wr_varint(w, ranges[0].hi);
  sc_wr_varint(w, delay_us);
  sc_wr_varint(w, n - 1);
  sc_wr_varint(w, ranges[0].hi - ranges[0].lo);
  for (i = 1; i < n; i++) {
    sc_wr_varint(w, ranges[i - 1].lo - ranges[i].hi - 2);
    sc_wr_varint(w, ranges[i].hi - ranges[i].lo);
  }
  return 0;
}

int sc_msg_decode(sc_msg_view *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (sc_rd_varint(&r, &m->seq) != 0 || sc_rd_varint(&r, &m->kind) != 0) {
    return SC_ERR_MALFORMED;
  }
  m->len = sc_rd_left(&r);
  sc_rd_span(&r, &m->body, m->len);
  return 0;
}

size_t sc_msg_chunk_len(uint64_t seq, uint64_t kind, size_t len) {
  size_t body = sc_varint_len(seq) + sc_varint_len(kind) + len;
  return sc_chunk_overhead(body) + body;
}

int sc_msg_write(sc_wr *w, uint64_t seq, uint64_t kind, const uint8_t *body,
                 size_t len) {
  size_t blen = sc_varint_len(seq) + sc_varint_len(kind) + len;
  if (seq > SC_VARINT_MAX || kind > SC_VARINT_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < sc_chunk_overhead(blen) + blen) {
    return SC_ERR_BUFFER;
  }
  sc_wr_u8(w, SC_CHUNK_MSG);
  sc_wr_varint(w, blen);
  sc_wr_varint(w, seq);
  sc_wr_varint(w, kind);
  return sc_wr_bytes(w, body, len);
}

/* ---- addresses (§2.3) ----------------------------------------------------
 */

int sc_addr_write(sc_wr *w, const sc_addr *a) {
  size_t n = a->family == SC_AF_INET ? 4 : 16;
  if (a->family != SC_AF_INET && a->family != SC_AF_INET6) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < 3 + n) {
    return SC_ERR_BUFFER;
  }
  sc_wr_u8(w, a->family);
  sc_wr_bytes(w, a->ip, n);
  return sc_wr_u16(w, a->port);
}

int sc_addr_read(sc_rd *r, sc_addr *a) {
  size_t n;
  memset(a, 0, sizeof(*a));
  if (sc_rd_u8(r, &a->family) != 0) {
    return SC_ERR_MALFORMED;
  }
  if (a->family != SC_AF_INET && a->family != SC_AF_INET6) {
    return SC_ERR_MALFORMED;
  }
  n = a->family == SC_AF_INET ? 4 : 16;
  if (sc_rd_bytes(r, a->ip, n) != 0 || sc_rd_u16(r, &a->port) != 0) {
    return SC_ERR_MALFORMED;
  }
  return 0;
}

/* ---- handshake payloads (§4.3): a list of (field, length, value) ---------
 */

enum { HS_FIELD_INCARNATION = 1, HS_FIELD_OBSERVED = 2 };

int sc_hs_payload_write(sc_wr *w, const sc_hs_payload *p) {
  uint8_t buf[SC_HS_PAYLOAD_MAX], field[32];
  sc_wr all, f;
  int rv;
  /* Built aside first, so that the payload is written whole or not at
   * all. Fields share the chunk layout: type, varint length, value. */
  sc_wr_init(&all, buf, sizeof(buf));
  sc_wr_init(&f, field, sizeof(field));
  sc_wr_u64(&f, p->incarnation);
  rv = sc_chunk_write(&all, HS_FIELD_INCARNATION, field, f.len);
  if (rv == 0 && p->has_observed) {
    sc_wr_init(&f, field, sizeof(field));
    rv = sc_addr_write(&f, &p->observed);
    if (rv == 0) {
      rv = sc_chunk_write(&all, HS_FIELD_OBSERVED, field, f.len);
    }
  }
  return rv != 0 ? rv : sc_wr_bytes(w, buf, all.len);
}

int sc_hs_payload_read(sc_hs_payload *p, const uint8_t *data, size_t len) {
  sc_rd r, f;
  sc_chunk c;
  int rv, has_incarnation = 0;
  memset(p, 0, sizeof(*p));
  sc_rd_init(&r, data, len);
  while ((rv = sc_chunk_next(&r, &c)) == 1) {
    sc_rd_init(&f, c.body, c.len);
    if (c.type == HS_FIELD_INCARNATION) {
      if (sc_rd_u64(&f, &p->incarnation) != 0 || sc_rd_left(&f) != 0) {
        return SC_ERR_MALFORMED;
      }
      has_incarnation = 1;
    } else if (c.type == HS_FIELD_OBSERVED) {
      if (sc_addr_read(&f, &p->observed) != 0 || sc_rd_left(&f) != 0) {
        return SC_ERR_MALFORMED;
      }
      p->has_observed = 1;
    }
  }
  if (rv < 0 || !has_incarnation) {
    return SC_ERR_MALFORMED;
  }
  return 0;
}

/* ---- PEERS (§6.4.1) -------------------------------------------------------
 */

int sc_peers_write(sc_wr *w, const sc_peer_entry *e, size_t n) {
  size_t i, need = sc_varint_len(n);
  if (n > SC_PEERS_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < n; i++) {
    if (e[i].addr.family != SC_AF_INET && e[i].addr.family != SC_AF_INET6) {
      return SC_ERR_INVALID_ARG;
    }
    need += SC_PEER_ID_LEN + 3 + (e[i].addr.family == SC_AF_INET ? 4u : 16u);
  }
  /* Checked up front so that the message is written whole or not at all. */
  if (sc_wr_left(w) < need) {
    return SC_ERR_BUFFER;
  }
  sc_wr_varint(w, n);
  for (i = 0; i < n; i++) {
    sc_wr_bytes(w, e[i].peer_id, SC_PEER_ID_LEN);
    sc_addr_write(w, &e[i].addr);
  }
  return 0;
}

int sc_peers_read(sc_peer_entry *out, size_t *n, const uint8_t *body,
                  size_t len) {
  sc_rd r;
  uint64_t count, i;
  sc_rd_init(&r, body, len);
  *n = 0;
  if (sc_rd_varint(&r, &count) != 0 || count > SC_PEERS_MAX) {
    return SC_ERR_MALFORMED;
  }
  for (i = 0; i < count; i++) {
    if (sc_rd_bytes(&r, out[i].peer_id, SC_PEER_ID_LEN) != 0 ||
        sc_addr_read(&r, &out[i].addr) != 0) {
      return SC_ERR_MALFORMED;
    }
  }
  if (sc_rd_left(&r) != 0) {
    return SC_ERR_MALFORMED;
  }
  *n = (size_t)count;
  return 0;
}
