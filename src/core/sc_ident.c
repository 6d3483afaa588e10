/*
 * sc_ident.c: identities (X25519 static keys) and peer IDs.
 */
#include <sodium.h>

#include "stratocast.h"

int sc_identity_from_secret(const uint8_t secret[SC_KEY_LEN],
                            uint8_t pub[SC_KEY_LEN],
                            uint8_t peer_id[SC_PEER_ID_LEN]) {
  if (crypto_scalarmult_base(pub, secret) != 0) {
    return SC_ERR_CRYPTO;
  }
  /* doc/protocol.md §4.5: peer ID = BLAKE2b-256 of the public key. */
  crypto_generichash(peer_id, SC_PEER_ID_LEN, pub, SC_KEY_LEN, NULL, 0);
  return 0;
}

char *sc_hex(char *out, const uint8_t *in, size_t len) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
  return out;
}
