/*
 * check_store.c: the SQLite peer history (src/shell/store.c).
 *
 * Every test gets its own state directory under /tmp, removed afterwards,
 * and a logger writing into memory so that warnings can be checked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* fopencookie, open_memstream, mkdtemp, nftw */
#endif

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "store.h"

static char dir[64];
static char *logbuf;
static size_t loglen;
static FILE *logfp;
static sc_logger lg;

/* CHECK_STORE_LOG=1 sends the store's log to stderr as well. */
static ssize_t log_write(void *cookie, const char *buf, size_t len) {
  (void)cookie;
  if (getenv("CHECK_STORE_LOG") != NULL) {
    fwrite(buf, 1, len, stderr);
  }
  return fwrite(buf, 1, len, logfp) == len ? (ssize_t)len : -1;
}

static FILE *tee;

static void setup(void) {
  static const cookie_io_functions_t io = {.write = log_write};
  snprintf(dir, sizeof(dir), "/tmp/check_store.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  logfp = open_memstream(&logbuf, &loglen);
  ck_assert_ptr_nonnull(logfp);
  tee = fopencookie(NULL, "w", io);
  ck_assert_ptr_nonnull(tee);
  sc_logger_init(&lg, tee, SC_LOG_DEBUG);
}

static int remove_one(const char *path, const struct stat *sb, int flag,
                      struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void teardown(void) {
  nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  fclose(tee);
  fclose(logfp);
  free(logbuf);
}

/* ---- helpers ------------------------------------------------------------ */

static void path_of(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", dir, name);
}

static sc_store *open_store(void) {
  sc_store *st = NULL;
  char err[512] = "";
  ck_assert_msg(sc_store_open(&st, dir, &lg, err, sizeof(err)) == 0, "%s", err);
  ck_assert_ptr_nonnull(st);
  return st;
}

static sc_store_stats stats_of(const sc_store *st) {
  sc_store_stats s;
  sc_store_get_stats(st, &s);
  return s;
}

static void make_id(uint8_t id[SC_PEER_ID_LEN], unsigned n) {
  memset(id, 0xa5, SC_PEER_ID_LEN);
  id[0] = (uint8_t)(n >> 24);
  id[1] = (uint8_t)(n >> 16);
  id[2] = (uint8_t)(n >> 8);
  id[3] = (uint8_t)n;
}

static sc_addr make_v4(unsigned n) {
  sc_addr a;
  memset(&a, 0, sizeof(a));
  a.family = SC_AF_INET;
  a.ip[0] = 192;
  a.ip[2] = 2;
  a.ip[3] = (uint8_t)n;
  a.port = (uint16_t)(4000 + n);
  return a;
}

static sc_addr make_v6(unsigned n) {
  sc_addr a;
  memset(&a, 0, sizeof(a));
  a.family = SC_AF_INET6;
  a.ip[0] = 0x20;
  a.ip[1] = 0x01;
  a.ip[2] = 0x0d;
  a.ip[3] = 0xb8;
  a.ip[15] = (uint8_t)n;
  a.port = 443;
  return a;
}

static sqlite3 *raw_open(const char *name) {
  char path[256];
  sqlite3 *db = NULL;
  path_of(path, sizeof(path), name);
  ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                   SQLITE_OK);
  return db;
}

static void raw_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg != NULL ? msg : "");
  sqlite3_free(msg);
}

/* The first column of the first row of |sql|, as text into |buf|. */
static const char *raw_text(sqlite3 *db, const char *sql, char *buf,
                            size_t len) {
  sqlite3_stmt *s;
  ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
  snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  return buf;
}

static long long raw_int(sqlite3 *db, const char *sql) {
  char buf[32];
  return strtoll(raw_text(db, sql, buf, sizeof(buf)), NULL, 10);
}

static void write_file(const char *name, const void *buf, size_t len) {
  char path[256];
  FILE *f;
  path_of(path, sizeof(path), name);
  f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

/* Reads the file |name| into |buf|; returns its length. */
static size_t read_file(const char *name, uint8_t *buf, size_t cap) {
  char path[256];
  size_t n;
  FILE *f;
  path_of(path, sizeof(path), name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static mode_t mode_of(const char *name) {
  char path[256];
  struct stat sb;
  path_of(path, sizeof(path), name);
  ck_assert_msg(lstat(path, &sb) == 0, "%s missing", path);
  return sb.st_mode;
}

/* Counts the entries of the state directory whose names start with
 * |prefix| and copies the last one's name into |name|. */
static int find_entry(const char *prefix, char *name, size_t len) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  ck_assert_ptr_nonnull(d);
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
      size_t k = strlen(e->d_name) < len ? strlen(e->d_name) : len - 1;
      memcpy(name, e->d_name, k);
      name[k] = '\0';
      n++;
    }
  }
  closedir(d);
  return n;
}

static int count_in_log(const char *needle) {
  const char *p;
  int n = 0;
  fflush(tee);
  fflush(logfp);
  p = logbuf;
  while (p != NULL && (p = strstr(p, needle)) != NULL) {
    n++;
    p += strlen(needle);
  }
  return n;
}

