/*
 * sim_net.c: stratosim's network model (see sim_net.h for the datagram's
 * path).
 *
 * Placement. The geography draws each node's region from a table weighted
 * by internet users, scatters it normally around the region's centre and
 * keeps its position as a unit vector, so the core delay of a pair is one
 * chord length and one asin: great-circle distance at the speed of light in
 * fibre, inflated because routes are not great circles. A latency matrix
 * gives sites instead; node i sits at site i % K. The uniform placement
 * keeps nothing per pair: the delay of {a, b} is a hash of the seed and the
 * unordered pair, mapped onto [lo, hi], computed again on every datagram
 * (no N x N table at 10,000 nodes).
 *
 * Randomness. The model owns one stream of the run's seed. sim_net_new
 * draws, node by node, the region and position (geography only) and the
 * access delay (only when the range is wider than one value). sim_net_send
 * draws only for the receiver's enabled impairments, in a fixed order: the
 * Gilbert-Elliott step, independent loss, burst loss, duplication, then per
 * copy jitter, reordering and corruption. sim_rng_chance makes no draw for
 * a probability of 0 or 1, so a disabled impairment costs nothing; the
 * stream is shared, though, so enabling one shifts every later draw.
 */
#include "sim_net.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_rng.h"

#define NET_STREAM 0x6e65747700000001ULL /* the model's stream: "netw" 1 */
#define PAIR_TAG 0x756e69666f726d31ULL   /* uniform pair delays: "uniform1" */
#define EARTH_KM 6371.0
#define FIBRE_KM_PER_MS 200.0 /* light in glass, about 2/3 c */
/* Routes follow cables and peering points, not great circles. With the
 * default access delays, 1.4 keeps even antipodal pairs within 150 ms. */
#define ROUTE_INFLATION 1.4
#define NS_PER_KM (ROUTE_INFLATION * 1e6 / FIBRE_KM_PER_MS)
#define MATRIX_MAX_MS 1e9 /* far beyond any real path; keeps ns in range */
#define SITE_NAME_LEN 16  /* "site 4294967295" */
#define DEG (3.14159265358979323846 / 180.0)

/* Where the internet's users are: centre, weight (users, millions, about
 * 2023) and how far (km, one standard deviation) they spread. */
typedef struct region {
  const char *name;
  double lat, lon;
  uint32_t weight;
  double radius;
} region;

static const region regions[] = {
    {"north-america-east", 40.0, -78.0, 200, 900},
    {"north-america-west", 38.0, -118.0, 130, 800},
    {"south-america", -15.0, -52.0, 380, 1800},
    {"europe-west", 49.0, 5.0, 330, 700},
    {"europe-east", 52.0, 30.0, 250, 1000},
    {"africa", 3.0, 18.0, 600, 2200},
    {"middle-east", 29.0, 45.0, 250, 1000},
    {"india", 22.0, 79.0, 900, 1000},
    {"east-asia", 34.0, 116.0, 1300, 1200},
    {"southeast-asia", 5.0, 108.0, 480, 1500},
    {"oceania", -32.0, 148.0, 30, 900},
};
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

typedef struct sim_node {
  sim_link link;
  uint64_t up_free_at, down_free_at; /* when each queue is empty */
  uint64_t access;                   /* access delay, ns */
  double pos[3];                     /* geography: unit vector */
  uint32_t side;
  uint32_t place; /* region (geography) or site (matrix) */
  uint8_t ge_bad; /* Gilbert-Elliott chain in the bad state */
} sim_node;

struct sim_net {
  sim_node *node;
  uint32_t n;
  int kind;
  uint64_t fixed;
  uint64_t lo, hi;   /* uniform */
  uint64_t pair_key; /* uniform: the seed, mixed */
  uint32_t nsites;
  uint64_t *matrix; /* nsites x nsites one-way delays, ns */
  char *site_names; /* nsites x SITE_NAME_LEN */
  sim_rng rng;
  sim_net_stats stats;
};

void sim_link_default(sim_link *l) {
  memset(l, 0, sizeof(*l));
  l->up_bps = 20000000;
  l->up_queue = 256 * 1024;
  l->down_bps = 100000000;
  l->down_queue = 256 * 1024;
}

void sim_placement_default(sim_placement *p) {
  memset(p, 0, sizeof(*p));
  p->kind = SIM_PLACE_GEO;
  p->access_min = 1 * SIM_MS;
  p->access_max = 5 * SIM_MS;
}

