/*
 * store.h: the peer history, cached in SQLite in the state directory.
 *
 * Every peer the node has seen: its ID, the address it was last reached
 * at, when it was first and last seen, how many sessions it completed and
 * how many attempts failed, its last smoothed RTT, the bytes exchanged, and
 * a reliability score derived from those. At start the daemon reads the
 * best-scored peers to rejoin through them (sc_node_remember) and to prefer
 * them as neighbours.
 *
 * The database is `history.db` in the state directory, in WAL mode with
 * synchronous=NORMAL; its schema version is PRAGMA user_version. Opening
 * runs PRAGMA quick_check: a database that is corrupt, unreadable or of an
 * unknown future version is moved aside (history.db, -wal and -shm each
 * renamed with a ".corrupt-UNIXTIME" suffix), a warning is logged, and an
 * empty one is created; the node runs on.
 *
 * Writes are batched behind the event loop: sc_store_note_* only update an
 * in-memory table of pending changes, coalesced per peer; sc_store_flush
 * writes them all in one transaction. The daemon calls it from a timer
 * every few seconds and at shutdown. A failed flush is logged and the
 * changes are kept for the next one (up to SC_STORE_PENDING_MAX peers;
 * changes for further peers are dropped and counted): the history is a
 * cache, never a reason to stop.
 */
#ifndef SC_SHELL_STORE_H
#define SC_SHELL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "stratocast.h"

#define SC_STORE_FILE "history.db"
#define SC_STORE_SCHEMA_VERSION 1
#define SC_STORE_PENDING_MAX 4096 /* peers with unflushed changes */

/* One peer of the history. Times are Unix seconds. */
typedef struct sc_store_peer {
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr; /* the address it was last reached at */
  int64_t first_seen, last_seen;
  uint64_t sessions; /* sessions that completed a handshake */
  uint64_t failures; /* handshakes that gave up, sessions that timed out */
  uint64_t rtt_us;   /* last smoothed RTT, 0 if unknown */
  uint64_t bytes_sent, bytes_received;
  /* Reliability in [0, 1]: (sessions + 1) / (sessions + failures + 2). */
  double score;
} sc_store_peer;

typedef struct sc_store_stats {
  uint64_t flushes;        /* transactions committed */
  uint64_t flush_errors;   /* transactions that failed */
  uint64_t rows_written;   /* peer rows inserted or updated */
  uint64_t pending_dropped; /* changes lost to SC_STORE_PENDING_MAX */
  int recovered;           /* the database was moved aside at open */
} sc_store_stats;

typedef struct sc_store sc_store;

/* sc_store_open opens (creating if needed) the history in |state_dir|,
 * which must exist. A corrupt or unreadable database is moved aside and
 * replaced, as above, and that is logged through |log| (which must
 * outlive the store). Returns 0, or -1 with one line in |err| when even a
 * fresh database cannot be created (then the daemon runs without history:
 * the caller decides). A database locked by another process past the busy
 * timeout is not moved aside: -1. */
int sc_store_open(sc_store **ps, const char *state_dir, const sc_logger *log,
                  char *err, size_t errlen);

/* sc_store_close flushes what is pending and closes; NULL is fine. */
void sc_store_close(sc_store *st);

/* sc_store_note_up records that a session with |peer_id| at |addr|
 * completed its handshake at |now| (Unix seconds) with smoothed RTT
 * |rtt_us| (0 if unknown). */
void sc_store_note_up(sc_store *st, const uint8_t peer_id[SC_PEER_ID_LEN],
                      const sc_addr *addr, uint64_t rtt_us, int64_t now);

/* sc_store_note_down records that the session with |peer_id| ended at
 * |now| after exchanging |sent| and |received| bytes, with last RTT
 * |rtt_us|; |failed| is nonzero when it ended badly (idle timeout). */
void sc_store_note_down(sc_store *st, const uint8_t peer_id[SC_PEER_ID_LEN],
                        const sc_addr *addr, uint64_t rtt_us, uint64_t sent,
                        uint64_t received, int failed, int64_t now);

/* sc_store_note_failed records that a handshake with the known peer
 * |peer_id| (at |addr|) gave up at |now|. It does not move last_seen. */
void sc_store_note_failed(sc_store *st,
                          const uint8_t peer_id[SC_PEER_ID_LEN],
                          const sc_addr *addr, int64_t now);

/* sc_store_flush writes every pending change in one transaction. Returns 0,
 * or -1 (logged; the changes stay pending). */
int sc_store_flush(sc_store *st);

/* sc_store_pending returns how many peers have unflushed changes. */
size_t sc_store_pending(const sc_store *st);

/* sc_store_best fills up to |cap| peers into |out|, best first (score,
 * then most recently seen, then lowest RTT), skipping those not seen for
 * |max_age| seconds before |now| (0: no limit). Pending changes are
 * flushed first. Returns how many it filled, or -1 on a database error
 * (logged). */
long sc_store_best(sc_store *st, sc_store_peer *out, size_t cap,
                   int64_t max_age, int64_t now);

/* sc_store_each calls |fn| for every peer, most recently seen first, until
 * it returns nonzero (for `show history`). Pending changes are flushed
 * first. Returns 0, or -1 on a database error (logged). */
int sc_store_each(sc_store *st,
                  int (*fn)(void *arg, const sc_store_peer *p), void *arg);

/* sc_store_get_stats copies the store's counters. */
void sc_store_get_stats(const sc_store *st, sc_store_stats *out);

#endif /* SC_SHELL_STORE_H */
