/*
 * codec_checks.h: support for the codec tests (check_wire, check_packet,
 * check_decoders): exact-size heap copies, a seeded generator, and checks
 * that whatever a decoder accepts is consistent with its input.
 */
#ifndef SC_CODEC_CHECKS_H
#define SC_CODEC_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "sc_packet.h"
#include "stratocast.h"

/* Layout constants of doc/protocol.md §3 and §4.3. */
#define SENTINEL 0xa5
#define BIG 4096
#define HS_INCARNATION 1
#define HS_OBSERVED 2
#define INIT_FIXED 7
#define RETRY_LEN (6 + SC_ECHO_LEN + 1 + SC_COOKIE_LEN)
#define RESPONSE_FIXED 10
#define FINISH_FIXED 6
/* REQUIRE fails the test with the current input printed when |cond| is
 * false. It is used in loops instead of ck_assert, which records every
 * passing check. */
#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fail_input(#cond, __LINE__);                                             \
    }                                                                          \
  } while (0)

/* Returns a heap copy of exactly |len| bytes of |data| (free() it). */
uint8_t *dup_exact(const uint8_t *data, size_t len);

/* rng returns the next number of a seeded xorshift64* generator, the same
 * sequence on every platform. */
uint64_t rng(void);

/* rng_below returns a number below |n| (n > 0). */
size_t rng_below(size_t n);

/* rng_seed restarts the generator from |seed| (nonzero). */
void rng_seed(uint64_t seed);

/* set_ctx names the input that REQUIRE failures print. */
void set_ctx(const uint8_t *data, size_t len);

/* Fails the test, printing |cond| and the first bytes of the input. Used
 * instead of ck_assert in loops: Check records every passing ck_assert. */
_Noreturn void fail_input(const char *cond, int line);

/* Nonzero if [p, p + n) lies inside [data, data + len). */
int inside(const uint8_t *p, size_t n, const uint8_t *data, size_t len);

/* The encoded length of the varint starting with byte |b|. */
size_t varint_size(uint8_t b);

/* A decoded packet points into its input at the §3 offsets, and the
 * encoders turn it back into exactly the input. */
void check_pkt_consistent(const sc_pkt *p, const uint8_t *data, size_t len);

/* Ranges are highest first, each well-formed, with at least one missing
 * packet number between two of them. */
void check_ranges_shape(const sc_pn_range *r, size_t n);

/* check_ack_consistent fails the test unless the ACK decoded from |body|
 * has well-formed ranges and re-encodes to the same values. */
void check_ack_consistent(const sc_ack *a, const uint8_t *body, size_t len);

/* check_msg_consistent fails the test unless the MSG view points inside
 * |body| and re-encodes to the same bytes. */
void check_msg_consistent(const sc_msg_view *m, const uint8_t *body,
                          size_t len);

/* addr_wire_len returns the bytes |a| takes on the wire (§2.3). */
size_t addr_wire_len(const sc_addr *a);

/* check_peers_consistent fails the test unless the |n| decoded entries
 * re-encode to the same bytes. */
void check_peers_consistent(const sc_peer_entry *e, size_t n,
                            const uint8_t *body, size_t len);

/* Finds the last |type| field of a handshake payload (the reader skips
 * what it does not know, so this only needs the chunk layout). */
int hs_find(const uint8_t *data, size_t len, uint8_t type, sc_chunk *out);

/* check_hs_consistent fails the test unless the decoded handshake
 * payload agrees with the fields found in |data|. */
void check_hs_consistent(const sc_hs_payload *p, const uint8_t *data,
                         size_t len);

/* Walks the chunks of |data| as a DATA plaintext would be walked, decoding
 * the ACK and MSG bodies (and PEERS inside MSG) from exact-size copies. */
void check_chunks(const uint8_t *data, size_t len);

#endif /* SC_CODEC_CHECKS_H */
