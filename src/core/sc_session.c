/*
 * sc_session.c: a session's life: creation, the Noise XX handshake with
 * its cookie exchange and retransmissions, closing, timers and
 * introspection (doc/protocol.md §4, §8). The sealed DATA path lives in
 * sc_transport.c.
 */
#include "sc_session.h"

#include <sodium.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_mem.h"
#include "sc_node_int.h"
#include "sc_transport.h"

#define NOISE_PROTOCOL "Noise_XX_25519_ChaChaPoly_BLAKE2b"
/* §4.1: the prologue binds the protocol version into the handshake hash,
 * so two versions can never complete a handshake with each other. */
static const uint8_t prologue[] = {'s', 't', 'r', 'a', 't', 'o',
                                   'c', 'a', 's', 't', '/', '1'};

static sc_session *session_alloc(sc_node *node, const sc_addr *addr,
                                 uint32_t sid, uint64_t now) {
  sc_session *s = sc_mem_calloc(node->mem, 1, sizeof(*s));
  if (s == NULL) {
    return NULL;
  }
  s->node = node;
  s->local_sid = sid;
  s->addr = *addr;
  s->state = SC_SESSION_HANDSHAKE;
  s->created_at = now;
  s->last_recv = now;
  s->last_send = now;
  s->hs_started = now;
  s->hs_rto = SC_HS_RTO_INITIAL;
  s->hs_next = UINT64_MAX;
  s->drain_until = UINT64_MAX;
  sc_transport_init(s, now);
  return s;
}

static int hs_setup(sc_session *s, int initiator) {
  uint8_t e[SC_NOISE_DHLEN];
  sc_noise_config cfg;
  int rv;
  s->hs = sc_mem_calloc(s->node->mem, 1, sizeof(*s->hs));
  if (s->hs == NULL) {
    return SC_ERR_NOMEM;
  }
  memset(&cfg, 0, sizeof(cfg));
  sc_node_rand(s->node, e, sizeof(e));
  cfg.protocol_name = NOISE_PROTOCOL;
  cfg.initiator = initiator;
  cfg.prologue = prologue;
  cfg.prologue_len = sizeof(prologue);
  cfg.s = s->node->settings.static_secret;
  cfg.e = e;
  rv = sc_noise_hs_init(s->hs, &cfg);
  sodium_memzero(e, sizeof(e));
  return rv;
}

static void hs_free(sc_session *s) {
  if (s->hs != NULL) {
    sc_noise_hs_wipe(s->hs);
    sc_mem_free(s->node->mem, s->hs);
    s->hs = NULL;
  }
}

void sc_session_del(sc_session *s) {
  if (s == NULL) {
    return;
  }
  hs_free(s);
  sc_transport_free(s);
  sodium_memzero(s->send_key, sizeof(s->send_key));
  sodium_memzero(s->recv_key, sizeof(s->recv_key));
  sc_mem_free(s->node->mem, s);
}

static void send_hs_pkt(sc_session *s, uint64_t now) {
  s->hs_sent_at = now;
  sc_node_send(s->node, &s->addr, s->hs_pkt, s->hs_pkt_len);
  s->bytes_sent += s->hs_pkt_len;
  s->packets_sent++;
  s->last_send = now;
}

/* INIT carries Noise message 1 of XX: the initiator's ephemeral key with an
 * empty payload, so the message is e_pub itself (§4.2). */
static int build_init(sc_session *s) {
  sc_wr w;
  int rv;
  sc_wr_init(&w, s->hs_pkt, sizeof(s->hs_pkt));
  rv = sc_pkt_write_init(&w, s->local_sid, s->has_cookie ? s->cookie : NULL,
                         s->has_cookie ? SC_COOKIE_LEN : 0, s->hs->e_pub,
                         SC_NOISE_DHLEN);
  s->hs_pkt_len = w.len;
  return rv;
}

/* Ends a constructor: on success sends the session's first handshake
 * packet and hands the session over, on failure frees it. */
static int launch(sc_session *s, int rv, uint64_t now, sc_session **ps) {
  if (rv != 0) {
    sc_session_del(s);
    return rv;
  }
  send_hs_pkt(s, now);
  s->hs_next = now + s->hs_rto;
  *ps = s;
  return 0;
}

int sc_session_new_initiator(sc_session **ps, sc_node *node,
                             const sc_addr *addr, const uint8_t *expected_id,
                             uint32_t sid, uint64_t now) {
  int rv;
  sc_session *s = session_alloc(node, addr, sid, now);
  if (s == NULL) {
    return SC_ERR_NOMEM;
  }
  s->initiator = 1;
  if (expected_id != NULL) {
    s->has_expected_id = 1;
    memcpy(s->expected_id, expected_id, SC_PEER_ID_LEN);
  }
  rv = hs_setup(s, 1);
  if (rv == 0) {
    uint8_t msg[SC_NOISE_DHLEN];
    sc_ssize n = sc_noise_hs_write(s->hs, NULL, 0, msg, sizeof(msg));
    rv = n < 0 ? (int)n : build_init(s);
  }
  return launch(s, rv, now, ps);
}

