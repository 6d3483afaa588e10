/*
 * sc_stream.h: live-stream identity and fragment authentication
 * (doc/protocol.md §12).
 *
 * A stream is named by its publisher's Ed25519 key and a name:
 *   stream ID = BLAKE2b-256("stratocast stream v1" | publisher key (32) |
 *                           name length (1) | name)
 * so nobody can publish under another's key. The publisher cuts the source
 * into fragments that each fit one datagram and authenticates them in
 * blocks: every SC_STREAM_BLOCK fragments (or sooner, when the publisher
 * flushes a partial block on a timer) it emits a MANIFEST that lists the
 * BLAKE2b-128 hash of each fragment of the block and is signed with the
 * stream key. One signature check per block, one short hash per fragment:
 * a relay verifies a fragment as soon as it holds the fragment and its
 * block's manifest, and never stores, relays or plays one it cannot.
 *
 * Fragment (what a FRAGMENT message carries):
 *   stream ID (32) | seq (u64) | timestamp_us (u64) | flags (u8) |
 *   payload (the rest)
 * flags: bit 0 KEYFRAME (a clean point to start playing from).
 *
 * Manifest:
 *   stream ID (32) | first seq (u64) | count (u8, 1..SC_STREAM_BLOCK) |
 *   count x hash (16) | signature (64)
 * The signature is Ed25519 over "stratocast manifest v1" | every byte of
 * the manifest before the signature. A block covers seqs first ..
 * first + count - 1, which must stay below UINT64_MAX. The publisher
 * closes a block after SC_STREAM_BLOCK fragments or when its flush timer
 * fires, and the next block starts at the next seq: seqs have no holes.
 */
#ifndef SC_STREAM_H
#define SC_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "sc_wire.h"
#include "stratocast.h"

#define SC_STREAM_SIG_LEN 64
#define SC_STREAM_HASH_LEN 16
#define SC_STREAM_BLOCK 16
#define SC_FRAG_HEADER_LEN (SC_STREAM_ID_LEN + 8 + 8 + 1)
#define SC_MANIFEST_MAX_LEN                                                    \
  (SC_STREAM_ID_LEN + 8 + 1 + SC_STREAM_BLOCK * SC_STREAM_HASH_LEN +           \
   SC_STREAM_SIG_LEN)

enum { SC_FRAG_KEYFRAME = 1 };

/* sc_stream_id computes the ID of the stream |name| (|name_len| bytes,
 * 1..SC_STREAM_NAME_MAX) published with |key|. Returns 0 or
 * SC_ERR_INVALID_ARG. */
int sc_stream_id(uint8_t out[SC_STREAM_ID_LEN],
                 const uint8_t key[SC_STREAM_KEY_LEN], const char *name,
                 size_t name_len);

typedef struct sc_frag {
  uint8_t stream_id[SC_STREAM_ID_LEN];
  uint64_t seq;
  uint64_t timestamp_us;
  uint8_t flags;
  const uint8_t *payload; /* points into the decoded buffer */
  size_t payload_len;
} sc_frag;

/* sc_frag_write writes a whole fragment or nothing: 0 or SC_ERR_BUFFER. */
int sc_frag_write(sc_wr *w, const sc_frag *f);

/* sc_frag_read decodes |len| bytes at |data|; the payload is the rest.
 * Returns 0 or SC_ERR_MALFORMED (shorter than the header, unknown flags). */
int sc_frag_read(sc_frag *f, const uint8_t *data, size_t len);

/* sc_frag_hash computes the BLAKE2b-128 of the encoded fragment |data|
 * (|len| bytes, header included): what a manifest lists. */
void sc_frag_hash(uint8_t out[SC_STREAM_HASH_LEN], const uint8_t *data,
                  size_t len);

typedef struct sc_manifest {
  uint8_t stream_id[SC_STREAM_ID_LEN];
  uint64_t first;
  unsigned count;
  uint8_t hash[SC_STREAM_BLOCK][SC_STREAM_HASH_LEN];
  uint8_t sig[SC_STREAM_SIG_LEN];
} sc_manifest;

/* sc_manifest_sign fills |m->sig| with the publisher's signature using the
 * Ed25519 secret key |sk| (libsodium's 64-byte form). Returns 0 or
 * SC_ERR_INVALID_ARG (count out of range, or the block runs past the last
 * seq). */
int sc_manifest_sign(sc_manifest *m, const uint8_t sk[SC_STREAM_SECRET_LEN]);

/* sc_manifest_verify returns 0 when |m| is well formed and signed by |key|,
 * SC_ERR_CRYPTO when the signature fails, SC_ERR_INVALID_ARG when the
 * block is out of range (as for sc_manifest_sign). */
int sc_manifest_verify(const sc_manifest *m,
                       const uint8_t key[SC_STREAM_KEY_LEN]);

/* Encoding. The writer returns 0, SC_ERR_BUFFER, or SC_ERR_INVALID_ARG for
 * a block out of range; the reader returns 0 or SC_ERR_MALFORMED (it
 * checks the block range and rejects trailing bytes, but not the
 * signature). */
int sc_manifest_write(sc_wr *w, const sc_manifest *m);
int sc_manifest_read(sc_manifest *m, const uint8_t *data, size_t len);

/* sc_manifest_covers returns nonzero when the encoded fragment |data|
 * (|len| bytes) parses, names |m|'s stream and |seq| in its header, and
 * hashes to what |m| lists for |seq|: the fragment is authentic once |m| is
 * verified. (Checking the header stops a publisher from signing a fragment
 * that claims another stream.) */
int sc_manifest_covers(const sc_manifest *m, uint64_t seq,
                       const uint8_t *data, size_t len);

#endif /* SC_STREAM_H */
