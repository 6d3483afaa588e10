#!/usr/bin/env bash
# sim_scale.sh: how large and how fast stratosim runs.
#
# Runs a swarm of N nodes for 60 virtual seconds (joins over the first
# 10 s, each node bootstrapping from 3 earlier ones, handshakes and
# keepalives over the default geography) at 1,000 and 10,000 nodes, and
# prints for each the wall time, events per second, peak RSS and the cores'
# own memory per node. The 1,000-node run is the baseline: the last line
# gives the 10,000-node run's cost per node-second as a ratio to it (1.00
# means the simulator scales linearly).
#
# First, bench_simloop prints what the simulator adds to one datagram
# against the AEAD work the cores spend on it (the baseline, same run).
#
# usage: tools/bench/sim_scale.sh [BUILDDIR] [SIZES...]
#   BUILDDIR defaults to build/release; SIZES to "1000 10000".
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
shift || true
sizes=${*:-1000 10000}
sim=$build/tools/stratosim/stratosim
[ -x "$sim" ] || { echo "sim_scale: $sim missing; build first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/tools/bench/bench_simloop" 1000 2000000
echo
printf '%-7s %9s %12s %12s %10s %10s %9s %9s\n' nodes wall_s events \
  events_per_s rss_MiB core_B/node sessions startup
base=
for n in $sizes; do
  "$sim" --nodes "$n" --duration 60s -e 'bootstrap all random 3' \
    -e 'join all over 10s' --max-sessions 1024 \
    -r "$tmp/r$n.json" 2>"$tmp/s$n.txt"
  wall=$(sed -n 's/.*host: wall \([0-9.]*\) s.*/\1/p' "$tmp/s$n.txt")
  rss=$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' "$tmp/s$n.txt")
  events=$(jq .events "$tmp/r$n.json")
  mem=$(jq .memory.core_bytes_peak_per_node_mean "$tmp/r$n.json")
  nb=$(jq .nodes.neighbours.mean "$tmp/r$n.json")
  up=$(jq .nodes.startup_ms.p50 "$tmp/r$n.json")
  conn=$(jq .nodes.connected_at_end "$tmp/r$n.json")
  [ "$conn" -eq "$n" ] || echo "sim_scale: only $conn of $n nodes connected" >&2
  printf '%-7s %9.2f %12s %12.0f %10.1f %10s %9s %9s\n' "$n" "$wall" \
    "$events" "$(awk "BEGIN{print $events / $wall}")" "$rss" "$mem" "$nb" "${up}ms"
  per=$(awk "BEGIN{print $wall / $n}")
  if [ -z "$base" ]; then
    base=$per
    basen=$n
  else
    printf 'cost per node-second at %s nodes / at %s nodes: %.2f\n' "$n" \
      "$basen" "$(awk "BEGIN{print $per / $base}")"
  fi
done
