/*
 * stratoctl_top.c: `stratoctl top`, a live view of one node through its
 * stats socket: a header (peer, uptime, sessions, traffic), the sessions,
 * the neighbours of each group, the streams and the groups' messaging
 * rates, in at most 80 columns.
 *
 * Each frame asks for show info, sessions, groups, neighbors and streams
 * on one connection and parses the answers with the strict minijson
 * reader. Rates are the difference between this frame and the previous
 * one over the time between them, except the groups' messaging rates,
 * which the daemon computes itself (the `rates` of show groups). On a
 * terminal each frame clears the screen; otherwise frames follow each
 * other, separated by a blank line.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "minijson.h"
#include "stratoctl.h"

#define TOP_WIDTH 80
#define TOP_ANSWER_MAX ((size_t)16 << 20) /* all five answers of a frame */
#define TOP_TIMEOUT_MS 15000
#define TOP_SESSIONS_MAX 12 /* rows of the sessions table */
#define TOP_NEIGHBORS_MAX 8 /* rows per group */
#define TOP_PATH_MAX_SHOWN 40
#define TOP_CELL 32 /* a formatted value */

/* The tables' rows and column heads. */
#define SESSION_FMT "  %-12.12s %-25.25s %-5s %7s %7s %7s %6s"
#define NEIGHBOR_FMT "  %-12.12s %-25.25s %-22.22s %7s %6s"
#define STREAM_FMT "  %-8.8s %-10.10s %7s %7s %5s %7s %9s %7s %7s"
#define RATES_FMT "  %-12.12s %14s %14s %14s %14s"
#define UNKNOWN ((double)NAN)

enum { Q_INFO, Q_SESSIONS, Q_GROUPS, Q_NEIGHBORS, Q_STREAMS, Q_COUNT };

static const char *const TOP_COMMANDS[Q_COUNT] = {
    "show info", "show sessions", "show groups", "show neighbors",
    "show streams"};
static const char TOP_QUERY[] = "show info\nshow sessions\nshow groups\n"
                                "show neighbors\nshow streams\n";

/* One sample of the node: the five answers and their parses. */
typedef struct top_frame {
  char *text;
  mj_value *vals;
  mj_doc doc[Q_COUNT];
  long long t_ms; /* monotonic ms when they were asked for */
} top_frame;

typedef struct top_opts {
  const char *path;
  long count; /* frames to print; -1: until interrupted */
  long long period_ms;
} top_opts;

/* A row of a table sorted by traffic. */
typedef struct top_row {
  size_t idx; /* the value's index in its document */
  double in, out;
} top_row;

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one frame from the socket --------------------------------------------
 */

/* Reads from |fd| until the daemon closes into a new NUL-terminated buffer
 * in |*out|. Returns its length, or -1 after printing why. */
static long read_all(int fd, char **out) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap), *grown;
  long long deadline = mono_ms() + TOP_TIMEOUT_MS;
  if (buf == NULL) {
    fprintf(stderr, "stratoctl: out of memory\n");
    return -1;
  }
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long long left = deadline - mono_ms();
    ssize_t n;
    int e, pr;
    if (len + 1 == cap) {
      if (cap >= TOP_ANSWER_MAX) {
        fprintf(stderr, "stratoctl: top: the answers pass %zu MiB\n",
                TOP_ANSWER_MAX >> 20);
        break;
      }
      if ((grown = realloc(buf, cap * 2)) == NULL) {
        fprintf(stderr, "stratoctl: out of memory\n");
        break;
      }
      buf = grown;
      cap *= 2;
    }
    pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
    if (pr == 0) {
      fprintf(stderr, "stratoctl: no answer within %d s\n",
              TOP_TIMEOUT_MS / 1000);
      break;
    }
    n = pr < 0 ? -1 : read(fd, buf + len, cap - 1 - len);
    e = n < 0 ? errno : 0;
    if (n < 0 && e == EINTR) {
      continue;
    }
    if (n < 0) {
      fprintf(stderr, "stratoctl: read: %s\n", strerror(e));
      break;
    }
    if (n == 0) {
      buf[len] = '\0';
      *out = buf;
      return (long)len;
    }
    len += (size_t)n;
  }
  free(buf);
  return -1;
}

