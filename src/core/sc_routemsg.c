/*
 * sc_routemsg.c: the routing message's codec (sc_routemsg.h).
 */
#include "sc_routemsg.h"

/* Whether a hop count and flags are what a reader accepts. */
static int fields_ok(uint8_t hops, uint8_t flags) {
  if (hops < 1 || hops > SC_ROUTE_HOPS_MAX || (flags & ~SC_ROUTE_F_KNOWN)) {
    return 0;
  }
  /* doc/protocol.md §14.2: a message to a neighbour crosses one link. */
  return !(flags & SC_ROUTE_F_NEIGHBOR) || hops == 1;
}

int sc_route_write(sc_wr *w, const sc_route_msg *m) {
  if (m->len > SC_ROUTE_MAX || (m->len > 0 && m->payload == NULL) ||
      !fields_ok(m->hops, m->flags)) {
    return SC_ERR_INVALID_ARG;
  }
  if (sc_wr_left(w) < SC_ROUTE_FIXED_LEN + m->len) {
    return SC_ERR_BUFFER;
  }
  (void)sc_wr_bytes(w, m->group_id, SC_GROUP_ID_LEN);
  (void)sc_wr_bytes(w, m->target.b, SC_RING_LEN);
  (void)sc_wr_bytes(w, m->origin, SC_PEER_ID_LEN);
  (void)sc_wr_u8(w, m->hops);
  (void)sc_wr_u8(w, m->flags);
  (void)sc_wr_bytes(w, m->payload, m->len);
  return 0;
}

int sc_route_read(sc_route_msg *m, const uint8_t *body, size_t len) {
  sc_rd r;
  sc_rd_init(&r, body, len);
  if (sc_rd_bytes(&r, m->group_id, SC_GROUP_ID_LEN) != 0 ||
      sc_rd_bytes(&r, m->target.b, SC_RING_LEN) != 0 ||
      sc_rd_bytes(&r, m->origin, SC_PEER_ID_LEN) != 0 ||
      sc_rd_u8(&r, &m->hops) != 0 || sc_rd_u8(&r, &m->flags) != 0 ||
      !fields_ok(m->hops, m->flags) || sc_rd_left(&r) > SC_ROUTE_MAX) {
    return SC_ERR_MALFORMED;
  }
  m->len = sc_rd_left(&r);
  return sc_rd_span(&r, &m->payload, m->len) != 0 ? SC_ERR_MALFORMED : 0;
}
