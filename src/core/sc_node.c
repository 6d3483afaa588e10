/*
 * sc_node.c: the node (doc/protocol.md §3, §5, §9): datagram dispatch,
 * stateless cookies, the session table, bootstrap targets, the choice
 * between two sessions with one peer, introductions, timers and counters.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_mem.h"
#include "sc_node_int.h"
#include "sc_post.h"
#include "sc_repl.h"
#include "sc_route.h"

#define COOKIE_PERIOD (120 * SC_SEC)
#define TARGET_BACKOFF_MIN (1 * SC_SEC)
#define TARGET_BACKOFF_MAX (30 * SC_SEC)
#define TARGETS_MAX 64
#define HALF_OPEN_PER_IP 8 /* one host cannot take every handshake slot */

void sc_settings_default(sc_settings *s) {
  memset(s, 0, sizeof(*s));
  s->log_level = SC_LOG_INFO;
  s->max_datagram = 1232; /* a 1280-byte IPv6 path: no fragmentation */
  s->max_sessions = 256;
  s->max_half_open = 64;
  s->target_peers = 8;
  s->idle_timeout = 30 * SC_SEC;
  s->keepalive_interval = 10 * SC_SEC;
  s->handshake_timeout = 20 * SC_SEC;
  s->cookie_lifetime = 120 * SC_SEC;
  s->stream_window = 8 * SC_SEC;
  s->relay_margin = 2 * SC_SEC;
  s->map_interval = 200 * SC_MS;
  s->push_peers = 4;
  s->push_capacity = 32;
  s->manifest_interval = 50 * SC_MS;
  s->gap_timeout = 1 * SC_SEC;
}

/* ---- helpers for sessions ------------------------------------------------
 */

void sc_node_send(sc_node *node, const sc_addr *to, const uint8_t *data,
                  size_t len) {
  if (node->cb.send(node->user, to, data, len) < 0) {
    node->stats.send_errors++;
    return;
  }
  node->stats.packets_sent++;
  node->stats.bytes_sent += len;
}

void sc_node_rand(sc_node *node, uint8_t *buf, size_t len) {
  node->cb.rand(node->user, buf, len);
}

void sc_node_log(sc_node *node, int level, const char *fmt, ...) {
  char line[256];
  va_list ap;
  if (node->cb.log == NULL || level > node->settings.log_level) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  node->cb.log(node->user, level, line);
}

void sc_node_drop(sc_node *node, int reason) { node->stats.dropped[reason]++; }

static void peer_event(sc_node *node, const sc_session *s, int kind) {
  sc_peer_event ev;
  if (node->cb.peer_event == NULL) {
    return;
  }
  memset(&ev, 0, sizeof(ev));
  ev.kind = kind;
  ev.reason = s->close_reason;
  ev.has_peer_id = s->has_peer_id;
  memcpy(ev.peer_id, s->peer_id, SC_PEER_ID_LEN);
  ev.addr = s->addr;
  ev.rtt_ns = s->rtt.has_sample ? s->rtt.smoothed : 0;
  ev.bytes_sent = s->bytes_sent;
  ev.bytes_received = s->bytes_received;
  node->cb.peer_event(node->user, &ev);
}

/* ---- the session table, sorted by local session ID -----------------------
 */

