/*
 * mpegts.c: MPEG-TS packet fields, sync detection and the PCR clock.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "mpegts.h"

#include "sc_macro.h"

/* adaptation_field_control values with an adaptation field. */
#define AFC_ADAPTATION_ONLY 2
#define AFC_ADAPTATION_PAYLOAD 3

#define AF_DISCONTINUITY 0x80
#define AF_RAI 0x40
#define AF_PCR 0x10

unsigned sc_ts_pid(const uint8_t p[SC_TS_PACKET]) {
  return ((unsigned)(p[1] & 0x1f) << 8) | p[2];
}

/* Returns the adaptation field's length (after its length byte) when |p|
 * has a sane one with at least a flags byte, else 0. */
static unsigned af_len(const uint8_t p[SC_TS_PACKET]) {
  unsigned afc = (unsigned)(p[3] >> 4) & 3u, len = p[4];
  if ((p[1] & 0x80) != 0) {
    return 0; /* transport_error_indicator: the header cannot be trusted */
  }
  if (afc == AFC_ADAPTATION_ONLY) {
    return len == 183 ? len : 0;
  }
  if (afc == AFC_ADAPTATION_PAYLOAD) {
    return len <= 182 ? len : 0;
  }
  return 0;
}

int sc_ts_pcr(const uint8_t p[SC_TS_PACKET], uint64_t *pcr) {
  uint64_t base;
  unsigned ext;
  if (af_len(p) < 7 || (p[5] & AF_PCR) == 0) {
    return 0;
  }
  /* 13818-1 §2.4.3.5: 33-bit base, 6 reserved bits, 9-bit extension. */
  base = ((uint64_t)p[6] << 25) | ((uint64_t)p[7] << 17) |
         ((uint64_t)p[8] << 9) | ((uint64_t)p[9] << 1) | ((uint64_t)p[10] >> 7);
  ext = ((unsigned)(p[10] & 1) << 8) | p[11];
  if (ext >= 300) {
    return 0;
  }
  *pcr = base * 300 + ext;
  return 1;
}

int sc_ts_has_rai(const uint8_t p[SC_TS_PACKET]) {
  return af_len(p) >= 1 && (p[5] & AF_RAI) != 0;
}

int sc_ts_has_discontinuity(const uint8_t p[SC_TS_PACKET]) {
  return af_len(p) >= 1 && (p[5] & AF_DISCONTINUITY) != 0;
}

uint64_t sc_ts_pcr_delta(uint64_t from, uint64_t to) {
  return (to + SC_TS_PCR_MODULUS - from) % SC_TS_PCR_MODULUS;
}

/* ---- sync --------------------------------------------------------------- */

/* Counts sync bytes at |o|, |o| + 188, ... (at most |max|); |*open| is set
 * when the run stopped at the end of |buf| rather than at a mismatch. */
static unsigned sync_run(const uint8_t *buf, size_t len, size_t o, unsigned max,
                         int *open) {
  unsigned k = 0;
  *open = 0;
  for (; k < max; k++, o += SC_TS_PACKET) {
    if (o >= len) {
      *open = 1;
      return k;
    }
    if (buf[o] != SC_TS_SYNC) {
      return k;
    }
  }
  return k;
}

int sc_ts_find_sync(const uint8_t *buf, size_t len, unsigned need, int final,
                    unsigned final_need, size_t *offset) {
  size_t o, candidate = len, weak = len;
  for (o = 0; o < len; o++) {
    int open;
    unsigned k;
    if (buf[o] != SC_TS_SYNC) {
      continue;
    }
    k = sync_run(buf, len, o, need, &open);
    if (k >= need) {
      *offset = o;
      return SC_TS_YES;
    }
    if (open && candidate == len) {
      candidate = o;
    }
    if (open && weak == len && k >= final_need && len - o >= SC_TS_PACKET) {
      weak = o;
    }
  }
  if (final && weak < len) {
    *offset = weak;
    return SC_TS_YES;
  }
  if (!final && candidate < len) {
    *offset = candidate;
    return SC_TS_UNKNOWN;
  }
  *offset = len;
  return SC_TS_NO;
}

int sc_ts_detect(const uint8_t *buf, size_t len, int how, size_t *offset) {
  int r = sc_ts_find_sync(buf, len, SC_TS_DETECT_PACKETS,
                          how == SC_TS_DETECT_FINAL, 2, offset);
  if (r == SC_TS_YES || how == SC_TS_DETECT_FINAL) {
    return r;
  }
  /* Garbage may come before the first packet, so "no sync yet" only
   * becomes "not TS" after a while, or when the input pauses with nothing
   * that could still turn into a packet. */
  if (len >= SC_TS_DETECT_MAX || (r == SC_TS_NO && how == SC_TS_DETECT_IDLE)) {
    *offset = len;
    return SC_TS_NO;
  }
  return SC_TS_UNKNOWN;
}

/* ---- the PCR clock ------------------------------------------------------ */

void sc_pcrclock_init(sc_pcrclock *c) {
  c->anchored = 0;
  c->last_pcr = 0;
  c->last_due = 0;
  c->reanchors = 0;
}

uint64_t sc_pcrclock_wait(sc_pcrclock *c, uint64_t pcr, int discontinuity,
                          uint64_t now) {
  uint64_t due = now;
  int reanchor = c->anchored;
  pcr %= SC_TS_PCR_MODULUS;
  if (c->anchored && !discontinuity) {
    uint64_t step = sc_ts_pcr_delta(c->last_pcr, pcr);
    if (step <= SC_TS_PCR_MAX_STEP) {
      /* step * 1000 / 27 ns; step <= 27e6 keeps the product small. */
      due = c->last_due + step * 1000u / (SC_TS_PCR_HZ / 1000000u);
      reanchor = due + SC_SEC < now;
      if (reanchor) {
        due = now; /* far behind: start over rather than burst */
      }
    }
  }
  if (due > now) {
    return due - now;
  }
  c->anchored = 1;
  c->last_pcr = pcr;
  c->last_due = due;
  c->reanchors += (uint64_t)reanchor;
  return 0;
}