typedef struct peers {
  sc_store_peer p[16];
  size_t n, stop_after;
} peers;

static int collect(void *arg, const sc_store_peer *p) {
  peers *ps = arg;
  ck_assert_uint_lt(ps->n, 16);
  ps->p[ps->n++] = *p;
  return ps->stop_after != 0 && ps->n == ps->stop_after;
}

/* Finds the peer |id| through sc_store_each. */
static sc_store_peer find_peer(sc_store *st, const uint8_t *id) {
  peers ps = {.n = 0};
  size_t i;
  ck_assert_int_eq(sc_store_each(st, collect, &ps), 0);
  for (i = 0; i < ps.n; i++) {
    if (memcmp(ps.p[i].peer_id, id, SC_PEER_ID_LEN) == 0) {
      return ps.p[i];
    }
  }
  ck_abort_msg("peer %02x%02x%02x%02x... not in the history", id[0], id[1],
               id[2], id[3]);
  return ps.p[0];
}

static sc_store_peer get_peer(sc_store *st, unsigned n) {
  uint8_t id[SC_PEER_ID_LEN];
  make_id(id, n);
  return find_peer(st, id);
}

/* Fills a closed store with |n| peers. */
static void fill(unsigned n) {
  sc_store *st = open_store();
  uint8_t id[SC_PEER_ID_LEN];
  unsigned i;
  for (i = 0; i < n; i++) {
    sc_addr a = make_v4(i);
    make_id(id, i);
    sc_store_note_up(st, id, &a, 1000 + i, 1000 + (int64_t)i);
  }
  ck_assert_int_eq(sc_store_flush(st), 0);
  sc_store_close(st);
}

/* Checks that a store opened over a bad database recovered and works. */
static void check_recovered(sc_store *st) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_store_peer best[4];
  sc_addr a = make_v4(9);
  ck_assert_int_eq(stats_of(st).recovered, 1);
  ck_assert_int_ge(count_in_log("WARN: history"), 1);
  ck_assert_int_ge(count_in_log(".corrupt-"), 1);
  make_id(id, 9);
  sc_store_note_up(st, id, &a, 500, 100);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_int_eq(sc_store_best(st, best, 4, 0, 100), 1);
  ck_assert_mem_eq(best[0].peer_id, id, SC_PEER_ID_LEN);
  ck_assert_uint_eq(mode_of(SC_STORE_FILE) & 07777, 0600);
}

/* ---- opening ------------------------------------------------------------ */

