/*
 * sc_noise.c: the Noise Protocol Framework, revision 34, for the suite
 * 25519_ChaChaPoly_BLAKE2b (doc/protocol.md §4).
 *
 * "§" without a document name cites the Noise specification, revision 34.
 * Handshake patterns live in a table of strings written the way the spec
 * writes them; sc_noise_hs_init compiles the chosen one (plus its pskN
 * modifiers) into the token arrays of sc_noise_hs, so the state holds no
 * pointers and stays copyable by assignment.
 */
#include "sc_noise.h"

#include <limits.h>
#include <sodium.h>
#include <string.h>

#include "sc_macro.h"
#include "stratocast.h"

enum {
  TOK_E = 1,
  TOK_S,
  TOK_EE,
  TOK_ES,
  TOK_SE,
  TOK_SS,
  TOK_PSK,
};

/* Pre-message keys (§7.1): bit flags, mixed e before s. */
enum { PRE_E = 1, PRE_S = 2 };

#define HMAC_BLOCKLEN 128 /* BLAKE2b block length (§12.8) */

typedef struct pattern_def {
  const char *name;
  uint8_t pre_i;    /* "-> ..." pre-message */
  uint8_t pre_r;    /* "<- ..." pre-message */
  const char *msgs; /* message patterns split by '|', tokens by ' ' */
} pattern_def;

static const pattern_def patterns[] = {
    /* §7.4 one-way */
    {"N", 0, PRE_S, "e es"},
    {"K", PRE_S, PRE_S, "e es ss"},
    {"X", 0, PRE_S, "e es s ss"},
    /* §7.5 interactive, fundamental */
    {"NN", 0, 0, "e|e ee"},
    {"NK", 0, PRE_S, "e es|e ee"},
    {"NX", 0, 0, "e|e ee s es"},
    {"KN", PRE_S, 0, "e|e ee se"},
    {"KK", PRE_S, PRE_S, "e es ss|e ee se"},
    {"KX", PRE_S, 0, "e|e ee se s es"},
    {"XN", 0, 0, "e|e ee|s se"},
    {"XK", 0, PRE_S, "e es|e ee|s se"},
    {"XX", 0, 0, "e|e ee s es|s se"},
    {"IN", 0, 0, "e s|e ee se"},
    {"IK", 0, PRE_S, "e es s ss|e ee se"},
    {"IX", 0, 0, "e s|e ee se s es"},
    /* §7.6 interactive, deferred */
    {"NK1", 0, PRE_S, "e|e ee es"},
    {"NX1", 0, 0, "e|e ee s|es"},
    {"X1N", 0, 0, "e|e ee|s|se"},
    {"X1K", 0, PRE_S, "e es|e ee|s|se"},
    {"XK1", 0, PRE_S, "e|e ee es|s se"},
    {"X1K1", 0, PRE_S, "e|e ee es|s|se"},
    {"X1X", 0, 0, "e|e ee s es|s|se"},
    {"XX1", 0, 0, "e|e ee s|es s se"},
    {"X1X1", 0, 0, "e|e ee s|es s|se"},
    {"K1N", PRE_S, 0, "e|e ee|se"},
    {"K1K", PRE_S, PRE_S, "e es|e ee|se"},
    {"KK1", PRE_S, PRE_S, "e|e ee se es"},
    {"K1K1", PRE_S, PRE_S, "e|e ee es|se"},
    {"K1X", PRE_S, 0, "e|e ee s es|se"},
    {"KX1", PRE_S, 0, "e|e ee se s|es"},
    {"K1X1", PRE_S, 0, "e|e ee s|se es"},
    {"I1N", 0, 0, "e s|e ee|se"},
    {"I1K", 0, PRE_S, "e es s|e ee|se"},
    {"IK1", 0, PRE_S, "e s|e ee se es"},
    {"I1K1", 0, PRE_S, "e s|e ee es|se"},
    {"I1X", 0, 0, "e s|e ee s es|se"},
    {"IX1", 0, 0, "e s|e ee se s|es"},
    {"I1X1", 0, 0, "e s|e ee s|se es"},
};

