/*
 * check_group.c: group specs, IDs, addresses and membership proofs
 * (src/core/sc_group.c).
 *
 * The layout tests rebuild the documented encodings byte by byte with
 * libsodium directly; the known-answer test pins two IDs so that the
 * encoding can never change silently.
 */
#include <check.h>
#include <sodium.h>
#include <string.h>

#include "check_main.h"
#include "sc_group.h"
#include "sc_macro.h"

static const char demo_full[] = "demo?secret=s3cret&features=multicast,posting";

/* Pinned: computed once with this implementation (and cross-checked with
 * Python's hashlib.blake2b), then written down. If either changes, the
 * encoding did: that is a new protocol version, not a fix. */
static const char demo_id_hex[] =
    "4de65d977ce4bf59a450f70991b9101f3251a4025b506c5cccbdcebd27f11ad6";
static const char demo_full_id_hex[] =
    "c53e05dbf16f61bd09d9e7adb3be17a2cf7bf76707098b7d42318efbcf578278";

static uint8_t peer_a[SC_PEER_ID_LEN];
static uint8_t peer_b[SC_PEER_ID_LEN];
static uint8_t hs[32];

static void setup(void) {
  size_t i;
  for (i = 0; i < SC_PEER_ID_LEN; i++) {
    peer_a[i] = (uint8_t)(i + 1);
    peer_b[i] = (uint8_t)(0xa0 + i);
    hs[i] = (uint8_t)(0x30 ^ i);
  }
}

static sc_group_spec parse_ok(const char *spec) {
  sc_group_spec g;
  ck_assert_msg(sc_group_spec_parse(&g, spec) == 0, "rejected: %s", spec);
  return g;
}

/* Builds a string of |n| copies of |c| after |prefix| in |buf|. */
static const char *repeat(char *buf, const char *prefix, char c, size_t n) {
  size_t p = strlen(prefix);
  memcpy(buf, prefix, p);
  memset(buf + p, c, n);
  buf[p + n] = '\0';
  return buf;
}

static int same_id(const char *x, const char *y) {
  sc_group_spec a = parse_ok(x), b = parse_ok(y);
  return memcmp(a.id, b.id, SC_GROUP_ID_LEN) == 0;
}

/* ---- parsing ------------------------------------------------------------- */

START_TEST(test_bare_name) {
  static const uint8_t zero[32];
  sc_group_spec g = parse_ok("demo");
  ck_assert_str_eq(g.name, "demo");
  ck_assert_uint_eq(g.features, SC_GROUP_ALL);
  ck_assert_int_eq(g.has_secret, 0);
  ck_assert_mem_eq(g.secret_key, zero, sizeof(zero));
  g = parse_ok("x");
  ck_assert_str_eq(g.name, "x");
}
END_TEST

START_TEST(test_name_chars) {
  char buf[SC_GROUP_NAME_MAX + 2];
  /* Every printable byte but space, '?', '&' and '='. */
  sc_group_spec g = parse_ok("!\"#$%'()*+,-./09:;<>@AZ[\\]^_`az{|}~");
  ck_assert_str_eq(g.name, "!\"#$%'()*+,-./09:;<>@AZ[\\]^_`az{|}~");
  g = parse_ok(repeat(buf, "", 'n', SC_GROUP_NAME_MAX));
  ck_assert_uint_eq(strlen(g.name), SC_GROUP_NAME_MAX);
}
END_TEST

START_TEST(test_features) {
  static const struct {
    const char *spec;
    unsigned features;
  } cases[] = {
      {"demo?features=multicast", SC_GROUP_MULTICAST},
      {"demo?features=posting", SC_GROUP_POSTING},
      {"demo?features=routing", SC_GROUP_ROUTING},
      {"demo?features=replication", SC_GROUP_REPLICATION},
      {"demo?features=posting,routing", SC_GROUP_POSTING | SC_GROUP_ROUTING},
      {"demo?features=replication,multicast",
       SC_GROUP_MULTICAST | SC_GROUP_REPLICATION},
      {"demo?features=routing,multicast,replication,posting", SC_GROUP_ALL},
      {"demo?features=all", SC_GROUP_ALL},
      {"demo?features=none", 0},
  };
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(cases); i++) {
    sc_group_spec g = parse_ok(cases[i].spec);
    ck_assert_msg(g.features == cases[i].features, "%s: %u", cases[i].spec,
                  g.features);
    ck_assert_str_eq(g.name, "demo");
    ck_assert_int_eq(g.has_secret, 0);
  }
}
END_TEST

