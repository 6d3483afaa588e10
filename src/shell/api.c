/*
 * api.c: the local API's requests, responses and events (doc/api.md).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "api.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "minijson.h"
#include "sc_macro.h"

/* Values in one request: the ops take flat objects of a few fields. */
#define MAX_VALUES 64
/* The largest payload of any op (posts, routed messages, objects). */
#define PAYLOAD_MAX 900
_Static_assert(SC_POST_MAX_LEN <= PAYLOAD_MAX &&
                   SC_ROUTE_MAX_LEN <= PAYLOAD_MAX &&
                   SC_OBJECT_MAX_LEN <= PAYLOAD_MAX,
               "a payload buffer is too small");

/* One request being answered. */
typedef struct api_call {
  sc_api_ctx *ctx;
  mj_doc doc;
  const struct api_op *op;
  sc_json j; /* the response, open after its "id" */
  char spec[SC_API_SPEC_MAX + 1];
  int group; /* index in ctx->groups after need_group */
} api_call;

/* An op: its name, the fields it takes besides "op" and "id", and its
 * handler. A handler checks its
 * fields, acts and writes "ok" and its results, or an error; it returns 0
 * or 1 (an error was written). */
typedef struct api_op {
  const char *name;
  const char *fields[6];
  int (*run)(api_call *c);
} api_op;

/* ---- responses ----------------------------------------------------------- */

static void error_body(sc_json *j, const char *code, const char *message) {
  sc_json_key(j, "error");
  sc_json_obj_begin(j);
  sc_json_key(j, "code");
  sc_json_str(j, code);
  sc_json_key(j, "message");
  sc_json_str(j, message);
  sc_json_obj_end(j);
}

