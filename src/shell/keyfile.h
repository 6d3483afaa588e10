/*
 * keyfile.h: a small secret key kept in a file of its own: the node's
 * identity (identity.c) and the stream key (streamkey.c).
 *
 * The file holds exactly the key's raw bytes and must be a regular file
 * that group and others cannot access. It is created on first use from
 * libsodium's CSPRNG (sodium_init must have run): O_CREAT|O_EXCL, mode
 * 0600, written fully, fsync'd, then its directory fsync'd.
 */
#ifndef SC_SHELL_KEYFILE_H
#define SC_SHELL_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

/* sc_keyfile_load_or_create reads the |len| bytes of |path| into |key|, or
 * creates |path| with |len| fresh random bytes when it does not exist
 * (the directory must exist). |*created| is set to 1 when the file was
 * made, else 0. |what| starts every message ("identity file", or
 * "--stream-key"), followed by the path. Returns 0, or -1 with one line in
 * |err| of |errlen| bytes: the file has the wrong size, is not a regular
 * file, has group or other permission bits, or I/O failed. |key| is zeroed
 * on failure. */
int sc_keyfile_load_or_create(const char *path, const char *what, uint8_t *key,
                              size_t len, int *created, char *err,
                              size_t errlen);

#endif /* SC_SHELL_KEYFILE_H */
