/*
 * sim_world.c: the event loop of a stratosim run.
 *
 * Two queues order everything: events (datagrams reaching a downlink or
 * being received, scenario actions, node starts, churn) and one deadline
 * per node. The loop takes whichever is earlier, events first on a tie, so
 * the whole run is a pure function of the scenario and the seed.
 */
#include "sim_int.h"

#include <stdlib.h>
#include <string.h>

/* Random streams of the run's seed (the network model has its own); a node's
 * core stream also mixes in its index and how many times it has started. */
#define STREAM_SCENARIO 2
#define STREAM_SECRET 0x100000000ULL
#define STREAM_BOOT 0x4000000000000000ULL
#define STREAM_CORE 0x8000000000000000ULL

#define MAX_BOOT_TARGETS 64
#define MAX_SAME_INSTANT 50000000 /* events at one instant: a stuck core */

typedef struct sim_pkt {
  uint64_t sent_at;
  uint32_t src, dst;
  uint32_t len;
  uint8_t data[];
} sim_pkt;

/* ---- addresses ---------------------------------------------------------- */

/* Every node has a /24 of its own, as hosts on the Internet mostly do, so
 * that the cores' per-prefix caps see a realistic spread. */
sc_addr sim_addr_of(uint32_t i) {
  sc_addr a;
  uint32_t v = i + 1;
  memset(&a, 0, sizeof(a));
  a.family = SC_AF_INET;
  a.ip[0] = (uint8_t)(10 + (v >> 16));
  a.ip[1] = (uint8_t)(v >> 8);
  a.ip[2] = (uint8_t)v;
  a.ip[3] = 1;
  a.port = SIM_PORT;
  return a;
}

uint32_t sim_index_of(const sim *s, const sc_addr *a) {
  if (a->family != SC_AF_INET || a->ip[0] < 10 || a->ip[3] != 1 ||
      a->port != SIM_PORT)
    return UINT32_MAX;
  uint32_t v =
      (uint32_t)(a->ip[0] - 10) << 16 | (uint32_t)a->ip[1] << 8 | a->ip[2];
  return v >= 1 && v <= s->n ? v - 1 : UINT32_MAX;
}

/* ---- the counting allocator ---------------------------------------------- */

/* Each block carries its size in a 16-byte header so that frees can be
 * counted; 16 keeps the payload aligned for any type. */
#define HDR 16

static void mem_count(sim_node *nd, size_t add, size_t sub) {
  sim *s = nd->sim;
  nd->mem_now = nd->mem_now + add - sub;
  s->mem_total_now = s->mem_total_now + add - sub;
  if (nd->mem_now > nd->mem_peak)
    nd->mem_peak = nd->mem_now;
  if (s->mem_total_now > s->mem_total_peak)
    s->mem_total_peak = s->mem_total_now;
}

static void *mem_malloc(size_t size, void *user) {
  unsigned char *p = malloc(HDR + size);
  if (p == NULL)
    return NULL;
  memcpy(p, &size, sizeof(size));
  mem_count(user, size, 0);
  return p + HDR;
}

static void mem_free(void *ptr, void *user) {
  if (ptr == NULL)
    return;
  unsigned char *p = (unsigned char *)ptr - HDR;
  size_t size;
  memcpy(&size, p, sizeof(size));
  mem_count(user, 0, size);
  free(p);
}

static void *mem_calloc(size_t nmemb, size_t size, void *user) {
  if (size != 0 && nmemb > (SIZE_MAX - HDR) / size)
    return NULL;
  void *p = mem_malloc(nmemb * size, user);
  if (p != NULL)
    memset(p, 0, nmemb * size);
  return p;
}

static void *mem_realloc(void *ptr, size_t size, void *user) {
  if (ptr == NULL)
    return mem_malloc(size, user);
  unsigned char *p = (unsigned char *)ptr - HDR;
  size_t old;
  memcpy(&old, p, sizeof(old));
  unsigned char *q = realloc(p, HDR + size);
  if (q == NULL)
    return NULL;
  memcpy(q, &size, sizeof(size));
  mem_count(user, size, old);
  return q + HDR;
}

/* ---- scheduling ---------------------------------------------------------- */