START_TEST(test_fresh_open) {
  sc_store *st;
  sc_store_stats s;
  sqlite3 *db;
  char buf[32];
  /* With this umask SQLite alone would create the file 0400. */
  mode_t old = umask(0277);
  st = open_store();
  umask(old);
  ck_assert(S_ISREG(mode_of(SC_STORE_FILE)));
  ck_assert_uint_eq(mode_of(SC_STORE_FILE) & 07777, 0600);
  ck_assert_uint_eq(mode_of(SC_STORE_FILE "-wal") & 07777, 0600);
  ck_assert_uint_eq(mode_of(SC_STORE_FILE "-shm") & 07777, 0600);
  s = stats_of(st);
  ck_assert_int_eq(s.recovered, 0);
  ck_assert_uint_eq(s.flushes + s.flush_errors + s.rows_written, 0);
  ck_assert_uint_eq(sc_store_pending(st), 0);
  db = raw_open(SC_STORE_FILE);
  ck_assert_str_eq(raw_text(db, "PRAGMA journal_mode", buf, sizeof(buf)),
                   "wal");
  ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), SC_STORE_SCHEMA_VERSION);
  ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM pragma_table_info("
                               "'peers')"),
                   9);
  ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM peers"), 0);
  sqlite3_close(db);
  ck_assert_int_eq(count_in_log("WARN"), 0);
  sc_store_close(st);
  /* Reopening a good database changes nothing. */
  st = open_store();
  ck_assert_int_eq(stats_of(st).recovered, 0);
  sc_store_close(st);
  ck_assert_int_eq(find_entry(SC_STORE_FILE ".corrupt", buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(test_mode_tightened) {
  char path[256];
  sc_store *st;
  fill(1);
  path_of(path, sizeof(path), SC_STORE_FILE);
  ck_assert_int_eq(chmod(path, 0644), 0);
  st = open_store();
  ck_assert_uint_eq(mode_of(SC_STORE_FILE) & 07777, 0600);
  ck_assert_int_eq(stats_of(st).recovered, 0);
  ck_assert_uint_eq(get_peer(st, 0).sessions, 1);
  sc_store_close(st);
}
END_TEST

START_TEST(test_open_missing_dir) {
  sc_store *st = (sc_store *)&st;
  char err[512] = "";
  ck_assert_int_eq(
      sc_store_open(&st, "/nonexistent/check_store", &lg, err, sizeof(err)),
      -1);
  ck_assert_ptr_null(st);
  ck_assert_ptr_nonnull(strstr(err, "/nonexistent/check_store"));
  ck_assert_int_eq(count_in_log("corrupt"), 0);
}
END_TEST

START_TEST(test_close_null) { sc_store_close(NULL); }
END_TEST

/* ---- persistence -------------------------------------------------------- */

START_TEST(test_persist) {
  uint8_t id[SC_PEER_ID_LEN], only_failed[SC_PEER_ID_LEN];
  sc_addr a1 = make_v4(1), a2 = make_v6(2);
  sc_store *st = open_store();
  sc_store_peer p;
  make_id(id, 1);
  sc_store_note_up(st, id, &a1, 1000, 1000);
  sc_store_note_down(st, id, &a1, 1200, 10, 20, 0, 1100);
  ck_assert_uint_eq(sc_store_pending(st), 1);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_uint_eq(sc_store_pending(st), 0);
  /* A clock that went back: first_seen moves back, last_seen stays. */
  sc_store_note_up(st, id, &a2, 0, 900);
  sc_store_note_failed(st, id, &a2, 1200);
  sc_store_note_down(st, id, &a2, 0, 5, 6, 1, 1050);
  make_id(only_failed, 2);
  sc_store_note_failed(st, only_failed, &a1, 1300);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_uint_eq(stats_of(st).flushes, 2);
  ck_assert_uint_eq(stats_of(st).rows_written, 3);
  sc_store_close(st);

  st = open_store();
  p = get_peer(st, 1);
  ck_assert_uint_eq(p.sessions, 2);
  ck_assert_uint_eq(p.failures, 2);
  ck_assert_uint_eq(p.bytes_sent, 15);
  ck_assert_uint_eq(p.bytes_received, 26);
  ck_assert_int_eq(p.first_seen, 900);
  ck_assert_int_eq(p.last_seen, 1100); /* the failure at 1200 is not seen */
  ck_assert_uint_eq(p.rtt_us, 1200);   /* 0 means unknown, keeps 1200 */
  ck_assert(sc_addr_eq(&p.addr, &a2));
  ck_assert_double_eq(p.score, 3.0 / 6.0);
  /* A peer known only from failures was never seen. */
  p = get_peer(st, 2);
  ck_assert_uint_eq(p.sessions, 0);
  ck_assert_uint_eq(p.failures, 1);
  ck_assert_int_eq(p.first_seen, 1300);
  ck_assert_int_eq(p.last_seen, 0);
  ck_assert(sc_addr_eq(&p.addr, &a1));
  /* A later session takes over the address and RTT. */
  sc_store_note_up(st, id, &a1, 700, 2000);
  ck_assert_int_eq(sc_store_flush(st), 0);
  p = get_peer(st, 1);
  ck_assert_uint_eq(p.sessions, 3);
  ck_assert_uint_eq(p.rtt_us, 700);
  ck_assert_int_eq(p.first_seen, 900);
  ck_assert_int_eq(p.last_seen, 2000);
  ck_assert(sc_addr_eq(&p.addr, &a1));
  sc_store_close(st);
}
END_TEST

START_TEST(test_close_flushes) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_addr a = make_v4(3);
  sc_store *st = open_store();
  make_id(id, 3);
  sc_store_note_up(st, id, &a, 42, 77);
  sc_store_close(st);
  st = open_store();
  ck_assert_uint_eq(get_peer(st, 3).rtt_us, 42);
  ck_assert_int_eq(get_peer(st, 3).last_seen, 77);
  sc_store_close(st);
}
END_TEST

START_TEST(test_clock_back) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_addr a = make_v4(4);
  sc_store *st = open_store();
  sc_store_peer p;
  /* Notes out of time order within one batch. */
  make_id(id, 4);
  sc_store_note_up(st, id, &a, 0, 1000);
  sc_store_note_down(st, id, &a, 0, 0, 0, 0, 900);
  sc_store_note_failed(st, id, &a, 800);
  sc_store_close(st);
  st = open_store();
  p = get_peer(st, 4);
  ck_assert_int_eq(p.first_seen, 800);
  ck_assert_int_eq(p.last_seen, 1000);
  sc_store_close(st);
}
END_TEST

START_TEST(test_coalesce) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_store *st = open_store();
  sc_store_peer p;
  sqlite3 *db;
  int i;
  make_id(id, 5);
  for (i = 0; i < 1000; i++) {
    sc_addr a = make_v4((unsigned)i % 200);
    sc_store_note_up(st, id, &a, (uint64_t)i + 1, 1000 + i);
    sc_store_note_down(st, id, &a, 0, 3, 4, i % 10 == 0, 1000 + i);
  }
  ck_assert_uint_eq(sc_store_pending(st), 1);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_uint_eq(stats_of(st).rows_written, 1);
  db = raw_open(SC_STORE_FILE);
  ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM peers"), 1);
  sqlite3_close(db);
  p = get_peer(st, 5);
  ck_assert_uint_eq(p.sessions, 1000);
  ck_assert_uint_eq(p.failures, 100);
  ck_assert_uint_eq(p.bytes_sent, 3000);
  ck_assert_uint_eq(p.bytes_received, 4000);
  ck_assert_uint_eq(p.rtt_us, 1000);
  ck_assert_int_eq(p.first_seen, 1000);
  ck_assert_int_eq(p.last_seen, 1999);
  {
    sc_addr last = make_v4(999 % 200);
    ck_assert(sc_addr_eq(&p.addr, &last));
  }
  sc_store_close(st);
}
END_TEST

