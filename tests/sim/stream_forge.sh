#!/usr/bin/env bash
# stream.scn, cut to 20 s of stream, with six forgers (10%) from 15 s:
# forged fragments, forged manifests and replays to every neighbour, 20
# times a second. No node plays a forged byte, honest delivery holds, and
# the forgers lose the push roles they had.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

r=$sim_tmp/forge.json
sim "$r" -s "$SCENARIOS/stream.scn" --duration 30s -e 'at 15s forge 54-59'
note "attack: $(jq -c .stream.attack "$r")"
note "honest delivery: $(jq -c .stream.delivery "$r")"
expect "$r" '.stream.attack.forgers == 6 and .stream.attack.forged_sent > 1000 and .stream.attack.replays_sent > 0 and .stream.attack.manifests_sent > 1000' \
  "six forgers sent forged fragments, manifests and replays"
expect "$r" '.stream.forged_played == 0 and .stream.order_errors == 0' \
  "no node played a forged byte"
expect "$r" '.stream.attack.honest_forgeries_detected > 0 and .stream.attack.honest_peers_banned > 0' \
  "honest nodes detected the forgeries and banned their senders"
expect "$r" '.stream.attack.forgers_children_at_end == 0 or .stream.attack.forgers_children_at_end * 4 <= .stream.attack.forgers_children_peak' \
  "the forgers lost their push roles (children at end $(val "$r" .stream.attack.forgers_children_at_end), peak $(val "$r" .stream.attack.forgers_children_peak))"
expect "$r" '.stream.delivery.nodes == 53 and .stream.delivery.mean >= 0.995 and .stream.delivery.min >= 0.98' \
  "the 53 honest players: mean >= 99.5%, every node >= 98%"
