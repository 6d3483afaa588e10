/*
 * sc_repl.h: object replication (doc/protocol.md §14.3): members of a
 * group hold numbered objects, tell their member links which indices they
 * have and want, and fetch the wanted ones they lack from links that have
 * them, lowest-first or rarest-first. Writing, removing and reading
 * objects is local.
 */
#ifndef SC_REPL_H
#define SC_REPL_H

#include <stddef.h>
#include <stdint.h>

struct sc_node;
struct sc_session;

/* Limits per group. */
#define SC_REPL_OBJECTS_MAX 16384           /* objects stored */
#define SC_REPL_BYTES_MAX (8 * 1024 * 1024) /* object bytes stored */
#define SC_REPL_WANT_RUNS_MAX 256 /* runs in a want set, own or a link's */
#define SC_REPL_LINK_HAVE_MAX                                                  \
  SC_REPL_OBJECTS_MAX        /* indices a link may                             \
                                announce */
#define SC_REPL_LINKS_MAX 63 /* member links replicated with */
#define SC_REPL_FETCH_OUT 16 /* fetches outstanding per link */

/* One group's replication state, owned by its sc_mgroup (NULL until
 * used). */
typedef struct sc_ogroup sc_ogroup;

/* sc_repl_group_free frees |og| and every object in it; NULL is fine. */
void sc_repl_group_free(struct sc_node *node, sc_ogroup *og);

/* sc_repl_on_message handles a replication message from |s|; returns 0
 * when |kind| is not one. */
int sc_repl_on_message(struct sc_node *node, struct sc_session *s,
                       uint64_t kind, const uint8_t *body, size_t len,
                       uint64_t now);

/* sc_repl_on_timer follows member links, sends announcements and fetches
 * and expires fetches that are due at |now|. */
void sc_repl_on_timer(struct sc_node *node, uint64_t now);

/* sc_repl_deadline returns when sc_repl_on_timer is next due, or
 * UINT64_MAX. */
uint64_t sc_repl_deadline(const struct sc_node *node);

#endif /* SC_REPL_H */
