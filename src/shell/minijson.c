/*
 * minijson.c: a small, strict JSON parser (RFC 8259).
 *
 * A recursive descent over a bounded buffer: every read is guarded by the
 * remaining length, and the text need not be NUL-terminated.
 */
#include "minijson.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct mj_parser {
  const char *s;
  size_t len, pos;
  mj_value *v;
  size_t n, cap;
  int depth;
} mj_parser;

static int parse_value(mj_parser *p);

static int peek(const mj_parser *p) {
  return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

/* RFC 8259 §2: only these four are whitespace. */
static void skip_ws(mj_parser *p) {
  int c;
  while ((c = peek(p)) == ' ' || c == '\t' || c == '\n' || c == '\r') {
    p->pos++;
  }
}

static int new_value(mj_parser *p, int type, size_t *idx) {
  if (p->n >= p->cap) {
    return SC_ERR_LIMIT;
  }
  *idx = p->n++;
  memset(&p->v[*idx], 0, sizeof p->v[*idx]);
  p->v[*idx].type = type;
  p->v[*idx].start = p->pos;
  return 0;
}

static void close_value(mj_parser *p, size_t idx) {
  p->v[idx].len = p->pos - p->v[idx].start;
  p->v[idx].end = p->n;
}

static int hexval(int c) {
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

/* Reads the 4 hex digits after "\u" at |s| (|left| bytes). Returns the
 * code unit or -1. */
static long hex4(const char *s, size_t left) {
  long u = 0;
  size_t i;
  if (left < 6 || s[0] != '\\' || s[1] != 'u') {
    return -1;
  }
  for (i = 2; i < 6; i++) {
    int d = hexval((unsigned char)s[i]);
    if (d < 0) {
      return -1;
    }
    u = u * 16 + d;
  }
  return u;
}

/* Decodes the \u escape (with its pair when it is a high surrogate) at |s|.
 * Returns the code point and sets |*used|, or -1 for a bad escape or an
 * unpaired surrogate. */
static long unicode_escape(const char *s, size_t left, size_t *used) {
  long hi = hex4(s, left), lo;
  if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF)) {
    return -1;
  }
  *used = 6;
  if (hi < 0xD800 || hi > 0xDBFF) {
    return hi;
  }
  lo = hex4(s + 6, left - 6);
  if (lo < 0xDC00 || lo > 0xDFFF) {
    return -1;
  }
  *used = 12;
  return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
}

/* Length of the valid UTF-8 sequence at |s| (Unicode 15 table 3-7:
 * no overlongs, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left) {
  unsigned char lo = 0x80, hi = 0xBF;
  size_t n, i;

  if (s[0] < 0x80) {
    return 1;
  }
  if (s[0] >= 0xC2 && s[0] <= 0xDF) {
    n = 2;
  } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
    n = 3;
    lo = s[0] == 0xE0 ? 0xA0 : 0x80;
    hi = s[0] == 0xED ? 0x9F : 0xBF;
  } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
    n = 4;
    lo = s[0] == 0xF0 ? 0x90 : 0x80;
    hi = s[0] == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (left < n || s[1] < lo || s[1] > hi) {
    return 0;
  }
  for (i = 2; i < n; i++) {
    if (s[i] < 0x80 || s[i] > 0xBF) {
      return 0;
    }
  }
  return n;
}

static size_t utf8_put(uint8_t out[4], long cp) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | (cp >> 6));
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | (cp >> 18));
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* Decodes the escape at |s| (|left| bytes, s[0] == '\\'). Returns the raw
 * bytes consumed, or 0 for an escape JSON does not define. */
static size_t decode_escape(const char *s, size_t left, uint8_t out[4],
                            size_t *outlen) {
  static const char esc_in[] = "\"\\/bfnrt";
  static const char esc_out[] = "\"\\/\b\f\n\r\t";
  const char *e;
  size_t n = 0;

  if (left < 2) {
    return 0;
  }
  if (s[1] == 'u') {
    long cp = unicode_escape(s, left, &n);
    if (cp < 0) {
      return 0;
    }
    *outlen = utf8_put(out, cp);
    return n;
  }
  e = s[1] != '\0' ? strchr(esc_in, s[1]) : NULL;
  if (e == NULL) {
    return 0;
  }
  out[0] = (uint8_t)esc_out[e - esc_in];
  *outlen = 1;
  return 2;
}

