/*
 * sc_replset.h: the sets object replication keeps (sc_repl.c).
 *
 * An index set (sc_bset) is a sorted array of 64-index blocks with a bit
 * each: what this node holds, what it is fetching, and what each member
 * link holds. A run set (sc_rset) is a sorted array of runs: what this
 * node wants and what a member link wants, which may be huge runs. A count
 * set (sc_cset) holds, per index, how many member links hold it, as six
 * bit planes per block (counts up to 63).
 *
 * Every function that may grow a set takes the allocator and returns
 * SC_ERR_NOMEM on failure, leaving the set as it was.
 */
#ifndef SC_REPLSET_H
#define SC_REPLSET_H

#include <stddef.h>
#include <stdint.h>

#include "sc_mem.h"

#define SC_BLOCK_BITS 64
#define SC_CSET_PLANES 6 /* counts up to 63 */

typedef struct sc_bword {
  uint64_t block; /* indices block * 64 .. block * 64 + 63 */
  uint64_t bits;  /* never 0 */
} sc_bword;

typedef struct sc_bset {
  sc_bword *w; /* ascending by block */
  size_t n, cap;
  uint64_t count; /* indices set */
} sc_bset;

void sc_bset_free(const sc_mem *mem, sc_bset *s);

/* sc_bset_pos returns the position of the first word of |s| whose block is
 * at least |block| (s->n when none). */
size_t sc_bset_pos(const sc_bset *s, uint64_t block);

/* sc_bset_bits returns the bits of |block| in |s| (0 when none). */
uint64_t sc_bset_bits(const sc_bset *s, uint64_t block);

/* sc_bset_has returns nonzero if |i| is in |s|. */
int sc_bset_has(const sc_bset *s, uint64_t i);

/* sc_bset_or sets |bits| of |block| and stores those that were not set
 * in |*added| (may be NULL). Returns 0 or SC_ERR_NOMEM. */
int sc_bset_or(const sc_mem *mem, sc_bset *s, uint64_t block, uint64_t bits,
               uint64_t *added);

/* sc_bset_andnot clears |bits| of |block| and returns those that were
 * set. */
uint64_t sc_bset_andnot(sc_bset *s, uint64_t block, uint64_t bits);

/* sc_bset_add / sc_bset_del set or clear the one index |i|; add returns
 * 1 (new), 0 (was there) or SC_ERR_NOMEM; del returns 1 (was there) or
 * 0. */
int sc_bset_add(const sc_mem *mem, sc_bset *s, uint64_t i);
int sc_bset_del(sc_bset *s, uint64_t i);

/* sc_bset_clear empties |s| and keeps its memory. */
void sc_bset_clear(sc_bset *s);

/* A run set: runs [lo, hi), ascending, neither overlapping nor touching. */
typedef struct sc_span {
  uint64_t lo, hi;
} sc_span;

typedef struct sc_rset {
  sc_span *r;
  size_t n, cap;
} sc_rset;

void sc_rset_free(const sc_mem *mem, sc_rset *s);

/* sc_rset_add adds [lo, hi) (lo < hi), merging what overlaps or touches;
 * sc_rset_remove removes it, splitting a run if need be. Both return 0 or
 * SC_ERR_NOMEM. */
int sc_rset_add(const sc_mem *mem, sc_rset *s, uint64_t lo, uint64_t hi);
int sc_rset_remove(const sc_mem *mem, sc_rset *s, uint64_t lo, uint64_t hi);

/* sc_rset_has returns nonzero if |i| is in |s|. */
int sc_rset_has(const sc_rset *s, uint64_t i);

/* sc_rset_mask returns the bits of |block| that |s| covers. |*pos| is a
 * cursor (start at 0) for calls with ascending blocks. */
uint64_t sc_rset_mask(const sc_rset *s, uint64_t block, size_t *pos);

/* A count set. */
typedef struct sc_cword {
  uint64_t block;
  uint64_t plane[SC_CSET_PLANES]; /* bit j of plane p: 2^p of j's count */
} sc_cword;

typedef struct sc_cset {
  sc_cword *w; /* ascending by block; no word of all-zero counts */
  size_t n, cap;
} sc_cset;

void sc_cset_free(const sc_mem *mem, sc_cset *s);

/* sc_cset_inc adds one to the count of every index in |bits| of |block|
 * (counts must stay below 64); sc_cset_dec takes one away (counts must be
 * above 0). inc returns 0 or SC_ERR_NOMEM. */
int sc_cset_inc(const sc_mem *mem, sc_cset *s, uint64_t block, uint64_t bits);
void sc_cset_dec(sc_cset *s, uint64_t block, uint64_t bits);

/* sc_cword_count returns the count of bit |j| of |w|. */
unsigned sc_cword_count(const sc_cword *w, unsigned j);

/* sc_cword_nonzero returns the bits of |w| with a count above 0. */
uint64_t sc_cword_nonzero(const sc_cword *w);

#endif /* SC_REPLSET_H */
