/*
 * source.c: stdin, UDP and paced-file input for a published stream.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chunker.h"
#include "iospec.h"
#include "mpegts.h"
#include "sc_macro.h"

_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN and EWOULDBLOCK differ");

#define READS_PER_WAKEUP 64 /* reads before other watchers get a turn */
#define UDP_RCVBUF (4 << 20)

struct sc_source {
  struct ev_loop *loop;
  int kind; /* enum sc_iospec_kind */
  int fd;
  sc_iospec_stdio stdio; /* "-": our non-blocking stdin */
  unsigned port;         /* UDP: the bound port */
  ev_io rd;              /* stdin, UDP */
  ev_timer idle;         /* flushes a partial chunk when the input pauses */
  ev_timer pace;         /* file: the next read or release */
  sc_source_chunk_cb on_chunk;
  sc_source_end_cb on_end;
  void *arg;
  sc_chunker chunker;
  sc_pcrclock clock;
  uint64_t wait_ns;    /* set by the PCR gate when it holds a packet */
  uint64_t rate_bps;   /* file: pace at this rate rather than by PCR */
  uint64_t rate_start; /* when the rate's schedule starts, monotonic ns */
  uint64_t rate_sent;  /* bytes released since rate_start */
  uint64_t rate_reanchors;
  uint64_t read_errors;
  uint8_t *buf;            /* SC_SOURCE_READ_LEN bytes */
  size_t buf_off, buf_len; /* file: read but not fed yet */
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * SC_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- chunks and the end ------------------------------------------------- */

static void emit_cb(void *arg, const uint8_t *data, size_t len, int clean) {
  sc_source *s = arg;
  s->on_chunk(s->arg, data, len, clean);
}

static int pcr_gate_cb(void *arg, uint64_t pcr, int discontinuity) {
  sc_source *s = arg;
  s->wait_ns = sc_pcrclock_wait(&s->clock, pcr, discontinuity, now_ns());
  return s->wait_ns > 0;
}

static void stop_watchers(sc_source *s) {
  ev_io_stop(s->loop, &s->rd);
  ev_timer_stop(s->loop, &s->idle);
  ev_timer_stop(s->loop, &s->pace);
}

/* The input is over: the last chunk, then the callback, which may free
 * |s|. */
static void end(sc_source *s, int err) {
  stop_watchers(s);
  sc_chunker_flush(&s->chunker, 1);
  s->on_end(s->arg, err);
}

/* Feeds |len| bytes and restarts the idle timer. */
static size_t feed(sc_source *s, const uint8_t *data, size_t len) {
  size_t used = sc_chunker_feed(&s->chunker, data, len);
  ev_timer_again(s->loop, &s->idle);
  return used;
}

static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_source *s = sc_struct_of(w, sc_source, idle);
  (void)revents;
  ev_timer_stop(loop, w);
  sc_chunker_flush(&s->chunker, 0);
}

/* ---- stdin and UDP: read what is there --------------------------------- */

static void stdin_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_source *s = sc_struct_of(w, sc_source, rd);
  int i;
  (void)loop;
  (void)revents;
  for (i = 0; i < READS_PER_WAKEUP; i++) {
    ssize_t n = read(s->fd, s->buf, SC_SOURCE_READ_LEN);
    int e = n < 0 ? errno : 0;
    if (n > 0) {
      feed(s, s->buf, (size_t)n);
    } else if (n == 0) {
      end(s, 0);
      return;
    } else if (e == EAGAIN) {
      return;
    } else if (e != EINTR) {
      end(s, e);
      return;
    }
  }
}

static void udp_cb(struct ev_loop *loop, ev_io *w, int revents) {
  sc_source *s = sc_struct_of(w, sc_source, rd);
  int i;
  (void)loop;
  (void)revents;
  for (i = 0; i < READS_PER_WAKEUP; i++) {
    ssize_t n = recv(s->fd, s->buf, SC_SOURCE_READ_LEN, MSG_DONTWAIT);
    int e = n < 0 ? errno : 0;
    if (n > 0) {
      feed(s, s->buf, (size_t)n);
    } else if (n < 0 && e == EAGAIN) {
      return;
    } else if (n < 0 && e != EINTR) {
      /* ICMP errors and the like: a live input keeps going. */
      s->read_errors++;
      return;
    }
  }
}