static size_t table_lower_bound(const sc_node *node, uint32_t sid) {
  size_t lo = 0, hi = node->nsessions;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (node->sessions[mid]->local_sid < sid) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

static sc_session *table_find(const sc_node *node, uint32_t sid) {
  size_t i = table_lower_bound(node, sid);
  if (i < node->nsessions && node->sessions[i]->local_sid == sid) {
    return node->sessions[i];
  }
  return NULL;
}

static int table_reserve(sc_node *node) {
  size_t cap;
  sc_session **p;
  if (node->nsessions < node->sessions_cap) {
    return 0;
  }
  cap = node->sessions_cap ? 2 * node->sessions_cap : 8;
  p = sc_mem_realloc(node->mem, node->sessions, cap * sizeof(sc_session *));
  if (p == NULL) {
    return SC_ERR_NOMEM;
  }
  node->sessions = p;
  node->sessions_cap = cap;
  return 0;
}

/* Inserts |s|; table_reserve must have succeeded. */
static void table_insert(sc_node *node, sc_session *s) {
  size_t i = table_lower_bound(node, s->local_sid);
  memmove(&node->sessions[i + 1], &node->sessions[i],
          (node->nsessions - i) * sizeof(sc_session *));
  node->sessions[i] = s;
  node->nsessions++;
}

/* Draws a fresh, unused, nonzero local session ID (§3.1). */
static uint32_t new_sid(sc_node *node) {
  uint8_t b[4];
  uint32_t sid;
  do {
    sc_node_rand(node, b, sizeof(b));
    sid = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
          b[3];
  } while (sid == 0 || table_find(node, sid) != NULL);
  return sid;
}

static sc_target *target_of(sc_node *node, uint32_t sid) {
  size_t i;
  for (i = 0; i < node->ntargets; i++) {
    if (node->targets[i].sid == sid) {
      return &node->targets[i];
    }
  }
  return NULL;
}

/* Reports a session that stopped being usable, once, as soon as it does
 * (a closing session may linger to drain). */
static void report_down(sc_node *node, sc_session *s, uint64_t now) {
  if (s->established_at != 0 && !s->down_reported && !sc_session_is_usable(s)) {
    s->down_reported = 1;
    sc_mesh_on_down(node, s, now);
    peer_event(node, s, SC_PEER_DOWN);
  }
}

static void on_session_gone(sc_node *node, sc_session *s, uint64_t now) {
  sc_target *t = target_of(node, s->local_sid);
  if (t != NULL) {
    t->sid = 0;
    t->next_at = now + t->backoff;
    t->backoff = SC_MIN(2 * t->backoff, TARGET_BACKOFF_MAX);
    if (s->close_reason == SC_CLOSE_SELF) {
      t->is_self = 1;
    }
  }
  report_down(node, s, now);
  if (s->established_at == 0 && s->initiator) {
    node->stats.handshakes_failed++;
    peer_event(node, s, SC_PEER_FAILED);
  }
}

/* Reports sessions that went down and frees the dead ones. */
static void sweep(sc_node *node, uint64_t now) {
  size_t i, j = 0;
  for (i = 0; i < node->nsessions; i++) {
    sc_session *s = node->sessions[i];
    report_down(node, s, now);
    if (sc_session_is_dead(s)) {
      on_session_gone(node, s, now);
      sc_session_del(s);
    } else {
      node->sessions[j++] = s;
    }
  }
  node->nsessions = j;
}

static void update_expiry(sc_node *node) {
  uint64_t d =
      SC_MIN(sc_cookie_next_rotation(&node->cookies), sc_mesh_deadline(node));
  size_t i;
  d = SC_MIN(d, sc_mcast_deadline(node));
  d = SC_MIN(d, sc_post_deadline(node));
  d = SC_MIN(d, sc_repl_deadline(node));
  for (i = 0; i < node->nsessions; i++) {
    d = SC_MIN(d, sc_session_deadline(node->sessions[i]));
  }
  /* Bootstrap peers rest while the node is joined (run_targets). */
  for (i = 0; i < node->ntargets && !sc_mesh_is_joined(node); i++) {
    const sc_target *t = &node->targets[i];
    if (t->sid == 0 && !t->is_self && !node->closing) {
      d = SC_MIN(d, t->next_at);
    }
  }
  node->expiry = d;
}

static int start_session(sc_node *node, const sc_addr *addr,
                         const uint8_t *expected_id, uint64_t now,
                         sc_session **ps) {
  int rv;
  char a[SC_ADDR_STRLEN];
  if (node->nsessions >= node->settings.max_sessions) {
    return SC_ERR_LIMIT;
  }
  rv = table_reserve(node);
  if (rv == 0) {
    rv = sc_session_new_initiator(ps, node, addr, expected_id, new_sid(node),
                                  now);
  }
  if (rv != 0) {
    return rv;
  }
  table_insert(node, *ps);
  node->stats.handshakes_started++;
  sc_node_log(node, SC_LOG_DEBUG, "connecting to %s", sc_addr_format(addr, a));
  return 0;
}

/* ---- bootstrap targets ---------------------------------------------------
 */

static sc_session *find_by_addr(const sc_node *node, const sc_addr *addr) {
  size_t i;
  for (i = 0; i < node->nsessions; i++) {
    sc_session *s = node->sessions[i];
    if ((s->state == SC_SESSION_HANDSHAKE ||
         s->state == SC_SESSION_ESTABLISHED) &&
        sc_addr_eq(&s->addr, addr)) {
      return s;
    }
  }
  return NULL;
}

static void run_targets(sc_node *node, uint64_t now) {
  size_t i;
  /* §11.6: bootstrap peers rest while the node is joined to its groups. */
  if (sc_mesh_is_joined(node)) {
    return;
  }
  for (i = 0; i < node->ntargets && !node->closing; i++) {
    sc_target *t = &node->targets[i];
    sc_session *s;
    if (t->sid != 0 || t->is_self || t->next_at > now) {
      continue;
    }
    /* The peer may have connected to us first: that session serves. */
    s = find_by_addr(node, &t->addr);
    if (s != NULL || start_session(node, &t->addr, NULL, now, &s) == 0) {
      t->sid = s->local_sid;
    } else {
      t->next_at = now + t->backoff;
      t->backoff = SC_MIN(2 * t->backoff, TARGET_BACKOFF_MAX);
    }
  }
}

int sc_node_connect(sc_node *node, const sc_addr *addr, uint64_t now) {
  sc_target *t;
  size_t i;
  if (node->closing) {
    return SC_ERR_CLOSED;
  }
  if (addr->family != SC_AF_INET && addr->family != SC_AF_INET6) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < node->ntargets; i++) {
    if (sc_addr_eq(&node->targets[i].addr, addr)) {
      return 0;
    }
  }
  if (node->ntargets >= TARGETS_MAX) {
    return SC_ERR_LIMIT;
  }
  if (node->ntargets == node->targets_cap) {
    size_t cap = node->targets_cap ? 2 * node->targets_cap : 4;
    t = sc_mem_realloc(node->mem, node->targets, cap * sizeof(*t));
    if (t == NULL) {
      return SC_ERR_NOMEM;
    }
    node->targets = t;
    node->targets_cap = cap;
  }
  t = &node->targets[node->ntargets++];
  memset(t, 0, sizeof(*t));
  t->addr = *addr;
  t->next_at = now;
  t->backoff = TARGET_BACKOFF_MIN;
  run_targets(node, now);
  update_expiry(node);
  return 0;
}

