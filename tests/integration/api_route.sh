#!/usr/bin/env bash
# api_route.sh: directed routing through the API socket. 6 daemons on
# loopback in group "rt", joining through node 0, each with `stratoctl
# listen rt` running.
# - `stratoctl route` to a member's exact address reaches that member
#   alone (receive mode exact, the default).
# - To an address next to a member's: nothing in exact mode; after
#   `stratoctl receive-mode rt nearest` on every node, that member alone.
# - `stratoctl route rt up`: exactly one member, the sender's clockwise
#   neighbour.
# - A malformed address is a usage error; a group without routing refuses.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap sc_exit_tails EXIT

N=6
start_node n0 --group rt --group quiet?features=posting \
  --api-socket "$(api_path n0)"
addr0=$(info n0 listen)
for ((k = 1; k < N; k++)); do
  start_node "n$k" --group rt --api-socket "$(api_path "n$k")" \
    --bootstrap "$addr0"
done
declare -A id=() ga=()
for ((k = 0; k < N; k++)); do
  id[n$k]=$(info "n$k" peer_id)
  ga[n$k]=$(ctl "n$k" show groups | jq -r '.[] | select(.name == "rt") | .address')
done
nodes=()
for ((k = 0; k < N; k++)); do nodes+=("n$k"); done
wait_for 40 "every node knowing the other $((N - 1))" \
  group_joined rt $((N - 1)) 2 "${nodes[@]}"

listen_all rt "${nodes[@]}"

# printed_by TEXT: the nodes whose listener printed a routed TEXT.
printed_by() {
  local k
  for ((k = 0; k < N; k++)); do
    grep -q "^routed .* $1\$" "$sc_tmp/n$k.out" && echo "n$k"
  done
  return 0
}
# heard TEXT: some listener printed it.
heard() { [ -n "$(printed_by "$1")" ]; }

# ---- exact address -------------------------------------------------------
api n0 route rt "${ga[n3]}" to n3 exactly || fail "route to n3 refused"
wait_for 10 "n3 printing the message to its address" heard "to n3 exactly"
sleep 0.5
[ "$(printed_by "to n3 exactly")" = n3 ] ||
  fail "printed by $(printed_by "to n3 exactly" | xargs), want n3 alone"
grep -q "^routed ${id[n0]} [0-9]* to n3 exactly\$" "$sc_tmp/n3.out" ||
  fail "n3 did not name n0 as the sender"
note "to a member's address: that member alone, from its sender"

# ---- next to an address --------------------------------------------------
a=${ga[n4]}
last=${a: -1}
if [ "$last" = f ]; then near=${a%?}e; else near=${a%?}$(printf %x $((16#$last + 1))); fi
dropped_before=$(ctl n4 show groups | jq '.[] | select(.name == "rt") | .routes_dropped')
api n1 route rt "$near" next to n4 exact || fail "route next to n4 refused"
n4_dropped() {
  [ "$(ctl n4 show groups | jq '.[] | select(.name == "rt") | .routes_dropped')" -gt "$dropped_before" ]
}
wait_for 10 "n4 dropping a message not to its exact address" n4_dropped
[ -z "$(printed_by "next to n4 exact")" ] ||
  fail "printed in exact mode by $(printed_by "next to n4 exact" | xargs)"
for ((k = 0; k < N; k++)); do
  api "n$k" receive-mode rt nearest || fail "n$k: receive-mode refused"
done
api n1 route rt "$near" next to n4 nearest || fail "route next to n4 refused"
wait_for 10 "n4 printing the message next to its address" heard "next to n4 nearest"
sleep 0.5
[ "$(printed_by "next to n4 nearest")" = n4 ] ||
  fail "printed by $(printed_by "next to n4 nearest" | xargs), want n4 alone"
note "next to a member's address: dropped in exact mode, that member alone in nearest mode"

# ---- the neighbour up the ring -------------------------------------------
api n2 route rt up up from n2 || fail "route up refused"
wait_for 10 "a member printing the message up from n2" heard "up from n2"
sleep 0.5
got=$(printed_by "up from n2")
[ "$(echo "$got" | wc -l)" -eq 1 ] || fail "printed by $(echo "$got" | xargs), want one"
# It is n2's nearest member clockwise: the smallest (address - n2's) mod 2^256,
# which for 64 hex digits of equal length is a string comparison of the
# differences; compare the candidates' order instead: no member lies
# clockwise between n2 and it.
between() { # A B X: X lies strictly between A and B clockwise
  local a=$1 b=$2 x=$3
  if [[ "$a" < "$b" ]]; then [[ "$a" < "$x" && "$x" < "$b" ]]; else [[ "$x" > "$a" || "$x" < "$b" ]]; fi
}
for ((k = 0; k < N; k++)); do
  [ "n$k" = n2 ] || [ "n$k" = "$got" ] || ! between "${ga[n2]}" "${ga[$got]}" "${ga[n$k]}" ||
    fail "$got is not n2's clockwise neighbour: n$k lies between"
done
note "up the ring: n2's clockwise neighbour alone ($got)"

# ---- refusals ------------------------------------------------------------
rc=0
api n0 route rt 12ab x >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "a short address: exit $rc, want 2"
err=$(api n0 route 'quiet?features=posting' "${ga[n3]}" x 2>&1) && fail "routing in a group without it was accepted"
echo "$err" | grep -q not_allowed || fail "no not_allowed: $err"
note "a malformed address is a usage error; a group without routing answers not_allowed"

stop_listeners
for ((k = 0; k < N; k++)); do
  stop_node "n$k"
done
note "PASS api_route"
