/*
 * check_main.h: the main() every Check program shares.
 */
#ifndef SC_CHECK_MAIN_H
#define SC_CHECK_MAIN_H

#include <check.h>
#include <sodium.h>
#include <stdlib.h>

/* check_main initialises libsodium, runs |suite| (CK_FORK and the other
 * CK_* variables apply) and returns the exit status: failure if any test
 * failed or libsodium could not start. */
static inline int check_main(Suite *suite) {
  SRunner *sr;
  int failed;
  if (sodium_init() < 0) {
    return EXIT_FAILURE;
  }
  sr = srunner_create(suite);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* SC_CHECK_MAIN_H */
