/*
 * sim_net.h: stratosim's network model.
 *
 * Every node sits behind one access link. A datagram from A to B
 *   1. waits in A's upload queue (drop-tail, bounded in bytes) and leaves at
 *      A's upload rate;
 *   2. is dropped if A and B are on different sides of a partition;
 *   3. is lost with the probabilities of B's access link: independent loss
 *      plus a Gilbert-Elliott two-state chain (bursts), stepped once per
 *      datagram arriving at B;
 *   4. propagates for the one-way latency between A and B (the placement:
 *      a synthetic geography, a latency matrix, a fixed delay or a delay
 *      drawn per pair; plus each end's access delay), plus B's jitter
 * (uniform), plus B's reorder delay with B's reorder probability;
 *   5. may arrive twice (B's duplicate probability, each copy with its own
 *      jitter) and may arrive with one bit flipped (B's corrupt
 *      probability);
 *   6. waits in B's download queue (drop-tail) and is received at B's
 *      download rate.
 * Steps 1-5 are decided when A sends (sim_net_send); step 6 when the
 * datagram reaches B's downlink (sim_net_receive), because datagrams from
 * many senders meet there in arrival order.
 *
 * A FIFO queue served at a constant rate is fully described by the time it
 * will be empty: the backlog at |now| is (free_at - now) * rate. So the
 * model keeps two timestamps per node and no per-datagram queue.
 *
 * All randomness comes from the model's own stream of the run's seed, and
 * draws are made only for impairments that are enabled, so a run is
 * replayed exactly from its seed.
 */
#ifndef SIM_NET_H
#define SIM_NET_H

#include <stddef.h>
#include <stdint.h>

#define SIM_MS ((uint64_t)1000000)
#define SIM_S ((uint64_t)1000000000)

/* The impairments and capacities of one node's access link. Rates are in
 * bits per second, queues in bytes, probabilities in [0, 1], delays in ns. */
typedef struct sim_link {
  uint64_t up_bps;     /* upload capacity; 0 = unlimited */
  uint64_t up_queue;   /* upload queue limit (bytes waiting) */
  uint64_t down_bps;   /* download capacity; 0 = unlimited */
  uint64_t down_queue; /* download queue limit */
  double loss;         /* independent loss of each arriving datagram */
  double ge_p_gb;      /* Gilbert-Elliott P(good -> bad); 0 = off */
  double ge_p_bg;      /* P(bad -> good) */
  double ge_loss_bad;  /* loss probability in the bad state */
  double ge_loss_good; /* loss probability in the good state */
  uint64_t jitter;     /* extra delay uniform in [0, jitter] */
  double reorder;      /* probability of an extra |reorder_delay| */
  uint64_t reorder_delay;
  double duplicate; /* probability that a second copy arrives */
  double corrupt;   /* probability that a copy arrives with a bit flipped */
} sim_link;

/* sim_link_default fills |l| with the defaults: 20 Mbit/s up and
 * 100 Mbit/s down, each with a 256 KiB queue, no loss, no jitter, no
 * reordering, no duplication, no corruption. */
void sim_link_default(sim_link *l);

enum sim_place_kind {
  SIM_PLACE_GEO = 0,    /* synthetic geography, the default */
  SIM_PLACE_FIXED = 1,  /* every pair |fixed| apart */
  SIM_PLACE_MATRIX = 2, /* sites from a latency matrix file */
  SIM_PLACE_UNIFORM = 3 /* each pair uniform in [lo, hi], from the seed */
};

#define SIM_PATH_MAX 512

typedef struct sim_placement {
  int kind;                        /* enum sim_place_kind */
  uint64_t fixed;                  /* SIM_PLACE_FIXED: core one-way delay */
  uint64_t lo, hi;                 /* SIM_PLACE_UNIFORM: lo <= hi */
  char matrix_path[SIM_PATH_MAX];  /* SIM_PLACE_MATRIX */
  uint64_t access_min, access_max; /* per-node access delay, uniform */
} sim_placement;

/* sim_placement_default: geography, access delay uniform in 1..5 ms. */
void sim_placement_default(sim_placement *p);

/* What happened to a datagram. */
enum sim_fate {
  SIM_FATE_DELIVERED = 0,
  SIM_FATE_UP_QUEUE,   /* sender's upload queue was full */
  SIM_FATE_PARTITION,  /* the ends are on different sides */
  SIM_FATE_LOSS,       /* random or burst loss */
  SIM_FATE_DOWN_QUEUE, /* receiver's download queue was full */
  SIM_FATE_COUNT
};