START_TEST(test_pending_bound) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_addr a = make_v4(1);
  sc_store *st = open_store();
  sqlite3 *db;
  unsigned i;
  for (i = 0; i < SC_STORE_PENDING_MAX + 10; i++) {
    make_id(id, i);
    sc_store_note_up(st, id, &a, 0, 1);
  }
  ck_assert_uint_eq(sc_store_pending(st), SC_STORE_PENDING_MAX);
  ck_assert_uint_eq(stats_of(st).pending_dropped, 10);
  /* Changes to a peer already pending still coalesce. */
  make_id(id, 0);
  sc_store_note_up(st, id, &a, 0, 2);
  ck_assert_uint_eq(stats_of(st).pending_dropped, 10);
  make_id(id, SC_STORE_PENDING_MAX + 20);
  sc_store_note_failed(st, id, &a, 2);
  ck_assert_uint_eq(stats_of(st).pending_dropped, 11);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_uint_eq(stats_of(st).rows_written, SC_STORE_PENDING_MAX);
  ck_assert_uint_eq(sc_store_pending(st), 0);
  db = raw_open(SC_STORE_FILE);
  ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM peers"),
                   SC_STORE_PENDING_MAX);
  ck_assert_int_eq(raw_int(db, "SELECT max(sessions) FROM peers"), 2);
  sqlite3_close(db);
  /* Room again after the flush. */
  sc_store_note_up(st, id, &a, 0, 3);
  ck_assert_uint_eq(sc_store_pending(st), 1);
  ck_assert_uint_eq(stats_of(st).pending_dropped, 11);
  sc_store_close(st);
}
END_TEST

/* ---- reading ------------------------------------------------------------ */

/* Peers 1..6 of test_best: see the expected order there. */
static void note_ranked(sc_store *st) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_addr a = make_v4(1);
  int i;
  for (i = 0; i < 3; i++) {
    make_id(id, 1);
    sc_store_note_up(st, id, &a, 1000, 100); /* 4/5 */
    make_id(id, 3);
    sc_store_note_up(st, id, &a, 9500, 300); /* 4/6, seen last, slow */
  }
  sc_store_note_down(st, id, &a, 0, 0, 0, 1, 300);
  /* Flushed now, so that best has to merge stored and pending rows. */
  ck_assert_int_eq(sc_store_flush(st), 0);
  make_id(id, 2);
  sc_store_note_up(st, id, &a, 9000, 200); /* 2/3 */
  make_id(id, 4);
  sc_store_note_up(st, id, &a, 5000, 200); /* 2/3, lower RTT */
  make_id(id, 5);
  sc_store_note_up(st, id, &a, 0, 200); /* 2/3, unknown RTT */
  make_id(id, 6);
  sc_store_note_failed(st, id, &a, 50); /* 1/4, never seen */
  sc_store_note_failed(st, id, &a, 50);
}

static void check_order(const sc_store_peer *p, long n, const unsigned *want) {
  uint8_t id[SC_PEER_ID_LEN];
  long i;
  for (i = 0; i < n; i++) {
    make_id(id, want[i]);
    ck_assert_msg(memcmp(p[i].peer_id, id, SC_PEER_ID_LEN) == 0,
                  "position %ld: want peer %u, got %u", i, want[i],
                  (unsigned)p[i].peer_id[3]);
  }
}

START_TEST(test_best) {
  static const unsigned all[] = {1, 3, 4, 2, 5, 6};
  sc_store_peer p[16];
  sc_store *st = open_store();
  note_ranked(st);
  ck_assert_int_eq(sc_store_best(st, p, 16, 0, 300), 6);
  ck_assert_uint_eq(sc_store_pending(st), 0);
  check_order(p, 6, all);
  ck_assert_double_eq(p[0].score, 4.0 / 5.0);
  ck_assert_double_eq(p[1].score, 2.0 / 3.0);
  ck_assert_double_eq(p[3].score, 2.0 / 3.0);
  ck_assert_double_eq(p[5].score, 1.0 / 4.0);
  ck_assert_uint_eq(p[1].failures, 1);
  ck_assert_uint_eq(p[2].rtt_us, 5000);
  /* |cap| limits, from the top. */
  ck_assert_int_eq(sc_store_best(st, p, 2, 0, 300), 2);
  check_order(p, 2, all);
  ck_assert_int_eq(sc_store_best(st, p, 0, 0, 300), 0);
  /* max_age 100 at 300: seen at 200 or later. */
  ck_assert_int_eq(sc_store_best(st, p, 16, 100, 300), 4);
  check_order(p, 4, (const unsigned[]){3, 4, 2, 5});
  /* The boundary is inclusive; the never-seen peer stays out. */
  ck_assert_int_eq(sc_store_best(st, p, 16, 200, 300), 5);
  check_order(p, 5, all);
  ck_assert_int_eq(sc_store_best(st, p, 16, 199, 300), 4);
  /* No overflow for an absurd age. */
  ck_assert_int_eq(sc_store_best(st, p, 16, INT64_MAX, INT64_MIN + 5), 6);
  sc_store_close(st);
}
END_TEST

