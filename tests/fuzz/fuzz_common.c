/*
 * fuzz_common.c: shared harness support (fuzz_common.h).
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_noise.h"
#include "sc_node_int.h"
#include "sc_packet.h"

static int pair_up(tn *net, void *arg) {
  sc_node *a = tn_get(net, 0)->node, *b = tn_get(net, 1)->node;
  (void)arg;
  return a->nsessions == 1 && b->nsessions == 1 &&
         a->sessions[0]->state == SC_SESSION_ESTABLISHED &&
         b->sessions[0]->state == SC_SESSION_ESTABLISHED &&
         a->sessions[0]->confirmed && b->sessions[0]->confirmed;
}

tn *fuzz_pair(void) {
  tn *net = tn_new(1);
  if (tn_add(net, "10.0.0.1:4433", NULL, NULL) != 0 ||
      tn_add(net, "10.0.0.2:4433", NULL, NULL) != 1 ||
      tn_connect(net, 1, 0) != 0 ||
      !tn_run_until(net, pair_up, NULL, 5 * SC_SEC)) {
    fprintf(stderr, "fuzz: the session pair did not come up\n");
    abort();
  }
  tn_run(net, 100 * SC_MS); /* let the handshake's last packets land */
  return net;
}

size_t fuzz_seal(tn *net, int from, const uint8_t *plain, size_t len,
                 uint8_t *out) {
  sc_session *s = tn_get(net, from)->node->sessions[0];
  size_t cap = SC_MAX_PACKET - SC_DATA_HEADER_LEN - SC_AEAD_TAG_LEN;
  sc_wr w;
  sc_ssize n;
  len = SC_MIN(len, cap);
  sc_wr_init(&w, out, SC_DATA_HEADER_LEN);
  sc_pkt_write_data_header(&w, s->remote_sid, s->next_pn);
  n = sc_noise_seal(s->send_key, s->next_pn++, out, SC_DATA_HEADER_LEN, plain,
                    len, out + SC_DATA_HEADER_LEN);
  return n < 0 ? 0 : SC_DATA_HEADER_LEN + (size_t)n;
}

int fuzz_next(const uint8_t **p, size_t *left, fuzz_rec *r) {
  size_t len;
  if (*left == 0) {
    return 0;
  }
  r->kind = (*p)[0];
  len = *left >= 3 ? (size_t)((*p)[1] << 8 | (*p)[2]) : 0;
  *p += SC_MIN(*left, (size_t)3);
  *left -= SC_MIN(*left, (size_t)3);
  len = SC_MIN(len, *left);
  r->data = *p;
  r->len = len;
  *p += len;
  *left -= len;
  return 1;
}

void fuzz_put_rec(uint8_t *buf, size_t *len, size_t cap, uint8_t kind,
                  const uint8_t *data, size_t dlen) {
  if (*len + 3 + dlen > cap || dlen > 0xffff) {
    abort();
  }
  buf[(*len)++] = kind;
  buf[(*len)++] = (uint8_t)(dlen >> 8);
  buf[(*len)++] = (uint8_t)dlen;
  memcpy(buf + *len, data, dlen);
  *len += dlen;
}
