/*
 * sc_group.c: group specs, group IDs, group addresses and membership
 * proofs (doc/protocol.md §11.1).
 *
 * Canonical encoding of a group (version 1). Every field has a fixed size
 * except the name, which carries its length, so two different groups never
 * encode to the same bytes:
 *
 *   offset      size      field
 *   0           19        "stratocast group v1" (ASCII, no NUL)
 *   19          1         L = length of the name, 1..128
 *   20          L         the name, as written in the spec
 *   20 + L      1         feature bits: multicast 0x01, posting 0x02,
 *                         routing 0x04, replication 0x08 (0x0f with no
 *                         features option or with features=all, 0x00 with
 *                         features=none)
 *   21 + L      32        BLAKE2b-256 (unkeyed) of the secret's bytes, or
 *                         32 zero bytes without a secret
 *   53 + L      1         K = number of publisher keys, 1..8 (only with a
 *                         publishers option; absent otherwise)
 *   54 + L      32 K      the keys, in ascending byte order
 *
 *   group ID = BLAKE2b-256 (unkeyed) of those 53 + L (or 54 + L + 32 K)
 *   bytes. The name's length is part of the input, so the total length
 *   tells whether keys follow.
 *
 * Only the set of features counts, never how the list was spelled or in
 * which order the options came, and the secret enters only through its
 * hash (which is also the proof key, sc_group_spec.secret_key).
 *
 * The other two derivations, from sc_group.h:
 *   group address = BLAKE2b-256 (unkeyed) of group ID (32) || peer ID (32)
 *   proof = BLAKE2b-256 (key = secret_key) of "stratocast member v1" (20
 *           bytes) || group ID (32) || handshake hash || prover peer ID (32)
 * The handshake hash is the only variable-length field of the proof input
 * and the prover ID after it has a fixed size, so that input is
 * unambiguous too.
 */
#include "sc_group.h"

#include <sodium.h>
#include <string.h>

#include "sc_macro.h"

#define ID_DOMAIN "stratocast group v1"
#define ID_DOMAIN_LEN (sizeof(ID_DOMAIN) - 1)
#define PROOF_DOMAIN "stratocast member v1"
#define PROOF_DOMAIN_LEN (sizeof(PROOF_DOMAIN) - 1)
#define KEY_LEN 32
#define ID_INPUT_MAX                                                           \
  (ID_DOMAIN_LEN + 1 + SC_GROUP_NAME_MAX + 1 + KEY_LEN + 1 +                   \
   SC_GROUP_PUBLISHERS_MAX * KEY_LEN)

/* Keys an option list has used, for rejecting repeats. */
#define SEEN_FEATURES 1u
#define SEEN_SECRET 2u
#define SEEN_PUBLISHERS 4u

/* A piece of the spec string: not NUL-terminated. */
typedef struct token {
  const char *p;
  size_t len;
} token;

static const struct {
  const char *name;
  unsigned bit;
} feature_names[] = {
    {"multicast", SC_GROUP_MULTICAST},
    {"posting", SC_GROUP_POSTING},
    {"routing", SC_GROUP_ROUTING},
    {"replication", SC_GROUP_REPLICATION},
};

static int token_is(token t, const char *s) {
  return strlen(s) == t.len && memcmp(t.p, s, t.len) == 0;
}

/* Printable ASCII without space, and none of the bytes in |except|. */
static int is_spec_char(char c, const char *except) {
  unsigned char u = (unsigned char)c;
  return u >= 0x21 && u <= 0x7e && strchr(except, c) == NULL;
}

static int all_spec_chars(token t, const char *except) {
  size_t i;
  for (i = 0; i < t.len; i++) {
    if (!is_spec_char(t.p[i], except)) {
      return 0;
    }
  }
  return 1;
}

/* Parses the value of features=: "all", "none", or a comma-separated list
 * of feature names, each at most once. */