/* ---- files: paced reads ------------------------------------------------- */

static void pace_in(sc_source *s, uint64_t ns) {
  ev_timer_stop(s->loop, &s->pace);
  ev_timer_set(&s->pace, (double)ns / (double)SC_SEC, 0.);
  ev_timer_start(s->loop, &s->pace);
}

/* Bytes a rate-paced file may release at |now|; 0 with |*wait| set when
 * none. A first quantum goes at once, then the schedule follows the rate;
 * more than a second behind it (a stalled loop) starts a new schedule
 * rather than a burst. */
static size_t rate_budget(sc_source *s, uint64_t now, uint64_t *wait) {
  double bytes_per_ns = (double)s->rate_bps / 8e9;
  double quantum = SC_MAX(1316.0, (double)s->rate_bps / 8e3); /* >= 1 ms */
  double due = quantum + (double)(now - s->rate_start) * bytes_per_ns;
  double ahead = due - (double)s->rate_sent;
  if (ahead > quantum + (double)s->rate_bps / 8.0) {
    s->rate_start = now;
    s->rate_sent = 0;
    s->rate_reanchors++;
    ahead = quantum;
  }
  if (ahead >= 1.0) {
    return ahead >= (double)SIZE_MAX ? SIZE_MAX : (size_t)ahead;
  }
  /* The next quantum is due when rate_sent bytes are, by the schedule. */
  *wait =
      (uint64_t)((double)s->rate_sent / bytes_per_ns) - (now - s->rate_start);
  *wait = SC_MAX(*wait, SC_MS);
  return 0;
}

/* Reads into the empty buffer. Returns 1 when bytes came, 0 after the
 * end (the source may be gone). */
static int file_read(sc_source *s) {
  ssize_t n;
  do {
    n = read(s->fd, s->buf, SC_SOURCE_READ_LEN);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    end(s, n < 0 ? errno : 0);
    return 0;
  }
  s->buf_off = 0;
  s->buf_len = (size_t)n;
  return 1;
}

static void file_pump(sc_source *s) {
  int round;
  for (round = 0; round < READS_PER_WAKEUP; round++) {
    uint64_t wait = 0;
    size_t allow, used;
    if (sc_chunker_is_blocked(&s->chunker)) {
      feed(s, NULL, 0); /* offer the held packet again */
      if (sc_chunker_is_blocked(&s->chunker)) {
        pace_in(s, s->wait_ns);
        return;
      }
    }
    if (s->buf_len == 0 && !file_read(s)) {
      return;
    }
    allow = s->buf_len;
    if (s->rate_bps > 0) {
      allow = SC_MIN(allow, rate_budget(s, now_ns(), &wait));
      if (allow == 0) {
        pace_in(s, wait);
        return;
      }
    }
    used = feed(s, s->buf + s->buf_off, allow);
    s->buf_off += used;
    s->buf_len -= used;
    s->rate_sent += used;
  }
  pace_in(s, 0); /* yield to the other watchers */
}

static void pace_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  sc_source *s = sc_struct_of(w, sc_source, pace);
  (void)loop;
  (void)revents;
  file_pump(s);
}

/* Tells whether the file's head is MPEG-TS with a PCR; reads at most
 * SC_SOURCE_PROBE_LEN bytes and rewinds. */
