#!/usr/bin/env bash
# Groups and the mesh at small N ([3/6]): the shape of a converged mesh,
# its maintenance traffic, its repair after 30% of the members crash at
# once, and rejoining from peer history while the bootstrap node is down.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

r=$sim_tmp/steady.json
sim "$r" -s "$SCENARIOS/mesh.scn"
note "mesh: $(jq -c .mesh "$r")"
expect "$r" '.mesh.members == 200 and .mesh.components == 1' \
  "all 200 members in one connected mesh"
expect "$r" '.mesh.neighbours.in_target_range == 1' \
  "every node's neighbour count is within its target range"
expect "$r" '.mesh.ring_nearest_ok >= 0.99' \
  "ring-nearest neighbours are the true nearest for >= 99% of nodes"
expect "$r" '.mesh.estimate_error.p50 <= 0.25' \
  "median member-count estimate error within 25%"
expect "$r" '.mesh.routing.within_bound >= 0.99' \
  "greedy routing reaches the nearest member within ceil(log2 N)+2 hops in >= 99% of trials"

# Maintenance traffic in the steady state (joins end at 30 s), 60 s to 90 s:
# reports only when they change or every 30 s, PINGs on silent links
# (doc/protocol.md §11.3.3, §11.4). Budget: 1.5 kB/s sent per node, a
# quarter of the 5% of a 1 Mbit/s stream that all control traffic may take.
r60=$sim_tmp/steady60.json
sim "$r60" -s "$SCENARIOS/mesh.scn" --duration 60s
rate=$(jq -n --slurpfile a "$r60" --slurpfile b "$r" \
  '($b[0].traffic.bytes_sent - $a[0].traffic.bytes_sent) / 200 / 30 | floor')
note "steady-state traffic: $rate bytes/s sent per node"
[ "$rate" -le 1500 ] ||
  fail "steady-state maintenance traffic $rate B/s per node exceeds 1500"

# 30% crash at once; 15 virtual seconds later the mesh is whole again.
r=$sim_tmp/crash.json
sim "$r" -s "$SCENARIOS/mesh.scn" --duration 105s -e 'at 90s crash 140-199'
expect "$r" '.nodes.crashes == 60 and .mesh.members == 140' "60 of 200 crashed"
expect "$r" '.mesh.components == 1' "15 s later the survivors form one component"
expect "$r" '.mesh.ring_nearest_ok >= 0.99' \
  "15 s later the ring-nearest property holds again ($(val "$r" .mesh.ring_nearest_ok))"

# The bootstrap and 100 members crash; 80 s later, when every table has
# forgotten them as candidates, the 100 restart with their history, or
# without it. With it they are back within 5 s. Without it they can only
# wait for the survivors, which try one lost member every 30 s (§11.4).
r=$sim_tmp/history.json
sim "$r" -s "$SCENARIOS/mesh.scn" --duration 145s --per-node \
  -e 'at 60s crash 0,100-199' -e 'at 140s restart 100-199 history'
expect "$r" '[.per_node[100:200][] | select(.state == "up" and .group_neighbors > 0)] | length == 100' \
  "with history, all 100 rejoined within 5 s while the bootstrap is down"
expect "$r" '.mesh.components == 1' "and the mesh is one component"
r=$sim_tmp/fresh.json
sim "$r" -s "$SCENARIOS/mesh.scn" --duration 145s --per-node \
  -e 'at 60s crash 0,100-199' -e 'at 140s restart 100-199 fresh'
expect "$r" '[.per_node[100:200][] | select(.group_neighbors > 0)] | length < 50' \
  "without history, fewer than half found the group in those 5 s ($(val "$r" '[.per_node[100:200][] | select(.group_neighbors > 0)] | length'))"
r=$sim_tmp/fresh35.json
sim "$r" -s "$SCENARIOS/mesh.scn" --duration 175s --per-node \
  -e 'at 60s crash 0,100-199' -e 'at 140s restart 100-199 fresh'
expect "$r" '[.per_node[100:200][] | select(.group_neighbors > 0)] | length >= 80' \
  "35 s after the restart, the survivors' lost links found most of them ($(val "$r" '[.per_node[100:200][] | select(.group_neighbors > 0)] | length'))"
