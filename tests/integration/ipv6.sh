#!/usr/bin/env bash
# ipv6.sh: IPv6 and dual-stack. A listens on [::] (both families); B joins
# it over IPv6 loopback and C over IPv4 loopback. A sees B at [::1]:port
# and C at 127.0.0.1:port (not ::ffff:127.0.0.1).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

ip -6 addr show lo 2>/dev/null | grep -q '::1' ||
  fail "this machine has no IPv6 loopback (::1)"

start_node A --listen '[::]:0'
addr_a=$(info A listen)
port_a=${addr_a##*:}
case $addr_a in
"[::]:"[1-9]*) note "A listens on $addr_a" ;;
*) fail "unexpected listen address '$addr_a'" ;;
esac

start_node B --listen '[::1]:0' --bootstrap "[::1]:$port_a"
start_node C --listen '127.0.0.1:0' --bootstrap "127.0.0.1:$port_a"
addr_b=$(info B listen)
addr_c=$(info C listen)
id_b=$(info B peer_id)
id_c=$(info C peer_id)

for ((i = 0; i < 100; i++)); do
  got=$(ctl A show sessions | jq -r --arg b "$id_b" --arg c "$id_c" '
    [.[] | select(.state == "established" and
      (.peer_id == $b or .peer_id == $c)) | .address] | sort | join(" ")')
  [ "$got" = "$(printf '%s\n' "$addr_b" "$addr_c" | sort | paste -sd' ')" ] &&
    break
  sleep 0.1
done
note "A's peers: $got"
ctl A show sessions | jq -e --arg id "$id_b" --arg addr "$addr_b" '
  any(.[]; .peer_id == $id and .address == $addr and .state == "established")
' >/dev/null || fail "A has no IPv6 session with B at $addr_b"
ctl A show sessions | jq -e --arg id "$id_c" --arg addr "$addr_c" '
  any(.[]; .peer_id == $id and .address == $addr and .state == "established")
' >/dev/null || fail "A has no IPv4 session with C at $addr_c"
ctl B show sessions | jq -e '.[] | select(.state == "established") |
  .address | startswith("[::1]:")' >/dev/null ||
  fail "B's session is not over IPv6"

for n in A B C; do
  stop_node "$n"
done
note "PASS ipv6"
