/*
 * check_noise.c: the Noise engine against the cacophony test vectors for
 * 25519_ChaChaPoly_BLAKE2b, plus tampering, truncation, state and nonce
 * tests.
 *
 * The vector file comes from SC_VECTORS (environment) or SC_VECTORS_PATH
 * (set by the build). A missing or unparsable file fails the tests: a
 * silent skip would let the suite pass without checking anything.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "minijson.h"
#include "sc_noise.h"
#include "stratocast.h"

#ifndef SC_VECTORS_PATH
#error "define SC_VECTORS_PATH to the path of the Noise vector JSON file"
#endif

/* Every passing ck_assert records its location with a write(2); in loops
 * over thousands of cases that dominates the run time, so hot paths check
 * with REQUIRE, which only calls into Check on failure. */
#define REQUIRE(cond, ...)                                                     \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ck_abort_msg(__VA_ARGS__);                                               \
    }                                                                          \
  } while (0)

#define EXPECTED_VECTORS 59
#define TV_MAX_BYTES 1024 /* payload or message in a vector */
#define TV_MAX_MSGS 8
#define TV_MAX_PROLOGUE 256

typedef struct tv_msg {
  uint8_t payload[TV_MAX_BYTES];
  size_t plen;
  uint8_t ct[TV_MAX_BYTES];
  size_t clen;
} tv_msg;

typedef struct tv_side {
  uint8_t prologue[TV_MAX_PROLOGUE];
  size_t prologue_len;
  uint8_t s[SC_NOISE_DHLEN], e[SC_NOISE_DHLEN], rs[SC_NOISE_DHLEN];
  int has_s, has_e, has_rs;
  uint8_t psks[SC_NOISE_MAX_PSKS][SC_NOISE_KEYLEN];
  int npsks;
} tv_side;

typedef struct tv {
  char name[128];
  tv_side init, resp;
  uint8_t hash[SC_NOISE_HASHLEN];
  tv_msg msgs[TV_MAX_MSGS];
  size_t nmsgs;
} tv;

/* Loaded by the checked fixture for each test. */
static tv *g_vecs;
static size_t g_nvecs;

/* ---- loading ------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long size;

  ck_assert_msg(f != NULL, "cannot open vector file %s", path);
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
      fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)size);
    if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size) {
      *len = (size_t)size;
    } else {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  ck_assert_msg(buf != NULL, "cannot read vector file %s", path);
  return buf;
}

/* Decodes |n| hex digits (n even) into |out|; -1 on a bad digit. Kept
 * free of Check assertions, which cost a write each. */
static int unhex(const char *hex, size_t n, uint8_t *out) {
  size_t bin_len;
  const char *end;
  return sodium_hex2bin(out, n / 2, hex, n, NULL, &bin_len, &end) == 0 &&
                 bin_len == n / 2 && end == hex + n
             ? 0
             : -1;
}

/* Decodes the hex string member |key| of |obj| into |out| (|cap| bytes).
 * Returns 0 when the member is absent; a bad value fails the test. */
static int hex_field(const mj_doc *d, size_t obj, const char *key, uint8_t *out,
                     size_t cap, size_t *outlen) {
  char hex[2 * TV_MAX_BYTES + 1];
  size_t v = mj_get(d, obj, key);
  sc_ssize n;

  if (v == MJ_NONE) {
    return 0;
  }
  n = mj_string(d, v, hex, sizeof hex);
  if (n < 0 || n % 2 != 0 || (size_t)n / 2 > cap ||
      unhex(hex, (size_t)n, out) != 0) {
    ck_abort_msg("bad hex field %s", key);
  }
  *outlen = (size_t)n / 2;
  return 1;
}

/* A key field must be absent or exactly 32 bytes. */
static int key_field(const mj_doc *d, size_t obj, const char *key,
                     uint8_t out[SC_NOISE_DHLEN]) {
  size_t len = 0;
  int has = hex_field(d, obj, key, out, SC_NOISE_DHLEN, &len);
  REQUIRE(!has || len == SC_NOISE_DHLEN, "%s is not 32 bytes", key);
  return has;
}

static void load_side(const mj_doc *d, size_t obj, const char *prefix,
                      tv_side *side) {
  char key[64];
  size_t arr, i;

  snprintf(key, sizeof key, "%s_prologue", prefix);
  hex_field(d, obj, key, side->prologue, sizeof side->prologue,
            &side->prologue_len);
  snprintf(key, sizeof key, "%s_static", prefix);
  side->has_s = key_field(d, obj, key, side->s);
  snprintf(key, sizeof key, "%s_ephemeral", prefix);
  side->has_e = key_field(d, obj, key, side->e);
  snprintf(key, sizeof key, "%s_remote_static", prefix);
  side->has_rs = key_field(d, obj, key, side->rs);
  snprintf(key, sizeof key, "%s_psks", prefix);
  arr = mj_get(d, obj, key);
  for (i = 0; i < mj_count(d, arr); i++) {
    char hex[2 * SC_NOISE_KEYLEN + 1];
    if (i >= SC_NOISE_MAX_PSKS ||
        mj_string(d, mj_at(d, arr, i), hex, sizeof hex) !=
            2 * SC_NOISE_KEYLEN ||
        unhex(hex, 2 * SC_NOISE_KEYLEN, side->psks[i]) != 0) {
      ck_abort_msg("bad %s entry %zu", key, i);
    }
    side->npsks = (int)i + 1;
  }
}