START_TEST(test_secret) {
  char buf[300];
  uint8_t key[32];
  sc_group_spec g = parse_ok("demo?secret=s3cret");
  ck_assert_int_eq(g.has_secret, 1);
  ck_assert_uint_eq(g.features, SC_GROUP_ALL);
  crypto_generichash(key, sizeof(key), (const unsigned char *)"s3cret", 6, NULL,
                     0);
  ck_assert_mem_eq(g.secret_key, key, sizeof(key));
  /* '=' and '?' are fine in a secret; only '&' ends it. */
  g = parse_ok("demo?secret=a=b?c");
  crypto_generichash(key, sizeof(key), (const unsigned char *)"a=b?c", 5, NULL,
                     0);
  ck_assert_mem_eq(g.secret_key, key, sizeof(key));
  g = parse_ok("demo?secret=x");
  ck_assert_int_eq(g.has_secret, 1);
  g = parse_ok(repeat(buf, "demo?secret=", 'k', SC_GROUP_SECRET_MAX));
  ck_assert_int_eq(g.has_secret, 1);
}
END_TEST

START_TEST(test_option_order) {
  sc_group_spec a = parse_ok(demo_full);
  sc_group_spec b = parse_ok("demo?features=multicast,posting&secret=s3cret");
  ck_assert_mem_eq(a.id, b.id, SC_GROUP_ID_LEN);
  ck_assert(
      same_id(demo_full, "demo?features=posting,multicast&secret=s3cret"));
  ck_assert(same_id("demo?features=posting,routing",
                    "demo?features=routing,posting"));
}
END_TEST

START_TEST(test_all_is_default) {
  ck_assert(same_id("demo", "demo?features=all"));
  ck_assert(
      same_id("demo", "demo?features=multicast,posting,routing,replication"));
  ck_assert(same_id("demo?secret=x", "demo?features=all&secret=x"));
  ck_assert(!same_id("demo", "demo?features=none"));
}
END_TEST

START_TEST(test_malformed) {
  static const char *const bad[] = {
      "",                                      /* empty */
      "?features=all",                         /* empty name */
      "?",                                     /* empty name, empty option */
      "de mo",                                 /* space */
      "demo ",                                 /* trailing space */
      "de\tmo",                                /* control byte */
      "de\x7fmo",                              /* DEL */
      "d\xc3\xa9mo",                           /* not ASCII */
      "de=mo",                                 /* '=' in the name */
      "de&mo",                                 /* '&' in the name */
      "de?mo",                                 /* '?' ends the name early */
      "demo?",                                 /* no option after '?' */
      "demo?color=red",                        /* unknown key */
      "demo?Secret=x",                         /* keys are lower case */
      "demo?=x",                               /* empty key */
      "demo?features=",                        /* empty value */
      "demo?secret=",                          /* empty value */
      "demo?secret",                           /* '=' missing */
      "demo?features",                         /* '=' missing */
      "demo?features=all&features=all",        /* repeated key */
      "demo?secret=a&secret=a",                /* repeated key */
      "demo?features=multicast&features=none", /* repeated key */
      "demo?features=broadcast",               /* unknown feature */
      "demo?features=Multicast",               /* unknown feature */
      "demo?features=multicast,",              /* empty feature */
      "demo?features=,multicast",              /* empty feature */
      "demo?features=multicast,,posting",      /* empty feature */
      "demo?features=posting,posting",         /* feature twice */
      "demo?features=all,posting",             /* all is not a feature */
      "demo?features=none,posting",            /* none is not a feature */
      "demo?secret=x&",                        /* trailing '&' */
      "demo?&secret=x",                        /* leading '&' */
      "demo?secret=x&&features=all",           /* doubled '&' */
      "demo?secret=a b",                       /* space in the secret */
      "demo?secret=a\x01",                     /* control byte in it */
      "demo?secret=\xff",                      /* not ASCII */
  };
  char buf[400];
  sc_group_spec g;
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(bad); i++) {
    ck_assert_msg(sc_group_spec_parse(&g, bad[i]) == SC_ERR_MALFORMED,
                  "accepted: \"%s\"", bad[i]);
  }
  ck_assert_int_eq(
      sc_group_spec_parse(&g, repeat(buf, "", 'n', SC_GROUP_NAME_MAX + 1)),
      SC_ERR_MALFORMED);
  ck_assert_int_eq(sc_group_spec_parse(&g, repeat(buf, "demo?secret=", 'k',
                                                  SC_GROUP_SECRET_MAX + 1)),
                   SC_ERR_MALFORMED);
}
END_TEST

