/*
 * sc_macro.h: small helpers every core module uses.
 */
#ifndef SC_MACRO_H
#define SC_MACRO_H

#include <stddef.h>

#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* sc_struct_of returns the struct of type |type| whose member |member| is at
 * |ptr|. */
#define sc_struct_of(ptr, type, member)                                        \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define SC_MS ((uint64_t)1000000)
#define SC_SEC ((uint64_t)1000000000)

#endif /* SC_MACRO_H */