static const char name_prefix[] = "Noise_";
static const char name_suffix[] = "_25519_ChaChaPoly_BLAKE2b";

/* ---- hash, HMAC, HKDF (§4.3) ------------------------------------------ */

static void hash_update(crypto_generichash_state *st, const uint8_t *p,
                        size_t len) {
  if (len > 0) {
    crypto_generichash_update(st, p, len);
  }
}

/* HMAC-HASH per RFC 2104 with B = 128 over BLAKE2b-512, on the
 * concatenation |d1| || |d2|. BLAKE2b's own keyed mode is not HMAC and
 * would not match other Noise implementations. */
static void hmac(uint8_t out[SC_NOISE_HASHLEN], const uint8_t *key,
                 size_t keylen, const uint8_t *d1, size_t l1, const uint8_t *d2,
                 size_t l2) {
  uint8_t kb[HMAC_BLOCKLEN] = {0};
  uint8_t pad[HMAC_BLOCKLEN];
  uint8_t inner[SC_NOISE_HASHLEN];
  crypto_generichash_state st;
  size_t i;

  if (keylen > HMAC_BLOCKLEN) {
    crypto_generichash(kb, SC_NOISE_HASHLEN, key, keylen, NULL, 0);
  } else if (keylen > 0) {
    memcpy(kb, key, keylen);
  }
  for (i = 0; i < HMAC_BLOCKLEN; i++) {
    pad[i] = (uint8_t)(kb[i] ^ 0x36);
  }
  crypto_generichash_init(&st, NULL, 0, SC_NOISE_HASHLEN);
  hash_update(&st, pad, sizeof pad);
  hash_update(&st, d1, l1);
  hash_update(&st, d2, l2);
  crypto_generichash_final(&st, inner, sizeof inner);
  for (i = 0; i < HMAC_BLOCKLEN; i++) {
    pad[i] = (uint8_t)(kb[i] ^ 0x5c);
  }
  crypto_generichash_init(&st, NULL, 0, SC_NOISE_HASHLEN);
  hash_update(&st, pad, sizeof pad);
  hash_update(&st, inner, sizeof inner);
  crypto_generichash_final(&st, out, SC_NOISE_HASHLEN);
  sodium_memzero(kb, sizeof kb);
  sodium_memzero(pad, sizeof pad);
  sodium_memzero(inner, sizeof inner);
  sodium_memzero(&st, sizeof st);
}

/* HKDF(ck, ikm, 2 or 3) of §4.3. |o1| may alias |ck|: ck is consumed into
 * the temporary key before any output is written. |o3| may be NULL. */
static void hkdf(const uint8_t *ck, const uint8_t *ikm, size_t ikmlen,
                 uint8_t *o1, uint8_t *o2, uint8_t *o3) {
  static const uint8_t b1 = 1, b2 = 2, b3 = 3;
  uint8_t tk[SC_NOISE_HASHLEN];

  hmac(tk, ck, SC_NOISE_HASHLEN, ikm, ikmlen, NULL, 0);
  hmac(o1, tk, sizeof tk, &b1, 1, NULL, 0);
  hmac(o2, tk, sizeof tk, o1, SC_NOISE_HASHLEN, &b2, 1);
  if (o3 != NULL) {
    hmac(o3, tk, sizeof tk, o2, SC_NOISE_HASHLEN, &b3, 1);
  }
  sodium_memzero(tk, sizeof tk);
}

/* ---- CipherState (§5.1) ---------------------------------------------- */

/* §12.3: the 96-bit nonce is 32 zero bits then n little-endian. */
static void make_nonce(uint8_t nonce[12], uint64_t n) {
  int i;
  memset(nonce, 0, 4);
  for (i = 0; i < 8; i++) {
    nonce[4 + i] = (uint8_t)(n >> (8 * i));
  }
}

