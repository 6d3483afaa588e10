/*
 * sc_stream.c: stream IDs, fragments and signed manifests
 * (doc/protocol.md §12).
 *
 * Every encoding here is fixed-size except for one trailing or
 * length-prefixed field, so no two different inputs to a hash or a
 * signature share their bytes:
 *   - the stream ID input carries the name's length before the name;
 *   - a fragment's payload is the rest of the fragment, after a fixed
 *     49-byte header;
 *   - the signed manifest bytes carry the count before the hashes, and the
 *     signature covers the domain string and every byte up to itself.
 */
#include "sc_stream.h"

#include <sodium.h>
#include <string.h>

#define ID_DOMAIN "stratocast stream v1"
#define ID_DOMAIN_LEN (sizeof(ID_DOMAIN) - 1)
#define SIG_DOMAIN "stratocast manifest v1"
#define SIG_DOMAIN_LEN (sizeof(SIG_DOMAIN) - 1)
#define ID_INPUT_MAX                                                           \
  (ID_DOMAIN_LEN + SC_STREAM_KEY_LEN + 1 + SC_STREAM_NAME_MAX)
#define SIGNED_MAX (SIG_DOMAIN_LEN + SC_MANIFEST_MAX_LEN - SC_STREAM_SIG_LEN)

static int done(const sc_rd *r) {
  return sc_rd_left(r) == 0 ? 0 : SC_ERR_MALFORMED;
}