START_TEST(test_each_order) {
  static const unsigned order[] = {3, 2, 4, 5, 1, 6};
  peers ps = {.n = 0};
  sc_store *st = open_store();
  note_ranked(st);
  ck_assert_int_eq(sc_store_each(st, collect, &ps), 0);
  ck_assert_uint_eq(sc_store_pending(st), 0);
  ck_assert_uint_eq(ps.n, 6);
  /* Most recently seen first; the three seen at 200 by peer ID. */
  check_order(ps.p, 6, order);
  ck_assert_int_eq(ps.p[0].last_seen, 300);
  ck_assert_int_eq(ps.p[5].last_seen, 0);
  memset(&ps, 0, sizeof(ps));
  ps.stop_after = 2;
  ck_assert_int_eq(sc_store_each(st, collect, &ps), 0);
  ck_assert_uint_eq(ps.n, 2);
  check_order(ps.p, 2, order);
  sc_store_close(st);
}
END_TEST

START_TEST(test_bad_rows) {
  static const char *const bad[] = {
      "INSERT INTO peers VALUES (randomblob(31), '192.0.2.1:1', 1, 1,"
      " 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES (randomblob(33), '192.0.2.1:1', 1, 1,"
      " 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES ('abcdefghijklmnopqrstuvwxyz012345',"
      " '192.0.2.1:1', 1, 1, 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES (randomblob(32), 'not an address', 1, 1,"
      " 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES (randomblob(32), NULL, 1, 1, 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES (randomblob(32), 12345, 1, 1, 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES (randomblob(32), '192.0.2.1:99999', 1, 1,"
      " 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES (randomblob(32), x'3139322e302e322e313a31',"
      " 1, 1, 9, 0, 0, 0, 0)",
      "INSERT INTO peers VALUES (zeroblob(32), '[2001:db8::1]:443', 5, 6,"
      " -5, -3, -1, -7, -8)",
  };
  uint8_t id[SC_PEER_ID_LEN], zero[SC_PEER_ID_LEN];
  sc_addr a = make_v4(1), want;
  sc_store_peer p[16];
  peers ps = {.n = 0};
  sc_store *st = open_store();
  sqlite3 *db;
  size_t i;
  make_id(id, 1);
  sc_store_note_up(st, id, &a, 10, 1);
  ck_assert_int_eq(sc_store_flush(st), 0);
  db = raw_open(SC_STORE_FILE);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    raw_exec(db, bad[i]);
  }
  sqlite3_close(db);
  ck_assert_int_eq(sc_store_best(st, p, 16, 0, 10), 2);
  ck_assert_int_eq(sc_store_each(st, collect, &ps), 0);
  ck_assert_uint_eq(ps.n, 2);
  ck_assert_int_ge(count_in_log("skipped 8 bad rows"), 2);
  /* Negative counters read as 0. */
  memset(zero, 0, sizeof(zero));
  ck_assert_mem_eq(ps.p[0].peer_id, zero, SC_PEER_ID_LEN);
  ck_assert_uint_eq(ps.p[0].sessions, 0);
  ck_assert_uint_eq(ps.p[0].failures, 0);
  ck_assert_uint_eq(ps.p[0].rtt_us, 0);
  ck_assert_uint_eq(ps.p[0].bytes_sent, 0);
  ck_assert_double_eq(ps.p[0].score, 0.5);
  ck_assert_int_eq(sc_addr_parse(&want, "[2001:db8::1]:443"), 0);
  ck_assert(sc_addr_eq(&ps.p[0].addr, &want));
  /* Writing on top of the hand-made rows still works. */
  sc_store_note_up(st, zero, &a, 0, 10);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_uint_eq(find_peer(st, zero).sessions, 1);
  sc_store_close(st);
}
END_TEST

/* ---- failures ----------------------------------------------------------- */

