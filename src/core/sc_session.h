/*
 * sc_session.h: one secure session with one peer (doc/protocol.md §4-§7).
 *
 * A session runs the Noise XX handshake (initiator or responder), then
 * carries sealed DATA packets: acknowledgements, loss detection, RTT
 * estimation, congestion control and pacing, reliable ordered control
 * messages, keepalives, path validation for address changes, and a
 * graceful close. The node owns sessions, dispatches packets to them by
 * receiver session ID, and reacts to what they report through the
 * sc_node_on_* functions of sc_node_int.h.
 */
#ifndef SC_SESSION_H
#define SC_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "sc_cc.h"
#include "sc_cookie.h"
#include "sc_noise.h"
#include "sc_packet.h"
#include "sc_replay.h"
#include "sc_rtt.h"
#include "stratocast.h"

#define SC_MAX_ACK_DELAY (25 * (uint64_t)1000000)   /* §7.1 */
#define SC_HS_RTO_INITIAL (250 * (uint64_t)1000000) /* §4.4 */
#define SC_HS_RTO_MAX (1 * (uint64_t)1000000000)
#define SC_MSG_MAX 1024       /* largest control message body */
#define SC_MSG_QUEUE_MAX 1024 /* unacknowledged messages per session */
#define SC_MSG_REORDER_MAX 64 /* messages held for in-order delivery */
#define SC_HS_HASH_PREFIX 16  /* bytes of the handshake hash kept */
#define SC_HS_PKT_MAX 256     /* largest handshake packet */
#define SC_RETRY_MAX 4        /* cookie challenges taken per handshake */
#define SC_CLOSE_DRAIN_MAX (2 * (uint64_t)1000000000)
#define SC_DGRAM_QUEUE_MAX 32 /* datagrams waiting for the window/pacer */
#define SC_DGRAM_TTL (1 * (uint64_t)1000000000) /* unsent after this: drop */
#define SC_DGRAM_ACK_DELAY (100 * (uint64_t)1000000) /* §7.1 */
#define SC_DGRAM_ACK_EVERY 8

typedef struct sc_node sc_node;

/* An ack-eliciting packet in flight (§7.2). */
typedef struct sc_sent {
  uint64_t pn;
  uint64_t time;
  uint32_t size;
  uint8_t in_flight; /* counted by the congestion controller */
  uint8_t done;      /* acked or declared lost: to be compacted away */
} sc_sent;

/* An outbound reliable message, kept until acknowledged (§6.4). */
typedef struct sc_omsg {
  struct sc_omsg *next;
  uint64_t seq;
  uint64_t kind;
  uint64_t last_pn; /* packet that carried it last */
  int in_flight;    /* sent and not yet acked or lost */
  unsigned sends;   /* times sent */
  uint64_t queued_at;
  size_t len;
  uint8_t body[];
} sc_omsg;

/* An outbound datagram (§6.3.5): sent once, never retransmitted. */
typedef struct sc_odgram {
  struct sc_odgram *next;
  uint64_t queued_at;
  unsigned flags; /* SC_DGRAM_* */
  size_t len;
  uint8_t body[];
} sc_odgram;

/* An inbound message that arrived ahead of its turn. */
typedef struct sc_imsg {
  struct sc_imsg *next;
  uint64_t seq;
  uint64_t kind;
  size_t len;
  uint8_t body[];
} sc_imsg;

