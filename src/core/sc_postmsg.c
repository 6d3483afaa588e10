/*
 * sc_postmsg.c: the posting messages' codecs (sc_postmsg.h).
 */
#include "sc_postmsg.h"

#include <string.h>

static int done(const sc_rd *r) {
  return sc_rd_left(r) == 0 ? 0 : SC_ERR_MALFORMED;
}

static size_t id_len(void) { return SC_GROUP_ID_LEN + SC_PEER_ID_LEN + 8; }

static void write_id(sc_wr *w, const sc_post_id *m) {
  (void)sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN);
  (void)sc_wr_bytes(w, m->origin, SC_PEER_ID_LEN);
  (void)sc_wr_u64(w, m->incarnation);
  (void)sc_wr_varint(w, m->number);
}

static int read_id(sc_rd *r, sc_post_id *m) {
  return sc_rd_bytes(r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
                 sc_rd_bytes(r, m->origin, SC_PEER_ID_LEN) != 0 ||
                 sc_rd_u64(r, &m->incarnation) != 0 ||
                 sc_rd_varint(r, &m->number) != 0
             ? SC_ERR_MALFORMED
             : 0;
}

int sc_post_write(sc_wr *w, const sc_post_msg *m) {
  if (m->len > SC_POST_MAX || m->id.number > SC_VARINT_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) <
      id_len() + sc_varint_len(m->id.number) + 2 * SC_RING_LEN + m->len) {
    return SC_ERR_BUFFER;
  }
  write_id(w, &m->id);
  (void)sc_wr_bytes(w, m->lo.b, SC_RING_LEN);
  (void)sc_wr_bytes(w, m->hi.b, SC_RING_LEN);
  (void)sc_wr_bytes(w, m->payload, m->len);
  return 0;
}

int sc_post_read(sc_post_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (read_id(&r, &m->id) != 0 || sc_rd_bytes(&r, m->lo.b, SC_RING_LEN) != 0 ||
      sc_rd_bytes(&r, m->hi.b, SC_RING_LEN) != 0 ||
      sc_rd_left(&r) > SC_POST_MAX) {
    return SC_ERR_MALFORMED;
  }
  m->len = sc_rd_left(&r);
  return sc_rd_span(&r, &m->payload, m->len) != 0 ? SC_ERR_MALFORMED : 0;
}

int sc_post_id_write(sc_wr *w, const sc_post_id *m) {
  if (m->number > SC_VARINT_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < id_len() + sc_varint_len(m->number)) {
    return SC_ERR_BUFFER;
  }
  write_id(w, m);
  return 0;
}

int sc_post_id_read(sc_post_id *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (read_id(&r, m) != 0) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

/* origin | incarnation | number, the group being the message's */
static size_t entry_len(const sc_post_id *m) {
  return SC_PEER_ID_LEN + 8 + sc_varint_len(m->number);
}

int sc_ihave_write(sc_wr *w, const sc_ihave_msg *m) {
  size_t i, need = SC_GROUP_ID_LEN + 1;
  if (m->n == 0 || m->n > SC_IHAVE_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  for (i = 0; i < m->n; i++) {
    if (m->ids[i].number > SC_VARINT_MAX ||
        memcmp(m->ids[i].group_id, m->ids[0].group_id, SC_GROUP_ID_LEN) != 0) {
      return SC_ERR_INVALID_ARG;
    }
    need += entry_len(&m->ids[i]);
  }
  if (sc_wr_left(w) < need) {
    return SC_ERR_BUFFER;
  }
  (void)sc_wr_bytes(w, m->ids[0].group_id, SC_GROUP_ID_LEN);
  (void)sc_wr_u8(w, (uint8_t)m->n);
  for (i = 0; i < m->n; i++) {
    (void)sc_wr_bytes(w, m->ids[i].origin, SC_PEER_ID_LEN);
    (void)sc_wr_u64(w, m->ids[i].incarnation);
    (void)sc_wr_varint(w, m->ids[i].number);
  }
  return 0;
}

int sc_ihave_read(sc_ihave_msg *m, const uint8_t *body, size_t len) {
  uint8_t group[SC_GROUP_ID_LEN], n;
  size_t i;
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, group, SC_GROUP_ID_LEN) != 0 || sc_rd_u8(&r, &n) != 0 ||
      n == 0 || n > SC_IHAVE_MAX) {
    return SC_ERR_MALFORMED;
  }
  for (i = 0; i < n; i++) {
    sc_post_id *id = &m->ids[i];
    memcpy(id->group_id, group, SC_GROUP_ID_LEN);
    if (sc_rd_bytes(&r, id->origin, SC_PEER_ID_LEN) != 0 ||
        sc_rd_u64(&r, &id->incarnation) != 0 ||
        sc_rd_varint(&r, &id->number) != 0) {
      return SC_ERR_MALFORMED;
    }
  }
  m->n = n;
  return done(&r);
}
