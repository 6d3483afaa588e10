/*
 * check_post.c: posting (doc/groupmsg-design.md, "Posting"): the codecs of
 * POST, IHAVE and IWANT (src/core/sc_postmsg.c).
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "sc_postmsg.h"

static sc_post_msg sample(const uint8_t *payload, size_t len) {
  sc_post_msg m;
  memset(&m, 0, sizeof(m));
  memset(m.id.group_id, 1, sizeof(m.id.group_id));
  memset(m.id.origin, 2, sizeof(m.id.origin));
  m.id.number = 300;
  m.sent_ms = 123456789;
  memset(m.lo.b, 3, sizeof(m.lo.b));
  memset(m.hi.b, 4, sizeof(m.hi.b));
  m.payload = payload;
  m.len = len;
  return m;
}

START_TEST(test_post_round_trip) {
  uint8_t payload[SC_POST_MAX + 1], buf[SC_POST_MAX + 256];
  sc_post_msg m, m2;
  sc_wr w;
  size_t i, full;
  for (i = 0; i < sizeof(payload); i++) {
    payload[i] = (uint8_t)(i * 7);
  }
  m = sample(payload, SC_POST_MAX);
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  full = w.len;
  /* 32 + 32 + 2 (number) + 4 (sent) + 64 + payload */
  ck_assert_uint_eq(full, 64 + 2 + 4 + 64 + SC_POST_MAX);
  ck_assert_int_eq(sc_post_read(&m2, buf, full), 0);
  ck_assert_mem_eq(m2.id.group_id, m.id.group_id, SC_GROUP_ID_LEN);
  ck_assert_mem_eq(m2.id.origin, m.id.origin, SC_PEER_ID_LEN);
  ck_assert_uint_eq(m2.id.number, 300);
  ck_assert_uint_eq(m2.sent_ms, 123456789);
  ck_assert_mem_eq(m2.lo.b, m.lo.b, SC_RING_LEN);
  ck_assert_mem_eq(m2.hi.b, m.hi.b, SC_RING_LEN);
  ck_assert_uint_eq(m2.len, SC_POST_MAX);
  ck_assert_mem_eq(m2.payload, payload, SC_POST_MAX);
  ck_assert(m2.payload >= buf && m2.payload + m2.len == buf + full);
  /* An empty post is a post. */
  m = sample(payload, 0);
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  ck_assert_int_eq(sc_post_read(&m2, buf, w.len), 0);
  ck_assert_uint_eq(m2.len, 0);
}
END_TEST

START_TEST(test_post_refused) {
  uint8_t payload[SC_POST_MAX + 1] = {0}, buf[2048];
  sc_post_msg m = sample(payload, SC_POST_MAX + 1), m2;
  sc_wr w;
  size_t n, full;
  /* Writers refuse what readers would. */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), SC_ERR_INVALID_ARG);
  m = sample(payload, 10);
  m.id.number = SC_VARINT_MAX + 1;
  ck_assert_int_eq(sc_post_write(&w, &m), SC_ERR_INVALID_ARG);
  m = sample(payload, 10);
  m.sent_ms = SC_VARINT_MAX + 1;
  ck_assert_int_eq(sc_post_write(&w, &m), SC_ERR_INVALID_ARG);
  ck_assert_uint_eq(w.len, 0);
  /* A buffer one byte short takes nothing. */
  m = sample(payload, 10);
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  full = w.len;
  sc_wr_init(&w, buf, full - 1);
  ck_assert_int_eq(sc_post_write(&w, &m), SC_ERR_BUFFER);
  ck_assert_uint_eq(w.len, 0);
  /* Every truncation before the payload is malformed; a payload over
   * the limit too. */
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_write(&w, &m), 0);
  for (n = 0; n < full - 10; n++) {
    ck_assert_int_eq(sc_post_read(&m2, buf, n), SC_ERR_MALFORMED);
  }
  ck_assert_int_eq(sc_post_read(&m2, buf, full - 10 + SC_POST_MAX + 1),
                   SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_post_read(&m2, buf, full - 10 + SC_POST_MAX), 0);
}
END_TEST

START_TEST(test_post_id) {
  uint8_t buf[128];
  sc_post_id id, id2;
  sc_wr w;
  size_t n;
  memset(&id, 5, sizeof(id));
  id.number = 1u << 20;
  sc_wr_init(&w, buf, sizeof(buf));
  ck_assert_int_eq(sc_post_id_write(&w, &id), 0);
  ck_assert_uint_eq(w.len, 64 + 4);
  ck_assert_int_eq(sc_post_id_read(&id2, buf, w.len), 0);
  ck_assert_mem_eq(&id2.group_id, &id.group_id, SC_GROUP_ID_LEN);
  ck_assert_mem_eq(&id2.origin, &id.origin, SC_PEER_ID_LEN);
  ck_assert_uint_eq(id2.number, id.number);
  for (n = 0; n < w.len; n++) {
    ck_assert_int_eq(sc_post_id_read(&id2, buf, n), SC_ERR_MALFORMED);
  }
  buf[w.len] = 0;
  ck_assert_int_eq(sc_post_id_read(&id2, buf, w.len + 1), SC_ERR_MALFORMED);
  id.number = SC_VARINT_MAX + 1;
  ck_assert_int_eq(sc_post_id_write(&w, &id), SC_ERR_INVALID_ARG);
}
END_TEST

static Suite *post_suite(void) {
  Suite *s = suite_create("post");
  TCase *tc = tcase_create("codec");
  tcase_add_test(tc, test_post_round_trip);
  tcase_add_test(tc, test_post_refused);
  tcase_add_test(tc, test_post_id);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(post_suite()); }