const char *sim_fate_name(int fate) {
  static const char *const names[SIM_FATE_COUNT] = {
      "delivered", "up_queue", "partition", "loss", "down_queue"};
  if (fate < 0 || fate >= SIM_FATE_COUNT)
    return "unknown";
  return names[fate];
}

/* splitmix64's finaliser: a bijective mix of 64 bits. */
static uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

uint64_t sim_mul_div(uint64_t a, uint64_t b, uint64_t c, int up) {
#if defined(__SIZEOF_INT128__)
  __extension__ typedef unsigned __int128 u128;
  u128 q = ((u128)a * b + (up ? c - 1 : 0)) / c;
  return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
#else
  long double q = (long double)a * (long double)b / (long double)c;
  if (up)
    q = ceill(q);
  return q >= 1.8e19L ? UINT64_MAX : (uint64_t)q;
#endif
}

/* ---- Matrix files ---- */

/* Reads the whole file at |path| into a NUL-terminated heap buffer. */
static char *read_file(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  char *buf = NULL, *nbuf;
  size_t len = 0, cap = 0, got;
  if (f == NULL) {
    set_err(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  do {
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 65536;
      if ((nbuf = realloc(buf, cap)) == NULL) {
        set_err(err, errlen, "out of memory");
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nbuf;
    }
    got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
  } while (got > 0);
  if (ferror(f)) {
    set_err(err, errlen, "%s: read error", path);
    free(buf);
    buf = NULL;
  } else {
    buf[len] = '\0';
  }
  fclose(f);
  return buf;
}

typedef struct matrix_parse {
  const char *path;
  unsigned long line;
  uint64_t *v; /* delays so far, row by row, ns */
  size_t nv, cap;
  size_t k, rows; /* k = 0 until the first row */
} matrix_parse;

static int push_delay(matrix_parse *mp, uint64_t ns) {
  if (mp->nv == mp->cap) {
    size_t cap = mp->cap ? mp->cap * 2 : 64;
    uint64_t *nv =
        cap < SIZE_MAX / sizeof(*nv) ? realloc(mp->v, cap * sizeof(*nv)) : NULL;
    if (nv == NULL)
      return -1;
    mp->v = nv;
    mp->cap = cap;
  }
  mp->v[mp->nv++] = ns;
  return 0;
}

/* Parses one line (comment already cut off) into the row it holds, if
 * any. */
static int parse_row(matrix_parse *mp, char *s, char *err, size_t errlen) {
  const char *ws = " \t\r\v\f";
  size_t count = 0;
  char *tok, *end;
  for (tok = s + strspn(s, ws); *tok != '\0'; tok += strspn(tok, ws)) {
    size_t toklen = strcspn(tok, ws);
    double ms = strtod(tok, &end);
    if (end != tok + toklen) {
      set_err(err, errlen, "%s:%lu: bad number '%.*s'", mp->path, mp->line,
              (int)(toklen > 32 ? 32 : toklen), tok);
      return -1;
    }
    /* !(ms >= 0) also rejects NaN. */
    if (!(ms >= 0.0) || ms > MATRIX_MAX_MS) {
      set_err(err, errlen,
              "%s:%lu: delay '%.*s' is not a non-negative finite number of ms",
              mp->path, mp->line, (int)(toklen > 32 ? 32 : toklen), tok);
      return -1;
    }
    if (push_delay(mp, (uint64_t)(ms * 1e6 + 0.5)) < 0) {
      set_err(err, errlen, "out of memory");
      return -1;
    }
    count++;
    tok = end;
  }
  if (count == 0)
    return 0;
  if (mp->k == 0)
    mp->k = count; /* the first row says how many sites there are */
  if (mp->rows == mp->k) {
    set_err(err, errlen, "%s:%lu: more than %zu rows", mp->path, mp->line,
            mp->k);
    return -1;
  }
  if (count != mp->k) {
    set_err(err, errlen, "%s:%lu: expected %zu numbers, found %zu", mp->path,
            mp->line, mp->k, count);
    return -1;
  }
  mp->rows++;
  return 0;
}

/* Parses the matrix in |text| into |mp|. */
static int parse_matrix(matrix_parse *mp, char *text, char *err,
                        size_t errlen) {
  char *line = text, *next;
  for (mp->line = 1; line != NULL; mp->line++, line = next) {
    char *hash;
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if ((hash = strchr(line, '#')) != NULL)
      *hash = '\0';
    if (parse_row(mp, line, err, errlen) < 0)
      return -1;
  }
  if (mp->k == 0) {
    set_err(err, errlen, "%s: no latency rows", mp->path);
    return -1;
  }
  if (mp->k > UINT32_MAX) {
    set_err(err, errlen, "%s: too many sites", mp->path);
    return -1;
  }
  if (mp->rows != mp->k) {
    set_err(err, errlen, "%s: expected %zu rows, found %zu", mp->path, mp->k,
            mp->rows);
    return -1;
  }
  return 0;
}

/* Reads |path| into |net|'s matrix and names its sites. */
static int load_matrix(sim_net *net, const char *path, char *err,
                       size_t errlen) {
  matrix_parse mp = {.path = path};
  char *text = read_file(path, err, errlen);
  if (text == NULL)
    return -1;
  if (parse_matrix(&mp, text, err, errlen) < 0) {
    free(text);
    free(mp.v);
    return -1;
  }
  free(text);
  net->matrix = mp.v;
  net->nsites = (uint32_t)mp.k;
  net->site_names = malloc(mp.k * SITE_NAME_LEN);
  if (net->site_names == NULL) {
    set_err(err, errlen, "out of memory");
    return -1;
  }
  for (uint32_t s = 0; s < net->nsites; s++)
    snprintf(net->site_names + (size_t)s * SITE_NAME_LEN, SITE_NAME_LEN,
             "site %u", (unsigned)s);
  return 0;
}

/* ---- Placement ---- */

static uint32_t draw_region(sim_rng *rng) {
  uint64_t total = 0, r;
  uint32_t i;
  for (i = 0; i < NREGIONS; i++)
    total += regions[i].weight;
  r = sim_rng_below(rng, total);
  for (i = 0; r >= regions[i].weight; i++)
    r -= regions[i].weight;
  return i;
}

/* Puts |nd| in a random region, scattered normally around its centre. */
static void place_geo(sim_node *nd, sim_rng *rng) {
  const region *rg = &regions[nd->place = draw_region(rng)];
  const double la = rg->lat * DEG, lo = rg->lon * DEG;
  /* The centre and the unit vectors pointing east and north from it. */
  const double c[3] = {cos(la) * cos(lo), cos(la) * sin(lo), sin(la)};
  const double e[3] = {-sin(lo), cos(lo), 0.0};
  const double n[3] = {-sin(la) * cos(lo), -sin(la) * sin(lo), cos(la)};
  const double x = sim_rng_normal(rng) * rg->radius; /* km east */
  const double y = sim_rng_normal(rng) * rg->radius; /* km north */
  const double d = sqrt(x * x + y * y);
  /* Walk the great circle from the centre d km in the direction (x, y):
   * exact on the sphere, so even wide scatters stay unit vectors. */
  const double s = d > 0.0 ? sin(d / EARTH_KM) / d : 0.0;
  for (int i = 0; i < 3; i++)
    nd->pos[i] = c[i] * cos(d / EARTH_KM) + (e[i] * x + n[i] * y) * s;
}

static int check_placement(const sim_placement *p, char *err, size_t errlen) {
  if (p->kind != SIM_PLACE_GEO && p->kind != SIM_PLACE_FIXED &&
      p->kind != SIM_PLACE_MATRIX && p->kind != SIM_PLACE_UNIFORM) {
    set_err(err, errlen, "unknown placement kind %d", p->kind);
    return -1;
  }
  if (p->access_min > p->access_max) {
    set_err(err, errlen, "access delay: minimum above maximum");
    return -1;
  }
  if (p->kind == SIM_PLACE_UNIFORM && p->lo > p->hi) {
    set_err(err, errlen, "uniform placement: minimum above maximum");
    return -1;
  }
  return 0;
}

int sim_net_new(sim_net **pnet, uint32_t nnodes, const sim_placement *place,
                const sim_link *link, uint64_t seed, char *err, size_t errlen) {
  sim_net *net;
  uint64_t span = place->access_max - place->access_min;
  *pnet = NULL;
  if (check_placement(place, err, errlen) < 0)
    return -1;
  net = calloc(1, sizeof(*net));
  if (net == NULL ||
      (net->node = calloc(nnodes ? nnodes : 1, sizeof(sim_node))) == NULL) {
    free(net);
    set_err(err, errlen, "out of memory");
    return -1;
  }
  net->n = nnodes;
  net->kind = place->kind;
  net->fixed = place->fixed;
  net->lo = place->lo;
  net->hi = place->hi;
  net->pair_key = mix64(seed ^ PAIR_TAG);
  sim_rng_seed(&net->rng, seed, NET_STREAM);
  if (place->kind == SIM_PLACE_MATRIX &&
      load_matrix(net, place->matrix_path, err, errlen) < 0) {
    sim_net_del(net);
    return -1;
  }
  for (uint32_t i = 0; i < nnodes; i++) {
    sim_node *nd = &net->node[i];
    nd->link = *link;
    if (place->kind == SIM_PLACE_GEO)
      place_geo(nd, &net->rng);
    else if (place->kind == SIM_PLACE_MATRIX)
      nd->place = i % net->nsites;
    nd->access = place->access_min;
    if (span > 0)
      nd->access += span == UINT64_MAX ? sim_rng_u64(&net->rng)
                                       : sim_rng_below(&net->rng, span + 1);
  }
  *pnet = net;
  return 0;
}

void sim_net_del(sim_net *net) {
  if (net == NULL)
    return;
  free(net->node);
  free(net->matrix);
  free(net->site_names);
  free(net);
}

sim_link *sim_net_link(sim_net *net, uint32_t node) {
  assert(node < net->n);
  return &net->node[node].link;
}

void sim_net_set_side(sim_net *net, uint32_t node, uint32_t side) {
  assert(node < net->n);
  net->node[node].side = side;
}

uint32_t sim_net_side(const sim_net *net, uint32_t node) {
  assert(node < net->n);
  return net->node[node].side;
}

/* The uniform placement's delay between nodes |a| and |b|: the same for
 * {a, b} as for {b, a}, uniform in [lo, hi] (multiply-high, no modulo
 * bias worth the name), and a pure function of the seed and the pair. */
static uint64_t pair_delay(const sim_net *net, uint32_t a, uint32_t b) {
  uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
  uint64_t h = mix64(net->pair_key ^ (lo << 32 | hi));
  uint64_t span = net->hi - net->lo;
  if (span == UINT64_MAX)
    return h;
  return net->lo + sim_mul_div(h, span + 1, UINT64_MAX, 0) % (span + 1);
}

/* The delay between the places of |a| and |b|, without access delays. */
static uint64_t core_delay(const sim_net *net, const sim_node *a,
                           const sim_node *b) {
  double dx, dy, dz, chord;
  if (net->kind == SIM_PLACE_FIXED)
    return net->fixed;
  if (net->kind == SIM_PLACE_UNIFORM)
    return pair_delay(net, (uint32_t)(a - net->node),
                      (uint32_t)(b - net->node));
  if (net->kind == SIM_PLACE_MATRIX)
    return net->matrix[(size_t)a->place * net->nsites + b->place];
  dx = a->pos[0] - b->pos[0];
  dy = a->pos[1] - b->pos[1];
  dz = a->pos[2] - b->pos[2];
  chord = sqrt(dx * dx + dy * dy + dz * dz);
  /* The angle from the chord, not acos of the dot product: acos loses
   * half its digits for nearby nodes. */
  return (uint64_t)(2.0 * asin(fmin(chord * 0.5, 1.0)) * EARTH_KM * NS_PER_KM +
                    0.5);
}

uint64_t sim_net_latency(const sim_net *net, uint32_t a, uint32_t b) {
  assert(a < net->n && b < net->n);
  return net->node[a].access + net->node[b].access +
         core_delay(net, &net->node[a], &net->node[b]);
}

const char *sim_net_region(const sim_net *net, uint32_t node) {
  assert(node < net->n);
  if (net->kind == SIM_PLACE_GEO)
    return regions[net->node[node].place].name;
  if (net->kind == SIM_PLACE_MATRIX)
    return net->site_names + (size_t)net->node[node].place * SITE_NAME_LEN;
  return net->kind == SIM_PLACE_UNIFORM ? "uniform" : "fixed";
}

/* A drop-tail FIFO of |limit| bytes served at |bps| (0: unlimited, no
 * queue) that is empty from |*free_at|: returns 0 and sets |*done| to when
 * |len| bytes offered at |now| are through, or -1 when they do not fit. */
static int queue_offer(uint64_t *free_at, uint64_t bps, uint64_t limit,
                       size_t len, uint64_t now, uint64_t *done) {
  uint64_t backlog = 0, start = now;
  if (bps == 0) {
    *done = now;
    return 0;
  }
  if (*free_at > now) {
    backlog = sim_mul_div(*free_at - now, bps, 8 * SIM_S, 0);
    start = *free_at;
  }
  if (len > limit || backlog > limit - len)
    return -1;
  *done = *free_at = start + sim_mul_div(len, 8 * SIM_S, bps, 1);
  return 0;
}

/* Steps |nd|'s Gilbert-Elliott chain and decides whether the datagram
 * arriving now is lost. */
static int draw_loss(sim_net *net, sim_node *nd) {
  const sim_link *l = &nd->link;
  if (l->ge_p_gb > 0.0) {
    if (nd->ge_bad)
      nd->ge_bad = (uint8_t)!sim_rng_chance(&net->rng, l->ge_p_bg);
    else
      nd->ge_bad = (uint8_t)sim_rng_chance(&net->rng, l->ge_p_gb);
  } else {
    nd->ge_bad = 0; /* off: a chain turned on later starts good */
  }
  if (sim_rng_chance(&net->rng, l->loss))
    return 1;
  if (l->ge_p_gb > 0.0)
    return sim_rng_chance(&net->rng,
                          nd->ge_bad ? l->ge_loss_bad : l->ge_loss_good);
  return 0;
}

/* Fills copy |i| of |out|: arrival after |base| plus the receiver's jitter
 * and reorder delay, and its corruption. */
static void draw_copy(sim_net *net, const sim_link *l, uint64_t base,
                      size_t len, int i, sim_route *out) {
  uint64_t at = base, c = 0;
  if (l->jitter > 0)
    at += l->jitter == UINT64_MAX ? sim_rng_u64(&net->rng)
                                  : sim_rng_below(&net->rng, l->jitter + 1);
  if (sim_rng_chance(&net->rng, l->reorder)) {
    at += l->reorder_delay;
    net->stats.reordered++;
  }
  /* An empty datagram has no bit to flip. */
  if (len > 0 && sim_rng_chance(&net->rng, l->corrupt)) {
    while (c == 0) /* 0 means intact */
      c = sim_rng_u64(&net->rng);
    net->stats.corrupted++;
  }
  out->at[i] = at;
  out->corrupt[i] = c;
}

static void drop(sim_net *net, int fate, sim_route *out) {
  out->fate = fate;
  net->stats.dropped[fate]++;
}

void sim_net_send(sim_net *net, uint32_t src, uint32_t dst, size_t len,
                  uint64_t now, sim_route *out) {
  sim_node *a, *b;
  uint64_t depart;
  assert(src < net->n && dst < net->n);
  a = &net->node[src];
  b = &net->node[dst];
  memset(out, 0, sizeof(*out));
  net->stats.sent++;
  net->stats.bytes_sent += len;
  if (queue_offer(&a->up_free_at, a->link.up_bps, a->link.up_queue, len, now,
                  &depart) < 0) {
    drop(net, SIM_FATE_UP_QUEUE, out);
    return;
  }
  /* Checked after the upload: the datagram has used the sender's link
   * before the network discards it. */
  if (a->side != b->side) {
    drop(net, SIM_FATE_PARTITION, out);
    return;
  }
  if (draw_loss(net, b)) {
    drop(net, SIM_FATE_LOSS, out);
    return;
  }
  out->fate = SIM_FATE_DELIVERED;
  out->ncopies = 1;
  if (sim_rng_chance(&net->rng, b->link.duplicate)) {
    out->ncopies = 2;
    net->stats.duplicated++;
  }
  depart += core_delay(net, a, b) + a->access + b->access;
  for (int i = 0; i < out->ncopies; i++)
    draw_copy(net, &b->link, depart, len, i, out);
}

int sim_net_receive(sim_net *net, uint32_t dst, size_t len, uint64_t now,
                    uint64_t *done) {
  sim_node *b;
  assert(dst < net->n);
  b = &net->node[dst];
  if (queue_offer(&b->down_free_at, b->link.down_bps, b->link.down_queue, len,
                  now, done) < 0) {
    net->stats.dropped[SIM_FATE_DOWN_QUEUE]++;
    return SIM_FATE_DOWN_QUEUE;
  }
  net->stats.delivered++;
  net->stats.bytes_delivered += len;
  return SIM_FATE_DELIVERED;
}

const sim_net_stats *sim_net_get_stats(const sim_net *net) {
  return &net->stats;
}