/* ---- sessions reaching the node ------------------------------------------
 */

/* §9.2: two live sessions with one peer. A different incarnation means the
 * peer restarted and lost the old one: it goes at once. The same
 * incarnation means crossing handshakes: both peers keep the session with
 * the smaller handshake hash, which they agree on without talking. */
static void resolve_duplicates(sc_node *node, sc_session *s, uint64_t now) {
  size_t i;
  for (i = 0; i < node->nsessions; i++) {
    sc_session *o = node->sessions[i], *loser;
    if (o == s || !sc_session_is_usable(o) || !o->has_peer_id ||
        memcmp(o->peer_id, s->peer_id, SC_PEER_ID_LEN) != 0) {
      continue;
    }
    if (o->peer_incarnation != s->peer_incarnation) {
      loser = o;
      node->stats.sessions_replaced++;
    } else {
      loser = memcmp(o->hs_hash, s->hs_hash, SC_HS_HASH_PREFIX) < 0 ? s : o;
    }
    sc_session_close(loser, SC_CLOSE_REPLACED, now);
    if (loser == s) {
      return;
    }
  }
}

static void send_peers(sc_node *node, sc_session *s, uint64_t now) {
  sc_peer_entry e[SC_PEERS_MAX];
  uint8_t body[SC_MSG_MAX];
  size_t i, n = 0;
  sc_wr w;
  /* §6.4.1: a group member's peers are its groups' members, which only
   * proved members may learn (§11.2). */
  if (node->mesh.ngroups > 0) {
    return;
  }
  for (i = 0; i < node->nsessions && n < SC_PEERS_MAX; i++) {
    const sc_session *o = node->sessions[i];
    if (o == s || !sc_session_is_usable(o) || !o->has_peer_id ||
        memcmp(o->peer_id, s->peer_id, SC_PEER_ID_LEN) == 0) {
      continue;
    }
    memcpy(e[n].peer_id, o->peer_id, SC_PEER_ID_LEN);
    e[n].addr = o->addr;
    n++;
  }
  if (n == 0) {
    return;
  }
  sc_wr_init(&w, body, sizeof(body));
  if (sc_peers_write(&w, e, n) == 0) {
    sc_session_send_msg(s, SC_MSG_PEERS, body, w.len, now);
  }
}

