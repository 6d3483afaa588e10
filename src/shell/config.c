/*
 * config.c: command-line options and the config file of stratocastd.
 *
 * The config file has one "key = value" per line; blank lines and lines
 * whose first non-blank character is '#' are ignored. Keys are the long
 * option names without dashes. A key other than bootstrap and group may
 * appear once.
 *
 * The stream options are checked here as far as they can be without I/O:
 * names, spec syntax (iospec.h), numbers, and which options need which.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "iospec.h"
#include "log.h"
#include "sc_macro.h"
#include "stratocast.h"
#include "streamkey.h"
#include "udp.h"

enum opt_id {
  OPT_LISTEN,
  OPT_STATE_DIR,
  OPT_STATS_SOCKET,
  OPT_API_SOCKET,
  OPT_BOOTSTRAP,
  OPT_GROUP,
  OPT_LOG_LEVEL,
  OPT_LOG_TO,
  OPT_PUBLISH,
  OPT_SOURCE,
  OPT_STREAM_KEY,
  OPT_RATE,
  OPT_PLAY,
  OPT_SINK,
  OPT_PUBLISHER,
  OPT_WINDOW,
  OPT_METRICS_LISTEN,
  OPT_MAX_SESSIONS,
  OPT_PUSH_CAPACITY,
  OPT_VALUES, /* the options above keep their value in a layer */
  OPT_CONFIG,
  OPT_HELP,
  OPT_VERSION,
};

struct opt_def {
  const char *name; /* long option and config key */
  int id;           /* enum opt_id */
  int has_arg;
  int in_file; /* allowed as a config file key */
  /* Checks a value of option |id| as far as it can without I/O; NULL:
   * anything non-empty. Returns 0, or -1 with a message in |err|. */
  int (*check)(int id, const char *value, const char *origin, char *err,
               size_t errlen);
};

static int check_log_level(int id, const char *value, const char *origin,
                           char *err, size_t errlen);
static int check_log_to(int id, const char *value, const char *origin,
                        char *err, size_t errlen);
static int check_stream_value(int id, const char *value, const char *origin,
                              char *err, size_t errlen);
static int check_metrics_listen(int id, const char *value, const char *origin,
                                char *err, size_t errlen);
static int check_limit(int id, const char *value, const char *origin, char *err,
                       size_t errlen);

static const struct opt_def opt_defs[] = {
    {"listen", OPT_LISTEN, 1, 1, NULL},
    {"state-dir", OPT_STATE_DIR, 1, 1, NULL},
    {"stats-socket", OPT_STATS_SOCKET, 1, 1, NULL},
    {"api-socket", OPT_API_SOCKET, 1, 1, NULL},
    {"bootstrap", OPT_BOOTSTRAP, 1, 1, NULL},
    {"group", OPT_GROUP, 1, 1, NULL},
    {"log-level", OPT_LOG_LEVEL, 1, 1, check_log_level},
    {"log-to", OPT_LOG_TO, 1, 1, check_log_to},
    {"publish", OPT_PUBLISH, 1, 1, check_stream_value},
    {"source", OPT_SOURCE, 1, 1, check_stream_value},
    {"stream-key", OPT_STREAM_KEY, 1, 1, NULL},
    {"rate", OPT_RATE, 1, 1, check_stream_value},
    {"play", OPT_PLAY, 1, 1, check_stream_value},
    {"sink", OPT_SINK, 1, 1, check_stream_value},
    {"publisher", OPT_PUBLISHER, 1, 1, check_stream_value},
    {"window", OPT_WINDOW, 1, 1, check_stream_value},
    {"metrics-listen", OPT_METRICS_LISTEN, 1, 1, check_metrics_listen},
    {"max-sessions", OPT_MAX_SESSIONS, 1, 1, check_limit},
    {"push-capacity", OPT_PUSH_CAPACITY, 1, 1, check_limit},
    {"config", OPT_CONFIG, 1, 0, NULL},
    {"help", OPT_HELP, 0, 0, NULL},
    {"version", OPT_VERSION, 0, 0, NULL},
};

/* What one source (the command line or the file) said. */
struct layer {
  sc_config_value single[OPT_VALUES]; /* by enum opt_id */
  sc_config_list bootstrap;
  sc_config_list groups;
  char *config_file;
  int action;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p != NULL) {
    memcpy(p, s, n);
  }
  return p;
}

static void value_free(sc_config_value *v) {
  free(v->value);
  free(v->origin);
  v->value = NULL;
  v->origin = NULL;
}