/* ---- group IDs ----------------------------------------------------------- */

START_TEST(test_ids_differ) {
  static const char *const specs[] = {
      "demo",
      "Demo",
      "demo2",
      "dem",
      "demo?secret=s3cret",
      "demo?secret=s3cres",
      "demo?secret=S3cret",
      "demo2?secret=s3cret",
      demo_full,
      "demo?features=none&secret=s3cret",
  };
  static const char *const names[] = {"multicast", "posting", "routing",
                                      "replication"};
  sc_group_spec g[SC_ARRAY_LEN(specs) + 16];
  size_t n = SC_ARRAY_LEN(specs), i, j;
  for (i = 0; i < n; i++) {
    g[i] = parse_ok(specs[i]);
  }
  /* Every one of the 16 feature sets, spelled out. */
  for (j = 0; j < 16; j++) {
    char spec[80];
    unsigned bit;
    strcpy(spec, j == 0 ? "demo?features=none" : "demo?features=");
    for (bit = 0; bit < 4; bit++) {
      if (j & (1u << bit)) {
        strcat(spec, names[bit]);
        strcat(spec, ",");
      }
    }
    if (j != 0) {
      spec[strlen(spec) - 1] = '\0';
    }
    g[n + j] = parse_ok(spec);
    ck_assert_uint_eq(g[n + j].features, j);
  }
  for (i = 0; i < n + 16; i++) {
    for (j = i + 1; j < n + 16; j++) {
      /* "demo" and the full feature set are the same group. */
      int same = i == 0 && j == n + 15;
      ck_assert_msg((memcmp(g[i].id, g[j].id, SC_GROUP_ID_LEN) == 0) == same,
                    "%zu vs %zu", i, j);
    }
  }
}
END_TEST

/* The encoding documented at the top of sc_group.c, rebuilt here. */
static void expected_id(uint8_t id[32], const char *name, uint8_t features,
                        const char *secret) {
  uint8_t in[19 + 1 + SC_GROUP_NAME_MAX + 1 + 32];
  size_t len = strlen(name);
  memcpy(in, "stratocast group v1", 19);
  in[19] = (uint8_t)len;
  memcpy(in + 20, name, len);
  in[20 + len] = features;
  memset(in + 21 + len, 0, 32);
  if (secret != NULL) {
    crypto_generichash(in + 21 + len, 32, (const unsigned char *)secret,
                       strlen(secret), NULL, 0);
  }
  crypto_generichash(id, 32, in, 53 + len, NULL, 0);
}

START_TEST(test_id_layout) {
  uint8_t want[32];
  sc_group_spec g = parse_ok("demo");
  expected_id(want, "demo", 0x0f, NULL);
  ck_assert_mem_eq(g.id, want, sizeof(want));
  g = parse_ok(demo_full);
  expected_id(want, "demo", 0x03, "s3cret");
  ck_assert_mem_eq(g.id, want, sizeof(want));
  g = parse_ok("group-7?features=none");
  expected_id(want, "group-7", 0x00, NULL);
  ck_assert_mem_eq(g.id, want, sizeof(want));
}
END_TEST

START_TEST(test_known_ids) {
  char hex[2 * SC_GROUP_ID_LEN + 1];
  sc_group_spec g = parse_ok("demo");
  sodium_bin2hex(hex, sizeof(hex), g.id, SC_GROUP_ID_LEN);
  ck_assert_str_eq(hex, demo_id_hex);
  g = parse_ok(demo_full);
  sodium_bin2hex(hex, sizeof(hex), g.id, SC_GROUP_ID_LEN);
  ck_assert_str_eq(hex, demo_full_id_hex);
}
END_TEST

/* publishers=: 1..8 keys of 64 hex digits, order free, none twice; the keys
 * enter the ID sorted after the secret's hash, with their count. */