void sim_push(sim *s, uint64_t at, uint32_t kind, uint32_t node, void *ptr) {
  sim_event e = {.at = at, .kind = kind, .node = node, .ptr = ptr};
  if (sim_events_push(&s->ev, &e) != 0) {
    s->oom = 1;
    if (kind == EV_ARRIVE || kind == EV_DELIVER)
      free(ptr);
  }
}

static void node_gone(sim *s, sim_node *nd, int state);

/* sim_after_activity re-arms |nd|'s timer from its core and finishes a
 * graceful leave once every CLOSE is out. */
void sim_after_activity(sim *s, sim_node *nd) {
  if (nd->core != NULL && nd->state == SIM_NODE_LEAVING &&
      sc_node_is_closed(nd->core)) {
    node_gone(s, nd, SIM_NODE_LEFT);
    return;
  }
  sim_timers_set(&s->timers, nd->index,
                 nd->core ? sc_node_get_expiry(nd->core) : UINT64_MAX);
}

/* ---- core callbacks ------------------------------------------------------ */

static int cb_send(void *user, const sc_addr *to, const uint8_t *data,
                   size_t len) {
  sim_node *nd = user;
  sim *s = nd->sim;
  uint32_t dst = sim_index_of(s, to);
  if (dst == UINT32_MAX) {
    s->no_route++;
    return 0;
  }
  sim_route r;
  sim_net_send(s->net, nd->index, dst, len, s->now, &r);
  for (int c = 0; c < r.ncopies; c++) {
    sim_pkt *p = malloc(sizeof(*p) + len);
    if (p == NULL) {
      s->oom = 1;
      return -1;
    }
    p->sent_at = s->now;
    p->src = nd->index;
    p->dst = dst;
    p->len = (uint32_t)len;
    memcpy(p->data, data, len);
    if (r.corrupt[c] != 0 && len > 0)
      p->data[(r.corrupt[c] / 8) % len] ^= (uint8_t)(1u << (r.corrupt[c] % 8));
    sim_push(s, r.at[c], EV_ARRIVE, dst, p);
  }
  return 0;
}

static void cb_rand(void *user, uint8_t *buf, size_t len) {
  sim_node *nd = user;
  sim_rng_bytes(&nd->rng, buf, len);
}

static void cb_log(void *user, int level, const char *msg) {
  sim_node *nd = user;
  static const char *names[] = {"error", "warn", "info", "debug"};
  fprintf(stderr, "%12.6f node %u %s: %s\n", (double)nd->sim->now / 1e9,
          nd->index, level >= 0 && level <= 3 ? names[level] : "?", msg);
}

static void history_add(sim_node *nd, uint32_t peer) {
  for (unsigned i = 0; i < nd->nhistory; i++)
    if (nd->history[i] == peer)
      return;
  if (nd->nhistory < SIM_HISTORY) {
    nd->history[nd->nhistory++] = peer;
    return;
  }
  memmove(nd->history, nd->history + 1,
          (SIM_HISTORY - 1) * sizeof(nd->history[0]));
  nd->history[SIM_HISTORY - 1] = peer;
}

static void cb_peer_event(void *user, const sc_peer_event *ev) {
  sim_node *nd = user;
  sim *s = nd->sim;
  uint32_t peer = sim_index_of(s, &ev->addr);
  switch (ev->kind) {
  case SC_PEER_UP:
    s->peer_up++;
    if (nd->first_up_at == UINT64_MAX) {
      nd->first_up_at = s->now;
      sim_hist_add(&s->startup, s->now - nd->joined_at);
    }
    if (nd->rejoin_wait) {
      nd->rejoin_wait = 0;
      sim_hist_add(&s->rejoin, s->now - nd->started_at);
    }
    if (peer != UINT32_MAX)
      history_add(nd, peer);
    break;
  case SC_PEER_DOWN:
    s->peer_down++;
    s->down_reason[ev->reason >= 0 && ev->reason < 8 ? ev->reason : 0]++;
    if (peer != UINT32_MAX && s->nodes[peer].state == SIM_NODE_CRASHED) {
      s->detections++;
      sim_hist_add(&s->detect, s->now - s->nodes[peer].down_at);
    }
    break;
  case SC_PEER_FAILED:
    s->peer_failed++;
    break;
  default:
    break;
  }
}

