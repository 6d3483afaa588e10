#!/usr/bin/env bash
# mesh_scale.sh: the mesh of one group at N members (default 1,000).
#
# 1. N nodes join over 60 s through one bootstrap node, then stay until
#    120 s: neighbour counts against their targets, ring-nearest
#    correctness, member-count estimate error, greedy routing hops; and the
#    maintenance traffic of the steady state, 90 s to 120 s (one more run
#    to 90 s gives the start of the window).
# 2. The same, with 30% of the nodes crashing at once at 120 s, measured
#    15 virtual seconds later: one component again? ring-nearest again?
# 3. The bootstrap and 100 nodes crash at 90 s; the 100 restart with their
#    peer history at 170 s, when every table has forgotten them; measured
#    at 200 s.
# Each run prints its mesh section and the host figures of its summary.
#
# usage: tools/bench/mesh_scale.sh [BUILDDIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
n=${2:-1000}
sim=$build/tools/stratosim/stratosim
[ -x "$sim" ] || { echo "mesh_scale: $sim missing; build first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
crash_from=$((n - n * 3 / 10))
base=(--nodes "$n" --group demo -e "bootstrap 1-$((n - 1)) from 0"
  -e 'join all over 60s' --max-sessions 4096)

run() {
  local name=$1
  shift
  "$sim" "${base[@]}" "$@" --per-node -r "$tmp/$name.json" 2>"$tmp/$name.txt"
  echo "== $name: $*"
  jq -c '.mesh' "$tmp/$name.json"
  jq -c '{handshakes: .sessions.handshakes_started,
          core_bytes_per_node: .memory.core_bytes_peak_per_node_mean}' \
    "$tmp/$name.json"
  grep 'host:' "$tmp/$name.txt"
}

run steady --duration 120s
"$sim" "${base[@]}" --duration 90s -q -r "$tmp/steady90.json"
jq -n -c --slurpfile a "$tmp/steady90.json" --slurpfile b "$tmp/steady.json" \
  --argjson n "$n" '{steady_state_per_node: {
    bytes_sent_per_s: (($b[0].traffic.bytes_sent - $a[0].traffic.bytes_sent)
                       / $n / 30 | floor),
    packets_sent_per_s: (($b[0].traffic.packets_sent
                          - $a[0].traffic.packets_sent) / $n / 30 * 10
                         | floor / 10)}}'
run crash --duration 135s -e "at 120s crash $crash_from-$((n - 1))"
run history --duration 200s -e "at 90s crash 0,1-100" \
  -e 'at 170s restart 1-100 history'
echo "restarted with history and in the mesh again:" \
  "$(jq '[.per_node[1:101][] | select(.state == "up" and .group_neighbors > 0)] | length' \
    "$tmp/history.json") of 100"
