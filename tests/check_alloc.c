/*
 * check_alloc.c: failing-allocation runs. A small swarm is run once to
 * count the allocations each node makes; then again once per allocation
 * with exactly that one failing. Every run must end without a crash or a
 * leak (this program runs under ASan and valgrind in ./tools/check), every
 * API call must return success or SC_ERR_NOMEM, and the swarm must heal:
 * bootstrap sessions come back once memory does.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sc_macro.h"
#include "sc_node_int.h"
#include "testnet.h"

typedef struct failmem {
  sc_mem mem;
  uint64_t count;   /* allocations attempted */
  uint64_t fail_at; /* this one fails; 0: none */
  int fail_all;     /* every allocation fails while set */
  uint64_t failures;
} failmem;

static int should_fail(failmem *f) {
  f->count++;
  if (f->fail_all || f->count == f->fail_at) {
    f->failures++;
    return 1;
  }
  return 0;
}

static void *fm_malloc(size_t size, void *user) {
  return should_fail(user) ? NULL : malloc(size);
}
static void fm_free(void *ptr, void *user) {
  (void)user;
  free(ptr);
}
static void *fm_calloc(size_t n, size_t size, void *user) {
  return should_fail(user) ? NULL : calloc(n, size);
}
static void *fm_realloc(void *ptr, size_t size, void *user) {
  return should_fail(user) ? NULL : realloc(ptr, size);
}

static void failmem_init(failmem *f, uint64_t fail_at) {
  memset(f, 0, sizeof(*f));
  f->mem.user = f;
  f->mem.malloc = fm_malloc;
  f->mem.free = fm_free;
  f->mem.calloc = fm_calloc;
  f->mem.realloc = fm_realloc;
  f->fail_at = fail_at;
}

static int star_up(tn *net, void *arg) {
  (void)arg;
  return tn_session_with(net, 0, 1, NULL, NULL) &&
         tn_session_with(net, 1, 0, NULL, NULL) &&
         tn_session_with(net, 0, 2, NULL, NULL) &&
         tn_session_with(net, 2, 0, NULL, NULL);
}

/* Runs the scenario with node |victim|'s allocation |fail_at| failing.
 * Returns the allocations the victim made, or 0 if it could not even be
 * created (which must then have been reported as SC_ERR_NOMEM). */
static uint64_t run(int victim, uint64_t fail_at, int expect_heal) {
  tn *net = tn_new(31);
  failmem fm;
  int i, idx;
  uint64_t used;
  failmem_init(&fm, fail_at);
  for (i = 0; i < 3; i++) {
    idx = tn_add(net, NULL, NULL, i == victim ? &fm.mem : NULL);
    if (idx < 0) {
      ck_assert_int_eq(idx, SC_ERR_NOMEM);
      ck_assert_int_eq(i, victim);
      ck_assert_uint_eq(fm.failures, 1);
      tn_del(net);
      return 0;
    }
  }
  /* 1 and 2 bootstrap from 0; 0 introduces them to each other. */
  for (i = 1; i < 3; i++) {
    int rv = tn_connect(net, i, 0);
    ck_assert(rv == 0 || rv == SC_ERR_NOMEM);
    if (rv != 0) {
      ck_assert_int_eq(i, victim);
      ck_assert_int_eq(tn_connect(net, i, 0), 0); /* memory is back */
    }
  }
  tn_set_loss(net, 100);
  tn_run(net, 5 * SC_SEC);
  /* Control messages both ways over lossy sessions exercise the send
   * queues, the reorder buffers and the sent-packet records. */
  for (i = 0; i < 3; i++) {
    sc_node *node = tn_get(net, i)->node;
    size_t k, m;
    uint8_t body[200];
    memset(body, i, sizeof(body));
    for (k = 0; k < node->nsessions; k++) {
      for (m = 0; m < 40; m++) {
        int rv = sc_session_send_msg(node->sessions[k], 1000, body,
                                     sizeof(body), tn_now(net));
        ck_assert(rv == 0 || rv == SC_ERR_NOMEM || rv == SC_ERR_STATE);
      }
    }
  }
  tn_run(net, 15 * SC_SEC);
  tn_set_loss(net, 0);
  if (expect_heal) {
    ck_assert_msg(tn_run_until(net, star_up, NULL, 120 * SC_SEC),
                  "node %d, allocation %llu: bootstrap sessions did not heal",
                  victim, (unsigned long long)fail_at);
  }
  used = fm.count;
  tn_del(net);
  return used;
}

START_TEST(test_fail_each_allocation) {
  int victim = _i;
  uint64_t total = run(victim, 0, 1), n;
  ck_assert_uint_gt(total, 5);
  for (n = 1; n <= total; n++) {
    run(victim, n, 1);
  }
}
END_TEST

/* Memory runs out for a while in the middle of the run: sessions may fail,
 * nothing crashes, and everything comes back afterwards. */
START_TEST(test_outage) {
  tn *net = tn_new(32);
  failmem fm[3];
  int i;
  for (i = 0; i < 3; i++) {
    failmem_init(&fm[i], 0);
    ck_assert_int_eq(tn_add(net, NULL, NULL, &fm[i].mem), i);
  }
  ck_assert_int_eq(tn_connect(net, 1, 0), 0);
  ck_assert_int_eq(tn_connect(net, 2, 0), 0);
  ck_assert(tn_run_until(net, star_up, NULL, 10 * SC_SEC));
  for (i = 0; i < 3; i++) {
    fm[i].fail_all = 1;
  }
  /* b restarts during the outage: its new handshake cannot be served. */
  tn_crash(net, 1);
  tn_run(net, 40 * SC_SEC);
  for (i = 0; i < 3; i++) {
    fm[i].fail_all = 0;
  }
  ck_assert_int_eq(tn_restart(net, 1, NULL), 0);
  ck_assert_int_eq(tn_connect(net, 1, 0), 0);
  ck_assert(tn_run_until(net, star_up, NULL, 120 * SC_SEC));
  ck_assert_uint_gt(fm[0].failures, 0);
  tn_del(net);
}
END_TEST

static Suite *alloc_suite(void) {
  Suite *s = suite_create("alloc");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, test_fail_each_allocation, 0, 3);
  tcase_add_test(tc, test_outage);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(alloc_suite()); }
