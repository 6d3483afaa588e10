/*
 * bench_relay.c: what one relay costs, per byte it forwards and in memory,
 * against the physical floor measured in the same run.
 *
 * The setup is a star of real cores under a virtual clock: a publisher P,
 * a relay R and 20 sinks, all in one group. P and the sinks may hold one
 * session each (max_sessions = 1) and bootstrap from R, so R is everyone's
 * only neighbour and must push every class of the stream to all 20 sinks
 * (push_capacity 8 x 20). Datagrams travel between the cores through
 * in-memory queues with a fixed one-way delay; nothing is lost.
 *
 * CPU. Only R is timed (CLOCK_THREAD_CPUTIME_ID): its sc_node_recv,
 * sc_node_handle_expiry and sc_node_get_expiry calls, the copies its send
 * callback makes into a sendmmsg batch, and the sendmmsg(2) calls that push
 * every datagram R sends, in batches of 32 and at the end of every step, to
 * a UDP socket on 127.0.0.1 that nobody reads. The other cores and the
 * virtual network are not timed.
 *
 * The floor. Whatever a relay does, each datagram it sends must at least be
 * sealed (ChaCha20-Poly1305 IETF over the 14-byte header as associated
 * data, a fresh 96-bit nonce from the packet number, as sc_noise_seal does)
 * and handed to the kernel. So the floor is: the same number of datagrams
 * of the same sizes as R sent in the measured period, each sealed into a
 * sendmmsg slot and sent in batches of 32 to the same socket. Relay/floor
 * is then what the protocol logic (scheduling, windows, acknowledgements,
 * congestion control, pacing) costs on top of the unavoidable. Neither side
 * counts receiving from a socket (recvmmsg): R's input arrives in memory.
 *
 * The measured period is cut into slices; each slice times R, then the
 * floor on that slice's datagrams, so both see the same machine load. The
 * medians over slices are printed. The machine may be shared: timings are
 * printed, never asserted.
 *
 * Memory. R's core allocates through a counting sc_mem. At the end of a
 * run (the stream has flowed for longer than stream_window + relay_margin,
 * 10 s by default) its allocated bytes are compared with the bytes of the
 * fragments its window holds.
 *
 * The publisher cuts full fragments (sc_node_fragment_max) at the stream's rate
 * in virtual time, a keyframe every 50. Every run also prints how R's
 * stream looks (it must push to all 20 sinks), what share of the measured
 * period's fragments every sink played, and R's pushes per fragment.
 *
 * usage: bench_relay [-r KBIT]... [-s SLICES] [-t SECONDS] [-w SECONDS]
 *                    [-l] [-v]
 *   -r  stream rate of a run in kbit/s (repeatable; default 2000 and 10000)
 *   -s  measured slices per run (default 5)
 *   -t  virtual seconds per slice (default 2)
 *   -w  virtual seconds of untimed streaming first (default 5)
 *   -l  P connects to R a second after the sinks (default: a second before)
 *   -v  print every node's stream and R's sessions; log warnings to stderr
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stratocast.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

#define NSINKS 20u
#define NNODES (NSINKS + 2)
#define RELAY 0 /* node indices: R, P, then the sinks */
#define PUB 1
#define DELAY (10 * MS) /* one way, on every link */
#define BATCH 32        /* datagrams per sendmmsg */
#define SLOT 2048       /* bytes of one batch slot (> max_datagram) */
#define KEY_EVERY 50    /* a keyframe every 50 fragments */
#define GROUP "tv"
#define STREAM "live"
#define FORM_TIME (5 * SEC) /* sessions and the group form */
#define DRAIN_TIME (2 * SEC)
#define HDR_LEN 14 /* SC_DATA_HEADER_LEN (src/core/sc_packet.h) */
#define TAG_LEN 16 /* crypto_aead_chacha20poly1305_ietf_ABYTES */
#define MAX_SLICES 64

static int verbose;
static int pub_last; /* P connects to R after the sinks, not before */
static uint64_t warm_time = 5 * SEC; /* the stream flows, untimed */

static void die(const char *what) {
  fprintf(stderr, "bench_relay: %s\n", what);
  exit(1);
}

static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* Doubles the array |p| of |*cap| elements of |size| bytes (from |first|
 * when empty). */
static void *grow(void *p, size_t *cap, size_t size, size_t first) {
  *cap = *cap ? 2 * *cap : first;
  p = realloc(p, *cap * size);
  if (p == NULL) {
    die("out of memory");
  }
  return p;
}

/* ---- the counting allocator (as tools/stratosim/sim_world.c) ------------ */

typedef struct counted {
  size_t now, peak;
} counted;

/* Each block carries its size in a 16-byte header so frees can be counted;
 * 16 keeps the payload aligned for any type. The header is not counted. */
#define MHDR 16

