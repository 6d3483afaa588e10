/*
 * sc_bucket.c: per member link budgets (sc_bucket.h).
 */
#include "sc_bucket.h"

#include "sc_mem.h"
#include "sc_mesh.h"
#include "sc_node_int.h"

struct sc_budget_slot {
  uint32_t sid; /* 0: free */
  sc_bucket b;
};

void sc_budgets_free(sc_node *node, sc_budgets *t) {
  sc_mem_free(node->mem, t->v);
  t->v = NULL;
  t->n = t->cap = 0;
}

/* The slot of member link |sid|, made full if new. A slot whose link has
 * gone is reused, so there are never more slots than the group's member
 * links and a few just gone. NULL without memory. */
static struct sc_budget_slot *slot_of(sc_node *node, sc_mgroup *g,
                                      sc_budgets *t, uint32_t sid,
                                      uint32_t burst, uint64_t now) {
  struct sc_budget_slot *slot = NULL;
  size_t i;
  for (i = 0; i < t->n; i++) {
    if (t->v[i].sid == sid) {
      return &t->v[i];
    }
    if (slot == NULL && sc_mesh_member_link(g, t->v[i].sid) == NULL) {
      slot = &t->v[i];
    }
  }
  if (slot == NULL) {
    if (t->n == t->cap) {
      size_t cap = t->cap == 0 ? 16 : 2 * t->cap;
      struct sc_budget_slot *v =
          sc_mem_realloc(node->mem, t->v, cap * sizeof(*v));
      if (v == NULL) {
        return NULL;
      }
      t->v = v;
      t->cap = cap;
    }
    slot = &t->v[t->n++];
  }
  slot->sid = sid;
  sc_bucket_init(&slot->b, burst, now);
  return slot;
}

int sc_budgets_take(sc_node *node, sc_mgroup *g, sc_budgets *t, uint32_t sid,
                    uint32_t rate, uint32_t burst, uint64_t now) {
  struct sc_budget_slot *slot = slot_of(node, g, t, sid, burst, now);
  return slot != NULL && sc_bucket_take(&slot->b, rate, burst, now);
}
