#!/usr/bin/env bash
# [1/6] session behaviour at scale: under 30% loss, 200 nodes all complete
# their handshakes with their bootstrap peers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

r=$sim_tmp/r.json
sim "$r" -s "$SCENARIOS/handshake_loss.scn"
loss=$(jq -r '.network.dropped.loss / .network.datagrams' "$r")
note "measured loss: $loss"
expect "$r" '(.network.dropped.loss / .network.datagrams) > 0.28 and (.network.dropped.loss / .network.datagrams) < 0.32' \
  "about 30% of datagrams were lost"
expect "$r" '.nodes.up_at_end == 200 and .nodes.connected_at_end == 200' \
  "all 200 nodes are up and in session"
expect "$r" '.nodes.never_connected == 0' "every node completed a handshake"
expect "$r" '.sessions.bootstrap_missing == 0' \
  "every node is in session with every one of its bootstrap peers"
expect "$r" '.sessions.handshakes_completed >= 199 * 2' \
  "both ends counted the bootstrap handshakes"
