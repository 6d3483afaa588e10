/*
 * stratoctl: talk to a running stratocastd.
 *
 *   stratoctl [-s PATH] show info|sessions|groups|neighbors|streams|history
 *   stratoctl [-s PATH] metrics|help
 *   stratoctl [-s PATH] top [-s PATH] [-n COUNT] [-d SECONDS]
 *   stratoctl [-a PATH] post GROUP TEXT...
 *   stratoctl [-a PATH] listen [-n COUNT] [-t SECONDS] [--json] GROUP
 *   stratoctl [-a PATH] route GROUP ADDRESS|up|down TEXT...
 *   stratoctl [-a PATH] receive-mode GROUP exact|nearest
 *   stratoctl [-a PATH] replicate GROUP write INDEX TEXT... | read INDEX |
 *             have INDEX | remove INDEX | want FIRST COUNT |
 *             unwant FIRST COUNT | strategy lowest_first|rarest_first
 *
 * The first two send one command to the stats socket (the words joined with
 * single spaces) and print the answer; top (stratoctl_top.c) redraws a
 * view of the node every second. post and listen use the API socket
 * (doc/api.md): post sends TEXT (the words joined with spaces) as a post to
 * GROUP; listen subscribes to GROUP and prints each post (and routed
 * message) as one line as it arrives; route, receive-mode and replicate
 * are the ops of the same names (doc/api.md). Exit status: 0 for an answer, 1
 * when the daemon cannot be reached, answers with an error, or listen saw fewer
 * than COUNT events by its deadline, 2 for a usage error.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "minijson.h"
#include "stratoctl.h"

#define DEFAULT_SOCKET "/run/stratocast/stats.sock"
#define SOCKET_ENV "STRATOCAST_STATS_SOCKET"
#define DEFAULT_API_SOCKET "/run/stratocast/api.sock"
#define API_SOCKET_ENV "STRATOCAST_API_SOCKET"
#define MAX_LINE 1024
#define ANSWER_TIMEOUT_MS 15000
#define API_LINE_MAX 8192 /* an answer or event line of the API socket */
#define POST_MAX 900      /* bytes of a post (SC_POST_MAX_LEN) */

static void usage(FILE *fp) {
  fputs("Usage: stratoctl [-s PATH] [-a PATH] COMMAND...\n"
        "Ask a running stratocastd for its state, or post and listen.\n"
        "\n"
        "Commands (stats socket):\n"
        "  show info       the node: peer ID, address, uptime, counters\n"
        "  show sessions   one entry per session: peer, state, RTT, bytes\n"
        "  show groups     one entry per group: ID, size estimate, neighbours\n"
        "  show neighbors  one entry per neighbour in each group: peer,\n"
        "                  why it was chosen, RTT, age\n"
        "  show streams    one entry per live stream: roles, latest seq,\n"
        "                  pushed/pulled/played counters, latency\n"
        "  show history    the peers remembered across restarts, with\n"
        "                  sessions, failures, RTT and score\n"
        "  metrics         Prometheus text exposition format\n"
        "  help            the commands the daemon knows\n"
        "  top [-s PATH] [-n COUNT] [-d SECONDS]\n"
        "                  a live view of the node in 80 columns: sessions,\n"
        "                  neighbours, streams, rates; a new frame every\n"
        "                  SECONDS (default 1), COUNT frames (default: until\n"
        "                  interrupted)\n"
        "\n"
        "Commands (API socket, doc/api.md):\n"
        "  post GROUP TEXT...  post TEXT to GROUP (the spec it was joined\n"
        "                  with), at most 900 bytes\n"
        "  listen [-n COUNT] [-t SECONDS] [--json] GROUP\n"
        "                  print each post to GROUP as it arrives, one line:\n"
        "                  'post FROM NUMBER TEXT', TEXT with \\\\ for a\n"
        "                  backslash and \\xNN for a byte other than\n"
        "                  printable ASCII (--json: the event as JSON);\n"
        "                  stop after COUNT events (exit 0) or SECONDS\n"
        "                  (exit 1 if COUNT was not reached); prints\n"
        "                  'listening' on stderr once subscribed\n"
        "  route GROUP ADDRESS|up|down TEXT...\n"
        "                  send TEXT toward the member nearest ADDRESS (64\n"
        "                  hex digits) or to the next member up or down\n"
        "                  the ring\n"
        "  receive-mode GROUP exact|nearest\n"
        "                  which routed messages this node takes\n"
        "  replicate GROUP write INDEX TEXT... | read INDEX | have INDEX |\n"
        "            remove INDEX | want FIRST COUNT | unwant FIRST COUNT |\n"
        "            strategy lowest_first|rarest_first\n"
        "                  object replication: store, print, ask whether\n"
        "                  held, drop; fetch a range from neighbours or\n"
        "                  stop; the fetch order\n"
        "\n"
        "Options:\n"
        "  -s, --socket PATH  stats socket (default $" SOCKET_ENV
        " or " DEFAULT_SOCKET ")\n"
        "  -a, --api-socket PATH  API socket (default $" API_SOCKET_ENV
        " or " DEFAULT_API_SOCKET ")\n"
        "  -h, --help         show this help and exit\n"
        "  -V, --version      show the version and exit\n"
        "\n"
        "Exit status: 0 answered, 1 daemon unreachable, error answer or\n"
        "fewer than COUNT events, 2 usage error.\n",
        fp);
}

