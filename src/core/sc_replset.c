/*
 * sc_replset.c: index, run and count sets (sc_replset.h).
 */
#include "sc_replset.h"

#include <string.h>

#include "stratocast.h"

/* Makes room for one more element in an array of |size|-byte elements. */
static int grow(const sc_mem *mem, void **p, size_t n, size_t *cap,
                size_t size) {
  void *q;
  size_t c;
  if (n < *cap) {
    return 0;
  }
  c = *cap == 0 ? 8 : 2 * *cap;
  if ((q = sc_mem_realloc(mem, *p, c * size)) == NULL) {
    return SC_ERR_NOMEM;
  }
  *p = q;
  *cap = c;
  return 0;
}

static unsigned popcount(uint64_t v) {
  unsigned c = 0;
  while (v != 0) {
    v &= v - 1;
    c++;
  }
  return c;
}

/* ---- index sets ---- */

void sc_bset_free(const sc_mem *mem, sc_bset *s) {
  sc_mem_free(mem, s->w);
  memset(s, 0, sizeof(*s));
}

size_t sc_bset_pos(const sc_bset *s, uint64_t block) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->w[mid].block < block) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

uint64_t sc_bset_bits(const sc_bset *s, uint64_t block) {
  size_t i = sc_bset_pos(s, block);
  return i < s->n && s->w[i].block == block ? s->w[i].bits : 0;
}

int sc_bset_has(const sc_bset *s, uint64_t i) {
  return (sc_bset_bits(s, i / SC_BLOCK_BITS) >> (i % SC_BLOCK_BITS)) & 1;
}

int sc_bset_or(const sc_mem *mem, sc_bset *s, uint64_t block, uint64_t bits,
               uint64_t *added) {
  size_t i = sc_bset_pos(s, block);
  uint64_t add;
  if (i < s->n && s->w[i].block == block) {
    add = bits & ~s->w[i].bits;
    s->w[i].bits |= bits;
  } else if (bits != 0) {
    if (grow(mem, (void **)&s->w, s->n, &s->cap, sizeof(*s->w)) != 0) {
      return SC_ERR_NOMEM;
    }
    memmove(&s->w[i + 1], &s->w[i], (s->n - i) * sizeof(*s->w));
    s->w[i].block = block;
    s->w[i].bits = bits;
    s->n++;
    add = bits;
  } else {
    add = 0;
  }
  s->count += popcount(add);
  if (added != NULL) {
    *added = add;
  }
  return 0;
}

uint64_t sc_bset_andnot(sc_bset *s, uint64_t block, uint64_t bits) {
  size_t i = sc_bset_pos(s, block);
  uint64_t gone;
  if (i == s->n || s->w[i].block != block) {
    return 0;
  }
  gone = s->w[i].bits & bits;
  s->w[i].bits &= ~bits;
  s->count -= popcount(gone);
  if (s->w[i].bits == 0) {
    memmove(&s->w[i], &s->w[i + 1], (s->n - i - 1) * sizeof(*s->w));
    s->n--;
  }
  return gone;
}

int sc_bset_add(const sc_mem *mem, sc_bset *s, uint64_t i) {
  uint64_t added;
  if (sc_bset_or(mem, s, i / SC_BLOCK_BITS, (uint64_t)1 << (i % SC_BLOCK_BITS),
                 &added) != 0) {
    return SC_ERR_NOMEM;
  }
  return added != 0;
}

int sc_bset_del(sc_bset *s, uint64_t i) {
  return sc_bset_andnot(s, i / SC_BLOCK_BITS,
                        (uint64_t)1 << (i % SC_BLOCK_BITS)) != 0;
}

void sc_bset_clear(sc_bset *s) {
  s->n = 0;
  s->count = 0;
}

/* ---- run sets ---- */

void sc_rset_free(const sc_mem *mem, sc_rset *s) {
  sc_mem_free(mem, s->r);
  memset(s, 0, sizeof(*s));
}

/* The first run whose end is at or after |x|. */
static size_t rset_pos(const sc_rset *s, uint64_t x) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->r[mid].hi < x) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

int sc_rset_add(const sc_mem *mem, sc_rset *s, uint64_t lo, uint64_t hi) {
  size_t i = rset_pos(s, lo), j = i;
  /* Runs i .. j - 1 overlap or touch [lo, hi): merge them into one. */
  while (j < s->n && s->r[j].lo <= hi) {
    lo = s->r[j].lo < lo ? s->r[j].lo : lo;
    hi = s->r[j].hi > hi ? s->r[j].hi : hi;
    j++;
  }
  if (j == i) {
    if (grow(mem, (void **)&s->r, s->n, &s->cap, sizeof(*s->r)) != 0) {
      return SC_ERR_NOMEM;
    }
    memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
    s->n++;
  } else if (j > i + 1) {
    memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(*s->r));
    s->n -= j - i - 1;
  }
  s->r[i].lo = lo;
  s->r[i].hi = hi;
  return 0;
}

