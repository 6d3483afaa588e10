/*
 * sim_heap.c: a binary min-heap of events and an indexed heap of timers.
 */
#include "sim_heap.h"

#include <stdlib.h>

/* ---- events ------------------------------------------------------------ */

static int ev_less(const sim_event *a, const sim_event *b) {
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void sim_events_init(sim_events *q) {
  q->h = NULL;
  q->n = q->cap = 0;
  q->next_seq = 0;
}

void sim_events_free(sim_events *q) {
  free(q->h);
  sim_events_init(q);
}

int sim_events_push(sim_events *q, const sim_event *ev) {
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 1024;
    sim_event *h = realloc(q->h, cap * sizeof(*h));
    if (h == NULL)
      return -1;
    q->h = h;
    q->cap = cap;
  }
  sim_event e = *ev;
  e.seq = q->next_seq++;
  size_t i = q->n++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!ev_less(&e, &q->h[parent]))
      break;
    q->h[i] = q->h[parent];
    i = parent;
  }
  q->h[i] = e;
  return 0;
}

const sim_event *sim_events_peek(const sim_events *q) {
  return q->n ? &q->h[0] : NULL;
}

int sim_events_pop(sim_events *q, sim_event *out) {
  if (q->n == 0)
    return -1;
  *out = q->h[0];
  sim_event last = q->h[--q->n];
  size_t i = 0, n = q->n;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && ev_less(&q->h[c + 1], &q->h[c]))
      c++;
    if (!ev_less(&q->h[c], &last))
      break;
    q->h[i] = q->h[c];
    i = c;
  }
  if (n > 0)
    q->h[i] = last;
  return 0;
}

/* ---- timers ------------------------------------------------------------ */

int sim_timers_init(sim_timers *t, uint32_t nnodes) {
  t->n = 0;
  t->cap = nnodes;
  t->h = calloc(nnodes ? nnodes : 1, sizeof(*t->h));
  t->pos = malloc((nnodes ? nnodes : 1) * sizeof(*t->pos));
  t->at = calloc(nnodes ? nnodes : 1, sizeof(*t->at));
  if (t->h == NULL || t->pos == NULL || t->at == NULL) {
    sim_timers_free(t);
    return -1;
  }
  for (uint32_t i = 0; i < nnodes; i++)
    t->pos[i] = SIM_TIMER_NONE;
  return 0;
}

void sim_timers_free(sim_timers *t) {
  free(t->h);
  free(t->pos);
  free(t->at);
  t->h = t->pos = NULL;
  t->at = NULL;
  t->n = t->cap = 0;
}

static int tm_less(const sim_timers *t, uint32_t a, uint32_t b) {
  return t->at[a] < t->at[b] || (t->at[a] == t->at[b] && a < b);
}

static void tm_place(sim_timers *t, uint32_t i, uint32_t node) {
  t->h[i] = node;
  t->pos[node] = i;
}

static void tm_up(sim_timers *t, uint32_t i) {
  uint32_t node = t->h[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!tm_less(t, node, t->h[parent]))
      break;
    tm_place(t, i, t->h[parent]);
    i = parent;
  }
  tm_place(t, i, node);
}

static void tm_down(sim_timers *t, uint32_t i) {
  uint32_t node = t->h[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= t->n)
      break;
    if (c + 1 < t->n && tm_less(t, t->h[c + 1], t->h[c]))
      c++;
    if (!tm_less(t, t->h[c], node))
      break;
    tm_place(t, i, t->h[c]);
    i = c;
  }
  tm_place(t, i, node);
}

void sim_timers_set(sim_timers *t, uint32_t node, uint64_t at) {
  uint32_t i = t->pos[node];
  if (at == UINT64_MAX) {
    if (i == SIM_TIMER_NONE)
      return;
    t->pos[node] = SIM_TIMER_NONE;
    uint32_t last = t->h[--t->n];
    if (i == t->n)
      return;
    tm_place(t, i, last);
    tm_up(t, i);
    tm_down(t, t->pos[last]);
    return;
  }
  uint64_t old = t->at[node];
  t->at[node] = at;
  if (i == SIM_TIMER_NONE) {
    i = t->n++;
    tm_place(t, i, node);
    tm_up(t, i);
  } else if (at < old) {
    tm_up(t, i);
  } else if (at > old) {
    tm_down(t, i);
  }
}

uint64_t sim_timers_min(const sim_timers *t, uint32_t *node) {
  if (t->n == 0)
    return UINT64_MAX;
  *node = t->h[0];
  return t->at[t->h[0]];
}
