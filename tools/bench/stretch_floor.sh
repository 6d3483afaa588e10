#!/usr/bin/env bash
# stretch_floor.sh: the least stretch any overlay could give under
# stream_scale.sh's model, even if the publisher pushed every fragment
# straight to every node: a fragment is played only once its block's
# manifest is verified (doc/protocol.md §12.3), and the manifest leaves the
# publisher when the block closes, so a play's latency is at least the
# direct delay plus the fragment's wait for its block to close.
#
# The model, as stream_scale.sh runs it: direct delay uniform in 5-150 ms
# plus two access delays uniform in 1-5 ms; 1,128-byte fragments of a
# 1 Mbit/s stream (one every 9.024 ms); a block closes at the first
# publisher tick (every 20 ms, at any phase) at which its first fragment
# is BLOCK_MS (default 50) old, so 50-70 ms after it. Prints the floor's
# quantiles and the share of plays above the 2.5 target, from SAMPLES
# draws (default 200,000, fixed seed).
#
# usage: tools/bench/stretch_floor.sh [SAMPLES] [BLOCK_MS]
set -euo pipefail
samples=${1:-200000}
block=${2:-50}
awk -v n="$samples" -v block="$block" 'BEGIN {
  srand(1);
  gap = 1128 * 8 / 1000; # ms between fragments at 1 Mbit/s
  for (i = 0; i < n; i++) {
    shut = block + 20 * rand();
    per = int(shut / gap) + 1; # fragments cut before the block closes
    if (per > 16) per = 16;     # ... at most 16 to a block
    k = int(per * rand());
    direct = 5 + 145 * rand() + 1 + 4 * rand() + 1 + 4 * rand();
    printf "%.4f\n", (direct + shut - k * gap) / direct;
  }
}' | sort -g | awk -v n="$samples" -v block="$block" '
  NR == int(n * 0.5) { p50 = $1 }
  NR == int(n * 0.9) { p90 = $1 }
  NR == int(n * 0.99) { p99 = $1 }
  $1 > 2.5 { over++ }
  END {
    printf "blocks close %d-%d ms after their first fragment\n", block, block + 20;
    printf "stretch floor p50 %.2f  p90 %.2f  p99 %.2f; plays above 2.5: %.2f%%\n",
      p50, p90, p99, 100 * over / n;
  }'
