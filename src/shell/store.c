/*
 * store.c: the peer history in SQLite (see store.h).
 *
 * Schema version 1 is one table, keyed by the 32-byte peer ID (SCHEMA_V1
 * below). Counters only ever grow by the deltas of a flush, so two flushes
 * (or two daemons) never overwrite each other's counts. A failed handshake
 * (sc_store_note_failed) counts as a failure but does not move last_seen:
 * the peer was not seen, and sc_store_best's |max_age| should let a peer
 * that only ever fails age out. A peer known only from failures has
 * last_seen 0.
 *
 * The file is untrusted when read: rows whose peer ID is not a 32-byte blob
 * or whose address does not parse are skipped, negative counters read as 0.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "store.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "sc_macro.h"

#define STORE_STR2(x) #x
#define STORE_STR(x) STORE_STR2(x)

/* How long a statement waits for another connection's lock. The flush runs
 * on the event loop, so this is short: a busy flush is retried later. */
#define STORE_BUSY_MS 200
#define STORE_SLOTS ((size_t)2 * SC_STORE_PENDING_MAX)
#define STORE_PATH_MAX 4096
#define STORE_REASON_MAX 512
#define STORE_TAG_TRIES 1000 /* ".corrupt-T", ".corrupt-T-1", ... */

_Static_assert((STORE_SLOTS & (STORE_SLOTS - 1)) == 0,
               "the slot count must be a power of two");
_Static_assert(SC_STORE_PENDING_MAX < UINT16_MAX,
               "pending indexes must fit the uint16_t slots");