typedef struct sc_session {
  sc_node *node;
  uint32_t local_sid, remote_sid;
  int state;     /* enum sc_session_state; 0 once dead */
  int initiator; /* this node sent INIT */
  int confirmed; /* the peer proved it has the transport keys */
  sc_addr addr;  /* where packets go */
  int has_peer_id;
  uint8_t peer_id[SC_PEER_ID_LEN];
  int has_expected_id; /* introduced peers: who we expect to answer */
  uint8_t expected_id[SC_PEER_ID_LEN];
  uint64_t peer_incarnation;
  uint8_t hs_hash[SC_HS_HASH_PREFIX];

  /* handshake (§4) */
  sc_noise_hs *hs;               /* freed once the handshake is over */
  uint8_t hs_pkt[SC_HS_PKT_MAX]; /* last handshake packet, for resends */
  size_t hs_pkt_len;
  uint8_t cookie[SC_COOKIE_LEN];
  int has_cookie;
  unsigned retries_taken;
  uint64_t hs_started, hs_next, hs_rto;
  uint64_t hs_sent_at; /* last handshake packet sent */
  int hs_resent;       /* it went out more than once: no RTT sample */

  /* transport (§6, §7) */
  uint8_t send_key[SC_NOISE_KEYLEN], recv_key[SC_NOISE_KEYLEN];
  uint64_t next_pn;
  sc_replay rx;
  uint64_t rx_largest_time; /* when the highest packet number arrived */
  unsigned rx_unacked;      /* ack-eliciting packets not yet acked */
  uint64_t ack_deadline;    /* UINT64_MAX: no ACK owed */
  sc_rtt rtt;
  sc_cc cc;
  sc_sent *sent;
  size_t nsent, sent_cap;
  int has_largest_acked;
  uint64_t largest_acked;
  uint64_t loss_time; /* UINT64_MAX: none */
  unsigned pto_count;
  uint64_t last_eliciting_sent;
  unsigned probes; /* packets allowed past the window after a PTO */
  int ping_pending;
  uint64_t pace_at; /* the pacer holds packets until then; UINT64_MAX */

  /* reliable messages (§6.4) */
  sc_omsg *out_head, *out_tail;
  size_t out_count;
  uint64_t next_out_seq;
  sc_imsg *in_head;
  size_t in_count;
  uint64_t next_in_seq;

  /* datagrams (§6.3.5) */
  sc_odgram *dg_head, *dg_tail;
  size_t dg_count;

  /* path validation (§6.5) */
  int path_pending;
  sc_addr path_addr;
  uint8_t path_data[SC_PATH_DATA_LEN];
  uint64_t path_next; /* next challenge (re)send */
  unsigned path_tries;
  uint64_t path_rx_bytes, path_tx_bytes; /* 3x limit on the new path */
  int path_reply_pending;
  sc_addr path_reply_addr;
  uint8_t path_reply_data[SC_PATH_DATA_LEN];

  /* lifetime */
  uint64_t created_at, established_at, last_recv, last_send;
  int close_reason;     /* enum sc_close_reason once closing */
  int close_pending;    /* a CLOSE chunk must go out */
  unsigned close_sends; /* CLOSE packets sent while closing */
  uint64_t drain_until;
  int down_reported; /* the node told the host this session went down */

  /* counters */
  uint64_t bytes_sent, bytes_received, packets_sent, packets_received;
  uint64_t packets_lost;
} sc_session;

/* sc_session_new_initiator creates a session that connects to |addr| and
 * sends its INIT. |expected_id| (may be NULL) is the peer ID an
 * introduction promised. Returns 0, SC_ERR_NOMEM or SC_ERR_CRYPTO. */
int sc_session_new_initiator(sc_session **ps, sc_node *node,
                             const sc_addr *addr, const uint8_t *expected_id,
                             uint32_t sid, uint64_t now);

/* sc_session_new_responder creates a session from a cookie-validated INIT
 * |pkt| from |from| and sends the RESPONSE. Returns 0, SC_ERR_NOMEM, or
 * SC_ERR_CRYPTO / SC_ERR_MALFORMED when the INIT's Noise message is bad
 * (nothing is created then). */
int sc_session_new_responder(sc_session **ps, sc_node *node,
                             const sc_addr *from, const sc_pkt *pkt,
                             uint32_t sid, uint64_t now);

/* sc_session_del frees |s| and everything it owns, sending nothing. */
void sc_session_del(sc_session *s);

/* Packet handlers. Each validates |pkt| against the session's state and
 * counts a drop on the node when it does not fit. */
void sc_session_on_init_again(sc_session *s, const sc_addr *from, uint64_t now);
void sc_session_on_retry(sc_session *s, const sc_pkt *pkt, const sc_addr *from,
                         uint64_t now);
