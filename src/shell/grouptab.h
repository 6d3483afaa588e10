/*
 * grouptab.h: the daemon's joined groups, in the core's index order, each
 * under the spec it was joined with (--group or the API's join) and its
 * name (the spec up to '?') for the stats socket.
 *
 * The core leaves a group named by any equivalent spec, but the daemon
 * names a group by the spec it was joined with, byte for byte: it cannot
 * compute a group ID from a spec without the core's internals, and a spec
 * may hold a secret that it never shows. Joining and leaving go through
 * here so that the table and the core's indices stay in step.
 */
#ifndef SC_SHELL_GROUPTAB_H
#define SC_SHELL_GROUPTAB_H

#include <stddef.h>
#include <stdint.h>

#include "stratocast.h"

#define SC_GROUPTAB_MAX 8 /* the core's limit */

typedef struct sc_grouptab {
  char *specs[SC_GROUPTAB_MAX]; /* as given, owned */
  char *names[SC_GROUPTAB_MAX]; /* up to '?', owned */
  uint8_t ids[SC_GROUPTAB_MAX][SC_GROUP_ID_BYTES];
  size_t n;
} sc_grouptab;

/* sc_grouptab_join joins |spec| on |node| at |now| and records it. Returns
 * its index, or sc_node_join_group's error (SC_ERR_MALFORMED,
 * SC_ERR_STATE, SC_ERR_LIMIT, SC_ERR_CLOSED, SC_ERR_NOMEM); SC_ERR_NOMEM
 * too when the record cannot be made (the core's join is then undone). */
int sc_grouptab_join(sc_grouptab *t, sc_node *node, const char *spec,
                     uint64_t now);

/* sc_grouptab_leave leaves the group joined as |spec| (the same bytes) and
 * forgets it; the records after it move down as the core's indices do.
 * Returns 0 or SC_ERR_NOT_FOUND. */
int sc_grouptab_leave(sc_grouptab *t, sc_node *node, const char *spec,
                      uint64_t now);

/* sc_grouptab_find returns the index of the group joined as |spec|, or -1.
 */
int sc_grouptab_find(const sc_grouptab *t, const char *spec);

/* sc_grouptab_find_id returns the index of the group with ID |id|, or -1.
 */
int sc_grouptab_find_id(const sc_grouptab *t, const uint8_t *id);

/* sc_grouptab_free forgets every record (the node is not touched). */
void sc_grouptab_free(sc_grouptab *t);

#endif /* SC_SHELL_GROUPTAB_H */
