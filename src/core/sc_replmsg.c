/*
 * sc_replmsg.c: the object replication messages' codecs (sc_replmsg.h).
 */
#include "sc_replmsg.h"

#include <string.h>

/* Whether |r| may follow a run ending before |end| (0 for the first):
 * not empty, not past the last index, after |end| with a gap. */
static int run_ok(const sc_repl_run *r, uint64_t end, int first) {
  if (r->len == 0 || r->first > SC_REPL_INDEX_MAX ||
      r->len - 1 > SC_REPL_INDEX_MAX - r->first) {
    return 0;
  }
  return first || r->first > end;
}

static size_t run_len(const sc_repl_run *r) {
  return sc_varint_len(r->first) + sc_varint_len(r->len);
}

int sc_repl_runs_write(sc_wr *w, const uint8_t *group_id, unsigned op,
                       const sc_repl_run *run, size_t n, size_t *taken) {
  size_t i, k = 0, room, used = 0;
  if (op > SC_REPL_REMOVE) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < n; i++) {
    if (!run_ok(&run[i], i > 0 ? run[i - 1].first + run[i - 1].len : 0,
                i == 0)) {
      return SC_ERR_INVALID_ARG;
    }
  }
  /* The count's varint is 2 bytes from 64 runs on. */
  if (sc_wr_left(w) < SC_GROUP_ID_LEN + 1 + 2) {
    return SC_ERR_BUFFER;
  }
  room = sc_wr_left(w) - SC_GROUP_ID_LEN - 1;
  while (k < n && k < SC_REPL_RUNS_MAX &&
         used + run_len(&run[k]) + sc_varint_len(k + 1) <= room) {
    used += run_len(&run[k]);
    k++;
  }
  if (k == 0 && n > 0) {
    return SC_ERR_BUFFER;
  }
  (void)sc_wr_bytes(w, group_id, SC_GROUP_ID_LEN);
  (void)sc_wr_u8(w, (uint8_t)op);
  (void)sc_wr_varint(w, k);
  for (i = 0; i < k; i++) {
    (void)sc_wr_varint(w, run[i].first);
    (void)sc_wr_varint(w, run[i].len);
  }
  *taken = k;
  return 0;
}

int sc_repl_runs_read(sc_repl_runs_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  uint8_t op;
  uint64_t n, i;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_u8(&r, &op) != 0 || op > SC_REPL_REMOVE ||
      sc_rd_varint(&r, &n) != 0 || n > SC_REPL_RUNS_MAX ||
      n > sc_rd_left(&r) / 2) {
    return SC_ERR_MALFORMED;
  }
  m->op = op;
  m->n = (size_t)n;
  for (i = 0; i < n; i++) {
    sc_repl_run *run = &m->run[i];
    if (sc_rd_varint(&r, &run->first) != 0 ||
        sc_rd_varint(&r, &run->len) != 0 ||
        !run_ok(run, i > 0 ? run[-1].first + run[-1].len : 0, i == 0)) {
      return SC_ERR_MALFORMED;
    }
  }
  return sc_rd_left(&r) == 0 ? 0 : SC_ERR_MALFORMED;
}

int sc_repl_fetch_write(sc_wr *w, const sc_repl_fetch_msg *m) {
  size_t i, need = SC_GROUP_ID_LEN + 1;
  if (m->n == 0 || m->n > SC_REPL_FETCH_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < m->n; i++) {
    if (m->index[i] > SC_REPL_INDEX_MAX ||
        (i > 0 && m->index[i] <= m->index[i - 1])) {
      return SC_ERR_INVALID_ARG;
    }
    need += sc_varint_len(m->index[i]);
  }
  if (sc_wr_left(w) < need) {
    return SC_ERR_BUFFER;
  }
  (void)sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN);
  (void)sc_wr_varint(w, m->n);
  for (i = 0; i < m->n; i++) {
    (void)sc_wr_varint(w, m->index[i]);
  }
  return 0;
}

int sc_repl_fetch_read(sc_repl_fetch_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  uint64_t n, i;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_varint(&r, &n) != 0 || n == 0 || n > SC_REPL_FETCH_MAX) {
    return SC_ERR_MALFORMED;
  }
  m->n = (size_t)n;
  for (i = 0; i < n; i++) {
    if (sc_rd_varint(&r, &m->index[i]) != 0 ||
        (i > 0 && m->index[i] <= m->index[i - 1])) {
      return SC_ERR_MALFORMED;
    }
  }
  return sc_rd_left(&r) == 0 ? 0 : SC_ERR_MALFORMED;
}

int sc_repl_object_write(sc_wr *w, const sc_repl_object_msg *m, int with_data) {
  size_t len = with_data ? m->len : 1;
  if (m->index > SC_REPL_INDEX_MAX || len > SC_REPL_OBJECT_MAX ||
      (with_data && len > 0 && m->data == NULL) ||
      (!with_data && m->reason > SC_REPL_BUSY)) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < SC_GROUP_ID_LEN + sc_varint_len(m->index) + len) {
    return SC_ERR_BUFFER;
  }
  (void)sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN);
  (void)sc_wr_varint(w, m->index);
  if (!with_data) {
    (void)sc_wr_u8(w, (uint8_t)m->reason);
  } else if (len > 0) {
    (void)sc_wr_bytes(w, m->data, len);
  }
  return 0;
}

int sc_repl_object_read(sc_repl_object_msg *m, const uint8_t *body, size_t len,
                        int with_data) {
  sc_rd r;
  uint8_t reason;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_varint(&r, &m->index) != 0) {
    return SC_ERR_MALFORMED;
  }
  m->data = NULL;
  m->len = 0;
  m->reason = 0;
  if (!with_data) {
    if (sc_rd_u8(&r, &reason) != 0 || reason > SC_REPL_BUSY) {
      return SC_ERR_MALFORMED;
    }
    m->reason = reason;
    return sc_rd_left(&r) == 0 ? 0 : SC_ERR_MALFORMED;
  }
  if (sc_rd_left(&r) > SC_REPL_OBJECT_MAX) {
    return SC_ERR_MALFORMED;
  }
  m->len = sc_rd_left(&r);
  return sc_rd_span(&r, &m->data, m->len) != 0 ? SC_ERR_MALFORMED : 0;
}
