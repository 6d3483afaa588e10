/*
 * identity.c: load or create the node's X25519 identity secret.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "identity.h"

#include <stdio.h>

#include "config.h"
#include "keyfile.h"

int sc_identity_load_or_create(const char *dir, const char *origin,
                               uint8_t secret[SC_KEY_LEN], int *created,
                               char *err, size_t errlen) {
  char path[4096];
  *created = 0;
  if (sc_config_mkdir_private(dir, origin, err, errlen) != 0) {
    return -1;
  }
  if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SC_IDENTITY_FILE) >=
      sizeof(path)) {
    snprintf(err, errlen, "%s: path too long", origin);
    return -1;
  }
  return sc_keyfile_load_or_create(path, "identity file", secret, SC_KEY_LEN,
                                   created, err, errlen);
}
