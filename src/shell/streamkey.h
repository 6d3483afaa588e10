/*
 * streamkey.h: the publisher's Ed25519 stream key (--stream-key FILE).
 *
 * The file holds the 32-byte Ed25519 seed, raw; the 64-byte libsodium
 * secret key and the 32-byte public key are derived from it. Like the
 * identity it is created on first use (O_CREAT|O_EXCL, mode 0600, fsync'd)
 * and refused when it has the wrong size, is not a regular file or is
 * accessible to group or others (keyfile.h). Viewers name a publisher by
 * the public key in hex (--publisher HEX).
 */
#ifndef SC_SHELL_STREAMKEY_H
#define SC_SHELL_STREAMKEY_H

#include <stddef.h>
#include <stdint.h>

#define SC_STREAMKEY_FILE "stream.key" /* default name in the state dir */
#define SC_STREAMKEY_SEED_LEN 32       /* the file's contents */
#define SC_STREAMKEY_SECRET_LEN 64     /* libsodium crypto_sign secret key */
#define SC_STREAMKEY_PUBLIC_LEN 32     /* Ed25519 public key */
#define SC_STREAMKEY_HEX_LEN 65        /* 64 hex digits and a NUL */

typedef struct sc_streamkey {
  uint8_t secret[SC_STREAMKEY_SECRET_LEN]; /* for crypto_sign_detached */
  uint8_t pub[SC_STREAMKEY_PUBLIC_LEN];
} sc_streamkey;

/* sc_streamkey_load_or_create reads the seed in |path| or creates the file
 * with a fresh one (its directory must exist), and derives |key| from it.
 * |*created| is 1 when the file was made, else 0. |origin| starts every
 * message ("--stream-key", "FILE:LINE: stream-key"). Returns 0, or -1
 * with one line in |err| of |errlen| bytes; |key| is zeroed then. */
int sc_streamkey_load_or_create(sc_streamkey *key, const char *path,
                                const char *origin, int *created, char *err,
                                size_t errlen);

/* sc_streamkey_wipe zeroes |key|. */
void sc_streamkey_wipe(sc_streamkey *key);

/* sc_streamkey_hex writes |pub| as 64 lower-case hex characters and a NUL
 * into |out| and returns |out|. */
char *sc_streamkey_hex(char out[SC_STREAMKEY_HEX_LEN],
                       const uint8_t pub[SC_STREAMKEY_PUBLIC_LEN]);

/* sc_streamkey_parse_hex reads a public key from |hex|: exactly 64 hex
 * characters, either case. Returns 0, or -1 (|pub| untouched). */
int sc_streamkey_parse_hex(uint8_t pub[SC_STREAMKEY_PUBLIC_LEN],
                           const char *hex);

#endif /* SC_SHELL_STREAMKEY_H */