static void list_free(sc_config_list *list) {
  size_t i;
  for (i = 0; i < list->n; i++) {
    value_free(&list->items[i]);
  }
  free(list->items);
  list->items = NULL;
  list->n = 0;
}

/* Appends an empty value to |list|; NULL when out of memory. */
static sc_config_value *list_grow(sc_config_list *list) {
  sc_config_value *grown =
      realloc(list->items, (list->n + 1) * sizeof(*list->items));
  if (grown == NULL) {
    return NULL;
  }
  list->items = grown;
  grown[list->n].value = NULL;
  grown[list->n].origin = NULL;
  return &grown[list->n++];
}

/* Moves |from| into |to|, which must be empty. */
static void list_take(sc_config_list *to, sc_config_list *from) {
  *to = *from;
  from->items = NULL;
  from->n = 0;
}

static void layer_free(struct layer *l) {
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(l->single); i++) {
    value_free(&l->single[i]);
  }
  list_free(&l->bootstrap);
  list_free(&l->groups);
  free(l->config_file);
  memset(l, 0, sizeof(*l));
}

static const struct opt_def *opt_find(const char *name, size_t len) {
  size_t i;
  for (i = 0; i < SC_ARRAY_LEN(opt_defs); i++) {
    if (strlen(opt_defs[i].name) == len &&
        strncmp(opt_defs[i].name, name, len) == 0) {
      return &opt_defs[i];
    }
  }
  return NULL;
}

/* Parses a decimal number of at most 12 digits at |*p|, advancing it.
 * Returns 0, or -1 if there is none. */
static int parse_digits(const char **p, uint64_t *out) {
  uint64_t v = 0;
  int n = 0;
  for (; **p >= '0' && **p <= '9' && n < 12; (*p)++, n++) {
    v = v * 10 + (uint64_t)(**p - '0');
  }
  *out = v;
  return n == 0 || (**p >= '0' && **p <= '9') ? -1 : 0;
}

/* A rate in bits/s: "2500000", "2500k" or "3M" (whole numbers only). */
static int parse_rate(const char *s, uint64_t *bps) {
  uint64_t v;
  if (parse_digits(&s, &v) != 0 || v == 0) {
    return -1;
  }
  if (*s == 'k') {
    v *= 1000;
    s++;
  } else if (*s == 'M') {
    v *= 1000000;
    s++;
  }
  *bps = v;
  return *s == '\0' && v <= SC_CONFIG_MAX_RATE ? 0 : -1;
}

/* "8s" or "500ms", within SC_CONFIG_MIN_WINDOW..SC_CONFIG_MAX_WINDOW. */
static int parse_window(const char *s, uint64_t *ns) {
  uint64_t v;
  /* The bound keeps the products below from overflowing. */
  if (parse_digits(&s, &v) != 0 || v > 1000000) {
    return -1;
  }
  if (strcmp(s, "s") == 0) {
    v *= SC_SEC;
  } else if (strcmp(s, "ms") == 0) {
    v *= SC_MS;
  } else {
    return -1;
  }
  *ns = v;
  return 0;
}

/* A stream name: SC_CONFIG_STREAM_NAME_MAX bytes at most, no control
 * characters. */
static int check_stream_name(const char *value, const char *origin, char *err,
                             size_t errlen) {
  const unsigned char *p;
  size_t len = strlen(value);
  if (len > SC_CONFIG_STREAM_NAME_MAX) {
    seterr(err, errlen, "%s: stream name too long (%zu bytes, at most %d)",
           origin, len, SC_CONFIG_STREAM_NAME_MAX);
    return -1;
  }
  for (p = (const unsigned char *)value; *p != '\0'; p++) {
    if (*p < 0x20 || *p == 0x7f) {
      seterr(err, errlen, "%s: stream name contains a control character",
             origin);
      return -1;
    }
  }
  return 0;
}