static void load_vector(const mj_doc *d, size_t obj, tv *v) {
  size_t msgs, i, len = 0;

  REQUIRE(mj_string(d, mj_get(d, obj, "protocol_name"), v->name,
                    sizeof v->name) > 0,
          "vector without protocol_name");
  load_side(d, obj, "init", &v->init);
  load_side(d, obj, "resp", &v->resp);
  REQUIRE(hex_field(d, obj, "handshake_hash", v->hash, sizeof v->hash, &len) &&
              len == SC_NOISE_HASHLEN,
          "%s: bad handshake_hash", v->name);
  msgs = mj_get(d, obj, "messages");
  v->nmsgs = mj_count(d, msgs);
  REQUIRE(mj_type(d, msgs) == MJ_ARRAY && v->nmsgs > 0 &&
              v->nmsgs <= TV_MAX_MSGS,
          "%s: bad messages", v->name);
  for (i = 0; i < v->nmsgs; i++) {
    size_t m = mj_at(d, msgs, i);
    tv_msg *tm = &v->msgs[i];
    REQUIRE(hex_field(d, m, "payload", tm->payload, TV_MAX_BYTES, &tm->plen) &&
                hex_field(d, m, "ciphertext", tm->ct, TV_MAX_BYTES, &tm->clen),
            "%s: bad message %zu", v->name, i);
  }
}

static void vectors_setup(void) {
  const char *path = getenv("SC_VECTORS");
  mj_value *vals;
  mj_doc doc;
  size_t len = 0, arr, i;
  char *text;

  if (path == NULL || *path == '\0') {
    path = SC_VECTORS_PATH;
  }
  text = read_file(path, &len);
  vals = calloc(len, sizeof *vals);
  ck_assert_ptr_nonnull(vals);
  ck_assert_msg(mj_parse(&doc, text, len, vals, len) == 0,
                "vector file %s does not parse", path);
  arr = mj_get(&doc, 0, "vectors");
  ck_assert_msg(mj_type(&doc, arr) == MJ_ARRAY, "no \"vectors\" array");
  g_nvecs = mj_count(&doc, arr);
  g_vecs = calloc(g_nvecs > 0 ? g_nvecs : 1, sizeof *g_vecs);
  ck_assert_ptr_nonnull(g_vecs);
  for (i = 0; i < g_nvecs; i++) {
    load_vector(&doc, mj_at(&doc, arr, i), &g_vecs[i]);
  }
  free(vals);
  free(text);
}

static void vectors_teardown(void) {
  free(g_vecs);
  g_vecs = NULL;
  g_nvecs = 0;
}

static const tv *find_vector(const char *name) {
  size_t i;
  for (i = 0; i < g_nvecs; i++) {
    if (strcmp(g_vecs[i].name, name) == 0) {
      return &g_vecs[i];
    }
  }
  ck_abort_msg("no vector %s", name);
  return NULL;
}

/* ---- running a vector ------------------------------------------------- */

/* One-way patterns (N, K, X) have a one-letter name (§7.4). */
static int is_one_way(const char *name) {
  const char *p = name + strlen("Noise_");
  return strncmp(name, "Noise_", strlen("Noise_")) == 0 && p[0] != '\0' &&
         (p[1] == '_' || (p[1] >= 'a' && p[1] <= 'z'));
}

static int init_side(sc_noise_hs *hs, const tv *v, int initiator) {
  const tv_side *s = initiator ? &v->init : &v->resp;
  sc_noise_config cfg;

  memset(&cfg, 0, sizeof cfg);
  cfg.protocol_name = v->name;
  cfg.initiator = initiator;
  cfg.prologue = s->prologue;
  cfg.prologue_len = s->prologue_len;
  cfg.s = s->has_s ? s->s : NULL;
  cfg.e = s->has_e ? s->e : NULL;
  cfg.rs = s->has_rs ? s->rs : NULL;
  cfg.psks = s->npsks > 0 ? s->psks : NULL;
  cfg.npsks = s->npsks;
  return sc_noise_hs_init(hs, &cfg);
}

/* Both sides of one vector, and the next message to run. */
typedef struct run {
  const tv *v;
  int one_way;
  size_t k;
  sc_noise_hs ini, res;
  sc_noise_cipher ic1, ic2, rc1, rc2; /* after Split() */
} run;

static void run_start(run *r, const tv *v) {
  memset(r, 0, sizeof *r);
  r->v = v;
  r->one_way = is_one_way(v->name);
  ck_assert_msg(init_side(&r->ini, v, 1) == 0, "%s: initiator not accepted",
                v->name);
  ck_assert_msg(init_side(&r->res, v, 0) == 0, "%s: responder not accepted",
                v->name);
}

static int run_from_init(const run *r) { return r->one_way || r->k % 2 == 0; }
static int run_in_handshake(const run *r) {
  return !sc_noise_hs_is_done(&r->ini);
}
static sc_noise_hs *run_tx(run *r) {
  return run_from_init(r) ? &r->ini : &r->res;
}
static sc_noise_hs *run_rx(run *r) {
  return run_from_init(r) ? &r->res : &r->ini;
}
static sc_noise_cipher *run_send(run *r) {
  return run_from_init(r) ? &r->ic1 : &r->rc2;
}
static sc_noise_cipher *run_recv(run *r) {
  return run_from_init(r) ? &r->rc1 : &r->ic2;
}

/* The remote static key |hs| reports must be the peer's, or NULL when the
 * peer has none in this pattern. */
static void check_remote_static(const sc_noise_hs *hs, const tv_side *peer) {
  uint8_t pub[SC_NOISE_DHLEN];
  const uint8_t *rs = sc_noise_hs_remote_static(hs);

  if (!peer->has_s) {
    ck_assert_ptr_null(rs);
    return;
  }
  ck_assert_int_eq(crypto_scalarmult_base(pub, peer->s), 0);
  ck_assert_ptr_nonnull(rs);
  ck_assert_mem_eq(rs, pub, SC_NOISE_DHLEN);
}