/* Decodes one unit of raw string text at |s| (|left| > 0 bytes) into
 * |out|. Returns the raw bytes consumed and sets |*outlen|, or 0 when the
 * text is not a valid string body (a quote, a control character, a bad
 * escape or bad UTF-8). Parsing and decoding share it, so what parses is
 * exactly what decodes. */
static size_t decode_unit(const char *s, size_t left, uint8_t out[4],
                          size_t *outlen) {
  unsigned char c = (unsigned char)s[0];
  size_t n;

  if (c == '"' || c < 0x20) {
    return 0;
  }
  if (c == '\\') {
    return decode_escape(s, left, out, outlen);
  }
  n = utf8_len((const unsigned char *)s, left);
  if (n > 0) {
    memcpy(out, s, n);
    *outlen = n;
  }
  return n;
}

static int parse_string(mj_parser *p) {
  uint8_t buf[4];
  size_t idx, outlen;
  int rv;

  p->pos++; /* the opening quote */
  rv = new_value(p, MJ_STRING, &idx);
  if (rv != 0) {
    return rv;
  }
  while (peek(p) != '"') {
    if (peek(p) < 0) {
      return SC_ERR_MALFORMED;
    }
    size_t used = decode_unit(p->s + p->pos, p->len - p->pos, buf, &outlen);
    if (used == 0) {
      return SC_ERR_MALFORMED;
    }
    p->pos += used;
  }
  close_value(p, idx);
  p->pos++; /* the closing quote */
  return 0;
}

static size_t skip_digits(mj_parser *p) {
  size_t n = 0;
  while (peek(p) >= '0' && peek(p) <= '9') {
    p->pos++;
    n++;
  }
  return n;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(mj_parser *p) {
  size_t idx;
  int rv = new_value(p, MJ_NUMBER, &idx);

  if (rv != 0) {
    return rv;
  }
  if (peek(p) == '-') {
    p->pos++;
  }
  if (peek(p) == '0') {
    p->pos++;
  } else if (skip_digits(p) == 0) {
    return SC_ERR_MALFORMED;
  }
  if (peek(p) == '.') {
    p->pos++;
    if (skip_digits(p) == 0) {
      return SC_ERR_MALFORMED;
    }
  }
  if (peek(p) == 'e' || peek(p) == 'E') {
    p->pos++;
    if (peek(p) == '+' || peek(p) == '-') {
      p->pos++;
    }
    if (skip_digits(p) == 0) {
      return SC_ERR_MALFORMED;
    }
  }
  close_value(p, idx);
  return 0;
}

static int parse_literal(mj_parser *p, const char *word, int type) {
  size_t n = strlen(word), idx;
  int rv;

  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
    return SC_ERR_MALFORMED;
  }
  rv = new_value(p, type, &idx);
  if (rv != 0) {
    return rv;
  }
  p->pos += n;
  close_value(p, idx);
  return 0;
}

/* One object member: "key" ws ':' value. */
static int parse_member(mj_parser *p) {
  int rv;

  if (peek(p) != '"') {
    return SC_ERR_MALFORMED;
  }
  rv = parse_string(p);
  if (rv != 0) {
    return rv;
  }
  skip_ws(p);
  if (peek(p) != ':') {
    return SC_ERR_MALFORMED;
  }
  p->pos++;
  return parse_value(p);
}

/* Arrays and objects: |close| is ']' or '}'. */
static int parse_container(mj_parser *p, int type, int close) {
  size_t idx;
  int rv;

  if (++p->depth > MJ_MAX_DEPTH) {
    return SC_ERR_LIMIT;
  }
  rv = new_value(p, type, &idx);
  if (rv != 0) {
    return rv;
  }
  p->pos++; /* '[' or '{' */
  skip_ws(p);
  if (peek(p) != close) {
    for (;;) {
      skip_ws(p);
      rv = type == MJ_OBJECT ? parse_member(p) : parse_value(p);
      if (rv != 0) {
        return rv;
      }
      p->v[idx].count++;
      skip_ws(p);
      if (peek(p) != ',') {
        break;
      }
      p->pos++;
    }
  }
  if (peek(p) != close) {
    return SC_ERR_MALFORMED;
  }
  p->pos++;
  close_value(p, idx);
  p->depth--;
  return 0;
}

