/*
 * sc_bucket.h: a token bucket, for the rate limits of group messages
 * (doc/protocol.md §14), and a budget per member link made of them.
 */
#ifndef SC_BUCKET_H
#define SC_BUCKET_H

#include <stddef.h>
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

struct sc_node;
struct sc_mgroup;
struct sc_budget_slot;

/* One bucket per member link of a group, for what each link may bring.
 * Zeroed is empty. */
typedef struct sc_budgets {
  struct sc_budget_slot *v;
  size_t n, cap;
} sc_budgets;

/* sc_budgets_take takes one message from the bucket of the member link on
 * session |sid| of |g| (a new link starts with |burst|), refilled at |rate|
 * a second. Returns 1, or 0 when it is spent or a new link's bucket could
 * not be made (no memory: the message is refused). */
int sc_budgets_take(struct sc_node *node, struct sc_mgroup *g, sc_budgets *t,
                    uint32_t sid, uint32_t rate, uint32_t burst, uint64_t now);

/* sc_budgets_free frees |t|'s buckets; |t| is empty again. */
void sc_budgets_free(struct sc_node *node, sc_budgets *t);

#endif /* SC_BUCKET_H */