static void run_finish_handshake(run *r) {
  ck_assert_msg(sc_noise_hs_is_done(&r->res), "%s: sides disagree on end",
                r->v->name);
  ck_assert_msg(
      memcmp(sc_noise_hs_hash(&r->ini), r->v->hash, SC_NOISE_HASHLEN) == 0,
      "%s: initiator handshake hash", r->v->name);
  ck_assert_msg(
      memcmp(sc_noise_hs_hash(&r->res), r->v->hash, SC_NOISE_HASHLEN) == 0,
      "%s: responder handshake hash", r->v->name);
  check_remote_static(&r->ini, &r->v->resp);
  check_remote_static(&r->res, &r->v->init);
  ck_assert_int_eq(sc_noise_hs_split(&r->ini, &r->ic1, &r->ic2), 0);
  ck_assert_int_eq(sc_noise_hs_split(&r->res, &r->rc1, &r->rc2), 0);
}

/* A handshake message, written into an exact-size heap buffer (so ASan
 * sees any overrun) after a copy of the sender failed on one byte less. */
static void run_handshake_msg(run *r, const tv_msg *m) {
  sc_noise_hs *tx = run_tx(r), *rx = run_rx(r), copy;
  uint8_t *out = malloc(m->clen), *pt = malloc(m->plen + 1);
  sc_ssize n;

  ck_assert(out != NULL && pt != NULL);
  copy = *tx;
  ck_assert_int_eq(
      sc_noise_hs_write(&copy, m->payload, m->plen, out, m->clen - 1),
      SC_ERR_BUFFER);
  n = sc_noise_hs_write(tx, m->payload, m->plen, out, m->clen);
  ck_assert_msg(n == (sc_ssize)m->clen && memcmp(out, m->ct, m->clen) == 0,
                "%s: message %zu differs", r->v->name, r->k);
  if (m->plen > 0) {
    copy = *rx;
    ck_assert_int_eq(sc_noise_hs_read(&copy, out, m->clen, pt, m->plen - 1),
                     SC_ERR_BUFFER);
  }
  n = sc_noise_hs_read(rx, out, m->clen, pt, m->plen);
  ck_assert_msg(n == (sc_ssize)m->plen && memcmp(pt, m->payload, m->plen) == 0,
                "%s: message %zu payload", r->v->name, r->k);
  free(out);
  free(pt);
  if (!run_in_handshake(r)) {
    run_finish_handshake(r);
  }
}

static void run_transport_msg(run *r, const tv_msg *m) {
  uint8_t *out = malloc(m->clen), *pt = malloc(m->plen + 1);
  sc_ssize n;

  ck_assert(out != NULL && pt != NULL);
  n = sc_noise_cipher_encrypt(run_send(r), NULL, 0, m->payload, m->plen, out);
  ck_assert_msg(n == (sc_ssize)m->clen && memcmp(out, m->ct, m->clen) == 0,
                "%s: transport message %zu differs", r->v->name, r->k);
  n = sc_noise_cipher_decrypt(run_recv(r), NULL, 0, out, m->clen, pt);
  ck_assert_msg(n == (sc_ssize)m->plen && memcmp(pt, m->payload, m->plen) == 0,
                "%s: transport message %zu payload", r->v->name, r->k);
  free(out);
  free(pt);
}

/* Runs message r->k and checks it against the vector. */
static void run_step(run *r) {
  const tv_msg *m = &r->v->msgs[r->k];

  if (run_in_handshake(r)) {
    run_handshake_msg(r, m);
  } else {
    run_transport_msg(r, m);
  }
  r->k++;
}

static void run_all(run *r) {
  while (r->k < r->v->nmsgs) {
    run_step(r);
  }
  ck_assert_msg(!run_in_handshake(r), "%s: handshake did not finish",
                r->v->name);
  sc_noise_hs_wipe(&r->ini);
  sc_noise_hs_wipe(&r->res);
}

static const tv *loop_vector(int i) {
  ck_assert_msg((size_t)i < g_nvecs, "vector %d missing (file has %zu)", i,
                g_nvecs);
  return &g_vecs[i];
}

/* ---- vector tests ------------------------------------------------------ */

START_TEST(test_vectors_all) {
  size_t i, ran = 0;
  run r;

  ck_assert_uint_eq(g_nvecs, EXPECTED_VECTORS);
  for (i = 0; i < g_nvecs; i++) {
    run_start(&r, &g_vecs[i]);
    run_all(&r);
    ran++;
  }
  ck_assert_uint_eq(ran, EXPECTED_VECTORS);
}
END_TEST

/* Whether the payload of |m| travels in clear: then a change to it is
 * caught only by the next message, through the handshake hash. */
static int payload_in_clear(const tv_msg *m) {
  REQUIRE(m->plen > 0 && m->clen >= m->plen, "vector message too short");
  return memcmp(m->ct + m->clen - m->plen, m->payload, m->plen) == 0;
}

/* |rx| accepted the tampered message |k|: the peer (|tx|, after sending the
 * genuine one) must then refuse whatever |rx| answers. */
static void expect_caught_later(run *r, sc_noise_hs *rx,
                                const sc_noise_hs *tx) {
  const tv_msg *next;
  uint8_t out[TV_MAX_BYTES], pt[TV_MAX_BYTES];
  sc_noise_hs peer = *tx;
  sc_ssize n;

  REQUIRE(r->k + 1 < r->v->nmsgs && !sc_noise_hs_is_done(rx),
          "%s: tampered last message %zu accepted", r->v->name, r->k);
  next = &r->v->msgs[r->k + 1];
  n = sc_noise_hs_write(rx, next->payload, next->plen, out, sizeof out);
  if (n == SC_ERR_CRYPTO) {
    return; /* the flip made a low-order key */
  }
  REQUIRE(n > 0, "%s: reply to tampered message %zu: %ld", r->v->name, r->k, n);
  n = sc_noise_hs_read(&peer, out, (size_t)n, pt, sizeof pt);
  REQUIRE(n == SC_ERR_CRYPTO, "%s: tampered message %zu went unnoticed: %ld",
          r->v->name, r->k, n);
}