/* sim_fate_name returns a snake_case name for |fate|. */
const char *sim_fate_name(int fate);

/* The decision sim_net_send takes for one datagram. */
typedef struct sim_route {
  int fate;       /* SIM_FATE_DELIVERED or the reason it was dropped */
  int ncopies;    /* 1, or 2 when duplicated; 0 when dropped */
  uint64_t at[2]; /* when each copy reaches the receiver's downlink */
  /* 0: the copy is intact. Otherwise the copy is corrupted: flip bit
   * (corrupt[i] % 8) of byte ((corrupt[i] / 8) % len). */
  uint64_t corrupt[2];
} sim_route;

typedef struct sim_net_stats {
  uint64_t sent;                    /* datagrams offered by senders */
  uint64_t bytes_sent;              /* their bytes */
  uint64_t dropped[SIM_FATE_COUNT]; /* index 0 unused */
  uint64_t delivered; /* copies received (after the download queue) */
  uint64_t bytes_delivered;
  uint64_t duplicated; /* extra copies made */
  uint64_t corrupted;  /* copies with a flipped bit */
  uint64_t reordered;  /* datagrams given the reorder delay */
} sim_net_stats;

typedef struct sim_net sim_net;

/* sim_net_new builds the model for |nnodes| nodes placed by |place|, every
 * link starting as |link|, with randomness from |seed|. A matrix file is
 * read here. Returns 0, or -1 with a message of at most |errlen| bytes in
 * |err| naming the file and line for a bad matrix, or saying "out of
 * memory". */
int sim_net_new(sim_net **pnet, uint32_t nnodes, const sim_placement *place,
                const sim_link *link, uint64_t seed, char *err, size_t errlen);

/* sim_net_del frees |net|; NULL is fine. */
void sim_net_del(sim_net *net);

/* sim_net_link returns node |node|'s link parameters, to read or change.
 * Changes apply to datagrams sent (and, for the download queue, received)
 * from then on. */
sim_link *sim_net_link(sim_net *net, uint32_t node);

/* sim_net_set_side puts |node| on side |side| of a partition; nodes talk
 * only to nodes on their own side. Every node starts on side 0. */
void sim_net_set_side(sim_net *net, uint32_t node, uint32_t side);

/* sim_net_side returns the side |node| is on. */
uint32_t sim_net_side(const sim_net *net, uint32_t node);

/* sim_net_latency returns the one-way propagation delay from |a| to |b|
 * without queueing, jitter or reordering: the physical limit of that path.
 * It is the access delays of both ends plus the core delay between their
 * places, with no special case for |a| == |b|: a node's latency to itself
 * is its access delay twice plus 0 (geography), |fixed| (fixed), its
 * site's diagonal entry (matrix) or its own pair's draw (uniform). */
uint64_t sim_net_latency(const sim_net *net, uint32_t a, uint32_t b);

/* sim_net_region returns the name of the region (geography), "site N"
 * (matrix), "fixed" or "uniform" where |node| is placed. The string is static
 * or owned by |net|. */
const char *sim_net_region(const sim_net *net, uint32_t node);

/* sim_net_send decides the fate of a datagram of |len| bytes sent from
 * |src| to |dst| at |now| (steps 1-5 above) and fills |out|. */
void sim_net_send(sim_net *net, uint32_t src, uint32_t dst, size_t len,
                  uint64_t now, sim_route *out);

/* sim_net_receive takes a copy of |len| bytes that reaches |dst|'s downlink
 * at |now| (step 6). Returns SIM_FATE_DELIVERED and sets |*done| to the
 * time it is fully received (|now| itself when the download is unlimited
 * and idle), or SIM_FATE_DOWN_QUEUE when it is dropped. */
int sim_net_receive(sim_net *net, uint32_t dst, size_t len, uint64_t now,
                    uint64_t *done);

/* sim_mul_div returns floor(|a| * |b| / |c|), or the ceiling when |up|,
 * saturating at UINT64_MAX; |c| > 0. Exact integers keep every timing
 * decision the same on every run. */
uint64_t sim_mul_div(uint64_t a, uint64_t b, uint64_t c, int up);

/* sim_net_get_stats returns the model's counters. */
const sim_net_stats *sim_net_get_stats(const sim_net *net);

#endif /* SIM_NET_H */
