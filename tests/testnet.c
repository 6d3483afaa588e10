/*
 * testnet.c: the in-memory network of testnet.h.
 */
#include "testnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_packet.h"

typedef struct tn_dgram {
  uint64_t at;
  uint64_t order; /* ties deliver in send order */
  sc_addr from, to;
  size_t len;
  uint8_t *data;
} tn_dgram;

struct tn {
  uint64_t now;
  uint64_t rng;
  uint64_t seed;
  uint64_t delay;
  unsigned loss_permille;
  uint64_t order;
  tn_tap_fn tap;
  void *tap_arg;
  tn_play_fn play;
  void *play_arg;
  tn_post_fn post;
  void *post_arg;
  tn_routed_fn routed;
  void *routed_arg;
  tn_object_fn object;
  void *object_arg;
  tn_node *nodes[TN_MAX_NODES];
  int nnodes;
  tn_dgram *heap;
  size_t nheap, heap_cap;
};

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (p == NULL) {
    abort();
  }
  return p;
}

sc_addr tn_addr(const char *s) {
  sc_addr a;
  if (sc_addr_parse(&a, s) != 0) {
    fprintf(stderr, "testnet: bad address %s\n", s);
    abort();
  }
  return a;
}

/* ---- the delivery queue: a binary heap on (at, order) -------------------
 */

