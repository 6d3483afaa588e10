/*
 * sim_scenario.c: stratosim's scenario language (sim_scenario.h; the
 * grammar is in doc/simulation.md).
 *
 * A line is split into words and its keyword looked up in two tables:
 * settings, each with a handler, and actions, each described by a short
 * spec of its arguments (read_args). Everything the line says goes first
 * into a staging area: a shallow copy of the settings, one action, one
 * bootstrap rule. Only when the whole line has been read does it go into
 * the config, so a bad line changes nothing and leaks nothing.
 *
 * Numbers are read by hand rather than with strtod/strtoull, which accept
 * signs, blanks, "1e3", "inf" and hex, and depend on the locale.
 */
#include "sim_scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_macro.h"
#include "sc_repl.h"
#include "stratocast.h"

#define MAX_WORDS 32
#define FILE_LINE_MAX 4096
#define NODES_MAX 1000000u
/* Every time, rate and size is at most 2^53: exact in a double
 * (sim_action.v), and sums of times cannot overflow. */
#define QTY_MAX ((uint64_t)1 << 53)
#define NOT_A_SET "is not a node set (like all, 3, 0-9 or 0-9,20)"

struct setting;
struct action_def;

/* The words of the line being parsed and where to report problems. */
struct parser {
  const char *where;            /* message prefix */
  const char *kw;               /* the statement's keyword, once known */
  const struct setting *set;    /* the statement is a setting, */
  const struct action_def *act; /* or an action */
  char **w;                     /* the line's words */
  size_t n, i;                  /* how many; the next one */
  char *err;
  size_t errlen;
};

/* What a line changes: the settings (a copy of the config), one action or
 * one bootstrap rule. */
struct stage {
  sim_config cfg;
  sim_action a;
  sim_bootstrap b;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* FAIL reports a problem with the line and evaluates to -1. A macro so
 * that the static analyzer, which does not follow variadic calls, sees the
 * -1. */
#define FAIL(p, ...) (report((p), __VA_ARGS__), -1)

static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && errlen > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
}

/* report formats "WHERE: KEYWORD: message" into |p->err|, leaving the
 * keyword out when |where| is the option "--KEYWORD" already. */
static void report(struct parser *p, const char *fmt, ...) {
  size_t n;
  va_list ap;
  if (p->err == NULL || p->errlen == 0) {
    return;
  }
  if (p->kw == NULL ||
      (strncmp(p->where, "--", 2) == 0 && strcmp(p->where + 2, p->kw) == 0)) {
    snprintf(p->err, p->errlen, "%s: ", p->where);
  } else {
    snprintf(p->err, p->errlen, "%s: %s: ", p->where, p->kw);
  }
  n = strlen(p->err);
  va_start(ap, fmt);
  vsnprintf(p->err + n, p->errlen - n, fmt, ap);
  va_end(ap);
}

/* need returns the next word, or NULL after failing with "missing WHAT". */
static const char *need(struct parser *p, const char *what) {
  if (p->i >= p->n) {
    report(p, "missing %s", what);
    return NULL;
  }
  return p->w[p->i++];
}

/* ---- numbers ---- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A decimal "digits[.digits]": integer part and fraction. */
struct decimal {
  uint64_t ip;
  double frac;
  int big; /* the integer part does not fit in 64 bits */
};

/* scan_decimal reads a decimal at the start of |s| into |d| and returns
 * what follows it (its unit), or NULL if |s| does not start with one. */
static const char *scan_decimal(const char *s, struct decimal *d) {
  uint64_t f = 0, scale = 1;
  memset(d, 0, sizeof(*d));
  if (!is_digit(*s)) {
    return NULL;
  }
  for (; is_digit(*s); s++) {
    unsigned dig = (unsigned)(*s - '0');
    d->big |= d->ip > (UINT64_MAX - dig) / 10;
    d->ip = d->ip * 10 + dig;
  }
  if (*s == '.') {
    if (!is_digit(*++s)) {
      return NULL;
    }
    /* 15 digits are exact in a double; the rest are far below a
     * nanosecond, a bit or a byte. */
    for (; is_digit(*s); s++) {
      if (scale < 1000000000000000u) {
        f = f * 10 + (unsigned)(*s - '0');
        scale *= 10;
      }
    }
    d->frac = (double)f / (double)scale;
  }
  return s;
}

/* parse_uint reads |word|, a whole number in [min, max]. */
static int parse_uint(struct parser *p, const char *word, uint64_t min,
                      uint64_t max, uint64_t *out) {
  struct decimal d;
  const char *end = scan_decimal(word, &d);
  if (end == NULL || *end != '\0' || strchr(word, '.') != NULL) {
    return FAIL(p, "'%.64s' is not a whole number", word);
  }
  if (d.big || d.ip < min || d.ip > max) {
    return FAIL(p, "%.64s is out of range (%llu to %llu)", word,
                (unsigned long long)min, (unsigned long long)max);
  }
  *out = d.ip;
  return 0;
}

struct unit {
  const char *name; /* NULL ends a list */
  uint64_t mult;
};

/* A kind of number with units. Units named "" need no suffix; otherwise a
 * bare 0 is still fine. */
struct quantity {
  const char *what, *help; /* for messages */
  const struct unit *units;
};

static const struct unit time_units[] = {
    {"ns", 1},           {"us", 1000},        {"ms", SIM_MS}, {"s", SIM_S},
    {"min", 60 * SIM_S}, {"h", 3600 * SIM_S}, {NULL, 0}};
static const struct unit rate_units[] = {{"bit", 1},
                                         {"kbit", 1000},
                                         {"mbit", 1000000},
                                         {"gbit", 1000000000},
                                         {NULL, 0}};
static const struct unit size_units[] = {{"B", 1},         {"kB", 1000},
                                         {"KiB", 1024},    {"MB", 1000000},
                                         {"MiB", 1 << 20}, {NULL, 0}};
static const struct unit prob_units[] = {{"", 1}, {"%", 100}, {NULL, 0}};
static const struct unit per_units[] = {
    {"", 1}, {"/s", 1}, {"/min", 60}, {"/h", 3600}, {NULL, 0}};

static const struct quantity q_time = {
    "time", "like 1.5s; units ns, us, ms, s, min, h", time_units};