void sc_session_on_response(sc_session *s, const sc_pkt *pkt,
                            const sc_addr *from, uint64_t now);
void sc_session_on_finish(sc_session *s, const sc_pkt *pkt, const sc_addr *from,
                          uint64_t now);
/* |head| is the SC_DATA_HEADER_LEN bytes that start the packet. */
void sc_session_on_data(sc_session *s, const sc_pkt *pkt, const uint8_t *head,
                        const sc_addr *from, uint64_t now);

/* sc_session_on_timer runs whatever is due at |now|. */
void sc_session_on_timer(sc_session *s, uint64_t now);

/* sc_session_deadline returns the session's next timer or UINT64_MAX. */
uint64_t sc_session_deadline(const sc_session *s);

/* sc_session_flush sends what the session owes and may send at |now|. */
void sc_session_flush(sc_session *s, uint64_t now);

/* sc_session_send_msg queues a reliable message of |kind| with |len| bytes
 * of |body| and sends it when it can. Returns 0, SC_ERR_INVALID_ARG (too
 * long), SC_ERR_STATE (not established), SC_ERR_BUSY (queue full) or
 * SC_ERR_NOMEM. */
int sc_session_send_msg(sc_session *s, uint64_t kind, const uint8_t *body,
                        size_t len, uint64_t now);

/* sc_dgram_body_max returns the largest datagram body a session sends in
 * datagrams of at most |max_datagram| bytes. */
size_t sc_dgram_body_max(size_t max_datagram);

/* sc_session_dgram_max returns the largest datagram body |s| can send. */
size_t sc_session_dgram_max(const sc_session *s);

/* sc_session_dgram_room returns how many more datagrams |s| can queue. */
size_t sc_session_dgram_room(const sc_session *s);

/* Flags of sc_session_send_dgram. */
enum {
  SC_DGRAM_STREAM = 1, /* stream data, for the node's counters */
  /* Sent as a quiet datagram (§6.3.5): the peer does not acknowledge it,
   * and a packet of nothing else is not congestion-controlled in flight.
   * For small, frequent control that loses nothing by being lost. */
  SC_DGRAM_QUIET = 2,
};

/* sc_session_send_dgram queues an unreliable datagram of |len| bytes and
 * sends it when the congestion window and pacer allow; it is dropped if it
 * has not left within SC_DGRAM_TTL, and never retransmitted. |flags| is a
 * mix of SC_DGRAM_*. Returns 0,
 * SC_ERR_INVALID_ARG (longer than sc_session_dgram_max), SC_ERR_STATE (not
 * established), SC_ERR_BUSY (queue full) or SC_ERR_NOMEM. */
int sc_session_send_dgram(sc_session *s, const uint8_t *body, size_t len,
                          unsigned flags, uint64_t now);

/* sc_session_ping sends a PING (§6.3.1) as soon as the window allows: the
 * peer acknowledges it at once. */
void sc_session_ping(sc_session *s, uint64_t now);

/* sc_session_close closes |s| for |reason| (enum sc_close_reason): an
 * established session tells the peer with CLOSE and drains; a handshake is
 * dropped at once. Closing twice is harmless. */
void sc_session_close(sc_session *s, int reason, uint64_t now);

/* sc_session_is_dead returns nonzero when |s| can be freed. */
int sc_session_is_dead(const sc_session *s);

/* sc_session_is_usable returns nonzero for an established session that is
 * not closing. */
int sc_session_is_usable(const sc_session *s);

/* sc_session_is_responsive returns nonzero for a usable session whose peer
 * seems alive at |now|: it is not when its oldest unacknowledged message
 * was queued more than max(4 x srtt, 500 ms) ago and nothing has been
 * heard for as long. That is how a crash looks in the seconds before the
 * mesh declares the peer dead (doc/protocol.md §11.4). */
int sc_session_is_responsive(const sc_session *s, uint64_t now);

/* sc_session_get_info fills |out|. */
void sc_session_get_info(const sc_session *s, sc_session_info *out);

#endif /* SC_SESSION_H */