static int fail(api_call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(api_call *c, const char *code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  error_body(&c->j, code, msg);
  return 1;
}

static int ok(api_call *c) {
  sc_json_key(&c->j, "ok");
  sc_json_bool(&c->j, 1);
  return 0;
}

void sc_api_error_line(sc_textbuf *out, const char *code, const char *message) {
  sc_json j;
  sc_json_init(&j, out);
  sc_json_obj_begin(&j);
  error_body(&j, code, message);
  sc_json_obj_end(&j);
  sc_textbuf_append(out, "\n", 1);
}

/* An error of the core, in the words of op |what| ("post"). */
static int fail_core(api_call *c, int rc, const char *what) {
  switch (rc) {
  case SC_ERR_MALFORMED:
    return fail(c, "bad_group", "malformed group spec");
  case SC_ERR_NOT_FOUND:
    return fail(c, "not_joined", "the group is not joined");
  case SC_ERR_STATE:
    return fail(c, "not_allowed", "the group's spec does not allow %s", what);
  case SC_ERR_LIMIT:
    return fail(c, "limit", "%s: %s", what, sc_strerror(rc));
  case SC_ERR_CLOSED:
    return fail(c, "closing", "the daemon is shutting down");
  case SC_ERR_BUSY:
    return fail(c, "busy", "%s: the link's queue is full; try again", what);
  default:
    return fail(c, "internal", "%s: %s", what, sc_strerror(rc));
  }
}

/* ---- fields -------------------------------------------------------------- */

/* The value of field |name|, or MJ_NONE. */
static size_t field(const api_call *c, const char *name) {
  return mj_get(&c->doc, 0, name);
}

static int fail_type(api_call *c, const char *name, const char *type) {
  return fail(c, "bad_request", "field \"%s\" must be %s", name, type);
}

/* Decodes the string field |name| into |out| (|cap| bytes, NUL added).
 * Returns its length, or -1 after writing an error: missing, not a
 * string, longer than |cap| - 1 or holding a NUL. */
static sc_ssize need_string(api_call *c, const char *name, char *out,
                            size_t cap) {
  size_t v = field(c, name);
  sc_ssize n;
  if (v == MJ_NONE) {
    fail(c, "bad_request", "missing field \"%s\"", name);
    return -1;
  }
  n = mj_string(&c->doc, v, out, cap);
  if (n == SC_ERR_INVALID_ARG) {
    fail_type(c, name, "a string");
    return -1;
  }
  if (n < 0 || strlen(out) != (size_t)n) {
    fail(c, "bad_request", "field \"%s\" is too long or holds a NUL", name);
    return -1;
  }
  return n;
}

/* Resolves field "group" to a joined group (c->group, c->spec). Returns 0,
 * or 1 after writing an error. */
static int need_group(api_call *c) {
  if (need_string(c, "group", c->spec, sizeof(c->spec)) < 0) {
    return 1;
  }
  c->group = sc_grouptab_find(c->ctx->groups, c->spec);
  if (c->group < 0) {
    return fail(c, "not_joined",
                "no group was joined with this spec (name a group by the "
                "spec it was joined with)");
  }
  return 0;
}

/* Reads the payload: "data" (base64) or "text" (a string, as UTF-8),
 * exactly one, at most |max| (<= PAYLOAD_MAX) bytes, into |buf| (room for
 * PAYLOAD_MAX + 1). Returns 0, or 1 after writing an error. */
static int need_payload(api_call *c, size_t max, uint8_t *buf, size_t *len) {
  char b64[(PAYLOAD_MAX + 2) / 3 * 4 + 8];
  size_t d = field(c, "data"), t = field(c, "text"), blen;
  const char *end;
  sc_ssize n;
  if ((d == MJ_NONE) == (t == MJ_NONE)) {
    return fail(c, "bad_request", "give either \"data\" or \"text\"");
  }
  if (t != MJ_NONE) {
    n = mj_string(&c->doc, t, (char *)buf, PAYLOAD_MAX + 1);
    if (n == SC_ERR_INVALID_ARG) {
      return fail_type(c, "text", "a string");
    }
    if (n < 0 || (size_t)n > max) {
      return fail(c, "too_large", "at most %zu bytes", max);
    }
    *len = (size_t)n;
    return 0;
  }
  n = mj_string(&c->doc, d, b64, sizeof(b64));
  if (n == SC_ERR_INVALID_ARG) {
    return fail_type(c, "data", "a base64 string");
  }
  if (n < 0) {
    return fail(c, "too_large", "at most %zu bytes", max);
  }
  blen = (size_t)n;
  if (blen % 4 != 0) {
    return fail(c, "bad_base64", "\"data\" is not padded base64");
  }
  /* Whole groups of four carry three bytes, less the padding. */
  if (blen / 4 * 3 - (blen > 0 && b64[blen - 1] == '=') -
          (blen > 1 && b64[blen - 2] == '=') >
      max) {
    return fail(c, "too_large", "at most %zu bytes", max);
  }
  if (sodium_base642bin(buf, PAYLOAD_MAX, b64, blen, NULL, len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64 + blen) {
    return fail(c, "bad_base64", "\"data\" is not valid base64");
  }
  return 0;
}

/* ---- ops ----------------------------------------------------------------- */

static int op_ping(api_call *c) {
  char hex[SC_PEER_ID_HEXLEN];
  ok(c);
  sc_json_key(&c->j, "peer_id");
  sc_json_str(&c->j,
              sc_hex(hex, sc_node_peer_id(c->ctx->node), SC_PEER_ID_LEN));
  return 0;
}

static int op_join(api_call *c) {
  char hex[2 * SC_GROUP_ID_BYTES + 1];
  int rc;
  if (need_string(c, "group", c->spec, sizeof(c->spec)) < 0) {
    return 1;
  }
  rc = sc_grouptab_join(c->ctx->groups, c->ctx->node, c->spec, c->ctx->now);
  if (rc == SC_ERR_STATE) {
    return fail(c, "already_joined", "the group is joined already");
  }
  if (rc == SC_ERR_LIMIT) {
    return fail(c, "limit", "too many groups (at most %d)", SC_GROUPTAB_MAX);
  }
  if (rc < 0) {
    return fail_core(c, rc, "join");
  }
  if (c->ctx->log != NULL) {
    sc_logger_log(c->ctx->log, SC_LOG_INFO, "group %s: joined through the API",
                  c->ctx->groups->names[rc]);
  }
  ok(c);
  sc_json_key(&c->j, "index");
  sc_json_u64(&c->j, (uint64_t)rc);
  sc_json_key(&c->j, "group_id");
  sc_json_str(&c->j, sc_hex(hex, c->ctx->groups->ids[rc], SC_GROUP_ID_BYTES));
  return 0;
}

static int op_leave(api_call *c) {
  if (need_group(c) != 0) {
    return 1;
  }
  if (c->ctx->log != NULL) {
    sc_logger_log(c->ctx->log, SC_LOG_INFO, "group %s: left through the API",
                  c->ctx->groups->names[c->group]);
  }
  if (sc_grouptab_leave(c->ctx->groups, c->ctx->node, c->spec, c->ctx->now) !=
      0) {
    return fail(c, "internal", "the core did not know the group");
  }
  return ok(c);
}

static int op_post(api_call *c) {
  uint8_t buf[PAYLOAD_MAX + 1];
  size_t len = 0;
  int rc;
  if (need_group(c) != 0 || need_payload(c, SC_POST_MAX_LEN, buf, &len) != 0) {
    return 1;
  }
  rc = sc_node_post(c->ctx->node, c->spec, buf, len, c->ctx->now);
  return rc != 0 ? fail_core(c, rc, "posting") : ok(c);
}

/* Reads the string field |name|, which must be one of the |n| words of
 * |words|, into |*k| (its index). Returns 0, or 1 after writing an error. */
static int need_word(api_call *c, const char *name, const char *const *words,
                     size_t n, size_t *k) {
  char w[32];
  if (need_string(c, name, w, sizeof(w)) < 0) {
    return 1;
  }
  for (*k = 0; *k < n; (*k)++) {
    if (strcmp(w, words[*k]) == 0) {
      return 0;
    }
  }
  return fail(c, "bad_request", "field \"%s\" must be \"%s\" or \"%s\"", name,
              words[0], words[1]);
}

static int op_receive_mode(api_call *c) {
  static const char *const modes[] = {"exact", "nearest"};
  size_t k;
  int rc;
  if (need_group(c) != 0 || need_word(c, "mode", modes, 2, &k) != 0) {
    return 1;
  }
  rc = sc_node_set_receive_mode(c->ctx->node, c->spec,
                                k == 0 ? SC_RECEIVE_EXACT : SC_RECEIVE_NEAREST);
  return rc != 0 ? fail_core(c, rc, "routing") : ok(c);
}

static int op_route(api_call *c) {
  char hex[2 * SC_GROUP_ADDR_BYTES + 2];
  uint8_t target[SC_GROUP_ADDR_BYTES], buf[PAYLOAD_MAX + 1];
  size_t len = 0, bin = 0;
  int rc;
  if (need_group(c) != 0 || need_string(c, "address", hex, sizeof(hex)) < 0) {
    return 1;
  }
  if (sodium_hex2bin(target, sizeof(target), hex, strlen(hex), NULL, &bin,
                     NULL) != 0 ||
      bin != sizeof(target) || strlen(hex) != 2 * sizeof(target)) {
    return fail(c, "bad_request", "\"address\" must be 64 hex digits");
  }
  if (need_payload(c, SC_ROUTE_MAX_LEN, buf, &len) != 0) {
    return 1;
  }
  rc = sc_node_route(c->ctx->node, c->spec, target, buf, len, c->ctx->now);
  return rc != 0 ? fail_core(c, rc, "routing") : ok(c);
}

static int op_route_neighbor(api_call *c) {
  static const char *const dirs[] = {"up", "down"};
  uint8_t buf[PAYLOAD_MAX + 1];
  size_t len = 0, k;
  int rc;
  if (need_group(c) != 0 || need_word(c, "direction", dirs, 2, &k) != 0 ||
      need_payload(c, SC_ROUTE_MAX_LEN, buf, &len) != 0) {
    return 1;
  }
  rc = sc_node_route_neighbor(c->ctx->node, c->spec,
                              k == 0 ? SC_ROUTE_UP : SC_ROUTE_DOWN, buf, len,
                              c->ctx->now);
  if (rc == SC_ERR_NOT_FOUND) {
    return fail(c, "not_found", "no member link %s the ring", dirs[k]);
  }
  return rc != 0 ? fail_core(c, rc, "routing") : ok(c);
}

/* Reads the number field |name|, a whole number from 0 to 2^53 (what a
 * JSON number holds exactly), into |*v|. Missing: |*v| = |dflt| when
 * |dflt| is not UINT64_MAX, else an error. Returns 0, or 1 after writing
 * an error. */
static int need_index(api_call *c, const char *name, uint64_t dflt,
                      uint64_t *v) {
  size_t f = field(c, name);
  double d;
  if (f == MJ_NONE && dflt != UINT64_MAX) {
    *v = dflt;
    return 0;
  }
  if (f == MJ_NONE) {
    return fail(c, "bad_request", "missing field \"%s\"", name);
  }
  if (mj_type(&c->doc, f) != MJ_NUMBER || mj_number(&c->doc, f, &d) != 0 ||
      d < 0 || d > 9007199254740992.0 || d != (double)(uint64_t)d) {
    return fail_type(c, name, "a whole number from 0 to 2^53");
  }
  *v = (uint64_t)d;
  return 0;
}

static int op_strategy(api_call *c) {
  static const char *const names[] = {"lowest_first", "rarest_first"};
  size_t k;
  int rc;
  if (need_group(c) != 0 || need_word(c, "strategy", names, 2, &k) != 0) {
    return 1;
  }
  rc = sc_node_set_replication(c->ctx->node, c->spec,
                               k == 0 ? SC_REPL_LOWEST_FIRST
                                      : SC_REPL_RAREST_FIRST);
  return rc != 0 ? fail_core(c, rc, "replication") : ok(c);
}

static int op_want(api_call *c) {
  uint64_t first, count, want = 1;
  size_t w = field(c, "want");
  int rc;
  if (need_group(c) != 0 || need_index(c, "first", UINT64_MAX, &first) != 0 ||
      need_index(c, "count", UINT64_MAX, &count) != 0) {
    return 1;
  }
  if (w != MJ_NONE && mj_type(&c->doc, w) != MJ_TRUE &&
      mj_type(&c->doc, w) != MJ_FALSE) {
    return fail_type(c, "want", "true or false");
  }
  want = w == MJ_NONE || mj_type(&c->doc, w) == MJ_TRUE;
  rc = sc_node_object_want(c->ctx->node, c->spec, first, count, (int)want,
                           c->ctx->now);
  if (rc == SC_ERR_INVALID_ARG) {
    return fail(c, "bad_request", "\"count\" is 0 or the range wraps");
  }
  return rc != 0 ? fail_core(c, rc, "replication") : ok(c);
}

static int op_write(api_call *c) {
  uint8_t buf[PAYLOAD_MAX + 1];
  uint64_t index;
  size_t len = 0;
  int rc;
  if (need_group(c) != 0 || need_index(c, "index", UINT64_MAX, &index) != 0 ||
      need_payload(c, SC_OBJECT_MAX_LEN, buf, &len) != 0) {
    return 1;
  }
  rc =
      sc_node_object_write(c->ctx->node, c->spec, index, buf, len, c->ctx->now);
  return rc != 0 ? fail_core(c, rc, "replication") : ok(c);
}

/* read and have: the object |index|, with its bytes for read. */
static int read_object(api_call *c, int with_data) {
  uint8_t buf[PAYLOAD_MAX + 1];
  char b64[sodium_base64_ENCODED_LEN(PAYLOAD_MAX + 1,
                                     sodium_base64_VARIANT_ORIGINAL)];
  uint64_t index;
  size_t len = 0;
  int rc;
  if (need_group(c) != 0 || need_index(c, "index", UINT64_MAX, &index) != 0) {
    return 1;
  }
  rc =
      sc_node_object_read(c->ctx->node, c->spec, index, buf, sizeof(buf), &len);
  if (rc == SC_ERR_NOT_FOUND && !with_data) {
    len = 0;
  } else if (rc == SC_ERR_NOT_FOUND) {
    return fail(c, "not_found", "no object %llu here",
                (unsigned long long)index);
  } else if (rc != 0) {
    return fail_core(c, rc, "replication");
  }
  ok(c);
  sc_json_key(&c->j, "index");
  sc_json_u64(&c->j, index);
  if (!with_data) {
    sc_json_key(&c->j, "have");
    sc_json_bool(&c->j, rc == 0);
    sc_json_key(&c->j, "length");
    sc_json_u64(&c->j, len);
    return 0;
  }
  sodium_bin2base64(b64, sizeof(b64), buf, len, sodium_base64_VARIANT_ORIGINAL);
  sc_json_key(&c->j, "data");
  sc_json_str(&c->j, b64);
  return 0;
}

static int op_read(api_call *c) { return read_object(c, 1); }

static int op_have(api_call *c) { return read_object(c, 0); }

static int op_remove(api_call *c) {
  uint64_t index;
  int rc;
  if (need_group(c) != 0 || need_index(c, "index", UINT64_MAX, &index) != 0) {
    return 1;
  }
  rc = sc_node_object_remove(c->ctx->node, c->spec, index, c->ctx->now);
  if (rc == SC_ERR_NOT_FOUND) {
    return fail(c, "not_found", "no object %llu here",
                (unsigned long long)index);
  }
  return rc != 0 ? fail_core(c, rc, "replication") : ok(c);
}

static const char *const event_names[] = {"post", "routed", "object"};

/* Reads "events" (an array of event names; default all) into |*bits|. */
static int need_events(api_call *c, unsigned *bits) {
  size_t v = field(c, "events"), i, k;
  *bits = v == MJ_NONE ? SC_API_EV_ALL : 0;
  if (v != MJ_NONE && mj_type(&c->doc, v) != MJ_ARRAY) {
    return fail_type(c, "events",
                     "an array of \"post\", \"routed\", \"object\"");
  }
  for (i = 0; i < mj_count(&c->doc, v); i++) {
    size_t e = mj_at(&c->doc, v, i);
    for (k = 0; k < SC_ARRAY_LEN(event_names); k++) {
      if (mj_string_eq(&c->doc, e, event_names[k])) {
        break;
      }
    }
    if (k == SC_ARRAY_LEN(event_names)) {
      return fail_type(c, "events",
                       "an array of \"post\", \"routed\", \"object\"");
    }
    *bits |= 1u << k;
  }
  return 0;
}

static sc_api_sub *sub_find(sc_api_subs *subs, const char *spec) {
  size_t i;
  for (i = 0; i < subs->n; i++) {
    if (strcmp(subs->items[i].spec, spec) == 0) {
      return &subs->items[i];
    }
  }
  return NULL;
}

static int op_subscribe(api_call *c) {
  sc_api_subs *subs = c->ctx->subs;
  sc_api_sub *s;
  unsigned bits;
  if (need_group(c) != 0 || need_events(c, &bits) != 0) {
    return 1;
  }
  s = sub_find(subs, c->spec);
  if (s == NULL && subs->n == SC_API_MAX_SUBS) {
    return fail(c, "limit", "at most %d subscriptions a connection",
                SC_API_MAX_SUBS);
  }
  if (s == NULL) {
    s = &subs->items[subs->n++];
    memcpy(s->spec, c->spec, sizeof(s->spec));
  }
  memcpy(s->group_id, c->ctx->groups->ids[c->group], SC_GROUP_ID_BYTES);
  s->events = bits;
  return ok(c);
}

static int op_unsubscribe(api_call *c) {
  sc_api_subs *subs = c->ctx->subs;
  sc_api_sub *s;
  if (need_string(c, "group", c->spec, sizeof(c->spec)) < 0) {
    return 1;
  }
  s = sub_find(subs, c->spec);
  if (s == NULL) {
    return fail(c, "not_found", "no subscription to this group");
  }
  *s = subs->items[--subs->n];
  return ok(c);
}

/* Every op of doc/api.md. */
static const api_op ops[] = {
    {"ping", {NULL}, op_ping},
    {"join", {"group"}, op_join},
    {"leave", {"group"}, op_leave},
    {"post", {"group", "data", "text"}, op_post},
    {"subscribe", {"group", "events"}, op_subscribe},
    {"unsubscribe", {"group"}, op_unsubscribe},
    {"receive_mode", {"group", "mode"}, op_receive_mode},
    {"route", {"group", "address", "data", "text"}, op_route},
    {"route_neighbor",
     {"group", "direction", "data", "text"},
     op_route_neighbor},
    {"strategy", {"group", "strategy"}, op_strategy},
    {"want", {"group", "first", "count", "want"}, op_want},
    {"write", {"group", "index", "data", "text"}, op_write},
    {"read", {"group", "index"}, op_read},
    {"have", {"group", "index"}, op_have},
    {"remove", {"group", "index"}, op_remove},
};

/* ---- requests ------------------------------------------------------------ */

static int op_takes(const api_op *op, const char *key) {
  size_t i;
  if (strcmp(key, "op") == 0 || strcmp(key, "id") == 0) {
    return 1;
  }
  for (i = 0; i < SC_ARRAY_LEN(op->fields) && op->fields[i] != NULL; i++) {
    if (strcmp(op->fields[i], key) == 0) {
      return 1;
    }
  }
  return 0;
}

/* Every member of the request must be a field of its op, once. */
static int check_fields(api_call *c) {
  const mj_doc *d = &c->doc;
  size_t m, key = 1;
  for (m = 0; m < d->v[0].count; m++) {
    char name[32];
    sc_ssize n = mj_string(d, key, name, sizeof(name));
    if (n < 0 || strlen(name) != (size_t)n || !op_takes(c->op, name)) {
      char shown[64];
      (void)mj_string(d, key, shown, sizeof(shown));
      return fail(c, "bad_request", "op %s takes no field \"%s\"", c->op->name,
                  shown);
    }
    /* mj_get finds the first member of that name. */
    if (mj_get(d, 0, name) != key + 1) {
      return fail(c, "bad_request", "field \"%s\" given twice", name);
    }
    key = d->v[key + 1].end;
  }
  return 0;
}

/* Finds the op and runs it. Returns 0 or 1 (an error was written). */
static int dispatch(api_call *c) {
  char name[32];
  size_t v = field(c, "op"), i;
  sc_ssize n;
  if (v == MJ_NONE) {
    return fail(c, "bad_request", "missing field \"op\"");
  }
  n = mj_string(&c->doc, v, name, sizeof(name));
  if (n == SC_ERR_INVALID_ARG) {
    return fail_type(c, "op", "a string");
  }
  for (i = 0; i < SC_ARRAY_LEN(ops) && n >= 0; i++) {
    if (strcmp(ops[i].name, name) == 0 && strlen(name) == (size_t)n) {
      c->op = &ops[i];
      break;
    }
  }
  if (c->op == NULL) {
    char shown[64];
    (void)mj_string(&c->doc, v, shown, sizeof(shown));
    return fail(c, "unknown_op", "no op \"%s\"", shown);
  }
  if (check_fields(c) != 0) {
    return 1;
  }
  return c->op->run(c);
}

static int blank(const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
      return 0;
    }
  }
  return 1;
}