void sc_node_on_established(sc_node *node, sc_session *s, uint64_t now) {
  char a[SC_ADDR_STRLEN], id[SC_PEER_ID_HEXLEN];
  sc_target *t;
  if (sodium_memcmp(s->peer_id, node->peer_id, SC_PEER_ID_LEN) == 0) {
    sc_node_log(node, SC_LOG_INFO, "%s is this node; not connecting to it",
                sc_addr_format(&s->addr, a));
    sc_session_close(s, SC_CLOSE_SELF, now);
    return;
  }
  t = target_of(node, s->local_sid);
  if (t != NULL) {
    t->backoff = TARGET_BACKOFF_MIN;
  }
  resolve_duplicates(node, s, now);
  if (!sc_session_is_usable(s)) {
    return;
  }
  sc_node_log(node, SC_LOG_DEBUG, "session %08x up with %.16s at %s",
              (unsigned)s->local_sid, sc_hex(id, s->peer_id, SC_PEER_ID_LEN),
              sc_addr_format(&s->addr, a));
  peer_event(node, s, SC_PEER_UP);
  send_peers(node, s, now);
  sc_mesh_on_up(node, s, now);
}

static int knows_peer(const sc_node *node, const sc_peer_entry *e) {
  size_t i;
  for (i = 0; i < node->nsessions; i++) {
    const sc_session *s = node->sessions[i];
    if (sc_session_is_dead(s)) {
      continue;
    }
    if ((s->has_peer_id &&
         memcmp(s->peer_id, e->peer_id, SC_PEER_ID_LEN) == 0) ||
        (s->has_expected_id &&
         memcmp(s->expected_id, e->peer_id, SC_PEER_ID_LEN) == 0) ||
        (s->initiator && sc_addr_eq(&s->addr, &e->addr))) {
      return 1;
    }
  }
  return 0;
}

static size_t live_sessions(const sc_node *node) {
  size_t i, n = 0;
  for (i = 0; i < node->nsessions; i++) {
    int st = node->sessions[i]->state;
    n += st == SC_SESSION_HANDSHAKE || st == SC_SESSION_ESTABLISHED;
  }
  return n;
}

static int addr_is_usable(const sc_addr *a) {
  static const uint8_t zero[16];
  return a->port != 0 &&
         memcmp(a->ip, zero, a->family == SC_AF_INET ? 4 : 16) != 0;
}

/* §6.4.1: connect to introduced peers while below the target. */
static void on_peers(sc_node *node, const uint8_t *body, size_t len,
                     uint64_t now) {
  sc_peer_entry e[SC_PEERS_MAX];
  sc_session *ns;
  size_t i, n;
  if (sc_peers_read(e, &n, body, len) != 0) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return;
  }
  /* A node in groups lets the mesh choose whom to connect to. */
  for (i = 0; i < n && !node->closing && node->mesh.ngroups == 0; i++) {
    if (live_sessions(node) >= node->settings.target_peers) {
      return;
    }
    if (memcmp(e[i].peer_id, node->peer_id, SC_PEER_ID_LEN) == 0 ||
        !addr_is_usable(&e[i].addr) || knows_peer(node, &e[i])) {
      continue;
    }
    start_session(node, &e[i].addr, e[i].peer_id, now, &ns);
  }
}