sc_ssize sc_noise_seal(const uint8_t key[SC_NOISE_KEYLEN], uint64_t n,
                       const uint8_t *ad, size_t adlen, const uint8_t *pt,
                       size_t ptlen, uint8_t *out) {
  uint8_t nonce[12];
  unsigned long long clen = 0;

  /* §5.1: 2^64 - 1 is reserved; the size bound keeps the result a
   * sc_ssize and inside what libsodium accepts. */
  if (n == UINT64_MAX ||
      ptlen > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX ||
      ptlen > (size_t)LONG_MAX - SC_NOISE_TAGLEN) {
    return SC_ERR_INVALID_ARG;
  }
  make_nonce(nonce, n);
  crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, ptlen, ad, adlen,
                                            NULL, nonce, key);
  return (sc_ssize)clen;
}

sc_ssize sc_noise_open(const uint8_t key[SC_NOISE_KEYLEN], uint64_t n,
                       const uint8_t *ad, size_t adlen, const uint8_t *ct,
                       size_t ctlen, uint8_t *out) {
  uint8_t nonce[12];
  unsigned long long mlen = 0;

  if (ctlen < SC_NOISE_TAGLEN) {
    return SC_ERR_BUFFER;
  }
  /* The reserved nonce never seals anything, so nothing can open under it;
   * refuse it like a failed tag rather than let a peer probe it. */
  if (n == UINT64_MAX || ctlen - SC_NOISE_TAGLEN > (size_t)LONG_MAX) {
    return SC_ERR_CRYPTO;
  }
  make_nonce(nonce, n);
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, ctlen, ad,
                                                adlen, nonce, key) != 0) {
    return SC_ERR_CRYPTO;
  }
  return (sc_ssize)mlen;
}