static const char SCHEMA_V1[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS peers ("
    " peer_id BLOB NOT NULL PRIMARY KEY,"
    " addr TEXT,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " sessions INTEGER NOT NULL DEFAULT 0,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " rtt_us INTEGER NOT NULL DEFAULT 0,"
    " bytes_sent INTEGER NOT NULL DEFAULT 0,"
    " bytes_received INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "PRAGMA user_version = " STORE_STR(SC_STORE_SCHEMA_VERSION) "; COMMIT;";

/* A NULL address keeps the stored one; rtt_us 0 means "unknown" and keeps
 * the stored one too. Negative counters (a hand-edited file) restart from
 * 0, as read_row reads them. */
static const char UPSERT_SQL[] =
    "INSERT INTO peers (peer_id, addr, first_seen, last_seen, sessions,"
    " failures, rtt_us, bytes_sent, bytes_received)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    " ON CONFLICT (peer_id) DO UPDATE SET"
    " addr = COALESCE(excluded.addr, addr),"
    " first_seen = MIN(first_seen, excluded.first_seen),"
    " last_seen = MAX(last_seen, excluded.last_seen),"
    " sessions = MAX(sessions, 0) + excluded.sessions,"
    " failures = MAX(failures, 0) + excluded.failures,"
    " rtt_us = CASE WHEN excluded.rtt_us > 0 THEN excluded.rtt_us"
    " ELSE rtt_us END,"
    " bytes_sent = MAX(bytes_sent, 0) + excluded.bytes_sent,"
    " bytes_received = MAX(bytes_received, 0) + excluded.bytes_received";

#define STORE_COLUMNS                                                          \
  "SELECT peer_id, addr, first_seen, last_seen, sessions, failures, rtt_us,"   \
  " bytes_sent, bytes_received FROM peers"

/* The score as read_row computes it, with the same clamping, so that the
 * order matches the scores handed out. Unknown RTTs sort last. */
static const char BEST_SQL[] =
    STORE_COLUMNS " WHERE ?1 IS NULL OR last_seen >= ?1"
                  " ORDER BY (MAX(sessions, 0) + 1.0)"
                  " / (MAX(sessions, 0) * 1.0 + MAX(failures, 0) + 2.0) DESC,"
                  " last_seen DESC,"
                  " CASE WHEN rtt_us > 0 THEN rtt_us"
                  " ELSE 9223372036854775807 END,"
                  " peer_id";

static const char EACH_SQL[] =
    STORE_COLUMNS " ORDER BY last_seen DESC, peer_id";

/* The files that make up one database, moved aside together. -journal is
 * not used in WAL mode, but a stale one must not be replayed into the
 * fresh database. */
static const char *const store_suffixes[] = {"", "-wal", "-shm", "-journal"};

/* Unflushed changes to one peer, coalesced. */
typedef struct store_delta {
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr;
  int has_addr, has_seen;
  int64_t first_seen, last_seen;
  uint64_t sessions, failures, rtt_us, bytes_sent, bytes_received;
} store_delta;

struct sc_store {
  sqlite3 *db;
  sqlite3_stmt *upsert;
  const sc_logger *log;
  store_delta *pending; /* SC_STORE_PENDING_MAX; the first npending used */
  size_t npending;
  uint16_t *slots; /* STORE_SLOTS; 0 empty, else 1 + index into pending */
  /* Keyed hash, so that chosen peer IDs cannot make long probe runs. */
  uint8_t hash_key[crypto_shorthash_KEYBYTES];
  uint64_t failing; /* flushes failed in a row */
  sc_store_stats stats;
};

/* What an attempt to open the database found. */
enum store_verdict {
  STORE_OK,
  STORE_BAD,  /* corrupt, unreadable or foreign: move it aside */
  STORE_FAIL, /* busy, out of memory or disk: leave it, give up */
};

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static sqlite3_int64 to_i64(uint64_t v) {
  return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

static uint64_t to_u64(sqlite3_int64 v) { return v < 0 ? 0 : (uint64_t)v; }

static double score_of(uint64_t sessions, uint64_t failures) {
  return ((double)sessions + 1.0) / ((double)sessions + (double)failures + 2.0);
}

/* Errors worth retrying later rather than a reason to discard the file. */
static enum store_verdict verdict_of(int rc) {
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
  case SQLITE_NOMEM:
  case SQLITE_INTERRUPT:
  case SQLITE_FULL:
    return STORE_FAIL;
  default:
    return STORE_BAD;
  }
}

/* Records |db|'s last error as the reason; returns the verdict for |rc|. */
static enum store_verdict db_failed(sqlite3 *db, int rc, const char *what,
                                    char *reason, size_t len) {
  snprintf(reason, len, "%s: %s", what,
           db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return verdict_of(rc);
}

/* Runs |sql| and copies the first column of its first row (empty when
 * there is none) into |text|. Returns an SQLite result code. */
static int pragma_row(sqlite3 *db, const char *sql, char *text, size_t len) {
  sqlite3_stmt *s;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
  if (rc != SQLITE_OK) {
    return rc;
  }
  text[0] = '\0';
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(s, 0);
    snprintf(text, len, "%s", t != NULL ? (const char *)t : "");
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  }
  /* On error finalize returns the step's code again and keeps errmsg. */
  (void)sqlite3_finalize(s);
  return rc;
}

/* Refuses anything but a regular file (or nothing) at |path|: a directory,
 * a symlink or a device is moved aside rather than followed. */
static enum store_verdict check_file(const char *path, char *reason,
                                     size_t len) {
  struct stat sb;
  if (lstat(path, &sb) != 0) {
    int e = errno;
    if (e == ENOENT) {
      return STORE_OK;
    }
    snprintf(reason, len, "cannot stat: %s", strerror(e));
    return e == ENOMEM ? STORE_FAIL : STORE_BAD;
  }
  if (!S_ISREG(sb.st_mode)) {
    snprintf(reason, len, "not a regular file");
    return STORE_BAD;
  }
  return STORE_OK;
}

/* Makes the database files mode 0600 whatever the umask was when SQLite
 * created them (it uses 0644 & ~umask); -wal and -shm copy the mode of the
 * database when SQLite creates them, but stale ones may not. */
static enum store_verdict fix_modes(const char *path, char *reason,
                                    size_t len) {
  char name[STORE_PATH_MAX + 16];
  struct stat sb;
  size_t i;
  int e;
  for (i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "%s%s", path, store_suffixes[i]);
    if (lstat(name, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (sb.st_mode & 07777) == 0600) {
      continue;
    }
    if (chmod(name, 0600) != 0) {
      e = errno;
      snprintf(reason, len, "cannot chmod 600 %s%s: %s", SC_STORE_FILE,
               store_suffixes[i], strerror(e));
      return STORE_BAD;
    }
  }
  return STORE_OK;
}

/* Checks that |db| is intact and of a version we know (0: empty, to be
 * created). Only reads, so a database found bad is moved aside as it was. */
static enum store_verdict check_contents(sqlite3 *db, int64_t *version,
                                         char *reason, size_t len) {
  char text[256];
  int rc = pragma_row(db, "PRAGMA quick_check", text, sizeof(text));
  if (rc != SQLITE_OK) {
    return db_failed(db, rc, "quick_check", reason, len);
  }
  if (strcmp(text, "ok") != 0) {
    /* "*** in database main ***\nPage 3 is never used": one log line. */
    for (char *c = text; *c != '\0'; c++) {
      if ((unsigned char)*c < 0x20) {
        *c = ' ';
      }
    }
    snprintf(reason, len, "quick_check: %s", text);
    return STORE_BAD;
  }
  rc = pragma_row(db, "PRAGMA user_version", text, sizeof(text));
  if (rc != SQLITE_OK) {
    return db_failed(db, rc, "user_version", reason, len);
  }
  *version = strtoll(text, NULL, 10);
  if (*version < 0 || *version > SC_STORE_SCHEMA_VERSION) {
    snprintf(reason, len, "unknown schema version %lld (this is %d)",
             (long long)*version, SC_STORE_SCHEMA_VERSION);
    return STORE_BAD;
  }
  if (*version != 0) {
    return STORE_OK;
  }
  /* Our schema and its version are created in one transaction, so a
   * version 0 database with anything in it is someone else's. */
  rc = pragma_row(db, "SELECT count(*) FROM sqlite_master", text, sizeof(text));
  if (rc != SQLITE_OK) {
    return db_failed(db, rc, "schema", reason, len);
  }
  if (strcmp(text, "0") != 0) {
    snprintf(reason, len, "version 0 but not empty: not a peer history");
    return STORE_BAD;
  }
  return STORE_OK;
}

/* Opens |path| (creating it if needed) and checks it; the version found
 * goes to |*version|. */
static enum store_verdict connect_db(sqlite3 **pdb, const char *path,
                                     int64_t *version, char *reason,
                                     size_t len) {
  enum store_verdict v = check_file(path, reason, len);
  int rc;
  if (v != STORE_OK) {
    return v;
  }
  /* Not SQLITE_OPEN_NOFOLLOW: it refuses a symlink anywhere in the path,
   * state directory included; check_file covers the file itself. */
  rc = sqlite3_open_v2(path, pdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                       NULL);
  if (rc != SQLITE_OK) {
    return db_failed(*pdb, rc, "cannot open", reason, len);
  }
  (void)sqlite3_extended_result_codes(*pdb, 1);
  (void)sqlite3_busy_timeout(*pdb, STORE_BUSY_MS);
  /* Until the database passes, closing must not checkpoint a -wal into
   * it nor delete the -wal: both go aside untouched. */
  (void)sqlite3_db_config(*pdb, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
                          (int *)NULL);
  if ((v = fix_modes(path, reason, len)) != STORE_OK) {
    return v;
  }
  if (sqlite3_db_readonly(*pdb, "main") == 1) {
    snprintf(reason, len, "cannot open for writing");
    return STORE_BAD;
  }
  return check_contents(*pdb, version, reason, len);
}

/* Switches to WAL, creates the schema if |version| is 0 and prepares the
 * upsert, which also checks the columns of an existing table. */
static enum store_verdict setup_db(sc_store *st, int64_t version, char *reason,
                                   size_t len) {
  char mode[16];
  int rc = pragma_row(st->db, "PRAGMA journal_mode=WAL", mode, sizeof(mode));
  if (rc != SQLITE_OK) {
    return db_failed(st->db, rc, "journal_mode", reason, len);
  }
  if (strcasecmp(mode, "wal") != 0) {
    /* Some file systems cannot share memory; the history still works. */
    sc_logger_log(st->log, SC_LOG_WARN, "history: journal mode is %s, not wal",
                  mode);
  }
  rc = sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
  if (rc == SQLITE_OK && version == 0) {
    rc = sqlite3_exec(st->db, SCHEMA_V1, NULL, NULL, NULL);
  }
  if (rc != SQLITE_OK) {
    enum store_verdict v = db_failed(st->db, rc, "schema", reason, len);
    if (!sqlite3_get_autocommit(st->db)) {
      (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return v;
  }
  rc = sqlite3_prepare_v3(st->db, UPSERT_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                          &st->upsert, NULL);
  if (rc != SQLITE_OK) {
    return db_failed(st->db, rc, "schema", reason, len);
  }
  /* A good database: a clean close checkpoints and removes the -wal. */
  (void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0,
                          (int *)NULL);
  return STORE_OK;
}

static void disconnect(sc_store *st) {
  (void)sqlite3_finalize(st->upsert);
  st->upsert = NULL;
  /* Statements are all finalized, so this closes (and checkpoints). */
  (void)sqlite3_close(st->db);
  st->db = NULL;
}

/* One attempt at opening |path|; on failure nothing stays open. */
static enum store_verdict try_open(sc_store *st, const char *path, char *reason,
                                   size_t len) {
  int64_t version = 0;
  enum store_verdict v = connect_db(&st->db, path, &version, reason, len);
  if (v == STORE_OK) {
    v = setup_db(st, version, reason, len);
  }
  if (v != STORE_OK) {
    disconnect(st);
  }
  return v;
}

/* Finds a tag ".corrupt-T" or ".corrupt-T-N" under which none of the
 * database's files would overwrite anything. Returns 0, or -1 when all the
 * tries are taken. */
static int pick_tag(const char *path, char *tag, size_t taglen) {
  char name[STORE_PATH_MAX + 64];
  long long t = (long long)time(NULL);
  struct stat sb;
  unsigned n;
  size_t i;
  for (n = 0; n < STORE_TAG_TRIES; n++) {
    int taken = 0;
    if (n == 0) {
      snprintf(tag, taglen, ".corrupt-%lld", t);
    } else {
      snprintf(tag, taglen, ".corrupt-%lld-%u", t, n);
    }
    for (i = 0; i < SC_ARRAY_LEN(store_suffixes) && !taken; i++) {
      snprintf(name, sizeof(name), "%s%s%s", path, store_suffixes[i], tag);
      taken = lstat(name, &sb) == 0 || errno != ENOENT;
    }
    if (!taken) {
      return 0;
    }
  }
  return -1;
}

/* Renames the database at |path| and its companions with a ".corrupt-"
 * tag and logs why (|reason|). Returns how many files it moved, or -1 with
 * a message in |err|: then no fresh database must be created, since a
 * stale -wal left next to it would be replayed into it. */
static int move_aside(const sc_store *st, const char *path, const char *reason,
                      char *err, size_t errlen) {
  char tag[48], src[STORE_PATH_MAX + 16], dst[STORE_PATH_MAX + 64];
  char moved[128] = "";
  size_t i, used = 0;
  int e, n = 0;
  if (pick_tag(path, tag, sizeof(tag)) != 0) {
    snprintf(err, errlen, "history %s: %s, and no free name to move it aside",
             path, reason);
    return -1;
  }
  for (i = 0; i < SC_ARRAY_LEN(store_suffixes); i++) {
    snprintf(src, sizeof(src), "%s%s", path, store_suffixes[i]);
    snprintf(dst, sizeof(dst), "%s%s", src, tag);
    if (rename(src, dst) != 0) {
      e = errno;
      if (e == ENOENT) {
        continue;
      }
      snprintf(err, errlen,
               "history %s: %s, and cannot move %s aside: %s (moved: %s)", path,
               reason, src, strerror(e), n > 0 ? moved : "nothing");
      return -1;
    }
    snprintf(moved + used, sizeof(moved) - used, "%s%s%s", used > 0 ? ", " : "",
             SC_STORE_FILE, store_suffixes[i]);
    used += strlen(moved + used);
    n++;
  }
  if (n > 0) {
    sc_logger_log(st->log, SC_LOG_WARN,
                  "history %s: %s; moved %s aside as *%s; starting with an "
                  "empty history",
                  path, reason, moved, tag);
  }
  return n;
}

static void store_free(sc_store *st) {
  free(st->pending);
  free(st->slots);
  free(st);
}

static sc_store *store_new(const sc_logger *log) {
  sc_store *st = calloc(1, sizeof(*st));
  if (st == NULL) {
    return NULL;
  }
  st->pending = malloc(SC_STORE_PENDING_MAX * sizeof(*st->pending));
  st->slots = calloc(STORE_SLOTS, sizeof(*st->slots));
  if (st->pending == NULL || st->slots == NULL) {
    store_free(st);
    return NULL;
  }
  st->log = log;
  randombytes_buf(st->hash_key, sizeof(st->hash_key));
  return st;
}

int sc_store_open(sc_store **ps, const char *state_dir, const sc_logger *log,
                  char *err, size_t errlen) {
  char path[STORE_PATH_MAX], reason[STORE_REASON_MAX];
  enum store_verdict v;
  sc_store *st;
  *ps = NULL;
  if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, SC_STORE_FILE) >=
      sizeof(path)) {
    snprintf(err, errlen, "history in %s: path too long", state_dir);
    return -1;
  }
  if ((st = store_new(log)) == NULL) {
    snprintf(err, errlen, "history %s: out of memory", path);
    return -1;
  }
  v = try_open(st, path, reason, sizeof(reason));
  if (v == STORE_BAD) {
    int moved = move_aside(st, path, reason, err, errlen);
    if (moved < 0) {
      store_free(st);
      return -1;
    }
    /* Nothing there to blame (a missing directory): report the reason. */
    if (moved > 0) {
      st->stats.recovered = 1;
      v = try_open(st, path, reason, sizeof(reason));
    }
  }
  if (v != STORE_OK) {
    snprintf(err, errlen, "history %s: %s%s", path,
             st->stats.recovered ? "even a fresh database fails: " : "",
             reason);
    store_free(st);
    return -1;
  }
  *ps = st;
  return 0;
}

/* Returns the slot of |id| in the pending table, or the empty slot where
 * it belongs. There is always one: the table is at most half full. */
static size_t find_slot(const sc_store *st, const uint8_t id[SC_PEER_ID_LEN]) {
  uint8_t h8[crypto_shorthash_BYTES];
  uint64_t h;
  size_t i;
  crypto_shorthash(h8, id, SC_PEER_ID_LEN, st->hash_key);
  memcpy(&h, h8, sizeof(h));
  for (i = (size_t)h & (STORE_SLOTS - 1); st->slots[i] != 0;
       i = (i + 1) & (STORE_SLOTS - 1)) {
    if (memcmp(st->pending[st->slots[i] - 1].peer_id, id, SC_PEER_ID_LEN) ==
        0) {
      break;
    }
  }
  return i;
}

/* Returns the pending changes of |id|, creating them, or NULL (counted)
 * when the table is full. Notes |addr| and |now| as first seen. */
static store_delta *delta_for(sc_store *st, const uint8_t id[SC_PEER_ID_LEN],
                              const sc_addr *addr, int64_t now) {
  size_t i = find_slot(st, id);
  store_delta *d;
  if (st->slots[i] != 0) {
    d = &st->pending[st->slots[i] - 1];
    if (now < d->first_seen) {
      d->first_seen = now;
    }
  } else if (st->npending == SC_STORE_PENDING_MAX) {
    st->stats.pending_dropped++;
    return NULL;
  } else {
    d = &st->pending[st->npending++];
    memset(d, 0, sizeof(*d));
    memcpy(d->peer_id, id, SC_PEER_ID_LEN);
    d->first_seen = now;
    st->slots[i] = (uint16_t)st->npending;
  }
  if (addr != NULL &&
      (addr->family == SC_AF_INET || addr->family == SC_AF_INET6)) {
    d->addr = *addr;
    d->has_addr = 1;
  }
  return d;
}

/* The peer was there at |now|, with smoothed RTT |rtt_us| (0: unknown). */
static void delta_saw(store_delta *d, int64_t now, uint64_t rtt_us) {
  if (!d->has_seen || now > d->last_seen) {
    d->last_seen = now;
  }
  d->has_seen = 1;
  if (rtt_us != 0) {
    d->rtt_us = rtt_us;
  }
}

void sc_store_note_up(sc_store *st, const uint8_t peer_id[SC_PEER_ID_LEN],
                      const sc_addr *addr, uint64_t rtt_us, int64_t now) {
  store_delta *d = delta_for(st, peer_id, addr, now);
  if (d != NULL) {
    d->sessions = sat_add(d->sessions, 1);
    delta_saw(d, now, rtt_us);
  }
}

void sc_store_note_down(sc_store *st, const uint8_t peer_id[SC_PEER_ID_LEN],
                        const sc_addr *addr, uint64_t rtt_us, uint64_t sent,
                        uint64_t received, int failed, int64_t now) {
  store_delta *d = delta_for(st, peer_id, addr, now);
  if (d != NULL) {
    if (failed) {
      d->failures = sat_add(d->failures, 1);
    }
    d->bytes_sent = sat_add(d->bytes_sent, sent);
    d->bytes_received = sat_add(d->bytes_received, received);
    delta_saw(d, now, rtt_us);
  }
}

void sc_store_note_failed(sc_store *st, const uint8_t peer_id[SC_PEER_ID_LEN],
                          const sc_addr *addr, int64_t now) {
  store_delta *d = delta_for(st, peer_id, addr, now);
  if (d != NULL) {
    d->failures = sat_add(d->failures, 1);
  }
}

/* Runs the upsert for |d|. Returns an SQLite result code. */
static int write_delta(sc_store *st, const store_delta *d) {
  const sqlite3_int64 nums[] = {d->first_seen,
                                d->has_seen ? d->last_seen : 0,
                                to_i64(d->sessions),
                                to_i64(d->failures),
                                to_i64(d->rtt_us),
                                to_i64(d->bytes_sent),
                                to_i64(d->bytes_received)};
  sqlite3_stmt *s = st->upsert;
  size_t k;
  int rc = sqlite3_bind_blob(s, 1, d->peer_id, SC_PEER_ID_LEN, SQLITE_STATIC);
  if (rc == SQLITE_OK) {
    char text[SC_ADDR_STRLEN];
    rc = d->has_addr ? sqlite3_bind_text(s, 2, sc_addr_format(&d->addr, text),
                                         -1, SQLITE_TRANSIENT)
                     : sqlite3_bind_null(s, 2);
  }
  for (k = 0; rc == SQLITE_OK && k < SC_ARRAY_LEN(nums); k++) {
    rc = sqlite3_bind_int64(s, (int)k + 3, nums[k]);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  (void)sqlite3_reset(s);
  return rc;
}

static void flush_failed(sc_store *st) {
  char why[STORE_REASON_MAX];
  snprintf(why, sizeof(why), "%s", sqlite3_errmsg(st->db));
  if (!sqlite3_get_autocommit(st->db)) {
    (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  }
  st->stats.flush_errors++;
  /* Only the first of a run at WARN: a full disk would otherwise log a
   * line every few seconds. */
  sc_logger_log(st->log, st->failing == 0 ? SC_LOG_WARN : SC_LOG_DEBUG,
                "history: cannot write %zu peers (%s); keeping them for the "
                "next flush",
                st->npending, why);
  st->failing++;
}

int sc_store_flush(sc_store *st) {
  size_t i;
  int rc;
  if (st->npending == 0) {
    return 0;
  }
  rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  for (i = 0; rc == SQLITE_OK && i < st->npending; i++) {
    rc = write_delta(st, &st->pending[i]);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
  }
  if (rc != SQLITE_OK) {
    flush_failed(st);
    return -1;
  }
  st->stats.flushes++;
  st->stats.rows_written += st->npending;
  st->npending = 0;
  memset(st->slots, 0, STORE_SLOTS * sizeof(*st->slots));
  if (st->failing != 0) {
    sc_logger_log(st->log, SC_LOG_INFO,
                  "history: written again after %llu failed flushes",
                  (unsigned long long)st->failing);
    st->failing = 0;
  }
  return 0;
}

size_t sc_store_pending(const sc_store *st) { return st->npending; }

/* Converts the current row of a STORE_COLUMNS query. Returns 0, or -1 for
 * a row that is not a peer (the file is untrusted). */
static int read_row(sqlite3_stmt *s, sc_store_peer *p) {
  const char *text;
  /* Types first: asking for a blob or text would convert the value. */
  if (sqlite3_column_type(s, 0) != SQLITE_BLOB ||
      sqlite3_column_bytes(s, 0) != SC_PEER_ID_LEN ||
      sqlite3_column_type(s, 1) != SQLITE_TEXT) {
    return -1;
  }
  memcpy(p->peer_id, sqlite3_column_blob(s, 0), SC_PEER_ID_LEN);
  text = (const char *)sqlite3_column_text(s, 1);
  if (text == NULL || strlen(text) != (size_t)sqlite3_column_bytes(s, 1) ||
      sc_addr_parse(&p->addr, text) != 0) {
    return -1;
  }
  p->first_seen = sqlite3_column_int64(s, 2);
  p->last_seen = sqlite3_column_int64(s, 3);
  p->sessions = to_u64(sqlite3_column_int64(s, 4));
  p->failures = to_u64(sqlite3_column_int64(s, 5));
  p->rtt_us = to_u64(sqlite3_column_int64(s, 6));
  p->bytes_sent = to_u64(sqlite3_column_int64(s, 7));
  p->bytes_received = to_u64(sqlite3_column_int64(s, 8));
  p->score = score_of(p->sessions, p->failures);
  return 0;
}

typedef int (*store_peer_fn)(void *arg, const sc_store_peer *p);

/* Flushes, runs |sql| (with |*cutoff| as ?1 if given) and hands every
 * well-formed row to |fn| until it returns nonzero. Returns 0, or -1
 * (logged). */
static int query(sc_store *st, const char *sql, const int64_t *cutoff,
                 store_peer_fn fn, void *arg) {
  sqlite3_stmt *s = NULL;
  sc_store_peer p;
  size_t skipped = 0;
  int rc;
  /* A failed flush is logged; the stored history is still worth reading. */
  (void)sc_store_flush(st);
  rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
  if (rc == SQLITE_OK && cutoff != NULL) {
    rc = sqlite3_bind_int64(s, 1, *cutoff);
  }
  while (rc == SQLITE_OK) {
    if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
      break;
    }
    rc = SQLITE_OK;
    if (read_row(s, &p) != 0) {
      skipped++;
    } else if (fn(arg, &p) != 0) {
      rc = SQLITE_DONE;
    }
  }
  if (skipped > 0) {
    sc_logger_log(st->log, SC_LOG_DEBUG, "history: skipped %zu bad rows",
                  skipped);
  }
  if (rc != SQLITE_DONE) {
    sc_logger_log(st->log, SC_LOG_WARN, "history: cannot read: %s",
                  sqlite3_errmsg(st->db));
  }
  (void)sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : -1;
}

typedef struct store_fill {
  sc_store_peer *out;
  size_t cap, n;
} store_fill;

static int fill_one(void *arg, const sc_store_peer *p) {
  store_fill *f = arg;
  f->out[f->n++] = *p;
  return f->n == f->cap;
}

long sc_store_best(sc_store *st, sc_store_peer *out, size_t cap,
                   int64_t max_age, int64_t now) {
  store_fill f = {out, cap > LONG_MAX ? LONG_MAX : cap, 0};
  int64_t cutoff = INT64_MIN;
  if (cap == 0) {
    (void)sc_store_flush(st);
    return 0;
  }
  if (max_age > 0 && now >= INT64_MIN + max_age) {
    cutoff = now - max_age;
  }
  if (query(st, BEST_SQL, max_age > 0 ? &cutoff : NULL, fill_one, &f) != 0) {
    return -1;
  }
  return (long)f.n;
}

int sc_store_each(sc_store *st, int (*fn)(void *arg, const sc_store_peer *p),
                  void *arg) {
  return query(st, EACH_SQL, NULL, fn, arg);
}

void sc_store_get_stats(const sc_store *st, sc_store_stats *out) {
  *out = st->stats;
}

void sc_store_close(sc_store *st) {
  if (st == NULL) {
    return;
  }
  if (sc_store_flush(st) != 0) {
    sc_logger_log(st->log, SC_LOG_WARN,
                  "history: changes to %zu peers lost at close", st->npending);
  }
  disconnect(st);
  store_free(st);
}
