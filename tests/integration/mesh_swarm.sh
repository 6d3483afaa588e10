#!/usr/bin/env bash
# mesh_swarm.sh: 30 daemons in group "demo" on loopback, all joining
# through node 0. Every node must come to estimate at least half the group
# and hold at least 4 neighbours, and the neighbour links must connect the
# whole swarm. Then a node killed with SIGKILL is restarted on a new port
# while node 0, its only bootstrap peer, is gone: nobody can find it, so
# it must rejoin through the peers of its SQLite history. A node without
# history, started the same way, stays alone.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# 30 debug logs are too much to read: on failure show their tails, and the
# whole log of the node that restarts.
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    sc_print_tails
    [ -z "${victim:-}" ] || { echo "---- $(log_path "$victim")" && cat "$(log_path "$victim")"; }
  fi
  sc_cleanup
  exit "$status"
}
trap on_exit EXIT

N=30
MIN_ESTIMATE=15
MIN_NEIGHBORS=4
victim=

# ---- the swarm -----------------------------------------------------------------
t_first=$SECONDS
t0=$SECONDS
start_node n0 --group demo
addr0=$(info n0 listen)
for ((k = 1; k < N; k++)); do
  start_node "n$k" --group demo --bootstrap "$addr0"
  sleep 0.05
done
declare -A id=()
for ((k = 0; k < N; k++)); do
  id[n$k]=$(info "n$k" peer_id)
done
note "$N nodes started in $((SECONDS - t0)) s"

# node_ok NAME: NAME's group is big enough and it lists neighbours.
node_ok() {
  ctl "$1" show groups | jq -e --argjson e "$MIN_ESTIMATE" \
    --argjson nb "$MIN_NEIGHBORS" \
    '.[0].estimated_members >= $e and .[0].neighbors >= $nb' >/dev/null &&
    ctl "$1" show neighbors | jq -e 'length > 0' >/dev/null
}

# A round stops at the first node that is not there yet, so waiting is
# cheap; only a round where every node passes ends the wait.
t0=$SECONDS
while :; do
  ok=1
  for ((k = 0; k < N; k++)); do
    node_ok "n$k" || {
      ok=0
      break
    }
  done
  [ "$ok" -eq 0 ] || break
  if ((SECONDS - t0 > 40)); then
    ctl "n$k" show groups >&2
    fail "n$k: estimate < $MIN_ESTIMATE or neighbours < $MIN_NEIGHBORS after 40 s"
  fi
  sleep 0.5
done
note "every node estimates >= $MIN_ESTIMATE members and has >= $MIN_NEIGHBORS neighbours $((SECONDS - t0)) s after the last start ($((SECONDS - t_first)) s after the first)"

# ---- the neighbour links connect the swarm -------------------------------
links=$sc_tmp/links.jsonl
: >"$links"
for ((k = 0; k < N; k++)); do
  ctl "n$k" show neighbors | jq -c --arg id "${id[n$k]}" \
    '{id: $id, nbrs: [.[].peer_id]}' >>"$links"
done
unreached=$(jq -s -r '
  map(.id) as $ids
  | (reduce .[] as $n ({}; reduce $n.nbrs[] as $m (.;
      .[$n.id] += [$m] | .[$m] += [$n.id]))) as $adj
  | {seen: {($ids[0]): true}, todo: [$ids[0]]}
  | until(.todo == [];
      .todo[0] as $x | .todo |= .[1:]
      | reduce ($adj[$x] // [])[] as $y (.;
          if .seen[$y] then . else .seen[$y] = true | .todo += [$y] end))
  | .seen as $seen | [$ids[] | select($seen[.] | not)] | join(" ")
' "$links")
[ -z "$unreached" ] || fail "neighbour links do not reach: $unreached"
summary=$(for ((k = 0; k < N; k++)); do
  ctl "n$k" show groups | jq -c '.[0] | {e: .estimated_members, n: .neighbors}'
done | jq -s -r '(map(.n) | add * 10 / length | floor / 10) as $mean
  | "estimates \(map(.e) | min)..\(map(.e) | max), neighbours \(map(.n) | min)..\(map(.n) | max) (mean \($mean))"')
note "the links connect all $N nodes; $summary"

# ---- kill one, stop the bootstrap, restart the killed one ----------------
victim=n7
# The flush timer has been writing the history all along.
flushes=$(ctl "$victim" metrics |
  awk '$1 == "stratocast_history_flushes_total" { print $2 }')
[ "${flushes:-0}" -ge 1 ] || fail "$victim never flushed its history"
known=$(ctl "$victim" show history | jq '[.[] | select(.sessions >= 1)] | length')
note "$victim: $flushes history flushes, $known peers with sessions"
kill -KILL "${sc_pid[$victim]}"
{ wait "${sc_pid[$victim]}" || true; } 2>/dev/null
unset "sc_pid[$victim]"
stop_node n0
note "$victim killed with SIGKILL, n0 (the bootstrap) stopped"

t0=$SECONDS
# Port 0 again: a new port, which the others do not know.
start_node "$victim" --group demo --bootstrap "$addr0"
start_node lonely --group demo --bootstrap "$addr0"
grep -Eq 'history: [1-9][0-9]* peers to rejoin through' "$(log_path "$victim")" ||
  fail "$victim did not load its history"
while :; do
  nb=$(ctl "$victim" show groups | jq '.[0].neighbors')
  [ "$nb" -lt "$MIN_NEIGHBORS" ] || break
  ((SECONDS - t0 <= 30)) || fail "$victim has $nb neighbours 30 s after restarting"
  sleep 0.5
done
note "$victim rejoined without its bootstrap: $nb neighbours after $((SECONDS - t0)) s"
ctl "$victim" show neighbors | jq -e --arg n0 "${id[n0]}" \
  'all(.[]; .peer_id != $n0)' >/dev/null || fail "n0 is still a neighbour"
# It called them, not they it.
ctl "$victim" show sessions | jq -e '
  any(.[]; .state == "established" and .initiator)' >/dev/null ||
  fail "$victim started no session: $(ctl "$victim" show sessions)"
[ "$(ctl lonely show groups | jq '.[0].neighbors')" -eq 0 ] ||
  fail "a node without history joined through a dead bootstrap"
ctl "$victim" show history | jq -e '
  ([.[] | select(.sessions >= 1)] | length >= 4)
  and any(.[]; .sessions >= 2)
' >/dev/null || fail "history of $victim: $(ctl "$victim" show history)"
note "history of $victim: $(ctl "$victim" show history | jq -r '
  "\(length) peers, \([.[] | select(.sessions >= 2)] | length) seen in both runs"')"
stop_node "$victim"
stop_node lonely
note "PASS mesh_swarm"