/* Prints "stratoctl: |what| |arg| (see --help)"; |arg| may be NULL. */
int ctl_usage_error(const char *what, const char *arg) {
  fprintf(stderr, "stratoctl: %s%s%s (see --help)\n", what,
          arg != NULL ? " " : "", arg != NULL ? arg : "");
  return 2;
}

/* Joins |argv[first..argc)| with spaces into |line| (room for MAX_LINE + 2
 * bytes: the daemon answers an overlong line with an error, so anything
 * longer is cut to one byte over the limit and still gets that answer). */
static size_t join_words(char *line, int argc, char **argv, int first) {
  size_t len = 0;
  int i;
  for (i = first; i < argc; i++) {
    size_t n = strlen(argv[i]);
    if (i > first && len < MAX_LINE + 1) {
      line[len++] = ' ';
    }
    if (n > MAX_LINE + 1 - len) {
      n = MAX_LINE + 1 - len;
    }
    memcpy(line + len, argv[i], n);
    len += n;
  }
  line[len++] = '\n';
  return len;
}

int ctl_connect(const char *path) {
  struct sockaddr_un sun;
  int fd, e;
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(sun.sun_path)) {
    fprintf(stderr, "stratoctl: cannot connect to %s: %s\n", path,
            strerror(ENAMETOOLONG));
    return -1;
  }
  memcpy(sun.sun_path, path, strlen(path) + 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    e = errno;
    fprintf(stderr, "stratoctl: socket: %s\n", strerror(e));
    return -1;
  }
  if (connect(fd, (struct sockaddr *)(void *)&sun, sizeof(sun)) != 0) {
    e = errno;
    fprintf(stderr,
            "stratoctl: cannot connect to %s: %s (is stratocastd running?)\n",
            path, strerror(e));
    close(fd);
    return -1;
  }
  return fd;
}

int ctl_send_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) {
        continue;
      }
      fprintf(stderr, "stratoctl: send: %s\n", strerror(e));
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Copies the answer to stdout. Returns 0 for a normal answer, 1 for a JSON
 * error object or a failure. */
static int copy_answer(int fd) {
  char buf[65536], head[16];
  size_t headlen = 0, total = 0;
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;
    int e, pr = poll(&pfd, 1, ANSWER_TIMEOUT_MS);
    if (pr == 0) {
      fprintf(stderr, "stratoctl: no answer within %d s\n",
              ANSWER_TIMEOUT_MS / 1000);
      return 1;
    }
    n = pr < 0 ? -1 : read(fd, buf, sizeof(buf));
    e = n < 0 ? errno : 0;
    if (n < 0 && e == EINTR) {
      continue;
    }
    /* After a rejected line the daemon closes with our extra input unread,
     * which Linux reports as a reset once its answer has been read. */
    if (n == 0 || (n < 0 && e == ECONNRESET && total > 0)) {
      break;
    }
    if (n < 0) {
      fprintf(stderr, "stratoctl: read: %s\n", strerror(e));
      return 1;
    }
    if (headlen < sizeof(head)) {
      size_t take = sizeof(head) - headlen < (size_t)n ? sizeof(head) - headlen
                                                       : (size_t)n;
      memcpy(head + headlen, buf, take);
      headlen += take;
    }
    total += (size_t)n;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
      fprintf(stderr, "stratoctl: cannot write to stdout\n");
      return 1;
    }
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "stratoctl: cannot write to stdout\n");
    return 1;
  }
  if (total == 0) {
    fprintf(stderr, "stratoctl: the daemon closed without answering\n");
    return 1;
  }
  return headlen >= 9 && memcmp(head, "{\"error\":", 9) == 0 ? 1 : 0;
}