static int probe_file(sc_source *s, int *is_ts, int *has_pcr, char *err,
                      size_t errlen) {
  uint8_t *head = malloc(SC_SOURCE_PROBE_LEN);
  size_t len = 0, off;
  ssize_t n = 0;
  int e = 0;
  if (head == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  while (len < SC_SOURCE_PROBE_LEN &&
         ((n = pread(s->fd, head + len, SC_SOURCE_PROBE_LEN - len,
                     (off_t)len)) > 0 ||
          (n < 0 && errno == EINTR))) {
    len += n > 0 ? (size_t)n : 0;
  }
  e = n < 0 ? errno : 0;
  *is_ts =
      e == 0 && sc_ts_detect(head, len, SC_TS_DETECT_FINAL, &off) == SC_TS_YES;
  *has_pcr = 0;
  while (*is_ts && !*has_pcr && off + SC_TS_PACKET <= len) {
    uint64_t pcr;
    if (head[off] != SC_TS_SYNC) {
      /* Garbage inside the probe: skip to the next sync point. */
      size_t skip;
      if (sc_ts_find_sync(head + off, len - off, 3, 1, 1, &skip) != SC_TS_YES) {
        break;
      }
      off += skip;
      continue;
    }
    *has_pcr = sc_ts_pcr(head + off, &pcr);
    off += SC_TS_PACKET;
  }
  free(head);
  if (e != 0) {
    snprintf(err, errlen, "cannot read: %s", strerror(e));
    return -1;
  }
  return 0;
}

static int open_file(sc_source *s, const char *path, char *err, size_t errlen) {
  struct stat st;
  int is_ts, has_pcr, e;
  s->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (s->fd < 0 || fstat(s->fd, &st) != 0) {
    e = errno;
    snprintf(err, errlen, "cannot open: %s", strerror(e));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "not a regular file (read a pipe with '-')");
    return -1;
  }
  if (probe_file(s, &is_ts, &has_pcr, err, errlen) != 0) {
    return -1;
  }
  if (s->rate_bps == 0 && !is_ts) {
    snprintf(err, errlen, "not MPEG-TS, so its rate is unknown: give a rate");
    return -1;
  }
  if (s->rate_bps == 0 && !has_pcr) {
    snprintf(err, errlen,
             "MPEG-TS without a PCR in its first %u KiB, so its rate is "
             "unknown: give a rate",
             SC_SOURCE_PROBE_LEN / 1024);
    return -1;
  }
  ev_timer_init(&s->pace, pace_cb, 0., 0.);
  ev_timer_start(s->loop, &s->pace); /* the first read, from the loop */
  s->rate_start = now_ns();
  return 0;
}

/* ---- stdin and UDP: opening --------------------------------------------- */

static int open_stdin(sc_source *s, char *err, size_t errlen) {
  if (sc_iospec_stdio_open(&s->stdio, STDIN_FILENO, O_RDONLY, err, errlen) !=
      0) {
    return -1;
  }
  s->fd = s->stdio.fd;
  ev_io_init(&s->rd, stdin_cb, s->fd, EV_READ);
  ev_io_start(s->loop, &s->rd);
  return 0;
}

/* Joins the group when |ss| is a multicast address. */
static int join_multicast(int fd, const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin =
        (const struct sockaddr_in *)(const void *)ss;
    struct ip_mreq mr;
    if (!IN_MULTICAST(ntohl(sin->sin_addr.s_addr))) {
      return 0;
    }
    memset(&mr, 0, sizeof(mr));
    mr.imr_multiaddr = sin->sin_addr;
    mr.imr_interface.s_addr = htonl(INADDR_ANY);
    return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
  } else {
    const struct sockaddr_in6 *sin6 =
        (const struct sockaddr_in6 *)(const void *)ss;
    struct ipv6_mreq mr;
    if (!IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr)) {
      return 0;
    }
    memset(&mr, 0, sizeof(mr));
    mr.ipv6mr_multiaddr = sin6->sin6_addr;
    return setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr));
  }
}

static int open_udp(sc_source *s, const sc_iospec *spec, char *err,
                    size_t errlen) {
  struct sockaddr_storage bound;
  socklen_t blen = sizeof(bound);
  int e, rcvbuf = UDP_RCVBUF, one = 1;
  s->fd = socket(spec->addr.ss_family,
                 SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    e = errno;
    snprintf(err, errlen, "cannot create UDP socket: %s", strerror(e));
    return -1;
  }
  /* Best effort: a bigger buffer rides out a slow loop iteration; several
   * receivers may share a multicast group's port. */
  (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  (void)setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(s->fd, (const struct sockaddr *)(const void *)&spec->addr,
           spec->addrlen) != 0) {
    e = errno;
    snprintf(err, errlen, "cannot bind: %s", strerror(e));
    return -1;
  }
  if (join_multicast(s->fd, &spec->addr) != 0) {
    e = errno;
    snprintf(err, errlen, "cannot join the multicast group: %s", strerror(e));
    return -1;
  }
  memset(&bound, 0, sizeof(bound));
  if (getsockname(s->fd, (struct sockaddr *)(void *)&bound, &blen) == 0) {
    s->port = bound.ss_family == AF_INET
                  ? ntohs(((struct sockaddr_in *)(void *)&bound)->sin_port)
                  : ntohs(((struct sockaddr_in6 *)(void *)&bound)->sin6_port);
  }
  ev_io_init(&s->rd, udp_cb, s->fd, EV_READ);
  ev_io_start(s->loop, &s->rd);
  return 0;
}

