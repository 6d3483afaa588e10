/*
 * keyfile.c: load or create a raw secret key file.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads exactly |len| bytes; returns 0, or the errno (EIO for a short
 * file). */
static int read_all(int fd, uint8_t *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) {
        continue;
      }
      return e;
    }
    if (n == 0) {
      return EIO;
    }
    got += (size_t)n;
  }
  return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, buf + done, len - done);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) {
        continue;
      }
      return e;
    }
    done += (size_t)n;
  }
  return 0;
}

/* Checks and reads an open key file. */
static int load_fd(int fd, const char *path, const char *what, uint8_t *key,
                   size_t len, char *err, size_t errlen) {
  struct stat st;
  int e;
  if (fstat(fd, &st) != 0) {
    e = errno;
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s %s: not a regular file", what, path);
    return -1;
  }
  if ((st.st_mode & 077) != 0) {
    snprintf(err, errlen,
             "%s %s has mode %04o: group and others must have no access "
             "(chmod 600 %s)",
             what, path, (unsigned)(st.st_mode & 07777), path);
    return -1;
  }
  if (st.st_size < 0 || (unsigned long long)st.st_size != len) {
    snprintf(err, errlen, "%s %s: expected %zu bytes, found %lld", what, path,
             len, (long long)st.st_size);
    return -1;
  }
  e = read_all(fd, key, len);
  if (e != 0) {
    snprintf(err, errlen, "%s %s: cannot read: %s", what, path, strerror(e));
    return -1;
  }
  return 0;
}

/* Makes the new file's directory entry durable. Failure is not fatal: the
 * file itself was fsync'd and a lost entry only means a new key. */
static void sync_dir_of(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  size_t n;
  int fd;
  if (slash == NULL) {
    snprintf(dir, sizeof(dir), ".");
  } else {
    n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof(dir)) {
      return;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

/* Creates |path| with fresh random bytes. Returns 0, 1 if the file appeared
 * meanwhile (EEXIST), or -1 with a message. */
static int create_file(const char *path, const char *what, uint8_t *key,
                       size_t len, char *err, size_t errlen) {
  int fd, e;
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    e = errno;
    if (e == EEXIST) {
      return 1;
    }
    snprintf(err, errlen, "%s %s: cannot create: %s", what, path, strerror(e));
    return -1;
  }
  randombytes_buf(key, len);
  e = write_all(fd, key, len);
  if (e == 0 && fsync(fd) != 0) {
    e = errno;
  }
  if (close(fd) != 0 && e == 0) {
    e = errno;
  }
  if (e != 0) {
    snprintf(err, errlen, "%s %s: cannot write: %s", what, path, strerror(e));
    unlink(path);
    return -1;
  }
  sync_dir_of(path);
  return 0;
}

/* One attempt to open and load an existing file. Returns 0, 1 when it does
 * not exist, or -1 with a message. */
static int load_file(const char *path, const char *what, uint8_t *key,
                     size_t len, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) {
      return 1;
    }
    snprintf(err, errlen, "%s %s: cannot open: %s", what, path, strerror(e));
    return -1;
  }
  rc = load_fd(fd, path, what, key, len, err, errlen);
  close(fd);
  return rc;
}

int sc_keyfile_load_or_create(const char *path, const char *what, uint8_t *key,
                              size_t len, int *created, char *err,
                              size_t errlen) {
  int rc = 1, attempt;
  *created = 0;
  /* Two rounds: another process may create the file between our failed
   * open and our O_EXCL create; then we load what it wrote. */
  for (attempt = 0; attempt < 2; attempt++) {
    rc = load_file(path, what, key, len, err, errlen);
    if (rc != 1) {
      break;
    }
    rc = create_file(path, what, key, len, err, errlen);
    if (rc == 0) {
      *created = 1;
    }
    if (rc != 1) {
      break;
    }
  }
  if (rc == 1) {
    snprintf(err, errlen, "%s %s: appeared and vanished", what, path);
    rc = -1;
  }
  if (rc != 0) {
    sodium_memzero(key, len);
  }
  return rc;
}