static void *cm_malloc(size_t size, void *user) {
  counted *c = user;
  unsigned char *p = malloc(MHDR + size);
  if (p == NULL) {
    return NULL;
  }
  memcpy(p, &size, sizeof(size));
  c->now += size;
  c->peak = c->now > c->peak ? c->now : c->peak;
  return p + MHDR;
}

static void cm_free(void *ptr, void *user) {
  counted *c = user;
  size_t size;
  if (ptr == NULL) {
    return;
  }
  memcpy(&size, (unsigned char *)ptr - MHDR, sizeof(size));
  c->now -= size;
  free((unsigned char *)ptr - MHDR);
}

static void *cm_calloc(size_t nmemb, size_t size, void *user) {
  void *p;
  if (size != 0 && nmemb > (SIZE_MAX - MHDR) / size) {
    return NULL;
  }
  p = cm_malloc(nmemb * size, user);
  if (p != NULL) {
    memset(p, 0, nmemb * size);
  }
  return p;
}

static void *cm_realloc(void *ptr, size_t size, void *user) {
  counted *c = user;
  unsigned char *q;
  size_t old;
  if (ptr == NULL) {
    return cm_malloc(size, user);
  }
  memcpy(&old, (unsigned char *)ptr - MHDR, sizeof(old));
  q = realloc((unsigned char *)ptr - MHDR, MHDR + size);
  if (q == NULL) {
    return NULL;
  }
  memcpy(q, &size, sizeof(size));
  c->now = c->now - old + size;
  c->peak = c->now > c->peak ? c->now : c->peak;
  return q + MHDR;
}

/* ---- the loopback outbox: R's sendmmsg batch ---------------------------- */

/* R's datagrams are copied into slots, as a shell copies them into its
 * batch. Slots [flushed, n) are not sent yet; all slots stay until the step
 * ends, when the untimed harness hands them to the virtual network. */
typedef struct outbox {
  int fd;                 /* sending socket */
  int sink_fd;            /* bound, never read */
  struct sockaddr_in dst; /* sink_fd's address */
  uint8_t (*slot)[SLOT];  /* datagram bytes */
  uint32_t *len, *to;     /* per slot: length, destination node */
  size_t n, flushed, cap; /* slots used, sent, allocated */
  uint64_t sent, errors;  /* datagrams the kernel took / refused */
  uint64_t calls;         /* sendmmsg calls */
  struct mmsghdr msg[BATCH];
  struct iovec iov[BATCH];
} outbox;

static void outbox_grow(outbox *ob) {
  size_t cap = ob->cap;
  ob->slot = grow(ob->slot, &cap, sizeof(*ob->slot), 4096);
  cap = ob->cap;
  ob->len = grow(ob->len, &cap, sizeof(*ob->len), 4096);
  cap = ob->cap;
  ob->to = grow(ob->to, &cap, sizeof(*ob->to), 4096);
  ob->cap = cap;
}

