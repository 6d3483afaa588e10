/*
 * sc_cookie.c: stateless address-validation cookies (doc/protocol.md §5).
 *
 * Layout: t (4 bytes, big-endian, whole seconds of the node clock truncated
 * to 32 bits) || MAC (16 bytes), where
 *   MAC = BLAKE2b-128(key, family || ip[16] || port (2, big-endian) || t).
 * The key is the one of the epoch floor(t * 1 s / period); only the current
 * and the previous epoch have keys.
 *
 * The 32-bit timestamp wraps every 136 years. Verification assumes that a
 * cookie it is shown was made less than 2^31 s (68 years) before or after
 * |now|, and rebuilds the full seconds value from that; anything else is a
 * forgery or garbage and fails the epoch or MAC check.
 *
 * sc_cookie_make always uses the current key, so the host must call
 * sc_cookie_rotate at sc_cookie_next_rotation: a cookie made past that time
 * carries an epoch the jar has no key for and will not verify.
 */
#include "sc_cookie.h"

#include <sodium.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_wire.h"

#define MAC_LEN (SC_COOKIE_LEN - 4)
#define MAC_INPUT_LEN (1 + 16 + 2 + 4)
#define NO_EPOCH UINT64_MAX /* never the epoch of a key the jar holds */

/* Epoch of the whole second |sec|. Periods need not be whole seconds, so
 * divide in nanoseconds; jar->epoch is computed the same way, so an
 * epoch boundary always falls on a whole second. */
static uint64_t epoch_of_sec(const sc_cookie_jar *jar, uint64_t sec) {
  if (sec > UINT64_MAX / SC_SEC) {
    return NO_EPOCH;
  }
  return sec * SC_SEC / jar->period;
}

static void compute_mac(const uint8_t key[SC_COOKIE_SECRET_LEN],
                        const sc_addr *addr, const uint8_t t[4],
                        uint8_t mac[MAC_LEN]) {
  uint8_t in[MAC_INPUT_LEN];
  /* An IPv4 address only owns the first 4 bytes (as in sc_addr_eq), so
   * junk in the rest must not change the MAC. */
  size_t ip_len = addr->family == SC_AF_INET ? 4 : 16;
  memset(in, 0, sizeof(in));
  in[0] = addr->family;
  memcpy(in + 1, addr->ip, ip_len);
  sc_put_u16(in + 17, addr->port);
  memcpy(in + 19, t, 4);
  crypto_generichash(mac, MAC_LEN, in, sizeof(in), key, SC_COOKIE_SECRET_LEN);
}

int sc_cookie_init(sc_cookie_jar *jar, const uint8_t *secret, uint64_t now,
                   uint64_t period, uint64_t lifetime) {
  if (jar == NULL || secret == NULL || period < SC_SEC || lifetime < SC_SEC ||
      lifetime > period) {
    return SC_ERR_INVALID_ARG;
  }
  memset(jar, 0, sizeof(*jar));
  memcpy(jar->cur, secret, SC_COOKIE_SECRET_LEN);
  jar->period = period;
  jar->lifetime = lifetime;
  jar->epoch = epoch_of_sec(jar, now / SC_SEC);
  return 0;
}

uint64_t sc_cookie_next_rotation(const sc_cookie_jar *jar) {
  /* The next epoch starts at the first whole second s with
   * s * 1 s >= (epoch + 1) * period. */
  uint64_t end_s, rem;
  if (jar->epoch + 1 > UINT64_MAX / jar->period) {
    return UINT64_MAX;
  }
  end_s = (jar->epoch + 1) * jar->period / SC_SEC;
  rem = (jar->epoch + 1) * jar->period % SC_SEC;
  if (rem != 0) {
    end_s++;
  }
  if (end_s > UINT64_MAX / SC_SEC) {
    return UINT64_MAX;
  }
  return end_s * SC_SEC;
}

void sc_cookie_rotate(sc_cookie_jar *jar, const uint8_t *secret, uint64_t now) {
  uint64_t epoch = epoch_of_sec(jar, now / SC_SEC);
  if (epoch == jar->epoch + 1) {
    memcpy(jar->prev, jar->cur, SC_COOKIE_SECRET_LEN);
    jar->has_prev = 1;
  } else if (epoch != jar->epoch) {
    sodium_memzero(jar->prev, SC_COOKIE_SECRET_LEN);
    jar->has_prev = 0;
  }
  /* A rekey within the same epoch keeps |prev|: it is still the key of
   * epoch - 1. */
  memcpy(jar->cur, secret, SC_COOKIE_SECRET_LEN);
  jar->epoch = epoch;
}

void sc_cookie_make(const sc_cookie_jar *jar, const sc_addr *addr, uint64_t now,
                    uint8_t out[SC_COOKIE_LEN]) {
  sc_put_u32(out, (uint32_t)(now / SC_SEC));
  compute_mac(jar->cur, addr, out, out + 4);
}

/* Rebuilds the full seconds value of the 32-bit |t| relative to |now_s|
 * (see the assumption at the top). Returns 0, or SC_ERR_CRYPTO when it
 * would fall before the clock's origin: no key was ever made for that. */
static int unwrap_seconds(uint32_t t, uint64_t now_s, uint64_t *full) {
  uint32_t back = (uint32_t)((uint32_t)now_s - t);
  if (back < UINT32_C(0x80000000)) {
    if (back > now_s) {
      return SC_ERR_CRYPTO;
    }
    *full = now_s - back;
  } else {
    *full = now_s + (uint32_t)(t - (uint32_t)now_s);
  }
  return 0;
}

int sc_cookie_verify(const sc_cookie_jar *jar, const sc_addr *addr,
                     uint64_t now, const uint8_t cookie[SC_COOKIE_LEN]) {
  uint8_t mac[MAC_LEN];
  const uint8_t *key;
  uint64_t now_s = now / SC_SEC, t_s, epoch;
  int rv = unwrap_seconds(sc_get_u32(cookie), now_s, &t_s);
  if (rv != 0) {
    return rv;
  }
  epoch = epoch_of_sec(jar, t_s);
  if (epoch == jar->epoch) {
    key = jar->cur;
  } else if (jar->has_prev && epoch != NO_EPOCH && epoch + 1 == jar->epoch) {
    key = jar->prev;
  } else {
    return SC_ERR_CRYPTO;
  }
  compute_mac(key, addr, cookie, mac);
  if (sodium_memcmp(mac, cookie + 4, MAC_LEN) != 0) {
    return SC_ERR_CRYPTO;
  }
  /* Only an authentic cookie gets as far as the clock checks, so
   * SC_ERR_STATE never tells a forger anything. One second of slack in the
   * future for a host that read the clock it made the cookie with after
   * the one it verifies with. */
  if (t_s > now_s + 1) {
    return SC_ERR_STATE;
  }
  if (t_s <= now_s && now - t_s * SC_SEC > jar->lifetime) {
    return SC_ERR_STATE;
  }
  return 0;
}

void sc_cookie_wipe(sc_cookie_jar *jar) {
  sodium_memzero(jar->cur, SC_COOKIE_SECRET_LEN);
  sodium_memzero(jar->prev, SC_COOKIE_SECRET_LEN);
  jar->has_prev = 0;
}
