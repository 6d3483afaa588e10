/*
 * json.h: a growable text buffer and a small JSON writer on top of it.
 *
 * The stats socket answers every command with text built here: JSON objects
 * for the "show" commands and Prometheus text for "metrics". Both writers
 * never fail half-way in a way the caller has to unwind: an allocation
 * failure sets a sticky flag that the caller checks once at the end.
 */
#ifndef SC_SHELL_JSON_H
#define SC_SHELL_JSON_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. |data| is NUL-terminated whenever |len| > 0 and
 * |oom| is zero. */
typedef struct sc_textbuf {
  char *data;
  size_t len;
  size_t cap;
  size_t max; /* hard cap on |len|; 0 means unlimited */
  int oom;    /* sticky: an append failed or would exceed |max| */
} sc_textbuf;

/* sc_textbuf_init makes |b| an empty buffer that may grow up to |max| bytes
 * (0 = no limit). It allocates nothing. */
void sc_textbuf_init(sc_textbuf *b, size_t max);

/* sc_textbuf_free releases the memory of |b| and leaves it empty. */
void sc_textbuf_free(sc_textbuf *b);

/* sc_textbuf_reset empties |b| and clears |oom|, keeping its memory. */
void sc_textbuf_reset(sc_textbuf *b);

/* sc_textbuf_append appends |len| bytes of |data|. Returns 0, or -1 (and sets
 * |oom|) when memory runs out or |max| would be exceeded; then nothing is
 * appended. */
int sc_textbuf_append(sc_textbuf *b, const void *data, size_t len);

/* sc_textbuf_puts appends the NUL-terminated |s|; as sc_textbuf_append. */
int sc_textbuf_puts(sc_textbuf *b, const char *s);

/* sc_textbuf_printf appends formatted text; as sc_textbuf_append. */
int sc_textbuf_printf(sc_textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sc_textbuf_consume drops the first |n| bytes of |b| (all of them if |n| >=
 * |len|). */
void sc_textbuf_consume(sc_textbuf *b, size_t n);

#define SC_JSON_MAX_DEPTH 16

/* A streaming JSON writer that places commas itself. Nesting deeper than
 * SC_JSON_MAX_DEPTH is a bug in the caller (asserted). */
typedef struct sc_json {
  sc_textbuf *out;
  unsigned depth;
  uint32_t has_items; /* bit d: the container at depth d has an item */
  int after_key;      /* the next value completes a "key": pair */
} sc_json;

/* sc_json_init makes |j| write into |out|, which it does not own. */
void sc_json_init(sc_json *j, sc_textbuf *out);

/* Containers. Every _begin must be matched by the _end of the same kind. */
void sc_json_obj_begin(sc_json *j);
void sc_json_obj_end(sc_json *j);
void sc_json_arr_begin(sc_json *j);
void sc_json_arr_end(sc_json *j);

/* sc_json_key writes the member name |key| (escaped) and its colon; the next
 * call writes the value. */
void sc_json_key(sc_json *j, const char *key);

/* Values. Strings are escaped by sc_json_escape. */
void sc_json_str(sc_json *j, const char *s);
void sc_json_strn(sc_json *j, const char *s, size_t len);
void sc_json_u64(sc_json *j, uint64_t v);
void sc_json_bool(sc_json *j, int v);
void sc_json_null(sc_json *j);

/* sc_json_raw writes the |len| bytes at |text|, which the caller vouches
 * are one JSON value (a value it parsed strictly), as a value. */
void sc_json_raw(sc_json *j, const char *text, size_t len);

/* sc_json_double writes |v| with six significant digits ("%.6g"), or null
 * when it is not finite. */
void sc_json_double(sc_json *j, double v);

/* sc_json_fixed3 writes |milli| / 1000 as a number with exactly three
 * decimals ("12.345"), without floating point. */
void sc_json_fixed3(sc_json *j, uint64_t milli);

/* sc_json_escape appends |s| of |len| bytes to |out| as the inside of a JSON
 * string: quote and backslash are escaped, control characters become
 * \u00XX, valid UTF-8 passes through and every byte of an invalid UTF-8
 * sequence becomes \ufffd. */
void sc_json_escape(sc_textbuf *out, const char *s, size_t len);

#endif /* SC_SHELL_JSON_H */