/* ---- the API socket ------------------------------------------------------ */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lines read from a socket. */
typedef struct reader {
  int fd;
  char buf[API_LINE_MAX];
  size_t len, used; /* |used|: the line handed out last, with its '\n' */
} reader;

/* Reads the next line into |*line| (NUL-terminated, without '\n') by
 * |deadline| (ms of now_ms, or -1: none). Returns its length, -1 after
 * printing why it failed (end of input, an error, an overlong line), or
 * -2 when the deadline passed. */
static long read_line(reader *r, char **line, long long deadline) {
  memmove(r->buf, r->buf + r->used, r->len - r->used);
  r->len -= r->used;
  r->used = 0;
  for (;;) {
    char *nl = memchr(r->buf, '\n', r->len);
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    long long left = deadline < 0 ? -1 : deadline - now_ms();
    ssize_t n;
    int e, pr;
    if (nl != NULL) {
      *nl = '\0';
      *line = r->buf;
      r->used = (size_t)(nl - r->buf) + 1;
      return (long)(nl - r->buf);
    }
    if (r->len == sizeof(r->buf)) {
      fprintf(stderr, "stratoctl: a line from the daemon is too long\n");
      return -1;
    }
    if (deadline >= 0 && left <= 0) {
      return -2;
    }
    pr = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
    if (pr == 0) {
      continue;
    }
    n = pr < 0 ? -1 : read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
    e = n < 0 ? errno : 0;
    if (n < 0 && e == EINTR) {
      continue;
    }
    if (n <= 0) {
      fprintf(stderr, "stratoctl: %s\n",
              n == 0 ? "the daemon closed the connection" : strerror(e));
      return -1;
    }
    r->len += (size_t)n;
  }
}

/* Appends |s| to |out| as a JSON string (|out| has room for 6 bytes per
 * byte of |s| plus 3). Bytes from 0x80 up pass as they are: the daemon
 * refuses invalid UTF-8. */
static char *json_string(char *out, const char *s) {
  *out++ = '"';
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      *out++ = '\\';
      *out++ = (char)c;
    } else if (c < 0x20) {
      out += sprintf(out, "\\u%04x", c);
    } else {
      *out++ = (char)c;
    }
  }
  *out++ = '"';
  *out = '\0';
  return out;
}

/* Builds {"op":|op|,"group":|group||rest|} plus '\n' in a new string. */
static char *make_request(const char *op, const char *group, const char *rest) {
  size_t cap = strlen(op) + 6 * strlen(group) + strlen(rest) + 32;
  char *req = malloc(cap), *p;
  if (req == NULL) {
    fprintf(stderr, "stratoctl: out of memory\n");
    return NULL;
  }
  p = req + sprintf(req, "{\"op\":\"%s\",\"group\":", op);
  p = json_string(p, group);
  sprintf(p, "%s}\n", rest);
  return req;
}

/* Checks an answer line: 0 for "ok", else prints the error and returns 1.
 */
static int check_answer(const char *what, const char *line, size_t len) {
  mj_value v[32];
  mj_doc doc;
  char code[64], msg[512];
  size_t err;
  if (mj_parse(&doc, line, len, v, 32) != 0) {
    fprintf(stderr, "stratoctl: %s: the answer is not JSON\n", what);
    return 1;
  }
  if (mj_type(&doc, mj_get(&doc, 0, "ok")) == MJ_TRUE) {
    return 0;
  }
  err = mj_get(&doc, 0, "error");
  if (mj_string(&doc, mj_get(&doc, err, "code"), code, sizeof(code)) < 0 ||
      mj_string(&doc, mj_get(&doc, err, "message"), msg, sizeof(msg)) < 0) {
    fprintf(stderr, "stratoctl: %s: unexpected answer: %s\n", what, line);
    return 1;
  }
  fprintf(stderr, "stratoctl: %s: %s: %s\n", what, code, msg);
  return 1;
}