static void frame_free(top_frame *f) {
  free(f->text);
  free(f->vals);
  memset(f, 0, sizeof(*f));
}

/* Asks the daemon at |path| for the five answers and parses them into
 * |f| (which frame_free releases, whatever the outcome). Returns 0, or 1
 * after printing why. */
static int frame_fetch(top_frame *f, const char *path) {
  static const int roots[Q_COUNT] = {MJ_OBJECT, MJ_ARRAY, MJ_ARRAY, MJ_ARRAY,
                                     MJ_ARRAY};
  size_t off = 0, used = 0;
  long len;
  int q, fd;
  frame_free(f);
  if ((fd = ctl_connect(path)) < 0) {
    return 1;
  }
  f->t_ms = mono_ms();
  if (ctl_send_all(fd, TOP_QUERY, sizeof(TOP_QUERY) - 1) != 0) {
    close(fd);
    return 1;
  }
  shutdown(fd, SHUT_WR);
  len = read_all(fd, &f->text);
  close(fd);
  if (len < 0) {
    return 1;
  }
  /* One value per byte of text is always enough (minijson.h). */
  if ((f->vals = calloc((size_t)len + 1, sizeof(mj_value))) == NULL) {
    fprintf(stderr, "stratoctl: out of memory\n");
    return 1;
  }
  for (q = 0; q < Q_COUNT; q++) {
    const char *line = f->text + off;
    const char *nl = memchr(line, '\n', (size_t)len - off);
    size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)len - off;
    if (nl == NULL ||
        mj_parse(&f->doc[q], line, n, f->vals + used, (size_t)len + 1 - used) !=
            0 ||
        mj_type(&f->doc[q], 0) != roots[q]) {
      fprintf(stderr, "stratoctl: top: unexpected answer to '%s': %.*s\n",
              TOP_COMMANDS[q], (int)(n > 200 ? 200 : n), line);
      return 1;
    }
    used += f->doc[q].n;
    off += n + 1;
  }
  return 0;
}

/* ---- reading and formatting values ------------------------------------- */

/* Prints one line, cut to TOP_WIDTH columns, without trailing blanks.
 * Every string in it went through text(), so one byte is one column. */
__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...) {
  char line[512];
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  line[TOP_WIDTH] = '\0';
  n = strlen(line);
  while (n > 0 && line[n - 1] == ' ') {
    line[--n] = '\0';
  }
  puts(line);
}

/* Member |key| of object |obj| as a number; UNKNOWN when absent or not one. */
static double num(const mj_doc *d, size_t obj, const char *key) {
  double v;
  return mj_number(d, mj_get(d, obj, key), &v) == 0 ? v : UNKNOWN;
}

/* Copies string |i| into |buf| (|cap| bytes), cut to fit, with every byte
 * that is not printable ASCII replaced by '?'; "-" if |i| is no string. */
static const char *text_at(const mj_doc *d, size_t i, char *buf, size_t cap) {
  sc_ssize n = mj_string(d, i, buf, cap);
  size_t k;
  if (n == SC_ERR_BUFFER) {
    n = (sc_ssize)strlen(buf);
  } else if (n < 0) {
    snprintf(buf, cap, "-");
    return buf;
  }
  for (k = 0; k < (size_t)n; k++) {
    if ((unsigned char)buf[k] < 0x20 || (unsigned char)buf[k] >= 0x7f) {
      buf[k] = '?';
    }
  }
  buf[n] = '\0';
  return buf;
}

static const char *text(const mj_doc *d, size_t obj, const char *key, char *buf,
                        size_t cap) {
  return text_at(d, mj_get(d, obj, key), buf, cap);
}