static sc_ssize write_hs_payload(sc_session *s, const sc_addr *observed,
                                 uint8_t *out, size_t cap) {
  sc_hs_payload p;
  sc_wr w;
  int rv;
  memset(&p, 0, sizeof(p));
  p.incarnation = s->node->incarnation;
  p.has_observed = 1;
  p.observed = *observed;
  sc_wr_init(&w, out, cap);
  rv = sc_hs_payload_write(&w, &p);
  return rv != 0 ? rv : (sc_ssize)w.len;
}

int sc_session_new_responder(sc_session **ps, sc_node *node,
                             const sc_addr *from, const sc_pkt *pkt,
                             uint32_t sid, uint64_t now) {
  int rv;
  sc_session *s;
  /* §4.2: message 1 is exactly one public key with an empty payload. */
  if (pkt->noise_len != SC_NOISE_DHLEN) {
    return SC_ERR_MALFORMED;
  }
  s = session_alloc(node, from, sid, now);
  if (s == NULL) {
    return SC_ERR_NOMEM;
  }
  s->remote_sid = pkt->sender_sid;
  s->bytes_received = pkt->len;
  s->packets_received = 1;
  rv = hs_setup(s, 0);
  if (rv == 0) {
    uint8_t payload[SC_HS_PAYLOAD_MAX], msg[SC_HS_PKT_MAX];
    sc_wr w;
    sc_ssize n = sc_noise_hs_read(s->hs, pkt->noise, pkt->noise_len, payload,
                                  sizeof(payload));
    sc_ssize plen =
        n < 0 ? n : write_hs_payload(s, from, payload, sizeof(payload));
    n = plen < 0
            ? plen
            : sc_noise_hs_write(s->hs, payload, (size_t)plen, msg, sizeof(msg));
    sc_wr_init(&w, s->hs_pkt, sizeof(s->hs_pkt));
    rv = n < 0 ? (int)n
               : sc_pkt_write_response(&w, s->remote_sid, s->local_sid, msg,
                                       (size_t)n);
    s->hs_pkt_len = w.len;
  }
  return launch(s, rv, now, ps);
}

void sc_session_on_init_again(sc_session *s, const sc_addr *from,
                              uint64_t now) {
  /* Our RESPONSE was lost and the initiator repeated its INIT: resend it,
   * one for one, to the address the cookie validated. */
  if (s->initiator || s->state != SC_SESSION_HANDSHAKE ||
      !sc_addr_eq(from, &s->addr)) {
    sc_node_drop(s->node, SC_DROP_STATE);
    return;
  }
  s->hs_resent = 1;
  send_hs_pkt(s, now);
}

void sc_session_on_retry(sc_session *s, const sc_pkt *pkt, const sc_addr *from,
                         uint64_t now) {
  if (!s->initiator || s->state != SC_SESSION_HANDSHAKE ||
      !sc_addr_eq(from, &s->addr)) {
    sc_node_drop(s->node, SC_DROP_STATE);
    return;
  }
  /* §5: the echo proves the RETRY came from someone who saw our INIT. */
  if (sodium_memcmp(pkt->echo, s->hs->e_pub, SC_ECHO_LEN) != 0) {
    sc_node_drop(s->node, SC_DROP_AUTH);
    return;
  }
  if (s->retries_taken >= SC_RETRY_MAX) {
    sc_node_drop(s->node, SC_DROP_LIMIT);
    return;
  }
  s->retries_taken++;
  memcpy(s->cookie, pkt->cookie, SC_COOKIE_LEN);
  s->has_cookie = 1;
  if (build_init(s) != 0) {
    return;
  }
  s->hs_resent = 0; /* a new message: its answer times this send */
  send_hs_pkt(s, now);
  s->hs_next = now + s->hs_rto;
}

/* Reads a handshake message into a copy of the state, so that a forged
 * packet cannot spoil the real handshake (§4.4). On success the copy
 * replaces the state and the peer's identity and payload are taken. */