/* Checks the syntax of a stream option's |value|. */
static int check_stream_value(int id, const char *value, const char *origin,
                              char *err, size_t errlen) {
  char why[256];
  sc_iospec spec;
  uint8_t key[SC_STREAMKEY_PUBLIC_LEN];
  uint64_t n;
  switch (id) {
  case OPT_PUBLISH:
  case OPT_PLAY:
    return check_stream_name(value, origin, err, errlen);
  case OPT_SOURCE:
  case OPT_SINK:
    if ((id == OPT_SOURCE
             ? sc_iospec_parse_source(&spec, value, why, sizeof(why))
             : sc_iospec_parse_sink(&spec, value, why, sizeof(why))) != 0) {
      seterr(err, errlen, "%s %s: %s", origin, value, why);
      return -1;
    }
    return 0;
  case OPT_RATE:
    if (parse_rate(value, &n) != 0) {
      seterr(err, errlen,
             "%s %s: invalid rate (want whole bits/s from 1 to 10G, with an "
             "optional k or M: 2500k)",
             origin, value);
      return -1;
    }
    return 0;
  case OPT_PUBLISHER:
    if (sc_streamkey_parse_hex(key, value) != 0) {
      seterr(err, errlen, "%s %s: not a publisher key (want 64 hex characters)",
             origin, value);
      return -1;
    }
    return 0;
  case OPT_WINDOW:
    if (parse_window(value, &n) != 0 || n < SC_CONFIG_MIN_WINDOW ||
        n > SC_CONFIG_MAX_WINDOW) {
      seterr(err, errlen,
             "%s %s: invalid duration (want 1s to 60s, as 8s or 1500ms)",
             origin, value);
      return -1;
    }
    return 0;
  default:
    return 0;
  }
}

/* --metrics-listen: a numeric ADDR:PORT, as --listen (port 0: any). */
static int check_metrics_listen(int id, const char *value, const char *origin,
                                char *err, size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t sslen;
  char why[256];
  (void)id;
  if (sc_udp_parse_listen(value, &ss, &sslen, why, sizeof(why)) != 0) {
    seterr(err, errlen, "%s %s: %s", origin, value, why);
    return -1;
  }
  return 0;
}

static int check_log_level(int id, const char *value, const char *origin,
                           char *err, size_t errlen) {
  (void)id;
  if (sc_logger_level_parse(value) >= 0) {
    return 0;
  }
  seterr(err, errlen,
         "%s %s: unknown log level (use error, warn, info or debug)", origin,
         value);
  return -1;
}

/* --log-to: stderr, syslog or syslog:PATH with an absolute PATH. */
static int check_log_to(int id, const char *value, const char *origin,
                        char *err, size_t errlen) {
  (void)id;
  if (strcmp(value, "stderr") == 0 || strcmp(value, "syslog") == 0 ||
      (strncmp(value, "syslog:", 7) == 0 && value[7] == '/' &&
       strlen(value + 7) < sizeof(((struct sockaddr_un *)0)->sun_path))) {
    return 0;
  }
  seterr(err, errlen,
         "%s %s: use stderr, syslog or syslog:PATH (an absolute path of at "
         "most 107 bytes)",
         origin, value);
  return -1;
}

