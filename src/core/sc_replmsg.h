/*
 * sc_replmsg.h: the object replication messages (doc/protocol.md §14.3).
 *
 * HAVE and WANT tell a member link which object indices the sender holds
 * and which it wants, as sorted runs (first, length). A set longer than one
 * message goes as a SET followed by ADDs; later changes go as ADD and
 * REMOVE. FETCH asks for up to 16 objects, OBJECT carries one, NOTHAVE
 * refuses one. All five are reliable messages (§6.4) on member links, so
 * they arrive in order and a receiver can apply them one by one.
 *
 * Every writer writes the whole body or nothing; every reader checks the
 * whole body and refuses trailing bytes, unsorted, overlapping, touching,
 * empty or wrapping runs, and counts over the limits.
 */
#ifndef SC_REPLMSG_H
#define SC_REPLMSG_H

#include <stddef.h>
#include <stdint.h>

#include "sc_group.h"
#include "sc_wire.h"
#include "stratocast.h"

enum sc_repl_msg_kind {
  SC_MSG_HAVE = 15,   /* runs of indices the sender holds */
  SC_MSG_WANT = 16,   /* runs of indices the sender wants */
  SC_MSG_FETCH = 17,  /* send me these objects */
  SC_MSG_OBJECT = 18, /* an object */
  SC_MSG_NOTHAVE = 19 /* I will not send you this object */
};

/* How a HAVE or WANT changes the receiver's view of the sender's set. */
enum sc_repl_op {
  SC_REPL_SET = 0,   /* the set is these runs (more may follow as ADD) */
  SC_REPL_ADD = 1,   /* add these runs */
  SC_REPL_REMOVE = 2 /* remove these runs */
};

#define SC_REPL_OBJECT_MAX SC_OBJECT_MAX_LEN /* bytes in an object */
#define SC_REPL_INDEX_MAX SC_VARINT_MAX      /* the highest index */
/* Runs in one HAVE or WANT: the most that fit in SC_MSG_MAX (1,024)
 * bytes after the group ID, the op and the count, at 2 bytes a run. */
#define SC_REPL_RUNS_MAX 495
#define SC_REPL_FETCH_MAX 16 /* indices in one FETCH */

/* A run of indices: first .. first + len - 1, len >= 1. */
typedef struct sc_repl_run {
  uint64_t first, len;
} sc_repl_run;

/* HAVE and WANT: |n| runs, ascending, neither overlapping nor touching
 * (each starts after the previous one's end + 1). */
typedef struct sc_repl_runs_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  unsigned op; /* enum sc_repl_op */
  size_t n;
  sc_repl_run run[SC_REPL_RUNS_MAX];
} sc_repl_runs_msg;

/* sc_repl_runs_write writes a HAVE or WANT body into |w| with |op| and as
 * many of the |n| runs at |run| as fit (at least one; none when |n| is 0),
 * and stores how many in |*taken|. Returns 0, SC_ERR_INVALID_ARG (a bad
 * op, or runs empty, unsorted, touching or past SC_REPL_INDEX_MAX) or
 * SC_ERR_BUFFER (not even the first run fits). */
int sc_repl_runs_write(sc_wr *w, const uint8_t *group_id, unsigned op,
                       const sc_repl_run *run, size_t n, size_t *taken);

/* sc_repl_runs_read parses a HAVE or WANT body into |m|. Returns 0 or
 * SC_ERR_MALFORMED. */
int sc_repl_runs_read(sc_repl_runs_msg *m, const uint8_t *body, size_t len);

/* FETCH: 1..SC_REPL_FETCH_MAX indices, strictly ascending. */
typedef struct sc_repl_fetch_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  size_t n;
  uint64_t index[SC_REPL_FETCH_MAX];
} sc_repl_fetch_msg;

/* sc_repl_fetch_write writes |m|. Returns 0, SC_ERR_INVALID_ARG (count
 * 0 or over the limit, indices not ascending or too large) or
 * SC_ERR_BUFFER. */
int sc_repl_fetch_write(sc_wr *w, const sc_repl_fetch_msg *m);
int sc_repl_fetch_read(sc_repl_fetch_msg *m, const uint8_t *body, size_t len);

/* Why a NOTHAVE refuses. */
enum sc_repl_refusal {
  SC_REPL_NOT_HELD = 0, /* the sender does not hold the object */
  SC_REPL_BUSY = 1      /* over the sender's budget: ask again later */
};

/* OBJECT: an index and 0..SC_REPL_OBJECT_MAX bytes; NOTHAVE: an index and
 * a reason (|data| and |len| unused). */
typedef struct sc_repl_object_msg {
  uint8_t group_id[SC_GROUP_ID_LEN];
  uint64_t index;
  unsigned reason;     /* NOTHAVE: enum sc_repl_refusal */
  const uint8_t *data; /* OBJECT: into the body read */
  size_t len;
} sc_repl_object_msg;

/* sc_repl_object_write writes an OBJECT (|with_data|) or a NOTHAVE body.
 * Returns 0, SC_ERR_INVALID_ARG or SC_ERR_BUFFER. */
int sc_repl_object_write(sc_wr *w, const sc_repl_object_msg *m, int with_data);
/* sc_repl_object_read parses an OBJECT (|with_data|) or a NOTHAVE body.
 * Returns 0 or SC_ERR_MALFORMED. */
int sc_repl_object_read(sc_repl_object_msg *m, const uint8_t *body, size_t len,
                        int with_data);

#endif /* SC_REPLMSG_H */