/* A byte rate or a count in at most 5 columns: 999, 9.9k, 999k, 9.9M... */
static const char *fmt_si(char out[TOP_CELL], double v) {
  if (isnan(v) || v < 0) {
    return "-";
  }
  if (v < 999.5) {
    snprintf(out, TOP_CELL, "%.0f", v);
  } else if (v < 9950) {
    snprintf(out, TOP_CELL, "%.1fk", v / 1e3);
  } else if (v < 999.5e3) {
    snprintf(out, TOP_CELL, "%.0fk", v / 1e3);
  } else if (v < 9.95e6) {
    snprintf(out, TOP_CELL, "%.1fM", v / 1e6);
  } else if (v < 999.5e6) {
    snprintf(out, TOP_CELL, "%.0fM", v / 1e6);
  } else {
    snprintf(out, TOP_CELL, "%.1fG", v / 1e9);
  }
  return out;
}

/* A whole number as it is up to 7 digits, then as fmt_si. */
static const char *fmt_count(char out[TOP_CELL], double v) {
  if (!isnan(v) && v >= 0 && v < 1e7) {
    snprintf(out, TOP_CELL, "%.0f", v);
    return out;
  }
  return fmt_si(out, v);
}

static const char *fmt_ms(char out[TOP_CELL], double v) {
  if (isnan(v)) {
    return "-";
  }
  snprintf(out, TOP_CELL, v < 100 ? "%.3f" : v < 10000 ? "%.1f" : "%.0f", v);
  return out;
}

static const char *fmt_age(char out[TOP_CELL], double s) {
  long t = isnan(s) || s < 0 ? -1 : (long)s;
  if (t < 0) {
    return "-";
  }
  if (t < 60) {
    snprintf(out, TOP_CELL, "%lds", t);
  } else if (t < 3600) {
    snprintf(out, TOP_CELL, "%ldm%02lds", t / 60, t % 60);
  } else if (t < 86400) {
    snprintf(out, TOP_CELL, "%ldh%02ldm", t / 3600, t % 3600 / 60);
  } else {
    snprintf(out, TOP_CELL, "%ldd%02ldh", t / 86400, t % 86400 / 3600);
  }
  return out;
}

/* Bytes a second between |before| and |now| over |dt_ms|; UNKNOWN when either
 * is unknown or the counter went back (a restarted daemon). */
static double rate(double now, double before, long long dt_ms) {
  if (isnan(now) || isnan(before) || dt_ms <= 0 || now < before) {
    return UNKNOWN;
  }
  return (now - before) * 1000.0 / (double)dt_ms;
}

/* The element of array document |d| whose member |key| is the number |v|
 * (or, with |s|, the string |s|); MJ_NONE if none or no |d|. */
static size_t find_elem(const mj_doc *d, const char *key, double v,
                        const char *s) {
  size_t k, e;
  for (k = 0; d != NULL && (e = mj_at(d, 0, k)) != MJ_NONE; k++) {
    if (s != NULL ? mj_string_eq(d, mj_get(d, e, key), s)
                  : num(d, e, key) == v) {
      return e;
    }
  }
  return MJ_NONE;
}

/* The sum of members |keys| (NULL-terminated) of |obj|; UNKNOWN if one is
 * missing or |obj| is MJ_NONE. */
static double sum(const mj_doc *d, size_t obj, const char *const *keys) {
  double total = 0;
  for (; obj != MJ_NONE && *keys != NULL; keys++) {
    total += num(d, obj, *keys);
  }
  return obj == MJ_NONE ? UNKNOWN : total;
}

/* Joins the strings of array |arr|, each through |abbrev| (pairs of a
 * word and its short form, NULL-terminated), with commas into |buf|. */
static const char *join_strings(const mj_doc *d, size_t arr,
                                const char *const (*abbrev)[2], char *buf,
                                size_t cap) {
  size_t k, e, len = 0, a;
  char word[32];
  buf[0] = '\0';
  for (k = 0; (e = mj_at(d, arr, k)) != MJ_NONE; k++) {
    text_at(d, e, word, sizeof(word));
    for (a = 0; abbrev[a][0] != NULL; a++) {
      if (strcmp(word, abbrev[a][0]) == 0) {
        snprintf(word, sizeof(word), "%s", abbrev[a][1]);
        break;
      }
    }
    len +=
        (size_t)snprintf(buf + len, cap - len, "%s%s", k > 0 ? "," : "", word);
    if (len >= cap) {
      break;
    }
  }
  return buf;
}