static const struct quantity q_rate = {
    "rate", "like 2mbit; units bit, kbit, mbit, gbit", rate_units};
static const struct quantity q_size = {
    "size", "like 64KiB; units B, kB, KiB, MB, MiB", size_units};
static const struct quantity q_prob = {"probability", "like 0.3 or 30%",
                                       prob_units};
static const struct quantity q_per = {"rate", "like 2/s, 30/min or 1/h",
                                      per_units};

/* scan_unit reads |word|, a |q|, into |d| and returns its unit, or NULL
 * after failing. */
static const struct unit *scan_unit(struct parser *p, const char *word,
                                    const struct quantity *q,
                                    struct decimal *d) {
  const char *u = scan_decimal(word, d);
  const struct unit *unit;
  for (unit = q->units; u != NULL && unit->name != NULL; unit++) {
    if (strcmp(u, unit->name) == 0) {
      break;
    }
  }
  if (u == NULL || (unit->name == NULL && *u != '\0')) {
    report(p, "'%.64s' is not a %s (%s)", word, q->what, q->help);
    return NULL;
  }
  if (unit->name == NULL && (d->ip > 0 || d->frac > 0)) {
    report(p, "'%.64s': missing unit (%s)", word, q->help);
    return NULL;
  }
  if (d->big || d->ip > QTY_MAX) {
    report(p, "%.64s is too large", word);
    return NULL;
  }
  return unit->name != NULL ? unit : q->units; /* 0 is 0 in any unit */
}

/* next_qty reads a time, rate or size into |*out| in ns, bit/s or bytes. */
static int next_qty(struct parser *p, const struct quantity *q, uint64_t *out) {
  const char *w = need(p, q->what);
  const struct unit *u;
  struct decimal d;
  uint64_t frac;
  if (w == NULL || (u = scan_unit(p, w, q, &d)) == NULL) {
    return -1;
  }
  frac = (uint64_t)(d.frac * (double)u->mult + 0.5);
  if (d.ip > (QTY_MAX - frac) / u->mult) {
    return FAIL(p, "%.64s is too large", w);
  }
  *out = d.ip * u->mult + frac;
  return 0;
}

/* next_ratio reads a probability or an event rate per second. */
static int next_ratio(struct parser *p, const struct quantity *q, double *out) {
  const char *w = need(p, q->what);
  const struct unit *u;
  struct decimal d;
  if (w == NULL || (u = scan_unit(p, w, q, &d)) == NULL) {
    return -1;
  }
  *out = ((double)d.ip + d.frac) / (double)u->mult;
  if (q == &q_prob && *out > 1.0) {
    return FAIL(p, "%.64s is not a probability in [0, 1]", w);
  }
  if (q == &q_per && !(*out > 0)) {
    return FAIL(p, "the rate must be above 0");
  }
  return 0;
}

/* ---- node sets ---- */

