/*
 * sc_wire.c: bounds-checked reader and writer (doc/protocol.md §2).
 */
#include "sc_wire.h"

#include <string.h>

#include "stratocast.h"

void sc_put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

void sc_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

void sc_put_u64(uint8_t *p, uint64_t v) {
  sc_put_u32(p, (uint32_t)(v >> 32));
  sc_put_u32(p + 4, (uint32_t)v);
}

uint16_t sc_get_u16(const uint8_t *p) {
  return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

uint32_t sc_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

uint64_t sc_get_u64(const uint8_t *p) {
  return (uint64_t)sc_get_u32(p) << 32 | sc_get_u32(p + 4);
}

void sc_rd_init(sc_rd *r, const uint8_t *data, size_t len) {
  r->p = data;
  r->end = data + len;
}

size_t sc_rd_left(const sc_rd *r) { return (size_t)(r->end - r->p); }

int sc_rd_span(sc_rd *r, const uint8_t **out, size_t len) {
  if (sc_rd_left(r) < len) {
    return SC_ERR_BUFFER;
  }
  *out = r->p;
  r->p += len;
  return 0;
}

int sc_rd_skip(sc_rd *r, size_t len) {
  const uint8_t *unused;
  return sc_rd_span(r, &unused, len);
}

int sc_rd_bytes(sc_rd *r, uint8_t *out, size_t len) {
  const uint8_t *p;
  int rv = sc_rd_span(r, &p, len);
  if (rv == 0 && len > 0) {
    memcpy(out, p, len);
  }
  return rv;
}

int sc_rd_u8(sc_rd *r, uint8_t *v) {
  const uint8_t *p;
  int rv = sc_rd_span(r, &p, 1);
  if (rv == 0) {
    *v = p[0];
  }
  return rv;
}

int sc_rd_u16(sc_rd *r, uint16_t *v) {
  const uint8_t *p;
  int rv = sc_rd_span(r, &p, 2);
  if (rv == 0) {
    *v = sc_get_u16(p);
  }
  return rv;
}

int sc_rd_u32(sc_rd *r, uint32_t *v) {
  const uint8_t *p;
  int rv = sc_rd_span(r, &p, 4);
  if (rv == 0) {
    *v = sc_get_u32(p);
  }
  return rv;
}

int sc_rd_u64(sc_rd *r, uint64_t *v) {
  const uint8_t *p;
  int rv = sc_rd_span(r, &p, 8);
  if (rv == 0) {
    *v = sc_get_u64(p);
  }
  return rv;
}

int sc_rd_varint(sc_rd *r, uint64_t *v) {
  size_t n, i;
  uint64_t x;
  if (sc_rd_left(r) < 1) {
    return SC_ERR_BUFFER;
  }
  n = (size_t)1 << (r->p[0] >> 6);
  if (sc_rd_left(r) < n) {
    return SC_ERR_BUFFER;
  }
  x = r->p[0] & 0x3f;
  for (i = 1; i < n; i++) {
    x = x << 8 | r->p[i];
  }
  r->p += n;
  *v = x;
  return 0;
}

void sc_wr_init(sc_wr *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->len = 0;
  w->cap = cap;
}

size_t sc_wr_left(const sc_wr *w) { return w->cap - w->len; }

int sc_wr_bytes(sc_wr *w, const uint8_t *data, size_t len) {
  if (sc_wr_left(w) < len) {
    return SC_ERR_BUFFER;
  }
  if (len > 0) {
    memcpy(w->buf + w->len, data, len);
  }
  w->len += len;
  return 0;
}

int sc_wr_zeros(sc_wr *w, size_t len) {
  if (sc_wr_left(w) < len) {
    return SC_ERR_BUFFER;
  }
  if (len > 0) {
    memset(w->buf + w->len, 0, len);
  }
  w->len += len;
  return 0;
}

int sc_wr_u8(sc_wr *w, uint8_t v) { return sc_wr_bytes(w, &v, 1); }

int sc_wr_u16(sc_wr *w, uint16_t v) {
  uint8_t b[2];
  sc_put_u16(b, v);
  return sc_wr_bytes(w, b, sizeof(b));
}

int sc_wr_u32(sc_wr *w, uint32_t v) {
  uint8_t b[4];
  sc_put_u32(b, v);
  return sc_wr_bytes(w, b, sizeof(b));
}

int sc_wr_u64(sc_wr *w, uint64_t v) {
  uint8_t b[8];
  sc_put_u64(b, v);
  return sc_wr_bytes(w, b, sizeof(b));
}

size_t sc_varint_len(uint64_t v) {
  if (v < 64) {
    return 1;
  }
  if (v < 16384) {
    return 2;
  }
  if (v < 1073741824) {
    return 4;
  }
  if (v <= SC_VARINT_MAX) {
    return 8;
  }
  return 0;
}

int sc_wr_varint(sc_wr *w, uint64_t v) {
  uint8_t b[8];
  size_t n = sc_varint_len(v), i;
  static const uint8_t prefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
  if (n == 0) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = n; i-- > 0;) {
    b[i] = (uint8_t)v;
    v >>= 8;
  }
  b[0] |= prefix[n];
  return sc_wr_bytes(w, b, n);
}
