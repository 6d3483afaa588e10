/*
 * minijson.h: a small, strict JSON parser (RFC 8259): the API socket reads
 * its requests with it, and the tests read JSON files.
 *
 * mj_parse checks a whole document and records its values, in document
 * order, in an array the caller provides: an array's elements follow it,
 * an object's members follow it as key, value, key, value... Values hold
 * offsets, never pointers, and nothing is allocated. The lookup functions
 * read the text again through the mj_doc, so the text and the value array
 * must outlive it.
 *
 * Strict means: one value with only JSON whitespace around it, no trailing
 * commas, no leading zeros, no control characters or invalid UTF-8 in
 * strings, only the escapes JSON defines, and \u escapes that pair their
 * surrogates. Duplicate object keys are accepted; lookups find the first.
 */
#ifndef MINIJSON_H
#define MINIJSON_H

#include <stddef.h>

#include "stratocast.h"

#define MJ_MAX_DEPTH 64      /* nesting of arrays and objects */
#define MJ_NONE ((size_t)-1) /* "no such value" from the lookups */

enum mj_type {
  MJ_NULL = 1,
  MJ_FALSE,
  MJ_TRUE,
  MJ_NUMBER,
  MJ_STRING,
  MJ_ARRAY,
  MJ_OBJECT,
};

typedef struct mj_value {
  int type;     /* enum mj_type */
  size_t start; /* offset of the value; for a string, just inside the '"' */
  size_t len;   /* bytes of text; for a string, raw bytes between quotes */
  size_t count; /* elements of an array, members of an object, else 0 */
  size_t end;   /* index of the first value after this one and its children */
} mj_value;

typedef struct mj_doc {
  const char *text;
  size_t text_len;
  const mj_value *v;
  size_t n; /* values recorded; the root is v[0] */
} mj_doc;

/* mj_parse parses the |len| bytes of |text| (no NUL needed) into |vals| of
 * |cap| entries and points |doc| at both. Every value starts at its own
 * byte, so cap >= len always suffices. Returns 0, SC_ERR_MALFORMED when
 * the text is not strict JSON, or SC_ERR_LIMIT when |cap| values or
 * MJ_MAX_DEPTH levels are not enough. On error |doc| is unusable. */
int mj_parse(mj_doc *doc, const char *text, size_t len, mj_value *vals,
             size_t cap);

/* mj_type returns the enum mj_type of value |i|, or 0 when |i| is not a
 * value of |doc| (MJ_NONE included). */
int mj_type(const mj_doc *doc, size_t i);

/* mj_get returns the index of the value of member |key| (a NUL-terminated
 * UTF-8 string) in object |obj|, or MJ_NONE when |obj| is not an object or
 * has no such member. */
size_t mj_get(const mj_doc *doc, size_t obj, const char *key);

/* mj_at returns the index of element |i| of array |arr|, or MJ_NONE when
 * |arr| is not an array or has at most |i| elements. */
size_t mj_at(const mj_doc *doc, size_t arr, size_t i);

/* mj_count returns the elements of an array or members of an object at
 * |i|, or 0 for anything else. */
size_t mj_count(const mj_doc *doc, size_t i);

/* mj_string decodes string |i| to UTF-8 in |out| of |cap| bytes and adds a
 * NUL. Returns the length without the NUL, SC_ERR_INVALID_ARG when |i| is
 * not a string, or SC_ERR_BUFFER when |cap| is too small (|out| then holds
 * a NUL-terminated prefix if cap > 0). A decoded string may contain NUL
 * bytes (from \u0000): use the length. */
sc_ssize mj_string(const mj_doc *doc, size_t i, char *out, size_t cap);

/* mj_string_eq returns nonzero when string |i| decodes to exactly the
 * NUL-terminated |s|; 0 otherwise or when |i| is not a string. */
int mj_string_eq(const mj_doc *doc, size_t i, const char *s);

/* mj_number converts number |i| with strtod (in the C locale) into |out|.
 * Returns 0, SC_ERR_INVALID_ARG when |i| is not a number, or SC_ERR_LIMIT
 * when its text is longer than 63 bytes. */
int mj_number(const mj_doc *doc, size_t i, double *out);

#endif /* MINIJSON_H */