static int dgram_before(const tn_dgram *a, const tn_dgram *b) {
  return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void heap_push(tn *net, tn_dgram d) {
  size_t i;
  if (net->nheap == net->heap_cap) {
    net->heap_cap = net->heap_cap ? 2 * net->heap_cap : 64;
    net->heap = realloc(net->heap, net->heap_cap * sizeof(*net->heap));
    if (net->heap == NULL) {
      abort();
    }
  }
  i = net->nheap++;
  while (i > 0 && dgram_before(&d, &net->heap[(i - 1) / 2])) {
    net->heap[i] = net->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  net->heap[i] = d;
}

static tn_dgram heap_pop(tn *net) {
  tn_dgram top = net->heap[0], last = net->heap[--net->nheap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= net->nheap) {
      break;
    }
    if (c + 1 < net->nheap && dgram_before(&net->heap[c + 1], &net->heap[c])) {
      c++;
    }
    if (!dgram_before(&net->heap[c], &last)) {
      break;
    }
    net->heap[i] = net->heap[c];
    i = c;
  }
  if (net->nheap > 0) {
    net->heap[i] = last;
  }
  return top;
}

/* ---- callbacks -------------------------------------------------------------
 */

static int cb_send(void *user, const sc_addr *to, const uint8_t *data,
                   size_t len) {
  tn_node *n = user;
  tn *net = n->net;
  tn_dgram d;
  if (net->tap != NULL) {
    net->tap(net->tap_arg, n->index, &n->addr, to, data, len);
  }
  if (xorshift(&net->rng) % 1000 < net->loss_permille) {
    return 0;
  }
  memset(&d, 0, sizeof(d));
  d.at = net->now + net->delay;
  d.order = net->order++;
  d.from = n->addr;
  d.to = *to;
  d.len = len;
  d.data = malloc(len > 0 ? len : 1);
  if (d.data == NULL) {
    abort();
  }
  memcpy(d.data, data, len);
  heap_push(net, d);
  return 0;
}

static void cb_rand(void *user, uint8_t *buf, size_t len) {
  tn_node *n = user;
  size_t i;
  for (i = 0; i < len; i++) {
    buf[i] = (uint8_t)(xorshift(&n->rng) >> 24);
  }
}

static void cb_peer_event(void *user, const sc_peer_event *ev) {
  tn_node *n = user;
  switch (ev->kind) {
  case SC_PEER_UP:
    n->events_up++;
    break;
  case SC_PEER_DOWN:
    n->events_down++;
    n->last_down_reason = ev->reason;
    break;
  default:
    n->events_failed++;
    break;
  }
}

static void cb_post(void *user, const sc_post_event *ev) {
  tn_node *n = user;
  if (n->net->post != NULL) {
    n->net->post(n->net->post_arg, n->index, ev);
  }
}

static void cb_routed(void *user, const sc_route_event *ev) {
  tn_node *n = user;
  if (n->net->routed != NULL) {
    n->net->routed(n->net->routed_arg, n->index, ev);
  }
}

static void cb_object(void *user, const sc_object_event *ev) {
  tn_node *n = user;
  if (n->net->object != NULL) {
    n->net->object(n->net->object_arg, n->index, ev);
  }
}

static void cb_stream_data(void *user, const sc_play_chunk *chunk) {
  tn_node *n = user;
  if (n->net->play != NULL) {
    n->net->play(n->net->play_arg, n->index, chunk);
  }
}

static void cb_log(void *user, int level, const char *msg) {
  tn_node *n = user;
  if (getenv("TESTNET_LOG") != NULL) {
    fprintf(stderr, "[%10.3f ms] node %d (%d): %s\n", (double)n->net->now / 1e6,
            n->index, level, msg);
  }
}

/* ---- nodes -----------------------------------------------------------------
 */

tn *tn_new(uint64_t seed) {
  tn *net = xcalloc(1, sizeof(*net));
  net->seed = seed;
  net->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
  net->delay = 10 * (uint64_t)1000000;
  net->now = 0;
  return net;
}

void tn_del(tn *net) {
  int i;
  for (i = 0; i < net->nnodes; i++) {
    sc_node_del(net->nodes[i]->node);
    free(net->nodes[i]);
  }
  while (net->nheap > 0) {
    free(heap_pop(net).data);
  }
  free(net->heap);
  free(net);
}

static int start_node(tn_node *n, const sc_settings *settings,
                      const sc_mem *mem) {
  sc_settings st;
  sc_callbacks cb;
  if (settings != NULL) {
    st = *settings;
  } else {
    sc_settings_default(&st);
  }
  memcpy(st.static_secret, n->secret, SC_KEY_LEN);
  st.log_level = SC_LOG_DEBUG;
  memset(&cb, 0, sizeof(cb));
  cb.send = cb_send;
  cb.rand = cb_rand;
  cb.log = cb_log;
  cb.peer_event = cb_peer_event;
  cb.stream_data = cb_stream_data;
  cb.post = cb_post;
  cb.routed = cb_routed;
  cb.object = cb_object;
  return sc_node_new(&n->node, &st, &cb, mem, n, n->net->now);
}

int tn_add(tn *net, const char *addr, const sc_settings *settings,
           const sc_mem *mem) {
  char buf[64];
  tn_node *n;
  int rv, i;
  if (net->nnodes >= TN_MAX_NODES) {
    abort();
  }
  n = xcalloc(1, sizeof(*n));
  n->net = net;
  n->index = net->nnodes;
  if (addr == NULL) {
    snprintf(buf, sizeof(buf), "10.%d.%d.%d:4433", n->index >> 16 & 255,
             n->index >> 8 & 255, (n->index & 255) + 1);
    addr = buf;
  }
  n->addr = tn_addr(addr);
  n->rng =
      net->seed ^ (UINT64_C(0x2545f4914f6cdd1d) * (uint64_t)(n->index + 1));
  for (i = 0; i < SC_KEY_LEN; i++) {
    n->secret[i] = (uint8_t)(xorshift(&n->rng) >> 32);
  }
  rv = start_node(n, settings, mem);
  if (rv != 0) {
    free(n);
    return rv;
  }
  net->nodes[net->nnodes++] = n;
  return n->index;
}

tn_node *tn_get(tn *net, int i) { return net->nodes[i]; }

void tn_set_loss(tn *net, unsigned permille) { net->loss_permille = permille; }

void tn_set_delay(tn *net, uint64_t delay) { net->delay = delay; }

void tn_set_tap(tn *net, tn_tap_fn fn, void *arg) {
  net->tap = fn;
  net->tap_arg = arg;
}

void tn_set_play(tn *net, tn_play_fn fn, void *arg) {
  net->play = fn;
  net->play_arg = arg;
}

void tn_set_post(tn *net, tn_post_fn fn, void *arg) {
  net->post = fn;
  net->post_arg = arg;
}

void tn_set_routed(tn *net, tn_routed_fn fn, void *arg) {
  net->routed = fn;
  net->routed_arg = arg;
}

void tn_set_object(tn *net, tn_object_fn fn, void *arg) {
  net->object = fn;
  net->object_arg = arg;
}

uint64_t tn_now(const tn *net) { return net->now; }

size_t tn_queued(const tn *net) { return net->nheap; }

int tn_connect(tn *net, int i, int j) {
  return sc_node_connect(net->nodes[i]->node, &net->nodes[j]->addr, net->now);
}

int tn_group(tn *net, int n, const char *spec) {
  int i;
  char addr[32];
  for (i = 0; i < n; i++) {
    snprintf(addr, sizeof(addr), "10.0.%d.1:4433", i);
    if (tn_add(net, addr, NULL, NULL) != i ||
        sc_node_join_group(net->nodes[i]->node, spec, net->now) < 0) {
      return -1;
    }
  }
  for (i = 1; i < n; i++) {
    (void)tn_connect(net, i, 0);
  }
  return 0;
}

void tn_crash(tn *net, int i) {
  sc_node_del(net->nodes[i]->node);
  net->nodes[i]->node = NULL;
}

int tn_restart(tn *net, int i, const sc_settings *settings) {
  tn_node *n = net->nodes[i];
  sc_node_del(n->node);
  n->node = NULL;
  return start_node(n, settings, NULL);
}

void tn_move(tn *net, int i, const char *addr) {
  net->nodes[i]->addr = tn_addr(addr);
}

static tn_node *owner_of(tn *net, const sc_addr *a) {
  int i;
  for (i = 0; i < net->nnodes; i++) {
    if (net->nodes[i]->node != NULL && sc_addr_eq(&net->nodes[i]->addr, a)) {
      return net->nodes[i];
    }
  }
  return NULL;
}

int tn_inject(tn *net, int i, const sc_addr *from, const uint8_t *data,
              size_t len) {
  return sc_node_recv(net->nodes[i]->node, data, len, from, net->now);
}

/* ---- running ---------------------------------------------------------------
 */

/* Processes the earliest event at or before |limit|. Returns 0 if none. */
static int step(tn *net, uint64_t limit) {
  uint64_t t = UINT64_MAX;
  tn_node *due = NULL;
  int i;
  for (i = 0; i < net->nnodes; i++) {
    tn_node *n = net->nodes[i];
    if (n->node != NULL && sc_node_get_expiry(n->node) < t) {
      t = sc_node_get_expiry(n->node);
      due = n;
    }
  }
  if (net->nheap > 0 && net->heap[0].at <= t) {
    tn_dgram d;
    tn_node *to;
    if (net->heap[0].at > limit) {
      return 0;
    }
    d = heap_pop(net);
    net->now = d.at > net->now ? d.at : net->now;
    to = owner_of(net, &d.to);
    if (to != NULL) {
      sc_node_recv(to->node, d.data, d.len, &d.from, net->now);
    }
    free(d.data);
    return 1;
  }
  if (due == NULL || t > limit) {
    return 0;
  }
  net->now = t > net->now ? t : net->now;
  sc_node_handle_expiry(due->node, net->now);
  return 1;
}

int tn_run_until(tn *net, int (*pred)(tn *net, void *arg), void *arg,
                 uint64_t limit) {
  uint64_t end = net->now + limit, last = net->now, same = 0;
  if (pred != NULL && pred(net, arg)) {
    return 1;
  }
  while (step(net, end)) {
    /* A core that keeps asking for the same instant is busy-looping. */
    same = net->now == last ? same + 1 : 0;
    last = net->now;
    if (same > 1000000) {
      fprintf(stderr, "testnet: no progress at t=%llu ns\n",
              (unsigned long long)net->now);
      abort();
    }
    if (pred != NULL && pred(net, arg)) {
      return 1;
    }
  }
  net->now = end;
  return pred != NULL ? pred(net, arg) : 0;
}

void tn_run(tn *net, uint64_t duration) {
  tn_run_until(net, NULL, NULL, duration);
}

int tn_session_with(tn *net, int i, int j, sc_session_info *out, int *count) {
  sc_session_info info[64];
  const uint8_t *id;
  size_t n, k;
  int found = 0;
  if (count != NULL) {
    *count = 0;
  }
  if (net->nodes[i]->node == NULL || net->nodes[j]->node == NULL) {
    return 0;
  }
  id = sc_node_peer_id(net->nodes[j]->node);
  n = sc_node_sessions(net->nodes[i]->node, info, 64);
  for (k = 0; k < n && k < 64; k++) {
    if (info[k].state == SC_SESSION_ESTABLISHED && info[k].has_peer_id &&
        memcmp(info[k].peer_id, id, SC_PEER_ID_LEN) == 0) {
      if (out != NULL && !found) {
        *out = info[k];
      }
      found = 1;
      if (count != NULL) {
        (*count)++;
      }
    }
  }
  return found;
}

typedef struct catcher {
  tn_tap_fn tap; /* the caller's, chained */
  void *tap_arg;
  int node;
  uint8_t *out;
  size_t cap, len;
} catcher;

static void catch_tap(void *arg, int from_node, const sc_addr *from,
                      const sc_addr *to, const uint8_t *data, size_t len) {
  catcher *c = arg;
  if (c->tap != NULL) {
    c->tap(c->tap_arg, from_node, from, to, data, len);
  }
  if (from_node == c->node && len > 2 && data[1] == SC_PKT_DATA &&
      len <= c->cap) {
    memcpy(c->out, data, len);
    c->len = len;
  }
}

size_t tn_catch_sealed(tn *net, int i, uint8_t *out, size_t cap) {
  catcher c;
  unsigned loss = net->loss_permille;
  memset(&c, 0, sizeof(c));
  c.tap = net->tap;
  c.tap_arg = net->tap_arg;
  c.node = i;
  c.out = out;
  c.cap = cap;
  tn_set_tap(net, catch_tap, &c);
  tn_set_loss(net, 1000);
  tn_run(net, 11 * (uint64_t)1000000000);
  tn_set_loss(net, loss);
  tn_set_tap(net, c.tap, c.tap_arg);
  return c.len;
}

int tn_pair_up(tn *net, void *arg) {
  const int *p = arg;
  return tn_session_with(net, p[0], p[1], NULL, NULL) &&
         tn_session_with(net, p[1], p[0], NULL, NULL);
}

sc_node_stats tn_stats(tn *net, int i) {
  sc_node_stats st;
  memset(&st, 0, sizeof(st));
  if (net->nodes[i]->node != NULL) {
    sc_node_get_stats(net->nodes[i]->node, &st);
  }
  return st;
}
