/*
 * sc_mem.h: allocation through an sc_mem table.
 */
#ifndef SC_MEM_H
#define SC_MEM_H

#include "stratocast.h"

/* sc_mem_malloc allocates |size| bytes from |mem|; NULL on failure. */
void *sc_mem_malloc(const sc_mem *mem, size_t size);

/* sc_mem_calloc allocates |nmemb| zeroed elements of |size| bytes; NULL on
 * failure or overflow. */
void *sc_mem_calloc(const sc_mem *mem, size_t nmemb, size_t size);

/* sc_mem_realloc resizes |ptr| to |size| bytes; NULL on failure, in which
 * case |ptr| is untouched. */
void *sc_mem_realloc(const sc_mem *mem, void *ptr, size_t size);

/* sc_mem_free frees |ptr|; NULL is fine. */
void sc_mem_free(const sc_mem *mem, void *ptr);

#endif /* SC_MEM_H */
