/*
 * sc_mcastmsg.c: encoding of the multicast engine's messages
 * (doc/protocol.md §13.2).
 */
#include "sc_mcastmsg.h"

#include <string.h>

static int done(const sc_rd *r) {
  return sc_rd_left(r) == 0 ? 0 : SC_ERR_MALFORMED;
}

uint64_t sc_stream_tag(const uint8_t stream_id[SC_STREAM_ID_LEN]) {
  return sc_get_u64(stream_id);
}

/* Stream names: 1..128 bytes, no control characters (they end up in logs
 * and on the stats socket). */
static int name_ok(const char *name, size_t len) {
  size_t i;
  if (len == 0 || len > SC_STREAM_NAME_MAX) {
    return 0;
  }
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || c == 0x7f) {
      return 0;
    }
  }
  return 1;
}

int sc_stream_msg_write(sc_wr *w, const sc_stream_msg *m) {
  if (!name_ok(m->name, m->name_len)) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < SC_GROUP_ID_LEN + SC_STREAM_KEY_LEN + 1 + m->name_len) {
    return SC_ERR_BUFFER;
  }
  (void)sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN);
  (void)sc_wr_bytes(w, m->key, SC_STREAM_KEY_LEN);
  (void)sc_wr_u8(w, (uint8_t)m->name_len);
  (void)sc_wr_bytes(w, (const uint8_t *)m->name, m->name_len);
  return 0;
}

int sc_stream_msg_read(sc_stream_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  uint8_t n;
  sc_rd_init(&r, body, len);
  /* The length is checked before the name is copied: |m->name| holds
   * SC_STREAM_NAME_MAX bytes and a NUL. */
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_bytes(&r, m->key, SC_STREAM_KEY_LEN) != 0 ||
      sc_rd_u8(&r, &n) != 0 || n > SC_STREAM_NAME_MAX ||
      sc_rd_bytes(&r, (uint8_t *)m->name, n) != 0) {
    return SC_ERR_MALFORMED;
  }
  m->name_len = n;
  m->name[n] = '\0';
  if (!name_ok(m->name, n)) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

int sc_push_write(sc_wr *w, const sc_push_msg *m) {
  if (m->mask > SC_PUSH_ALL) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < SC_STREAM_ID_LEN + 2) {
    return SC_ERR_BUFFER;
  }
  (void)sc_wr_bytes(w, m->stream_id, SC_STREAM_ID_LEN);
  (void)sc_wr_u16(w, m->mask);
  return 0;
}

int sc_push_read(sc_push_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->stream_id, SC_STREAM_ID_LEN) != 0 ||
      sc_rd_u16(&r, &m->mask) != 0 || m->mask > SC_PUSH_ALL) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

/* Bitmaps travel as ceil(nbits / 8) bytes, bit i in byte i / 8 (least
 * significant bit first); bits past nbits must be zero. */
static int bits_write(sc_wr *w, unsigned nbits, uint64_t bits) {
  unsigned i;
  if (sc_wr_u8(w, (uint8_t)nbits) != 0) {
    return SC_ERR_BUFFER;
  }
  for (i = 0; i < (nbits + 7) / 8; i++) {
    if (sc_wr_u8(w, (uint8_t)(bits >> (8 * i))) != 0) {
      return SC_ERR_BUFFER;
    }
  }
  return 0;
}

static int bits_read(sc_rd *r, unsigned max, unsigned *nbits, uint64_t *bits) {
  uint8_t n, b;
  unsigned i;
  if (sc_rd_u8(r, &n) != 0 || n > max) {
    return SC_ERR_MALFORMED;
  }
  *nbits = n;
  *bits = 0;
  for (i = 0; i < (n + 7u) / 8; i++) {
    if (sc_rd_u8(r, &b) != 0) {
      return SC_ERR_MALFORMED;
    }
    *bits |= (uint64_t)b << (8 * i);
  }
  if (n < 64 && (*bits >> n) != 0) {
    return SC_ERR_MALFORMED;
  }
  return 0;
}

