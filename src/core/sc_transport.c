/*
 * sc_transport.c: the sealed DATA path of a session (doc/protocol.md §6,
 * §7). Loss detection and probe timeouts follow RFC 9002 §6; the
 * congestion controller is sc_cc.
 */
#include "sc_transport.h"

#include <sodium.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_mem.h"
#include "sc_node_int.h"

#define PACKET_THRESHOLD 3 /* RFC 9002 kPacketThreshold */
#define PATH_TRIES_MAX 5
#define CLOSE_SENDS_MAX 3
#define PTO_SHIFT_MAX 10
#define PTO_PROBES 2             /* RFC 9002 §6.2.4 allows two */
#define PTO_MAX (2 * SC_SEC)     /* a lossy path keeps probing this often */
#define NOMEM_RETRY (50 * SC_MS) /* retry a send that found no memory */

void sc_transport_init(sc_session *s, uint64_t now) {
  sc_replay_init(&s->rx);
  sc_rtt_init(&s->rtt, SC_RTT_INITIAL);
  sc_cc_init(&s->cc, s->node->settings.max_datagram, now);
  s->ack_deadline = UINT64_MAX;
  s->loss_time = UINT64_MAX;
  s->pace_at = UINT64_MAX;
  s->path_next = UINT64_MAX;
}

void sc_transport_free(sc_session *s) {
  const sc_mem *mem = s->node->mem;
  while (s->out_head != NULL) {
    sc_omsg *m = s->out_head;
    s->out_head = m->next;
    sc_mem_free(mem, m);
  }
  while (s->in_head != NULL) {
    sc_imsg *m = s->in_head;
    s->in_head = m->next;
    sc_mem_free(mem, m);
  }
  while (s->dg_head != NULL) {
    sc_odgram *d = s->dg_head;
    s->dg_head = d->next;
    sc_mem_free(mem, d);
  }
  s->dg_tail = NULL;
  s->dg_count = 0;
  sc_mem_free(mem, s->sent);
  s->sent = NULL;
  s->nsent = s->sent_cap = 0;
  s->out_tail = NULL;
  s->out_count = s->in_count = 0;
}

/* ---- datagrams (§6.3.5) --------------------------------------------------
 */

static size_t plain_cap(const sc_session *s) {
  return s->node->settings.max_datagram - SC_DATA_HEADER_LEN - SC_AEAD_TAG_LEN;
}

/* Room kept in every packet for a PING (send_one). */
#define PING_ROOM 2

size_t sc_dgram_body_max(size_t max_datagram) {
  size_t cap = max_datagram - SC_DATA_HEADER_LEN - SC_AEAD_TAG_LEN - PING_ROOM;
  size_t n = cap - 1;
  /* The largest body whose chunk header still fits. */
  while (n > 0 && n + sc_chunk_overhead(n) > cap) {
    n--;
  }
  return n;
}

size_t sc_session_dgram_max(const sc_session *s) {
  return sc_dgram_body_max(s->node->settings.max_datagram);
}

size_t sc_session_dgram_room(const sc_session *s) {
  return SC_DGRAM_QUEUE_MAX - s->dg_count;
}

int sc_session_send_dgram(sc_session *s, const uint8_t *body, size_t len,
                          unsigned flags, uint64_t now) {
  sc_odgram *d;
  if (len == 0 || len > sc_session_dgram_max(s)) {
    return SC_ERR_INVALID_ARG;
  }
  if (s->state != SC_SESSION_ESTABLISHED) {
    return SC_ERR_STATE;
  }
  if (s->dg_count >= SC_DGRAM_QUEUE_MAX) {
    return SC_ERR_BUSY;
  }
  d = sc_mem_malloc(s->node->mem, sizeof(*d) + len);
  if (d == NULL) {
    return SC_ERR_NOMEM;
  }
  d->next = NULL;
  d->queued_at = now;
  d->flags = flags;
  d->len = len;
  memcpy(d->body, body, len);
  if (s->dg_tail != NULL) {
    s->dg_tail->next = d;
  } else {
    s->dg_head = d;
  }
  s->dg_tail = d;
  s->dg_count++;
  sc_transport_flush(s, now);
  return 0;
}