void sc_node_on_message(sc_node *node, sc_session *s, uint64_t kind,
                        const uint8_t *body, size_t len, uint64_t now) {
  switch (kind) {
  case SC_MSG_PEERS:
    on_peers(node, body, len, now);
    break;
  default:
    /* §6.4: unknown kinds are ignored */
    if (!sc_mcast_on_message(node, s, kind, body, len, now) &&
        !sc_post_on_message(node, s, kind, body, len, now) &&
        !sc_route_on_message(node, s, kind, body, len, now) &&
        !sc_repl_on_message(node, s, kind, body, len, now)) {
      sc_mesh_on_message(node, s, kind, body, len, now);
    }
    break;
  }
}

void sc_node_on_dgram(sc_node *node, sc_session *s, const uint8_t *body,
                      size_t len, uint64_t now) {
  sc_mcast_on_dgram(node, s, body, len, now);
}

/* ---- receiving -------------------------------------------------------------
 */

static void send_retry(sc_node *node, const sc_pkt *pkt, const sc_addr *from,
                       uint64_t now) {
  uint8_t cookie[SC_COOKIE_LEN];
  sc_wr w;
  sc_cookie_make(&node->cookies, from, now, cookie);
  sc_wr_init(&w, node->txbuf, sizeof(node->txbuf));
  if (sc_pkt_write_retry(&w, pkt->sender_sid, pkt->noise, cookie,
                         SC_COOKIE_LEN) != 0) {
    return;
  }
  /* §5.2: an unvalidated address never gets more than 3x what it sent. */
  if (w.len > 3 * pkt->len) {
    sc_node_drop(node, SC_DROP_AMPLIFICATION);
    return;
  }
  sc_node_send(node, from, node->txbuf, w.len);
  node->stats.retries_sent++;
}

static int same_ip(const sc_addr *a, const sc_addr *b) {
  sc_addr pa = *a, pb = *b;
  pa.port = pb.port = 0;
  return sc_addr_eq(&pa, &pb);
}

/* Finds the responder session an INIT from |from| with |remote_sid|
 * belongs to, in any state, and counts the handshakes in progress, in all
 * and from |from|'s IP. An initiator draws a fresh ID for every handshake,
 * so a match is a repeat of an INIT already answered. */
static sc_session *find_responder(const sc_node *node, const sc_addr *from,
                                  uint32_t remote_sid, uint32_t *half_open,
                                  uint32_t *half_open_ip) {
  sc_session *found = NULL;
  size_t i;
  *half_open = *half_open_ip = 0;
  for (i = 0; i < node->nsessions; i++) {
    sc_session *s = node->sessions[i];
    if (s->initiator || sc_session_is_dead(s)) {
      continue;
    }
    if (s->state == SC_SESSION_HANDSHAKE) {
      (*half_open)++;
      *half_open_ip += (uint32_t)same_ip(&s->addr, from);
    }
    if (s->remote_sid == remote_sid && sc_addr_eq(&s->addr, from)) {
      found = s;
    }
  }
  return found;
}

