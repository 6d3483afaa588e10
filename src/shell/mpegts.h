/*
 * mpegts.h: just enough MPEG-TS (ISO/IEC 13818-1 §2.4.3) to cut a live
 * stream at keyframes and pace a file at its real-time rate: the packet
 * header and adaptation field, sync detection in an unaligned byte stream,
 * and a clock that turns PCRs into release times.
 *
 * Pure functions on bytes and timestamps: no I/O, no clock reads. Times
 * are monotonic nanoseconds, PCRs 27 MHz ticks (base * 300 + extension).
 */
#ifndef SC_SHELL_MPEGTS_H
#define SC_SHELL_MPEGTS_H

#include <stddef.h>
#include <stdint.h>

#define SC_TS_PACKET 188
#define SC_TS_SYNC 0x47
#define SC_TS_PCR_HZ 27000000u
/* PCR values run modulo 2^33 * 300 (the base is 33 bits). */
#define SC_TS_PCR_MODULUS (((uint64_t)1 << 33) * 300u)
/* A PCR step larger than this (or any step backwards) is a discontinuity
 * (13818-1 §2.4.3.5 bounds the PCR interval at 100 ms; 1 s is lenient). */
#define SC_TS_PCR_MAX_STEP ((uint64_t)SC_TS_PCR_HZ)

/* Sync detection: a stream is TS once SC_TS_DETECT_PACKETS sync bytes
 * follow each other 188 bytes apart; it is not once SC_TS_DETECT_MAX bytes
 * passed without that. */
#define SC_TS_DETECT_PACKETS 5
#define SC_TS_DETECT_MAX 4096

/* sc_ts_pid returns the 13-bit PID of the packet |p|. */
unsigned sc_ts_pid(const uint8_t p[SC_TS_PACKET]);

/* sc_ts_pcr stores the packet's PCR in |*pcr| and returns 1 when |p| has
 * a well-formed adaptation field with PCR_flag set; returns 0 otherwise
 * (no adaptation field, an impossible length, transport_error_indicator
 * set, an extension >= 300). */
int sc_ts_pcr(const uint8_t p[SC_TS_PACKET], uint64_t *pcr);

/* sc_ts_has_rai returns 1 if |p|'s adaptation field has the
 * random_access_indicator set (a keyframe starts here), else 0. */
int sc_ts_has_rai(const uint8_t p[SC_TS_PACKET]);

/* sc_ts_has_discontinuity returns 1 if |p|'s adaptation field has the
 * discontinuity_indicator set (the PCR jumps on purpose), else 0. */
int sc_ts_has_discontinuity(const uint8_t p[SC_TS_PACKET]);

/* sc_ts_pcr_delta returns how far |to| is after |from|, modulo
 * SC_TS_PCR_MODULUS, so that a wrap reads as a small step forward and a
 * step back as a huge one. Both must be below the modulus. */
uint64_t sc_ts_pcr_delta(uint64_t from, uint64_t to);

enum sc_ts_found {
  SC_TS_NO = 0,      /* no sync here */
  SC_TS_YES = 1,     /* in sync at *offset */
  SC_TS_UNKNOWN = 2, /* more bytes needed; none before *offset can sync */
};

/* sc_ts_find_sync looks in |buf| of |len| bytes for the first offset with
 * |need| sync bytes 188 apart. If none and |final| is set (no more bytes
 * will come), it accepts the first offset whose every stride up to the end
 * is a sync byte and that holds at least |final_need| of them and one whole
 * packet. Returns an enum sc_ts_found; |*offset| is the sync point for
 * SC_TS_YES, the first offset that may still become one for SC_TS_UNKNOWN,
 * and |len| for SC_TS_NO. */
int sc_ts_find_sync(const uint8_t *buf, size_t len, unsigned need, int final,
                    unsigned final_need, size_t *offset);

enum sc_ts_detect_how {
  SC_TS_DETECT_MORE = 0,  /* more bytes will come soon */
  SC_TS_DETECT_IDLE = 1,  /* the input paused: decide "no" if nothing fits */
  SC_TS_DETECT_FINAL = 2, /* the input ended */
};

/* sc_ts_detect tells whether the start of a byte stream, |buf| of |len|
 * bytes, is MPEG-TS: SC_TS_YES with the first packet at |*offset| (what is
 * before it is garbage), SC_TS_NO, or SC_TS_UNKNOWN until more bytes come.
 * |how| is an enum sc_ts_detect_how. */
int sc_ts_detect(const uint8_t *buf, size_t len, int how, size_t *offset);

/* Release times from PCRs: packets of the PCR's PID leave when the clock
 * says their PCR is due. */
typedef struct sc_pcrclock {
  int anchored;
  uint64_t last_pcr;  /* the last PCR released */
  uint64_t last_due;  /* when it was due, monotonic ns */
  uint64_t reanchors; /* discontinuities and stalls that reset the clock */
} sc_pcrclock;

/* sc_pcrclock_init starts |c| unanchored: the first PCR is due at once. */
void sc_pcrclock_init(sc_pcrclock *c);

/* sc_pcrclock_wait returns how many ns from |now| the packet carrying
 * |pcr| is due, or 0 when it is due now; only a 0 answer moves the clock,
 * so the caller may ask again for the same PCR later. A PCR more than
 * SC_TS_PCR_MAX_STEP ahead of the last, any step back, a |discontinuity|
 * flag, or running more than a second late re-anchors the clock at |now|
 * instead of stalling or bursting to catch up. */
uint64_t sc_pcrclock_wait(sc_pcrclock *c, uint64_t pcr, int discontinuity,
                          uint64_t now);

#endif /* SC_SHELL_MPEGTS_H */
