#!/usr/bin/env bash
# history_corrupt.sh: a peer history that is garbage does not stop the
# node. It is moved aside as history.db.corrupt-*, a warning says so, and
# the node starts with an empty history that it answers for and writes.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

db=$(state_dir A)/history.db

start_node A
[ -f "$db" ] || fail "no $db after the first start"
ctl A show history | jq -e '. == []' >/dev/null ||
  fail "a new node's history is not []: $(ctl A show history)"
stop_node A
[ ! -e "$db-wal" ] || fail "a clean stop left $db-wal"

head -c 8192 /dev/urandom >"$sc_tmp/garbage"
cp "$sc_tmp/garbage" "$db"
note "history.db overwritten with 8 KiB of random bytes"

start_node A
ctl A show info | jq -e '.state == "running"' >/dev/null ||
  fail "the node does not answer show info"
grep -E 'WARN: history .*moved history\.db aside as \*\.corrupt-[0-9]+' \
  "$(log_path A)" >/dev/null || fail "no warning about the moved history"
note "warned: $(grep -o 'WARN: history .*' "$(log_path A)" | cut -c1-160)"
moved=("$db".corrupt-*)
[ -f "${moved[0]}" ] || fail "no history.db.corrupt-* next to history.db"
cmp -s "${moved[0]}" "$sc_tmp/garbage" ||
  fail "${moved[0]} is not the file that was there"
[ -f "$db" ] || fail "no fresh history.db"
out=$(ctl A show history)
printf '%s\n' "$out" | jq -e '. == []' >/dev/null ||
  fail "show history after recovery: $out"
metrics=$(ctl A metrics)
grep -q '^stratocast_history_flush_errors_total 0$' <<<"$metrics" ||
  fail "history flush errors after recovery"
note "moved aside as ${moved[0]##*/}; show history answers []"

# The fresh history works: a peer seen now is there after a restart.
start_node B --bootstrap "$(info A listen)"
id_b=$(info B peer_id)
for ((i = 0; i < 100; i++)); do
  ctl A show history | jq -e --arg id "$id_b" \
    'any(.[]; .peer_id == $id and .sessions >= 1)' >/dev/null && break
  sleep 0.1
done
[ "$i" -lt 100 ] || fail "B never reached A's fresh history"
stop_node B
stop_node A
start_node A
ctl A show history | jq -e --arg id "$id_b" \
  'any(.[]; .peer_id == $id and .sessions >= 1)' >/dev/null ||
  fail "B is not in A's history after a restart"
[ "$(grep -c 'moved history\.db aside' "$(log_path A)")" -eq 1 ] ||
  fail "the fresh history was moved aside again"
stop_node A
note "PASS history_corrupt"