/* ---- node life ----------------------------------------------------------- */

uint32_t sim_bootstrap_targets(const sim *s, uint32_t i, uint32_t *out,
                               uint32_t cap) {
  const sim_config *c = s->cfg;
  uint32_t n = 0;
  for (size_t r = 0; r < c->nboot; r++) {
    const sim_bootstrap *b = &c->boot[r];
    if (!sim_set_has(&b->set, i))
      continue;
    if (b->from.n > 0) {
      uint32_t cnt = sim_set_count(&b->from, s->n);
      for (uint32_t k = 0; k < cnt; k++) {
        uint32_t j = sim_set_nth(&b->from, s->n, k);
        if (j != i && n++ < cap)
          out[n - 1] = j;
      }
      continue;
    }
    /* K distinct earlier nodes, drawn the same way at every start. */
    sim_rng rng;
    sim_rng_seed(&rng, c->seed, STREAM_BOOT + ((uint64_t)r << 32 | i));
    uint32_t want = b->k < i ? b->k : i, got = 0;
    uint32_t *pick = out + (n < cap ? n : cap);
    while (got < want) {
      uint32_t j = (uint32_t)sim_rng_below(&rng, i);
      int dup = 0;
      for (uint32_t q = 0; q < got && n + q < cap; q++)
        dup |= pick[q] == j;
      if (dup)
        continue;
      if (n + got < cap)
        pick[got] = j;
      got++;
    }
    n += got;
  }
  return n;
}

void sim_core_settings(const sim_config *c, sc_settings *st) {
  sc_settings_default(st);
  st->log_level = c->log_level;
  if (c->max_sessions)
    st->max_sessions = c->max_sessions;
  if (c->max_half_open)
    st->max_half_open = c->max_half_open;
  if (c->target_peers)
    st->target_peers = c->target_peers;
  if (c->idle_timeout)
    st->idle_timeout = c->idle_timeout;
  if (c->keepalive_interval)
    st->keepalive_interval = c->keepalive_interval;
  if (c->handshake_timeout)
    st->handshake_timeout = c->handshake_timeout;
  if (c->stream_window)
    st->stream_window = c->stream_window;
  if (c->relay_margin)
    st->relay_margin = c->relay_margin;
  if (c->map_interval)
    st->map_interval = c->map_interval;
  if (c->push_peers)
    st->push_peers = c->push_peers;
  if (c->push_capacity)
    st->push_capacity = c->push_capacity;
  if (c->manifest_interval)
    st->manifest_interval = c->manifest_interval;
  if (c->gap_timeout)
    st->gap_timeout = c->gap_timeout;
}

static void node_settings(const sim *s, uint32_t i, sc_settings *st) {
  sim_core_settings(s->cfg, st);
  sim_rng rng;
  sim_rng_seed(&rng, s->cfg->seed, STREAM_SECRET + i);
  sim_rng_bytes(&rng, st->static_secret, sizeof(st->static_secret));
}

/* The scenario's core settings must be ones a core accepts (the keepalive
 * shorter than the idle timeout, ...): try them on a node of our own, which
 * also tells the largest fragment (0 when memory ran out). */
static int check_core_settings(sim *s, size_t *frag_max, char *err,
                               size_t errlen) {
  sc_settings st;
  sc_node *probe = NULL;
  sc_callbacks cb = {.send = cb_send, .rand = cb_rand};
  node_settings(s, 0, &st);
  int rv = sc_node_new(&probe, &st, &cb, NULL, &s->nodes[0], 0);
  *frag_max = rv == 0 ? sc_node_fragment_max(probe) : 0;
  if (rv != 0 && rv != SC_ERR_NOMEM) {
    snprintf(err, errlen, "the core refuses these settings: %s",
             sc_strerror(rv));
    return -1;
  }
  for (size_t g = 0; rv == 0 && g < s->cfg->ngroups; g++) {
    int jr = sc_node_join_group(probe, s->cfg->groups[g], 0);
    if (jr < 0 && jr != SC_ERR_NOMEM) {
      snprintf(err, errlen, "group '%.64s': %s", s->cfg->groups[g],
               jr == SC_ERR_STATE ? "given twice" : sc_strerror(jr));
      sc_node_del(probe);
      return -1;
    }
  }
  sc_node_del(probe);
  return 0;
}