static int masked_ok(unsigned nbits, uint64_t bits) {
  return nbits <= 64 && (nbits == 64 || (bits >> nbits) == 0);
}

int sc_map_write(sc_wr *w, const sc_map_msg *m) {
  uint8_t buf[64];
  sc_wr t;
  uint64_t key_back;
  if (m->nbits > SC_MAP_BITS || !masked_ok(m->nbits, m->bits) ||
      m->top > SC_VARINT_MAX || (m->key != UINT64_MAX && m->key > m->top)) {
    return SC_ERR_INVALID_ARG;
  }
  /* The keyframe travels as top - key + 1, 0 meaning none. */
  key_back = m->key == UINT64_MAX ? 0 : m->top - m->key + 1;
  sc_wr_init(&t, buf, sizeof(buf));
  if (sc_wr_u8(&t, SC_DG_MAP) != 0 || sc_wr_u64(&t, m->tag) != 0 ||
      sc_wr_varint(&t, m->top) != 0 ||
      sc_wr_varint(&t, m->age_ms > SC_VARINT_MAX ? SC_VARINT_MAX : m->age_ms) !=
          0 ||
      sc_wr_varint(&t, key_back > SC_VARINT_MAX ? 0 : key_back) != 0 ||
      sc_wr_bytes(&t, m->hops, SC_MC_CLASSES) != 0 ||
      bits_write(&t, m->nbits, m->bits) != 0) {
    return SC_ERR_INVALID_ARG;
  }
  return sc_wr_bytes(w, buf, t.len) != 0 ? SC_ERR_BUFFER : 0;
}

int sc_map_read(sc_map_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  uint64_t key_back;
  sc_rd_init(&r, body, len);
  if (sc_rd_u64(&r, &m->tag) != 0 || sc_rd_varint(&r, &m->top) != 0 ||
      sc_rd_varint(&r, &m->age_ms) != 0 || sc_rd_varint(&r, &key_back) != 0 ||
      key_back > m->top + 1 || sc_rd_bytes(&r, m->hops, SC_MC_CLASSES) != 0 ||
      bits_read(&r, SC_MAP_BITS, &m->nbits, &m->bits) != 0) {
    return SC_ERR_MALFORMED;
  }
  m->key = key_back == 0 ? UINT64_MAX : m->top - (key_back - 1);
  return done(&r);
}

int sc_pull_write(sc_wr *w, const sc_pull_msg *m) {
  uint8_t buf[64];
  sc_wr t;
  if (m->nbits == 0 || m->nbits > SC_PULL_BITS ||
      !masked_ok(m->nbits, m->bits) || m->first > SC_VARINT_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  sc_wr_init(&t, buf, sizeof(buf));
  if (sc_wr_u8(&t, SC_DG_PULL) != 0 || sc_wr_u64(&t, m->tag) != 0 ||
      m->flags > 3 || m->flags == SC_PULL_ONLY_MANIFESTS ||
      sc_wr_u8(&t, (uint8_t)m->flags) != 0 || sc_wr_varint(&t, m->first) != 0 ||
      bits_write(&t, m->nbits, m->bits) != 0) {
    return SC_ERR_INVALID_ARG;
  }
  return sc_wr_bytes(w, buf, t.len) != 0 ? SC_ERR_BUFFER : 0;
}

int sc_pull_read(sc_pull_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  uint8_t flags;
  sc_rd_init(&r, body, len);
  if (sc_rd_u64(&r, &m->tag) != 0 || sc_rd_u8(&r, &flags) != 0 || flags > 3 ||
      flags == SC_PULL_ONLY_MANIFESTS || sc_rd_varint(&r, &m->first) != 0 ||
      bits_read(&r, SC_PULL_BITS, &m->nbits, &m->bits) != 0 || m->nbits == 0) {
    return SC_ERR_MALFORMED;
  }
  m->flags = flags;
  return done(&r);
}
