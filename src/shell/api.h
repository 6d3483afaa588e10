/*
 * api.h: the local application API's requests, responses and events
 * (doc/api.md), without the socket: apisock.c feeds it lines and carries
 * its answers, and the fuzz harness drives it directly.
 *
 * A request is one strict JSON object (minijson.h) naming an "op", with an
 * optional "id" echoed in the response. Each op is a row of a table: its
 * name, the fields it takes, and its handler, which checks the fields,
 * calls the core and writes the response. Events (a post, a routed
 * message, an object) are formatted here for the subscribers of their
 * group.
 */
#ifndef SC_SHELL_API_H
#define SC_SHELL_API_H

#include <stddef.h>
#include <stdint.h>

#include "grouptab.h"
#include "json.h"
#include "log.h"
#include "stratocast.h"

#define SC_API_MAX_LINE 65536 /* bytes of a request line, newline excluded */
#define SC_API_MAX_SUBS 8     /* subscriptions per connection */
#define SC_API_SPEC_MAX 1024  /* bytes of a group spec */
#define SC_API_ID_MAX 128     /* bytes of an id's JSON text */

/* Kinds of events, as bits of a subscription. */
enum sc_api_event_kind {
  SC_API_EV_POST = 1,
  SC_API_EV_ROUTED = 2,
  SC_API_EV_OBJECT = 4,
  SC_API_EV_ALL = 7,
};

/* A connection's subscription to the events of one group. */
typedef struct sc_api_sub {
  char spec[SC_API_SPEC_MAX + 1]; /* as the client named the group */
  uint8_t group_id[SC_GROUP_ID_BYTES];
  unsigned events; /* enum sc_api_event_kind bits */
} sc_api_sub;

typedef struct sc_api_subs {
  sc_api_sub items[SC_API_MAX_SUBS];
  size_t n;
} sc_api_subs;

/* What a request acts on. Nothing is owned. */
typedef struct sc_api_ctx {
  sc_node *node;
  sc_grouptab *groups; /* the daemon's joined groups */
  uint64_t now;
  sc_api_subs *subs;    /* the requesting connection's subscriptions */
  const sc_logger *log; /* joins and leaves are logged; NULL: not */
} sc_api_ctx;

/* sc_api_handle answers the request |line| of |len| bytes (no newline;
 * any bytes) by appending one response line to |out|; a line of nothing
 * but JSON whitespace is ignored and appends nothing. Returns 0 after an
 * "ok" response or none, 1 after an error response, or -1 when |out| ran
 * out of room (its |oom| flag is set). */
int sc_api_handle(sc_api_ctx *ctx, const char *line, size_t len,
                  sc_textbuf *out);

/* sc_api_error_line appends an error response without an id: |code| (a
 * code of doc/api.md) and |message|. */
void sc_api_error_line(sc_textbuf *out, const char *code, const char *message);

/* An event for subscribers. Pointers are borrowed for the call. */
typedef struct sc_api_event {
  unsigned kind; /* one enum sc_api_event_kind bit */
  const uint8_t *group_id;
  const uint8_t *from;   /* the origin's (or giver's) peer ID */
  uint64_t number;       /* post: the origin's post number */
  const uint8_t *target; /* routed: the address it was sent to */
  unsigned hops;         /* routed */
  uint64_t index;        /* object */
  const uint8_t *data;
  size_t len;
} sc_api_event;

/* Fill |e| from the core's events. */
void sc_api_event_post(sc_api_event *e, const sc_post_event *ev);
void sc_api_event_routed(sc_api_event *e, const sc_route_event *ev);
void sc_api_event_object(sc_api_event *e, const sc_object_event *ev);

/* sc_api_event_line appends the event line of |e| for a subscriber that
 * named its group |spec|. */
void sc_api_event_line(sc_textbuf *out, const char *spec,
                       const sc_api_event *e);

/* sc_api_dropped_line appends the line that tells a subscriber |count|
 * events were dropped because it read too slowly. */
void sc_api_dropped_line(sc_textbuf *out, uint64_t count);

#endif /* SC_SHELL_API_H */