static int range_cmp(const void *a, const void *b) {
  const sim_range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* set_merge sorts |r| and merges overlapping and adjacent ranges, so that
 * the sim_set_* functions can walk them in order. Returns the new count. */
static size_t set_merge(sim_range *r, size_t n) {
  size_t i, k = 0;
  qsort(r, n, sizeof(*r), range_cmp);
  for (i = 0; i < n; i++) {
    if (k > 0 && (r[k - 1].hi == UINT32_MAX || r[i].lo <= r[k - 1].hi + 1)) {
      r[k - 1].hi = SC_MAX(r[k - 1].hi, r[i].hi);
    } else {
      r[k++] = r[i];
    }
  }
  return k;
}

static int scan_index(struct parser *p, const char *word, const char **s,
                      uint32_t *out) {
  uint64_t v = 0;
  if (!is_digit(**s)) {
    return FAIL(p, "'%.64s' " NOT_A_SET, word);
  }
  for (; is_digit(**s); (*s)++) {
    v = v * 10 + (unsigned)(**s - '0');
    if (v > UINT32_MAX) {
      return FAIL(p, "'%.64s': node index too large", word);
    }
  }
  *out = (uint32_t)v;
  return 0;
}

/* set_item reads "all", "N" or "A-B" at |*s| into |r|. */
static int set_item(struct parser *p, const char *word, const char **s,
                    sim_range *r) {
  if (strncmp(*s, "all", 3) == 0 && ((*s)[3] == ',' || (*s)[3] == '\0')) {
    r->lo = 0;
    r->hi = UINT32_MAX;
    *s += 3;
    return 0;
  }
  if (scan_index(p, word, s, &r->lo) != 0) {
    return -1;
  }
  r->hi = r->lo;
  if (**s == '-') {
    ++*s;
    if (scan_index(p, word, s, &r->hi) != 0) {
      return -1;
    }
  }
  if (r->lo > r->hi) {
    return FAIL(p, "'%.64s': range %u-%u is backwards", word, (unsigned)r->lo,
                (unsigned)r->hi);
  }
  return 0;
}

/* next_set reads a node set ("all", N, A-B, or a comma list of those) into
 * |out|, which then owns a malloc'd, sorted, disjoint array. */
static int next_set(struct parser *p, sim_set *out) {
  const char *word = need(p, "node set"), *s;
  size_t n = 1, k = 0;
  sim_range *r;
  if (word == NULL) {
    return -1;
  }
  for (s = word; *s != '\0'; s++) {
    n += *s == ',';
  }
  if ((r = malloc(n * sizeof(*r))) == NULL) {
    return FAIL(p, "out of memory");
  }
  for (s = word;; s++) {
    if (set_item(p, word, &s, &r[k++]) != 0) {
      free(r);
      return -1;
    }
    if (*s != ',') {
      break;
    }
  }
  if (*s != '\0') {
    free(r);
    return FAIL(p, "'%.64s' " NOT_A_SET, word);
  }
  out->r = r;
  out->n = set_merge(r, k);
  return 0;
}

int sim_set_has(const sim_set *set, uint32_t i) {
  size_t lo = 0, hi = set->n, mid;
  while (lo < hi) {
    mid = lo + (hi - lo) / 2;
    if (i < set->r[mid].lo) {
      hi = mid;
    } else if (i > set->r[mid].hi) {
      lo = mid + 1;
    } else {
      return 1;
    }
  }
  return 0;
}

uint32_t sim_set_count(const sim_set *set, uint32_t nnodes) {
  uint32_t n = 0;
  size_t k;
  for (k = 0; k < set->n && set->r[k].lo < nnodes; k++) {
    n += SC_MIN(set->r[k].hi, nnodes - 1) - set->r[k].lo + 1;
  }
  return n;
}

uint32_t sim_set_nth(const sim_set *set, uint32_t nnodes, uint32_t k) {
  uint32_t size;
  size_t j;
  for (j = 0; j < set->n && set->r[j].lo < nnodes; j++) {
    size = SC_MIN(set->r[j].hi, nnodes - 1) - set->r[j].lo + 1;
    if (k < size) {
      return set->r[j].lo + k;
    }
    k -= size;
  }
  return UINT32_MAX;
}

/* ---- actions ---- */

/* Clauses that may end an action, each at most once; "fresh" is the
 * opposite of "history". */
enum { C_NODES = 1, C_QUEUE = 2, C_RESTART = 4, C_HISTORY = 8, C_OVER = 16 };

static const struct clause {
  const char *word;
  int bit;
} clauses[] = {{"nodes", C_NODES},     {"queue", C_QUEUE},
               {"restart", C_RESTART}, {"history", C_HISTORY},
               {"fresh", C_HISTORY},   {"over", C_OVER}};

/* An action and how its words are read (read_args), one letter each:
 * S a node set; P a probability, T a time, R a link rate (each into the
 * next of v[0..3]); O the word "off" instead of what follows; C crash,
 * leave or stop; Q an event rate; N a count (into |count|); X the
 * stream's words, F forge's, M post's. After
 * '[' each word is optional. */
struct action_def {
  const char *kw;
  int verb, field;
  const char *args;
  int clauses;
  double v[4]; /* sim_action.v before the arguments (reorder: 10 ms) */
};

static const struct action_def actions[] = {
    {"join", SIM_ACT_JOIN, 0, "S", C_OVER, {0}},
    {"leave", SIM_ACT_LEAVE, 0, "S", 0, {0}},
    {"crash", SIM_ACT_CRASH, 0, "S", 0, {0}},
    {"restart", SIM_ACT_RESTART, 0, "S", C_HISTORY, {0}},
    {"partition", SIM_ACT_PARTITION, 0, "S", 0, {0}},
    {"heal", SIM_ACT_HEAL, 0, "", 0, {0}},
    {"churn", SIM_ACT_CHURN, 0, "CQ", C_RESTART | C_HISTORY | C_NODES, {0}},
    {"uplink", SIM_ACT_LINK, SIM_F_UPLINK, "R", C_QUEUE | C_NODES, {0, -1}},
    {"downlink", SIM_ACT_LINK, SIM_F_DOWNLINK, "R", C_QUEUE | C_NODES, {0, -1}},
    {"loss", SIM_ACT_LINK, SIM_F_LOSS, "P", C_NODES, {0}},
    {"burst-loss",
     SIM_ACT_LINK,
     SIM_F_BURST_LOSS,
     "OPP[PP",
     C_NODES,
     {0, 0, 1}},
    {"jitter", SIM_ACT_LINK, SIM_F_JITTER, "T", C_NODES, {0}},
    {"reorder", SIM_ACT_LINK, SIM_F_REORDER, "P[T", C_NODES, {0, 1e7}},
    {"duplicate", SIM_ACT_LINK, SIM_F_DUPLICATE, "P", C_NODES, {0}},
    {"corrupt", SIM_ACT_LINK, SIM_F_CORRUPT, "P", C_NODES, {0}},
    {"stream", SIM_ACT_STREAM, 0, "X", 0, {0}},
    {"replicate", SIM_ACT_REPLICATE, 0, "Y", 0, {0}},
    {"forge", SIM_ACT_FORGE, 0, "F", 0, {0}},
    {"post", SIM_ACT_POST, 0, "M", 0, {0}},
    {"route", SIM_ACT_ROUTE, 0, "N", C_OVER | C_NODES, {0}},
};

static int clause_arg(struct parser *p, int bit, const char *w, sim_action *a) {
  uint64_t q = 0;
  switch (bit) {
  case C_NODES:
    return next_set(p, &a->set);
  case C_QUEUE:
    if (next_qty(p, &q_size, &q) != 0) {
      return -1;
    }
    a->v[1] = (double)q;
    return 0;
  case C_RESTART:
    if (next_qty(p, &q_time, &a->downtime) != 0) {
      return -1;
    }
    return a->downtime > 0 ? 0 : FAIL(p, "the restart time must be above 0");
  case C_OVER:
    return next_qty(p, &q_time, &a->span);
  default:
    a->history = strcmp(w, "history") == 0;
    return 0;
  }
}

/* parse_clauses reads the remaining words as clauses from |allowed|. */
static int parse_clauses(struct parser *p, sim_action *a, int allowed) {
  int seen = 0;
  size_t k;
  while (p->i < p->n) {
    const char *w = p->w[p->i++];
    for (k = 0; k < SC_ARRAY_LEN(clauses); k++) {
      if ((clauses[k].bit & allowed) && strcmp(w, clauses[k].word) == 0) {
        break;
      }
    }
    if (k == SC_ARRAY_LEN(clauses)) {
      return FAIL(p, "unexpected '%.64s'", w);
    }
    if (seen & clauses[k].bit) {
      return FAIL(p, "'%s' repeats or contradicts an earlier word", w);
    }
    seen |= clauses[k].bit;
    if (clause_arg(p, clauses[k].bit, w, a) != 0) {
      return -1;
    }
  }
  return 0;
}

/* optional_follows returns 1 if an optional argument follows, that is a
 * word that does not start a clause. */
static int optional_follows(const struct parser *p) {
  size_t k;
  for (k = 0; p->i < p->n && k < SC_ARRAY_LEN(clauses); k++) {
    if (strcmp(p->w[p->i], clauses[k].word) == 0) {
      return 0;
    }
  }
  return p->i < p->n;
}

static int next_link_rate(struct parser *p, double *out) {
  uint64_t bps = 0;
  if (p->i < p->n && strcmp(p->w[p->i], "unlimited") == 0) {
    p->i++;
  } else if (next_qty(p, &q_rate, &bps) != 0) {
    return -1;
  } else if (bps == 0) {
    return FAIL(p, "the rate must be above 0 (or unlimited)");
  }
  *out = (double)bps;
  return 0;
}

static int next_churn_kind(struct parser *p, sim_action *a) {
  const char *w = need(p, "crash, leave or stop");
  if (w != NULL && strcmp(w, "stop") == 0) {
    a->verb = SIM_ACT_CHURN_STOP;
  } else if (w != NULL && strcmp(w, "crash") == 0) {
    a->churn_kind = SIM_CHURN_CRASH;
  } else if (w != NULL && strcmp(w, "leave") == 0) {
    a->churn_kind = SIM_CHURN_LEAVE;
  } else {
    return w == NULL ? -1 : FAIL(p, "'%.64s' is not crash, leave or stop", w);
  }
  return 0;
}

/* one_node makes |set| the single node |i|. */
static int one_node(struct parser *p, sim_set *set, uint32_t i) {
  free(set->r);
  if ((set->r = malloc(sizeof(*set->r))) == NULL) {
    return FAIL(p, "out of memory");
  }
  set->r[0].lo = set->r[0].hi = i;
  set->n = 1;
  return 0;
}

/* stream stop | stream [from NODE] rate BITRATE [size SIZE]
 * [keyframe TIME] [name NAME]: the keywords in any order, each once. */
static int read_stream(struct parser *p, sim_action *a) {
  static const char *const kws[] = {"from", "rate", "size", "keyframe", "name"};
  uint64_t from = 0;
  unsigned seen = 0, k;
  const char *w;
  if (p->i < p->n && strcmp(p->w[p->i], "stop") == 0) {
    p->i++;
    a->verb = SIM_ACT_STREAM_STOP;
    return 0;
  }
  a->keyframe = SIM_S;
  memcpy(a->name, "live", sizeof("live"));
  while (p->i < p->n) {
    w = p->w[p->i++];
    for (k = 0; k < SC_ARRAY_LEN(kws) && strcmp(w, kws[k]) != 0; k++) {
    }
    if (k == SC_ARRAY_LEN(kws)) {
      return FAIL(p, "unexpected '%.64s'", w);
    }
    if (seen & (1u << k)) {
      return FAIL(p, "'%s' repeats", w);
    }
    seen |= 1u << k;
    if (k == 0) {
      if ((w = need(p, "node")) == NULL ||
          parse_uint(p, w, 0, UINT32_MAX - 1, &from) != 0) {
        return -1;
      }
    } else if (k == 4) {
      if ((w = need(p, "name")) == NULL) {
        return -1;
      }
      if (strlen(w) > SIM_STREAM_NAME_MAX) {
        return FAIL(p, "the name is longer than %d bytes", SIM_STREAM_NAME_MAX);
      }
      memcpy(a->name, w, strlen(w) + 1);
    } else {
      /* rate, size, keyframe */
      const struct quantity *const qs[] = {&q_rate, &q_size, &q_time};
      uint64_t *const outs[] = {&a->bps, &a->frag_size, &a->keyframe};
      if (next_qty(p, qs[k - 1], outs[k - 1]) != 0) {
        return -1;
      }
      if (*outs[k - 1] == 0) {
        return FAIL(p, "the %s must be above 0", kws[k]);
      }
    }
  }
  if (!(seen & 2)) {
    return FAIL(p, "missing rate");
  }
  return one_node(p, &a->set, (uint32_t)from);
}

/* forge SET [rate RATE] | forge SET off */
static int read_forge(struct parser *p, sim_action *a) {
  if (next_set(p, &a->set) != 0) {
    return -1;
  }
  a->rate = SIM_FORGE_RATE;
  if (p->i < p->n && strcmp(p->w[p->i], "off") == 0) {
    p->i++;
    a->rate = 0;
  } else if (p->i < p->n && strcmp(p->w[p->i], "rate") == 0) {
    p->i++;
    return next_ratio(p, &q_per, &a->rate);
  }
  return 0;
}

/* post COUNT [over TIME] [size SIZE]: the keywords in any order, each
 * once; 10 s and 100 bytes unless given. */
static int read_post(struct parser *p, sim_action *a) {
  const char *w;
  unsigned seen = 0;
  if ((w = need(p, "count")) == NULL ||
      parse_uint(p, w, 1, SIM_POSTS_MAX, &a->count) != 0) {
    return -1;
  }
  a->span = 10 * SIM_S;
  a->msg_size = 100;
  while (p->i < p->n) {
    int k;
    w = p->w[p->i++];
    k = strcmp(w, "over") == 0 ? 0 : strcmp(w, "size") == 0 ? 1 : -1;
    if (k < 0) {
      return FAIL(p, "unexpected '%.64s'", w);
    }
    if (seen & (1u << k)) {
      return FAIL(p, "'%s' repeats", w);
    }
    seen |= 1u << k;
    if (next_qty(p, k == 0 ? &q_time : &q_size,
                 k == 0 ? &a->span : &a->msg_size) != 0) {
      return -1;
    }
  }
  if (a->msg_size < 4 || a->msg_size > SC_POST_MAX_LEN) {
    return FAIL(p, "the size must be 4 to %d bytes", SC_POST_MAX_LEN);
  }
  return 0;
}

/* replicate [from NODE] count N [size SIZE] [strategy lowest|rarest]: the
 * keywords in any order, each once. */
static int read_replicate(struct parser *p, sim_action *a) {
  static const char *const kws[] = {"from", "count", "size", "strategy"};
  uint64_t from = 0;
  unsigned seen = 0, k;
  const char *w;
  a->obj_size = 100;
  while (p->i < p->n) {
    w = p->w[p->i++];
    for (k = 0; k < SC_ARRAY_LEN(kws) && strcmp(w, kws[k]) != 0; k++) {
    }
    if (k == SC_ARRAY_LEN(kws)) {
      return FAIL(p, "unexpected '%.64s'", w);
    }
    if (seen & (1u << k)) {
      return FAIL(p, "'%s' repeats", w);
    }
    seen |= 1u << k;
    if ((w = need(p, k == 2   ? "size"
                     : k == 3 ? "lowest or rarest"
                              : "number")) == NULL) {
      return -1;
    }
    if (k == 0 && parse_uint(p, w, 0, UINT32_MAX - 1, &from) != 0) {
      return -1;
    }
    if (k == 1 &&
        parse_uint(p, w, 1, SC_REPL_OBJECTS_MAX, &a->obj_count) != 0) {
      return -1;
    }
    if (k == 2) {
      p->i--;
      if (next_qty(p, &q_size, &a->obj_size) != 0) {
        return -1;
      }
      if (a->obj_size > SC_OBJECT_MAX_LEN) {
        return FAIL(p, "the size is above %d B", SC_OBJECT_MAX_LEN);
      }
    }
    if (k == 3 && strcmp(w, "lowest") != 0 && strcmp(w, "rarest") != 0) {
      return FAIL(p, "'%.64s' is not lowest or rarest", w);
    }
    if (k == 3) {
      a->strategy = strcmp(w, "rarest") == 0 ? SC_REPL_RAREST_FIRST
                                             : SC_REPL_LOWEST_FIRST;
    }
  }
  if (!(seen & 2)) {
    return FAIL(p, "missing count");
  }
  return one_node(p, &a->set, (uint32_t)from);
}

/* read_args reads the words of action |d| into |a| (see action_def). */
static int read_args(struct parser *p, sim_action *a,
                     const struct action_def *d) {
  static const double off[4] = {0, 1, 0, 0}; /* and leave the bad state */
  int k = 0, optional = 0, allowed = d->clauses, rc = 0, done = 0;
  const char *s, *s_w;
  uint64_t q = 0;
  memcpy(a->v, d->v, sizeof(a->v));
  for (s = d->args; *s != '\0' && rc == 0 && !done; s++) {
    optional |= *s == '[';
    if (*s == '[' || (optional && !optional_follows(p))) {
      done = *s != '[';
    } else if (*s == 'S') {
      rc = next_set(p, &a->set);
    } else if (*s == 'P') {
      rc = next_ratio(p, &q_prob, &a->v[k++]);
    } else if (*s == 'T') {
      rc = next_qty(p, &q_time, &q);
      a->v[k++] = (double)q;
    } else if (*s == 'R') {
      rc = next_link_rate(p, &a->v[k++]);
    } else if (*s == 'Q') {
      rc = next_ratio(p, &q_per, &a->rate);
    } else if (*s == 'O' && p->i < p->n && strcmp(p->w[p->i], "off") == 0) {
      p->i++;
      memcpy(a->v, off, sizeof(off));
      done = 1;
    } else if (*s == 'C') {
      rc = next_churn_kind(p, a);
      done = a->verb == SIM_ACT_CHURN_STOP;
      allowed = done ? 0 : allowed;
    } else if (*s == 'N') {
      rc = (s_w = need(p, "count")) == NULL
               ? -1
               : parse_uint(p, s_w, 1, SIM_ROUTE_MAX, &a->count);
    } else if (*s == 'Y') {
      rc = read_replicate(p, a);
    } else if (*s == 'X') {
      rc = read_stream(p, a);
    } else if (*s == 'F') {
      rc = read_forge(p, a);
    } else if (*s == 'M') {
      rc = read_post(p, a);
    }
  }
  return rc != 0 ? rc : parse_clauses(p, a, allowed);
}

/* ---- settings ---- */

struct setting {
  const char *kw;
  int (*parse)(struct parser *p, struct stage *st);
  size_t off, size; /* set_number, set_choice: the sim_config field */
  int is_time;      /* set_number: a time rather than a whole number */
  uint64_t min, max;
};

/* set_number: seed, nodes, duration and the core's numbers. */
static int set_number(struct parser *p, struct stage *st) {
  const struct setting *s = p->set;
  const char *w;
  uint64_t v = 0;
  uint32_t v32;
  if (s->is_time) {
    if (next_qty(p, &q_time, &v) != 0) {
      return -1;
    }
    if (v < s->min) {
      return FAIL(p, "must be above 0");
    }
  } else if ((w = need(p, "number")) == NULL ||
             parse_uint(p, w, s->min, s->max, &v) != 0) {
    return -1;
  }
  v32 = (uint32_t)v;
  memcpy((char *)&st->cfg + s->off,
         s->size == sizeof(v32) ? (void *)&v32 : (void *)&v, s->size);
  return 0;
}

static const struct choice {
  const char *kw, *word;
  int value;
} choices[] = {
    {"log", "error", SC_LOG_ERROR},
    {"log", "warn", SC_LOG_WARN},
    {"log", "info", SC_LOG_INFO},
    {"log", "debug", SC_LOG_DEBUG},
    {"log", "none", -1},
    {"report", "per-node", 1},
    {"report", "aggregate", 0},
};

/* set_choice: log, report. */
static int set_choice(struct parser *p, struct stage *st) {
  const char *w = need(p, "value");
  char words[64] = "";
  size_t k, len;
  for (k = 0; w != NULL && k < SC_ARRAY_LEN(choices); k++) {
    if (strcmp(choices[k].kw, p->kw) != 0) {
      continue;
    }
    if (strcmp(choices[k].word, w) == 0) {
      memcpy((char *)&st->cfg + p->set->off, &choices[k].value, sizeof(int));
      return 0;
    }
    len = strlen(words);
    snprintf(words + len, sizeof(words) - len, "%s%s", len ? ", " : "",
             choices[k].word);
  }
  return w == NULL ? -1 : FAIL(p, "'%.64s' is not one of %s", w, words);
}

/* placement geo | placement fixed TIME | placement matrix PATH |
 * placement uniform MIN MAX */
static int set_placement(struct parser *p, struct stage *st) {
  sim_placement *pl = &st->cfg.place;
  const char *w = need(p, "geo, fixed or matrix (or uniform)");
  size_t len;
  if (w != NULL && strcmp(w, "geo") == 0) {
    pl->kind = SIM_PLACE_GEO;
  } else if (w != NULL && strcmp(w, "fixed") == 0) {
    pl->kind = SIM_PLACE_FIXED;
    return next_qty(p, &q_time, &pl->fixed);
  } else if (w != NULL && strcmp(w, "uniform") == 0) {
    pl->kind = SIM_PLACE_UNIFORM;
    if (next_qty(p, &q_time, &pl->lo) != 0 ||
        next_qty(p, &q_time, &pl->hi) != 0) {
      return -1;
    }
    return pl->lo <= pl->hi ? 0 : FAIL(p, "the minimum is above the maximum");
  } else if (w != NULL && strcmp(w, "matrix") == 0) {
    if ((w = need(p, "matrix file")) == NULL) {
      return -1;
    }
    if ((len = strlen(w)) >= sizeof(pl->matrix_path)) {
      return FAIL(p, "file name too long");
    }
    pl->kind = SIM_PLACE_MATRIX;
    memcpy(pl->matrix_path, w, len + 1);
  } else {
    if (w == NULL) {
      return -1;
    }
    return FAIL(p, "'%.64s' is not geo, fixed or matrix (or uniform)", w);
  }
  return 0;
}

/* access-delay MIN MAX */
static int set_access(struct parser *p, struct stage *st) {
  sim_placement *pl = &st->cfg.place;
  if (next_qty(p, &q_time, &pl->access_min) != 0 ||
      next_qty(p, &q_time, &pl->access_max) != 0) {
    return -1;
  }
  if (pl->access_min > pl->access_max) {
    return FAIL(p, "the minimum is above the maximum");
  }
  return 0;
}

/* bootstrap SET from SET | bootstrap SET random K */
static int set_bootstrap(struct parser *p, struct stage *st) {
  const char *w;
  uint64_t k;
  if (next_set(p, &st->b.set) != 0 || (w = need(p, "from or random")) == NULL) {
    return -1;
  }
  if (strcmp(w, "from") == 0) {
    return next_set(p, &st->b.from);
  }
  if (strcmp(w, "random") != 0) {
    return FAIL(p, "'%.64s' is not from or random", w);
  }
  if ((w = need(p, "count")) == NULL ||
      parse_uint(p, w, 1, UINT32_MAX, &k) != 0) {
    return -1;
  }
  st->b.k = (uint32_t)k;
  return 0;
}

/* group SPEC: every node joins the group at every start. */
static int set_group(struct parser *p, struct stage *st) {
  const char *w = need(p, "group spec");
  size_t len;
  if (w == NULL) {
    return -1;
  }
  if ((len = strlen(w)) >= SIM_GROUP_SPEC_MAX) {
    return FAIL(p, "group spec too long");
  }
  if (st->cfg.ngroups == SIM_GROUPS_MAX) {
    return FAIL(p, "at most %d groups", SIM_GROUPS_MAX);
  }
  memcpy(st->cfg.groups[st->cfg.ngroups++], w, len + 1);
  return 0;
}

#define FIELD(f) offsetof(sim_config, f), sizeof(((sim_config *)0)->f)

static const struct setting settings[] = {
    {"seed", set_number, FIELD(seed), 0, 0, UINT64_MAX},
    {"nodes", set_number, FIELD(nodes), 0, 1, NODES_MAX},
    {"duration", set_number, FIELD(duration), 1, 1, 0},
    {"placement", set_placement, 0, 0, 0, 0, 0},
    {"access-delay", set_access, 0, 0, 0, 0, 0},
    {"max-sessions", set_number, FIELD(max_sessions), 0, 0, UINT32_MAX},
    {"max-half-open", set_number, FIELD(max_half_open), 0, 0, UINT32_MAX},
    {"target-peers", set_number, FIELD(target_peers), 0, 0, UINT32_MAX},
    {"idle-timeout", set_number, FIELD(idle_timeout), 1, 0, 0},
    {"keepalive", set_number, FIELD(keepalive_interval), 1, 0, 0},
    {"handshake-timeout", set_number, FIELD(handshake_timeout), 1, 0, 0},
    {"stream-window", set_number, FIELD(stream_window), 1, 0, 0},
    {"relay-margin", set_number, FIELD(relay_margin), 1, 0, 0},
    {"map-interval", set_number, FIELD(map_interval), 1, 0, 0},
    {"manifest-interval", set_number, FIELD(manifest_interval), 1, 0, 0},
    {"gap-timeout", set_number, FIELD(gap_timeout), 1, 0, 0},
    {"push-peers", set_number, FIELD(push_peers), 0, 0, UINT32_MAX},
    {"push-capacity", set_number, FIELD(push_capacity), 0, 0, UINT32_MAX},
    {"deadline", set_number, FIELD(deadline), 1, 1, 0},
    {"log", set_choice, FIELD(log_level), 0, 0, 0},
    {"report", set_choice, FIELD(per_node), 0, 0, 0},
    {"bootstrap", set_bootstrap, 0, 0, 0, 0, 0},
    {"group", set_group, 0, 0, 0, 0, 0},
};

/* ---- statements ---- */

static const struct setting *find_setting(const char *kw) {
  size_t k;
  for (k = 0; k < SC_ARRAY_LEN(settings); k++) {
    if (strcmp(kw, settings[k].kw) == 0) {
      return &settings[k];
    }
  }
  return NULL;
}

static const struct action_def *find_action(const char *kw) {
  size_t k;
  for (k = 0; k < SC_ARRAY_LEN(actions); k++) {
    if (strcmp(kw, actions[k].kw) == 0) {
      return &actions[k];
    }
  }
  return NULL;
}

int sim_config_is_keyword(const char *word) {
  return word != NULL && (find_setting(word) || find_action(word));
}

/* grow makes room for one more element of |size| bytes after |n| in
 * |*arr|. The capacity is not stored: it doubles when |n| is a power of
 * two. */
static int grow(void **arr, size_t n, size_t size) {
  void *p;
  if (n != 0 && (n & (n - 1)) != 0) {
    return 0;
  }
  if (n > SIZE_MAX / 2 / size ||
      (p = realloc(*arr, (n == 0 ? 1 : 2 * n) * size)) == NULL) {
    return -1;
  }
  *arr = p;
  return 0;
}

/* commit moves what the line staged into |c|. */
static int commit(struct parser *p, sim_config *c, struct stage *st) {
  void *arr = p->act != NULL ? (void *)c->actions : (void *)c->boot;
  if (p->act != NULL) {
    if (st->a.set.r == NULL) {
      if ((st->a.set.r = malloc(sizeof(*st->a.set.r))) == NULL) {
        return FAIL(p, "out of memory");
      }
      st->a.set.r[0].lo = 0;
      st->a.set.r[0].hi = UINT32_MAX;
      st->a.set.n = 1;
    }
    if (grow(&arr, c->nactions, sizeof(*c->actions)) != 0) {
      return FAIL(p, "out of memory");
    }
    c->actions = arr;
    c->actions[c->nactions++] = st->a;
  } else if (st->b.set.r != NULL) {
    if (grow(&arr, c->nboot, sizeof(*c->boot)) != 0) {
      return FAIL(p, "out of memory");
    }
    c->boot = arr;
    c->boot[c->nboot++] = st->b;
  } else {
    *c = st->cfg;
  }
  return 0;
}

/* parse_words parses the statement in |p|'s words (at least one). */
static int parse_words(struct parser *p, sim_config *c, int line) {
  struct stage st;
  const char *kw;
  uint64_t at = 0;
  int rc, timed = strcmp(p->w[0], "at") == 0;
  if (timed) {
    p->kw = "at";
    p->i = 1;
    if (next_qty(p, &q_time, &at) != 0) {
      return -1;
    }
  }
  if ((kw = need(p, "statement")) == NULL) {
    return -1;
  }
  p->kw = NULL;
  if ((p->set = find_setting(kw)) == NULL &&
      (p->act = find_action(kw)) == NULL) {
    return FAIL(p, "unknown statement '%.64s'", kw);
  }
  if (timed && p->set != NULL) {
    return FAIL(p, "%s cannot be timed", kw);
  }
  p->kw = kw;
  memset(&st, 0, sizeof(st));
  st.cfg = *c;
  if (p->act != NULL) {
    st.a.at = at;
    st.a.verb = p->act->verb;
    st.a.field = p->act->field;
    st.a.line = line;
    rc = read_args(p, &st.a, p->act);
  } else {
    rc = p->set->parse(p, &st);
  }
  if (rc == 0 && p->i < p->n) {
    rc = FAIL(p, "unexpected '%.64s'", p->w[p->i]);
  }
  if (rc == 0) {
    rc = commit(p, c, &st);
  }
  if (rc != 0) {
    free(st.a.set.r);
    free(st.b.set.r);
    free(st.b.from.r);
  }
  return rc;
}

/* line_of returns LINE from a |where| of the form "FILE:LINE", else 0. */
static int line_of(const char *where) {
  const char *s = strrchr(where, ':');
  int v = 0;
  if (s == NULL || s[1] == '\0') {
    return 0;
  }
  while (*++s != '\0') {
    if (!is_digit(*s) || v > 99999999) {
      return 0;
    }
    v = v * 10 + (*s - '0');
  }
  return v;
}

int sim_config_parse_line(sim_config *c, const char *line, const char *where,
                          char *err, size_t errlen) {
  static const char blank[] = " \t\r\n\v\f";
  char *words[MAX_WORDS], *buf, *s;
  struct parser p;
  size_t len = line != NULL ? strcspn(line, "#") : 0;
  int rc = 0;
  memset(&p, 0, sizeof(p));
  p.where = where != NULL ? where : "";
  p.w = words;
  p.err = err;
  p.errlen = errlen;
  if ((buf = malloc(len + 1)) == NULL) {
    return FAIL(&p, "out of memory");
  }
  memcpy(buf, line != NULL ? line : "", len);
  buf[len] = '\0';
  for (s = buf + strspn(buf, blank); *s != '\0'; s += strspn(s, blank)) {
    if (p.n == MAX_WORDS) {
      rc = FAIL(&p, "too many words (at most %d)", MAX_WORDS);
      break;
    }
    p.w[p.n++] = s;
    s += strcspn(s, blank);
    if (*s != '\0') {
      *s++ = '\0';
    }
  }
  if (rc == 0 && p.n > 0) {
    rc = parse_words(&p, c, line_of(p.where));
  }
  free(buf);
  return rc;
}

int sim_config_load(sim_config *c, const char *path, char *err, size_t errlen) {
  char buf[FILE_LINE_MAX + 2], where[FILE_LINE_MAX + 32];
  FILE *fp = fopen(path, "r");
  unsigned lineno = 0;
  int rc = 0;
  if (fp == NULL) {
    int e = errno;
    seterr(err, errlen, "%s: %s", path, strerror(e));
    return -1;
  }
  while (rc == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
    size_t len = strlen(buf);
    snprintf(where, sizeof(where), "%.*s:%u", FILE_LINE_MAX, path, ++lineno);
    if (len == sizeof(buf) - 1 && buf[len - 1] != '\n') {
      seterr(err, errlen, "%s: line too long (more than %d bytes)", where,
             FILE_LINE_MAX);
      rc = -1;
    } else {
      rc = sim_config_parse_line(c, buf, where, err, errlen);
    }
  }
  if (rc == 0 && ferror(fp)) {
    seterr(err, errlen, "%s: read error", path);
    rc = -1;
  }
  fclose(fp);
  return rc;
}

/* ---- the whole ---- */

void sim_config_init(sim_config *c) {
  memset(c, 0, sizeof(*c));
  c->seed = 1;
  c->nodes = 10;
  c->duration = 60 * SIM_S;
  c->deadline = 2 * SIM_S;
  sim_placement_default(&c->place);
  sim_link_default(&c->link);
  c->log_level = -1;
}

void sim_config_free(sim_config *c) {
  size_t i;
  for (i = 0; i < c->nboot; i++) {
    free(c->boot[i].set.r);
    free(c->boot[i].from.r);
  }
  for (i = 0; i < c->nactions; i++) {
    free(c->actions[i].set.r);
  }
  free(c->boot);
  free(c->actions);
  sim_config_init(c);
}

/* check_set fails if |set| names a node at or above |c->nodes|; "all" is
 * always fine. |what| starts the message. */
static int check_set(const sim_config *c, const sim_set *set, const char *what,
                     char *err, size_t errlen) {
  uint32_t top;
  if (set->n == 0 ||
      (set->n == 1 && set->r[0].lo == 0 && set->r[0].hi == UINT32_MAX)) {
    return 0;
  }
  if ((top = set->r[set->n - 1].hi) < c->nodes) {
    return 0;
  }
  seterr(err, errlen, "%s: node %u is out of range (the run has %u nodes)",
         what, (unsigned)top, (unsigned)c->nodes);
  return -1;
}

static int check_action(const sim_config *c, const sim_action *a, char *err,
                        size_t errlen) {
  int verb = a->verb == SIM_ACT_CHURN_STOP    ? SIM_ACT_CHURN
             : a->verb == SIM_ACT_STREAM_STOP ? SIM_ACT_STREAM
                                              : a->verb;
  const char *name = NULL;
  char what[64];
  size_t k;
  for (k = 0; k < SC_ARRAY_LEN(actions) && name == NULL; k++) {
    if (actions[k].verb == verb &&
        (verb != SIM_ACT_LINK || actions[k].field == a->field)) {
      name = actions[k].kw;
    }
  }
  name = name != NULL ? name : "action";
  if (a->line > 0) {
    snprintf(what, sizeof(what), "line %d: %s", a->line, name);
  } else {
    snprintf(what, sizeof(what), "command line: %s", name);
  }
  if (a->at >= c->duration) {
    seterr(err, errlen, "%s: at %.9gs is not before the end (duration %.9gs)",
           what, (double)a->at / 1e9, (double)c->duration / 1e9);
    return -1;
  }
  return check_set(c, &a->set, what, err, errlen);
}

const sim_action *sim_config_first(const sim_config *c, int verb) {
  size_t i;
  for (i = 0; i < c->nactions; i++) {
    if (c->actions[i].verb == verb) {
      return &c->actions[i];
    }
  }
  return NULL;
}

/* Statements that act in the first group, which must exist, and those of
 * them a run has at most one of (a stream: its counters and seqs are the
 * report's; replicate: the report follows one set of objects). */
static const struct {
  int verb;
  const char *name, *where;
  int once;
} in_group[] = {
    {SIM_ACT_STREAM, "stream", "it is published in the first group", 1},
    {SIM_ACT_REPLICATE, "replicate", "the objects are in the first group", 1},
    {SIM_ACT_POST, "post", "posts go to the first group", 0},
    {SIM_ACT_ROUTE, "route", "it routes in the first group", 0},
};

static int check_in_group(const sim_config *c, char *err, size_t errlen) {
  size_t k, i;
  for (k = 0; k < SC_ARRAY_LEN(in_group); k++) {
    const sim_action *a = sim_config_first(c, in_group[k].verb);
    if (a == NULL) {
      continue;
    }
    for (i = 0; in_group[k].once && i < c->nactions; i++) {
      const sim_action *b = &c->actions[i];
      if (b->verb == in_group[k].verb && b != a) {
        if (b->line > 0) {
          seterr(err, errlen, "line %d: %s: only one %s per run", b->line,
                 in_group[k].name, in_group[k].name);
        } else {
          seterr(err, errlen, "command line: %s: only one %s per run",
                 in_group[k].name, in_group[k].name);
        }
        return -1;
      }
    }
    if (c->ngroups == 0) {
      seterr(err, errlen, "%s: needs a group statement (%s)", in_group[k].name,
             in_group[k].where);
      return -1;
    }
  }
  return 0;
}

/* merge_sort sorts |a| by time, keeping the order of equal times, with
 * |tmp| as scratch of the same size: bottom-up, runs of |w| doubling. */
static void merge_sort(sim_action *a, sim_action *tmp, size_t n) {
  size_t w, lo, mid, hi, i, j, k;
  for (w = 1; w < n; w *= 2) {
    for (lo = 0; lo + w < n; lo += 2 * w) {
      mid = lo + w;
      hi = SC_MIN(mid + w, n);
      for (i = lo, j = mid, k = 0; i < mid && j < hi;) {
        tmp[k++] = a[j].at < a[i].at ? a[j++] : a[i++];
      }
      while (i < mid) {
        tmp[k++] = a[i++];
      }
      memcpy(a + lo, tmp, k * sizeof(*a)); /* a[j..hi) is in place */
    }
  }
}

int sim_config_finish(sim_config *c, char *err, size_t errlen) {
  sim_action *tmp;
  size_t i;
  for (i = 0; i < c->nboot; i++) {
    if (check_set(c, &c->boot[i].set, "bootstrap", err, errlen) != 0 ||
        check_set(c, &c->boot[i].from, "bootstrap", err, errlen) != 0) {
      return -1;
    }
    if (c->boot[i].from.n == 0 && c->boot[i].k == 0) {
      seterr(err, errlen, "bootstrap: random needs a count of at least 1");
      return -1;
    }
  }
  for (i = 0; i < c->nactions; i++) {
    if (check_action(c, &c->actions[i], err, errlen) != 0) {
      return -1;
    }
  }
  if (check_in_group(c, err, errlen) != 0) {
    return -1;
  }
  if (c->nactions < 2) {
    return 0;
  }
  if ((tmp = malloc(c->nactions * sizeof(*tmp))) == NULL) {
    seterr(err, errlen, "out of memory");
    return -1;
  }
  merge_sort(c->actions, tmp, c->nactions);
  free(tmp);
  return 0;
}

/* to_u64 converts a stored value back, clamping what a hand-made action
 * could hold out of range. */
static uint64_t to_u64(double v) {
  if (!(v > 0)) {
    return 0;
  }
  return v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
}

void sim_link_apply(sim_link *l, const sim_action *a) {
  const double *v = a->v;
  switch (a->verb == SIM_ACT_LINK ? a->field : 0) {
  case SIM_F_UPLINK:
    l->up_bps = to_u64(v[0]);
    l->up_queue = v[1] < 0 ? l->up_queue : to_u64(v[1]);
    break;
  case SIM_F_DOWNLINK:
    l->down_bps = to_u64(v[0]);
    l->down_queue = v[1] < 0 ? l->down_queue : to_u64(v[1]);
    break;
  case SIM_F_LOSS:
    l->loss = v[0];
    break;
  case SIM_F_BURST_LOSS:
    l->ge_p_gb = v[0];
    l->ge_p_bg = v[1];
    l->ge_loss_bad = v[2];
    l->ge_loss_good = v[3];
    break;
  case SIM_F_JITTER:
    l->jitter = to_u64(v[0]);
    break;
  case SIM_F_REORDER:
    l->reorder = v[0];
    l->reorder_delay = to_u64(v[1]);
    break;
  case SIM_F_DUPLICATE:
    l->duplicate = v[0];
    break;
  case SIM_F_CORRUPT:
    l->corrupt = v[0];
    break;
  default:
    break;
  }
}
