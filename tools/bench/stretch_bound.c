/*
 * stretch_bound.c: a lower bound on the stretch that any overlay can give
 * under stream_scale.sh's delay model when the publisher sends each
 * fragment to at most K nodes (the upload target: K = 8).
 *
 * The model: N nodes; between each pair a one-way delay drawn uniformly
 * in 5-150 ms, independently per pair, plus each end's access delay
 * (uniform in 1-5 ms per node). A relay pays its own access delay twice,
 * once in and once out, as in stratosim.
 *
 * The bound: every node that the publisher does not send to directly
 * gets each fragment over a path of two or more hops, so its latency is
 * at least its shortest such path, found by Dijkstra on the full graph
 * without the direct edge. The K nodes whose plays the direct edge would
 * lower most are given it (the lesser of it and the relayed path).
 * Nothing else is charged: no loss, no queueing, no processing, no wait
 * for a signature. With BLOCK_MS > 0 each play also waits for its block's
 * manifest as in stretch_floor.sh (blocks close at the first 20 ms tick
 * at which their first fragment is BLOCK_MS old; 1 Mbit/s in 1,128-byte
 * fragments; 16 plays drawn per node).
 *
 * usage: stretch_bound [N [K [SEED [BLOCK_MS]]]]  (1000 8 1 0)
 * Prints the bound's quantiles over plays and the share above 2.5.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng;

static double uniform(void) { /* splitmix64, [0, 1) */
  uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int k = argc > 2 ? atoi(argv[2]) : 8;
  int block = argc > 4 ? atoi(argv[4]) : 0;
  int plays = block > 0 ? 16 : 1, x, i, j, over = 0;
  double *d, *acc, *dist, *lb, *direct, *st;
  char *done;
  size_t m = 0;
  rng = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
  if (n < 2 || k < 0 || k >= n || block < 0) {
    fprintf(stderr, "usage: stretch_bound [N [K [SEED [BLOCK_MS]]]]\n");
    return 2;
  }
  d = malloc((size_t)n * (size_t)n * sizeof(*d));
  acc = malloc((size_t)n * sizeof(*acc));
  dist = malloc((size_t)n * sizeof(*dist));
  lb = malloc((size_t)n * sizeof(*lb));
  direct = malloc((size_t)n * sizeof(*direct));
  st = malloc((size_t)n * (size_t)plays * sizeof(*st));
  done = malloc((size_t)n);
  if (!d || !acc || !dist || !lb || !direct || !st || !done) {
    fprintf(stderr, "stretch_bound: out of memory\n");
    return 1;
  }
  for (i = 0; i < n; i++) {
    acc[i] = 1 + 4 * uniform();
  }
  for (i = 0; i < n; i++) {
    d[(size_t)i * (size_t)n + (size_t)i] = 0;
    for (j = i + 1; j < n; j++) {
      double v = 5 + 145 * uniform() + acc[i] + acc[j];
      d[(size_t)i * (size_t)n + (size_t)j] = v;
      d[(size_t)j * (size_t)n + (size_t)i] = v;
    }
  }
  /* Node 0 publishes. For each other node x: the shortest path from 0
   * to x that does not take the edge 0-x. */
  for (x = 1; x < n; x++) {
    direct[x] = d[x];
    for (i = 0; i < n; i++) {
      dist[i] = d[i];
      done[i] = 0;
    }
    dist[x] = INFINITY;
    done[0] = 1;
    for (;;) {
      int u = -1;
      for (i = 1; i < n; i++) {
        if (!done[i] && (u < 0 || dist[i] < dist[u])) {
          u = i;
        }
      }
      if (u < 0 || u == x) {
        break;
      }
      done[u] = 1;
      for (i = 1; i < n; i++) {
        double v = dist[u] + d[(size_t)u * (size_t)n + (size_t)i];
        if (!done[i] && v < dist[i]) {
          dist[i] = v;
        }
      }
    }
    lb[x] = dist[x] / direct[x];
  }
  /* Each play's wait for its manifest; then the K nodes whose plays the
   * direct edge would shorten most get it (the lesser of it and their
   * relayed path). dist[] now holds each node's path. */
  for (x = 1; x < n; x++) {
    double save = 0;
    for (j = 0; j < plays; j++) {
      double wait = 0;
      if (block > 0) {
        double gap = 1128 * 8 / 1000.0, shut = block + 20 * uniform();
        int per = (int)(shut / gap) + 1;
        per = per > 16 ? 16 : per;
        wait = shut - (int)(per * uniform()) * gap;
      }
      st[(size_t)(x - 1) * (size_t)plays + (size_t)j] = wait;
    }
    dist[x] = lb[x] * direct[x];
    save = dist[x] - fmin(dist[x], direct[x]);
    lb[x] = save / direct[x]; /* the stretch the direct edge saves */
  }
  for (i = 0; i < k; i++) {
    int w = 1;
    for (x = 2; x < n; x++) {
      if (lb[x] > lb[w]) {
        w = x;
      }
    }
    lb[w] = -1;
    dist[w] = fmin(dist[w], direct[w]);
  }
  for (x = 1; x < n; x++) {
    for (j = 0; j < plays; j++) {
      double *v = &st[m++];
      *v = (dist[x] + *v) / direct[x];
      over += *v > 2.5;
    }
  }
  qsort(st, m, sizeof(*st), cmp_double);
  printf("%d nodes, publisher sends to %d, blocks %d ms: stretch bound "
         "p50 %.2f  p90 %.2f  p99 %.2f; plays above 2.5: %.2f%%\n",
         n, k, block, st[m / 2], st[m * 9 / 10], st[m * 99 / 100],
         100.0 * over / (double)m);
  free(d);
  free(acc);
  free(dist);
  free(lb);
  free(direct);
  free(st);
  free(done);
  return 0;
}