/* Flips one bit in every byte of every handshake message (every bit for
 * the XX pattern stratocast uses). */
START_TEST(test_vector_handshake_bitflip) {
  const tv *v = loop_vector(_i);
  int all_bits = strcmp(v->name, "Noise_XX_25519_ChaChaPoly_BLAKE2b") == 0;
  uint8_t bad[TV_MAX_BYTES], pt[TV_MAX_BYTES];
  size_t bit, nbits;
  run r;

  run_start(&r, v);
  while (run_in_handshake(&r)) {
    const tv_msg *m = &v->msgs[r.k];
    sc_noise_hs before = *run_rx(&r), rx;
    int clear = payload_in_clear(m);
    run_step(&r);
    r.k--; /* expect_caught_later looks at the message after r.k */
    nbits = 8 * m->clen;
    for (bit = 0; bit < nbits; bit += all_bits ? 1 : 9) {
      sc_ssize n;
      memcpy(bad, m->ct, m->clen);
      bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      rx = before;
      n = sc_noise_hs_read(&rx, bad, m->clen, pt, sizeof pt);
      if (n != SC_ERR_CRYPTO) {
        REQUIRE(n >= 0 && clear, "%s: message %zu bit %zu gave %ld", v->name,
                r.k, bit, n);
        expect_caught_later(&r, &rx,
                            r.k % 2 == 0 || r.one_way ? &r.ini : &r.res);
      }
    }
    r.k++;
  }
  sc_noise_hs_wipe(&r.ini);
  sc_noise_hs_wipe(&r.res);
}
END_TEST

/* Tampered transport messages fail, and the failure does not advance the
 * receiving nonce: the genuine message still opens afterwards. */
START_TEST(test_vector_transport_bitflip) {
  const tv *v = loop_vector(_i);
  uint8_t bad[TV_MAX_BYTES], pt[TV_MAX_BYTES];
  size_t j;
  run r;

  run_start(&r, v);
  while (r.k < v->nmsgs) {
    const tv_msg *m = &v->msgs[r.k];
    if (!run_in_handshake(&r)) {
      for (j = 0; j < m->clen; j++) {
        memcpy(bad, m->ct, m->clen);
        bad[j] ^= (uint8_t)(1u << (j % 8));
        sc_ssize n =
            sc_noise_cipher_decrypt(run_recv(&r), NULL, 0, bad, m->clen, pt);
        REQUIRE(n == SC_ERR_CRYPTO, "%s: message %zu byte %zu gave %ld",
                v->name, r.k, j, n);
      }
    }
    run_step(&r);
  }
}
END_TEST

/* The outcome of reading message |m| cut to |t| bytes, as the pattern
 * dictates: too short for its keys and tags, failed authentication, or
 * (for a clear payload) a shorter payload. */
static sc_ssize expected_truncation(const tv_msg *m, size_t t) {
  size_t overhead = m->clen - m->plen;
  if (t < overhead) {
    return SC_ERR_MALFORMED;
  }
  return payload_in_clear(m) ? (sc_ssize)(t - overhead) : SC_ERR_CRYPTO;
}

/* Reads every prefix of every message from exact-size heap copies, so an
 * out-of-bounds read is an ASan error, not a silent pass. */
START_TEST(test_vector_truncation) {
  const tv *v = loop_vector(_i);
  run r;
  size_t t;

  run_start(&r, v);
  while (r.k < v->nmsgs) {
    const tv_msg *m = &v->msgs[r.k];
    int hs = run_in_handshake(&r);
    sc_noise_hs before = *run_rx(&r);
    for (t = 0; t < m->clen; t++) {
      uint8_t *msg = malloc(t > 0 ? t : 1), *pt = malloc(m->clen);
      sc_noise_hs rx = before;
      sc_noise_cipher cs = *run_recv(&r);
      sc_ssize n, want;
      REQUIRE(msg != NULL && pt != NULL, "out of memory");
      memcpy(msg, m->ct, t);
      if (hs) {
        n = sc_noise_hs_read(&rx, msg, t, pt, m->clen);
        want = expected_truncation(m, t);
      } else {
        n = sc_noise_cipher_decrypt(&cs, NULL, 0, msg, t, pt);
        want = t < SC_NOISE_TAGLEN ? SC_ERR_BUFFER : SC_ERR_CRYPTO;
      }
      REQUIRE(n == want, "%s: message %zu cut to %zu gave %ld, not %ld",
              v->name, r.k, t, n, want);
      free(msg);
      free(pt);
    }
    run_step(&r);
  }
}
END_TEST

/* The session's way to survive forgeries: try the message on the state,
 * and on failure carry on from a copy taken by plain assignment. */
START_TEST(test_vector_copy_after_forgery) {
  const tv *v = loop_vector(_i);
  uint8_t bad[TV_MAX_BYTES], pt[TV_MAX_BYTES];
  run r;

  run_start(&r, v);
  while (r.k < v->nmsgs) {
    const tv_msg *m = &v->msgs[r.k];
    if (run_in_handshake(&r) && !payload_in_clear(m)) {
      sc_noise_hs *rx = run_rx(&r), copy = *rx;
      memcpy(bad, m->ct, m->clen);
      bad[m->clen - 1] ^= 0x80;
      ck_assert_int_eq(sc_noise_hs_read(rx, bad, m->clen, pt, sizeof pt),
                       SC_ERR_CRYPTO);
      memset(rx, 0xa5, sizeof *rx); /* nothing may survive in the original */
      *rx = copy;
    }
    run_step(&r);
  }
  ck_assert(!run_in_handshake(&r));
}
END_TEST