/* ---- the sections --------------------------------------------------------
 */

static void draw_header(const top_frame *f, const top_frame *prev,
                        const top_opts *o, long frame) {
  const mj_doc *d = &f->doc[Q_INFO];
  const mj_doc *pd = prev != NULL ? &prev->doc[Q_INFO] : NULL;
  size_t c = mj_get(d, 0, "counters");
  size_t pc = pd != NULL ? mj_get(pd, 0, "counters") : MJ_NONE;
  long long dt = prev != NULL ? f->t_ms - prev->t_ms : 0;
  size_t plen = strlen(o->path);
  char peer[80], listen[64], state[TOP_CELL], ver[32], clock[TOP_CELL],
      up[TOP_CELL], a[TOP_CELL], b[TOP_CELL], e[TOP_CELL], g[TOP_CELL],
      h[TOP_CELL], n[TOP_CELL];
  time_t now = time(NULL);
  struct tm tm;
  strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
  out("stratoctl top  %s%s  frame %ld  %s",
      plen > TOP_PATH_MAX_SHOWN ? "..." : "",
      o->path + (plen > TOP_PATH_MAX_SHOWN ? plen - TOP_PATH_MAX_SHOWN + 3 : 0),
      frame, clock);
  text(d, 0, "peer_id", peer, sizeof(peer));
  out("peer %.16s  %s  up %s  %s  %s", peer,
      text(d, 0, "listen", listen, sizeof(listen)),
      fmt_age(up, num(d, 0, "uptime_s")),
      text(d, 0, "state", state, sizeof(state)),
      text(d, 0, "version", ver, sizeof(ver)));
  out("sessions %s (%s established)  in %s B/s  out %s B/s  pkts %s/%s per s",
      fmt_count(n, num(d, 0, "sessions")),
      fmt_count(e, num(d, 0, "sessions_established")),
      fmt_si(a, rate(num(d, c, "bytes_received"),
                     pd != NULL ? num(pd, pc, "bytes_received") : UNKNOWN, dt)),
      fmt_si(b, rate(num(d, c, "bytes_sent"),
                     pd != NULL ? num(pd, pc, "bytes_sent") : UNKNOWN, dt)),
      fmt_si(g,
             rate(num(d, c, "packets_received"),
                  pd != NULL ? num(pd, pc, "packets_received") : UNKNOWN, dt)),
      fmt_si(h, rate(num(d, c, "packets_sent"),
                     pd != NULL ? num(pd, pc, "packets_sent") : UNKNOWN, dt)));
}