START_TEST(test_publishers) {
  static const char *ka =
      "0101010101010101010101010101010101010101010101010101010101010101";
  static const char *kb =
      "FEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFE";
  char spec[1024], spec2[1024];
  uint8_t in[200], want[32], key[32];
  sc_group_spec g, plain = parse_ok("tv");
  size_t n = 0, i;
  snprintf(spec, sizeof(spec), "tv?publishers=%s,%s", kb, ka);
  snprintf(spec2, sizeof(spec2), "tv?publishers=%s,%s", ka, kb);
  g = parse_ok(spec);
  ck_assert_uint_eq(g.npublishers, 2);
  ck_assert_uint_eq(g.publishers[0][0], 0x01);
  ck_assert_uint_eq(g.publishers[1][0], 0xfe);
  ck_assert(same_id(spec, spec2));
  ck_assert_mem_ne(g.id, plain.id, 32);
  /* The layout: the plain input, then K and the sorted keys. */
  memcpy(in, "stratocast group v1", 19);
  n = 19;
  in[n++] = 2;
  memcpy(in + n, "tv", 2);
  n += 2;
  in[n++] = 0x0f;
  memset(in + n, 0, 32);
  n += 32;
  in[n++] = 2;
  memcpy(in + n, g.publishers[0], 32);
  memcpy(in + n + 32, g.publishers[1], 32);
  n += 64;
  crypto_generichash(want, 32, in, n, NULL, 0);
  ck_assert_mem_eq(g.id, want, 32);
  memset(key, 0x01, 32);
  ck_assert(sc_group_may_publish(&g, key));
  key[31] = 0x02;
  ck_assert(!sc_group_may_publish(&g, key));
  ck_assert(sc_group_may_publish(&plain, key));
  /* Refused: a repeat, a long, short or non-hex key, an empty item, a
   * repeated option, nine keys. */
  snprintf(spec, sizeof(spec), "tv?publishers=%s,%s", ka, ka);
  ck_assert_int_eq(sc_group_spec_parse(&g, spec), SC_ERR_MALFORMED);
  snprintf(spec, sizeof(spec), "tv?publishers=%s0", ka);
  ck_assert_int_eq(sc_group_spec_parse(&g, spec), SC_ERR_MALFORMED);
  snprintf(spec, sizeof(spec), "tv?publishers=%.63s", ka);
  ck_assert_int_eq(sc_group_spec_parse(&g, spec), SC_ERR_MALFORMED);
  snprintf(spec, sizeof(spec), "tv?publishers=%.63sg", ka);
  ck_assert_int_eq(sc_group_spec_parse(&g, spec), SC_ERR_MALFORMED);
  snprintf(spec, sizeof(spec), "tv?publishers=%s,", ka);
  ck_assert_int_eq(sc_group_spec_parse(&g, spec), SC_ERR_MALFORMED);
  snprintf(spec, sizeof(spec), "tv?publishers=%s&publishers=%s", ka, kb);
  ck_assert_int_eq(sc_group_spec_parse(&g, spec), SC_ERR_MALFORMED);
  strcpy(spec, "tv?publishers=");
  for (i = 0; i < 9; i++) {
    char k[66];
    snprintf(k, sizeof(k), "%s%064zx", i > 0 ? "," : "", i);
    strcat(spec, k);
    if (i == 7) {
      ck_assert_int_eq(sc_group_spec_parse(&g, spec), 0);
      ck_assert_uint_eq(g.npublishers, 8);
    }
  }
  ck_assert_int_eq(sc_group_spec_parse(&g, spec), SC_ERR_MALFORMED);
}
END_TEST

/* ---- addresses and proofs ------------------------------------------------ */

START_TEST(test_address) {
  sc_group_spec g = parse_ok("demo"), h = parse_ok("demo2");
  uint8_t in[64];
  sc_ring_addr want, got, other;
  memcpy(in, g.id, 32);
  memcpy(in + 32, peer_a, 32);
  crypto_generichash(want.b, 32, in, sizeof(in), NULL, 0);
  sc_group_address(&got, g.id, peer_a);
  ck_assert_mem_eq(got.b, want.b, SC_RING_LEN);
  sc_group_address(&other, g.id, peer_b);
  ck_assert_int_ne(sc_ring_cmp(&got, &other), 0);
  sc_group_address(&other, h.id, peer_a);
  ck_assert_int_ne(sc_ring_cmp(&got, &other), 0);
}
END_TEST

START_TEST(test_proof_layout) {
  sc_group_spec g = parse_ok(demo_full);
  crypto_generichash_state st;
  uint8_t want[32], got[SC_GROUP_PROOF_LEN], key[32];
  crypto_generichash(key, sizeof(key), (const unsigned char *)"s3cret", 6, NULL,
                     0);
  crypto_generichash_init(&st, key, sizeof(key), sizeof(want));
  crypto_generichash_update(&st, (const unsigned char *)"stratocast member v1",
                            20);
  crypto_generichash_update(&st, g.id, 32);
  crypto_generichash_update(&st, hs, sizeof(hs));
  crypto_generichash_update(&st, peer_a, 32);
  crypto_generichash_final(&st, want, sizeof(want));
  sc_group_proof(got, &g, hs, sizeof(hs), peer_a);
  ck_assert_mem_eq(got, want, sizeof(want));
}
END_TEST