/* --max-sessions and --push-capacity: a whole number in their range. */
static int parse_limit(int id, const char *s, uint32_t *out) {
  uint64_t v;
  uint64_t min = id == OPT_MAX_SESSIONS ? SC_CONFIG_MIN_SESSIONS : 0;
  uint64_t max =
      id == OPT_MAX_SESSIONS ? SC_CONFIG_MAX_SESSIONS : SC_PUSH_CAPACITY_MAX;
  if (parse_digits(&s, &v) != 0 || *s != '\0' || v < min || v > max) {
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

static int check_limit(int id, const char *value, const char *origin, char *err,
                       size_t errlen) {
  uint32_t n;
  if (parse_limit(id, value, &n) == 0) {
    return 0;
  }
  if (id == OPT_MAX_SESSIONS) {
    seterr(err, errlen,
           "%s %s: invalid session limit (want a whole number from %d to %d)",
           origin, value, SC_CONFIG_MIN_SESSIONS, SC_CONFIG_MAX_SESSIONS);
  } else {
    seterr(err, errlen,
           "%s %s: invalid push capacity (want a whole number from 0 to %d)",
           origin, value, SC_PUSH_CAPACITY_MAX);
  }
  return -1;
}

/* Records |value| for option |def| in |l|. |dup_is_error| is set for the
 * config file, where a repeated key is a mistake rather than an override. */
static int layer_set(struct layer *l, const struct opt_def *def,
                     const char *value, const char *origin, int dup_is_error,
                     char *err, size_t errlen) {
  sc_config_value *v;
  if (value[0] == '\0') {
    seterr(err, errlen, "%s: empty value", origin);
    return -1;
  }
  if (def->check != NULL &&
      def->check(def->id, value, origin, err, errlen) != 0) {
    return -1;
  }
  if (def->id == OPT_BOOTSTRAP || def->id == OPT_GROUP) {
    v = list_grow(def->id == OPT_BOOTSTRAP ? &l->bootstrap : &l->groups);
    if (v == NULL) {
      seterr(err, errlen, "out of memory");
      return -1;
    }
  } else {
    v = &l->single[def->id];
    if (v->value != NULL && dup_is_error) {
      seterr(err, errlen, "%s: duplicate key (already set at %s)", origin,
             v->origin);
      return -1;
    }
    value_free(v);
  }
  v->value = dupstr(value);
  v->origin = dupstr(origin);
  if (v->value == NULL || v->origin == NULL) {
    seterr(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

/* Handles argv[*i], which starts with "--"; may consume argv[*i + 1]. */
static int parse_long(struct layer *l, int argc, char **argv, int *i, char *err,
                      size_t errlen) {
  const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
  size_t namelen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
  const struct opt_def *def = opt_find(arg, namelen);
  const char *value;
  char origin[64];
  if (def == NULL) {
    seterr(err, errlen, "unknown option '%s' (see --help)", argv[*i]);
    return -1;
  }
  snprintf(origin, sizeof(origin), "--%s", def->name);
  if (!def->has_arg) {
    if (eq != NULL) {
      seterr(err, errlen, "option %s takes no value", origin);
      return -1;
    }
    l->action = def->id == OPT_HELP ? SC_CONFIG_HELP : SC_CONFIG_VERSION;
    return 0;
  }
  if (eq != NULL) {
    value = eq + 1;
  } else if (*i + 1 < argc) {
    value = argv[++*i];
  } else {
    seterr(err, errlen, "option %s needs a value", origin);
    return -1;
  }
  if (def->id == OPT_CONFIG) {
    free(l->config_file);
    l->config_file = dupstr(value);
    if (l->config_file == NULL) {
      seterr(err, errlen, "out of memory");
      return -1;
    }
    return 0;
  }
  return layer_set(l, def, value, origin, 0, err, errlen);
}

static int parse_args(struct layer *l, int argc, char **argv, char *err,
                      size_t errlen) {
  int i;
  for (i = 1; i < argc && l->action == SC_CONFIG_RUN; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0) {
      l->action = SC_CONFIG_HELP;
    } else if (strcmp(a, "-V") == 0) {
      l->action = SC_CONFIG_VERSION;
    } else if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
      if (parse_long(l, argc, argv, &i, err, errlen) != 0) {
        return -1;
      }
    } else if (a[0] == '-') {
      seterr(err, errlen, "unknown option '%s' (see --help)", a);
      return -1;
    } else {
      seterr(err, errlen, "unexpected argument '%s' (see --help)", a);
      return -1;
    }
  }
  return 0;
}

static char *trim(char *s) {
  char *end;
  while (*s == ' ' || *s == '\t') {
    s++;
  }
  end = s + strlen(s);
  while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
                     end[-1] == '\r')) {
    *--end = '\0';
  }
  return s;
}

/* Parses one line of the config file; |where| is "FILE:LINE". */
static int parse_file_line(struct layer *l, char *line, const char *where,
                           char *err, size_t errlen) {
  char *key, *value, *eq, origin[1100];
  const struct opt_def *def;
  key = trim(line);
  if (key[0] == '\0' || key[0] == '#') {
    return 0;
  }
  eq = strchr(key, '=');
  if (eq == NULL) {
    seterr(err, errlen, "%s: expected 'key = value'", where);
    return -1;
  }
  *eq = '\0';
  value = trim(eq + 1);
  key = trim(key);
  if (key[0] == '\0') {
    seterr(err, errlen, "%s: missing key before '='", where);
    return -1;
  }
  def = opt_find(key, strlen(key));
  if (def == NULL || !def->in_file) {
    seterr(err, errlen, "%s: unknown key '%s'", where, key);
    return -1;
  }
  snprintf(origin, sizeof(origin), "%s: %s", where, def->name);
  return layer_set(l, def, value, origin, 1, err, errlen);
}

static int parse_file(struct layer *l, const char *path, char *err,
                      size_t errlen) {
  FILE *fp = fopen(path, "r");
  char *line = NULL, where[1040];
  size_t cap = 0;
  unsigned lineno = 0;
  int rc = 0;
  if (fp == NULL) {
    int e = errno;
    seterr(err, errlen, "--config %s: cannot open: %s", path, strerror(e));
    return -1;
  }
  while (rc == 0 && getline(&line, &cap, fp) >= 0) {
    lineno++;
    snprintf(where, sizeof(where), "%s:%u", path, lineno);
    if (strlen(line) > 4096) {
      seterr(err, errlen, "%s: line too long", where);
      rc = -1;
    } else {
      rc = parse_file_line(l, line, where, err, errlen);
    }
  }
  if (rc == 0 && ferror(fp)) {
    seterr(err, errlen, "--config %s: read error", path);
    rc = -1;
  }
  free(line);
  fclose(fp);
  return rc;
}

/* Moves |*from| into |*to| if |to| is still unset. */
static void value_take(sc_config_value *to, sc_config_value *from) {
  if (to->value == NULL && from->value != NULL) {
    *to = *from;
    from->value = NULL;
    from->origin = NULL;
  }
}

static int value_default(sc_config_value *v, const char *value,
                         const char *origin) {
  if (v->value != NULL) {
    return 0;
  }
  v->value = dupstr(value);
  v->origin = dupstr(origin);
  return v->value != NULL && v->origin != NULL ? 0 : -1;
}

/* Fails with "ORIGIN requires WHAT" when |v| is set and |needed| is not. */
static int require(const sc_config_value *v, int needed, const char *what,
                   char *err, size_t errlen) {
  if (v->value != NULL && !needed) {
    seterr(err, errlen, "%s requires %s", v->origin, what);
    return -1;
  }
  return 0;
}

/* Which stream options need which. */
static int stream_rules(const sc_config *cfg, const sc_config_value *rate,
                        char *err, size_t errlen) {
  sc_iospec spec;
  if (require(&cfg->source, cfg->publish.value != NULL, "--publish", err,
              errlen) != 0 ||
      require(&cfg->publish, cfg->source.value != NULL, "--source", err,
              errlen) != 0 ||
      require(&cfg->sink, cfg->play.value != NULL, "--play", err, errlen) !=
          0 ||
      require(&cfg->publisher, cfg->play.value != NULL, "--play", err,
              errlen) != 0 ||
      require(&cfg->publish, cfg->groups.n > 0, "--group", err, errlen) != 0 ||
      require(&cfg->play, cfg->groups.n > 0, "--group", err, errlen) != 0 ||
      require(rate, cfg->source.value != NULL, "--source", err, errlen) != 0) {
    return -1;
  }
  if (rate->value != NULL &&
      (sc_iospec_parse_source(&spec, cfg->source.value, err, errlen) != 0 ||
       spec.kind != SC_IOSPEC_FILE)) {
    seterr(err, errlen, "%s paces file sources only (--source file:PATH)",
           rate->origin);
    return -1;
  }
  return 0;
}

/* The stream settings of |cfg|, after the others. */
static int merge_stream(sc_config *cfg, struct layer *cli, struct layer *file,
                        char *err, size_t errlen) {
  static const struct {
    int id;
    size_t off;
  } values[] = {
      {OPT_PUBLISH, offsetof(sc_config, publish)},
      {OPT_SOURCE, offsetof(sc_config, source)},
      {OPT_STREAM_KEY, offsetof(sc_config, stream_key)},
      {OPT_PLAY, offsetof(sc_config, play)},
      {OPT_SINK, offsetof(sc_config, sink)},
      {OPT_PUBLISHER, offsetof(sc_config, publisher)},
  };
  const sc_config_value *rate, *window;
  char *key_path;
  size_t i, len;
  int rc;
  for (i = 0; i < SC_ARRAY_LEN(values); i++) {
    sc_config_value *to =
        (sc_config_value *)(void *)((char *)cfg + values[i].off);
    value_take(to, &cli->single[values[i].id]);
    value_take(to, &file->single[values[i].id]);
  }
  rate = cli->single[OPT_RATE].value != NULL ? &cli->single[OPT_RATE]
                                             : &file->single[OPT_RATE];
  window = cli->single[OPT_WINDOW].value != NULL ? &cli->single[OPT_WINDOW]
                                                 : &file->single[OPT_WINDOW];
  /* Both were checked when they were set. */
  if (rate->value != NULL) {
    (void)parse_rate(rate->value, &cfg->rate_bps);
  }
  cfg->window_ns = SC_CONFIG_DEFAULT_WINDOW;
  if (window->value != NULL) {
    (void)parse_window(window->value, &cfg->window_ns);
  }
  if (stream_rules(cfg, rate, err, errlen) != 0) {
    return -1;
  }
  len = strlen(cfg->state_dir.value) + sizeof(SC_STREAMKEY_FILE) + 1;
  key_path = malloc(len);
  if (key_path == NULL) {
    seterr(err, errlen, "out of memory");
    return -1;
  }
  snprintf(key_path, len, "%s/%s", cfg->state_dir.value, SC_STREAMKEY_FILE);
  rc = value_default(&cfg->stream_key, key_path, "--stream-key");
  free(key_path);
  if (rc != 0 || (cfg->play.value != NULL &&
                  value_default(&cfg->sink, "-", "--sink") != 0)) {
    seterr(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

/* The limits a SIGHUP can change; both were checked when they were set. */
static void merge_limits(sc_config *cfg, const struct layer *cli,
                         const struct layer *file) {
  static const int ids[] = {OPT_MAX_SESSIONS, OPT_PUSH_CAPACITY};
  sc_settings dflt;
  size_t i;
  sc_settings_default(&dflt);
  cfg->max_sessions = dflt.max_sessions;
  cfg->push_capacity = dflt.push_capacity;
  for (i = 0; i < SC_ARRAY_LEN(ids); i++) {
    const sc_config_value *v = cli->single[ids[i]].value != NULL
                                   ? &cli->single[ids[i]]
                                   : &file->single[ids[i]];
    if (v->value != NULL) {
      (void)parse_limit(ids[i], v->value,
                        ids[i] == OPT_MAX_SESSIONS ? &cfg->max_sessions
                                                   : &cfg->push_capacity);
    }
  }
}

/* Builds |cfg| from the command line |cli| over the file |file|. */
static int merge(sc_config *cfg, struct layer *cli, struct layer *file,
                 char *err, size_t errlen) {
  sc_config_value *level;
  memset(cfg, 0, sizeof(*cfg));
  value_take(&cfg->listen, &cli->single[OPT_LISTEN]);
  value_take(&cfg->listen, &file->single[OPT_LISTEN]);
  value_take(&cfg->state_dir, &cli->single[OPT_STATE_DIR]);
  value_take(&cfg->state_dir, &file->single[OPT_STATE_DIR]);
  value_take(&cfg->stats_socket, &cli->single[OPT_STATS_SOCKET]);
  value_take(&cfg->stats_socket, &file->single[OPT_STATS_SOCKET]);
  value_take(&cfg->api_socket, &cli->single[OPT_API_SOCKET]);
  value_take(&cfg->api_socket, &file->single[OPT_API_SOCKET]);
  value_take(&cfg->log_to, &cli->single[OPT_LOG_TO]);
  value_take(&cfg->log_to, &file->single[OPT_LOG_TO]);
  value_take(&cfg->metrics_listen, &cli->single[OPT_METRICS_LISTEN]);
  value_take(&cfg->metrics_listen, &file->single[OPT_METRICS_LISTEN]);
  level = cli->single[OPT_LOG_LEVEL].value != NULL
              ? &cli->single[OPT_LOG_LEVEL]
              : &file->single[OPT_LOG_LEVEL];
  cfg->log_level =
      level->value != NULL ? sc_logger_level_parse(level->value) : SC_LOG_INFO;
  merge_limits(cfg, cli, file);
  list_take(&cfg->bootstrap,
            cli->bootstrap.n > 0 ? &cli->bootstrap : &file->bootstrap);
  list_take(&cfg->groups, cli->groups.n > 0 ? &cli->groups : &file->groups);
  if (value_default(&cfg->state_dir, SC_CONFIG_DEFAULT_STATE_DIR,
                    "--state-dir") != 0 ||
      value_default(&cfg->stats_socket, SC_CONFIG_DEFAULT_STATS_SOCKET,
                    "--stats-socket") != 0) {
    seterr(err, errlen, "out of memory");
    return -1;
  }
  if (cfg->api_socket.value != NULL &&
      strcmp(cfg->api_socket.value, cfg->stats_socket.value) == 0) {
    seterr(err, errlen, "%s %s: the stats socket has this path already",
           cfg->api_socket.origin, cfg->api_socket.value);
    return -1;
  }
  if (cfg->listen.value == NULL) {
    seterr(err, errlen,
           "--listen is required (on the command line or in the config "
           "file; see --help)");
    return -1;
  }
  return merge_stream(cfg, cli, file, err, errlen);
}

int sc_config_load(sc_config *cfg, int argc, char **argv, char *err,
                   size_t errlen) {
  struct layer cli, file;
  int rc;
  memset(&cli, 0, sizeof(cli));
  memset(&file, 0, sizeof(file));
  memset(cfg, 0, sizeof(*cfg));
  rc = parse_args(&cli, argc, argv, err, errlen);
  if (rc == 0 && cli.action != SC_CONFIG_RUN) {
    cfg->action = cli.action;
    layer_free(&cli);
    return 0;
  }
  if (rc == 0 && cli.config_file == NULL &&
      access(SC_CONFIG_DEFAULT_FILE, F_OK) == 0) {
    /* The documented default, read only when it is there. */
    cli.config_file = dupstr(SC_CONFIG_DEFAULT_FILE);
    if (cli.config_file == NULL) {
      seterr(err, errlen, "out of memory");
      rc = -1;
    }
  }
  if (rc == 0 && cli.config_file != NULL) {
    rc = parse_file(&file, cli.config_file, err, errlen);
  }
  if (rc == 0) {
    rc = merge(cfg, &cli, &file, err, errlen);
    if (rc != 0) {
      sc_config_free(cfg);
    }
  }
  if (rc == 0) {
    cfg->argc = argc;
    cfg->argv = argv;
    cfg->file = cli.config_file;
    cli.config_file = NULL;
  }
  layer_free(&cli);
  layer_free(&file);
  return rc;
}

static int same_str(const char *a, const char *b) {
  return (a == NULL && b == NULL) ||
         (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int same_list(const sc_config_list *a, const sc_config_list *b) {
  size_t i;
  if (a->n != b->n) {
    return 0;
  }
  for (i = 0; i < a->n; i++) {
    if (!same_str(a->items[i].value, b->items[i].value)) {
      return 0;
    }
  }
  return 1;
}

const char *sc_config_syslog_path(const sc_config *cfg) {
  const char *v = cfg->log_to.value;
  if (v == NULL || strcmp(v, "stderr") == 0) {
    return NULL;
  }
  return strcmp(v, "syslog") == 0 ? SC_LOG_SYSLOG_DEFAULT : v + 7;
}

int sc_config_changes(const sc_config *a, const sc_config *b, int but_logging,
                      char *out, size_t cap) {
  const struct {
    const char *key;
    int same;
  } keys[] = {
      {"listen", same_str(a->listen.value, b->listen.value)},
      {"state-dir", same_str(a->state_dir.value, b->state_dir.value)},
      {"stats-socket", same_str(a->stats_socket.value, b->stats_socket.value)},
      {"api-socket", same_str(a->api_socket.value, b->api_socket.value)},
      {"metrics-listen",
       same_str(a->metrics_listen.value, b->metrics_listen.value)},
      {"bootstrap", same_list(&a->bootstrap, &b->bootstrap)},
      {"group", same_list(&a->groups, &b->groups)},
      {"log-level", but_logging || a->log_level == b->log_level},
      {"log-to", but_logging || same_str(sc_config_syslog_path(a),
                                         sc_config_syslog_path(b))},
      {"publish", same_str(a->publish.value, b->publish.value)},
      {"source", same_str(a->source.value, b->source.value)},
      {"stream-key", same_str(a->stream_key.value, b->stream_key.value)},
      {"rate", a->rate_bps == b->rate_bps},
      {"play", same_str(a->play.value, b->play.value)},
      {"sink", same_str(a->sink.value, b->sink.value)},
      {"publisher", same_str(a->publisher.value, b->publisher.value)},
      {"window", a->window_ns == b->window_ns},
  };
  size_t i, len = 0;
  int n = 0;
  if (cap > 0) {
    out[0] = '\0';
  }
  for (i = 0; i < SC_ARRAY_LEN(keys); i++) {
    if (!keys[i].same) {
      int w = snprintf(out + len, cap > len ? cap - len : 0, "%s%s",
                       n > 0 ? ", " : "", keys[i].key);
      len += w > 0 ? (size_t)w : 0;
      n++;
    }
  }
  return n;
}

void sc_config_free(sc_config *cfg) {
  free(cfg->file);
  value_free(&cfg->listen);
  value_free(&cfg->state_dir);
  value_free(&cfg->stats_socket);
  value_free(&cfg->api_socket);
  value_free(&cfg->metrics_listen);
  value_free(&cfg->log_to);
  list_free(&cfg->bootstrap);
  list_free(&cfg->groups);
  value_free(&cfg->publish);
  value_free(&cfg->source);
  value_free(&cfg->stream_key);
  value_free(&cfg->play);
  value_free(&cfg->sink);
  value_free(&cfg->publisher);
  memset(cfg, 0, sizeof(*cfg));
}

void sc_config_usage(FILE *fp) {
  fputs("Usage: stratocastd --listen ADDR:PORT [OPTION]...\n"
        "Run a stratocast multicast node.\n"
        "\n"
        "  --listen ADDR:PORT      UDP address to listen on (required);\n"
        "                          127.0.0.1:4433, [::1]:4433, [::]:4433;\n"
        "                          port 0 picks a free port\n"
        "  --bootstrap HOST:PORT   peer to join through (repeatable; a name\n"
        "                          or a numeric address)\n"
        "  --group SPEC            group to join (repeatable, at most 8):\n"
        "                          NAME[?features=LIST][&secret=TEXT]\n"
        "  --state-dir DIR         identity and state "
        "(default " SC_CONFIG_DEFAULT_STATE_DIR ")\n"
        "  --stats-socket PATH     Unix stats socket "
        "(default " SC_CONFIG_DEFAULT_STATS_SOCKET ")\n"
        "  --api-socket PATH       Unix socket of the local application API\n"
        "                          (doc/api.md; default: none)\n"
        "  --metrics-listen ADDR:PORT  serve Prometheus metrics over HTTP\n"
        "                          at http://ADDR:PORT/metrics (default:\n"
        "                          off); numeric, as --listen\n"
        "  --log-level LEVEL       error, warn, info (default) or debug\n"
        "  --log-to TARGET         stderr (default), syslog (/dev/log) or\n"
        "                          syslog:PATH (another syslog socket)\n"
        "  --max-sessions N        sessions of any state, 8 to 4096\n"
        "                          (default 256)\n"
        "  --push-capacity N       class pushes granted per stream, 0 to\n"
        "                          1024 (default 32): a relay uploads at most\n"
        "                          about N/8 times a stream's rate; 0 serves\n"
        "                          pulls only\n"
        "  --config FILE           read 'key = value' lines (keys: the long\n"
        "                          options but config, help and version);\n"
        "                          the command line overrides it\n"
        "\n"
        "Live streams (--publish and --play need a --group):\n"
        "  --publish NAME          publish the stream NAME (1-128 bytes)\n"
        "  --source SRC            what to publish (needed by --publish):\n"
        "                          - (stdin), udp://ADDR:PORT (received\n"
        "                          there), file:PATH (paced at its rate)\n"
        "  --stream-key FILE       the publisher's Ed25519 key, created if\n"
        "                          missing (default STATE_DIR/stream.key)\n"
        "  --rate BITS             pace a file source at BITS/s (k and M\n"
        "                          suffixes); default: its MPEG-TS PCRs\n"
        "  --play NAME             play the stream NAME\n"
        "  --publisher HEX         the played stream's publisher key\n"
        "                          (64 hex characters)\n"
        "  --sink SINK             where the played stream goes: - (stdout,\n"
        "                          the default), udp://ADDR:PORT or\n"
        "                          http://ADDR:PORT/\n"
        "  --window DURATION       how much of a stream is kept, 1s to 60s\n"
        "                          (default 8s; also 1500ms, 20s)\n"
        "\n"
        "  -h, --help              show this help and exit\n"
        "  -V, --version           show the version and exit\n"
        "\n"
        "Exit status: 0 after SIGINT/SIGTERM, 1 on a runtime failure, 2 on a\n"
        "bad argument, config file, address or state directory.\n",
        fp);
}

/* Creates |path| and missing parents with |mode|; EEXIST is fine here and
 * checked by the caller. Returns 0 or the errno. */
static int mkdir_parents(char *path, mode_t mode) {
  char *p;
  int e;
  for (p = path + 1; *p != '\0'; p++) {
    if (*p != '/') {
      continue;
    }
    *p = '\0';
    e = mkdir(path, mode) == 0 ? 0 : errno;
    *p = '/';
    if (e != 0 && e != EEXIST) {
      return e;
    }
  }
  e = mkdir(path, mode) == 0 ? 0 : errno;
  return e == EEXIST ? 0 : e;
}

int sc_config_mkdir_private(const char *path, const char *what, char *err,
                            size_t errlen) {
  struct stat st;
  char *copy;
  int e;
  if (stat(path, &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      seterr(err, errlen, "%s %s: not a directory", what, path);
      return -1;
    }
    return 0;
  }
  copy = dupstr(path);
  if (copy == NULL) {
    seterr(err, errlen, "out of memory");
    return -1;
  }
  e = mkdir_parents(copy, 0700);
  free(copy);
  if (e != 0) {
    seterr(err, errlen, "%s %s: cannot create: %s", what, path, strerror(e));
    return -1;
  }
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    seterr(err, errlen, "%s %s: not a directory", what, path);
    return -1;
  }
  return 0;
}