static int parse_features(token v, unsigned *out) {
  size_t i, start = 0;
  unsigned set = 0;
  if (token_is(v, "all")) {
    *out = SC_GROUP_ALL;
    return 0;
  }
  if (token_is(v, "none")) {
    *out = 0;
    return 0;
  }
  while (start <= v.len) {
    const char *comma = memchr(v.p + start, ',', v.len - start);
    token item = {v.p + start,
                  comma ? (size_t)(comma - v.p) - start : v.len - start};
    unsigned bit = 0;
    for (i = 0; i < SC_ARRAY_LEN(feature_names); i++) {
      if (token_is(item, feature_names[i].name)) {
        bit = feature_names[i].bit;
      }
    }
    /* An unknown or empty name, or one named twice. */
    if (bit == 0 || (set & bit) != 0) {
      return SC_ERR_MALFORMED;
    }
    set |= bit;
    start += item.len + 1;
  }
  *out = set;
  return 0;
}

static int parse_secret(sc_group_spec *g, token v) {
  if (v.len > SC_GROUP_SECRET_MAX || !all_spec_chars(v, "&")) {
    return SC_ERR_MALFORMED;
  }
  crypto_generichash(g->secret_key, KEY_LEN, (const unsigned char *)v.p, v.len,
                     NULL, 0);
  g->has_secret = 1;
  return 0;
}

/* Parses the value of publishers=: 1..8 comma-separated Ed25519 public
 * keys of 64 hex digits each, none twice; keeps them sorted. */
static int parse_publishers(sc_group_spec *g, token v) {
  size_t start = 0, i, j;
  while (start <= v.len) {
    const char *comma = memchr(v.p + start, ',', v.len - start);
    size_t len = comma ? (size_t)(comma - v.p) - start : v.len - start;
    uint8_t key[KEY_LEN];
    size_t got = 0;
    if (len != 2 * KEY_LEN || g->npublishers == SC_GROUP_PUBLISHERS_MAX ||
        sodium_hex2bin(key, sizeof(key), v.p + start, len, NULL, &got, NULL) !=
            0 ||
        got != KEY_LEN) {
      return SC_ERR_MALFORMED;
    }
    /* Insertion keeps them in ascending order; an equal one is a repeat. */
    for (i = 0; i < g->npublishers; i++) {
      int c = memcmp(key, g->publishers[i], KEY_LEN);
      if (c == 0) {
        return SC_ERR_MALFORMED;
      }
      if (c < 0) {
        break;
      }
    }
    for (j = g->npublishers; j > i; j--) {
      memcpy(g->publishers[j], g->publishers[j - 1], KEY_LEN);
    }
    memcpy(g->publishers[i], key, KEY_LEN);
    g->npublishers++;
    start += len + 1;
  }
  return 0;
}

int sc_group_may_publish(const sc_group_spec *g, const uint8_t key[32]) {
  size_t i;
  if (g->npublishers == 0) {
    return 1;
  }
  for (i = 0; i < g->npublishers; i++) {
    if (memcmp(g->publishers[i], key, KEY_LEN) == 0) {
      return 1;
    }
  }
  return 0;
}

/* Parses one KEY=VALUE option. |seen| collects the keys so far. */
static int parse_option(sc_group_spec *g, token opt, unsigned *seen) {
  const char *eq = memchr(opt.p, '=', opt.len);
  token key, val;
  if (eq == NULL) {
    return SC_ERR_MALFORMED;
  }
  key.p = opt.p;
  key.len = (size_t)(eq - opt.p);
  val.p = eq + 1;
  val.len = opt.len - key.len - 1;
  if (val.len == 0) {
    return SC_ERR_MALFORMED;
  }
  if (token_is(key, "features") && !(*seen & SEEN_FEATURES)) {
    *seen |= SEEN_FEATURES;
    return parse_features(val, &g->features);
  }
  if (token_is(key, "secret") && !(*seen & SEEN_SECRET)) {
    *seen |= SEEN_SECRET;
    return parse_secret(g, val);
  }
  if (token_is(key, "publishers") && !(*seen & SEEN_PUBLISHERS)) {
    *seen |= SEEN_PUBLISHERS;
    return parse_publishers(g, val);
  }
  return SC_ERR_MALFORMED; /* unknown or repeated */
}

/* Parses the options after the '?': KEY=VALUE[&KEY=VALUE]..., with no
 * empty option anywhere (so no leading, trailing or doubled '&'). */
