/*
 * sc_noise.h: the Noise Protocol Framework (revision 34) for the suite
 * 25519_ChaChaPoly_BLAKE2b, on libsodium primitives.
 *
 * The engine interprets handshake patterns from a table, so it runs every
 * pattern in the spec: one-way (N, K, X), interactive (NN ... IX), deferred
 * (NK1 ... I1X1) and the pskN modifiers. stratocast sessions use
 * Noise_XX_25519_ChaChaPoly_BLAKE2b (doc/protocol.md §4).
 *
 * Nothing here allocates or keeps pointers to caller memory: a handshake
 * state can be copied with plain assignment (the session does so to try a
 * message without losing its state when the message is forged).
 *
 * Callers run sodium_init() first. The "fallback" modifier is not
 * supported.
 */
#ifndef SC_NOISE_H
#define SC_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "stratocast.h"

#define SC_NOISE_DHLEN 32
#define SC_NOISE_HASHLEN 64
#define SC_NOISE_KEYLEN 32
#define SC_NOISE_TAGLEN 16
#define SC_NOISE_MAX_MSG 65535
#define SC_NOISE_MAX_PSKS 4
#define SC_NOISE_MAX_TOKENS 8   /* tokens in one message pattern */
#define SC_NOISE_MAX_MESSAGES 6 /* message patterns in one handshake */

/* A CipherState (Noise §5.1). |n| is the next nonce. */
typedef struct sc_noise_cipher {
  uint8_t k[SC_NOISE_KEYLEN];
  uint64_t n;
  int has_key;
} sc_noise_cipher;

/* sc_noise_seal encrypts |ptlen| bytes of |pt| with ChaCha20-Poly1305 under
 * |key| and the nonce |n| (Noise: 32 zero bits then 64-bit little-endian n),
 * authenticating |ad|. Writes ptlen + SC_NOISE_TAGLEN bytes to |out|, which
 * may alias |pt|. Returns the length written, or SC_ERR_INVALID_ARG when
 * n == 2^64 - 1 (reserved by the spec) or |ptlen| is too large for
 * libsodium. */
sc_ssize sc_noise_seal(const uint8_t key[SC_NOISE_KEYLEN], uint64_t n,
                       const uint8_t *ad, size_t adlen, const uint8_t *pt,
                       size_t ptlen, uint8_t *out);

/* sc_noise_open authenticates and decrypts |ctlen| bytes of |ct| into |out|
 * (which may alias |ct|). Returns the plaintext length, SC_ERR_CRYPTO when
 * authentication fails or n == 2^64 - 1, or SC_ERR_BUFFER when
 * ctlen < SC_NOISE_TAGLEN. */
sc_ssize sc_noise_open(const uint8_t key[SC_NOISE_KEYLEN], uint64_t n,
                       const uint8_t *ad, size_t adlen, const uint8_t *ct,
                       size_t ctlen, uint8_t *out);

/* sc_noise_cipher_encrypt is EncryptWithAd: seals with the state's nonce and
 * increments it, or copies the plaintext when the state has no key. Returns
 * the output length or an error from sc_noise_seal. */
sc_ssize sc_noise_cipher_encrypt(sc_noise_cipher *cs, const uint8_t *ad,
                                 size_t adlen, const uint8_t *pt, size_t ptlen,
                                 uint8_t *out);

/* sc_noise_cipher_decrypt is DecryptWithAd; the nonce advances only on
 * success. Returns the plaintext length or an error from sc_noise_open. */
sc_ssize sc_noise_cipher_decrypt(sc_noise_cipher *cs, const uint8_t *ad,
                                 size_t adlen, const uint8_t *ct, size_t ctlen,
                                 uint8_t *out);

/* A HandshakeState (Noise §5.3) with its SymmetricState. Opaque in spirit:
 * use the functions below. */