static void node_connect(sim *s, sim_node *nd, uint32_t j) {
  sc_addr a = sim_addr_of(j);
  int rv = sc_node_connect(nd->core, &a, s->now);
  if (rv == SC_ERR_NOMEM)
    s->oom = 1;
}

static void node_start(sim *s, sim_node *nd, int history) {
  if (nd->state == SIM_NODE_UP || nd->state == SIM_NODE_LEAVING)
    return;
  sc_settings st;
  node_settings(s, nd->index, &st);
  sc_callbacks cb = {.send = cb_send,
                     .rand = cb_rand,
                     .log = s->cfg->log_level >= 0 ? cb_log : NULL,
                     .peer_event = cb_peer_event,
                     .stream_data = s->stream ? sim_stream_on_play : NULL,
                     .post = s->posts ? sim_posts_on_post : NULL,
                     .routed = s->route ? sim_route_on_routed : NULL,
                     .object = s->repl ? sim_repl_on_object : NULL};
  nd->starts++;
  sim_rng_seed(&nd->rng, s->cfg->seed,
               STREAM_CORE | (uint64_t)nd->index << 16 | nd->starts);
  int rv = sc_node_new(&nd->core, &st, &cb, &nd->mem, nd, s->now);
  if (rv != 0) {
    if (rv == SC_ERR_NOMEM)
      s->oom = 1;
    nd->core = NULL;
    return;
  }
  if (nd->starts == 1) {
    s->joins++;
    nd->joined_at = s->now;
  } else {
    s->restarts++;
    nd->rejoin_wait = 1;
  }
  nd->state = SIM_NODE_UP;
  nd->started_at = s->now;
  uint32_t targets[MAX_BOOT_TARGETS];
  uint32_t nt = sim_bootstrap_targets(s, nd->index, targets, MAX_BOOT_TARGETS);
  for (uint32_t k = 0; k < nt && k < MAX_BOOT_TARGETS; k++)
    node_connect(s, nd, targets[k]);
  for (size_t g = 0; g < s->cfg->ngroups; g++)
    if (sc_node_join_group(nd->core, s->cfg->groups[g], s->now) == SC_ERR_NOMEM)
      s->oom = 1;
  if (s->repl != NULL)
    sim_repl_node_up(s, nd);
  if (s->stream != NULL)
    sim_stream_node_up(s, nd);
  if (s->route != NULL)
    sim_route_node_up(s, nd);
  for (unsigned k = 0; history && k < nd->nhistory; k++) {
    sc_known_peer kp = {.addr = sim_addr_of(nd->history[k]),
                        .score_permille = 1000};
    memcpy(kp.peer_id, s->nodes[nd->history[k]].peer_id, SC_PEER_ID_LEN);
    sc_node_remember(nd->core, &kp, s->now);
  }
  sim_after_activity(s, nd);
}

void sim_stats_add(sc_node_stats *dst, const sc_node_stats *src) {
  /* Every member is a uint64_t counter (stratocast.h). */
  uint64_t *d = (uint64_t *)dst;
  const uint64_t *c = (const uint64_t *)src;
  for (size_t k = 0; k < sizeof(*src) / sizeof(uint64_t); k++)
    d[k] += c[k];
}

void sim_node_stats(const sim_node *nd, sc_node_stats *out) {
  *out = nd->past;
  if (nd->core != NULL) {
    sc_node_stats cur;
    sc_node_get_stats(nd->core, &cur);
    sim_stats_add(out, &cur);
  }
}

void sim_stats_sum(const sim *s, sc_node_stats *out) {
  memset(out, 0, sizeof(*out));
  for (uint32_t i = 0; i < s->n; i++) {
    sc_node_stats st;
    sim_node_stats(&s->nodes[i], &st);
    sim_stats_add(out, &st);
  }
}