static int hs_read(sc_session *s, const sc_pkt *pkt, sc_hs_payload *hp) {
  sc_noise_hs tmp = *s->hs;
  uint8_t payload[SC_HS_PKT_MAX];
  uint8_t pub[SC_KEY_LEN];
  sc_ssize n = sc_noise_hs_read(&tmp, pkt->noise, pkt->noise_len, payload,
                                sizeof(payload));
  if (n < 0) {
    sc_noise_hs_wipe(&tmp);
    sc_node_drop(s->node, SC_DROP_AUTH);
    return SC_ERR_CRYPTO;
  }
  *s->hs = tmp;
  sc_noise_hs_wipe(&tmp);
  if (sc_hs_payload_read(hp, payload, (size_t)n) != 0) {
    /* Authenticated by the peer's static key, yet unreadable: a broken
     * peer, not a forgery, so the handshake ends here. */
    sc_node_drop(s->node, SC_DROP_MALFORMED);
    s->close_reason = SC_CLOSE_PROTOCOL;
    s->state = 0;
    return SC_ERR_MALFORMED;
  }
  memcpy(pub, sc_noise_hs_remote_static(s->hs), SC_KEY_LEN);
  crypto_generichash(s->peer_id, SC_PEER_ID_LEN, pub, SC_KEY_LEN, NULL, 0);
  s->has_peer_id = 1;
  s->peer_incarnation = hp->incarnation;
  return 0;
}

/* The answer to a handshake message sent once times the round trip
 * (Karn: a resent message gives no sample). */
static void hs_rtt_sample(sc_session *s, uint64_t now) {
  if (!s->hs_resent) {
    sc_rtt_update(&s->rtt, now - s->hs_sent_at, 0, 0);
  }
}

/* Counts a handshake packet that was accepted. */
static void hs_received(sc_session *s, size_t len) {
  s->bytes_received += len;
  s->packets_received++;
}

static void hs_complete(sc_session *s, uint64_t now) {
  sc_noise_cipher c1, c2;
  sc_noise_hs_split(s->hs, &c1, &c2);
  memcpy(s->send_key, s->initiator ? c1.k : c2.k, SC_NOISE_KEYLEN);
  memcpy(s->recv_key, s->initiator ? c2.k : c1.k, SC_NOISE_KEYLEN);
  sodium_memzero(&c1, sizeof(c1));
  sodium_memzero(&c2, sizeof(c2));
  memcpy(s->hs_hash, sc_noise_hs_hash(s->hs), SC_HS_HASH_PREFIX);
  hs_free(s);
  s->state = SC_SESSION_ESTABLISHED;
  s->established_at = now;
  s->last_recv = now;
  s->node->stats.handshakes_completed++;
  sc_node_on_established(s->node, s, now);
}

void sc_session_on_response(sc_session *s, const sc_pkt *pkt,
                            const sc_addr *from, uint64_t now) {
  uint8_t payload[SC_HS_PAYLOAD_MAX], msg[SC_HS_PKT_MAX];
  sc_hs_payload hp;
  sc_ssize n;
  sc_wr w;
  if (s->initiator && s->state == SC_SESSION_ESTABLISHED && !s->confirmed &&
      pkt->sender_sid == s->remote_sid && sc_addr_eq(from, &s->addr)) {
    send_hs_pkt(s, now); /* our FINISH was lost: send it again */
    return;
  }
  if (!s->initiator || s->state != SC_SESSION_HANDSHAKE ||
      !sc_addr_eq(from, &s->addr)) {
    sc_node_drop(s->node, SC_DROP_STATE);
    return;
  }
  if (hs_read(s, pkt, &hp) != 0) {
    return;
  }
  hs_rtt_sample(s, now);
  hs_received(s, pkt->len);
  s->remote_sid = pkt->sender_sid;
  n = write_hs_payload(s, &s->addr, payload, sizeof(payload));
  if (n >= 0) {
    n = sc_noise_hs_write(s->hs, payload, (size_t)n, msg, sizeof(msg));
  }
  sc_wr_init(&w, s->hs_pkt, sizeof(s->hs_pkt));
  if (n < 0 || sc_pkt_write_finish(&w, s->remote_sid, msg, (size_t)n) != 0) {
    sc_session_close(s, SC_CLOSE_PROTOCOL, now);
    return;
  }
  s->hs_pkt_len = w.len;
  s->hs_resent = 0;
  send_hs_pkt(s, now);
  s->hs_next = now + s->hs_rto; /* FINISH resends until confirmed */
  hs_complete(s, now);
}

void sc_session_on_finish(sc_session *s, const sc_pkt *pkt, const sc_addr *from,
                          uint64_t now) {
  sc_hs_payload hp;
  if (!s->initiator && s->state == SC_SESSION_ESTABLISHED &&
      sc_addr_eq(from, &s->addr)) {
    /* The initiator did not hear from us yet: prompt it again. */
    s->ping_pending = 1;
    sc_session_flush(s, now);
    return;
  }
  if (s->initiator || s->state != SC_SESSION_HANDSHAKE ||
      !sc_addr_eq(from, &s->addr)) {
    sc_node_drop(s->node, SC_DROP_STATE);
    return;
  }
  if (hs_read(s, pkt, &hp) != 0 || !sc_noise_hs_is_done(s->hs)) {
    return;
  }
  hs_rtt_sample(s, now);
  hs_received(s, pkt->len);
  s->confirmed = 1;
  s->hs_next = UINT64_MAX;
  /* §4.4: the first sealed packet tells the initiator we have the keys. */
  s->ping_pending = 1;
  hs_complete(s, now);
  sc_session_flush(s, now);
}