/* ---- state and argument tests ---------------------------------------- */

START_TEST(test_out_of_turn) {
  const tv *v = find_vector("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  const tv *n = find_vector("Noise_N_25519_ChaChaPoly_BLAKE2b");
  uint8_t buf[TV_MAX_BYTES];
  sc_noise_cipher c1, c2;
  run r;

  run_start(&r, v);
  ck_assert_int_eq(sc_noise_hs_write(&r.res, NULL, 0, buf, sizeof buf),
                   SC_ERR_STATE);
  ck_assert_int_eq(
      sc_noise_hs_read(&r.ini, v->msgs[0].ct, v->msgs[0].clen, buf, sizeof buf),
      SC_ERR_STATE);
  ck_assert_int_eq(sc_noise_hs_split(&r.ini, &c1, &c2), SC_ERR_STATE);
  run_step(&r);
  ck_assert_int_eq(sc_noise_hs_write(&r.ini, NULL, 0, buf, sizeof buf),
                   SC_ERR_STATE);
  ck_assert_int_eq(
      sc_noise_hs_read(&r.res, v->msgs[0].ct, v->msgs[0].clen, buf, sizeof buf),
      SC_ERR_STATE);
  run_step(&r);
  run_step(&r);
  ck_assert(sc_noise_hs_is_done(&r.ini) && sc_noise_hs_is_done(&r.res));
  ck_assert_int_eq(sc_noise_hs_write(&r.ini, NULL, 0, buf, sizeof buf),
                   SC_ERR_STATE);
  ck_assert_int_eq(sc_noise_hs_write(&r.res, NULL, 0, buf, sizeof buf),
                   SC_ERR_STATE);
  ck_assert_int_eq(
      sc_noise_hs_read(&r.res, v->msgs[2].ct, v->msgs[2].clen, buf, sizeof buf),
      SC_ERR_STATE);

  /* One-way: the responder never writes, the initiator never reads. */
  run_start(&r, n);
  ck_assert_int_eq(sc_noise_hs_write(&r.res, NULL, 0, buf, sizeof buf),
                   SC_ERR_STATE);
  ck_assert_int_eq(
      sc_noise_hs_read(&r.ini, n->msgs[0].ct, n->msgs[0].clen, buf, sizeof buf),
      SC_ERR_STATE);
}
END_TEST

static int init_named(const char *name, int initiator) {
  static const uint8_t key[SC_NOISE_DHLEN] = {1, 2, 3};
  static const uint8_t psks[SC_NOISE_MAX_PSKS][SC_NOISE_KEYLEN] = {{4}};
  sc_noise_config cfg;
  sc_noise_hs hs;

  memset(&cfg, 0, sizeof cfg);
  cfg.protocol_name = name;
  cfg.initiator = initiator;
  cfg.s = cfg.e = cfg.rs = cfg.re = key;
  cfg.psks = psks;
  cfg.npsks = SC_NOISE_MAX_PSKS;
  return sc_noise_hs_init(&hs, &cfg);
}

START_TEST(test_protocol_names) {
  static const char *const bad[] = {
      "",
      "Noise_",
      "Noise__25519_ChaChaPoly_BLAKE2b",
      "noise_XX_25519_ChaChaPoly_BLAKE2b",
      "Noise_XX_25519_ChaChaPoly_BLAKE2s",
      "Noise_XX_25519_AESGCM_BLAKE2b",
      "Noise_XX_448_ChaChaPoly_BLAKE2b",
      "Noise_XX_25519_ChaChaPoly_BLAKE2b_",
      "Noise_XX_25519_ChaChaPoly_BLAKE2bX",
      "Noise_XX_25519_ChaChaPoly_SHA256",
      "Noise_ZZ_25519_ChaChaPoly_BLAKE2b",
      "Noise_X2_25519_ChaChaPoly_BLAKE2b",
      "Noise_xx_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXX_25519_ChaChaPoly_BLAKE2b",
      "Noise_XX_X_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXpsk01_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXpsk0+_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXpsk0++psk1_25519_ChaChaPoly_BLAKE2b",
      "Noise_XX+psk0_25519_ChaChaPoly_BLAKE2b",
      "Noise_Npsk2_25519_ChaChaPoly_BLAKE2b",
      "Noise_NNpsk0+psk1+psk2+psk2+psk2_25519_ChaChaPoly_BLAKE2b",
      "Noise_XX_25519_ChaChaPoly_BLAKE2b\n",
  };
  static const char *const good[] = {
      "Noise_XX_25519_ChaChaPoly_BLAKE2b",
      "Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b",
      "Noise_I1X1psk0+psk1+psk2+psk3_25519_ChaChaPoly_BLAKE2b",
      "Noise_Xpsk0+psk1_25519_ChaChaPoly_BLAKE2b",
  };
  sc_noise_config cfg;
  sc_noise_hs hs;
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(init_named(bad[i], 1) == SC_ERR_INVALID_ARG,
                  "accepted \"%s\"", bad[i]);
    ck_assert_msg(init_named(bad[i], 0) == SC_ERR_INVALID_ARG,
                  "accepted \"%s\"", bad[i]);
  }
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    ck_assert_msg(init_named(good[i], 1) == 0, "refused \"%s\"", good[i]);
    ck_assert_msg(init_named(good[i], 0) == 0, "refused \"%s\"", good[i]);
  }
  memset(&cfg, 0, sizeof cfg);
  ck_assert_int_eq(sc_noise_hs_init(&hs, &cfg), SC_ERR_INVALID_ARG);
}
END_TEST

