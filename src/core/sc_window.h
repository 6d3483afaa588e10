/*
 * sc_window.h: one stream's window of recent fragments at one node
 * (doc/protocol.md §12.4).
 *
 * The window keeps the fragments of the last |span| of the stream's time
 * (by fragment timestamp, default 8 s) that are authentic: covered by a
 * manifest verified with the stream key. A fragment that arrives before its
 * manifest waits in a bounded pending area, neither relayed nor played
 * (when it is full, the copy that has waited longest makes room); a
 * manifest verified later releases the fragments it covers, and a fragment
 * its manifest does not cover is a forgery. Each fragment is stored once:
 * a second copy is a duplicate. The window answers what the scheduler needs:
 * whether it holds a seq, the fragment itself, the highest seq, and the map
 * of what it holds for fragment maps.
 *
 * Sequence numbers are trusted only once authentic; seqs of pending
 * fragments are bounded to [highest - SC_WINDOW_SEQ_SPAN, highest +
 * SC_WINDOW_SEQ_SPAN] around the highest authentic seq (or any seq while
 * none is), so a forger cannot make the window reserve a far-future block.
 */
#ifndef SC_WINDOW_H
#define SC_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "sc_stream.h"
#include "stratocast.h"

#define SC_WINDOW_SEQ_SPAN 65536  /* seqs a window may hold or await */
#define SC_WINDOW_PENDING_MAX 256 /* fragments awaiting their manifest */

/* What became of a fragment or manifest handed to the window. */
enum sc_window_result {
  SC_WIN_ACCEPTED = 0, /* authentic and stored (for a manifest: verified) */
  SC_WIN_PENDING,      /* stored until its manifest arrives */
  SC_WIN_DUPLICATE,    /* already held (or already verified) */
  SC_WIN_FORGED,       /* a manifest's signature failed, or a fragment does
                          not match its verified manifest */
  SC_WIN_STALE,        /* older than the window, or outside the seq span */
  SC_WIN_MALFORMED,    /* does not decode, or names another stream */
};

typedef struct sc_window sc_window;

/* sc_window_new creates the window of the stream |stream_id| published
 * with |key|, keeping |span| µs of stream time. Returns 0 or SC_ERR_NOMEM.
 */
int sc_window_new(sc_window **pw, const sc_mem *mem,
                  const uint8_t stream_id[SC_STREAM_ID_LEN],
                  const uint8_t key[SC_STREAM_KEY_LEN], uint64_t span);

/* sc_window_del frees |w|; NULL is fine. */
void sc_window_del(sc_window *w);

/* What a verified manifest did to the fragments waiting for it. */
typedef struct sc_window_release {
  size_t n; /* fragments that became authentic, their seqs in |seq| */
  uint64_t seq[SC_STREAM_BLOCK];
  size_t nforged; /* waiting copies it condemned, their senders' tags */
  uint32_t forged_src[SC_STREAM_BLOCK];
} sc_window_release;

/* sc_window_add_manifest takes an encoded manifest at time |now|. On
 * SC_WIN_ACCEPTED, pending fragments it covers become authentic and those
 * it does not are dropped as forged; |rel| (may be NULL) learns which.
 * Returns an enum sc_window_result, or SC_ERR_NOMEM. */
int sc_window_add_manifest(sc_window *w, const uint8_t *data, size_t len,
                           uint64_t now, sc_window_release *rel);

/* sc_window_add_fragment takes an encoded fragment (copied) that arrived at
 * |now| from the sender the caller tags |src|. Returns an enum
 * sc_window_result, or SC_ERR_NOMEM. */
int sc_window_add_fragment(sc_window *w, const uint8_t *data, size_t len,
                           uint32_t src, uint64_t now);

/* sc_window_get returns the authentic fragment |seq| (encoded, |*len|
 * bytes, valid until the next call that changes |w|), or NULL. */
const uint8_t *sc_window_get(const sc_window *w, uint64_t seq, size_t *len);

/* sc_window_manifest returns the verified manifest covering |seq|
 * (encoded, |*len| bytes), or NULL: relays forward it with the block. */
const uint8_t *sc_window_manifest(const sc_window *w, uint64_t seq,
                                  size_t *len);

/* sc_window_has returns nonzero if |seq| is held and authentic. */
int sc_window_has(const sc_window *w, uint64_t seq);

/* sc_window_pending returns nonzero if a copy of |seq| awaits its
 * manifest. */
int sc_window_pending(const sc_window *w, uint64_t seq);

/* sc_window_arrival returns when the authentic |seq| became authentic
 * here, or UINT64_MAX. */
uint64_t sc_window_arrival(const sc_window *w, uint64_t seq);

/* sc_window_keyframe returns the highest authentic keyframe seq still
 * held, or UINT64_MAX. */
uint64_t sc_window_keyframe(const sc_window *w);

/* sc_window_highest returns the highest authentic seq, or UINT64_MAX when
 * none is held. */
uint64_t sc_window_highest(const sc_window *w);

/* sc_window_lowest returns the lowest authentic seq still held, or
 * UINT64_MAX. */
uint64_t sc_window_lowest(const sc_window *w);

/* sc_window_map writes a bitmap of the seqs held from |from| on: bit i of
 * byte i/8 (least significant first) is seq from + i, for |nbits| bits
 * (|out| has (nbits + 7) / 8 bytes). Returns the number of bits set. */
size_t sc_window_map(const sc_window *w, uint64_t from, uint8_t *out,
                     size_t nbits);

typedef struct sc_window_stats {
  uint64_t accepted, pending_released, duplicates, forged, stale, malformed,
      pending_dropped;
  uint64_t bytes_held; /* payload and header bytes of authentic frags */
  uint64_t fragments_held;
  uint64_t pending; /* fragments awaiting their manifest */
} sc_window_stats;

/* sc_window_get_stats copies the counters. */
void sc_window_get_stats(const sc_window *w, sc_window_stats *out);
#endif /* SC_WINDOW_H */
