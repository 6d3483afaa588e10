/*
 * identity.h: the node's long-term X25519 secret in STATE_DIR/identity.
 *
 * The file holds exactly SC_KEY_LEN raw bytes and must not be readable by
 * group or others. It is created on first start from libsodium's CSPRNG
 * (sodium_init must have run).
 */
#ifndef SC_SHELL_IDENTITY_H
#define SC_SHELL_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "stratocast.h"

#define SC_IDENTITY_FILE "identity"

/* sc_identity_load_or_create makes sure the state directory |dir| exists
 * (creating it 0700 when missing), then reads |dir|/identity into |secret|,
 * or creates that file (O_EXCL, mode 0600, fsync'd, then the directory
 * fsync'd) with fresh random bytes when it does not exist. |*created| is set
 * to 1 when a new identity was made, else 0. |origin| names the directory's
 * setting in messages ("--state-dir"). Returns 0, or -1 with one line in
 * |err| of |errlen| bytes: the directory is unusable, the file has the
 * wrong size, group or other permission bits set, or I/O failed. |secret|
 * is zeroed on failure. */
int sc_identity_load_or_create(const char *dir, const char *origin,
                               uint8_t secret[SC_KEY_LEN], int *created,
                               char *err, size_t errlen);

#endif /* SC_SHELL_IDENTITY_H */