/* Joins |argv[first..argc)| with spaces and writes it as
 * ',"data":"BASE64"' into a new string in |*rest|. Returns 0, 2 (usage
 * error, printed) or 1 (out of memory, printed). */
static int data_field(int argc, char **argv, int first, char **rest) {
  char text[MAX_LINE * 64];
  size_t len = 0, b64len;
  int k;
  for (k = first; k < argc; k++) {
    size_t w = strlen(argv[k]);
    if (len + w + 1 > sizeof(text)) {
      return ctl_usage_error("the text is too long", NULL);
    }
    if (k > first) {
      text[len++] = ' ';
    }
    memcpy(text + len, argv[k], w);
    len += w;
  }
  b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
  *rest = malloc(b64len + 16);
  if (*rest == NULL) {
    fprintf(stderr, "stratoctl: out of memory\n");
    return 1;
  }
  memcpy(*rest, ",\"data\":\"", 9);
  sodium_bin2base64(*rest + 9, b64len, (const unsigned char *)text, len,
                    sodium_base64_VARIANT_ORIGINAL);
  strcat(*rest, "\"");
  return 0;
}

/* Sends the request |op| on |group| with |rest| (more members, each with
 * a leading comma) to the API socket at |path| and checks the answer.
 * With |out|, the answer line is copied there (|cap| bytes, NUL added).
 * Returns 0, or 1 (unreachable or an error answer, printed). */
static int api_once(const char *path, const char *op, const char *group,
                    const char *rest, char *out, size_t cap) {
  char *req = make_request(op, group, rest);
  int fd = req != NULL ? ctl_connect(path) : -1, rc = 1;
  if (fd >= 0 && ctl_send_all(fd, req, strlen(req)) == 0) {
    reader r;
    char *line;
    long n;
    shutdown(fd, SHUT_WR);
    r.fd = fd;
    r.len = r.used = 0;
    n = read_line(&r, &line, now_ms() + ANSWER_TIMEOUT_MS);
    if (n == -2) {
      fprintf(stderr, "stratoctl: no answer within %d s\n",
              ANSWER_TIMEOUT_MS / 1000);
    }
    rc = n >= 0 ? check_answer(op, line, (size_t)n) : 1;
    if (rc == 0 && out != NULL) {
      snprintf(out, cap, "%.*s", (int)n, line);
    }
  }
  if (fd >= 0) {
    close(fd);
  }
  free(req);
  return rc;
}

static int cmd_post(const char *path, int argc, char **argv, int i) {
  char *rest;
  int rc;
  if (argc - i < 2) {
    return ctl_usage_error("post needs a GROUP and a TEXT", NULL);
  }
  if ((rc = data_field(argc, argv, i + 1, &rest)) != 0) {
    return rc;
  }
  rc = api_once(path, "post", argv[i], rest, NULL, 0);
  free(rest);
  return rc;
}

/* route GROUP ADDRESS|up|down TEXT... */
static int cmd_route(const char *path, int argc, char **argv, int i) {
  char *data, *rest;
  size_t cap;
  int rc, neighbor;
  if (argc - i < 3) {
    return ctl_usage_error(
        "route needs a GROUP, an ADDRESS (or up, down) and a "
        "TEXT",
        NULL);
  }
  neighbor = strcmp(argv[i + 1], "up") == 0 || strcmp(argv[i + 1], "down") == 0;
  if (!neighbor && (strlen(argv[i + 1]) != 64 ||
                    strspn(argv[i + 1], "0123456789abcdefABCDEF") != 64)) {
    return ctl_usage_error("route: ADDRESS is 64 hex digits, or up or down",
                           argv[i + 1]);
  }
  if ((rc = data_field(argc, argv, i + 2, &data)) != 0) {
    return rc;
  }
  cap = strlen(data) + 96;
  if ((rest = malloc(cap)) == NULL) {
    free(data);
    fprintf(stderr, "stratoctl: out of memory\n");
    return 1;
  }
  snprintf(rest, cap, ",\"%s\":\"%s\"%s", neighbor ? "direction" : "address",
           argv[i + 1], data);
  free(data);
  rc = api_once(path, neighbor ? "route_neighbor" : "route", argv[i], rest,
                NULL, 0);
  free(rest);
  return rc;
}

