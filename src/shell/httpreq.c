/*
 * httpreq.c: checking an HTTP/1.x request head, and refusing one.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "httpreq.h"

#include <stdio.h>
#include <string.h>

/* RFC 9110 §5.6.2 tchar. */
static int is_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Length of the run of tchars at |p| (up to |end|). */
static size_t token_len(const char *p, const char *end) {
  const char *q = p;
  while (q < end && is_tchar((unsigned char)*q)) {
    q++;
  }
  return (size_t)(q - p);
}

/* Checks the request line |p|..|end| (without its line end). Returns
 * SC_HTTPREQ_GET, SC_HTTPREQ_METHOD or SC_HTTPREQ_MALFORMED. */
static int request_line(const char *p, const char *end) {
  size_t m = token_len(p, end);
  const char *target = p + m + 1, *q;
  int is_get = m == 3 && memcmp(p, "GET", 3) == 0;
  if (m == 0 || target > end || target[-1] != ' ') {
    return SC_HTTPREQ_MALFORMED;
  }
  for (q = target; q < end && (unsigned char)*q > ' ' && *q != 0x7f; q++) {
  }
  if (q == target || q >= end || *q != ' ') {
    return SC_HTTPREQ_MALFORMED;
  }
  q++;
  if (end - q != 8 || memcmp(q, "HTTP/1.", 7) != 0 || q[7] < '0' ||
      q[7] > '9') {
    return SC_HTTPREQ_MALFORMED;
  }
  return is_get ? SC_HTTPREQ_GET : SC_HTTPREQ_METHOD;
}

/* Checks one field line |p|..|end|: name ":" value, no control bytes
 * other than tab (and no obsolete folding). */
static int field_line_ok(const char *p, const char *end) {
  size_t n = token_len(p, end);
  const char *q;
  if (n == 0 || p + n >= end || p[n] != ':') {
    return 0;
  }
  for (q = p + n + 1; q < end; q++) {
    unsigned char c = (unsigned char)*q;
    if ((c < ' ' && c != '\t') || c == 0x7f) {
      return 0;
    }
  }
  return 1;
}

int sc_httpreq_parse(const char *buf, size_t len, size_t *head_len) {
  const char *p = buf, *end = buf + len, *nl;
  int result = SC_HTTPREQ_MORE, first = 1;
  size_t fields = 0;
  while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    const char *line_end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
    if (first) {
      result = request_line(p, line_end);
      if (result == SC_HTTPREQ_MALFORMED) {
        return result;
      }
      first = 0;
    } else if (line_end == p) {
      *head_len = (size_t)(nl + 1 - buf);
      return result;
    } else if (!field_line_ok(p, line_end)) {
      return SC_HTTPREQ_MALFORMED;
    } else if (++fields > SC_HTTPREQ_MAX_FIELDS) {
      return SC_HTTPREQ_TOO_LARGE;
    }
    p = nl + 1;
  }
  /* A partial first line can already be wrong: a byte no method has. */
  if (first && token_len(buf, end) < len && buf[token_len(buf, end)] != ' ') {
    return SC_HTTPREQ_MALFORMED;
  }
  return SC_HTTPREQ_MORE;
}

int sc_httpreq_status(int result, int full) {
  switch (result) {
  case SC_HTTPREQ_GET:
    return 0;
  case SC_HTTPREQ_METHOD:
    return 405;
  case SC_HTTPREQ_MALFORMED:
    return 400;
  case SC_HTTPREQ_TOO_LARGE:
    return 431;
  default:
    return full ? 431 : 0;
  }
}

void sc_httpreq_target(const char *head, size_t head_len, const char **target,
                       size_t *len) {
  /* The request line was checked: METHOD SP TARGET SP VERSION, so both
   * spaces are there. */
  const char *end = head + head_len;
  const char *t = (const char *)memchr(head, ' ', head_len) + 1;
  *target = t;
  *len = (size_t)((const char *)memchr(t, ' ', (size_t)(end - t)) - t);
}

static const char *reason(int status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return "Internal Server Error";
  }
}

size_t sc_httpreq_refusal(char *buf, size_t buflen, int status) {
  const char *text = reason(status);
  int n = snprintf(buf, buflen,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                   "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%s\n",
                   status, text, strlen(text) + 1,
                   status == 405 ? "Allow: GET\r\n" : "", text);
  return n > 0 && (size_t)n < buflen ? (size_t)n : 0;
}