void sc_session_ping(sc_session *s, uint64_t now) {
  s->ping_pending = 1;
  sc_transport_flush(s, now);
}

static void dgram_pop(sc_session *s) {
  sc_odgram *d = s->dg_head;
  s->dg_head = d->next;
  if (s->dg_head == NULL) {
    s->dg_tail = NULL;
  }
  s->dg_count--;
  sc_mem_free(s->node->mem, d);
}

/* Drops datagrams that waited too long: late stream data is useless, and
 * the sender's scheduler has moved on. */
static void dgrams_expire(sc_session *s, uint64_t now) {
  while (s->dg_head != NULL && now - s->dg_head->queued_at > SC_DGRAM_TTL) {
    dgram_pop(s);
    s->node->stats.dgrams_expired++;
  }
}

/* ---- reliable messages (§6.4) -------------------------------------------
 */

int sc_session_send_msg(sc_session *s, uint64_t kind, const uint8_t *body,
                        size_t len, uint64_t now) {
  sc_omsg *m;
  if (len > SC_MSG_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  if (s->state != SC_SESSION_ESTABLISHED) {
    return SC_ERR_STATE;
  }
  if (s->out_count >= SC_MSG_QUEUE_MAX) {
    return SC_ERR_BUSY;
  }
  m = sc_mem_malloc(s->node->mem, sizeof(*m) + len);
  if (m == NULL) {
    return SC_ERR_NOMEM;
  }
  memset(m, 0, sizeof(*m));
  m->queued_at = now;
  m->seq = s->next_out_seq++;
  m->kind = kind;
  m->len = len;
  if (len > 0) {
    memcpy(m->body, body, len);
  }
  if (s->out_tail != NULL) {
    s->out_tail->next = m;
  } else {
    s->out_head = m;
  }
  s->out_tail = m;
  s->out_count++;
  sc_transport_flush(s, now);
  return 0;
}

static void msgs_on_acked(sc_session *s, uint64_t pn) {
  sc_omsg **pp = &s->out_head, *prev = NULL;
  while (*pp != NULL) {
    sc_omsg *m = *pp;
    if (m->in_flight && m->last_pn == pn) {
      *pp = m->next;
      if (s->out_tail == m) {
        s->out_tail = prev;
      }
      s->out_count--;
      sc_mem_free(s->node->mem, m);
    } else {
      prev = m;
      pp = &m->next;
    }
  }
}

static void msgs_on_lost(sc_session *s, uint64_t pn) {
  sc_omsg *m;
  for (m = s->out_head; m != NULL; m = m->next) {
    if (m->in_flight && m->last_pn == pn) {
      m->in_flight = 0;
    }
  }
}

static sc_omsg *msgs_next_unsent(const sc_session *s) {
  sc_omsg *m;
  for (m = s->out_head; m != NULL; m = m->next) {
    if (!m->in_flight) {
      return m;
    }
  }
  return NULL;
}

static void deliver_msg(sc_session *s, uint64_t kind, const uint8_t *body,
                        size_t len, uint64_t now) {
  s->next_in_seq++;
  if (sc_session_is_usable(s)) {
    sc_node_on_message(s->node, s, kind, body, len, now);
  }
}

/* Holds a message that arrived early, keeping the list sorted by seq. */
static void hold_msg(sc_session *s, const sc_msg_view *v) {
  sc_imsg **pp = &s->in_head, *m;
  while (*pp != NULL && (*pp)->seq < v->seq) {
    pp = &(*pp)->next;
  }
  if ((*pp != NULL && (*pp)->seq == v->seq) ||
      s->in_count >= SC_MSG_REORDER_MAX) {
    return; /* a duplicate, or no room: the sender will resend */
  }
  m = sc_mem_malloc(s->node->mem, sizeof(*m) + v->len);
  if (m == NULL) {
    return;
  }
  m->seq = v->seq;
  m->kind = v->kind;
  m->len = v->len;
  if (v->len > 0) {
    memcpy(m->body, v->body, v->len);
  }
  m->next = *pp;
  *pp = m;
  s->in_count++;
}

static void on_msg(sc_session *s, const sc_msg_view *v, uint64_t now) {
  if (v->seq < s->next_in_seq) {
    return; /* already delivered; the ACK tells the sender */
  }
  if (v->seq - s->next_in_seq >= SC_MSG_REORDER_MAX) {
    return;
  }
  if (v->seq != s->next_in_seq) {
    hold_msg(s, v);
    return;
  }
  deliver_msg(s, v->kind, v->body, v->len, now);
  while (s->in_head != NULL && s->in_head->seq == s->next_in_seq) {
    sc_imsg *m = s->in_head;
    s->in_head = m->next;
    s->in_count--;
    deliver_msg(s, m->kind, m->body, m->len, now);
    sc_mem_free(s->node->mem, m);
  }
}

/* ---- loss detection (§7.2, RFC 9002 §6) ----------------------------------
 */

static void compact_sent(sc_session *s) {
  size_t i, j = 0;
  for (i = 0; i < s->nsent; i++) {
    if (!s->sent[i].done) {
      s->sent[j++] = s->sent[i];
    }
  }
  s->nsent = j;
}

static void on_packet_lost(sc_session *s, sc_sent *p, uint64_t now) {
  if (p->in_flight) {
    sc_cc_on_lost(&s->cc, p->size, p->time, now);
  }
  msgs_on_lost(s, p->pn);
  p->done = 1;
  s->packets_lost++;
  s->node->stats.packets_lost++;
}

static void detect_lost(sc_session *s, uint64_t now) {
  uint64_t delay = sc_rtt_loss_delay(&s->rtt);
  uint64_t lost_before = now > delay ? now - delay : 0;
  uint64_t first_lost = UINT64_MAX, last_lost = 0;
  int run = 1; /* no acked packet between the lost ones */
  size_t i;
  s->loss_time = UINT64_MAX;
  if (!s->has_largest_acked) {
    return;
  }
  for (i = 0; i < s->nsent; i++) {
    sc_sent *p = &s->sent[i];
    if (p->pn > s->largest_acked) {
      break;
    }
    if (p->done) {
      if (first_lost != UINT64_MAX) {
        run = 0;
      }
      continue;
    }
    if (s->largest_acked - p->pn >= PACKET_THRESHOLD ||
        p->time <= lost_before) {
      first_lost = SC_MIN(first_lost, p->time);
      last_lost = SC_MAX(last_lost, p->time);
      on_packet_lost(s, p, now);
    } else {
      s->loss_time = SC_MIN(s->loss_time, p->time + delay);
    }
  }
  /* RFC 9002 §7.6: losses spanning three PTOs with nothing acked between
   * them mean the path is gone or badly congested. */
  if (run && first_lost != UINT64_MAX && s->rtt.has_sample &&
      last_lost - first_lost > 3 * sc_rtt_pto(&s->rtt, SC_MAX_ACK_DELAY)) {
    sc_cc_on_persistent_congestion(&s->cc);
  }
  compact_sent(s);
}

static void on_ack(sc_session *s, const sc_ack *ack, uint64_t now) {
  uint64_t largest = ack->ranges[0].hi, sample_time = 0;
  uint64_t delay = SC_MIN(ack->delay_us, (uint64_t)UINT32_MAX) * 1000;
  size_t i, ri = ack->nranges;
  int newly = 0, has_sample = 0;
  if (largest >= s->next_pn) {
    return; /* acknowledges what we never sent: ignore the chunk */
  }
  /* Records ascend by packet number, ranges descend: walk both. */
  for (i = 0; i < s->nsent; i++) {
    sc_sent *p = &s->sent[i];
    while (ri > 0 && ack->ranges[ri - 1].hi < p->pn) {
      ri--;
    }
    if (ri == 0) {
      break;
    }
    if (p->done || ack->ranges[ri - 1].lo > p->pn) {
      continue;
    }
    p->done = 2; /* acked; processed below once the RTT is updated */
    newly = 1;
    if (p->pn == largest) {
      sample_time = p->time;
      has_sample = 1;
    }
  }
  if (!s->has_largest_acked || largest > s->largest_acked) {
    s->largest_acked = largest;
    s->has_largest_acked = 1;
  }
  if (!newly) {
    return;
  }
  /* RFC 9002 §5.1: only the largest acknowledged, newly acked, gives an
   * RTT sample. */
  if (has_sample) {
    sc_rtt_update(&s->rtt, now - sample_time, delay, SC_DGRAM_ACK_DELAY);
  }
  for (i = 0; i < s->nsent; i++) {
    sc_sent *p = &s->sent[i];
    if (p->done == 2) {
      if (p->in_flight) {
        sc_cc_on_acked(&s->cc, p->pn, p->size, p->time, &s->rtt, now);
      }
      msgs_on_acked(s, p->pn);
      p->done = 1;
    }
  }
  s->pto_count = 0;
  detect_lost(s, now);
}

/* ---- receiving (§6.2, §6.3) ----------------------------------------------
 */

static void on_path_response(sc_session *s, const uint8_t *data,
                             const sc_addr *from) {
  char a[SC_ADDR_STRLEN];
  if (!s->path_pending || !sc_addr_eq(from, &s->path_addr) ||
      sodium_memcmp(data, s->path_data, SC_PATH_DATA_LEN) != 0) {
    return;
  }
  /* §6.5: the peer answered from the new address, so it is there. The
   * controller keeps its state: most moves are NAT rebindings on the same
   * path. */
  s->addr = s->path_addr;
  s->path_pending = 0;
  s->path_next = UINT64_MAX;
  s->node->stats.path_migrations++;
  sc_node_log(s->node, SC_LOG_INFO, "session %08x moved to %s",
              (unsigned)s->local_sid, sc_addr_format(&s->addr, a));
}

#define ELICIT 1      /* the chunk must be acknowledged */
#define ELICIT_NOW 2  /* ... at once: the sender is probing */
#define ELICIT_LAZY 4 /* ... but only within SC_DGRAM_ACK_DELAY (§7.1) */

/* Processes one chunk. Returns a mix of ELICIT flags, or
 * SC_ERR_MALFORMED. */
static int on_chunk(sc_session *s, const sc_chunk *c, const sc_addr *from,
                    uint64_t now) {
  sc_ack ack;
  sc_msg_view v;
  switch (c->type) {
  case SC_CHUNK_PADDING:
    return 0;
  case SC_CHUNK_PING:
    /* §6.3.1: keepalives and loss probes want an answer, and an
     * undelayed ACK also gives the sender a clean RTT sample. */
    return ELICIT | ELICIT_NOW;
  case SC_CHUNK_ACK:
    if (sc_ack_decode(&ack, c->body, c->len) != 0) {
      return SC_ERR_MALFORMED;
    }
    on_ack(s, &ack, now);
    return 0;
  case SC_CHUNK_CLOSE:
    sc_session_close(s, SC_CLOSE_REMOTE, now);
    return 0;
  case SC_CHUNK_PATH_CHALLENGE:
    if (c->len != SC_PATH_DATA_LEN) {
      return SC_ERR_MALFORMED;
    }
    s->path_reply_pending = 1;
    s->path_reply_addr = *from;
    memcpy(s->path_reply_data, c->body, SC_PATH_DATA_LEN);
    return ELICIT;
  case SC_CHUNK_PATH_RESPONSE:
    if (c->len != SC_PATH_DATA_LEN) {
      return SC_ERR_MALFORMED;
    }
    on_path_response(s, c->body, from);
    return ELICIT;
  case SC_CHUNK_MSG:
    if (sc_msg_decode(&v, c->body, c->len) != 0) {
      return SC_ERR_MALFORMED;
    }
    on_msg(s, &v, now);
    return ELICIT;
  case SC_CHUNK_DGRAM:
  case SC_CHUNK_DGRAM_QUIET:
    if (c->len == 0) {
      return SC_ERR_MALFORMED;
    }
    sc_node_on_dgram(s->node, s, c->body, c->len, now);
    return c->type == SC_CHUNK_DGRAM ? ELICIT_LAZY : 0;
  default:
    return ELICIT; /* §6.3: unknown chunks are skipped, but acknowledged */
  }
}

static void note_new_path(sc_session *s, const sc_addr *from, size_t len,
                          uint64_t now) {
  if (!s->path_pending || !sc_addr_eq(from, &s->path_addr)) {
    s->path_pending = 1;
    s->path_addr = *from;
    sc_node_rand(s->node, s->path_data, SC_PATH_DATA_LEN);
    s->path_tries = 0;
    s->path_rx_bytes = 0;
    s->path_tx_bytes = 0;
    s->path_next = now;
  }
  s->path_rx_bytes += len;
  if (s->path_next == UINT64_MAX) {
    s->path_next = now; /* it was waiting for budget, which just grew */
  }
}

static void schedule_ack(sc_session *s, int elicit, int in_order,
                         uint64_t now) {
  uint64_t delay = SC_MAX_ACK_DELAY;
  unsigned every = 2;
  s->rx_unacked++;
  /* §7.1: acknowledge every second ack-eliciting packet, and at once when
   * packets arrive out of order or after a gap or carry a PING; otherwise
   * within the max ACK delay. Packets with nothing but datagrams are
   * acknowledged more lazily: they only feed the congestion controller. */
  if (elicit == ELICIT_LAZY) {
    delay = SC_DGRAM_ACK_DELAY;
    every = SC_DGRAM_ACK_EVERY;
  }
  if (s->rx_unacked >= every || !in_order || (elicit & ELICIT_NOW)) {
    s->ack_deadline = now;
  } else {
    s->ack_deadline = SC_MIN(s->ack_deadline, now + delay);
  }
}

void sc_session_on_data(sc_session *s, const sc_pkt *pkt, const uint8_t *head,
                        const sc_addr *from, uint64_t now) {
  uint8_t *plain = s->node->rxbuf;
  sc_ssize n;
  sc_rd r;
  sc_chunk c;
  int rv, eliciting = 0, in_order;
  size_t len = pkt->len;
  if (s->state != SC_SESSION_ESTABLISHED && s->state != SC_SESSION_CLOSING) {
    sc_node_drop(s->node, SC_DROP_STATE);
    return;
  }
  if (sc_replay_check(&s->rx, pkt->pn) != 0) {
    sc_node_drop(s->node, SC_DROP_REPLAY);
    return;
  }
  n = sc_noise_open(s->recv_key, pkt->pn, head, SC_DATA_HEADER_LEN, pkt->sealed,
                    pkt->sealed_len, plain);
  if (n < 0) {
    sc_node_drop(s->node, SC_DROP_AUTH);
    return;
  }
  in_order = pkt->pn == s->rx.top;
  if (pkt->pn >= s->rx.top) {
    s->rx_largest_time = now;
  }
  sc_replay_update(&s->rx, pkt->pn);
  s->confirmed = 1;
  s->hs_next = UINT64_MAX; /* the handshake is over for both sides */
  s->last_recv = now;
  s->bytes_received += len;
  s->packets_received++;
  if (s->state == SC_SESSION_CLOSING) {
    /* §8: answer a peer that has not heard our CLOSE yet, a few times. */
    if (s->close_reason != SC_CLOSE_REMOTE &&
        s->close_sends < CLOSE_SENDS_MAX) {
      s->close_pending = 1;
      sc_transport_flush(s, now);
    }
    return;
  }
  if (!sc_addr_eq(from, &s->addr)) {
    note_new_path(s, from, len, now);
  }
  sc_rd_init(&r, plain, (size_t)n);
  while ((rv = sc_chunk_next(&r, &c)) == 1 &&
         s->state == SC_SESSION_ESTABLISHED) {
    rv = on_chunk(s, &c, from, now);
    if (rv < 0) {
      break;
    }
    eliciting |= rv;
  }
  if (rv < 0) {
    sc_node_drop(s->node, SC_DROP_MALFORMED);
  }
  if (eliciting && s->state == SC_SESSION_ESTABLISHED) {
    schedule_ack(s, eliciting, in_order, now);
  }
  sc_transport_flush(s, now);
}

/* ---- sending (§6.1, §7) --------------------------------------------------
 */

/* Seals the |plain_len| bytes that follow the header in the node's txbuf
 * and sends the packet to |to|. Returns its size, or 0 if the packet
 * number space is used up (the session closes). */
static size_t seal_and_send(sc_session *s, const sc_addr *to, size_t plain_len,
                            uint64_t now) {
  uint8_t *buf = s->node->txbuf;
  uint64_t pn = s->next_pn;
  sc_wr w;
  sc_ssize n;
  if (pn >= (uint64_t)1 << 62) {
    sc_session_close(s, SC_CLOSE_PROTOCOL, now);
    return 0;
  }
  sc_wr_init(&w, buf, SC_DATA_HEADER_LEN);
  sc_pkt_write_data_header(&w, s->remote_sid, pn);
  n = sc_noise_seal(s->send_key, pn, buf, SC_DATA_HEADER_LEN,
                    buf + SC_DATA_HEADER_LEN, plain_len,
                    buf + SC_DATA_HEADER_LEN);
  if (n < 0) {
    return 0;
  }
  s->next_pn++;
  sc_node_send(s->node, to, buf, SC_DATA_HEADER_LEN + (size_t)n);
  s->bytes_sent += SC_DATA_HEADER_LEN + (size_t)n;
  s->packets_sent++;
  s->last_send = now;
  return SC_DATA_HEADER_LEN + (size_t)n;
}

/* Sends a packet holding one chunk, outside loss recovery: CLOSE and the
 * path chunks have their own retry rules. */
static size_t send_single(sc_session *s, const sc_addr *to, uint8_t type,
                          const uint8_t *body, size_t len, uint64_t now) {
  sc_wr w;
  sc_wr_init(&w, s->node->txbuf + SC_DATA_HEADER_LEN, plain_cap(s));
  if (sc_chunk_write(&w, type, body, len) != 0) {
    return 0;
  }
  return seal_and_send(s, to, w.len, now);
}

static void send_close(sc_session *s, uint64_t now) {
  uint8_t body[8];
  sc_wr w;
  sc_wr_init(&w, body, sizeof(body));
  sc_wr_varint(&w, (uint64_t)s->close_reason);
  s->close_pending = 0;
  s->close_sends++;
  send_single(s, &s->addr, SC_CHUNK_CLOSE, body, w.len, now);
}

static void send_path_chunks(sc_session *s, uint64_t now) {
  size_t need = SC_DATA_HEADER_LEN + 2 + SC_PATH_DATA_LEN + SC_AEAD_TAG_LEN;
  if (s->path_reply_pending) {
    s->path_reply_pending = 0;
    send_single(s, &s->path_reply_addr, SC_CHUNK_PATH_RESPONSE,
                s->path_reply_data, SC_PATH_DATA_LEN, now);
  }
  if (!s->path_pending || s->path_next > now) {
    return;
  }
  if (s->path_tries >= PATH_TRIES_MAX) {
    s->path_pending = 0; /* the new address never answered: stay put */
    s->path_next = UINT64_MAX;
    return;
  }
  /* §6.5: an unvalidated address gets at most 3x what came from it. */
  if (s->path_tx_bytes + need > 3 * s->path_rx_bytes) {
    s->path_next = UINT64_MAX; /* wait for more from that address */
    return;
  }
  s->path_tx_bytes += send_single(s, &s->path_addr, SC_CHUNK_PATH_CHALLENGE,
                                  s->path_data, SC_PATH_DATA_LEN, now);
  s->path_tries++;
  s->path_next = now + (sc_rtt_pto(&s->rtt, SC_MAX_ACK_DELAY)
                        << SC_MIN(s->path_tries, PTO_SHIFT_MAX));
}

static int has_eliciting_work(const sc_session *s) {
  return s->ping_pending || s->probes > 0 || msgs_next_unsent(s) != NULL ||
         s->dg_head != NULL;
}

static int write_ack(sc_session *s, sc_wr *w, uint64_t now) {
  sc_pn_range ranges[SC_ACK_MAX_RANGES];
  size_t n = sc_replay_ranges(&s->rx, 0, ranges, SC_ACK_MAX_RANGES);
  if (n == 0 ||
      sc_ack_write(w, ranges, n, (now - s->rx_largest_time) / 1000) != 0) {
    return 0;
  }
  s->rx_unacked = 0;
  s->ack_deadline = UINT64_MAX;
  return 1;
}

/* Decides whether an ack-eliciting packet may leave now. */
static int may_elicit(sc_session *s, uint64_t now) {
  size_t size = s->node->settings.max_datagram;
  uint64_t t;
  if (!has_eliciting_work(s)) {
    return 0;
  }
  if (s->probes > 0) {
    return 1; /* RFC 9002 §7.5: probes ignore the window */
  }
  if (!sc_cc_can_send(&s->cc, size)) {
    return 0;
  }
  t = sc_cc_next_send_time(&s->cc, &s->rtt, size, now);
  if (t > now) {
    s->pace_at = t;
    return 0;
  }
  return 1;
}

static int reserve_sent(sc_session *s) {
  size_t cap;
  sc_sent *p;
  if (s->nsent < s->sent_cap) {
    return 0;
  }
  cap = s->sent_cap ? 2 * s->sent_cap : 8;
  p = sc_mem_realloc(s->node->mem, s->sent, cap * sizeof(*p));
  if (p == NULL) {
    return SC_ERR_NOMEM;
  }
  s->sent = p;
  s->sent_cap = cap;
  return 0;
}

/* Writes the messages and datagrams that fit; |*stream| learns whether
 * the packet carries stream data. Returns 1 if any of them elicits an ACK
 * (quiet datagrams do not). */
static int write_eliciting(sc_session *s, sc_wr *w, int *stream) {
  sc_omsg *m;
  int wrote = 0;
  while ((m = msgs_next_unsent(s)) != NULL &&
         sc_msg_chunk_len(m->seq, m->kind, m->len) <= sc_wr_left(w)) {
    sc_msg_write(w, m->seq, m->kind, m->body, m->len);
    m->in_flight = 1;
    m->last_pn = s->next_pn;
    if (m->sends++ > 0) {
      s->node->stats.packets_retransmitted++;
    }
    wrote = 1;
  }
  /* Datagrams after the messages: control first. */
  while (s->dg_head != NULL &&
         sc_chunk_overhead(s->dg_head->len) + s->dg_head->len <=
             sc_wr_left(w)) {
    int quiet = (s->dg_head->flags & SC_DGRAM_QUIET) != 0;
    sc_chunk_write(w, quiet ? SC_CHUNK_DGRAM_QUIET : SC_CHUNK_DGRAM,
                   s->dg_head->body, s->dg_head->len);
    *stream |= (s->dg_head->flags & SC_DGRAM_STREAM) != 0;
    dgram_pop(s);
    wrote |= !quiet;
  }
  /* A message that did not fit beside the ACK goes in the next packet. A
   * probe always carries a PING so that each one is acknowledged at once:
   * on a lossy path every probe is another chance to hear back. */
  if (((!wrote && s->ping_pending) || s->probes > 0) &&
      sc_chunk_write(w, SC_CHUNK_PING, NULL, 0) == 0) {
    wrote = 1;
  }
  return wrote;
}

/* Builds and sends one packet. Returns 1 if one was sent. */
static int send_one(sc_session *s, uint64_t now) {
  int elicit = may_elicit(s, now), eliciting = 0, stream = 0;
  uint64_t pn = s->next_pn;
  size_t size;
  sc_wr w;
  if (!elicit && !(s->rx_unacked > 0 && s->ack_deadline <= now)) {
    return 0;
  }
  if (elicit && reserve_sent(s) != 0) {
    /* It could not be tracked: send only what needs no tracking, and try
     * again a little later. */
    elicit = 0;
    s->pace_at = now + NOMEM_RETRY;
  }
  sc_wr_init(&w, s->node->txbuf + SC_DATA_HEADER_LEN, plain_cap(s));
  if (s->rx_unacked > 0) {
    write_ack(s, &w, now);
  }
  if (elicit) {
    eliciting = write_eliciting(s, &w, &stream);
  }
  /* §7.1: datagrams are acknowledged lazily, which would stall a sender
   * whose window this packet fills while more wait: ask for an ACK now. */
  if (eliciting && s->dg_head != NULL &&
      s->cc.bytes_in_flight + SC_DATA_HEADER_LEN + w.len + SC_AEAD_TAG_LEN +
              s->node->settings.max_datagram >
          s->cc.cwnd) {
    (void)sc_chunk_write(&w, SC_CHUNK_PING, NULL, 0);
  }
  if (w.len == 0) {
    return 0;
  }
  size = seal_and_send(s, &s->addr, w.len, now);
  if (size != 0 && stream) {
    s->node->stats.stream_packets_sent++;
    s->node->stats.stream_bytes_sent += size;
  }
  if (size == 0 || !eliciting) {
    return size != 0;
  }
  s->ping_pending = 0; /* any ack-eliciting packet does a PING's job */
  if (s->probes > 0) {
    s->probes--;
  }
  s->sent[s->nsent].pn = pn;
  s->sent[s->nsent].time = now;
  s->sent[s->nsent].size = (uint32_t)size;
  s->sent[s->nsent].in_flight = 1;
  s->sent[s->nsent].done = 0;
  s->nsent++;
  s->last_eliciting_sent = now;
  sc_cc_on_sent(&s->cc, pn, size, now);
  return 1;
}

void sc_transport_flush(sc_session *s, uint64_t now) {
  int i;
  if (s->state == SC_SESSION_CLOSING) {
    if (s->close_pending) {
      send_close(s, now);
    }
    return;
  }
  if (s->state != SC_SESSION_ESTABLISHED || !s->confirmed) {
    return;
  }
  send_path_chunks(s, now);
  dgrams_expire(s, now);
  s->pace_at = UINT64_MAX;
  /* Bound the work of one call; the rest goes out on the next expiry. */
  for (i = 0; i < 64; i++) {
    if (!send_one(s, now) || s->state != SC_SESSION_ESTABLISHED) {
      return;
    }
  }
  s->pace_at = now;
}

/* ---- timers ----------------------------------------------------------------
 */

static uint64_t pto_deadline(const sc_session *s) {
  uint64_t pto;
  if (s->nsent == 0) {
    return UINT64_MAX;
  }
  /* The peer may hold an ACK of datagrams that long. */
  pto = sc_rtt_pto(&s->rtt, SC_DGRAM_ACK_DELAY);
  /* Back off exponentially, but no further than PTO_MAX (or one plain PTO
   * if the path is slower than that). */
  pto =
      SC_MIN(pto << SC_MIN(s->pto_count, PTO_SHIFT_MAX), SC_MAX(pto, PTO_MAX));
  return s->last_eliciting_sent + pto;
}

static void on_pto(sc_session *s, uint64_t now) {
  sc_omsg *m;
  s->pto_count++;
  s->probes = PTO_PROBES;
  /* The next timeout counts from this one, even if no probe can leave. */
  s->last_eliciting_sent = now;
  /* The probe carries the oldest unacknowledged message when there is
   * one, so that the probe itself repairs the loss. */
  for (m = s->out_head; m != NULL; m = m->next) {
    if (m->in_flight) {
      m->in_flight = 0;
      return;
    }
  }
  s->ping_pending = 1;
}

void sc_transport_on_timer(sc_session *s, uint64_t now) {
  const sc_settings *st = &s->node->settings;
  if (now - s->last_recv >= st->idle_timeout) {
    s->node->stats.sessions_timed_out++;
    sc_session_close(s, SC_CLOSE_IDLE, now);
    return;
  }
  if (!s->confirmed) {
    return;
  }
  if (s->loss_time <= now) {
    detect_lost(s, now);
  } else if (pto_deadline(s) <= now) {
    on_pto(s, now);
  }
  if (now - s->last_send >= st->keepalive_interval) {
    s->ping_pending = 1;
  }
  sc_transport_flush(s, now);
}

uint64_t sc_transport_deadline(const sc_session *s) {
  const sc_settings *st = &s->node->settings;
  uint64_t d = s->last_recv + st->idle_timeout;
  if (!s->confirmed) {
    return d;
  }
  if (s->rx_unacked > 0) {
    d = SC_MIN(d, s->ack_deadline);
  }
  d = SC_MIN(d, s->loss_time != UINT64_MAX ? s->loss_time : pto_deadline(s));
  if (!s->ping_pending) {
    /* A pending PING is waiting for the window, the pacer or memory, each
     * with its own wake-up; the keepalive timer has done its part. */
    d = SC_MIN(d, s->last_send + st->keepalive_interval);
  }
  d = SC_MIN(d, s->pace_at);
  if (s->path_pending) {
    d = SC_MIN(d, s->path_next);
  }
  return d;
}
