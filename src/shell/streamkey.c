/*
 * streamkey.c: load or create the Ed25519 stream key.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "streamkey.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "keyfile.h"

_Static_assert(SC_STREAMKEY_SEED_LEN == crypto_sign_SEEDBYTES, "seed length");
_Static_assert(SC_STREAMKEY_SECRET_LEN == crypto_sign_SECRETKEYBYTES,
               "secret key length");
_Static_assert(SC_STREAMKEY_PUBLIC_LEN == crypto_sign_PUBLICKEYBYTES,
               "public key length");

int sc_streamkey_load_or_create(sc_streamkey *key, const char *path,
                                const char *origin, int *created, char *err,
                                size_t errlen) {
  uint8_t seed[SC_STREAMKEY_SEED_LEN];
  int rc;
  memset(key, 0, sizeof(*key));
  if (sc_keyfile_load_or_create(path, origin, seed, sizeof(seed), created, err,
                                errlen) != 0) {
    return -1;
  }
  rc = crypto_sign_seed_keypair(key->pub, key->secret, seed);
  sodium_memzero(seed, sizeof(seed));
  if (rc != 0) {
    snprintf(err, errlen, "%s %s: cannot derive the key pair", origin, path);
    sc_streamkey_wipe(key);
    return -1;
  }
  return 0;
}

void sc_streamkey_wipe(sc_streamkey *key) { sodium_memzero(key, sizeof(*key)); }

char *sc_streamkey_hex(char out[SC_STREAMKEY_HEX_LEN],
                       const uint8_t pub[SC_STREAMKEY_PUBLIC_LEN]) {
  return sodium_bin2hex(out, SC_STREAMKEY_HEX_LEN, pub,
                        SC_STREAMKEY_PUBLIC_LEN);
}

int sc_streamkey_parse_hex(uint8_t pub[SC_STREAMKEY_PUBLIC_LEN],
                           const char *hex) {
  uint8_t tmp[SC_STREAMKEY_PUBLIC_LEN];
  size_t got = 0;
  const char *end = NULL;
  if (strlen(hex) != SC_STREAMKEY_HEX_LEN - 1 ||
      sodium_hex2bin(tmp, sizeof(tmp), hex, strlen(hex), NULL, &got, &end) !=
          0 ||
      got != sizeof(tmp) || *end != '\0') {
    return -1;
  }
  memcpy(pub, tmp, sizeof(tmp));
  return 0;
}
