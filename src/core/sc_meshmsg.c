/*
 * sc_meshmsg.c: encoding of the mesh messages (doc/protocol.md §11.3).
 */
#include "sc_meshmsg.h"

#include <string.h>

#include "sc_packet.h"

static int done(const sc_rd *r) {
  return sc_rd_left(r) == 0 ? 0 : SC_ERR_MALFORMED;
}

/* The writers check room first so that a failure writes nothing useful
 * the caller could send by mistake; the caller discards |w| on error. */

int sc_hello_write(sc_wr *w, const sc_hello_msg *m) {
  int proof = m->has_proof && !m->leaving;
  if (sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_wr_u8(w, m->leaving ? 2
                  : proof    ? 1
                             : 0) != 0) {
    return SC_ERR_BUFFER;
  }
  if (proof && sc_wr_bytes(w, m->proof, SC_GROUP_PROOF_LEN) != 0) {
    return SC_ERR_BUFFER;
  }
  return 0;
}

int sc_hello_read(sc_hello_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  uint8_t flag;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_u8(&r, &flag) != 0 || flag > 2) {
    return SC_ERR_MALFORMED;
  }
  m->has_proof = flag == 1;
  m->leaving = flag == 2;
  if (m->has_proof && sc_rd_bytes(&r, m->proof, SC_GROUP_PROOF_LEN) != 0) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

int sc_mreq_write(sc_wr *w, const sc_mreq_msg *m) {
  if (sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_wr_bytes(w, m->target.b, SC_RING_LEN) != 0 ||
      sc_wr_varint(w, m->max) != 0) {
    return SC_ERR_BUFFER;
  }
  return 0;
}

int sc_mreq_read(sc_mreq_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_bytes(&r, m->target.b, SC_RING_LEN) != 0 ||
      sc_rd_varint(&r, &m->max) != 0) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

int sc_members_write(sc_wr *w, const sc_members_msg *m) {
  size_t i;
  if (m->n > SC_MEMBERS_MAX) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_wr_varint(w, m->n) != 0) {
    return SC_ERR_BUFFER;
  }
  for (i = 0; i < m->n; i++) {
    int rv;
    if (sc_wr_bytes(w, m->e[i].peer_id, SC_PEER_ID_LEN) != 0) {
      return SC_ERR_BUFFER;
    }
    rv = sc_addr_write(w, &m->e[i].addr);
    if (rv != 0) {
      return rv;
    }
    if (sc_wr_varint(w, m->e[i].age_ms) != 0) {
      return SC_ERR_BUFFER;
    }
  }
  return 0;
}

int sc_members_read(sc_members_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  uint64_t n;
  size_t i;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_varint(&r, &n) != 0 || n > SC_MEMBERS_MAX) {
    return SC_ERR_MALFORMED;
  }
  m->n = (size_t)n;
  for (i = 0; i < m->n; i++) {
    if (sc_rd_bytes(&r, m->e[i].peer_id, SC_PEER_ID_LEN) != 0 ||
        sc_addr_read(&r, &m->e[i].addr) != 0 ||
        sc_rd_varint(&r, &m->e[i].age_ms) != 0) {
      return SC_ERR_MALFORMED;
    }
  }
  return done(&r);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
  while (n-- > 0) {
    h = (h ^ *p++) * 0x100000001b3ULL;
  }
  return h;
}

uint64_t sc_members_digest(const sc_members_msg *m) {
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, 64 bits */
  size_t i;
  for (i = 0; i < m->n && i < SC_MEMBERS_MAX; i++) {
    const sc_mentry *e = &m->e[i];
    uint8_t tail[4] = {e->addr.family, (uint8_t)(e->addr.port >> 8),
                       (uint8_t)e->addr.port, e->age_ms == 0};
    h = fnv1a(h, e->peer_id, SC_PEER_ID_LEN);
    h = fnv1a(h, e->addr.ip, sizeof(e->addr.ip));
    h = fnv1a(h, tail, sizeof(tail));
  }
  return h;
}

int sc_neighbor_write(sc_wr *w, const sc_neighbor_msg *m) {
  if (m->chosen > 1) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_wr_u8(w, m->chosen) != 0) {
    return SC_ERR_BUFFER;
  }
  return 0;
}

int sc_neighbor_read(sc_neighbor_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_u8(&r, &m->chosen) != 0 || m->chosen > 1) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

int sc_intro_request_write(sc_wr *w, const sc_intro_msg *m) {
  return sc_wr_bytes(w, m->peer_id, SC_PEER_ID_LEN) != 0 ? SC_ERR_BUFFER : 0;
}

int sc_intro_request_read(sc_intro_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  memset(&m->addr, 0, sizeof(m->addr));
  if (sc_rd_bytes(&r, m->peer_id, SC_PEER_ID_LEN) != 0) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}

int sc_intro_write(sc_wr *w, const sc_intro_msg *m) {
  if (sc_wr_bytes(w, m->peer_id, SC_PEER_ID_LEN) != 0) {
    return SC_ERR_BUFFER;
  }
  return sc_addr_write(w, &m->addr);
}

int sc_intro_read(sc_intro_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->peer_id, SC_PEER_ID_LEN) != 0 ||
      sc_addr_read(&r, &m->addr) != 0) {
    return SC_ERR_MALFORMED;
  }
  return done(&r);
}