START_TEST(test_proof_binds) {
  sc_group_spec g = parse_ok(demo_full);
  sc_group_spec other_secret = parse_ok("demo?secret=s3cres");
  sc_group_spec other_group = parse_ok("demo2?secret=s3cret");
  sc_group_spec other_features = parse_ok("demo?secret=s3cret");
  uint8_t p[SC_GROUP_PROOF_LEN], q[SC_GROUP_PROOF_LEN], hs2[32];
  unsigned bit;
  sc_group_proof(p, &g, hs, sizeof(hs), peer_a);
  ck_assert(sc_group_proof_check(p, &g, hs, sizeof(hs), peer_a));
  /* Another session, a shorter hash, another prover. */
  memcpy(hs2, hs, sizeof(hs));
  hs2[31] ^= 1;
  ck_assert(!sc_group_proof_check(p, &g, hs2, sizeof(hs2), peer_a));
  ck_assert(!sc_group_proof_check(p, &g, hs, sizeof(hs) - 1, peer_a));
  ck_assert(!sc_group_proof_check(p, &g, hs, sizeof(hs), peer_b));
  /* The two directions of one session differ. */
  sc_group_proof(q, &g, hs, sizeof(hs), peer_b);
  ck_assert(memcmp(p, q, sizeof(p)) != 0);
  ck_assert(sc_group_proof_check(q, &g, hs, sizeof(hs), peer_b));
  /* Another secret, another group with the same secret, or the same name
   * and secret with other features. */
  ck_assert(!sc_group_proof_check(p, &other_secret, hs, sizeof(hs), peer_a));
  ck_assert(!sc_group_proof_check(p, &other_group, hs, sizeof(hs), peer_a));
  ck_assert(!sc_group_proof_check(p, &other_features, hs, sizeof(hs), peer_a));
  sc_group_proof(q, &other_secret, hs, sizeof(hs), peer_a);
  ck_assert(!sc_group_proof_check(q, &g, hs, sizeof(hs), peer_a));
  /* Any flipped bit. */
  for (bit = 0; bit < 8 * SC_GROUP_PROOF_LEN; bit++) {
    memcpy(q, p, sizeof(q));
    q[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    ck_assert_msg(!sc_group_proof_check(q, &g, hs, sizeof(hs), peer_a),
                  "bit %u", bit);
  }
}
END_TEST

START_TEST(test_open_group_accepts_any) {
  static const uint8_t zero[SC_GROUP_PROOF_LEN];
  sc_group_spec open = parse_ok("demo?features=multicast,posting");
  sc_group_spec closed = parse_ok(demo_full);
  uint8_t p[SC_GROUP_PROOF_LEN];
  ck_assert(sc_group_proof_check(zero, &open, hs, sizeof(hs), peer_a));
  ck_assert(sc_group_proof_check(zero, &open, NULL, 0, peer_b));
  sc_group_proof(p, &closed, hs, sizeof(hs), peer_a);
  ck_assert(sc_group_proof_check(p, &open, hs, sizeof(hs), peer_a));
  ck_assert(!sc_group_proof_check(zero, &closed, hs, sizeof(hs), peer_a));
}
END_TEST

static Suite *group_suite(void) {
  Suite *s = suite_create("group");
  TCase *tc = tcase_create("spec");
  tcase_add_test(tc, test_bare_name);
  tcase_add_test(tc, test_name_chars);
  tcase_add_test(tc, test_features);
  tcase_add_test(tc, test_secret);
  tcase_add_test(tc, test_option_order);
  tcase_add_test(tc, test_all_is_default);
  tcase_add_test(tc, test_malformed);
  suite_add_tcase(s, tc);
  tc = tcase_create("id");
  tcase_add_test(tc, test_ids_differ);
  tcase_add_test(tc, test_id_layout);
  tcase_add_test(tc, test_known_ids);
  tcase_add_test(tc, test_publishers);
  suite_add_tcase(s, tc);
  tc = tcase_create("member");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_address);
  tcase_add_test(tc, test_proof_layout);
  tcase_add_test(tc, test_proof_binds);
  tcase_add_test(tc, test_open_group_accepts_any);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main(group_suite()); }
