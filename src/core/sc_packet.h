/*
 * sc_packet.h: every wire format of the protocol (doc/protocol.md §3-§6):
 * packet headers, the chunks inside sealed packets, handshake payloads and
 * control messages. Decoders take untrusted bytes and either fill a struct
 * whose pointers point into those bytes, or fail; they never read out of
 * bounds. Encoders write through an sc_wr and fail whole when out of room.
 */
#ifndef SC_PACKET_H
#define SC_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "sc_replay.h"
#include "sc_wire.h"
#include "stratocast.h"

#define SC_VERSION 1
#define SC_MAX_PACKET 1400 /* no datagram is larger; bigger ones drop */
#define SC_ECHO_LEN 16     /* RETRY echoes this much of the initiator's e */
#define SC_DATA_HEADER_LEN 14
#define SC_AEAD_TAG_LEN 16

enum sc_pkt_type {
  SC_PKT_INIT = 1,
  SC_PKT_RETRY = 2,
  SC_PKT_RESPONSE = 3,
  SC_PKT_FINISH = 4,
  SC_PKT_DATA = 5,
};

/* A decoded packet. Pointers point into the datagram. */
typedef struct sc_pkt {
  uint8_t type;
  size_t len;            /* the whole datagram */
  uint32_t receiver_sid; /* RETRY, RESPONSE, FINISH, DATA */
  uint32_t sender_sid;   /* INIT, RESPONSE */
  const uint8_t *cookie; /* INIT (may be NULL), RETRY */
  size_t cookie_len;
  const uint8_t *echo;  /* RETRY: SC_ECHO_LEN bytes */
  const uint8_t *noise; /* INIT, RESPONSE, FINISH: the Noise message */
  size_t noise_len;
  uint64_t pn;           /* DATA */
  const uint8_t *sealed; /* DATA: ciphertext and tag */
  size_t sealed_len;     /* DATA */
} sc_pkt;

/* sc_pkt_decode parses the |len| bytes at |data|. Returns 0,
 * SC_ERR_BUFFER when the datagram ends inside a field it needs (for DATA:
 * before the header, a tag and one byte), SC_ERR_VERSION, or
 * SC_ERR_MALFORMED (unknown type, bad lengths, trailing bytes, a DATA
 * packet number above SC_VARINT_MAX). The datagram size limit is the
 * caller's business. */
int sc_pkt_decode(sc_pkt *pkt, const uint8_t *data, size_t len);

/* Packet encoders. Each writes one whole packet header and body into |w|,
 * or nothing. Return 0, SC_ERR_BUFFER, or SC_ERR_INVALID_ARG for a cookie
 * length the decoder would refuse (INIT: 0 or SC_COOKIE_LEN; RETRY:
 * SC_COOKIE_LEN). */
int sc_pkt_write_init(sc_wr *w, uint32_t sender_sid, const uint8_t *cookie,
                      size_t cookie_len, const uint8_t *noise,
                      size_t noise_len);
int sc_pkt_write_retry(sc_wr *w, uint32_t receiver_sid,
                       const uint8_t echo[SC_ECHO_LEN], const uint8_t *cookie,
                       size_t cookie_len);
int sc_pkt_write_response(sc_wr *w, uint32_t receiver_sid, uint32_t sender_sid,
                          const uint8_t *noise, size_t noise_len);
int sc_pkt_write_finish(sc_wr *w, uint32_t receiver_sid, const uint8_t *noise,
                        size_t noise_len);
/* sc_pkt_write_data_header writes the SC_DATA_HEADER_LEN bytes that start a
 * DATA packet (they are also its associated data). */
int sc_pkt_write_data_header(sc_wr *w, uint32_t receiver_sid, uint64_t pn);

/* ---- chunks inside sealed DATA packets (doc/protocol.md §6.3) --------- */

enum sc_chunk_type {
  SC_CHUNK_PADDING = 0,
  SC_CHUNK_PING = 1,
  SC_CHUNK_ACK = 2,
  SC_CHUNK_CLOSE = 3,
  SC_CHUNK_PATH_CHALLENGE = 4,
  SC_CHUNK_PATH_RESPONSE = 5,
  SC_CHUNK_MSG = 6,
  SC_CHUNK_DGRAM = 7,
  SC_CHUNK_DGRAM_QUIET = 8, /* a datagram that elicits no ACK */
};

#define SC_PATH_DATA_LEN 8
#define SC_ACK_MAX_RANGES 32

typedef struct sc_chunk {
  uint8_t type;
  const uint8_t *body;
  size_t len;
} sc_chunk;

/* sc_chunk_next reads the next chunk from |r| into |c|. Returns 1 when a
 * chunk was read, 0 at the end of input, or SC_ERR_MALFORMED. Unknown chunk
 * types are returned as they are: callers skip them (§6.3). */