/* ---- the source --------------------------------------------------------- */

static int open_io(sc_source *s, const sc_iospec *io, char *err,
                   size_t errlen) {
  switch (io->kind) {
  case SC_IOSPEC_FILE:
    return open_file(s, io->path, err, errlen);
  case SC_IOSPEC_UDP:
    return open_udp(s, io, err, errlen);
  default:
    return open_stdin(s, err, errlen);
  }
}

int sc_source_open(sc_source **ps, struct ev_loop *loop, const char *spec,
                   size_t max_payload, uint64_t rate_bps,
                   sc_source_chunk_cb on_chunk, sc_source_end_cb on_end,
                   void *arg, char *err, size_t errlen) {
  sc_source *s;
  sc_iospec io;
  int paced_by_pcr;
  *ps = NULL;
  if (sc_iospec_parse_source(&io, spec, err, errlen) != 0) {
    return -1;
  }
  if (rate_bps > 0 && io.kind != SC_IOSPEC_FILE) {
    snprintf(err, errlen, "a rate paces file sources only");
    return -1;
  }
  if (max_payload < SC_TS_PACKET) {
    snprintf(err, errlen, "the chunk size must be at least %d bytes",
             SC_TS_PACKET);
    return -1;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->loop = loop;
  s->kind = io.kind;
  s->fd = -1;
  s->stdio.fd = -1;
  s->stdio.saved_flags = -1;
  s->on_chunk = on_chunk;
  s->on_end = on_end;
  s->arg = arg;
  s->rate_bps = rate_bps;
  sc_pcrclock_init(&s->clock);
  ev_io_init(&s->rd, stdin_cb, -1, EV_READ);
  ev_timer_init(&s->pace, pace_cb, 0., 0.);
  ev_timer_init(&s->idle, idle_cb, 0., SC_SOURCE_IDLE_FLUSH);
  /* Live inputs arrive at their own pace; only a file is paced. */
  paced_by_pcr = io.kind == SC_IOSPEC_FILE && rate_bps == 0;
  s->buf = malloc(SC_SOURCE_READ_LEN);
  if (s->buf == NULL ||
      sc_chunker_init(&s->chunker, max_payload, emit_cb,
                      paced_by_pcr ? pcr_gate_cb : NULL, s) != 0) {
    snprintf(err, errlen, "out of memory");
    sc_source_close(s);
    return -1;
  }
  if (open_io(s, &io, err, errlen) != 0) {
    sc_source_close(s);
    return -1;
  }
  *ps = s;
  return 0;
}

void sc_source_close(sc_source *s) {
  if (s == NULL) {
    return;
  }
  stop_watchers(s);
  if (s->kind == SC_IOSPEC_STDIO) {
    sc_iospec_stdio_close(&s->stdio);
  } else if (s->fd >= 0) {
    close(s->fd);
  }
  sc_chunker_free(&s->chunker);
  free(s->buf);
  free(s);
}

void sc_source_get_stats(const sc_source *s, sc_source_stats *out) {
  const sc_chunker_stats *c = &s->chunker.stats;
  memset(out, 0, sizeof(*out));
  out->bytes_in = c->bytes_in;
  out->chunks_out = c->chunks_out;
  out->ts_packets = c->ts_packets;
  out->sync_losses = c->sync_losses;
  out->resyncs = c->resyncs;
  out->discarded_bytes = c->discarded_bytes;
  out->clock_reanchors = s->clock.reanchors + s->rate_reanchors;
  out->read_errors = s->read_errors;
  out->kind = s->chunker.kind;
}

unsigned sc_source_local_port(const sc_source *s) { return s->port; }