int sc_stream_id(uint8_t out[SC_STREAM_ID_LEN],
                 const uint8_t key[SC_STREAM_KEY_LEN], const char *name,
                 size_t name_len) {
  uint8_t in[ID_INPUT_MAX];
  size_t n = 0;
  if (name == NULL || name_len == 0 || name_len > SC_STREAM_NAME_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  memcpy(in, ID_DOMAIN, ID_DOMAIN_LEN);
  n += ID_DOMAIN_LEN;
  memcpy(in + n, key, SC_STREAM_KEY_LEN);
  n += SC_STREAM_KEY_LEN;
  in[n++] = (uint8_t)name_len;
  memcpy(in + n, name, name_len);
  n += name_len;
  crypto_generichash(out, SC_STREAM_ID_LEN, in, n, NULL, 0);
  return 0;
}

/* doc/protocol.md §12.2: bits other than KEYFRAME are reserved. */
static int frag_flags_ok(uint8_t flags) {
  return (flags & ~SC_FRAG_KEYFRAME) == 0;
}

int sc_frag_write(sc_wr *w, const sc_frag *f) {
  size_t left = sc_wr_left(w);
  /* Check room first: a fragment is written whole or not at all. */
  if (left < SC_FRAG_HEADER_LEN || left - SC_FRAG_HEADER_LEN < f->payload_len) {
    return SC_ERR_BUFFER;
  }
  if (sc_wr_bytes(w, f->stream_id, SC_STREAM_ID_LEN) != 0 ||
      sc_wr_u64(w, f->seq) != 0 || sc_wr_u64(w, f->timestamp_us) != 0 ||
      sc_wr_u8(w, f->flags) != 0 ||
      sc_wr_bytes(w, f->payload, f->payload_len) != 0) {
    return SC_ERR_BUFFER; /* unreachable after the room check */
  }
  return 0;
}

int sc_frag_read(sc_frag *f, const uint8_t *data, size_t len) {
  sc_rd r;
  if (len < SC_FRAG_HEADER_LEN) {
    return SC_ERR_MALFORMED;
  }
  sc_rd_init(&r, data, len);
  if (sc_rd_bytes(&r, f->stream_id, SC_STREAM_ID_LEN) != 0 ||
      sc_rd_u64(&r, &f->seq) != 0 || sc_rd_u64(&r, &f->timestamp_us) != 0 ||
      sc_rd_u8(&r, &f->flags) != 0 || !frag_flags_ok(f->flags)) {
    return SC_ERR_MALFORMED;
  }
  f->payload_len = sc_rd_left(&r);
  f->payload = r.p;
  return 0;
}

void sc_frag_hash(uint8_t out[SC_STREAM_HASH_LEN], const uint8_t *data,
                  size_t len) {
  crypto_generichash(out, SC_STREAM_HASH_LEN, data, len, NULL, 0);
}

/* doc/protocol.md §12.3: 1..16 fragments, the last below UINT64_MAX (which
 * stands for "no seq" in the APIs). */
static int block_ok(uint64_t first, unsigned count) {
  return count >= 1 && count <= SC_STREAM_BLOCK && first < UINT64_MAX - count + 1;
}

/* Writes every manifest byte before the signature. */
static int write_body(sc_wr *w, const sc_manifest *m) {
  unsigned i;
  if (sc_wr_bytes(w, m->stream_id, SC_STREAM_ID_LEN) != 0 ||
      sc_wr_u64(w, m->first) != 0 || sc_wr_u8(w, (uint8_t)m->count) != 0) {
    return SC_ERR_BUFFER;
  }
  for (i = 0; i < m->count; i++) {
    if (sc_wr_bytes(w, m->hash[i], SC_STREAM_HASH_LEN) != 0) {
      return SC_ERR_BUFFER;
    }
  }
  return 0;
}

/* Builds the signature input in |buf| (SIGNED_MAX bytes) and returns its
 * length. |m| must have a valid block (block_ok). */
static size_t signed_input(uint8_t *buf, const sc_manifest *m) {
  sc_wr w;
  sc_wr_init(&w, buf, SIGNED_MAX);
  /* Cannot fail: SIGNED_MAX holds the domain and the largest body. */
  (void)sc_wr_bytes(&w, (const uint8_t *)SIG_DOMAIN, SIG_DOMAIN_LEN);
  (void)write_body(&w, m);
  return w.len;
}

int sc_manifest_sign(sc_manifest *m, const uint8_t sk[SC_STREAM_SECRET_LEN]) {
  uint8_t in[SIGNED_MAX];
  size_t n;
  if (!block_ok(m->first, m->count)) {
    return SC_ERR_INVALID_ARG;
  }
  n = signed_input(in, m);
  crypto_sign_detached(m->sig, NULL, in, n, sk);
  return 0;
}

int sc_manifest_verify(const sc_manifest *m,
                       const uint8_t key[SC_STREAM_KEY_LEN]) {
  uint8_t in[SIGNED_MAX];
  size_t n;
  if (!block_ok(m->first, m->count)) {
    return SC_ERR_INVALID_ARG;
  }
  n = signed_input(in, m);
  if (crypto_sign_verify_detached(m->sig, in, n, key) != 0) {
    return SC_ERR_CRYPTO;
  }
  return 0;
}

int sc_manifest_write(sc_wr *w, const sc_manifest *m) {
  size_t need;
  /* A bad count would index past |m->hash|, and a reader would reject
   * the bytes anyway. */
  if (!block_ok(m->first, m->count)) {
    return SC_ERR_INVALID_ARG;
  }
  need = SC_MANIFEST_MAX_LEN -
         (SC_STREAM_BLOCK - m->count) * (size_t)SC_STREAM_HASH_LEN;
  if (sc_wr_left(w) < need) {
    return SC_ERR_BUFFER;
  }
  if (write_body(w, m) != 0 || sc_wr_bytes(w, m->sig, SC_STREAM_SIG_LEN) != 0) {
    return SC_ERR_BUFFER; /* unreachable after the room check */
  }
  return 0;
}

int sc_manifest_read(sc_manifest *m, const uint8_t *data, size_t len) {
  sc_rd r;
  uint8_t count;
  unsigned i;
  sc_rd_init(&r, data, len);
  if (sc_rd_bytes(&r, m->stream_id, SC_STREAM_ID_LEN) != 0 ||
      sc_rd_u64(&r, &m->first) != 0 || sc_rd_u8(&r, &count) != 0 ||
      !block_ok(m->first, count)) {
    return SC_ERR_MALFORMED;
  }
  m->count = count;
  for (i = 0; i < m->count; i++) {
    if (sc_rd_bytes(&r, m->hash[i], SC_STREAM_HASH_LEN) != 0) {
      return SC_ERR_MALFORMED;
    }
  }
  if (sc_rd_bytes(&r, m->sig, SC_STREAM_SIG_LEN) != 0) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

int sc_manifest_covers(const sc_manifest *m, uint64_t seq, const uint8_t *data,
                       size_t len) {
  uint8_t h[SC_STREAM_HASH_LEN];
  sc_frag f;
  if (!block_ok(m->first, m->count) || seq < m->first ||
      seq - m->first >= m->count) {
    return 0;
  }
  /* The hash alone binds the fragment to what the publisher signed, but a
   * publisher could list a fragment whose header names another stream or
   * seq; a caller files fragments by their header, so those must match
   * the manifest too. */
  if (sc_frag_read(&f, data, len) != 0 || f.seq != seq ||
      memcmp(f.stream_id, m->stream_id, SC_STREAM_ID_LEN) != 0) {
    return 0;
  }
  sc_frag_hash(h, data, len);
  return sodium_memcmp(h, m->hash[seq - m->first], SC_STREAM_HASH_LEN) == 0;
}