int sc_api_handle(sc_api_ctx *ctx, const char *line, size_t len,
                  sc_textbuf *out) {
  mj_value vals[MAX_VALUES];
  api_call c;
  size_t id;
  int rc;
  if (blank(line, len)) {
    return 0;
  }
  memset(&c, 0, sizeof(c));
  c.ctx = ctx;
  c.group = -1;
  sc_json_init(&c.j, out);
  sc_json_obj_begin(&c.j);
  if (len > SC_API_MAX_LINE) {
    rc = fail(&c, "line_too_long", "a request is at most 65536 bytes");
  } else if ((rc = mj_parse(&c.doc, line, len, vals, MAX_VALUES)) != 0) {
    rc =
        rc == SC_ERR_LIMIT
            ? fail(&c, "bad_request", "too many values or too deep")
            : fail(&c, "invalid_json", "the line is not one strict JSON value");
  } else if (mj_type(&c.doc, 0) != MJ_OBJECT) {
    rc = fail(&c, "bad_request", "a request is a JSON object");
  } else if ((id = field(&c, "id")) != MJ_NONE &&
             ((mj_type(&c.doc, id) != MJ_STRING &&
               mj_type(&c.doc, id) != MJ_NUMBER) ||
              c.doc.v[id].len > SC_API_ID_MAX)) {
    rc = fail(&c, "bad_request",
              "\"id\" must be a string or a number of at most 128 bytes");
  } else {
    if (id != MJ_NONE) {
      /* The id's own text, quotes included: it parsed as strict JSON. */
      size_t q = mj_type(&c.doc, id) == MJ_STRING;
      sc_json_key(&c.j, "id");
      sc_json_raw(&c.j, line + c.doc.v[id].start - q, c.doc.v[id].len + 2 * q);
    }
    rc = dispatch(&c);
  }
  sc_json_obj_end(&c.j);
  sc_textbuf_append(out, "\n", 1);
  return out->oom ? -1 : rc;
}

