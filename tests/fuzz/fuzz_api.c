/*
 * fuzz_api.c: the local API's request parser and ops (src/shell/api.c)
 * fed arbitrary lines, as the API socket would after framing.
 *
 * Each input is split at '\n' into request lines, answered in turn by one
 * node (no network) that has joined "demo" and "quiet?features=multicast",
 * so that joins, leaves, posts and subscriptions take effect and later
 * lines see them. Checked: each answer is nothing (a blank line) or
 * exactly one line of strict JSON, an object with "ok": true or an
 * "error" with a string "code"; the event lines of every subscription
 * left at the end are strict JSON too. Nothing may crash or leak.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fuzz_common.h"
#include "minijson.h"

static void check(int ok) {
  if (!ok) {
    abort(); /* the API broke its own contract */
  }
}

static int cb_send(void *user, const sc_addr *to, const uint8_t *data,
                   size_t len) {
  (void)user;
  (void)to;
  (void)data;
  (void)len;
  return 0;
}

/* Deterministic: the same input runs the same way. */
static void cb_rand(void *user, uint8_t *buf, size_t len) {
  (void)user;
  memset(buf, 0x42, len);
}

/* |text| of |len| bytes is one line of strict JSON: an answer (with "ok":
 * true or an "error" with a "code") or an event (with "event"). */
static void check_line(const char *text, size_t len, int answer) {
  mj_value *v;
  mj_doc doc;
  size_t err;
  check(len > 0 && text[len - 1] == '\n');
  check(memchr(text, '\n', len - 1) == NULL);
  v = malloc(len * sizeof(*v));
  check(v != NULL);
  check(mj_parse(&doc, text, len - 1, v, len) == 0);
  check(mj_type(&doc, 0) == MJ_OBJECT);
  if (answer) {
    err = mj_get(&doc, 0, "error");
    check(mj_type(&doc, mj_get(&doc, 0, "ok")) == MJ_TRUE ||
          mj_type(&doc, mj_get(&doc, err, "code")) == MJ_STRING);
  } else {
    check(mj_type(&doc, mj_get(&doc, 0, "event")) == MJ_STRING);
  }
  free(v);
}

/* Every subscription's event line for a post in its group. */
static void check_events(const sc_api_subs *subs) {
  static const uint8_t payload[] = "\x00\xff hello \"\\\n";
  uint8_t origin[SC_PEER_ID_LEN];
  sc_post_event pe;
  sc_api_event e;
  sc_textbuf out;
  size_t i;
  memset(origin, 0xab, sizeof(origin));
  for (i = 0; i < subs->n; i++) {
    memcpy(pe.group_id, subs->items[i].group_id, SC_GROUP_ID_BYTES);
    memcpy(pe.origin, origin, SC_PEER_ID_LEN);
    pe.number = i;
    pe.data = payload;
    pe.len = sizeof(payload) - 1;
    sc_api_event_post(&e, &pe);
    sc_textbuf_init(&out, 0);
    sc_api_event_line(&out, subs->items[i].spec, &e);
    check(!out.oom);
    check_line(out.data, out.len, 0);
    sc_textbuf_free(&out);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data, *end = p + size;
  sc_settings st;
  sc_callbacks cbs;
  sc_grouptab groups;
  sc_api_subs subs;
  sc_api_ctx ctx;
  sc_node *node;
  check(sodium_init() >= 0);
  sc_settings_default(&st);
  memset(st.static_secret, 7, SC_KEY_LEN);
  memset(&cbs, 0, sizeof(cbs));
  cbs.send = cb_send;
  cbs.rand = cb_rand;
  check(sc_node_new(&node, &st, &cbs, NULL, NULL, 0) == 0);
  memset(&groups, 0, sizeof(groups));
  memset(&subs, 0, sizeof(subs));
  check(sc_grouptab_join(&groups, node, "demo", 0) == 0);
  check(sc_grouptab_join(&groups, node, "quiet?features=multicast", 0) == 1);
  ctx.node = node;
  ctx.groups = &groups;
  ctx.subs = &subs;
  ctx.now = 0;
  ctx.log = NULL;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    sc_textbuf out;
    int rc;
    sc_textbuf_init(&out, 0);
    rc = sc_api_handle(&ctx, p, len, &out);
    check(rc == 0 || rc == 1);
    if (out.len > 0) {
      check_line(out.data, out.len, 1);
    }
    sc_textbuf_free(&out);
    ctx.now += 1000000; /* 1 ms a request */
    p += len + (nl != NULL);
  }
  check(subs.n <= SC_API_MAX_SUBS);
  check_events(&subs);
  sc_grouptab_free(&groups);
  sc_node_del(node);
  return 0;
}

void fuzz_seeds(fuzz_emit_fn emit, void *arg) {
  static const char *const seeds[] = {
      "{\"op\":\"ping\",\"id\":1}",
      "{\"op\":\"post\",\"group\":\"demo\",\"text\":\"hello\",\"id\":\"a\"}",
      "{\"op\":\"post\",\"group\":\"demo\",\"data\":\"aGVsbG8=\"}",
      "{\"op\":\"post\",\"group\":\"quiet?features=multicast\",\"text\":\"x\"}",
      "{\"op\":\"post\",\"group\":\"demo\",\"data\":\"aGk\"}",
      "{\"op\":\"subscribe\",\"group\":\"demo\",\"events\":[\"post\"]}\n"
      "{\"op\":\"unsubscribe\",\"group\":\"demo\"}\n"
      "{\"op\":\"subscribe\",\"group\":\"demo\"}",
      "{\"op\":\"join\",\"group\":\"new?features=posting&secret=s\"}\n"
      "{\"op\":\"subscribe\",\"group\":\"new?features=posting&secret=s\"}\n"
      "{\"op\":\"leave\",\"group\":\"new?features=posting&secret=s\"}\n"
      "{\"op\":\"leave\",\"group\":\"demo\"}",
      "{\"op\":\"route\",\"group\":\"demo\",\"address\":\"00\",\"text\":\"x\"}",
      "{\"op\":\"post\",\"op\":\"post\",\"gruop\":1}",
      "{\"id\":{\"x\":[1,2,3]},\"op\":\"ping\"}",
      "[\"op\",\"ping\"]\n{bad json\n\n   \n{\"op\":\"\\u0000\"}",
      "{\"op\":\"join\",\"group\":\"bad?spec=1\",\"id\":-0.5e+7}",
      "{\"op\":\"post\",\"group\":\"demo\",\"text\":\"\\ud83d\\ude00 "
      "caf\xc3\xa9\"}",
  };
  size_t i;
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    emit(arg, (const uint8_t *)seeds[i], strlen(seeds[i]));
  }
}