int sc_chunk_next(sc_rd *r, sc_chunk *c);

/* sc_chunk_write writes a chunk of |type| with |len| bytes of |body|. */
int sc_chunk_write(sc_wr *w, uint8_t type, const uint8_t *body, size_t len);

/* sc_chunk_overhead returns the header bytes a chunk of |len| body bytes
 * needs. */
size_t sc_chunk_overhead(size_t len);

typedef struct sc_ack {
  uint64_t delay_us;
  size_t nranges; /* highest first, disjoint, descending */
  sc_pn_range ranges[SC_ACK_MAX_RANGES];
} sc_ack;

/* sc_ack_decode parses an ACK body. Ranges beyond SC_ACK_MAX_RANGES are
 * ignored (they only make the ACK less informative). Returns 0 or
 * SC_ERR_MALFORMED (ranges that overlap, underflow or are absent). */
int sc_ack_decode(sc_ack *ack, const uint8_t *body, size_t len);

/* sc_ack_write writes a whole ACK chunk for |n| ranges (highest first, as
 * sc_replay_ranges gives them), with as many ranges as fit in |w|. Returns
 * 0, SC_ERR_BUFFER if not even one range fits, or SC_ERR_INVALID_ARG when
 * |n| is 0 or a packet number exceeds SC_VARINT_MAX. */
int sc_ack_write(sc_wr *w, const sc_pn_range *ranges, size_t n,
                 uint64_t delay_us);

/* A MSG chunk: one reliable, ordered control message. */
typedef struct sc_msg_view {
  uint64_t seq;
  uint64_t kind;
  const uint8_t *body;
  size_t len;
} sc_msg_view;

/* sc_msg_decode parses a MSG chunk body. Returns 0 or SC_ERR_MALFORMED. */
int sc_msg_decode(sc_msg_view *m, const uint8_t *body, size_t len);

/* sc_msg_write writes a whole MSG chunk, or nothing. Returns 0,
 * SC_ERR_BUFFER, or SC_ERR_INVALID_ARG when |seq| or |kind| exceeds
 * SC_VARINT_MAX. */
int sc_msg_write(sc_wr *w, uint64_t seq, uint64_t kind, const uint8_t *body,
                 size_t len);

/* sc_msg_chunk_len returns the bytes sc_msg_write needs. */
size_t sc_msg_chunk_len(uint64_t seq, uint64_t kind, size_t len);

/* ---- addresses on the wire (§2.3) -------------------------------------- */

/* sc_addr_write writes |a| (family, 4 or 16 address bytes, port), or
 * nothing. Returns 0, SC_ERR_BUFFER, or SC_ERR_INVALID_ARG for a family
 * other than SC_AF_INET and SC_AF_INET6. */
int sc_addr_write(sc_wr *w, const sc_addr *a);
/* sc_addr_read returns 0 or SC_ERR_MALFORMED (bad family, short input). */
int sc_addr_read(sc_rd *r, sc_addr *a);

/* ---- handshake payloads (§4.3) ---------------------------------------- */

typedef struct sc_hs_payload {
  uint64_t incarnation; /* random per process start of the sender */
  int has_observed;
  sc_addr observed; /* the receiver's address as the sender sees it */
} sc_hs_payload;

#define SC_HS_PAYLOAD_MAX 64

/* sc_hs_payload_write writes the whole payload or nothing: returns 0,
 * SC_ERR_BUFFER, or SC_ERR_INVALID_ARG for an observed address of no
 * known family. */
int sc_hs_payload_write(sc_wr *w, const sc_hs_payload *p);
/* sc_hs_payload_read returns 0 or SC_ERR_MALFORMED. Unknown fields are
 * skipped; the incarnation is mandatory. */
int sc_hs_payload_read(sc_hs_payload *p, const uint8_t *data, size_t len);

/* ---- control messages (§6.4) -------------------------------------------- */

enum sc_msg_kind {
  SC_MSG_PEERS = 1, /* introductions: peers the sender knows */
};

#define SC_PEERS_MAX 16

typedef struct sc_peer_entry {
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr;
} sc_peer_entry;

/* sc_peers_write writes a whole PEERS body or nothing: returns 0,
 * SC_ERR_BUFFER, or SC_ERR_INVALID_ARG (more than SC_PEERS_MAX entries, an
 * address of no known family). */
int sc_peers_write(sc_wr *w, const sc_peer_entry *e, size_t n);
/* sc_peers_read fills up to SC_PEERS_MAX entries into |out| and stores the
 * count in |*n|. Returns 0 or SC_ERR_MALFORMED. */
int sc_peers_read(sc_peer_entry *out, size_t *n, const uint8_t *body,
                  size_t len);

#endif /* SC_PACKET_H */