static void node_gone(sim *s, sim_node *nd, int state) {
  sc_node_stats st;
  if (s->stream != NULL)
    sim_stream_node_down(s, nd);
  sim_posts_node_down(s, nd);
  if (s->repl != NULL)
    sim_repl_node_down(s, nd);
  sc_node_get_stats(nd->core, &st);
  sim_stats_add(&nd->past, &st);
  sc_node_del(nd->core);
  nd->core = NULL;
  /* Everything a core allocated must be back once it is deleted. */
  s->mem_leaked += nd->mem_now;
  s->mem_total_now -= nd->mem_now;
  nd->mem_now = 0;
  nd->state = (uint8_t)state;
  nd->down_at = s->now;
  sim_timers_set(&s->timers, nd->index, UINT64_MAX);
}

static void node_crash(sim *s, sim_node *nd) {
  if (nd->state != SIM_NODE_UP && nd->state != SIM_NODE_LEAVING)
    return;
  s->crashes++;
  node_gone(s, nd, SIM_NODE_CRASHED);
}

static void node_leave(sim *s, sim_node *nd) {
  if (nd->state != SIM_NODE_UP)
    return;
  s->leaves++;
  nd->state = SIM_NODE_LEAVING;
  sc_node_close(nd->core, s->now);
  sim_after_activity(s, nd);
}

/* ---- scenario actions ---------------------------------------------------- */

static void act_join(sim *s, const sim_action *a) {
  uint32_t cnt = sim_set_count(&a->set, s->n);
  for (uint32_t k = 0; k < cnt; k++) {
    uint32_t i = sim_set_nth(&a->set, s->n, k);
    uint64_t at = s->now + (uint64_t)((double)a->span * k / cnt);
    sim_push(s, at, EV_START, i, NULL);
  }
}

static void act_churn_tick(sim *s) {
  const sim_action *a = s->churn;
  uint32_t eligible = 0;
  for (uint32_t i = 0; i < s->n; i++)
    eligible += s->nodes[i].state == SIM_NODE_UP && sim_set_has(&a->set, i);
  if (eligible > 0) {
    uint32_t pick = (uint32_t)sim_rng_below(&s->rng, eligible);
    for (uint32_t i = 0; i < s->n; i++) {
      if (s->nodes[i].state != SIM_NODE_UP || !sim_set_has(&a->set, i))
        continue;
      if (pick-- > 0)
        continue;
      if (a->churn_kind == SIM_CHURN_LEAVE)
        node_leave(s, &s->nodes[i]);
      else
        node_crash(s, &s->nodes[i]);
      if (a->downtime > 0)
        sim_push(s, s->now + a->downtime,
                 a->history ? EV_RESTART_HISTORY : EV_RESTART, i, NULL);
      break;
    }
  }
  sim_push(s, s->now + sim_rng_exp(&s->rng, 1e9 / a->rate), EV_CHURN,
           s->churn_gen, NULL);
}

static void act_each(sim *s, const sim_action *a) {
  for (uint32_t i = 0; i < s->n; i++) {
    if (!sim_set_has(&a->set, i))
      continue;
    sim_node *nd = &s->nodes[i];
    switch (a->verb) {
    case SIM_ACT_LEAVE:
      node_leave(s, nd);
      break;
    case SIM_ACT_CRASH:
      node_crash(s, nd);
      break;
    case SIM_ACT_RESTART:
      if (nd->state == SIM_NODE_CRASHED || nd->state == SIM_NODE_LEFT)
        node_start(s, nd, a->history);
      break;
    case SIM_ACT_PARTITION:
      sim_net_set_side(s->net, i, s->next_side);
      break;
    case SIM_ACT_HEAL:
      sim_net_set_side(s->net, i, 0);
      break;
    case SIM_ACT_LINK:
      sim_link_apply(sim_net_link(s->net, i), a);
      break;
    default:
      break;
    }
  }
}

