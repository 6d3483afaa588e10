/*
 * grouptab.c: the daemon's joined groups.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "grouptab.h"

#include <stdlib.h>
#include <string.h>

static void forget(sc_grouptab *t, size_t i) {
  free(t->specs[i]);
  free(t->names[i]);
  memmove(&t->specs[i], &t->specs[i + 1], (t->n - i - 1) * sizeof(char *));
  memmove(&t->names[i], &t->names[i + 1], (t->n - i - 1) * sizeof(char *));
  memmove(t->ids[i], t->ids[i + 1], (t->n - i - 1) * sizeof(t->ids[0]));
  t->n--;
}

int sc_grouptab_join(sc_grouptab *t, sc_node *node, const char *spec,
                     uint64_t now) {
  sc_group_info info[SC_GROUPTAB_MAX];
  int rc;
  size_t i;
  if (t->n == SC_GROUPTAB_MAX) {
    return SC_ERR_LIMIT;
  }
  rc = sc_node_join_group(node, spec, now);
  if (rc < 0) {
    return rc;
  }
  /* The core hands out the next index: the table is in step with it. */
  i = t->n;
  t->specs[i] = strdup(spec);
  t->names[i] = strndup(spec, strcspn(spec, "?"));
  if ((size_t)rc != i || t->specs[i] == NULL || t->names[i] == NULL ||
      sc_node_groups(node, info, SC_GROUPTAB_MAX) <= i) {
    free(t->specs[i]);
    free(t->names[i]);
    (void)sc_node_leave_group(node, spec, now);
    return SC_ERR_NOMEM;
  }
  memcpy(t->ids[i], info[i].group_id, SC_GROUP_ID_BYTES);
  t->n++;
  return rc;
}

int sc_grouptab_leave(sc_grouptab *t, sc_node *node, const char *spec,
                      uint64_t now) {
  int i = sc_grouptab_find(t, spec);
  if (i < 0 || sc_node_leave_group(node, spec, now) != 0) {
    return SC_ERR_NOT_FOUND;
  }
  forget(t, (size_t)i);
  return 0;
}

int sc_grouptab_find(const sc_grouptab *t, const char *spec) {
  size_t i;
  for (i = 0; i < t->n; i++) {
    if (strcmp(t->specs[i], spec) == 0) {
      return (int)i;
    }
  }
  return -1;
}

int sc_grouptab_find_id(const sc_grouptab *t, const uint8_t *id) {
  size_t i;
  for (i = 0; i < t->n; i++) {
    if (memcmp(t->ids[i], id, SC_GROUP_ID_BYTES) == 0) {
      return (int)i;
    }
  }
  return -1;
}

void sc_grouptab_free(sc_grouptab *t) {
  while (t->n > 0) {
    forget(t, t->n - 1);
  }
}
