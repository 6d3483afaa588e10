/*
 * sc_mem.c: the default allocator table and thin wrappers.
 */
#include "sc_mem.h"

#include <stdlib.h>

static void *default_malloc(size_t size, void *user) {
  (void)user;
  return malloc(size);
}

static void default_free(void *ptr, void *user) {
  (void)user;
  free(ptr);
}

static void *default_calloc(size_t nmemb, size_t size, void *user) {
  (void)user;
  return calloc(nmemb, size);
}

static void *default_realloc(void *ptr, size_t size, void *user) {
  (void)user;
  return realloc(ptr, size);
}

static const sc_mem mem_default = {NULL, default_malloc, default_free,
                                   default_calloc, default_realloc};

const sc_mem *sc_mem_default(void) { return &mem_default; }

void *sc_mem_malloc(const sc_mem *mem, size_t size) {
  return mem->malloc(size, mem->user);
}

void *sc_mem_calloc(const sc_mem *mem, size_t nmemb, size_t size) {
  if (size != 0 && nmemb > (size_t)-1 / size) {
    return NULL;
  }
  return mem->calloc(nmemb, size, mem->user);
}

void *sc_mem_realloc(const sc_mem *mem, void *ptr, size_t size) {
  return mem->realloc(ptr, size, mem->user);
}

void sc_mem_free(const sc_mem *mem, void *ptr) {
  if (ptr != NULL) {
    mem->free(ptr, mem->user);
  }
}
