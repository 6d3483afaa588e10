#!/usr/bin/env bash
# Restarts with and without the node's peer history: with the bootstrap
# node gone, nodes that remember their peers rejoin through them, and nodes
# that remember nothing stay alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

r=$sim_tmp/history.json
sim "$r" -s "$SCENARIOS/restart_history.scn" -e 'at 40s restart 10-19 history'
expect "$r" '.nodes.crashes == 11 and .nodes.restarts == 10' \
  "11 crashes, 10 restarts"
expect "$r" '[.per_node[10:20][] | select(.state == "up" and .sessions > 0)] | length == 10' \
  "with history, nodes 10-19 rejoined"
expect "$r" '.nodes.rejoin_ms.count == 10 and .nodes.rejoin_ms.max < 2000' \
  "rejoining through history took at most $(val "$r" .nodes.rejoin_ms.max) ms"

r=$sim_tmp/fresh.json
sim "$r" -s "$SCENARIOS/restart_history.scn" -e 'at 40s restart 10-19 fresh'
expect "$r" '[.per_node[10:20][] | select(.state == "up" and .sessions == 0)] | length == 10' \
  "without history, nodes 10-19 found nobody"
expect "$r" '.nodes.rejoin_ms.count == 0' "no restarted node rejoined"