/* ---- events -------------------------------------------------------------- */

void sc_api_event_post(sc_api_event *e, const sc_post_event *ev) {
  memset(e, 0, sizeof(*e));
  e->kind = SC_API_EV_POST;
  e->group_id = ev->group_id;
  e->from = ev->origin;
  e->number = ev->number;
  e->data = ev->data;
  e->len = ev->len;
}

void sc_api_event_routed(sc_api_event *e, const sc_route_event *ev) {
  memset(e, 0, sizeof(*e));
  e->kind = SC_API_EV_ROUTED;
  e->group_id = ev->group_id;
  e->from = ev->origin;
  e->target = ev->target;
  e->hops = ev->hops;
  e->data = ev->data;
  e->len = ev->len;
}

void sc_api_event_object(sc_api_event *e, const sc_object_event *ev) {
  memset(e, 0, sizeof(*e));
  e->kind = SC_API_EV_OBJECT;
  e->group_id = ev->group_id;
  e->from = ev->from;
  e->index = ev->index;
  e->data = ev->data;
  e->len = ev->len;
}

static void json_hex(sc_json *j, const char *key, const uint8_t *b,
                     size_t len) {
  char hex[2 * 32 + 1];
  sc_json_key(j, key);
  sc_json_str(j, sc_hex(hex, b, len));
}

