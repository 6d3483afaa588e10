/*
 * sc_route.h: directed routing (doc/protocol.md §14.2): a message to the
 * member of a group whose address is nearest a target address, handed on
 * greedily over member links, each hop strictly nearer the target; or to
 * the next member up or down the ring.
 */
#ifndef SC_ROUTE_H
#define SC_ROUTE_H

#include <stddef.h>
#include <stdint.h>

struct sc_node;
struct sc_session;

/* One group's routing state, owned by its sc_mgroup (NULL until used). */
typedef struct sc_rgroup sc_rgroup;

/* sc_route_group_free frees |rg|; NULL is fine. */
void sc_route_group_free(struct sc_node *node, sc_rgroup *rg);

/* sc_route_on_message handles a routing message received on |s|; returns
 * 0 when |kind| is not one. Routing keeps no timers: its budgets refill
 * when used. */
int sc_route_on_message(struct sc_node *node, struct sc_session *s,
                        uint64_t kind, const uint8_t *body, size_t len,
                        uint64_t now);

#endif /* SC_ROUTE_H */
