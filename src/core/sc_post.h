/*
 * sc_post.h: posting (doc/protocol.md §14.1): a message to every member of a
 * group, each receiving it once. A post is handed on over member links by
 * intervals of the ring, and ring neighbours repair what a failed link missed.
 */
#ifndef SC_POST_H
#define SC_POST_H

#include <stddef.h>
#include <stdint.h>

struct sc_node;
struct sc_session;

/* One group's posting state, owned by its sc_mgroup (NULL until used). */
typedef struct sc_pgroup sc_pgroup;

void sc_post_group_free(struct sc_node *node, sc_pgroup *pg);

/* sc_post_on_message handles a posting message; returns 0 when |kind| is
 * not one. */
int sc_post_on_message(struct sc_node *node, struct sc_session *s,
                       uint64_t kind, const uint8_t *body, size_t len,
                       uint64_t now);

void sc_post_on_timer(struct sc_node *node, uint64_t now);
uint64_t sc_post_deadline(const struct sc_node *node);

#endif /* SC_POST_H */