void sc_api_event_line(sc_textbuf *out, const char *spec,
                       const sc_api_event *e) {
  char b64[(PAYLOAD_MAX + 2) / 3 * 4 + 1];
  size_t len = SC_MIN(e->len, (size_t)PAYLOAD_MAX);
  unsigned k = e->kind == SC_API_EV_POST     ? 0
               : e->kind == SC_API_EV_ROUTED ? 1
                                             : 2;
  sc_json j;
  sc_json_init(&j, out);
  sc_json_obj_begin(&j);
  sc_json_key(&j, "event");
  sc_json_str(&j, event_names[k]);
  sc_json_key(&j, "group");
  sc_json_str(&j, spec);
  json_hex(&j, "from", e->from, SC_PEER_ID_LEN);
  if (e->kind == SC_API_EV_POST) {
    sc_json_key(&j, "number");
    sc_json_u64(&j, e->number);
  } else if (e->kind == SC_API_EV_ROUTED) {
    json_hex(&j, "target", e->target, SC_GROUP_ADDR_BYTES);
    sc_json_key(&j, "hops");
    sc_json_u64(&j, e->hops);
  } else {
    sc_json_key(&j, "index");
    sc_json_u64(&j, e->index);
  }
  sc_json_key(&j, "data");
  sc_json_str(&j, sodium_bin2base64(b64, sizeof(b64), e->data, len,
                                    sodium_base64_VARIANT_ORIGINAL));
  sc_json_obj_end(&j);
  sc_textbuf_append(out, "\n", 1);
}

void sc_api_dropped_line(sc_textbuf *out, uint64_t count) {
  sc_json j;
  sc_json_init(&j, out);
  sc_json_obj_begin(&j);
  sc_json_key(&j, "event");
  sc_json_str(&j, "dropped");
  sc_json_key(&j, "count");
  sc_json_u64(&j, count);
  sc_json_obj_end(&j);
  sc_textbuf_append(out, "\n", 1);
}