/* Busiest first; unknown rates last, then in the daemon's order. */
static int row_cmp(const void *x, const void *y) {
  const top_row *a = x, *b = y;
  double ta = isnan(a->in + a->out) ? -1 : a->in + a->out;
  double tb = isnan(b->in + b->out) ? -1 : b->in + b->out;
  if (ta != tb) {
    return ta < tb ? 1 : -1;
  }
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void draw_session(const mj_doc *d, const top_row *r) {
  static const char *const states[][2] = {
      {"established", "est"}, {"handshake", "hs"}, {"closing", "close"}};
  char peer[80], addr[64], state[TOP_CELL], rtt[TOP_CELL], a[TOP_CELL],
      b[TOP_CELL], age[TOP_CELL];
  size_t k;
  text(d, r->idx, "state", state, sizeof(state));
  for (k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
    if (strcmp(state, states[k][0]) == 0) {
      snprintf(state, sizeof(state), "%s", states[k][1]);
    }
  }
  text(d, r->idx, "peer_id", peer, sizeof(peer));
  out(SESSION_FMT, peer, text(d, r->idx, "address", addr, sizeof(addr)), state,
      fmt_ms(rtt, num(d, r->idx, "rtt_ms")), fmt_si(a, r->in),
      fmt_si(b, r->out), fmt_age(age, num(d, r->idx, "age_s")));
}

static void draw_sessions(const top_frame *f, const top_frame *prev) {
  const mj_doc *d = &f->doc[Q_SESSIONS];
  const mj_doc *pd = prev != NULL ? &prev->doc[Q_SESSIONS] : NULL;
  long long dt = prev != NULL ? f->t_ms - prev->t_ms : 0;
  size_t n = mj_count(d, 0), k, p;
  top_row *rows = calloc(n + 1, sizeof(*rows));
  out("%s", "");
  out("SESSIONS %zu", n);
  out(SESSION_FMT, "peer", "address", "state", "rtt ms", "in B/s", "out B/s",
      "age");
  if (rows == NULL) {
    out("  (out of memory)");
    return;
  }
  for (k = 0; k < n; k++) {
    rows[k].idx = mj_at(d, 0, k);
    p = find_elem(pd, "local_id", num(d, rows[k].idx, "local_id"), NULL);
    rows[k].in = p == MJ_NONE ? UNKNOWN
                              : rate(num(d, rows[k].idx, "bytes_received"),
                                     num(pd, p, "bytes_received"), dt);
    rows[k].out = p == MJ_NONE ? UNKNOWN
                               : rate(num(d, rows[k].idx, "bytes_sent"),
                                      num(pd, p, "bytes_sent"), dt);
  }
  qsort(rows, n, sizeof(*rows), row_cmp);
  for (k = 0; k < n && k < TOP_SESSIONS_MAX; k++) {
    draw_session(d, &rows[k]);
  }
  if (n > TOP_SESSIONS_MAX) {
    out("  ... and %zu more", n - TOP_SESSIONS_MAX);
  }
  free(rows);
}

/* The neighbours of group |g| of the groups document |gd|. */
static void draw_group_neighbors(const mj_doc *gd, size_t g, const mj_doc *nd) {
  static const char *const reasons[][2] = {{"lookup", "look"},
                                           {"latency", "lat"},
                                           {"random", "rand"},
                                           {"accepted", "acc"},
                                           {NULL, NULL}};
  char name[24], gid[80], peer[80], addr[64], why[64], rtt[TOP_CELL],
      age[TOP_CELL], a[TOP_CELL], b[TOP_CELL], c[TOP_CELL], e[TOP_CELL];
  size_t k, x, shown = 0;
  text(gd, g, "name", name, sizeof(name));
  text(gd, g, "group_id", gid, sizeof(gid));
  out("%s", "");
  out("NEIGHBOURS %s: %s of target %s, %s members known, ~%s in the group",
      name, fmt_count(a, num(gd, g, "neighbors")),
      fmt_count(b, num(gd, g, "target")),
      fmt_count(c, num(gd, g, "members_known")),
      fmt_count(e, num(gd, g, "estimated_members")));
  out(NEIGHBOR_FMT, "peer", "address", "reasons", "rtt ms", "age");
  for (k = 0; (x = mj_at(nd, 0, k)) != MJ_NONE; k++) {
    if (!mj_string_eq(nd, mj_get(nd, x, "group_id"), gid)) {
      continue;
    }
    if (shown++ == TOP_NEIGHBORS_MAX) {
      continue;
    }
    text(nd, x, "peer_id", peer, sizeof(peer));
    out(NEIGHBOR_FMT, peer, text(nd, x, "addr", addr, sizeof(addr)),
        join_strings(nd, mj_get(nd, x, "reasons"), reasons, why, sizeof(why)),
        fmt_ms(rtt, num(nd, x, "rtt_ms")), fmt_age(age, num(nd, x, "age_s")));
  }
  if (shown > TOP_NEIGHBORS_MAX) {
    out("  ... and %zu more", shown - TOP_NEIGHBORS_MAX);
  } else if (shown == 0) {
    out("  (none)");
  }
}

static void draw_neighbors(const top_frame *f) {
  const mj_doc *gd = &f->doc[Q_GROUPS];
  size_t k, g;
  if (mj_count(gd, 0) == 0) {
    out("%s", "");
    out("NEIGHBOURS  (the node is in no group)");
  }
  for (k = 0; (g = mj_at(gd, 0, k)) != MJ_NONE; k++) {
    draw_group_neighbors(gd, g, &f->doc[Q_NEIGHBORS]);
  }
}

/* The stream |s| of |d| and, with the same stream in |pd| at |p|, its
 * rates over |dt| ms. */
static void draw_stream(const mj_doc *d, size_t s, const mj_doc *pd, size_t p,
                        long long dt) {
  static const char *const in_keys[] = {"bytes_from_source",
                                        "bytes_pushed_from_peers",
                                        "bytes_pulled_from_peers", NULL};
  static const char *const out_keys[] = {"bytes_pushed_to_peers",
                                         "bytes_requested_by_peers", NULL};
  static const char *const roles[][2] = {
      {"publisher", "pub"}, {"playing", "play"}, {NULL, NULL}};
  char name[TOP_CELL], role[48], latest[TOP_CELL], played[TOP_CELL],
      gaps[TOP_CELL], lat[TOP_CELL], pc[24], push[TOP_CELL], child[TOP_CELL],
      in[TOP_CELL], outr[TOP_CELL], a[TOP_CELL], b[TOP_CELL], c[TOP_CELL],
      e[TOP_CELL], g[TOP_CELL], h[TOP_CELL], j[TOP_CELL];
  snprintf(pc, sizeof(pc), "%s/%s", fmt_count(push, num(d, s, "pushers")),
           fmt_count(child, num(d, s, "children")));
  out(STREAM_FMT, text(d, s, "name", name, sizeof(name)),
      join_strings(d, mj_get(d, s, "roles"), roles, role, sizeof(role)),
      fmt_count(latest, num(d, s, "latest_seq")),
      fmt_count(played, num(d, s, "fragments_played")),
      fmt_count(gaps, num(d, s, "gaps")), fmt_ms(lat, num(d, s, "latency_ms")),
      pc,
      fmt_si(in, p == MJ_NONE
                     ? UNKNOWN
                     : rate(sum(d, s, in_keys), sum(pd, p, in_keys), dt)),
      fmt_si(outr, p == MJ_NONE
                       ? UNKNOWN
                       : rate(sum(d, s, out_keys), sum(pd, p, out_keys), dt)));
  out("    peers %s  pulled %s  dups %s  forged %s  stale %s  gave up %s  "
      "retunes %s",
      fmt_count(a, num(d, s, "peers")),
      fmt_count(b, num(d, s, "fragments_pulled_from_peers")),
      fmt_count(c, num(d, s, "duplicates")),
      fmt_count(e, num(d, s, "forgeries")), fmt_count(g, num(d, s, "stale")),
      fmt_count(h, num(d, s, "pull_giveups")),
      fmt_count(j, num(d, s, "retunes")));
}

static void draw_streams(const top_frame *f, const top_frame *prev) {
  const mj_doc *d = &f->doc[Q_STREAMS];
  const mj_doc *pd = prev != NULL ? &prev->doc[Q_STREAMS] : NULL;
  long long dt = prev != NULL ? f->t_ms - prev->t_ms : 0;
  char sid[80];
  size_t k, s;
  out("%s", "");
  out("STREAMS %zu", mj_count(d, 0));
  out(STREAM_FMT, "name", "roles", "latest", "played", "gaps", "lat ms",
      "push/chld", "in B/s", "out B/s");
  for (k = 0; (s = mj_at(d, 0, k)) != MJ_NONE; k++) {
    text(d, s, "stream_id", sid, sizeof(sid));
    draw_stream(d, s, pd, find_elem(pd, "stream_id", 0, sid), dt);
  }
  if (k == 0) {
    out("  (none)");
  }
}

static void draw_group_rates(const top_frame *f) {
  static const char *const keys[][2] = {
      {"posting_send_data_bytes_per_s", "posting_send_control_bytes_per_s"},
      {"posting_receive_data_bytes_per_s",
       "posting_receive_control_bytes_per_s"},
      {"routing_send_bytes_per_s", "routing_receive_bytes_per_s"},
      {"replication_send_bytes_per_s", "replication_receive_bytes_per_s"}};
  const mj_doc *d = &f->doc[Q_GROUPS];
  char name[24], cell[4][24], a[TOP_CELL], b[TOP_CELL];
  size_t k, g, r, i;
  out("%s", "");
  out("GROUP RATES  bytes a second over the last 10 s (data/control)");
  out(RATES_FMT, "group", "post out", "post in", "route out/in", "repl out/in");
  for (k = 0; (g = mj_at(d, 0, k)) != MJ_NONE; k++) {
    r = mj_get(d, g, "rates");
    for (i = 0; i < 4; i++) {
      snprintf(cell[i], sizeof(cell[i]), "%s/%s",
               fmt_si(a, num(d, r, keys[i][0])),
               fmt_si(b, num(d, r, keys[i][1])));
    }
    out(RATES_FMT, text(d, g, "name", name, sizeof(name)), cell[0], cell[1],
        cell[2], cell[3]);
  }
  if (k == 0) {
    out("  (none)");
  }
}

/* ---- the loop --------------------------------------------------------------
 */

static int parse_top(top_opts *o, const char *path, int argc, char **argv,
                     int i) {
  char *end;
  o->path = path;
  o->count = -1;
  o->period_ms = 1000;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--socket=", 9) == 0) {
      o->path = a + 9;
      continue;
    }
    if (strcmp(a, "-s") != 0 && strcmp(a, "--socket") != 0 &&
        strcmp(a, "-n") != 0 && strcmp(a, "-d") != 0) {
      return ctl_usage_error("top: unknown option", a);
    }
    if (++i >= argc) {
      return ctl_usage_error("top: missing value after", a);
    }
    errno = 0;
    if (a[1] == 'n') {
      o->count = strtol(argv[i], &end, 10);
      if (errno != 0 || *end != '\0' || end == argv[i] || o->count < 1) {
        return ctl_usage_error("top: -n takes a count from 1", argv[i]);
      }
    } else if (a[1] == 'd') {
      double sec = strtod(argv[i], &end);
      if (errno != 0 || *end != '\0' || !(sec >= 0.1 && sec <= 3600)) {
        return ctl_usage_error("top: -d takes seconds from 0.1 to 3600",
                               argv[i]);
      }
      o->period_ms = (long long)(sec * 1000.0 + 0.5);
    } else {
      o->path = argv[i];
    }
  }
  return 0;
}