static void outbox_open(outbox *ob) {
  socklen_t alen = sizeof(ob->dst);
  int small = 1; /* the kernel rounds this up to its minimum */
  memset(ob, 0, sizeof(*ob));
  ob->fd = socket(AF_INET, SOCK_DGRAM, 0);
  ob->sink_fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (ob->fd < 0 || ob->sink_fd < 0) {
    die("socket failed");
  }
  ob->dst.sin_family = AF_INET;
  ob->dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (setsockopt(ob->sink_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
      bind(ob->sink_fd, (struct sockaddr *)&ob->dst, sizeof(ob->dst)) ||
      getsockname(ob->sink_fd, (struct sockaddr *)&ob->dst, &alen)) {
    die("cannot bind the loopback sink");
  }
  outbox_grow(ob);
}

static void outbox_close(outbox *ob) {
  close(ob->fd);
  close(ob->sink_fd);
  free(ob->slot);
  free(ob->len);
  free(ob->to);
}

/* Sends slots [flushed, n) with sendmmsg; a datagram the kernel refuses is
 * counted and skipped. */
static void outbox_flush(outbox *ob) {
  while (ob->flushed < ob->n) {
    size_t left = ob->n - ob->flushed;
    unsigned k, cnt = left > BATCH ? BATCH : (unsigned)left;
    int rv;
    for (k = 0; k < cnt; k++) {
      size_t i = ob->flushed + k;
      ob->iov[k].iov_base = ob->slot[i];
      ob->iov[k].iov_len = ob->len[i];
      memset(&ob->msg[k].msg_hdr, 0, sizeof(ob->msg[k].msg_hdr));
      ob->msg[k].msg_hdr.msg_name = &ob->dst;
      ob->msg[k].msg_hdr.msg_namelen = sizeof(ob->dst);
      ob->msg[k].msg_hdr.msg_iov = &ob->iov[k];
      ob->msg[k].msg_hdr.msg_iovlen = 1;
    }
    rv = sendmmsg(ob->fd, ob->msg, cnt, 0);
    ob->calls++;
    if (rv <= 0) {
      ob->errors++;
      ob->flushed++;
      continue;
    }
    ob->sent += (unsigned)rv;
    ob->flushed += (unsigned)rv;
  }
}

/* Returns a slot for a datagram of |len| bytes to node |to|; a full batch
 * goes out first. */
static uint8_t *outbox_put(outbox *ob, size_t len, uint32_t to) {
  if (ob->n - ob->flushed >= BATCH) {
    outbox_flush(ob);
  }
  if (ob->n == ob->cap) {
    outbox_grow(ob);
  }
  ob->len[ob->n] = (uint32_t)len;
  ob->to[ob->n] = to;
  return ob->slot[ob->n++];
}

/* ---- the virtual network and the nodes ---------------------------------- */

typedef struct vdgram {
  uint64_t at;
  uint32_t from, len;
  uint8_t data[];
} vdgram;

typedef struct fifo {
  vdgram **q;
  size_t head, n, cap;
} fifo;

struct bench;

typedef struct bnode {
  struct bench *b;
  uint32_t index;
  sc_node *core;
  sc_addr addr;
  uint64_t rng;
  counted mem;
  sc_mem memt;
  fifo inbox; /* sorted by arrival: the delay is the same on every link */
  uint64_t played, played_in_range, skipped;
} bnode;

typedef struct bench {
  uint64_t now;
  bnode nodes[NNODES];
  outbox ob;
  vdgram **in; /* what a node is about to be fed */
  size_t nin, capin;
  /* the stream */
  uint32_t pub_handle;
  uint64_t rate_bps, next_seq, t_stream, range_lo, range_hi;
  size_t payload;
  uint8_t frag[SLOT];
  /* R's timing in the current slice */
  uint64_t r_cpu, r_steps, recvs, expiries;
  uint32_t *sizes; /* R's datagram sizes in the current slice */
  size_t nsizes, capsizes;
  uint32_t *groups; /* how many of them each step sent */
  size_t ngroups, capgroups;
} bench;

static void fifo_push(fifo *f, vdgram *d) {
  if (f->n == f->cap) {
    size_t i, cap = f->cap ? 2 * f->cap : 256;
    vdgram **q = malloc(cap * sizeof(*q));
    if (q == NULL) {
      die("out of memory");
    }
    for (i = 0; i < f->n; i++) {
      q[i] = f->q[(f->head + i) % f->cap];
    }
    free(f->q);
    f->q = q;
    f->head = 0;
    f->cap = cap;
  }
  f->q[(f->head + f->n++) % f->cap] = d;
}

static vdgram *fifo_peek(const fifo *f) { return f->n ? f->q[f->head] : NULL; }

static void fifo_pop(fifo *f) {
  f->head = (f->head + 1) % f->cap;
  f->n--;
}

static sc_addr addr_of(uint32_t i) {
  sc_addr a;
  memset(&a, 0, sizeof(a));
  a.family = SC_AF_INET; /* 10.0.i.1: a /24 each, for per-prefix caps */
  a.ip[0] = 10;
  a.ip[2] = (uint8_t)i;
  a.ip[3] = 1;
  a.port = 4433;
  return a;
}

static uint32_t index_of(const sc_addr *a) {
  if (a->family != SC_AF_INET || a->ip[0] != 10 || a->ip[2] >= NNODES) {
    return UINT32_MAX;
  }
  return a->ip[2];
}

static void vnet_send(bench *b, uint32_t from, uint32_t to, const uint8_t *data,
                      size_t len) {
  vdgram *d;
  if (to >= NNODES) {
    return; /* nobody there: lost */
  }
  d = malloc(sizeof(*d) + len);
  if (d == NULL) {
    die("out of memory");
  }
  d->at = b->now + DELAY;
  d->from = from;
  d->len = (uint32_t)len;
  memcpy(d->data, data, len);
  fifo_push(&b->nodes[to].inbox, d);
}

/* ---- the cores' callbacks ----------------------------------------------- */

static int cb_send(void *user, const sc_addr *to, const uint8_t *data,
                   size_t len) {
  bnode *nd = user;
  bench *b = nd->b;
  if (len > SLOT) {
    return -1;
  }
  if (nd->index == RELAY) {
    memcpy(outbox_put(&b->ob, len, index_of(to)), data, len);
    return 0;
  }
  vnet_send(b, nd->index, index_of(to), data, len);
  return 0;
}

static void cb_rand(void *user, uint8_t *buf, size_t len) {
  bnode *nd = user;
  size_t i;
  for (i = 0; i < len; i++) { /* splitmix64: reproducible runs */
    uint64_t z = (nd->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    buf[i] = (uint8_t)(z ^ (z >> 31));
  }
}

static void cb_log(void *user, int level, const char *msg) {
  bnode *nd = user;
  fprintf(stderr, "%.3f node %u [%d] %s\n", (double)nd->b->now / SEC, nd->index,
          level, msg);
}

static void cb_play(void *user, const sc_play_chunk *ch) {
  bnode *nd = user;
  nd->played++;
  nd->skipped += ch->skipped;
  if (ch->seq >= nd->b->range_lo && ch->seq <= nd->b->range_hi) {
    nd->played_in_range++;
  }
}

/* ---- running ------------------------------------------------------------ */

/* Takes what has arrived at |nd| by now into b->in (untimed). */
static void node_take(bench *b, bnode *nd) {
  vdgram *d;
  b->nin = 0;
  while ((d = fifo_peek(&nd->inbox)) != NULL && d->at <= b->now) {
    fifo_pop(&nd->inbox);
    if (b->nin == b->capin) {
      b->in = grow(b->in, &b->capin, sizeof(*b->in), 256);
    }
    b->in[b->nin++] = d;
  }
}

/* Feeds |nd| the datagrams taken and runs its due timers. */
static void node_feed(bench *b, bnode *nd) {
  size_t i;
  int guard = 0;
  for (i = 0; i < b->nin; i++) {
    const vdgram *d = b->in[i];
    sc_node_recv(nd->core, d->data, d->len, &b->nodes[d->from].addr, b->now);
  }
  while (sc_node_get_expiry(nd->core) <= b->now && guard++ < 1000) {
    sc_node_handle_expiry(nd->core, b->now);
    b->expiries += nd->index == RELAY;
  }
  b->recvs += nd->index == RELAY ? b->nin : 0;
}

static void node_release(bench *b) {
  size_t i;
  for (i = 0; i < b->nin; i++) {
    free(b->in[i]);
  }
  b->nin = 0;
}

static void node_step(bench *b, bnode *nd) {
  node_take(b, nd);
  node_feed(b, nd);
  node_release(b);
}

static int node_is_due(const bench *b, const bnode *nd) {
  const vdgram *d = fifo_peek(&nd->inbox);
  return (d != NULL && d->at <= b->now) ||
         sc_node_get_expiry(nd->core) <= b->now;
}

/* One timed step of R: its input, its timers, its re-armed deadline (a
 * shell asks after every event) and the flush of its batch. Then, untimed,
 * its datagrams go into the virtual network. */
static void relay_step(bench *b) {
  bnode *r = &b->nodes[RELAY];
  outbox *ob = &b->ob;
  uint64_t t0, t1;
  volatile uint64_t deadline;
  size_t i;
  node_take(b, r);
  t0 = cpu_ns();
  node_feed(b, r);
  deadline = sc_node_get_expiry(r->core);
  (void)deadline;
  outbox_flush(ob);
  t1 = cpu_ns();
  b->r_cpu += t1 - t0;
  b->r_steps++;
  node_release(b);
  for (i = 0; i < ob->n; i++) {
    vnet_send(b, RELAY, ob->to[i], ob->slot[i], ob->len[i]);
    if (b->nsizes == b->capsizes) {
      b->sizes = grow(b->sizes, &b->capsizes, sizeof(*b->sizes), 65536);
    }
    b->sizes[b->nsizes++] = ob->len[i];
  }
  if (ob->n > 0) {
    if (b->ngroups == b->capgroups) {
      b->groups = grow(b->groups, &b->capgroups, sizeof(*b->groups), 4096);
    }
    b->groups[b->ngroups++] = (uint32_t)ob->n;
  }
  ob->n = ob->flushed = 0;
}

static uint64_t pub_time(const bench *b, uint64_t seq) {
  return b->t_stream + seq * b->payload * 8 * SEC / b->rate_bps;
}

static void publish_due(bench *b) {
  bnode *p = &b->nodes[PUB];
  while (b->rate_bps && pub_time(b, b->next_seq) <= b->now) {
    uint64_t seq = b->next_seq++;
    memcpy(b->frag, &seq, sizeof(seq)); /* every payload differs */
    if (sc_node_publish_fragment(p->core, b->pub_handle, b->frag, b->payload,
                                 seq % KEY_EVERY == 0, b->now) != 0) {
      die("publish_fragment failed");
    }
  }
}

/* Runs the star in virtual time until |end|. */
static void run_until(bench *b, uint64_t end) {
  for (;;) {
    uint64_t next = end;
    uint32_t i;
    if (b->rate_bps && pub_time(b, b->next_seq) < next) {
      next = pub_time(b, b->next_seq);
    }
    for (i = 0; i < NNODES; i++) {
      const vdgram *d = fifo_peek(&b->nodes[i].inbox);
      uint64_t e = sc_node_get_expiry(b->nodes[i].core);
      next = d != NULL && d->at < next ? d->at : next;
      next = e < next ? e : next;
    }
    b->now = next > b->now ? next : b->now;
    if (next >= end) {
      return;
    }
    publish_due(b);
    for (i = 0; i < NNODES; i++) {
      if (!node_is_due(b, &b->nodes[i])) {
        continue;
      }
      if (i == RELAY) {
        relay_step(b);
      } else {
        node_step(b, &b->nodes[i]);
      }
    }
  }
}

/* ---- setting up --------------------------------------------------------- */

static void node_start(bench *b, uint32_t i) {
  bnode *nd = &b->nodes[i];
  sc_settings st;
  sc_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.send = cb_send;
  cb.rand = cb_rand;
  cb.log = verbose ? cb_log : NULL;
  cb.stream_data = cb_play;
  nd->b = b;
  nd->index = i;
  nd->addr = addr_of(i);
  nd->rng = 0x5eed0000ULL + i;
  nd->memt = (sc_mem){.user = &nd->mem,
                      .malloc = cm_malloc,
                      .free = cm_free,
                      .calloc = cm_calloc,
                      .realloc = cm_realloc};
  sc_settings_default(&st);
  cb_rand(nd, st.static_secret, sizeof(st.static_secret));
  st.log_level = verbose ? SC_LOG_WARN : SC_LOG_ERROR;
  if (i == RELAY) {
    st.max_sessions = 64;
    st.push_capacity = 8 * NSINKS;
  } else {
    st.max_sessions = 1; /* R is the only neighbour there is room for */
  }
  if (sc_node_new(&nd->core, &st, &cb, &nd->memt, nd, b->now) != 0 ||
      sc_node_join_group(nd->core, GROUP, b->now) < 0) {
    die("cannot start a node");
  }
}

static void star_new(bench *b, uint64_t rate_bps) {
  uint8_t pk[SC_STREAM_KEY_LEN], sk[SC_STREAM_SECRET_LEN];
  sc_addr r = addr_of(RELAY);
  uint32_t i, h;
  memset(b, 0, sizeof(*b));
  outbox_open(&b->ob);
  for (i = 0; i < NNODES; i++) {
    node_start(b, i);
  }
  /* P's session comes up a second before the sinks' (after them with -l;
   * the order makes no difference to the figures). */
  for (i = 1; i < NNODES; i++) {
    int first = pub_last ? i != PUB : i == PUB;
    if (first && sc_node_connect(b->nodes[i].core, &r, b->now) != 0) {
      die("connect failed");
    }
  }
  run_until(b, b->now + SEC);
  for (i = 1; i < NNODES; i++) {
    int first = pub_last ? i != PUB : i == PUB;
    if (!first && sc_node_connect(b->nodes[i].core, &r, b->now) != 0) {
      die("connect failed");
    }
  }
  run_until(b, b->now + FORM_TIME);
  crypto_sign_keypair(pk, sk);
  if (sc_node_publish(b->nodes[PUB].core, GROUP, STREAM, sk, b->now,
                      &b->pub_handle) != 0) {
    die("publish failed");
  }
  for (i = 2; i < NNODES; i++) {
    if (sc_node_play(b->nodes[i].core, GROUP, STREAM, NULL, b->now, &h) != 0) {
      die("play failed");
    }
  }
  b->payload = sc_node_fragment_max(b->nodes[PUB].core);
  randombytes_buf(b->frag, sizeof(b->frag));
  b->rate_bps = rate_bps;
  b->t_stream = b->now;
}

static void star_del(bench *b) {
  uint32_t i;
  for (i = 0; i < NNODES; i++) {
    bnode *nd = &b->nodes[i];
    vdgram *d;
    sc_node_del(nd->core);
    while ((d = fifo_peek(&nd->inbox)) != NULL) {
      fifo_pop(&nd->inbox);
      free(d);
    }
    free(nd->inbox.q);
  }
  outbox_close(&b->ob);
  free(b->sizes);
  free(b->groups);
  free(b->in);
}

/* ---- the floor ---------------------------------------------------------- */

/* Seals |n| datagrams of |sizes| as sc_noise_seal does (header as
 * associated data, nonce = 32 zero bits then the packet number little
 * endian) straight into sendmmsg slots and sends them in batches of 32, or
 * (|groups| not NULL) in R's batches: a flush after each of its |ngroups|
 * steps, and at 32 within one. Returns the thread CPU time it took. */
static uint64_t floor_run(outbox *ob, const uint32_t *sizes, size_t n,
                          const uint32_t *groups, size_t ngroups) {
  static uint8_t plain[SLOT];
  uint8_t key[crypto_aead_chacha20poly1305_ietf_KEYBYTES], nonce[12] = {0};
  uint64_t t0, pn;
  size_t g = 0, left = groups != NULL && ngroups > 0 ? groups[0] : BATCH;
  randombytes_buf(key, sizeof(key));
  randombytes_buf(plain, sizeof(plain));
  t0 = cpu_ns();
  for (pn = 0; pn < n; pn++) {
    size_t len = sizes[pn];
    size_t pt = len > HDR_LEN + TAG_LEN ? len - HDR_LEN - TAG_LEN : 0;
    uint8_t *s = outbox_put(ob, HDR_LEN + pt + TAG_LEN, UINT32_MAX);
    unsigned long long clen;
    memcpy(nonce + 4, &pn, sizeof(pn)); /* little-endian hosts */
    memset(s, 0, HDR_LEN);
    memcpy(s + 6, &pn, sizeof(pn)); /* a header that changes */
    crypto_aead_chacha20poly1305_ietf_encrypt(s + HDR_LEN, &clen, plain, pt, s,
                                              HDR_LEN, NULL, nonce, key);
    if (--left == 0) { /* send the batch and reuse its slots */
      outbox_flush(ob);
      ob->n = ob->flushed = 0;
      left = groups != NULL && ++g < ngroups ? groups[g] : BATCH;
    }
  }
  outbox_flush(ob);
  ob->n = ob->flushed = 0;
  return cpu_ns() - t0;
}

/* What two back-to-back clock reads cost: charged to every timed step. */
static double clock_overhead(void) {
  uint64_t t0 = cpu_ns(), t1 = t0;
  int i;
  for (i = 0; i < 100000; i++) {
    t1 = cpu_ns();
  }
  return (double)(t1 - t0) / 100000;
}

/* ---- measuring ---------------------------------------------------------- */

static sc_stream_info stream_of(const bench *b, uint32_t i) {
  sc_stream_info si[4];
  if (sc_node_streams(b->nodes[i].core, si, 4) == 0) {
    memset(&si[0], 0, sizeof(si[0]));
  }
  return si[0];
}

static sc_node_stats stats_of(const bench *b, uint32_t i) {
  sc_node_stats st;
  sc_node_get_stats(b->nodes[i].core, &st);
  return st;
}

typedef struct slice {
  double relay, relay_stream, floor, floor_r, ratio, ratio_r, ovh_share;
  uint64_t dgrams, bytes, stream_bytes;
} slice;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median over |n| slices of the double at |off| in a slice. */
static double median_of(const slice *sl, int n, size_t off) {
  double v[MAX_SLICES] = {0};
  int k;
  for (k = 0; k < n; k++) {
    memcpy(&v[k], (const char *)&sl[k] + off, sizeof(v[k]));
  }
  return median(v, (size_t)n);
}
#define MEDIAN(sl, n, field) median_of(sl, n, offsetof(slice, field))

/* What R's stream looks like: who it has and how it pushes. */
static void print_topology(const bench *b) {
  sc_stream_info r = stream_of(b, RELAY);
  uint32_t i, sinks_pushed_by_r = 0;
  for (i = 2; i < NNODES; i++) {
    sc_stream_info s = stream_of(b, i);
    sinks_pushed_by_r += s.pushers >= 1;
  }
  printf("  topology: R has %zu sessions; R's stream: peers %u, children %u, "
         "pushers %u, roles %u; sinks with a pusher: %u of %u\n",
         sc_node_session_count(b->nodes[RELAY].core), r.peers, r.children,
         r.pushers, r.roles, sinks_pushed_by_r, NSINKS);
  if (r.children < NSINKS) {
    printf("  WARNING: R pushes to %u sinks, not %u\n", r.children, NSINKS);
  }
}

/* With -v: every node's view of the stream, and R's sessions. */
static void print_streams(const bench *b) {
  sc_session_info si[NNODES + 8];
  size_t k, n = sc_node_sessions(b->nodes[RELAY].core, si, NNODES + 8);
  uint32_t i;
  for (k = 0; verbose && k < n && k < NNODES + 8; k++) {
    printf("    R session %zu: srtt %.1f ms cwnd %llu B in flight %llu B "
           "pacing %.1f Mbit/s sent %llu pkts\n",
           k, (double)si[k].srtt_ns / MS, (unsigned long long)si[k].cwnd_bytes,
           (unsigned long long)si[k].bytes_in_flight,
           (double)si[k].pacing_rate_bps * 8 / 1e6,
           (unsigned long long)si[k].packets_sent);
  }
  for (i = 0; verbose && i < NNODES; i++) {
    sc_stream_info s = stream_of(b, i);
    sc_node_stats st = stats_of(b, i);
    printf("    node %u: roles %u top %lld start %lld peers %u pushers %u "
           "children %u held %llu pushed %llu/%llu pulled %llu req %llu "
           "mani %llu/%llu sent %llu recv %llu lost %llu expired %llu\n",
           i, s.roles, (long long)s.top, (long long)s.start, s.peers, s.pushers,
           s.children, (unsigned long long)s.fragments_held,
           (unsigned long long)s.stats.fragments_pushed_to_peers,
           (unsigned long long)s.stats.fragments_pushed_from_peers,
           (unsigned long long)s.stats.fragments_pulled_from_peers,
           (unsigned long long)s.stats.fragments_requested_from_peers,
           (unsigned long long)s.stats.manifests_published,
           (unsigned long long)s.stats.manifests_received,
           (unsigned long long)st.packets_sent,
           (unsigned long long)st.packets_received,
           (unsigned long long)st.packets_lost,
           (unsigned long long)st.dgrams_expired);
  }
}

/* Times R over |len| of virtual time, then the floor on its datagrams. */
static void measure_slice(bench *b, uint64_t len, double ovh, slice *sl,
                          uint64_t *errs_relay, uint64_t *errs_floor) {
  sc_node_stats s0 = stats_of(b, RELAY), s1;
  uint64_t e0 = b->ob.errors, c0 = b->ob.calls, calls, fl, flr, i;
  double r;
  b->r_cpu = b->r_steps = b->recvs = b->expiries = 0;
  b->nsizes = b->ngroups = 0;
  run_until(b, b->now + len);
  s1 = stats_of(b, RELAY);
  *errs_relay += b->ob.errors - e0;
  e0 = b->ob.errors;
  calls = b->ob.calls - c0;
  fl = floor_run(&b->ob, b->sizes, b->nsizes, NULL, 0);
  flr = floor_run(&b->ob, b->sizes, b->nsizes, b->groups, b->ngroups);
  *errs_floor += b->ob.errors - e0;
  sl->dgrams = b->nsizes;
  sl->bytes = 0;
  for (i = 0; i < b->nsizes; i++) {
    sl->bytes += b->sizes[i];
  }
  sl->stream_bytes = s1.stream_bytes_sent - s0.stream_bytes_sent;
  if (s1.bytes_sent - s0.bytes_sent != sl->bytes) {
    printf("  note: R's bytes_sent grew by %llu, its datagrams hold %llu\n",
           (unsigned long long)(s1.bytes_sent - s0.bytes_sent),
           (unsigned long long)sl->bytes);
  }
  r = (double)b->r_cpu - ovh * (double)b->r_steps;
  sl->ovh_share = ovh * (double)b->r_steps / (double)b->r_cpu;
  sl->relay = r / (double)sl->bytes;
  sl->relay_stream = r / (double)sl->stream_bytes;
  sl->floor = (double)fl / (double)sl->bytes;
  sl->floor_r = (double)flr / (double)sl->bytes;
  sl->ratio = sl->relay / sl->floor;
  sl->ratio_r = sl->relay / sl->floor_r;
  printf("  slice: R %5.1f ms cpu, %5llu steps (%llu recv, %llu expiry), "
         "sent %5llu dgrams in %llu sendmmsg, %5.2f MB (stream %5.2f MB) | "
         "relay %.3f ns/B (%.3f per stream B) | floor %.3f ns/B (%.3f in "
         "R's batches) | relay/floor %.2f\n",
         r / 1e6, (unsigned long long)b->r_steps, (unsigned long long)b->recvs,
         (unsigned long long)b->expiries, (unsigned long long)sl->dgrams,
         (unsigned long long)calls, (double)sl->bytes / 1e6,
         (double)sl->stream_bytes / 1e6, sl->relay, sl->relay_stream, sl->floor,
         sl->floor_r, sl->ratio);
}

/* Did every sink play the measured period's fragments, and did R push
 * each of them to every sink? */
static void print_delivery(const bench *b, const sc_stream_info *r0,
                           const sc_stream_info *r1) {
  uint64_t want = b->range_hi - b->range_lo + 1, lo = UINT64_MAX, sum = 0;
  uint64_t skipped = 0, pushes;
  uint32_t i;
  for (i = 2; i < NNODES; i++) {
    const bnode *nd = &b->nodes[i];
    lo = nd->played_in_range < lo ? nd->played_in_range : lo;
    sum += nd->played_in_range;
    skipped += nd->skipped;
  }
  pushes =
      r1->stats.fragments_pushed_to_peers - r0->stats.fragments_pushed_to_peers;
  printf("  delivery: %llu fragments published in the measured period; "
         "sinks played min %.2f%% mean %.2f%%; seqs skipped (whole run) "
         "%llu\n",
         (unsigned long long)want, 100.0 * (double)lo / (double)want,
         100.0 * (double)sum / (double)(want * NSINKS),
         (unsigned long long)skipped);
  printf("  R pushed %llu fragments (%.2f per published fragment, %u "
         "sinks), push drops %llu, pulls answered %llu\n",
         (unsigned long long)pushes, (double)pushes / (double)want, NSINKS,
         (unsigned long long)(r1->stats.push_drops - r0->stats.push_drops),
         (unsigned long long)(r1->stats.fragments_requested_by_peers -
                              r0->stats.fragments_requested_by_peers));
}

static void print_memory(const bench *b, size_t before) {
  const counted *m = &b->nodes[RELAY].mem;
  sc_stream_info r = stream_of(b, RELAY);
  uint64_t payload = r.fragments_held * b->payload;
  printf("  memory after %.1f s of stream: R allocated %zu B now, %zu B peak "
         "(%zu B before the stream)\n",
         (double)(b->now - b->t_stream) / SEC, m->now, m->peak, before);
  printf("  R's window holds %llu fragments: %llu B encoded (%llu B "
         "payload)\n",
         (unsigned long long)r.fragments_held, (unsigned long long)r.bytes_held,
         (unsigned long long)payload);
  printf("  peak / encoded fragments held %.3f; (now - before) / encoded "
         "%.3f; peak / payload %.3f\n",
         (double)m->peak / (double)r.bytes_held,
         (double)(m->now - before) / (double)r.bytes_held,
         (double)m->peak / (double)payload);
}

static void run_rate(uint64_t kbit, int nslices, uint64_t slice_len,
                     double ovh) {
  static bench b;
  slice sl[MAX_SLICES];
  double share = 0;
  uint64_t errs_relay = 0, errs_floor = 0;
  sc_stream_info r0, r1;
  size_t before;
  int k;
  star_new(&b, kbit * 1000);
  before = b.nodes[RELAY].mem.now;
  printf("rate %llu kbit/s: payload %zu B per fragment (%.1f fragments/s), "
         "%u sinks, %d slices of %.1f s after %.0f s of warm-up\n",
         (unsigned long long)kbit, b.payload,
         (double)b.rate_bps / 8 / (double)b.payload, NSINKS, nslices,
         (double)slice_len / SEC, (double)warm_time / SEC);
  run_until(&b, b.now + warm_time);
  print_topology(&b);
  print_streams(&b);
  r0 = stream_of(&b, RELAY);
  b.range_lo = b.next_seq;
  b.range_hi = UINT64_MAX;
  for (k = 0; k < nslices; k++) {
    measure_slice(&b, slice_len, ovh, &sl[k], &errs_relay, &errs_floor);
    share += sl[k].ovh_share / nslices;
  }
  r1 = stream_of(&b, RELAY);
  b.range_hi = b.next_seq - 1;
  run_until(&b, b.now + DRAIN_TIME);
  printf("  median: relay %.3f ns/B (%.3f ns per stream B), floor %.3f "
         "ns/B, relay/floor %.2f\n",
         MEDIAN(sl, nslices, relay), MEDIAN(sl, nslices, relay_stream),
         MEDIAN(sl, nslices, floor), MEDIAN(sl, nslices, ratio));
  printf("  median: floor in R's batches %.3f ns/B, relay/that %.2f\n",
         MEDIAN(sl, nslices, floor_r), MEDIAN(sl, nslices, ratio_r));
  printf("  sendmmsg errors: relay %llu, floor %llu; clock reads %.1f%% "
         "of R's time (subtracted)\n",
         (unsigned long long)errs_relay, (unsigned long long)errs_floor,
         100 * share);
  print_delivery(&b, &r0, &r1);
  print_topology(&b);
  print_memory(&b, before);
  star_del(&b);
}

int main(int argc, char **argv) {
  uint64_t rates[16], slice_len = 2 * SEC;
  int nrates = 0, nslices = 5, opt, i;
  double ovh;
  while ((opt = getopt(argc, argv, "lr:s:t:w:v")) != -1) {
    if (opt == 'r' && nrates < 16) {
      rates[nrates++] = strtoull(optarg, NULL, 10);
    } else if (opt == 's') {
      nslices = (int)strtol(optarg, NULL, 10);
    } else if (opt == 't') {
      slice_len = (uint64_t)(strtod(optarg, NULL) * SEC);
    } else if (opt == 'w') {
      warm_time = (uint64_t)(strtod(optarg, NULL) * SEC);
    } else if (opt == 'l') {
      pub_last = 1;
    } else if (opt == 'v') {
      verbose = 1;
    } else {
      fprintf(stderr, "usage: bench_relay [-r KBIT]... [-s SLICES] "
                      "[-t SECONDS] [-v]\n");
      return 2;
    }
  }
  if (nrates == 0) {
    rates[nrates++] = 2000;
    rates[nrates++] = 10000;
  }
  if (nslices < 1 || nslices > MAX_SLICES || slice_len == 0 ||
      sodium_init() < 0) {
    return 2;
  }
  for (i = 0; i < nrates; i++) {
    if (rates[i] == 0) {
      return 2;
    }
  }
  ovh = clock_overhead();
  printf("bench_relay: one relay, %u sinks; clock read pair %.0f ns\n", NSINKS,
         ovh);
  for (i = 0; i < nrates; i++) {
    run_rate(rates[i], nslices, slice_len, ovh);
  }
  return 0;
}
