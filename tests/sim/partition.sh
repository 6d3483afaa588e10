#!/usr/bin/env bash
# A partition splits the swarm and heals: sessions across the cut time out
# while it lasts, and once it heals every node is back in session with its
# bootstrap peers, and a group's mesh is one again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mid=$sim_tmp/mid.json
sim "$mid" -s "$SCENARIOS/partition.scn" --duration 79s
expect "$mid" '.network.dropped.partition > 0' \
  "the partition dropped $(val "$mid" .network.dropped.partition) datagrams"
expect "$mid" '.sessions.bootstrap_missing >= 1' \
  "during the partition node 50 has lost its bootstrap session to node 0"
expect "$mid" '.sessions.timed_out > 0' "sessions across the cut timed out"

end=$sim_tmp/end.json
sim "$end" -s "$SCENARIOS/partition.scn" -e "at 80s heal"
expect "$end" '.sessions.bootstrap_missing == 0 and .nodes.connected_at_end == 100' \
  "after the heal every node is in session with its bootstrap peers"

# With a group, each side stays joined through its own members, rests its
# bootstrap peers and forgets the other side's members; the members whose
# links died of silence, one tried every 30 s, bring the halves together
# again (doc/protocol.md §11.4).
grp=$sim_tmp/group.json
sim "$grp" -s "$SCENARIOS/partition.scn" --group tv -e "at 80s heal" \
  --duration 100s
expect "$grp" '.mesh.components == 1 and .mesh.ring_nearest_ok == 1' \
  "20 s after a 60 s cut heals, the group's mesh is one again ($(val "$grp" .mesh.components) components)"