START_TEST(test_flush_busy) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_addr a = make_v4(1);
  sc_store_peer p[4];
  sc_store *st = open_store();
  sqlite3 *db;
  make_id(id, 1);
  sc_store_note_up(st, id, &a, 10, 1);
  ck_assert_int_eq(sc_store_flush(st), 0);
  db = raw_open(SC_STORE_FILE);
  raw_exec(db, "BEGIN EXCLUSIVE");
  make_id(id, 2);
  sc_store_note_up(st, id, &a, 10, 2);
  ck_assert_int_eq(sc_store_flush(st), -1);
  ck_assert_uint_eq(stats_of(st).flush_errors, 1);
  ck_assert_uint_eq(stats_of(st).flushes, 1);
  ck_assert_uint_eq(sc_store_pending(st), 1);
  ck_assert_int_eq(count_in_log("WARN: history: cannot write 1 peers"), 1);
  /* Reading still works, from what is stored; the failure is counted. */
  ck_assert_int_eq(sc_store_best(st, p, 4, 0, 2), 1);
  ck_assert_uint_eq(stats_of(st).flush_errors, 2);
  ck_assert_uint_eq(sc_store_pending(st), 1);
  /* Only the first failure of a run is a warning. */
  ck_assert_int_eq(count_in_log("WARN: history: cannot write"), 1);
  ck_assert_int_eq(count_in_log("DEBUG: history: cannot write"), 1);
  raw_exec(db, "COMMIT");
  sqlite3_close(db);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_uint_eq(sc_store_pending(st), 0);
  ck_assert_uint_eq(stats_of(st).flushes, 2);
  ck_assert_uint_eq(stats_of(st).rows_written, 2);
  ck_assert_int_eq(count_in_log("INFO: history: written again"), 1);
  ck_assert_uint_eq(get_peer(st, 2).sessions, 1);
  sc_store_close(st);
}
END_TEST

START_TEST(test_flush_rollback) {
  uint8_t id[SC_PEER_ID_LEN];
  sc_addr a = make_v4(1);
  sc_store *st = open_store();
  sqlite3 *db;
  int i;
  /* A trigger fails the second row of the transaction. */
  db = raw_open(SC_STORE_FILE);
  raw_exec(db, "CREATE TRIGGER fault BEFORE INSERT ON peers"
               " WHEN NEW.sessions = 7 BEGIN SELECT RAISE(ABORT, 'fault');"
               " END");
  make_id(id, 1);
  sc_store_note_up(st, id, &a, 0, 1);
  make_id(id, 2);
  for (i = 0; i < 7; i++) {
    sc_store_note_up(st, id, &a, 0, 1);
  }
  ck_assert_int_eq(sc_store_flush(st), -1);
  ck_assert_uint_eq(sc_store_pending(st), 2);
  ck_assert_int_eq(count_in_log("cannot write 2 peers (fault)"), 1);
  /* The first row was rolled back with the second. */
  ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM peers"), 0);
  raw_exec(db, "DROP TRIGGER fault");
  sqlite3_close(db);
  ck_assert_int_eq(sc_store_flush(st), 0);
  ck_assert_uint_eq(get_peer(st, 1).sessions, 1);
  ck_assert_uint_eq(get_peer(st, 2).sessions, 7);
  sc_store_close(st);
}
END_TEST

START_TEST(test_locked_at_open) {
  char err[512] = "", buf[64];
  sc_store *st;
  sqlite3 *db;
  fill(3);
  /* In rollback mode an exclusive lock keeps readers out. */
  db = raw_open(SC_STORE_FILE);
  ck_assert_str_eq(raw_text(db, "PRAGMA journal_mode=DELETE", buf, sizeof(buf)),
                   "delete");
  raw_exec(db, "BEGIN EXCLUSIVE");
  ck_assert_int_eq(sc_store_open(&st, dir, &lg, err, sizeof(err)), -1);
  ck_assert_ptr_null(st);
  ck_assert_msg(strstr(err, "locked") != NULL, "%s", err);
  /* A busy database is not corrupt: it stays where it is. */
  ck_assert_int_eq(find_entry(SC_STORE_FILE ".corrupt", buf, sizeof(buf)), 0);
  raw_exec(db, "COMMIT");
  sqlite3_close(db);
  st = open_store();
  ck_assert_int_eq(stats_of(st).recovered, 0);
  ck_assert_uint_eq(get_peer(st, 2).sessions, 1);
  sc_store_close(st);
  db = raw_open(SC_STORE_FILE);
  ck_assert_str_eq(raw_text(db, "PRAGMA journal_mode", buf, sizeof(buf)),
                   "wal");
  sqlite3_close(db);
}
END_TEST

/* ---- recovery ----------------------------------------------------------- */

/* Checks that |name|.corrupt-* exists with |len| bytes equal to |want|;
 * returns its tag in |tag|. */
static void check_moved(const char *name, const uint8_t *want, size_t len,
                        char *tag, size_t taglen) {
  char prefix[64], moved[128];
  static uint8_t got[1 << 20];
  snprintf(prefix, sizeof(prefix), "%s.corrupt-", name);
  ck_assert_int_eq(find_entry(prefix, moved, sizeof(moved)), 1);
  ck_assert_uint_eq(read_file(moved, got, sizeof(got)), len);
  ck_assert_mem_eq(got, want, len);
  snprintf(tag, taglen, "%s", moved + strlen(name));
}