/* receive-mode GROUP exact|nearest */
static int cmd_receive_mode(const char *path, int argc, char **argv, int i) {
  char rest[64];
  if (argc - i != 2 ||
      (strcmp(argv[i + 1], "exact") != 0 && strcmp(argv[i + 1], "nearest"))) {
    return ctl_usage_error("receive-mode needs a GROUP and exact or nearest",
                           NULL);
  }
  snprintf(rest, sizeof(rest), ",\"mode\":\"%s\"", argv[i + 1]);
  return api_once(path, "receive_mode", argv[i], rest, NULL, 0);
}

/* Prints |len| bytes of |data|: printable ASCII as it is, the rest and
 * the backslash as \xNN and \\, so that every event stays one line. */
static void print_text(const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    if (data[i] == '\\') {
      fputs("\\\\", stdout);
    } else if (data[i] >= 0x20 && data[i] < 0x7f) {
      putchar(data[i]);
    } else {
      printf("\\x%02x", data[i]);
    }
  }
}

/* Prints event |line| as one line; returns 1 for a message event (post,
 * routed, object), 0 for another, -1 for a line that is no event. */
static int print_event(const char *line, size_t len, int json) {
  static const char *const extra[][2] = {
      {"post", "number"}, {"routed", "hops"}, {"object", "index"}};
  mj_value v[32];
  mj_doc doc;
  char kind[16], from[72], b64[1400];
  uint8_t data[POST_MAX + 100];
  size_t dlen = 0, k, x;
  if (mj_parse(&doc, line, len, v, 32) != 0 ||
      mj_string(&doc, mj_get(&doc, 0, "event"), kind, sizeof(kind)) < 0) {
    fprintf(stderr, "stratoctl: not an event: %s\n", line);
    return -1;
  }
  if (json) {
    printf("%s\n", line);
  }
  for (k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
    if (strcmp(kind, extra[k][0]) == 0) {
      break;
    }
  }
  if (k == sizeof(extra) / sizeof(extra[0])) {
    x = mj_get(&doc, 0, "count");
    if (!json && strcmp(kind, "dropped") == 0 && x != MJ_NONE) {
      printf("dropped %.*s\n", (int)doc.v[x].len, line + doc.v[x].start);
    }
    return 0;
  }
  x = mj_get(&doc, 0, extra[k][1]);
  if (mj_string(&doc, mj_get(&doc, 0, "from"), from, sizeof(from)) < 0 ||
      mj_type(&doc, x) != MJ_NUMBER ||
      mj_string(&doc, mj_get(&doc, 0, "data"), b64, sizeof(b64)) < 0 ||
      sodium_base642bin(data, sizeof(data), b64, strlen(b64), NULL, &dlen, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    fprintf(stderr, "stratoctl: a malformed event: %s\n", line);
    return -1;
  }
  if (!json) {
    printf("%s %s %.*s ", kind, from, (int)doc.v[x].len, line + doc.v[x].start);
    print_text(data, dlen);
    putchar('\n');
  }
  return 1;
}

/* listen's options. */
typedef struct listen_opts {
  long count;      /* stop after this many events; -1: never */
  long long limit; /* stop after this many ms; -1: never */
  int json;
} listen_opts;

static int parse_listen(listen_opts *o, int argc, char **argv, int *i) {
  char *end;
  o->count = -1;
  o->limit = -1;
  o->json = 0;
  for (; *i < argc && argv[*i][0] == '-'; (*i)++) {
    const char *a = argv[*i];
    if (strcmp(a, "--json") == 0) {
      o->json = 1;
      continue;
    }
    if ((strcmp(a, "-n") != 0 && strcmp(a, "-t") != 0) || *i + 1 >= argc) {
      return ctl_usage_error("listen: unknown option or missing value", a);
    }
    (*i)++;
    errno = 0;
    if (a[1] == 'n') {
      o->count = strtol(argv[*i], &end, 10);
      if (errno != 0 || *end != '\0' || o->count < 1) {
        return ctl_usage_error("listen: -n takes a count from 1", argv[*i]);
      }
    } else {
      double sec = strtod(argv[*i], &end);
      if (errno != 0 || *end != '\0' || !(sec > 0 && sec < 1e9)) {
        return ctl_usage_error("listen: -t takes seconds above 0", argv[*i]);
      }
      o->limit = (long long)(sec * 1000.0);
    }
  }
  if (*i + 1 != argc) {
    return ctl_usage_error("listen takes one GROUP", NULL);
  }
  return 0;
}

static int cmd_listen(const char *path, int argc, char **argv, int i) {
  listen_opts o;
  reader r;
  char *req, *line;
  long long deadline;
  long seen = 0, n;
  int fd, rc;
  if ((rc = parse_listen(&o, argc, argv, &i)) != 0) {
    return rc;
  }
  req = make_request("subscribe", argv[i],
                     ",\"events\":[\"post\",\"routed\",\"object\"]");
  fd = req != NULL ? ctl_connect(path) : -1;
  rc = fd >= 0 ? ctl_send_all(fd, req, strlen(req)) : -1;
  free(req);
  if (rc != 0) {
    if (fd >= 0) {
      close(fd);
    }
    return 1;
  }
  deadline = o.limit >= 0 ? now_ms() + o.limit : -1;
  r.fd = fd;
  r.len = r.used = 0;
  n = read_line(&r, &line, now_ms() + ANSWER_TIMEOUT_MS);
  if (n < 0 || check_answer("listen", line, (size_t)n) != 0) {
    close(fd);
    return 1;
  }
  fprintf(stderr, "listening\n");
  while (o.count < 0 || seen < o.count) {
    n = read_line(&r, &line, deadline);
    if (n == -2) {
      break;
    }
    if (n < 0 || (rc = print_event(line, (size_t)n, o.json)) < 0) {
      close(fd);
      return 1;
    }
    seen += rc;
    fflush(stdout);
  }
  close(fd);
  return o.count >= 0 && seen < o.count ? 1 : 0;
}

/* A whole number of up to 16 digits (2^53 is what the API takes). */
static int is_index(const char *w) {
  size_t n = strlen(w);
  return n > 0 && n <= 16 && strspn(w, "0123456789") == n;
}

/* Prints the "data" of answer |line| as listen prints a payload. */
static int print_data(const char *line) {
  mj_value v[32];
  mj_doc doc;
  char b64[1400];
  uint8_t data[POST_MAX + 100];
  size_t dlen = 0;
  if (mj_parse(&doc, line, strlen(line), v, 32) != 0 ||
      mj_string(&doc, mj_get(&doc, 0, "data"), b64, sizeof(b64)) < 0 ||
      sodium_base642bin(data, sizeof(data), b64, strlen(b64), NULL, &dlen, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    fprintf(stderr, "stratoctl: read: unexpected answer: %s\n", line);
    return 1;
  }
  print_text(data, dlen);
  putchar('\n');
  return 0;
}

/* replicate GROUP write INDEX TEXT... | read INDEX | have INDEX |
 * remove INDEX | want FIRST COUNT | unwant FIRST COUNT |
 * strategy lowest_first|rarest_first */
static int cmd_replicate(const char *path, int argc, char **argv, int i) {
  static const struct {
    const char *word, *op;
    int args; /* after the word; -1: INDEX and a TEXT */
  } subs[] = {{"write", "write", -1},     {"read", "read", 1},
              {"have", "have", 1},        {"remove", "remove", 1},
              {"want", "want", 2},        {"unwant", "want", 2},
              {"strategy", "strategy", 1}};
  char rest[128], answer[API_LINE_MAX], *data = NULL, *req;
  size_t k;
  int rc;
  if (argc - i < 3) {
    return ctl_usage_error("replicate needs a GROUP and a subcommand", NULL);
  }
  for (k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
    if (strcmp(argv[i + 1], subs[k].word) == 0) {
      break;
    }
  }
  if (k == sizeof(subs) / sizeof(subs[0])) {
    return ctl_usage_error("replicate: unknown subcommand", argv[i + 1]);
  }
  if (subs[k].args < 0 ? argc - i < 4 : argc - i != 2 + subs[k].args) {
    return ctl_usage_error("replicate: wrong number of words after",
                           argv[i + 1]);
  }
  if (strcmp(subs[k].op, "strategy") == 0) {
    if (strcmp(argv[i + 2], "lowest_first") != 0 &&
        strcmp(argv[i + 2], "rarest_first") != 0) {
      return ctl_usage_error("replicate strategy: lowest_first or rarest_first",
                             argv[i + 2]);
    }
    snprintf(rest, sizeof(rest), ",\"strategy\":\"%s\"", argv[i + 2]);
  } else if (!is_index(argv[i + 2]) ||
             (subs[k].args == 2 && !is_index(argv[i + 3]))) {
    return ctl_usage_error("replicate: an index or count is a whole number",
                           argv[i + 2]);
  } else if (subs[k].args == 2) {
    snprintf(rest, sizeof(rest), ",\"first\":%s,\"count\":%s%s", argv[i + 2],
             argv[i + 3], argv[i + 1][0] == 'u' ? ",\"want\":false" : "");
  } else {
    snprintf(rest, sizeof(rest), ",\"index\":%s", argv[i + 2]);
  }
  if (subs[k].args < 0) {
    if ((rc = data_field(argc, argv, i + 3, &data)) != 0) {
      return rc;
    }
    if ((req = malloc(strlen(rest) + strlen(data) + 1)) == NULL) {
      free(data);
      fprintf(stderr, "stratoctl: out of memory\n");
      return 1;
    }
    strcat(strcpy(req, rest), data);
    free(data);
    rc = api_once(path, subs[k].op, argv[i], req, NULL, 0);
    free(req);
    return rc;
  }
  rc = api_once(path, subs[k].op, argv[i], rest, answer, sizeof(answer));
  if (rc == 0 && strcmp(subs[k].op, "read") == 0) {
    return print_data(answer);
  }
  if (rc == 0 && strcmp(subs[k].op, "have") == 0) {
    mj_value v[16];
    mj_doc doc;
    size_t l;
    if (mj_parse(&doc, answer, strlen(answer), v, 16) != 0) {
      return 1;
    }
    l = mj_get(&doc, 0, "length");
    if (mj_type(&doc, mj_get(&doc, 0, "have")) == MJ_TRUE && l != MJ_NONE) {
      printf("yes %.*s\n", (int)doc.v[l].len, answer + doc.v[l].start);
    } else {
      printf("no\n");
    }
  }
  return rc;
}

int main(int argc, char **argv) {
  const char *path = getenv(SOCKET_ENV), *api = getenv(API_SOCKET_ENV);
  char line[MAX_LINE + 2];
  size_t len;
  int i, fd, rc;
  if (path == NULL || path[0] == '\0') {
    path = DEFAULT_SOCKET;
  }
  if (api == NULL || api[0] == '\0') {
    api = DEFAULT_API_SOCKET;
  }
  for (i = 1; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
      printf("stratoctl " PACKAGE_VERSION "\n");
      return 0;
    }
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
      if (++i >= argc) {
        return ctl_usage_error("missing path after", a);
      }
      path = argv[i];
    } else if (strncmp(a, "--socket=", 9) == 0) {
      path = a + 9;
    } else if (strcmp(a, "-a") == 0 || strcmp(a, "--api-socket") == 0) {
      if (++i >= argc) {
        return ctl_usage_error("missing path after", a);
      }
      api = argv[i];
    } else if (strncmp(a, "--api-socket=", 13) == 0) {
      api = a + 13;
    } else {
      return ctl_usage_error("unknown option", a);
    }
  }
  if (i >= argc) {
    return ctl_usage_error("no command given", NULL);
  }
  if (strcmp(argv[i], "top") == 0) {
    return ctl_top(path, argc, argv, i + 1);
  }
  if (strcmp(argv[i], "post") == 0) {
    return cmd_post(api, argc, argv, i + 1);
  }
  if (strcmp(argv[i], "listen") == 0) {
    return cmd_listen(api, argc, argv, i + 1);
  }
  if (strcmp(argv[i], "route") == 0) {
    return cmd_route(api, argc, argv, i + 1);
  }
  if (strcmp(argv[i], "receive-mode") == 0) {
    return cmd_receive_mode(api, argc, argv, i + 1);
  }
  if (strcmp(argv[i], "replicate") == 0) {
    return cmd_replicate(api, argc, argv, i + 1);
  }
  len = join_words(line, argc, argv, i);
  fd = ctl_connect(path);
  if (fd < 0) {
    return 1;
  }
  if (ctl_send_all(fd, line, len) != 0) {
    close(fd);
    return 1;
  }
  /* The daemon answers, sees our end of input and closes. */
  shutdown(fd, SHUT_WR);
  rc = copy_answer(fd);
  close(fd);
  return rc;
}
