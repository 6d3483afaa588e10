/*
 * json.c: growable text buffer and JSON writer for the stats socket.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "json.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_textbuf_init(sc_textbuf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
  b->oom = 0;
}

void sc_textbuf_free(sc_textbuf *b) {
  free(b->data);
  sc_textbuf_init(b, b->max);
}

void sc_textbuf_reset(sc_textbuf *b) {
  b->len = 0;
  b->oom = 0;
  if (b->data != NULL) {
    b->data[0] = '\0';
  }
}

/* Makes room for |extra| more bytes plus a NUL. */
static int textbuf_reserve(sc_textbuf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (b->oom) {
    return -1;
  }
  if (extra > SIZE_MAX / 2 - b->len ||
      (b->max != 0 && b->len + extra > b->max)) {
    b->oom = 1;
    return -1;
  }
  need = b->len + extra + 1;
  if (need <= b->cap) {
    return 0;
  }
  cap = b->cap != 0 ? b->cap : 256;
  while (cap < need) {
    cap *= 2;
  }
  p = realloc(b->data, cap);
  if (p == NULL) {
    b->oom = 1;
    return -1;
  }
  b->data = p;
  b->cap = cap;
  return 0;
}

int sc_textbuf_append(sc_textbuf *b, const void *data, size_t len) {
  if (textbuf_reserve(b, len) != 0) {
    return -1;
  }
  if (len > 0) {
    memcpy(b->data + b->len, data, len);
  }
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int sc_textbuf_puts(sc_textbuf *b, const char *s) {
  return sc_textbuf_append(b, s, strlen(s));
}

int sc_textbuf_printf(sc_textbuf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  char small[256];
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = 1;
    return -1;
  }
  if ((size_t)n < sizeof(small)) {
    return sc_textbuf_append(b, small, (size_t)n);
  }
  if (textbuf_reserve(b, (size_t)n) != 0) {
    return -1;
  }
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void sc_textbuf_consume(sc_textbuf *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
  } else {
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
  }
  if (b->data != NULL) {
    b->data[b->len] = '\0';
  }
}

/* ---- JSON --------------------------------------------------------------- */

void sc_json_init(sc_json *j, sc_textbuf *out) {
  j->out = out;
  j->depth = 0;
  j->has_items = 0;
  j->after_key = 0;
}

/* Writes the comma that separates this item from the previous one. */
static void json_item(sc_json *j) {
  uint32_t bit = (uint32_t)1 << j->depth;
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->has_items & bit) {
    sc_textbuf_append(j->out, ",", 1);
  }
  j->has_items |= bit;
}

static void json_open(sc_json *j, char c) {
  json_item(j);
  sc_textbuf_append(j->out, &c, 1);
  assert(j->depth + 1 < SC_JSON_MAX_DEPTH);
  j->depth++;
  j->has_items &= ~((uint32_t)1 << j->depth);
}

static void json_close(sc_json *j, char c) {
  assert(j->depth > 0 && !j->after_key);
  j->depth--;
  sc_textbuf_append(j->out, &c, 1);
}

void sc_json_obj_begin(sc_json *j) { json_open(j, '{'); }

void sc_json_obj_end(sc_json *j) { json_close(j, '}'); }

void sc_json_arr_begin(sc_json *j) { json_open(j, '['); }

void sc_json_arr_end(sc_json *j) { json_close(j, ']'); }

void sc_json_key(sc_json *j, const char *key) {
  json_item(j);
  sc_textbuf_append(j->out, "\"", 1);
  sc_json_escape(j->out, key, strlen(key));
  sc_textbuf_append(j->out, "\":", 2);
  j->after_key = 1;
}

void sc_json_strn(sc_json *j, const char *s, size_t len) {
  json_item(j);
  sc_textbuf_append(j->out, "\"", 1);
  sc_json_escape(j->out, s, len);
  sc_textbuf_append(j->out, "\"", 1);
}

void sc_json_str(sc_json *j, const char *s) { sc_json_strn(j, s, strlen(s)); }

void sc_json_u64(sc_json *j, uint64_t v) {
  json_item(j);
  sc_textbuf_printf(j->out, "%llu", (unsigned long long)v);
}

void sc_json_bool(sc_json *j, int v) {
  json_item(j);
  sc_textbuf_puts(j->out, v ? "true" : "false");
}

void sc_json_null(sc_json *j) {
  json_item(j);
  sc_textbuf_puts(j->out, "null");
}

void sc_json_raw(sc_json *j, const char *text, size_t len) {
  json_item(j);
  sc_textbuf_append(j->out, text, len);
}

void sc_json_double(sc_json *j, double v) {
  json_item(j);
  if (!isfinite(v)) {
    sc_textbuf_puts(j->out, "null");
    return;
  }
  sc_textbuf_printf(j->out, "%.6g", v);
}

void sc_json_fixed3(sc_json *j, uint64_t milli) {
  json_item(j);
  sc_textbuf_printf(j->out, "%llu.%03u", (unsigned long long)(milli / 1000),
                    (unsigned)(milli % 1000));
}

/* Returns the length (2..4) of the valid UTF-8 sequence at |p| (|left| bytes
 * available), or 0 if it is not valid: overlong forms, surrogates and code
 * points above U+10FFFF are rejected (RFC 3629 §4). */
static size_t utf8_valid_len(const unsigned char *p, size_t left) {
  size_t n, i;
  unsigned char lo = 0x80, hi = 0xbf;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) {
    n = 2;
  } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
    n = 3;
    if (p[0] == 0xe0) {
      lo = 0xa0;
    } else if (p[0] == 0xed) {
      hi = 0x9f;
    }
  } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    n = 4;
    if (p[0] == 0xf0) {
      lo = 0x90;
    } else if (p[0] == 0xf4) {
      hi = 0x8f;
    }
  } else {
    return 0;
  }
  if (left < n || p[1] < lo || p[1] > hi) {
    return 0;
  }
  for (i = 2; i < n; i++) {
    if (p[i] < 0x80 || p[i] > 0xbf) {
      return 0;
    }
  }
  return n;
}

void sc_json_escape(sc_textbuf *out, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, run = 0;
  while (i < len) {
    unsigned char c = p[i];
    size_t n = 1;
    const char *esc = NULL;
    char hex[8];
    if (c == '"') {
      esc = "\\\"";
    } else if (c == '\\') {
      esc = "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      snprintf(hex, sizeof(hex), "\\u%04x", (unsigned)c);
      esc = hex;
    } else if (c >= 0x80) {
      n = utf8_valid_len(p + i, len - i);
      if (n == 0) {
        esc = "\\ufffd";
        n = 1;
      }
    }
    if (esc == NULL) {
      i += n;
      run += n;
      continue;
    }
    /* Copy the plain run before this byte in one piece. */
    sc_textbuf_append(out, p + i - run, run);
    run = 0;
    sc_textbuf_puts(out, esc);
    i += n;
  }
  sc_textbuf_append(out, p + i - run, run);
}