static int parse_options(sc_group_spec *g, const char *s) {
  unsigned seen = 0;
  for (;;) {
    token opt = {s, strcspn(s, "&")};
    int rv = parse_option(g, opt, &seen);
    if (rv != 0) {
      return rv;
    }
    if (s[opt.len] == '\0') {
      return 0;
    }
    s += opt.len + 1;
  }
}

static void compute_id(sc_group_spec *g) {
  uint8_t in[ID_INPUT_MAX];
  size_t name_len = strlen(g->name), n = 0;
  memcpy(in, ID_DOMAIN, ID_DOMAIN_LEN);
  n += ID_DOMAIN_LEN;
  in[n++] = (uint8_t)name_len;
  memcpy(in + n, g->name, name_len);
  n += name_len;
  in[n++] = (uint8_t)g->features;
  memcpy(in + n, g->secret_key, KEY_LEN);
  n += KEY_LEN;
  if (g->npublishers > 0) {
    size_t i;
    in[n++] = (uint8_t)g->npublishers;
    for (i = 0; i < g->npublishers; i++) {
      memcpy(in + n, g->publishers[i], KEY_LEN);
      n += KEY_LEN;
    }
  }
  crypto_generichash(g->id, SC_GROUP_ID_LEN, in, n, NULL, 0);
  sodium_memzero(in, sizeof(in)); /* it holds the proof key */
}

int sc_group_spec_parse(sc_group_spec *g, const char *spec) {
  token name = {spec, strcspn(spec, "?")};
  int rv = 0;
  memset(g, 0, sizeof(*g));
  if (name.len == 0 || name.len > SC_GROUP_NAME_MAX ||
      !all_spec_chars(name, "?&=")) {
    return SC_ERR_MALFORMED;
  }
  memcpy(g->name, name.p, name.len);
  g->features = SC_GROUP_ALL;
  if (spec[name.len] == '?') {
    rv = parse_options(g, spec + name.len + 1);
  }
  if (rv != 0) {
    sodium_memzero(g, sizeof(*g));
    return rv;
  }
  compute_id(g);
  return 0;
}

void sc_group_address(sc_ring_addr *out, const uint8_t group_id[32],
                      const uint8_t peer_id[SC_PEER_ID_LEN]) {
  uint8_t in[SC_GROUP_ID_LEN + SC_PEER_ID_LEN];
  memcpy(in, group_id, SC_GROUP_ID_LEN);
  memcpy(in + SC_GROUP_ID_LEN, peer_id, SC_PEER_ID_LEN);
  crypto_generichash(out->b, SC_RING_LEN, in, sizeof(in), NULL, 0);
}

void sc_group_proof(uint8_t out[SC_GROUP_PROOF_LEN], const sc_group_spec *g,
                    const uint8_t *hs_hash, size_t hs_len,
                    const uint8_t prover_id[SC_PEER_ID_LEN]) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, g->secret_key, KEY_LEN, SC_GROUP_PROOF_LEN);
  crypto_generichash_update(&st, (const unsigned char *)PROOF_DOMAIN,
                            PROOF_DOMAIN_LEN);
  crypto_generichash_update(&st, g->id, SC_GROUP_ID_LEN);
  crypto_generichash_update(&st, hs_hash, hs_len);
  crypto_generichash_update(&st, prover_id, SC_PEER_ID_LEN);
  crypto_generichash_final(&st, out, SC_GROUP_PROOF_LEN);
  sodium_memzero(&st, sizeof(st)); /* the key is in there */
}

int sc_group_proof_check(const uint8_t proof[SC_GROUP_PROOF_LEN],
                         const sc_group_spec *g, const uint8_t *hs_hash,
                         size_t hs_len,
                         const uint8_t prover_id[SC_PEER_ID_LEN]) {
  uint8_t want[SC_GROUP_PROOF_LEN];
  int ok;
  if (!g->has_secret) {
    return 1;
  }
  sc_group_proof(want, g, hs_hash, hs_len, prover_id);
  ok = sodium_memcmp(want, proof, SC_GROUP_PROOF_LEN) == 0;
  sodium_memzero(want, sizeof(want));
  return ok;
}
