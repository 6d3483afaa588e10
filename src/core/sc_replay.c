/*
 * sc_replay.c: the receive window of one session (doc/protocol.md §6.2).
 *
 * A ring of SC_REPLAY_WINDOW bits, bit (pn % window) for packet number pn,
 * as in RFC 6479 and WireGuard. The window is the SC_REPLAY_WINDOW packet
 * numbers [top - SC_REPLAY_WINDOW, top - 1]: pn == top - SC_REPLAY_WINDOW
 * is still inside (its bit is the one pn == top will reuse), one lower is
 * too old. Unlike WireGuard no word is held back, because advancing clears
 * exactly the bits of the packet numbers skipped over, not whole words.
 *
 * UINT64_MAX is never accepted: top = pn + 1 must fit.
 */
#include "sc_replay.h"

#include <string.h>

#include "sc_macro.h"
#include "stratocast.h"

#define WORDS (SC_REPLAY_WINDOW / 64)

/* Index of the highest set bit of |x| != 0. */
static unsigned high_bit(uint64_t x) {
#if defined(__GNUC__)
  return 63u - (unsigned)__builtin_clzll(x);
#else
  unsigned n = 0;
  while (x >>= 1) {
    n++;
  }
  return n;
#endif
}

static int bit_get(const sc_replay *w, uint64_t pn) {
  uint64_t pos = pn % SC_REPLAY_WINDOW;
  return (int)((w->bits[pos / 64] >> (pos % 64)) & 1);
}

/* Is |pn| below the window (given pn < top)? */
static int is_too_old(const sc_replay *w, uint64_t pn) {
  return w->top - pn > SC_REPLAY_WINDOW;
}

void sc_replay_init(sc_replay *w) { memset(w, 0, sizeof(*w)); }

int sc_replay_check(const sc_replay *w, uint64_t pn) {
  if (pn == UINT64_MAX) {
    return SC_ERR_REPLAY;
  }
  if (pn >= w->top) {
    return 0;
  }
  if (is_too_old(w, pn) || bit_get(w, pn)) {
    return SC_ERR_REPLAY;
  }
  return 0;
}

/* Clears the bits of the |count| packet numbers from |pn| upwards, a word
 * (or the part of one) at a time. */
static void clear_run(sc_replay *w, uint64_t pn, uint64_t count) {
  if (count >= SC_REPLAY_WINDOW) {
    memset(w->bits, 0, sizeof(w->bits));
    return;
  }
  while (count > 0) {
    uint64_t pos = pn % SC_REPLAY_WINDOW;
    unsigned off = (unsigned)(pos % 64);
    uint64_t n = SC_MIN(64 - off, count);
    uint64_t mask = n == 64 ? UINT64_MAX : ((UINT64_C(1) << n) - 1) << off;
    w->bits[pos / 64] &= ~mask;
    pn += n;
    count -= n;
  }
}

void sc_replay_update(sc_replay *w, uint64_t pn) {
  uint64_t pos = pn % SC_REPLAY_WINDOW;
  if (pn >= w->top) {
    /* The slots of top .. pn - 1 still hold packets that now leave the
     * window. */
    clear_run(w, w->top, pn - w->top);
    w->top = pn + 1;
  }
  w->bits[pos / 64] |= UINT64_C(1) << (pos % 64);
}

int sc_replay_has(const sc_replay *w, uint64_t pn) {
  return pn < w->top && !is_too_old(w, pn) && bit_get(w, pn);
}

/* Finds the highest packet number in [limit, pn] whose bit equals |set|.
 * Returns 1 and stores it in |*found|, or 0 if there is none. Whole words
 * of the other value are skipped in one step. */
static int find_down(const sc_replay *w, uint64_t pn, uint64_t limit, int set,
                     uint64_t *found) {
  for (;;) {
    uint64_t pos = pn % SC_REPLAY_WINDOW;
    unsigned off = (unsigned)(pos % 64);
    uint64_t word = w->bits[pos / 64];
    /* Bits 0..off of this word are the packet numbers pn - off .. pn. */
    uint64_t m = (set ? word : ~word) & ((UINT64_C(2) << off) - 1);
    if (m != 0) {
      uint64_t q = pn - (off - high_bit(m));
      if (q < limit) {
        return 0;
      }
      *found = q;
      return 1;
    }
    if (pn - off <= limit) {
      return 0;
    }
    pn = pn - off - 1;
  }
}

size_t sc_replay_ranges(const sc_replay *w, uint64_t floor, sc_pn_range *out,
                        size_t max) {
  uint64_t limit, pn, hi, gap;
  size_t n = 0;
  if (w->top == 0) {
    return 0;
  }
  limit = w->top >= SC_REPLAY_WINDOW ? w->top - SC_REPLAY_WINDOW : 0;
  limit = SC_MAX(limit, floor);
  pn = w->top - 1;
  if (pn < limit) {
    return 0;
  }
  while (n < max && find_down(w, pn, limit, 1, &hi)) {
    out[n].hi = hi;
    if (!find_down(w, hi, limit, 0, &gap)) {
      out[n++].lo = limit;
      break;
    }
    out[n++].lo = gap + 1;
    if (gap == limit) {
      break;
    }
    pn = gap - 1;
  }
  return n;
}