static int on_init(sc_node *node, const sc_pkt *pkt, const sc_addr *from,
                   uint64_t now) {
  sc_session *s;
  uint32_t half_open, half_open_ip;
  int rv;
  if (node->closing) {
    sc_node_drop(node, SC_DROP_CLOSED);
    return 0;
  }
  if (pkt->noise_len != SC_NOISE_DHLEN) {
    sc_node_drop(node, SC_DROP_MALFORMED);
    return 0;
  }
  /* §5.1: no state and no DH before the address proves itself. */
  if (pkt->cookie == NULL) {
    send_retry(node, pkt, from, now);
    return 0;
  }
  if (sc_cookie_verify(&node->cookies, from, now, pkt->cookie) != 0) {
    sc_node_drop(node, SC_DROP_COOKIE);
    send_retry(node, pkt, from, now);
    return 0;
  }
  s = find_responder(node, from, pkt->sender_sid, &half_open, &half_open_ip);
  if (s != NULL) {
    sc_session_on_init_again(s, from, now);
    return 0;
  }
  if (half_open >= node->settings.max_half_open ||
      half_open_ip >= HALF_OPEN_PER_IP ||
      node->nsessions >= node->settings.max_sessions) {
    sc_node_drop(node, SC_DROP_LIMIT);
    return 0;
  }
  rv = table_reserve(node);
  if (rv == 0) {
    rv = sc_session_new_responder(&s, node, from, pkt, new_sid(node), now);
  }
  if (rv != 0) {
    sc_node_drop(node, rv == SC_ERR_NOMEM ? SC_DROP_LIMIT : SC_DROP_AUTH);
    return rv == SC_ERR_NOMEM ? rv : 0;
  }
  table_insert(node, s);
  return 0;
}

static int drop_reason_of(int err, const uint8_t *data, size_t len) {
  switch (err) {
  case SC_ERR_BUFFER:
    return SC_DROP_TRUNCATED;
  case SC_ERR_VERSION:
    return SC_DROP_VERSION;
  default:
    /* An unknown type and a known type with bad fields read the same to
     * the decoder; tell them apart for the counters. */
    return len >= 2 && (data[1] < SC_PKT_INIT || data[1] > SC_PKT_DATA)
               ? SC_DROP_TYPE
               : SC_DROP_MALFORMED;
  }
}

static int dispatch(sc_node *node, const uint8_t *data, size_t len,
                    const sc_addr *from, uint64_t now) {
  sc_pkt pkt;
  sc_session *s;
  int rv = sc_pkt_decode(&pkt, data, len);
  if (rv != 0) {
    sc_node_drop(node, drop_reason_of(rv, data, len));
    return 0;
  }
  if (pkt.type == SC_PKT_INIT) {
    return on_init(node, &pkt, from, now);
  }
  s = table_find(node, pkt.receiver_sid);
  if (s == NULL || sc_session_is_dead(s)) {
    sc_node_drop(node, SC_DROP_UNKNOWN_SESSION);
    return 0;
  }
  switch (pkt.type) {
  case SC_PKT_RETRY:
    sc_session_on_retry(s, &pkt, from, now);
    break;
  case SC_PKT_RESPONSE:
    sc_session_on_response(s, &pkt, from, now);
    break;
  case SC_PKT_FINISH:
    sc_session_on_finish(s, &pkt, from, now);
    break;
  default:
    sc_session_on_data(s, &pkt, data, from, now);
    break;
  }
  return 0;
}

int sc_node_recv(sc_node *node, const uint8_t *data, size_t len,
                 const sc_addr *from, uint64_t now) {
  int rv = 0;
  node->stats.packets_received++;
  node->stats.bytes_received += len;
  if (len > SC_MAX_PACKET) {
    sc_node_drop(node, SC_DROP_OVERSIZED);
  } else {
    rv = dispatch(node, data, len, from, now);
  }
  sweep(node, now);
  update_expiry(node);
  return rv;
}

/* ---- timers and lifecycle --------------------------------------------------
 */

int sc_node_handle_expiry(sc_node *node, uint64_t now) {
  size_t i;
  if (now >= sc_cookie_next_rotation(&node->cookies)) {
    uint8_t key[SC_COOKIE_SECRET_LEN];
    sc_node_rand(node, key, sizeof(key));
    sc_cookie_rotate(&node->cookies, key, now);
    sodium_memzero(key, sizeof(key));
  }
  for (i = 0; i < node->nsessions; i++) {
    sc_session *s = node->sessions[i];
    if (sc_session_deadline(s) <= now) {
      sc_session_on_timer(s, now);
    }
  }
  run_targets(node, now);
  if (now >= sc_mcast_deadline(node)) {
    sc_mcast_on_timer(node, now);
  }
  if (now >= sc_mesh_deadline(node)) {
    sc_mesh_on_timer(node, now);
  }
  if (now >= sc_post_deadline(node)) {
    sc_post_on_timer(node, now);
  }
  if (now >= sc_repl_deadline(node)) {
    sc_repl_on_timer(node, now);
  }
  sweep(node, now);
  update_expiry(node);
  return 0;
}