START_TEST(test_garbage) {
  uint8_t junk[3][5000];
  char t0[128], t1[128], t2[128];
  sc_store *st;
  randombytes_buf(junk, sizeof(junk));
  write_file(SC_STORE_FILE, junk[0], 5000);
  write_file(SC_STORE_FILE "-wal", junk[1], 1234);
  write_file(SC_STORE_FILE "-shm", junk[2], 777);
  st = open_store();
  check_recovered(st);
  check_moved(SC_STORE_FILE, junk[0], 5000, t0, sizeof(t0));
  check_moved(SC_STORE_FILE "-wal", junk[1], 1234, t1, sizeof(t1));
  /* The -shm is only an index of the -wal: SQLite rebuilds it as soon as
   * it looks, so only its name is checked. */
  ck_assert_int_eq(find_entry(SC_STORE_FILE "-shm.corrupt-", t2, sizeof(t2)),
                   1);
  memmove(t2, t2 + strlen(SC_STORE_FILE "-shm"),
          strlen(t2 + strlen(SC_STORE_FILE "-shm")) + 1);
  /* One tag for the set. */
  ck_assert_str_eq(t0, t1);
  ck_assert_str_eq(t0, t2);
  ck_assert_int_eq(count_in_log("moved history.db, history.db-wal, "
                                "history.db-shm aside as *.corrupt-"),
                   1);
  ck_assert_int_eq(count_in_log("file is not a database"), 1);
  sc_store_close(st);
}
END_TEST

START_TEST(test_truncated) {
  static uint8_t half[1 << 20];
  char path[256], tag[128];
  struct stat sb;
  sc_store *st;
  size_t n;
  fill(3000);
  path_of(path, sizeof(path), SC_STORE_FILE);
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_gt(sb.st_size, 65536);
  ck_assert_int_eq(truncate(path, sb.st_size / 2), 0);
  n = read_file(SC_STORE_FILE, half, sizeof(half));
  ck_assert_uint_eq(n, (size_t)(sb.st_size / 2));
  st = open_store();
  check_recovered(st);
  check_moved(SC_STORE_FILE, half, n, tag, sizeof(tag));
  sc_store_close(st);
}
END_TEST