static void sleep_until(long long t_ms) {
  long long left;
  while ((left = t_ms - mono_ms()) > 0) {
    struct timespec ts = {.tv_sec = (time_t)(left / 1000),
                          .tv_nsec = (long)(left % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
}

int ctl_top(const char *path, int argc, char **argv, int i) {
  top_frame frames[2];
  top_frame *cur, *prev = NULL;
  top_opts o;
  long shown = 0;
  long long next;
  int tty = isatty(STDOUT_FILENO), rc;
  if ((rc = parse_top(&o, path, argc, argv, i)) != 0) {
    return rc;
  }
  memset(frames, 0, sizeof(frames));
  next = mono_ms();
  for (;;) {
    cur = &frames[shown % 2];
    if (frame_fetch(cur, o.path) != 0) {
      rc = 1;
      break;
    }
    if (tty) {
      fputs("\033[H\033[2J", stdout);
    } else if (shown > 0) {
      putchar('\n');
    }
    draw_header(cur, prev, &o, shown + 1);
    draw_sessions(cur, prev);
    draw_neighbors(cur);
    draw_streams(cur, prev);
    draw_group_rates(cur);
    if (fflush(stdout) != 0) {
      fprintf(stderr, "stratoctl: cannot write to stdout\n");
      rc = 1;
      break;
    }
    prev = cur;
    if (++shown == o.count) {
      break;
    }
    /* A late frame does not make the next ones come in a burst. */
    next += o.period_ms;
    if (next < mono_ms()) {
      next = mono_ms() + o.period_ms;
    }
    sleep_until(next);
  }
  frame_free(&frames[0]);
  frame_free(&frames[1]);
  return rc;
}
