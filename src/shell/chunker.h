/*
 * chunker.h: cuts a live byte stream into chunks of at most max_payload
 * bytes for the publisher, MPEG-TS aware.
 *
 * The start of the stream decides its kind (mpegts.h, sc_ts_detect):
 *   - MPEG-TS: chunks hold whole 188-byte packets only (max_payload rounded
 *     down to a multiple of 188), and a chunk starts at every packet with
 *     the random_access_indicator set (a keyframe); such a chunk is clean,
 *     the others are not. Only the PCR's PID counts once it is known (the
 *     first PID that carried a PCR; the video PID in what ffmpeg writes),
 *     since muxers flag every audio frame too. Garbage before the first
 *     packet, or after a lost sync, is discarded and counted; sync is
 *     regained at 3 sync bytes 188 apart. Once TS, always TS.
 *   - anything else: chunks of max_payload bytes, every one clean.
 * Bytes pass through a staging buffer of SC_CHUNKER_STAGE bytes, so a
 * packet may be split across feeds.
 *
 * An optional PCR gate paces the stream: before a packet of the PCR's PID
 * enters a chunk the gate may hold it back; the chunker then stops taking
 * bytes until it is fed again.
 */
#ifndef SC_SHELL_CHUNKER_H
#define SC_SHELL_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#define SC_CHUNKER_STAGE 8192

/* Called with each finished chunk; |data| is valid during the call. Must
 * not call back into the chunker. */
typedef void (*sc_chunker_emit_fn)(void *arg, const uint8_t *data, size_t len,
                                   int clean);

/* Called before a packet carrying |pcr| (27 MHz) on the PCR's PID enters a
 * chunk; |discontinuity| is its discontinuity_indicator. Returns 0 to let
 * it in, nonzero to hold it (it is offered again on the next feed). */
typedef int (*sc_chunker_pcr_fn)(void *arg, uint64_t pcr, int discontinuity);

typedef struct sc_chunker_stats {
  uint64_t bytes_in;        /* bytes fed */
  uint64_t chunks_out;      /* chunks emitted */
  uint64_t ts_packets;      /* TS packets put into chunks */
  uint64_t sync_losses;     /* a packet did not start with 0x47 */
  uint64_t resyncs;         /* sync found again after a loss */
  uint64_t discarded_bytes; /* garbage and partial packets thrown away */
} sc_chunker_stats;

enum sc_chunker_kind {
  SC_CHUNKER_DETECTING = 0, /* not enough bytes seen yet */
  SC_CHUNKER_TS = 1,
  SC_CHUNKER_RAW = 2,
};

typedef struct sc_chunker {
  sc_chunker_emit_fn emit;
  sc_chunker_pcr_fn gate; /* NULL: no pacing */
  void *arg;
  size_t max_payload;
  int kind;     /* enum sc_chunker_kind */
  int synced;   /* TS: the stage starts at a packet boundary */
  int blocked;  /* the gate holds the packet at the stage's start */
  int draining; /* end of input: the gate is no longer asked */
  int pcr_pid;  /* -1 until a PCR was seen */
  uint8_t *chunk;
  size_t chunk_len;
  int chunk_clean;
  /* Where in the chunk the tables (a PAT) that may lead into a keyframe
   * start, SIZE_MAX when none: a keyframe's chunk starts there, so that a
   * player tuning in gets the PAT and PMT before the picture. */
  size_t lead_at;
  size_t stage_len;
  uint8_t stage[SC_CHUNKER_STAGE];
  sc_chunker_stats stats;
} sc_chunker;

/* sc_chunker_init prepares |c| to cut chunks of at most |max_payload|
 * bytes (at least SC_TS_PACKET), handing them to |emit| with |arg|; |gate|
 * may be NULL. Returns 0, or -1 if |max_payload| is too small or memory
 * ran out. */
int sc_chunker_init(sc_chunker *c, size_t max_payload, sc_chunker_emit_fn emit,
                    sc_chunker_pcr_fn gate, void *arg);

/* sc_chunker_free releases |c|'s memory; it does not emit. */
void sc_chunker_free(sc_chunker *c);

/* sc_chunker_feed takes up to |len| bytes of |data| and emits every chunk
 * that fills up. Returns how many bytes it took: all of them, unless the
 * gate held a packet back (sc_chunker_is_blocked); then feed the rest
 * later, after the wait (a call with |len| 0 offers the held packet
 * again). */
size_t sc_chunker_feed(sc_chunker *c, const uint8_t *data, size_t len);

/* sc_chunker_is_blocked returns 1 while the gate holds a packet back. */
int sc_chunker_is_blocked(const sc_chunker *c);

/* sc_chunker_flush emits the partial chunk, if any: call it when the input
 * has been idle for a while (|end| = 0) or has ended (|end| = 1). At the
 * end, a stream still undecided is judged on what it has, held packets are
 * let through without asking the gate, and a trailing partial packet is
 * discarded and counted. */
void sc_chunker_flush(sc_chunker *c, int end);

#endif /* SC_SHELL_CHUNKER_H */
