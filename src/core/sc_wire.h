/*
 * sc_wire.h: the bounds-checked wire codec every message goes through.
 *
 * Integers are big-endian. Variable-length integers use the encoding of
 * doc/protocol.md §2 (two high bits give the length: 1, 2, 4 or 8 bytes;
 * values up to 2^62 - 1). A reader never reads past its end and a writer
 * never writes past its capacity: every call either succeeds whole or
 * returns SC_ERR_BUFFER and leaves the cursor where it was.
 */
#ifndef SC_WIRE_H
#define SC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SC_VARINT_MAX ((uint64_t)0x3fffffffffffffffULL)

typedef struct sc_rd {
  const uint8_t *p;
  const uint8_t *end;
} sc_rd;

typedef struct sc_wr {
  uint8_t *buf;
  size_t len;
  size_t cap;
} sc_wr;

/* sc_rd_init makes |r| read the |len| bytes at |data|. */
void sc_rd_init(sc_rd *r, const uint8_t *data, size_t len);

/* sc_rd_left returns the bytes not yet read. */
size_t sc_rd_left(const sc_rd *r);

/* The readers store the value in |*v| and return 0, or SC_ERR_BUFFER if the
 * input is too short (or, for sc_rd_varint, SC_ERR_MALFORMED never: every
 * bit pattern is a valid varint). */
int sc_rd_u8(sc_rd *r, uint8_t *v);
int sc_rd_u16(sc_rd *r, uint16_t *v);
int sc_rd_u32(sc_rd *r, uint32_t *v);
int sc_rd_u64(sc_rd *r, uint64_t *v);
int sc_rd_varint(sc_rd *r, uint64_t *v);

/* sc_rd_bytes copies |len| bytes into |out|. */
int sc_rd_bytes(sc_rd *r, uint8_t *out, size_t len);

/* sc_rd_span points |*out| at the next |len| bytes without copying and
 * advances past them. */
int sc_rd_span(sc_rd *r, const uint8_t **out, size_t len);

/* sc_rd_skip advances past |len| bytes. */
int sc_rd_skip(sc_rd *r, size_t len);

/* sc_wr_init makes |w| write into |buf| of |cap| bytes, starting empty. */
void sc_wr_init(sc_wr *w, uint8_t *buf, size_t cap);

/* sc_wr_left returns the bytes that can still be written. */
size_t sc_wr_left(const sc_wr *w);

/* The writers append and return 0, or SC_ERR_BUFFER when out of room.
 * sc_wr_varint returns SC_ERR_INVALID_ARG for a value over SC_VARINT_MAX. */
int sc_wr_u8(sc_wr *w, uint8_t v);
int sc_wr_u16(sc_wr *w, uint16_t v);
int sc_wr_u32(sc_wr *w, uint32_t v);
int sc_wr_u64(sc_wr *w, uint64_t v);
int sc_wr_varint(sc_wr *w, uint64_t v);
int sc_wr_bytes(sc_wr *w, const uint8_t *data, size_t len);

/* sc_wr_zeros appends |len| zero bytes. */
int sc_wr_zeros(sc_wr *w, size_t len);

/* sc_varint_len returns the encoded length of |v| (1, 2, 4 or 8), or 0 if |v|
 * exceeds SC_VARINT_MAX. */
size_t sc_varint_len(uint64_t v);

/* Store and load helpers for fixed positions (no bounds check: the caller
 * owns the buffer). */
void sc_put_u16(uint8_t *p, uint16_t v);
void sc_put_u32(uint8_t *p, uint32_t v);
void sc_put_u64(uint8_t *p, uint64_t v);
uint16_t sc_get_u16(const uint8_t *p);
uint32_t sc_get_u32(const uint8_t *p);
uint64_t sc_get_u64(const uint8_t *p);

#endif /* SC_WIRE_H */