int sc_rset_remove(const sc_mem *mem, sc_rset *s, uint64_t lo, uint64_t hi) {
  size_t i = rset_pos(s, lo + 1), j;
  if (i < s->n && s->r[i].lo < lo && s->r[i].hi > hi) {
    /* Split one run in two. */
    if (grow(mem, (void **)&s->r, s->n, &s->cap, sizeof(*s->r)) != 0) {
      return SC_ERR_NOMEM;
    }
    memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
    s->n++;
    s->r[i].hi = lo;
    s->r[i + 1].lo = hi;
    return 0;
  }
  if (i < s->n && s->r[i].lo < lo) {
    s->r[i].hi = lo; /* keep its head */
    i++;
  }
  for (j = i; j < s->n && s->r[j].hi <= hi; j++) {
  }
  if (j < s->n && s->r[j].lo < hi) {
    s->r[j].lo = hi; /* keep its tail */
  }
  memmove(&s->r[i], &s->r[j], (s->n - j) * sizeof(*s->r));
  s->n -= j - i;
  return 0;
}

int sc_rset_has(const sc_rset *s, uint64_t i) {
  size_t k = rset_pos(s, i + 1);
  return k < s->n && s->r[k].lo <= i;
}

uint64_t sc_rset_mask(const sc_rset *s, uint64_t block, size_t *pos) {
  uint64_t lo = block * SC_BLOCK_BITS, hi = lo + SC_BLOCK_BITS, mask = 0;
  size_t k = *pos;
  while (k < s->n && s->r[k].hi <= lo) {
    k++;
  }
  *pos = k;
  for (; k < s->n && s->r[k].lo < hi; k++) {
    uint64_t a = s->r[k].lo > lo ? s->r[k].lo - lo : 0;
    uint64_t b = s->r[k].hi < hi ? s->r[k].hi - lo : SC_BLOCK_BITS;
    uint64_t m = b - a == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (b - a)) - 1);
    mask |= m << a;
  }
  return mask;
}

/* ---- count sets ---- */

void sc_cset_free(const sc_mem *mem, sc_cset *s) {
  sc_mem_free(mem, s->w);
  memset(s, 0, sizeof(*s));
}

static size_t cset_pos(const sc_cset *s, uint64_t block) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->w[mid].block < block) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

int sc_cset_inc(const sc_mem *mem, sc_cset *s, uint64_t block, uint64_t bits) {
  size_t i = cset_pos(s, block);
  uint64_t carry = bits;
  unsigned p;
  if (bits == 0) {
    return 0;
  }
  if (i == s->n || s->w[i].block != block) {
    if (grow(mem, (void **)&s->w, s->n, &s->cap, sizeof(*s->w)) != 0) {
      return SC_ERR_NOMEM;
    }
    memmove(&s->w[i + 1], &s->w[i], (s->n - i) * sizeof(*s->w));
    memset(&s->w[i], 0, sizeof(*s->w));
    s->w[i].block = block;
    s->n++;
  }
  /* A bit-sliced add of |bits| to every count. */
  for (p = 0; p < SC_CSET_PLANES && carry != 0; p++) {
    uint64_t c = s->w[i].plane[p] & carry;
    s->w[i].plane[p] ^= carry;
    carry = c;
  }
  return 0;
}

void sc_cset_dec(sc_cset *s, uint64_t block, uint64_t bits) {
  size_t i = cset_pos(s, block);
  uint64_t borrow = bits;
  unsigned p;
  if (bits == 0 || i == s->n || s->w[i].block != block) {
    return;
  }
  for (p = 0; p < SC_CSET_PLANES && borrow != 0; p++) {
    uint64_t b = ~s->w[i].plane[p] & borrow;
    s->w[i].plane[p] ^= borrow;
    borrow = b;
  }
  if (sc_cword_nonzero(&s->w[i]) == 0) {
    memmove(&s->w[i], &s->w[i + 1], (s->n - i - 1) * sizeof(*s->w));
    s->n--;
  }
}

unsigned sc_cword_count(const sc_cword *w, unsigned j) {
  unsigned p, c = 0;
  for (p = 0; p < SC_CSET_PLANES; p++) {
    c |= (unsigned)((w->plane[p] >> j) & 1) << p;
  }
  return c;
}

uint64_t sc_cword_nonzero(const sc_cword *w) {
  uint64_t m = 0;
  unsigned p;
  for (p = 0; p < SC_CSET_PLANES; p++) {
    m |= w->plane[p];
  }
  return m;
}
