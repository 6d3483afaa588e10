#!/usr/bin/env bash
# three_nodes.sh: three real daemons on loopback. B and C join through A;
# every node must end up with an established session to both others. The
# identity survives a restart, and SIGTERM shuts each node down cleanly.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

# established_with NAME ID...: true if NAME has an established session to
# every ID.
established_with() {
  local name=$1
  shift
  ctl "$name" show sessions | jq -e --args '
    [.[] | select(.state == "established") | .peer_id] as $up
    | $ARGS.positional | all(. as $id | $up | index($id) != null)
  ' "$@" >/dev/null
}

# wait_mesh SECONDS NAME:ID... : waits until each NAME is established with
# every other listed ID.
wait_mesh() {
  local limit=$1 i pair name ok
  shift
  for ((i = 0; i < limit * 10; i++)); do
    ok=1
    for pair in "$@"; do
      name=${pair%%:*}
      # shellcheck disable=SC2086 # the IDs are hex words
      established_with "$name" ${pair#*:} || ok=0
    done
    if [ "$ok" -eq 1 ]; then
      note "mesh complete after $((i / 10)).$((i % 10)) s"
      return 0
    fi
    sleep 0.1
  done
  for pair in "$@"; do
    ctl "${pair%%:*}" show sessions >&2 || true
  done
  fail "sessions not established within $limit s"
}

start_node A
addr_a=$(info A listen)
case $addr_a in
127.0.0.1:0 | "") fail "A reports no real port: '$addr_a'" ;;
127.0.0.1:*) note "A listens on $addr_a" ;;
*) fail "unexpected listen address '$addr_a'" ;;
esac

start_node B --bootstrap "$addr_a"
# C names A by host name: getaddrinfo must find it.
start_node C --bootstrap "localhost:${addr_a##*:}"

id_a=$(info A peer_id)
id_b=$(info B peer_id)
id_c=$(info C peer_id)
for id in "$id_a" "$id_b" "$id_c"; do
  [[ $id =~ ^[0-9a-f]{64}$ ]] || fail "bad peer_id '$id'"
done
if [ "$id_a" = "$id_b" ] || [ "$id_b" = "$id_c" ] || [ "$id_a" = "$id_c" ]; then
  fail "peer IDs are not distinct"
fi

wait_mesh 20 "A:$id_b $id_c" "B:$id_a $id_c" "C:$id_a $id_b"

for n in A B C; do
  note "sessions of $n ($(info "$n" peer_id | cut -c1-16)...):"
  ctl "$n" show sessions | jq -c '.[] | {peer_id: .peer_id[0:16], address,
    state, initiator, rtt_ms, cwnd_bytes, bytes_sent, bytes_received}'
  [ "$(info "$n" sessions_established)" -ge 2 ] ||
    fail "$n: show info counts fewer than 2 established sessions"
done

# The identity is private and stable across a restart.
mode=$(stat -c %a "$(state_dir B)/identity")
[ "$mode" = 600 ] || fail "identity file has mode $mode, want 600"
size=$(stat -c %s "$(state_dir B)/identity")
[ "$size" = 32 ] || fail "identity file has $size bytes, want 32"
mode=$(stat -c %a "$(state_dir B)")
[ "$mode" = 700 ] || fail "state dir has mode $mode, want 700"

stop_node B
start_node B --bootstrap "$addr_a"
[ "$(info B peer_id)" = "$id_b" ] || fail "B changed its peer_id on restart"
addr_b=$(info B listen)
note "B restarted with the same peer_id ${id_b:0:16}... on $addr_b"
wait_mesh 20 "A:$id_b" "B:$id_a"
# A's session with B must be the new one (B got a new port), not a leftover.
ctl A show sessions | jq -e --arg id "$id_b" --arg addr "$addr_b" '
  any(.[]; .peer_id == $id and .address == $addr and .state == "established")
' >/dev/null || fail "A has no established session with the restarted B"

for n in A B C; do
  stop_node "$n"
done
grep -q "peer up $id_a" "$(log_path B)" || fail "B never logged 'peer up' for A"
note "PASS three_nodes"