/* Keys a pattern needs must be in the config. */
START_TEST(test_missing_keys) {
  const tv *v;
  sc_noise_config cfg;
  sc_noise_hs hs;
  tv t;

  v = find_vector("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  t = *v;
  t.init.has_e = 0;
  ck_assert_int_eq(init_side(&hs, &t, 1), SC_ERR_INVALID_ARG);
  t = *v;
  t.resp.has_s = 0;
  ck_assert_int_eq(init_side(&hs, &t, 0), SC_ERR_INVALID_ARG);
  v = find_vector("Noise_NK_25519_ChaChaPoly_BLAKE2b");
  t = *v;
  t.init.has_rs = 0;
  ck_assert_int_eq(init_side(&hs, &t, 1), SC_ERR_INVALID_ARG);
  v = find_vector("Noise_KK_25519_ChaChaPoly_BLAKE2b");
  t = *v;
  t.resp.has_rs = 0;
  ck_assert_int_eq(init_side(&hs, &t, 0), SC_ERR_INVALID_ARG);
  v = find_vector("Noise_NNpsk2_25519_ChaChaPoly_BLAKE2b");
  t = *v;
  t.resp.npsks = 0;
  ck_assert_int_eq(init_side(&hs, &t, 0), SC_ERR_INVALID_ARG);

  memset(&cfg, 0, sizeof cfg);
  cfg.protocol_name = "Noise_NN_25519_ChaChaPoly_BLAKE2b";
  cfg.e = v->init.e;
  cfg.prologue_len = 3; /* with a NULL prologue */
  ck_assert_int_eq(sc_noise_hs_init(&hs, &cfg), SC_ERR_INVALID_ARG);
  cfg.prologue_len = 0;
  cfg.npsks = -1;
  ck_assert_int_eq(sc_noise_hs_init(&hs, &cfg), SC_ERR_INVALID_ARG);
  cfg.npsks = 0;
  ck_assert_int_eq(sc_noise_hs_init(&hs, &cfg), 0);
}
END_TEST

/* Curve25519 points of small order (and non-canonical encodings of them):
 * every DH with one is all zeros, which libsodium refuses. */
static const uint8_t low_order[][SC_NOISE_DHLEN] = {
    {0},
    {1},
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
     0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
     0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

START_TEST(test_low_order_ephemeral) {
  const tv *v = find_vector("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  uint8_t msg[SC_NOISE_DHLEN + 64], buf[TV_MAX_BYTES];
  size_t i;
  run r;

  for (i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
    /* The responder takes the point in clear, then fails on "ee". */
    run_start(&r, v);
    ck_assert_int_eq(
        sc_noise_hs_read(&r.res, low_order[i], SC_NOISE_DHLEN, buf, sizeof buf),
        0);
    ck_assert_int_eq(sc_noise_hs_write(&r.res, NULL, 0, buf, sizeof buf),
                     SC_ERR_CRYPTO);
    /* The initiator fails on "ee" before any decryption. */
    run_start(&r, v);
    run_step(&r);
    memset(msg, 0, sizeof msg);
    memcpy(msg, low_order[i], SC_NOISE_DHLEN);
    ck_assert_int_eq(sc_noise_hs_read(&r.ini, msg, sizeof msg, buf, sizeof buf),
                     SC_ERR_CRYPTO);
  }
}
END_TEST

/* ---- CipherState ------------------------------------------------------- */

START_TEST(test_seal_open) {
  static const uint64_t nonces[] = {
      0, 1, 255, 256, UINT64_C(1) << 32, UINT64_MAX - 1};
  uint8_t key[SC_NOISE_KEYLEN], pt[100], ct[100 + SC_NOISE_TAGLEN], out[100];
  const uint8_t ad[] = "associated";
  size_t i;

  randombytes_buf(key, sizeof key);
  randombytes_buf(pt, sizeof pt);
  for (i = 0; i < sizeof nonces / sizeof nonces[0]; i++) {
    uint64_t n = nonces[i];
    ck_assert_int_eq(sc_noise_seal(key, n, ad, sizeof ad, pt, sizeof pt, ct),
                     sizeof ct);
    ck_assert_int_eq(sc_noise_open(key, n, ad, sizeof ad, ct, sizeof ct, out),
                     sizeof pt);
    ck_assert_mem_eq(out, pt, sizeof pt);
    ck_assert_int_eq(
        sc_noise_open(key, n ^ 1, ad, sizeof ad, ct, sizeof ct, out),
        SC_ERR_CRYPTO);
    ck_assert_int_eq(
        sc_noise_open(key, n, ad, sizeof ad - 1, ct, sizeof ct, out),
        SC_ERR_CRYPTO);
  }
  /* In place. */
  memcpy(ct, pt, sizeof pt);
  ck_assert_int_eq(sc_noise_seal(key, 7, NULL, 0, ct, sizeof pt, ct),
                   sizeof ct);
  ck_assert_int_eq(sc_noise_open(key, 7, NULL, 0, ct, sizeof ct, ct),
                   sizeof pt);
  ck_assert_mem_eq(ct, pt, sizeof pt);
  /* Empty plaintext: a bare tag. */
  ck_assert_int_eq(sc_noise_seal(key, 3, NULL, 0, NULL, 0, ct),
                   SC_NOISE_TAGLEN);
  ck_assert_int_eq(sc_noise_open(key, 3, NULL, 0, ct, SC_NOISE_TAGLEN, out), 0);
  ck_assert_int_eq(sc_noise_open(key, 3, NULL, 0, ct, SC_NOISE_TAGLEN - 1, out),
                   SC_ERR_BUFFER);
  /* §5.1: 2^64 - 1 is reserved. */
  ck_assert_int_eq(sc_noise_seal(key, UINT64_MAX, NULL, 0, pt, 10, ct),
                   SC_ERR_INVALID_ARG);
  ck_assert_int_eq(sc_noise_open(key, UINT64_MAX, NULL, 0, ct, sizeof ct, out),
                   SC_ERR_CRYPTO);
}
END_TEST

START_TEST(test_cipher_state) {
  sc_noise_cipher a, b;
  uint8_t pt[40], ct[40 + SC_NOISE_TAGLEN], out[40];

  memset(&a, 0, sizeof a);
  randombytes_buf(pt, sizeof pt);
  /* No key: a plain copy, and no nonce use. */
  ck_assert_int_eq(sc_noise_cipher_encrypt(&a, NULL, 0, pt, sizeof pt, ct),
                   sizeof pt);
  ck_assert_mem_eq(ct, pt, sizeof pt);
  ck_assert_int_eq(sc_noise_cipher_decrypt(&a, NULL, 0, ct, sizeof pt, out),
                   sizeof pt);
  ck_assert_mem_eq(out, pt, sizeof pt);
  ck_assert(a.n == 0);

  randombytes_buf(a.k, sizeof a.k);
  a.has_key = 1;
  b = a;
  ck_assert_int_eq(sc_noise_cipher_encrypt(&a, NULL, 0, pt, sizeof pt, ct),
                   sizeof ct);
  ck_assert(a.n == 1);
  ct[0] ^= 1;
  ck_assert_int_eq(sc_noise_cipher_decrypt(&b, NULL, 0, ct, sizeof ct, out),
                   SC_ERR_CRYPTO);
  ck_assert(b.n == 0);
  ct[0] ^= 1;
  ck_assert_int_eq(sc_noise_cipher_decrypt(&b, NULL, 0, ct, sizeof ct, out),
                   sizeof pt);
  ck_assert(b.n == 1);
  ck_assert_mem_eq(out, pt, sizeof pt);

  /* The last usable nonce works once; then the state is spent. */
  a.n = b.n = UINT64_MAX - 1;
  ck_assert_int_eq(sc_noise_cipher_encrypt(&a, NULL, 0, pt, sizeof pt, ct),
                   sizeof ct);
  ck_assert_int_eq(sc_noise_cipher_decrypt(&b, NULL, 0, ct, sizeof ct, out),
                   sizeof pt);
  ck_assert(a.n == UINT64_MAX && b.n == UINT64_MAX);
  ck_assert_int_eq(sc_noise_cipher_encrypt(&a, NULL, 0, pt, sizeof pt, ct),
                   SC_ERR_INVALID_ARG);
  ck_assert(a.n == UINT64_MAX);
  ck_assert_int_eq(sc_noise_cipher_decrypt(&b, NULL, 0, ct, sizeof ct, out),
                   SC_ERR_CRYPTO);
}
END_TEST

/* A fresh XX handshake with random keys, as stratocast runs it. */
START_TEST(test_xx_random_keys) {
  uint8_t si[32], sr[32], ei[32], er[32], pub[32], buf[256], pt[256];
  sc_noise_config ci, cr;
  sc_noise_hs a, b;
  sc_noise_cipher a1, a2, b1, b2;
  sc_ssize n;

  randombytes_buf(si, 32);
  randombytes_buf(sr, 32);
  randombytes_buf(ei, 32);
  randombytes_buf(er, 32);
  memset(&ci, 0, sizeof ci);
  ci.protocol_name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  ci.prologue = (const uint8_t *)"stratocast";
  ci.prologue_len = 10;
  cr = ci;
  ci.initiator = 1;
  ci.s = si;
  ci.e = ei;
  cr.s = sr;
  cr.e = er;
  ck_assert_int_eq(sc_noise_hs_init(&a, &ci), 0);
  ck_assert_int_eq(sc_noise_hs_init(&b, &cr), 0);
  n = sc_noise_hs_write(&a, NULL, 0, buf, sizeof buf);
  ck_assert_int_eq(n, 32);
  ck_assert_int_eq(sc_noise_hs_read(&b, buf, (size_t)n, pt, sizeof pt), 0);
  ck_assert_ptr_null(sc_noise_hs_remote_static(&a));
  n = sc_noise_hs_write(&b, (const uint8_t *)"hi", 2, buf, sizeof buf);
  ck_assert_int_eq(n, 32 + 48 + 2 + 16);
  ck_assert_int_eq(sc_noise_hs_read(&a, buf, (size_t)n, pt, sizeof pt), 2);
  n = sc_noise_hs_write(&a, NULL, 0, buf, sizeof buf);
  ck_assert_int_eq(n, 48 + 16);
  /* An empty payload needs no output buffer at all. */
  ck_assert_int_eq(sc_noise_hs_read(&b, buf, (size_t)n, NULL, 0), 0);
  ck_assert_mem_eq(sc_noise_hs_hash(&a), sc_noise_hs_hash(&b),
                   SC_NOISE_HASHLEN);
  crypto_scalarmult_base(pub, sr);
  ck_assert_mem_eq(sc_noise_hs_remote_static(&a), pub, 32);
  crypto_scalarmult_base(pub, si);
  ck_assert_mem_eq(sc_noise_hs_remote_static(&b), pub, 32);
  ck_assert_int_eq(sc_noise_hs_split(&a, &a1, &a2), 0);
  ck_assert_int_eq(sc_noise_hs_split(&b, &b1, &b2), 0);
  ck_assert_mem_eq(a1.k, b1.k, 32);
  ck_assert_mem_eq(a2.k, b2.k, 32);
  ck_assert(memcmp(a1.k, a2.k, 32) != 0);
  sc_noise_hs_wipe(&a);
  ck_assert(sc_noise_hs_remote_static(&a) == NULL && !sc_noise_hs_is_done(&a));
  sc_noise_hs_wipe(&b);
}
END_TEST

/* A payload that would make the message exceed 65535 bytes (§3). */
START_TEST(test_max_message) {
  static uint8_t payload[SC_NOISE_MAX_MSG], big[SC_NOISE_MAX_MSG + 64];
  const tv *v = find_vector("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  uint8_t pt[16];
  run r;

  run_start(&r, v);
  ck_assert_int_eq(sc_noise_hs_write(&r.ini, payload, SC_NOISE_MAX_MSG - 31,
                                     big, sizeof big),
                   SC_ERR_BUFFER);
  ck_assert_int_eq(sc_noise_hs_write(&r.ini, payload, SC_NOISE_MAX_MSG - 32,
                                     big, sizeof big),
                   SC_NOISE_MAX_MSG);
  ck_assert_int_eq(
      sc_noise_hs_read(&r.res, big, SC_NOISE_MAX_MSG + 1, pt, sizeof pt),
      SC_ERR_MALFORMED);
}
END_TEST

/* ---- minijson --------------------------------------------------------- */

static int parses(const char *s) {
  mj_value vals[64];
  mj_doc d;
  return mj_parse(&d, s, strlen(s), vals, 64) == 0;
}

START_TEST(test_minijson) {
  static const char *const good[] = {
      "{}",
      "[]",
      " 0 ",
      "-0.5e+10",
      "\"\\u00e9\\ud83d\\ude00\"",
      "[true,false,null]",
      "{\"a\":[1,{\"b\":\"c\"}],\"d\":\"\\n\\\"\"}",
      "\"\xc3\xa9\"",
  };
  static const char *const bad[] = {
      "",
      "{",
      "[1,]",
      "{\"a\":1,}",
      "01",
      "1.",
      "-",
      ".5",
      "1e",
      "[1 2]",
      "{1:2}",
      "\"\\x\"",
      "\"\x01\"",
      "\"\\ud83d\"",
      "\"\\ude00\"",
      "\"\xc0\x80\"",
      "\"\xed\xa0\x80\"",
      "tru",
      "nul",
      "[] []",
      "\"abc",
      "{\"a\" 1}",
      "\xef\xbb\xbf{}",
  };
  const char *text = "{\"k\":\"v\\u0041\",\"n\":[10,-2.5],\"k\":1}";
  mj_value vals[16];
  char buf[8];
  double num = 0;
  mj_doc d;
  size_t i;

  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    ck_assert_msg(parses(good[i]), "refused %s", good[i]);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(!parses(bad[i]), "accepted %s", bad[i]);
  }
  ck_assert_int_eq(mj_parse(&d, text, strlen(text), vals, 3), SC_ERR_LIMIT);
  ck_assert_int_eq(mj_parse(&d, text, strlen(text), vals, 16), 0);
  ck_assert_int_eq(mj_string(&d, mj_get(&d, 0, "k"), buf, sizeof buf), 2);
  ck_assert_str_eq(buf, "vA");
  ck_assert_int_eq(mj_string(&d, mj_get(&d, 0, "k"), buf, 2), SC_ERR_BUFFER);
  ck_assert_uint_eq(mj_count(&d, mj_get(&d, 0, "n")), 2);
  ck_assert_int_eq(mj_number(&d, mj_at(&d, mj_get(&d, 0, "n"), 1), &num), 0);
  ck_assert(num == -2.5);
  ck_assert(mj_at(&d, mj_get(&d, 0, "n"), 2) == MJ_NONE);
  ck_assert(mj_get(&d, 0, "missing") == MJ_NONE);
  ck_assert(mj_get(&d, MJ_NONE, "k") == MJ_NONE);
  ck_assert(mj_type(&d, MJ_NONE) == 0);
}
END_TEST

static Suite *noise_suite(void) {
  Suite *s = suite_create("noise");
  TCase *tc = tcase_create("vectors");
  TCase *neg = tcase_create("negative");
  TCase *unit = tcase_create("unit");

  tcase_add_checked_fixture(tc, vectors_setup, vectors_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_vectors_all);
  suite_add_tcase(s, tc);

  /* One test per vector, so a failure names its vector's index. */
  tcase_add_checked_fixture(neg, vectors_setup, vectors_teardown);
  tcase_set_timeout(neg, 120);
  tcase_add_loop_test(neg, test_vector_handshake_bitflip, 0, EXPECTED_VECTORS);
  tcase_add_loop_test(neg, test_vector_transport_bitflip, 0, EXPECTED_VECTORS);
  tcase_add_loop_test(neg, test_vector_truncation, 0, EXPECTED_VECTORS);
  tcase_add_loop_test(neg, test_vector_copy_after_forgery, 0, EXPECTED_VECTORS);
  tcase_add_test(neg, test_out_of_turn);
  tcase_add_test(neg, test_missing_keys);
  tcase_add_test(neg, test_low_order_ephemeral);
  tcase_add_test(neg, test_max_message);
  suite_add_tcase(s, neg);

  tcase_add_test(unit, test_protocol_names);
  tcase_add_test(unit, test_seal_open);
  tcase_add_test(unit, test_cipher_state);
  tcase_add_test(unit, test_xx_random_keys);
  tcase_add_test(unit, test_minijson);
  suite_add_tcase(s, unit);
  return s;
}

int main(void) { return check_main(noise_suite()); }
