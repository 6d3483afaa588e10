#!/usr/bin/env bash
# route_scale.sh: directed routing among N members (default 1,000).
#
# N nodes join one group over 60 s through one bootstrap node, every one
# in nearest mode; at 100 s, 1,000 routed messages go from random members
# to random addresses over 2 s (doc/simulation.md, "Routed messages").
# Prints the route section (delivered at the true nearest live member,
# hops against ceil(log2 N) + 2) and the summary's route and host lines.
#
# usage: tools/bench/route_scale.sh [BUILDDIR] [N] [SEED]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
n=${2:-1000}
seed=${3:-1}
sim=$build/tools/stratosim/stratosim
[ -x "$sim" ] || { echo "route_scale: $sim missing; build first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$sim" --nodes "$n" --seed "$seed" --group demo \
  -e "bootstrap 1-$((n - 1)) from 0" -e 'join all over 60s' \
  --max-sessions 4096 --duration 105s -e 'at 100s route 1000 over 2s' \
  -r "$tmp/route.json" 2>"$tmp/summary.txt"
echo "== $n members, seed $seed"
jq -c '.route' "$tmp/route.json"
grep -E 'route:|host:' "$tmp/summary.txt"
