#!/usr/bin/env bash
# Directed routing at small N (route.scn): 500 routed messages from random
# members to random addresses, every member in nearest mode. Each reaches
# the live member nearest its address (from the simulator's own knowledge
# of every address), once, within ceil(log2 N) + 2 hops. A group without
# routing refuses the messages and the mode; a route statement needs a
# group.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

r=$sim_tmp/route.json
sim "$r" -s "$SCENARIOS/route.scn"
note "route: $(jq -c .route "$r")"
expect "$r" '.route.sent == 500 and .route.refused == 0 and .route.mode_errors == 0 and .route.members_min == 150' \
  "500 messages sent among 150 members in nearest mode"
expect "$r" '.route.delivered == 500 and .route.delivered_nearest == 500 and .route.duplicates == 0 and .route.strays == 0' \
  "every message reached the true nearest member, once"
expect "$r" '.route.over_bound == 0 and .route.hops_max <= .route.hop_bound and .route.hop_bound == 10' \
  "no message took more than ceil(log2 150) + 2 = 10 hops (max $(val "$r" .route.hops_max))"
expect "$r" '.route.dropped == 0 and .route.forwarded >= 500' \
  "no core dropped a routed message"

# Routing off in the group's spec: the mode and every send are refused.
r=$sim_tmp/off.json
sim "$r" --nodes 5 --duration 10s -e 'group quiet?features=multicast' \
  -e 'bootstrap 1-4 from 0' -e 'at 5s route 20'
expect "$r" '.route.sent == 0 and .route.refused == 20 and .route.mode_errors == 5 and .route.first_error != null' \
  "a group without routing refuses the receive mode and the messages"

# A route statement without a group is a scenario error (exit status 2).
set +e
"$STRATOSIM" --nodes 5 -e 'at 1s route 10' -r "$sim_tmp/nogroup.json" \
  2>"$sim_tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "route: needs a group" "$sim_tmp/err" ||
  fail "route without a group: exit $rc, $(cat "$sim_tmp/err")"
note "ok: a route statement without a group is refused"