static void act_run(sim *s, const sim_action *a) {
  switch (a->verb) {
  case SIM_ACT_JOIN:
    act_join(s, a);
    break;
  case SIM_ACT_CHURN:
    s->churn = a;
    s->churn_gen++;
    sim_push(s, s->now + sim_rng_exp(&s->rng, 1e9 / a->rate), EV_CHURN,
             s->churn_gen, NULL);
    break;
  case SIM_ACT_CHURN_STOP:
    s->churn = NULL;
    s->churn_gen++;
    break;
  case SIM_ACT_PARTITION:
    s->next_side++;
    act_each(s, a);
    break;
  case SIM_ACT_STREAM:
  case SIM_ACT_STREAM_STOP:
  case SIM_ACT_FORGE:
    if (s->stream != NULL) /* forgers without a stream have no target */
      sim_stream_action(s, a);
    break;
  case SIM_ACT_POST:
    sim_posts_action(s, a);
    break;
  case SIM_ACT_ROUTE:
    if (s->route != NULL)
      sim_route_action(s, a);
    break;
  case SIM_ACT_REPLICATE:
    sim_repl_action(s, a);
    break;
  case SIM_ACT_HEAL: {
    sim_action all = *a;
    sim_range r = {0, UINT32_MAX};
    all.set.r = &r;
    all.set.n = 1;
    act_each(s, &all);
    break;
  }
  default:
    act_each(s, a);
    break;
  }
}

/* ---- the loop ------------------------------------------------------------ */

static void deliver(sim *s, sim_pkt *p) {
  sim_node *nd = &s->nodes[p->dst];
  if (nd->core == NULL) {
    s->node_down++;
    free(p);
    return;
  }
  sim_hist_add(&s->owd, s->now - p->sent_at);
  sc_addr from = sim_addr_of(p->src);
  if (sc_node_recv(nd->core, p->data, p->len, &from, s->now) == SC_ERR_NOMEM)
    s->oom = 1;
  free(p);
  sim_after_activity(s, nd);
}

static void handle_event(sim *s, const sim_event *e) {
  switch (e->kind) {
  case EV_ARRIVE: {
    sim_pkt *p = e->ptr;
    uint64_t done;
    if (sim_net_receive(s->net, p->dst, p->len, s->now, &done) !=
        SIM_FATE_DELIVERED) {
      free(p);
    } else if (done <= s->now) {
      deliver(s, p);
    } else {
      sim_push(s, done, EV_DELIVER, p->dst, p);
    }
    break;
  }
  case EV_DELIVER:
    deliver(s, e->ptr);
    break;
  case EV_ACTION:
    act_run(s, e->ptr);
    break;
  case EV_START:
    if (s->nodes[e->node].state == SIM_NODE_IDLE)
      node_start(s, &s->nodes[e->node], 0);
    break;
  case EV_RESTART:
  case EV_RESTART_HISTORY:
    if (s->nodes[e->node].state == SIM_NODE_CRASHED ||
        s->nodes[e->node].state == SIM_NODE_LEFT)
      node_start(s, &s->nodes[e->node], e->kind == EV_RESTART_HISTORY);
    break;
  case EV_CHURN:
    if (s->churn != NULL && e->node == s->churn_gen)
      act_churn_tick(s);
    break;
  case EV_FRAGMENT:
  case EV_SAMPLE:
  case EV_SPAN_END:
  case EV_FORGE:
    sim_stream_event(s, e);
    break;
  case EV_POST:
    sim_posts_event(s, e);
    break;
  case EV_ROUTE:
    sim_route_event(s, e);
    break;
  default:
    break;
  }
}

int sim_run(sim *s, char *err, size_t errlen) {
  uint64_t end = s->cfg->duration, last = UINT64_MAX, same = 0;
  for (;;) {
    const sim_event *e = sim_events_peek(&s->ev);
    uint32_t tnode = 0;
    uint64_t tat = sim_timers_min(&s->timers, &tnode);
    uint64_t eat = e ? e->at : UINT64_MAX;
    uint64_t next = eat <= tat ? eat : tat;
    if (next == UINT64_MAX || next > end)
      break;
    /* Deadlines already past fire now; time never runs backwards. */
    if (next > s->now)
      s->now = next;
    same = s->now == last ? same + 1 : 0;
    last = s->now;
    if (same > MAX_SAME_INSTANT) {
      snprintf(err, errlen,
               "no progress at t=%.9f s: a core keeps asking "
               "for the same instant",
               (double)s->now / 1e9);
      return -1;
    }
    s->events++;
    if (eat <= tat) {
      sim_event ev;
      sim_events_pop(&s->ev, &ev);
      handle_event(s, &ev);
    } else {
      sim_node *nd = &s->nodes[tnode];
      if (sc_node_handle_expiry(nd->core, s->now) == SC_ERR_NOMEM)
        s->oom = 1;
      sim_after_activity(s, nd);
    }
    if (s->oom) {
      snprintf(err, errlen, "out of memory at t=%.9f s", (double)s->now / 1e9);
      return -1;
    }
  }
  s->now = end;
  return 0;
}