static int parse_value(mj_parser *p) {
  int c;

  skip_ws(p);
  c = peek(p);
  switch (c) {
  case '{':
    return parse_container(p, MJ_OBJECT, '}');
  case '[':
    return parse_container(p, MJ_ARRAY, ']');
  case '"':
    return parse_string(p);
  case 't':
    return parse_literal(p, "true", MJ_TRUE);
  case 'f':
    return parse_literal(p, "false", MJ_FALSE);
  case 'n':
    return parse_literal(p, "null", MJ_NULL);
  default:
    if (c == '-' || (c >= '0' && c <= '9')) {
      return parse_number(p);
    }
    return SC_ERR_MALFORMED;
  }
}

int mj_parse(mj_doc *doc, const char *text, size_t len, mj_value *vals,
             size_t cap) {
  mj_parser p;
  int rv;

  memset(doc, 0, sizeof *doc);
  if (text == NULL || (vals == NULL && cap > 0)) {
    return SC_ERR_MALFORMED;
  }
  memset(&p, 0, sizeof p);
  p.s = text;
  p.len = len;
  p.v = vals;
  p.cap = cap;
  rv = parse_value(&p);
  if (rv != 0) {
    return rv;
  }
  skip_ws(&p);
  if (p.pos != p.len) {
    return SC_ERR_MALFORMED;
  }
  doc->text = text;
  doc->text_len = len;
  doc->v = vals;
  doc->n = p.n;
  return 0;
}

int mj_type(const mj_doc *doc, size_t i) {
  return i < doc->n ? doc->v[i].type : 0;
}

size_t mj_count(const mj_doc *doc, size_t i) {
  int t = mj_type(doc, i);
  return t == MJ_ARRAY || t == MJ_OBJECT ? doc->v[i].count : 0;
}

size_t mj_get(const mj_doc *doc, size_t obj, const char *key) {
  size_t m, child;

  if (mj_type(doc, obj) != MJ_OBJECT) {
    return MJ_NONE;
  }
  child = obj + 1;
  for (m = 0; m < doc->v[obj].count; m++) {
    /* child is the key string; child + 1 its value. */
    if (mj_string_eq(doc, child, key)) {
      return child + 1;
    }
    child = doc->v[child + 1].end;
  }
  return MJ_NONE;
}

size_t mj_at(const mj_doc *doc, size_t arr, size_t i) {
  size_t k, child;

  if (mj_type(doc, arr) != MJ_ARRAY || i >= doc->v[arr].count) {
    return MJ_NONE;
  }
  child = arr + 1;
  for (k = 0; k < i; k++) {
    child = doc->v[child].end;
  }
  return child;
}

sc_ssize mj_string(const mj_doc *doc, size_t i, char *out, size_t cap) {
  const char *s;
  size_t left, used, n = 0, outlen = 0;
  uint8_t buf[4];

  if (mj_type(doc, i) != MJ_STRING) {
    return SC_ERR_INVALID_ARG;
  }
  s = doc->text + doc->v[i].start;
  for (left = doc->v[i].len; left > 0; left -= used, s += used) {
    used = decode_unit(s, left, buf, &outlen);
    if (used == 0 || used > left) {
      return SC_ERR_INVALID_ARG; /* cannot happen after mj_parse */
    }
    if (cap == 0 || outlen > cap - 1 - n) {
      if (cap > 0) {
        out[n] = '\0';
      }
      return SC_ERR_BUFFER;
    }
    memcpy(out + n, buf, outlen);
    n += outlen;
  }
  if (cap == 0) {
    return SC_ERR_BUFFER;
  }
  out[n] = '\0';
  return (sc_ssize)n;
}

int mj_string_eq(const mj_doc *doc, size_t i, const char *str) {
  const char *s;
  size_t left, used, outlen = 0, n = 0, slen = strlen(str);
  uint8_t buf[4];

  if (mj_type(doc, i) != MJ_STRING) {
    return 0;
  }
  s = doc->text + doc->v[i].start;
  for (left = doc->v[i].len; left > 0; left -= used, s += used) {
    used = decode_unit(s, left, buf, &outlen);
    if (used == 0 || used > left || outlen > slen - n ||
        memcmp(str + n, buf, outlen) != 0) {
      return 0;
    }
    n += outlen;
  }
  return n == slen;
}

int mj_number(const mj_doc *doc, size_t i, double *out) {
  char buf[64];

  if (mj_type(doc, i) != MJ_NUMBER) {
    return SC_ERR_INVALID_ARG;
  }
  if (doc->v[i].len >= sizeof buf) {
    return SC_ERR_LIMIT;
  }
  memcpy(buf, doc->text + doc->v[i].start, doc->v[i].len);
  buf[doc->v[i].len] = '\0';
  *out = strtod(buf, NULL);
  return 0;
}