uint64_t sc_node_get_expiry(const sc_node *node) { return node->expiry; }

int sc_node_close(sc_node *node, uint64_t now) {
  size_t i;
  node->closing = 1;
  for (i = 0; i < node->nsessions; i++) {
    sc_session_close(node->sessions[i], SC_CLOSE_LOCAL, now);
  }
  sweep(node, now);
  update_expiry(node);
  return 0;
}

void sc_node_set_log_level(sc_node *node, int level) {
  node->settings.log_level = level;
}

/* The limits sc_node_new and sc_node_set_limits accept. */
static int limits_valid(uint32_t max_sessions, uint32_t push_capacity) {
  return max_sessions >= 1 && push_capacity <= SC_PUSH_CAPACITY_MAX;
}

int sc_node_set_limits(sc_node *node, uint32_t max_sessions,
                       uint32_t push_capacity, uint64_t now) {
  uint32_t revoked;
  if (!limits_valid(max_sessions, push_capacity)) {
    return SC_ERR_INVALID_ARG;
  }
  /* Sessions over a lowered limit stay: start_session and on_init refuse
   * new ones until the count falls below it. */
  node->settings.max_sessions = max_sessions;
  node->settings.push_capacity = push_capacity;
  revoked = sc_mcast_limit_pushes(node, now);
  update_expiry(node); /* the REFUSEs wait in their sessions */
  return (int)revoked;
}

void sc_node_get_limits(const sc_node *node, uint32_t *max_sessions,
                        uint32_t *push_capacity) {
  *max_sessions = node->settings.max_sessions;
  *push_capacity = node->settings.push_capacity;
}

int sc_node_is_closed(const sc_node *node) {
  size_t i;
  if (!node->closing) {
    return 0;
  }
  for (i = 0; i < node->nsessions; i++) {
    if (node->sessions[i]->state != SC_SESSION_CLOSING &&
        !sc_session_is_dead(node->sessions[i])) {
      return 0;
    }
  }
  return 1;
}

static int settings_valid(const sc_settings *s) {
  return s->max_datagram >= 1200 && s->max_datagram <= SC_MAX_PACKET &&
         limits_valid(s->max_sessions, s->push_capacity) &&
         s->idle_timeout > 0 && s->keepalive_interval > 0 &&
         s->keepalive_interval < s->idle_timeout && s->handshake_timeout > 0 &&
         s->cookie_lifetime >= SC_SEC && s->cookie_lifetime <= COOKIE_PERIOD &&
         s->stream_window >= 100 * SC_MS && s->stream_window <= 600 * SC_SEC &&
         s->relay_margin <= 60 * SC_SEC && s->map_interval >= 10 * SC_MS &&
         s->map_interval <= 10 * SC_SEC && s->push_peers >= 1 &&
         s->push_peers <= 8 && s->manifest_interval >= 1 * SC_MS &&
         s->manifest_interval <= 10 * SC_SEC && s->gap_timeout >= 10 * SC_MS &&
         s->gap_timeout <= 60 * SC_SEC;
}