START_TEST(test_unused_page) {
  static uint8_t page[65536];
  char path[256];
  uint8_t hdr[32];
  uint32_t pages, size;
  sc_store *st;
  FILE *f;
  /* One page more in the header and the file than the tree uses: the file
   * opens, and quick_check answers with a row, not an error. */
  fill(3);
  path_of(path, sizeof(path), SC_STORE_FILE);
  f = fopen(path, "r+b");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
  size = (uint32_t)hdr[16] << 8 | hdr[17];
  pages = (uint32_t)hdr[28] << 24 | (uint32_t)hdr[29] << 16 |
          (uint32_t)hdr[30] << 8 | hdr[31];
  pages++;
  hdr[28] = (uint8_t)(pages >> 24);
  hdr[29] = (uint8_t)(pages >> 16);
  hdr[30] = (uint8_t)(pages >> 8);
  hdr[31] = (uint8_t)pages;
  ck_assert_int_eq(fseek(f, 0, SEEK_SET), 0);
  ck_assert_uint_eq(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  ck_assert_uint_eq(fwrite(page, 1, size, f), size);
  ck_assert_int_eq(fclose(f), 0);
  st = open_store();
  check_recovered(st);
  ck_assert_msg(count_in_log("main *** Page ") == 1, "%s", logbuf);
  sc_store_close(st);
}
END_TEST

START_TEST(test_future_version) {
  static uint8_t orig[1 << 20];
  char tag[128];
  sc_store *st;
  sqlite3 *db;
  size_t n;
  fill(2);
  db = raw_open(SC_STORE_FILE);
  raw_exec(db, "PRAGMA user_version = 99");
  sqlite3_close(db);
  n = read_file(SC_STORE_FILE, orig, sizeof(orig));
  st = open_store();
  check_recovered(st);
  ck_assert_int_eq(count_in_log("unknown schema version 99"), 1);
  check_moved(SC_STORE_FILE, orig, n, tag, sizeof(tag));
  sc_store_close(st);
}
END_TEST

START_TEST(test_foreign_table) {
  sc_store *st;
  sqlite3 *db;
  char path[256];
  /* Version 0 with a "peers" table that is not ours. */
  path_of(path, sizeof(path), SC_STORE_FILE);
  ck_assert_int_eq(sqlite3_open_v2(path, &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   NULL),
                   SQLITE_OK);
  raw_exec(db, "CREATE TABLE peers (name TEXT)");
  sqlite3_close(db);
  st = open_store();
  check_recovered(st);
  ck_assert_int_eq(count_in_log("not a peer history"), 1);
  sc_store_close(st);
}
END_TEST

START_TEST(test_directory) {
  char path[256], moved[128];
  struct stat sb;
  sc_store *st;
  path_of(path, sizeof(path), SC_STORE_FILE);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  write_file(SC_STORE_FILE "/inside", "x", 1);
  st = open_store();
  check_recovered(st);
  ck_assert_int_eq(find_entry(SC_STORE_FILE ".corrupt-", moved, sizeof(moved)),
                   1);
  path_of(path, sizeof(path), moved);
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert(S_ISDIR(sb.st_mode));
  ck_assert_int_eq(count_in_log("not a regular file"), 1);
  sc_store_close(st);
}
END_TEST

START_TEST(test_unreadable) {
  char path[256], moved[128];
  sc_store *st;
  /* Root reads anything: there is nothing to see then. */
  if (geteuid() == 0) {
    return;
  }
  fill(1);
  path_of(path, sizeof(path), SC_STORE_FILE);
  ck_assert_int_eq(chmod(path, 0), 0);
  st = open_store();
  check_recovered(st);
  ck_assert_int_eq(find_entry(SC_STORE_FILE ".corrupt-", moved, sizeof(moved)),
                   1);
  ck_assert_uint_eq(mode_of(moved) & 07777, 0);
  sc_store_close(st);
}
END_TEST

START_TEST(test_symlink) {
  char path[256], target[256], moved[128];
  uint8_t buf[8];
  sc_store *st;
  path_of(path, sizeof(path), SC_STORE_FILE);
  path_of(target, sizeof(target), "elsewhere");
  write_file("elsewhere", "keep", 4);
  ck_assert_int_eq(symlink(target, path), 0);
  st = open_store();
  check_recovered(st);
  ck_assert_int_eq(find_entry(SC_STORE_FILE ".corrupt-", moved, sizeof(moved)),
                   1);
  ck_assert(S_ISLNK(mode_of(moved)));
  ck_assert_uint_eq(read_file("elsewhere", buf, sizeof(buf)), 4);
  ck_assert_mem_eq(buf, "keep", 4);
  sc_store_close(st);
}
END_TEST

START_TEST(test_tag_taken) {
  static const char garbage[] = "garbage garbage garbage";
  long long t = (long long)time(NULL);
  char name[128], full[256];
  uint8_t buf[32];
  sc_store *st;
  int k, found = 0;
  /* Take the tags -T and -T-1 of this second and the next; -T-1 only for
   * -shm, which does not exist: the set still moves under one tag. */
  for (k = 0; k < 2; k++) {
    snprintf(name, sizeof(name), SC_STORE_FILE ".corrupt-%lld", t + k);
    write_file(name, "keep", 4);
    snprintf(name, sizeof(name), SC_STORE_FILE "-shm.corrupt-%lld-1", t + k);
    write_file(name, "keep", 4);
  }
  write_file(SC_STORE_FILE, garbage, sizeof(garbage));
  st = open_store();
  check_recovered(st);
  for (k = 0; k < 2; k++) {
    snprintf(name, sizeof(name), SC_STORE_FILE ".corrupt-%lld-2", t + k);
    path_of(full, sizeof(full), name);
    if (access(full, F_OK) == 0) {
      found++;
      ck_assert_uint_eq(read_file(name, buf, sizeof(buf)), sizeof(garbage));
      ck_assert_mem_eq(buf, garbage, sizeof(garbage));
    }
  }
  ck_assert_int_eq(found, 1);
  snprintf(name, sizeof(name), SC_STORE_FILE ".corrupt-%lld", t);
  ck_assert_uint_eq(read_file(name, buf, sizeof(buf)), 4);
  ck_assert_mem_eq(buf, "keep", 4);
  sc_store_close(st);
}
END_TEST

static Suite *store_suite(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("open");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_fresh_open);
  tcase_add_test(tc, test_mode_tightened);
  tcase_add_test(tc, test_open_missing_dir);
  tcase_add_test(tc, test_close_null);
  suite_add_tcase(s, tc);
  tc = tcase_create("write");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_persist);
  tcase_add_test(tc, test_close_flushes);
  tcase_add_test(tc, test_clock_back);
  tcase_add_test(tc, test_coalesce);
  tcase_add_test(tc, test_pending_bound);
  suite_add_tcase(s, tc);
  tc = tcase_create("read");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_best);
  tcase_add_test(tc, test_each_order);
  tcase_add_test(tc, test_bad_rows);
  suite_add_tcase(s, tc);
  tc = tcase_create("failure");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_flush_busy);
  tcase_add_test(tc, test_flush_rollback);
  tcase_add_test(tc, test_locked_at_open);
  suite_add_tcase(s, tc);
  tc = tcase_create("recovery");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_garbage);
  tcase_add_test(tc, test_truncated);
  tcase_add_test(tc, test_unused_page);
  tcase_add_test(tc, test_future_version);
  tcase_add_test(tc, test_foreign_table);
  tcase_add_test(tc, test_directory);
  tcase_add_test(tc, test_unreadable);
  tcase_add_test(tc, test_symlink);
  tcase_add_test(tc, test_tag_taken);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(store_suite()); }