uint64_t sim_in_flight(const sim *s) {
  uint64_t n = 0;
  for (size_t k = 0; k < s->ev.n; k++)
    n += s->ev.h[k].kind == EV_ARRIVE || s->ev.h[k].kind == EV_DELIVER;
  return n;
}

/* ---- construction ------------------------------------------------------ */

static int has_join(const sim_config *c) {
  for (size_t k = 0; k < c->nactions; k++)
    if (c->actions[k].verb == SIM_ACT_JOIN)
      return 1;
  return 0;
}

int sim_new(sim **ps, const sim_config *cfg, char *err, size_t errlen) {
  size_t frag_max = 0;
  sim *s = calloc(1, sizeof(*s));
  if (s == NULL)
    goto oom;
  s->cfg = cfg;
  s->n = cfg->nodes;
  sim_events_init(&s->ev);
  sim_rng_seed(&s->rng, cfg->seed, STREAM_SCENARIO);
  sim_hist_init(&s->owd);
  sim_hist_init(&s->startup);
  sim_hist_init(&s->rejoin);
  sim_hist_init(&s->detect);
  if (sim_net_new(&s->net, s->n, &cfg->place, &cfg->link, cfg->seed, err,
                  errlen) != 0) {
    sim_del(s);
    return -1;
  }
  s->nodes = calloc(s->n, sizeof(*s->nodes));
  if (s->nodes == NULL || sim_timers_init(&s->timers, s->n) != 0)
    goto oom;
  for (uint32_t i = 0; i < s->n; i++) {
    sim_node *nd = &s->nodes[i];
    nd->sim = s;
    nd->index = i;
    nd->first_up_at = UINT64_MAX;
    sc_settings st;
    uint8_t pub[SC_KEY_LEN];
    node_settings(s, i, &st);
    sc_identity_from_secret(st.static_secret, pub, nd->peer_id);
    nd->mem = (sc_mem){.user = nd,
                       .malloc = mem_malloc,
                       .free = mem_free,
                       .calloc = mem_calloc,
                       .realloc = mem_realloc};
  }
  if (s->n > 0 && (check_core_settings(s, &frag_max, err, errlen) != 0 ||
                   sim_stream_new(s, frag_max, err, errlen) != 0 ||
                   sim_posts_new(s, err, errlen) != 0 ||
                   sim_route_new(s, err, errlen) != 0 ||
                   sim_repl_new(s, err, errlen) != 0)) {
    sim_del(s);
    return -1;
  }
  for (size_t k = 0; k < cfg->nactions; k++)
    sim_push(s, cfg->actions[k].at, EV_ACTION, 0, &cfg->actions[k]);
  /* With no join statement everyone joins at once. */
  if (!has_join(cfg))
    for (uint32_t i = 0; i < s->n; i++)
      sim_push(s, 0, EV_START, i, NULL);
  if (s->oom)
    goto oom;
  *ps = s;
  return 0;
oom:
  snprintf(err, errlen, "out of memory");
  sim_del(s);
  return -1;
}

void sim_del(sim *s) {
  if (s == NULL)
    return;
  sim_event e;
  while (sim_events_pop(&s->ev, &e) == 0)
    if (e.kind == EV_ARRIVE || e.kind == EV_DELIVER)
      free(e.ptr);
  sim_events_free(&s->ev);
  for (uint32_t i = 0; s->nodes && i < s->n; i++)
    sc_node_del(s->nodes[i].core);
  sim_stream_del(s->stream);
  sim_posts_del(s->posts);
  sim_route_del(s->route);
  sim_repl_del(s->repl);
  free(s->nodes);
  sim_timers_free(&s->timers);
  sim_net_del(s->net);
  free(s);
}
