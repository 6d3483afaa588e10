/*
 * sc_bucket.h: a token bucket, for the rate limits of group messages
 * (doc/protocol.md §14).
 */
#ifndef SC_BUCKET_H
#define SC_BUCKET_H

#include <stdint.h>

#include "sc_macro.h"

#define SC_BUCKET_TOKEN 1000 /* one message, in the bucket's units */

typedef struct sc_bucket {
  uint64_t tokens; /* SC_BUCKET_TOKEN per message */
  uint64_t at;     /* refilled up to this time */
} sc_bucket;

/* sc_bucket_init fills |b| with |burst| messages at |now|. */
static inline void sc_bucket_init(sc_bucket *b, uint32_t burst, uint64_t now) {
  b->tokens = (uint64_t)burst * SC_BUCKET_TOKEN;
  b->at = now;
}

/* sc_bucket_take refills |b| at |rate| messages a second (1..1,000,000),
 * up to |burst|, and takes one message; returns 0 when it is empty. */
static inline int sc_bucket_take(sc_bucket *b, uint32_t rate, uint32_t burst,
                                 uint64_t now) {
  uint64_t step = SC_SEC / ((uint64_t)rate * SC_BUCKET_TOKEN);
  uint64_t add = now > b->at ? (now - b->at) / step : 0;
  if (add > 0) {
    b->tokens = SC_MIN((uint64_t)burst * SC_BUCKET_TOKEN, b->tokens + add);
    b->at += add * step;
  }
  if (b->tokens < SC_BUCKET_TOKEN) {
    return 0;
  }
  b->tokens -= SC_BUCKET_TOKEN;
  return 1;
}

#endif /* SC_BUCKET_H */