typedef struct sc_noise_hs {
  sc_noise_cipher cs;
  uint8_t ck[SC_NOISE_HASHLEN];
  uint8_t h[SC_NOISE_HASHLEN];
  uint8_t s_priv[SC_NOISE_DHLEN], s_pub[SC_NOISE_DHLEN];
  uint8_t e_priv[SC_NOISE_DHLEN], e_pub[SC_NOISE_DHLEN];
  uint8_t rs[SC_NOISE_DHLEN], re[SC_NOISE_DHLEN];
  uint8_t psks[SC_NOISE_MAX_PSKS][SC_NOISE_KEYLEN];
  int has_s, has_e, has_rs, has_re;
  int npsks, psks_used, is_psk;
  int initiator;
  int msg_index; /* next message pattern to write or read */
  int nmessages; /* message patterns in this handshake */
  uint8_t tokens[SC_NOISE_MAX_MESSAGES][SC_NOISE_MAX_TOKENS];
  uint8_t ntokens[SC_NOISE_MAX_MESSAGES];
} sc_noise_hs;

/* Keys and options for sc_noise_hs_init. Pointers may be NULL when the
 * pattern does not need them; they are copied. */
typedef struct sc_noise_config {
  const char *protocol_name; /* e.g. "Noise_XX_25519_ChaChaPoly_BLAKE2b" */
  int initiator;
  const uint8_t *prologue;
  size_t prologue_len;
  const uint8_t *s;  /* local static secret key */
  const uint8_t *e;  /* local ephemeral secret key, drawn by the caller */
  const uint8_t *rs; /* remote static public key, if known in advance */
  const uint8_t *re; /* remote ephemeral public key (only some patterns) */
  const uint8_t (*psks)[SC_NOISE_KEYLEN];
  int npsks;
} sc_noise_config;

/* sc_noise_hs_init runs Initialize() (Noise §5.3) for |cfg|, including the
 * pre-message public keys. Returns 0, SC_ERR_INVALID_ARG for an unknown
 * protocol name or a key the pattern needs and |cfg| lacks, or
 * SC_ERR_CRYPTO. */
int sc_noise_hs_init(sc_noise_hs *hs, const sc_noise_config *cfg);

/* sc_noise_hs_write runs WriteMessage with |payload| and writes the message
 * into |out| of |cap| bytes (they must not overlap). Returns the message
 * length, SC_ERR_STATE when it is not this side's turn or the handshake is
 * over, SC_ERR_BUFFER when |out| is too small or the message would exceed
 * SC_NOISE_MAX_MSG, or SC_ERR_CRYPTO. A size error leaves |hs| as it
 * was. */
sc_ssize sc_noise_hs_write(sc_noise_hs *hs, const uint8_t *payload,
                           size_t payload_len, uint8_t *out, size_t cap);

/* sc_noise_hs_read runs ReadMessage on |msg| and writes the payload into
 * |payload| of |cap| bytes (they must not overlap). Returns the payload
 * length, SC_ERR_STATE, SC_ERR_BUFFER (output too small), SC_ERR_MALFORMED
 * (message too short, or longer than SC_NOISE_MAX_MSG) or SC_ERR_CRYPTO
 * (authentication or DH failed). After a crypto failure |hs| is in an
 * unspecified state: callers that must survive forged messages read into a
 * copy. */
sc_ssize sc_noise_hs_read(sc_noise_hs *hs, const uint8_t *msg, size_t len,
                          uint8_t *payload, size_t cap);

/* sc_noise_hs_is_done returns nonzero when every message has been processed
 * and sc_noise_hs_split may be called. */
int sc_noise_hs_is_done(const sc_noise_hs *hs);

/* sc_noise_hs_split runs Split(): |c1| encrypts initiator-to-responder,
 * |c2| responder-to-initiator. Returns 0 or SC_ERR_STATE before the end. */
int sc_noise_hs_split(const sc_noise_hs *hs, sc_noise_cipher *c1,
                      sc_noise_cipher *c2);

/* sc_noise_hs_remote_static returns the remote static public key or NULL
 * if it is not known yet. */
const uint8_t *sc_noise_hs_remote_static(const sc_noise_hs *hs);

/* sc_noise_hs_hash returns the handshake hash h (SC_NOISE_HASHLEN bytes). */
const uint8_t *sc_noise_hs_hash(const sc_noise_hs *hs);

/* sc_noise_hs_wipe zeroes every secret in |hs|. */
void sc_noise_hs_wipe(sc_noise_hs *hs);

#endif /* SC_NOISE_H */
