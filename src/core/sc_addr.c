/*
 * sc_addr.c: transport addresses without socket headers.
 *
 * Formatting follows RFC 5952 (lower case, longest run of two or more zero
 * groups shortened to "::", the first such run on a tie).
 */
#include <stdio.h>
#include <string.h>

#include "sc_wire.h"
#include "stratocast.h"

int sc_addr_eq(const sc_addr *a, const sc_addr *b) {
  size_t n;
  if (a->family != b->family || a->port != b->port) {
    return 0;
  }
  n = a->family == SC_AF_INET ? 4 : 16;
  return memcmp(a->ip, b->ip, n) == 0;
}

static char *format_v6(const uint8_t ip[16], char *p) {
  size_t best = 8, best_len = 0, i;
  for (i = 0; i < 8;) {
    size_t j = i;
    while (j < 8 && ip[2 * j] == 0 && ip[2 * j + 1] == 0) {
      j++;
    }
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  for (i = 0; i < 8; i++) {
    if (i == best) {
      *p++ = ':';
      if (i == 0) {
        *p++ = ':';
      }
      i += best_len - 1;
      continue;
    }
    p += snprintf(p, 5, "%x", (unsigned)(ip[2 * i] << 8 | ip[2 * i + 1]));
    if (i < 7) {
      *p++ = ':';
    }
  }
  *p = '\0';
  return p;
}

char *sc_addr_format(const sc_addr *a, char *buf) {
  char *p = buf;
  if (a->family == SC_AF_INET) {
    sprintf(buf, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3],
            (unsigned)a->port);
    return buf;
  }
  if (a->family != SC_AF_INET6) {
    buf[0] = '?';
    buf[1] = '\0';
    return buf;
  }
  *p++ = '[';
  p = format_v6(a->ip, p);
  sprintf(p, "]:%u", (unsigned)a->port);
  return buf;
}

static int parse_port(const char *s, uint16_t *port) {
  unsigned long v = 0;
  if (*s == '\0') {
    return SC_ERR_MALFORMED;
  }
  for (; *s; s++) {
    if (*s < '0' || *s > '9') {
      return SC_ERR_MALFORMED;
    }
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > 65535) {
      return SC_ERR_MALFORMED;
    }
  }
  *port = (uint16_t)v;
  return 0;
}

static int parse_v4(const char *s, size_t len, uint8_t ip[4]) {
  size_t i = 0;
  int part;
  for (part = 0; part < 4; part++) {
    unsigned v = 0, digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
      v = v * 10 + (unsigned)(s[i++] - '0');
      digits++;
    }
    if (digits == 0 || digits > 3 || v > 255 ||
        (digits > 1 && s[i - digits] == '0')) {
      return SC_ERR_MALFORMED;
    }
    ip[part] = (uint8_t)v;
    if (part < 3 && (i >= len || s[i++] != '.')) {
      return SC_ERR_MALFORMED;
    }
  }
  return i == len ? 0 : SC_ERR_MALFORMED;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Parses the groups of one side of "::" into |g|; returns the count or -1. */
static int parse_groups(const char *s, size_t len, uint16_t *g, int max) {
  int n = 0;
  size_t i = 0;
  if (len == 0) {
    return 0;
  }
  for (;;) {
    unsigned v = 0;
    int digits = 0;
    while (i < len && hexval(s[i]) >= 0 && digits < 5) {
      v = v << 4 | (unsigned)hexval(s[i++]);
      digits++;
    }
    if (digits == 0 || digits > 4 || n >= max) {
      return -1;
    }
    g[n++] = (uint16_t)v;
    if (i == len) {
      return n;
    }
    if (s[i++] != ':') {
      return -1;
    }
  }
}

static int parse_v6(const char *s, size_t len, uint8_t ip[16]) {
  uint16_t head[8], tail[8] = {0};
  int nh, nt, i;
  const char *dc = NULL;
  size_t k;
  for (k = 0; k + 1 < len; k++) {
    if (s[k] == ':' && s[k + 1] == ':') {
      dc = s + k;
      break;
    }
  }
  if (dc == NULL) {
    nh = parse_groups(s, len, head, 8);
    if (nh != 8) {
      return SC_ERR_MALFORMED;
    }
    nt = 0;
  } else {
    size_t hl = (size_t)(dc - s);
    nh = parse_groups(s, hl, head, 7);
    nt = parse_groups(dc + 2, len - hl - 2, tail, 7);
    if (nh < 0 || nt < 0 || nh + nt > 7) {
      return SC_ERR_MALFORMED;
    }
  }
  memset(ip, 0, 16);
  for (i = 0; i < nh; i++) {
    sc_put_u16(ip + 2 * (size_t)i, head[i]);
  }
  for (i = 0; i < nt; i++) {
    sc_put_u16(ip + 2 * (size_t)(8 - nt + i), tail[i]);
  }
  return 0;
}

int sc_addr_parse(sc_addr *a, const char *s) {
  sc_addr out;
  memset(&out, 0, sizeof(out));
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL || close[1] != ':' ||
        parse_v6(s + 1, (size_t)(close - s - 1), out.ip) != 0 ||
        parse_port(close + 2, &out.port) != 0) {
      return SC_ERR_MALFORMED;
    }
    out.family = SC_AF_INET6;
  } else {
    const char *colon = strrchr(s, ':');
    if (colon == NULL || parse_v4(s, (size_t)(colon - s), out.ip) != 0 ||
        parse_port(colon + 1, &out.port) != 0) {
      return SC_ERR_MALFORMED;
    }
    out.family = SC_AF_INET;
  }
  *a = out;
  return 0;
}