/* Without a key, EncryptWithAd and DecryptWithAd return the input as is. */
static sc_ssize copy_through(const uint8_t *in, size_t len, uint8_t *out) {
  if (len > (size_t)LONG_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  if (len > 0 && out != in) {
    memmove(out, in, len);
  }
  return (sc_ssize)len;
}

sc_ssize sc_noise_cipher_encrypt(sc_noise_cipher *cs, const uint8_t *ad,
                                 size_t adlen, const uint8_t *pt, size_t ptlen,
                                 uint8_t *out) {
  sc_ssize rv;

  if (!cs->has_key) {
    return copy_through(pt, ptlen, out);
  }
  rv = sc_noise_seal(cs->k, cs->n, ad, adlen, pt, ptlen, out);
  if (rv >= 0) {
    cs->n++;
  }
  return rv;
}

sc_ssize sc_noise_cipher_decrypt(sc_noise_cipher *cs, const uint8_t *ad,
                                 size_t adlen, const uint8_t *ct, size_t ctlen,
                                 uint8_t *out) {
  sc_ssize rv;

  if (!cs->has_key) {
    return copy_through(ct, ctlen, out);
  }
  rv = sc_noise_open(cs->k, cs->n, ad, adlen, ct, ctlen, out);
  if (rv >= 0) {
    cs->n++;
  }
  return rv;
}

/* InitializeKey (§5.1) from the first 32 bytes of a 64-byte HKDF output
 * (§5.2: truncate temp_k when HASHLEN is 64). */
static void cipher_init_key(sc_noise_cipher *cs, const uint8_t *k) {
  memcpy(cs->k, k, SC_NOISE_KEYLEN);
  cs->n = 0;
  cs->has_key = 1;
}

/* ---- SymmetricState (§5.2) ------------------------------------------- */

static void mix_hash(sc_noise_hs *hs, const uint8_t *data, size_t len) {
  crypto_generichash_state st;

  crypto_generichash_init(&st, NULL, 0, SC_NOISE_HASHLEN);
  hash_update(&st, hs->h, sizeof hs->h);
  hash_update(&st, data, len);
  crypto_generichash_final(&st, hs->h, sizeof hs->h);
}

static void mix_key(sc_noise_hs *hs, const uint8_t *ikm, size_t len) {
  uint8_t tk[SC_NOISE_HASHLEN];

  hkdf(hs->ck, ikm, len, hs->ck, tk, NULL);
  cipher_init_key(&hs->cs, tk);
  sodium_memzero(tk, sizeof tk);
}

static void mix_key_and_hash(sc_noise_hs *hs, const uint8_t *ikm, size_t len) {
  uint8_t th[SC_NOISE_HASHLEN], tk[SC_NOISE_HASHLEN];

  hkdf(hs->ck, ikm, len, hs->ck, th, tk);
  mix_hash(hs, th, sizeof th);
  cipher_init_key(&hs->cs, tk);
  sodium_memzero(th, sizeof th);
  sodium_memzero(tk, sizeof tk);
}

/* EncryptAndHash: |out| needs len (+ SC_NOISE_TAGLEN with a key). */
static sc_ssize encrypt_and_hash(sc_noise_hs *hs, const uint8_t *pt, size_t len,
                                 uint8_t *out) {
  sc_ssize rv;

  rv = sc_noise_cipher_encrypt(&hs->cs, hs->h, sizeof hs->h, pt, len, out);
  if (rv >= 0) {
    mix_hash(hs, out, (size_t)rv);
  }
  return rv;
}

/* DecryptAndHash: the hash absorbs the ciphertext, and only once it has
 * served as associated data. */
static sc_ssize decrypt_and_hash(sc_noise_hs *hs, const uint8_t *ct, size_t len,
                                 uint8_t *out) {
  sc_ssize rv;

  rv = sc_noise_cipher_decrypt(&hs->cs, hs->h, sizeof hs->h, ct, len, out);
  if (rv >= 0) {
    mix_hash(hs, ct, len);
  }
  return rv;
}

/* ---- pattern compilation (§7, §8, §9.4) ------------------------------ */

static int token_from_word(const char *w, size_t len) {
  static const struct {
    const char *word;
    int tok;
  } words[] = {{"e", TOK_E},   {"s", TOK_S},   {"ee", TOK_EE},
               {"es", TOK_ES}, {"se", TOK_SE}, {"ss", TOK_SS}};
  size_t i;

  for (i = 0; i < SC_ARRAY_LEN(words); i++) {
    if (strlen(words[i].word) == len && memcmp(words[i].word, w, len) == 0) {
      return words[i].tok;
    }
  }
  return 0;
}

static int push_token(sc_noise_hs *hs, int msg, int tok) {
  if (hs->ntokens[msg] >= SC_NOISE_MAX_TOKENS) {
    return SC_ERR_INVALID_ARG;
  }
  hs->tokens[msg][hs->ntokens[msg]++] = (uint8_t)tok;
  return 0;
}

/* Fills the token arrays from a table entry's message string. */
static int compile_messages(sc_noise_hs *hs, const char *s) {
  const char *w;
  int tok;

  hs->nmessages = 1;
  while (*s != '\0') {
    if (*s == '|' || *s == ' ') {
      if (*s == '|' && hs->nmessages++ >= SC_NOISE_MAX_MESSAGES) {
        return SC_ERR_INVALID_ARG;
      }
      s++;
      continue;
    }
    for (w = s; *s != '\0' && *s != '|' && *s != ' '; s++) {
    }
    tok = token_from_word(w, (size_t)(s - w));
    if (tok == 0 || push_token(hs, hs->nmessages - 1, tok) != 0) {
      return SC_ERR_INVALID_ARG;
    }
  }
  return 0;
}

/* §9.4: psk0 puts "psk" first in the first message pattern, pskN (N > 0)
 * last in the N-th. */
static int apply_psk(sc_noise_hs *hs, int n) {
  int msg = n == 0 ? 0 : n - 1;

  if (n > hs->nmessages || hs->npsks >= SC_NOISE_MAX_PSKS ||
      hs->ntokens[msg] >= SC_NOISE_MAX_TOKENS) {
    return SC_ERR_INVALID_ARG;
  }
  if (n == 0) {
    memmove(&hs->tokens[0][1], &hs->tokens[0][0], hs->ntokens[0]);
    hs->tokens[0][0] = TOK_PSK;
    hs->ntokens[0]++;
  } else {
    hs->tokens[msg][hs->ntokens[msg]++] = TOK_PSK;
  }
  hs->npsks++;
  hs->is_psk = 1;
  return 0;
}

/* Parses "psk0+psk2"-style modifiers (§8) of |len| bytes. Only pskN is
 * supported; "fallback" and anything else are rejected. */
static int apply_modifiers(sc_noise_hs *hs, const char *m, size_t len) {
  const char *end = m + len;

  while (m < end) {
    int n;
    if ((size_t)(end - m) < 4 || memcmp(m, "psk", 3) != 0 || m[3] < '0' ||
        m[3] > '9') {
      return SC_ERR_INVALID_ARG;
    }
    n = m[3] - '0';
    m += 4;
    /* One digit: no pattern has ten messages, and "psk01" is not a name. */
    if (m < end && *m != '+') {
      return SC_ERR_INVALID_ARG;
    }
    if (apply_psk(hs, n) != 0) {
      return SC_ERR_INVALID_ARG;
    }
    if (m < end && ++m == end) {
      return SC_ERR_INVALID_ARG; /* trailing '+' */
    }
  }
  return 0;
}

/* Splits "Noise_<PATTERN><modifiers>_25519_ChaChaPoly_BLAKE2b" and compiles
 * the pattern into |hs|. Returns the table entry or NULL. */
static const pattern_def *compile_name(sc_noise_hs *hs, const char *name) {
  size_t len = strlen(name), plen = sizeof name_prefix - 1,
         slen = sizeof name_suffix - 1, blen, mlen;
  const char *body;
  size_t i;

  if (len <= plen + slen || memcmp(name, name_prefix, plen) != 0 ||
      memcmp(name + len - slen, name_suffix, slen) != 0) {
    return NULL;
  }
  body = name + plen;
  mlen = len - plen - slen;
  /* Pattern names are upper case and digits; modifiers start lower case. */
  for (blen = 0; blen < mlen && (body[blen] < 'a' || body[blen] > 'z');
       blen++) {
  }
  for (i = 0; i < SC_ARRAY_LEN(patterns); i++) {
    if (strlen(patterns[i].name) == blen &&
        memcmp(patterns[i].name, body, blen) == 0) {
      break;
    }
  }
  if (i == SC_ARRAY_LEN(patterns) ||
      compile_messages(hs, patterns[i].msgs) != 0 ||
      apply_modifiers(hs, body + blen, mlen - blen) != 0) {
    return NULL;
  }
  return &patterns[i];
}

/* ---- HandshakeState (§5.3) ------------------------------------------- */

static int is_sender(const sc_noise_hs *hs, int msg) {
  /* Every pattern starts with the initiator and then alternates (§7.1). */
  return (msg % 2 == 0) == (hs->initiator != 0);
}

/* The local keys |hs| will need: PRE_E and PRE_S bits. */
static int needed_local_keys(const sc_noise_hs *hs, uint8_t pre_local) {
  int need = pre_local, m, t;

  for (m = 0; m < hs->nmessages; m++) {
    if (!is_sender(hs, m)) {
      continue;
    }
    for (t = 0; t < hs->ntokens[m]; t++) {
      if (hs->tokens[m][t] == TOK_E) {
        need |= PRE_E;
      } else if (hs->tokens[m][t] == TOK_S) {
        need |= PRE_S;
      }
    }
  }
  return need;
}

static int set_keypair(uint8_t priv[SC_NOISE_DHLEN],
                       uint8_t pub[SC_NOISE_DHLEN], const uint8_t *secret) {
  memcpy(priv, secret, SC_NOISE_DHLEN);
  return crypto_scalarmult_base(pub, priv) == 0 ? 0 : SC_ERR_CRYPTO;
}

/* Copies the keys of |cfg| that the pattern needs, after checking they
 * are there. */
static int load_keys(sc_noise_hs *hs, const sc_noise_config *cfg,
                     const pattern_def *p) {
  uint8_t pre_local = hs->initiator ? p->pre_i : p->pre_r;
  uint8_t pre_remote = hs->initiator ? p->pre_r : p->pre_i;
  int need = needed_local_keys(hs, pre_local), i;

  if (((need & PRE_S) && cfg->s == NULL) ||
      ((need & PRE_E) && cfg->e == NULL) ||
      ((pre_remote & PRE_S) && cfg->rs == NULL) ||
      ((pre_remote & PRE_E) && cfg->re == NULL) || cfg->npsks < hs->npsks ||
      (hs->npsks > 0 && cfg->psks == NULL)) {
    return SC_ERR_INVALID_ARG;
  }
  if (cfg->s != NULL && set_keypair(hs->s_priv, hs->s_pub, cfg->s) != 0) {
    return SC_ERR_CRYPTO;
  }
  hs->has_s = cfg->s != NULL;
  if (cfg->e != NULL && set_keypair(hs->e_priv, hs->e_pub, cfg->e) != 0) {
    return SC_ERR_CRYPTO;
  }
  hs->has_e = cfg->e != NULL;
  /* Remote keys are learnt from pre-messages only; a key the peer will
   * send must not be taken from |cfg|, or "e"/"s" would find it set. */
  if (pre_remote & PRE_S) {
    memcpy(hs->rs, cfg->rs, SC_NOISE_DHLEN);
    hs->has_rs = 1;
  }
  if (pre_remote & PRE_E) {
    memcpy(hs->re, cfg->re, SC_NOISE_DHLEN);
    hs->has_re = 1;
  }
  for (i = 0; i < hs->npsks; i++) {
    memcpy(hs->psks[i], cfg->psks[i], SC_NOISE_KEYLEN);
  }
  return 0;
}

/* §9.2: in a PSK handshake every "e", pre-message ones included, is also
 * MixKey'ed so the psk protects later encryption. */
static void mix_ephemeral(sc_noise_hs *hs, const uint8_t pub[SC_NOISE_DHLEN]) {
  mix_hash(hs, pub, SC_NOISE_DHLEN);
  if (hs->is_psk) {
    mix_key(hs, pub, SC_NOISE_DHLEN);
  }
}

/* Mixes one side's pre-message (§7.1: e before s). */
static void mix_premessage(sc_noise_hs *hs, uint8_t pre, int local) {
  if (pre & PRE_E) {
    mix_ephemeral(hs, local ? hs->e_pub : hs->re);
  }
  if (pre & PRE_S) {
    mix_hash(hs, local ? hs->s_pub : hs->rs, SC_NOISE_DHLEN);
  }
}

static int hs_setup(sc_noise_hs *hs, const sc_noise_config *cfg) {
  const pattern_def *p;
  size_t len;
  int rv;

  if (cfg == NULL || cfg->protocol_name == NULL ||
      (cfg->prologue == NULL && cfg->prologue_len > 0) || cfg->npsks < 0) {
    return SC_ERR_INVALID_ARG;
  }
  hs->initiator = cfg->initiator != 0;
  p = compile_name(hs, cfg->protocol_name);
  if (p == NULL) {
    return SC_ERR_INVALID_ARG;
  }
  rv = load_keys(hs, cfg, p);
  if (rv != 0) {
    return rv;
  }
  /* §5.2 InitializeSymmetric: a name that fits is used as h directly. */
  len = strlen(cfg->protocol_name);
  if (len <= SC_NOISE_HASHLEN) {
    memcpy(hs->h, cfg->protocol_name, len);
  } else {
    crypto_generichash(hs->h, sizeof hs->h, (const uint8_t *)cfg->protocol_name,
                       len, NULL, 0);
  }
  memcpy(hs->ck, hs->h, sizeof hs->ck);
  mix_hash(hs, cfg->prologue, cfg->prologue_len);
  /* §5.3 Initialize: the initiator's pre-message keys first. */
  mix_premessage(hs, p->pre_i, hs->initiator);
  mix_premessage(hs, p->pre_r, !hs->initiator);
  return 0;
}

int sc_noise_hs_init(sc_noise_hs *hs, const sc_noise_config *cfg) {
  int rv;

  sodium_memzero(hs, sizeof *hs);
  rv = hs_setup(hs, cfg);
  if (rv != 0) {
    sc_noise_hs_wipe(hs);
  }
  return rv;
}

/* The bytes message |msg| adds around its payload: 32 per key, plus a tag
 * for each "s" and for the payload once a key exists, found by replaying
 * where MixKey happens. */
static size_t msg_overhead(const sc_noise_hs *hs, int msg) {
  int has_key = hs->cs.has_key, t;
  size_t n = 0;

  for (t = 0; t < hs->ntokens[msg]; t++) {
    switch (hs->tokens[msg][t]) {
    case TOK_E:
      n += SC_NOISE_DHLEN;
      has_key |= hs->is_psk;
      break;
    case TOK_S:
      n += SC_NOISE_DHLEN + (has_key ? (size_t)SC_NOISE_TAGLEN : 0);
      break;
    default: /* every DH token and psk run MixKey */
      has_key = 1;
      break;
    }
  }
  return n + (has_key ? (size_t)SC_NOISE_TAGLEN : 0);
}

/* DH(|priv|, |pub|) fed to MixKey; a low-order |pub| gives an all-zero
 * result that libsodium refuses (§12.1 allows either way; we refuse). */
static int mix_dh(sc_noise_hs *hs, const uint8_t *priv, int has_priv,
                  const uint8_t *pub, int has_pub) {
  uint8_t shared[SC_NOISE_DHLEN];
  int rv = 0;

  if (!has_priv || !has_pub) {
    return SC_ERR_STATE;
  }
  if (crypto_scalarmult(shared, priv, pub) != 0) {
    rv = SC_ERR_CRYPTO;
  } else {
    mix_key(hs, shared, sizeof shared);
  }
  sodium_memzero(shared, sizeof shared);
  return rv;
}

/* The DH and psk tokens, the same on both sides up to the role swap of
 * "es" and "se" (§5.3). */
static int run_key_token(sc_noise_hs *hs, int tok) {
  int i = hs->initiator;

  switch (tok) {
  case TOK_EE:
    return mix_dh(hs, hs->e_priv, hs->has_e, hs->re, hs->has_re);
  case TOK_ES:
    return i ? mix_dh(hs, hs->e_priv, hs->has_e, hs->rs, hs->has_rs)
             : mix_dh(hs, hs->s_priv, hs->has_s, hs->re, hs->has_re);
  case TOK_SE:
    return i ? mix_dh(hs, hs->s_priv, hs->has_s, hs->re, hs->has_re)
             : mix_dh(hs, hs->e_priv, hs->has_e, hs->rs, hs->has_rs);
  case TOK_SS:
    return mix_dh(hs, hs->s_priv, hs->has_s, hs->rs, hs->has_rs);
  case TOK_PSK:
    if (hs->psks_used >= hs->npsks) {
      return SC_ERR_STATE;
    }
    mix_key_and_hash(hs, hs->psks[hs->psks_used++], SC_NOISE_KEYLEN);
    return 0;
  default:
    return SC_ERR_STATE;
  }
}

static sc_ssize check_turn(const sc_noise_hs *hs, int writing) {
  if (hs->msg_index >= hs->nmessages ||
      is_sender(hs, hs->msg_index) != writing) {
    return SC_ERR_STATE;
  }
  return 0;
}

/* Writes an "s" token, sealed once a key exists; returns its length. */
static sc_ssize write_static(sc_noise_hs *hs, uint8_t *out) {
  if (!hs->has_s) {
    return SC_ERR_STATE;
  }
  return encrypt_and_hash(hs, hs->s_pub, SC_NOISE_DHLEN, out);
}

sc_ssize sc_noise_hs_write(sc_noise_hs *hs, const uint8_t *payload,
                           size_t payload_len, uint8_t *out, size_t cap) {
  int msg = hs->msg_index, t;
  size_t off = 0;
  sc_ssize rv = check_turn(hs, 1);

  if (rv != 0) {
    return rv;
  }
  /* Check the size before touching the state, so a caller can retry with
   * a larger buffer; §3 caps any message at 65535 bytes. */
  off = msg_overhead(hs, msg);
  if (payload_len > SC_MIN(cap, SC_NOISE_MAX_MSG) ||
      off > SC_MIN(cap, SC_NOISE_MAX_MSG) - payload_len) {
    return SC_ERR_BUFFER;
  }
  off = 0;
  for (t = 0; t < hs->ntokens[msg]; t++) {
    int tok = hs->tokens[msg][t];
    if (tok == TOK_E) {
      if (!hs->has_e) {
        return SC_ERR_STATE;
      }
      memcpy(out + off, hs->e_pub, SC_NOISE_DHLEN);
      off += SC_NOISE_DHLEN;
      mix_ephemeral(hs, hs->e_pub);
      continue;
    }
    rv = tok == TOK_S ? write_static(hs, out + off) : run_key_token(hs, tok);
    if (rv < 0) {
      return rv;
    }
    off += (size_t)rv;
  }
  rv = encrypt_and_hash(hs, payload, payload_len, out + off);
  if (rv < 0) {
    return rv;
  }
  hs->msg_index++;
  return (sc_ssize)(off + (size_t)rv);
}

/* Reads an "s" token: the 32-byte key, sealed once a key exists. */
static sc_ssize read_static(sc_noise_hs *hs, const uint8_t *p) {
  size_t len = SC_NOISE_DHLEN + (hs->cs.has_key ? SC_NOISE_TAGLEN : 0);
  uint8_t rs[SC_NOISE_DHLEN + SC_NOISE_TAGLEN];
  sc_ssize rv;

  if (hs->has_rs) {
    return SC_ERR_STATE;
  }
  rv = decrypt_and_hash(hs, p, len, rs);
  if (rv < 0) {
    return rv;
  }
  memcpy(hs->rs, rs, SC_NOISE_DHLEN);
  hs->has_rs = 1;
  return (sc_ssize)len;
}

sc_ssize sc_noise_hs_read(sc_noise_hs *hs, const uint8_t *msg, size_t len,
                          uint8_t *payload, size_t cap) {
  int m = hs->msg_index, t;
  size_t off = 0, need;
  sc_ssize rv = check_turn(hs, 0);

  if (rv != 0) {
    return rv;
  }
  /* Every length is known from the pattern, so the bounds are checked
   * once here and the token loop never reads past |len|. */
  need = msg_overhead(hs, m);
  if (len < need || len > SC_NOISE_MAX_MSG) {
    return SC_ERR_MALFORMED;
  }
  if (len - need > cap) {
    return SC_ERR_BUFFER;
  }
  for (t = 0; t < hs->ntokens[m]; t++) {
    int tok = hs->tokens[m][t];
    if (tok == TOK_E) {
      if (hs->has_re) {
        return SC_ERR_STATE;
      }
      memcpy(hs->re, msg + off, SC_NOISE_DHLEN);
      hs->has_re = 1;
      off += SC_NOISE_DHLEN;
      mix_ephemeral(hs, hs->re);
      continue;
    }
    rv = tok == TOK_S ? read_static(hs, msg + off) : run_key_token(hs, tok);
    if (rv < 0) {
      return rv;
    }
    off += (size_t)rv;
  }
  rv = decrypt_and_hash(hs, msg + off, len - off, payload);
  if (rv < 0) {
    return rv;
  }
  hs->msg_index++;
  return rv;
}

int sc_noise_hs_is_done(const sc_noise_hs *hs) {
  return hs->nmessages > 0 && hs->msg_index >= hs->nmessages;
}

int sc_noise_hs_split(const sc_noise_hs *hs, sc_noise_cipher *c1,
                      sc_noise_cipher *c2) {
  uint8_t k1[SC_NOISE_HASHLEN], k2[SC_NOISE_HASHLEN];

  if (!sc_noise_hs_is_done(hs)) {
    return SC_ERR_STATE;
  }
  hkdf(hs->ck, NULL, 0, k1, k2, NULL);
  cipher_init_key(c1, k1);
  cipher_init_key(c2, k2);
  sodium_memzero(k1, sizeof k1);
  sodium_memzero(k2, sizeof k2);
  return 0;
}

const uint8_t *sc_noise_hs_remote_static(const sc_noise_hs *hs) {
  return hs->has_rs ? hs->rs : NULL;
}

const uint8_t *sc_noise_hs_hash(const sc_noise_hs *hs) { return hs->h; }

void sc_noise_hs_wipe(sc_noise_hs *hs) { sodium_memzero(hs, sizeof *hs); }
