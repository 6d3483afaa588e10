/*
 * sc_group.h: group specs, group IDs, group addresses and membership
 * proofs (doc/protocol.md §11.1).
 *
 * A group spec is a string: a name, optionally followed by options,
 *
 *   NAME[?KEY=VALUE[&KEY=VALUE]...]
 *
 * NAME: 1..128 bytes, printable ASCII (0x21..0x7e) except '?', '&', '='.
 * Keys, each at most once:
 *   features=LIST   comma-separated subset of multicast, posting, routing,
 *                   replication (or "all", or "none"); default all
 *   secret=TEXT     a membership secret, 1..256 printable ASCII bytes
 *                   except '&'
 *   publishers=LIST comma-separated Ed25519 public keys (64 hex digits
 *                   each), 1..8: only these may publish streams in the
 *                   group; without it any member may
 * Anything else (an unknown key, an empty value, a repeated key) makes the
 * spec malformed.
 *
 * The group ID is BLAKE2b-256 over a canonical encoding of the name, the
 * feature set and BLAKE2b-256 of the secret (all zero bytes without one),
 * so option order does not matter, different secrets make different
 * groups, and the secret itself never leaves the node.
 *
 * A member proves it knows the secret on one session with
 *   proof = BLAKE2b-256(key = secret key, "stratocast member v1" |
 *                       group ID | handshake hash | prover peer ID)
 * which binds the proof to that session's handshake (it cannot be replayed
 * on another) and to the prover (the two directions differ).
 */
#ifndef SC_GROUP_H
#define SC_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "sc_ring.h"
#include "stratocast.h"

#define SC_GROUP_ID_LEN 32
#define SC_GROUP_NAME_MAX 128
#define SC_GROUP_SECRET_MAX 256
#define SC_GROUP_PROOF_LEN 32
#define SC_GROUP_PUBLISHERS_MAX 8

/* Features a group allows (bit set). */
enum sc_group_feature {
  SC_GROUP_MULTICAST = 1,
  SC_GROUP_POSTING = 2,
  SC_GROUP_ROUTING = 4,
  SC_GROUP_REPLICATION = 8,
  SC_GROUP_ALL = 15,
};

typedef struct sc_group_spec {
  char name[SC_GROUP_NAME_MAX + 1]; /* NUL-terminated */
  unsigned features;                /* enum sc_group_feature bits */
  int has_secret;
  uint8_t secret_key[32]; /* BLAKE2b-256 of the secret; zero without */
  size_t npublishers;     /* 0: anyone may publish */
  uint8_t publishers[SC_GROUP_PUBLISHERS_MAX][32]; /* ascending */
  uint8_t id[SC_GROUP_ID_LEN];
} sc_group_spec;

/* sc_group_spec_parse parses |spec| (NUL-terminated) into |g|, computing
 * its ID. Returns 0 or SC_ERR_MALFORMED (|g| is then unspecified). */
int sc_group_spec_parse(sc_group_spec *g, const char *spec);

/* sc_group_may_publish returns nonzero if the Ed25519 public key |key|
 * may publish streams in |g|. */
int sc_group_may_publish(const sc_group_spec *g, const uint8_t key[32]);

/* sc_group_address sets |*out| = BLAKE2b-256(group ID | peer ID): the
 * member's place on the group's ring. */
void sc_group_address(sc_ring_addr *out, const uint8_t group_id[32],
                      const uint8_t peer_id[SC_PEER_ID_LEN]);

/* sc_group_proof writes into |out| the proof that |prover_id| knows |g|'s
 * secret on the session whose handshake hash is |hs_hash| (|hs_len|
 * bytes). Only meaningful when g->has_secret. */
void sc_group_proof(uint8_t out[SC_GROUP_PROOF_LEN], const sc_group_spec *g,
                    const uint8_t *hs_hash, size_t hs_len,
                    const uint8_t prover_id[SC_PEER_ID_LEN]);

/* sc_group_proof_check returns nonzero if |proof| is |prover_id|'s valid
 * proof for |g| on that session (constant-time comparison). A group
 * without a secret accepts any proof. */
int sc_group_proof_check(const uint8_t proof[SC_GROUP_PROOF_LEN],
                         const sc_group_spec *g, const uint8_t *hs_hash,
                         size_t hs_len,
                         const uint8_t prover_id[SC_PEER_ID_LEN]);

#endif /* SC_GROUP_H */