static int in_handshake(const sc_session *s) {
  return s->state == SC_SESSION_HANDSHAKE ||
         (s->state == SC_SESSION_ESTABLISHED && !s->confirmed);
}

static void hs_on_timer(sc_session *s, uint64_t now) {
  if (now - s->hs_started >= s->node->settings.handshake_timeout) {
    sc_session_close(s, SC_CLOSE_HANDSHAKE, now);
    return;
  }
  if (now >= s->hs_next) {
    s->hs_resent = 1;
    send_hs_pkt(s, now);
    s->hs_rto = SC_MIN(2 * s->hs_rto, SC_HS_RTO_MAX);
    s->hs_next = now + s->hs_rto;
  }
}

void sc_session_on_timer(sc_session *s, uint64_t now) {
  if (s->state == 0) {
    return;
  }
  if (s->state == SC_SESSION_CLOSING) {
    if (now >= s->drain_until) {
      s->state = 0;
    }
    return;
  }
  if (in_handshake(s)) {
    hs_on_timer(s, now);
    if (s->state != SC_SESSION_ESTABLISHED) {
      return;
    }
  }
  sc_transport_on_timer(s, now);
}

uint64_t sc_session_deadline(const sc_session *s) {
  uint64_t d = UINT64_MAX;
  if (s->state == 0) {
    return UINT64_MAX;
  }
  if (s->state == SC_SESSION_CLOSING) {
    return s->drain_until;
  }
  if (in_handshake(s)) {
    d = SC_MIN(s->hs_next, s->hs_started + s->node->settings.handshake_timeout);
  }
  if (s->state == SC_SESSION_ESTABLISHED) {
    d = SC_MIN(d, sc_transport_deadline(s));
  }
  return d;
}

void sc_session_close(sc_session *s, int reason, uint64_t now) {
  if (s->state == 0 || s->state == SC_SESSION_CLOSING) {
    return;
  }
  s->close_reason = reason;
  if (s->state != SC_SESSION_ESTABLISHED || reason == SC_CLOSE_IDLE ||
      reason == SC_CLOSE_HANDSHAKE || reason == SC_CLOSE_SELF) {
    /* Nothing to tell: the peer has no keys yet, cannot hear us, or is
     * this very node. */
    s->state = 0;
    return;
  }
  s->state = SC_SESSION_CLOSING;
  s->drain_until = now + SC_MIN(3 * sc_rtt_pto(&s->rtt, SC_MAX_ACK_DELAY),
                                SC_CLOSE_DRAIN_MAX);
  if (reason != SC_CLOSE_REMOTE) {
    s->close_pending = 1;
    sc_session_flush(s, now);
  }
}

int sc_session_is_dead(const sc_session *s) { return s->state == 0; }

int sc_session_is_usable(const sc_session *s) {
  return s->state == SC_SESSION_ESTABLISHED;
}

int sc_session_is_responsive(const sc_session *s, uint64_t now) {
  uint64_t wait = SC_MAX(500 * SC_MS, 4 * s->rtt.smoothed);
  if (!sc_session_is_usable(s)) {
    return 0;
  }
  return s->out_head == NULL || now - s->out_head->queued_at <= wait ||
         now - s->last_recv <= wait;
}

void sc_session_flush(sc_session *s, uint64_t now) {
  sc_transport_flush(s, now);
}

void sc_session_get_info(const sc_session *s, sc_session_info *out) {
  memset(out, 0, sizeof(*out));
  out->local_id = s->local_sid;
  out->state = s->state;
  out->initiator = s->initiator;
  out->has_peer_id = s->has_peer_id;
  if (s->has_peer_id) {
    memcpy(out->peer_id, s->peer_id, SC_PEER_ID_LEN);
  }
  out->addr = s->addr;
  out->established_at = s->established_at;
  if (s->rtt.has_sample) {
    out->srtt_ns = s->rtt.smoothed;
    out->rttvar_ns = s->rtt.var;
    out->min_rtt_ns = s->rtt.min;
  }
  out->cwnd_bytes = s->cc.cwnd;
  out->bytes_in_flight = s->cc.bytes_in_flight;
  out->pacing_rate_bps = sc_cc_pacing_rate(&s->cc, &s->rtt);
  out->bytes_sent = s->bytes_sent;
  out->bytes_received = s->bytes_received;
  out->packets_sent = s->packets_sent;
  out->packets_received = s->packets_received;
  out->packets_lost = s->packets_lost;
  out->last_received = s->last_recv;
}