int sc_node_new(sc_node **pnode, const sc_settings *settings,
                const sc_callbacks *callbacks, const sc_mem *mem, void *user,
                uint64_t now) {
  uint8_t key[SC_COOKIE_SECRET_LEN], inc[8];
  sc_node *node;
  int rv;
  if (pnode == NULL || settings == NULL || callbacks == NULL ||
      callbacks->send == NULL || callbacks->rand == NULL ||
      !settings_valid(settings)) {
    return SC_ERR_INVALID_ARG;
  }
  if (sodium_init() < 0) {
    return SC_ERR_CRYPTO;
  }
  mem = mem != NULL ? mem : sc_mem_default();
  node = sc_mem_calloc(mem, 1, sizeof(*node));
  if (node == NULL) {
    return SC_ERR_NOMEM;
  }
  node->mem = mem;
  node->settings = *settings;
  node->cb = *callbacks;
  node->user = user;
  node->created_at = now;
  rv = sc_identity_from_secret(settings->static_secret, node->static_pub,
                               node->peer_id);
  if (rv != 0) {
    sc_node_del(node);
    return rv;
  }
  sc_node_rand(node, inc, sizeof(inc));
  node->incarnation = sc_get_u64(inc);
  sc_node_rand(node, key, sizeof(key));
  sc_cookie_init(&node->cookies, key, now, COOKIE_PERIOD,
                 settings->cookie_lifetime);
  sodium_memzero(key, sizeof(key));
  update_expiry(node);
  *pnode = node;
  return 0;
}

void sc_node_del(sc_node *node) {
  size_t i;
  if (node == NULL) {
    return;
  }
  for (i = 0; i < node->nsessions; i++) {
    sc_session_del(node->sessions[i]);
  }
  sc_mem_free(node->mem, node->sessions);
  sc_mem_free(node->mem, node->targets);
  sc_mcast_free(node);
  sc_mesh_free(node);
  sc_cookie_wipe(&node->cookies);
  sodium_memzero(&node->settings, sizeof(node->settings));
  sc_mem_free(node->mem, node);
}

const uint8_t *sc_node_peer_id(const sc_node *node) { return node->peer_id; }

/* ---- for the mesh ----------------------------------------------------------
 */

sc_session *sc_node_session(const sc_node *node, uint32_t sid) {
  return table_find(node, sid);
}

sc_session *sc_node_session_with(const sc_node *node, const uint8_t *peer_id) {
  size_t i;
  for (i = 0; i < node->nsessions; i++) {
    sc_session *s = node->sessions[i];
    if (s->state != SC_SESSION_HANDSHAKE &&
        s->state != SC_SESSION_ESTABLISHED) {
      continue;
    }
    if ((s->has_peer_id && memcmp(s->peer_id, peer_id, SC_PEER_ID_LEN) == 0) ||
        (s->has_expected_id &&
         memcmp(s->expected_id, peer_id, SC_PEER_ID_LEN) == 0)) {
      return s;
    }
  }
  return NULL;
}

int sc_node_connect_peer(sc_node *node, const sc_addr *addr,
                         const uint8_t *peer_id, uint64_t now, uint32_t *sid) {
  sc_session *s;
  int rv = start_session(node, addr, peer_id, now, &s);
  if (rv == 0 && sid != NULL) {
    *sid = s->local_sid;
  }
  return rv;
}

int sc_node_is_target(const sc_node *node, uint32_t sid) {
  size_t i;
  for (i = 0; i < node->ntargets; i++) {
    if (node->targets[i].sid == sid) {
      return 1;
    }
  }
  return 0;
}

void sc_node_refresh_expiry(sc_node *node) { update_expiry(node); }

void sc_node_get_stats(const sc_node *node, sc_node_stats *st) {
  *st = node->stats;
}

size_t sc_node_session_count(const sc_node *node) { return node->nsessions; }

size_t sc_node_sessions(const sc_node *node, sc_session_info *out, size_t cap) {
  size_t i;
  for (i = 0; i < node->nsessions && i < cap; i++) {
    sc_session_get_info(node->sessions[i], &out[i]);
  }
  return node->nsessions;
}

const char *sc_session_state_name(int state) {
  switch (state) {
  case SC_SESSION_HANDSHAKE:
    return "handshake";
  case SC_SESSION_ESTABLISHED:
    return "established";
  case SC_SESSION_CLOSING:
    return "closing";
  default:
    return "unknown";
  }
}
