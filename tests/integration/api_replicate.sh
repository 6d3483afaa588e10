#!/usr/bin/env bash
# api_replicate.sh: object replication through the API socket. 4 daemons
# on loopback in group "files", joining through node 0, each with
# `stratoctl listen files` running.
# - n0 writes 3 objects (`stratoctl replicate files write`); the others
#   want indices 0-9; each of them fetches the 3 (an object event each)
#   and reads back the same bytes.
# - n1 removes one and no longer has it; n3 unwants everything and then
#   does not fetch a fourth object n0 writes, while n2 does.
# - Bad subcommands are usage errors; a group without replication
#   answers not_allowed.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap sc_exit_tails EXIT

N=4
start_node n0 --group files --group quiet?features=posting \
  --api-socket "$(api_path n0)"
addr0=$(info n0 listen)
for ((k = 1; k < N; k++)); do
  start_node "n$k" --group files --api-socket "$(api_path "n$k")" \
    --bootstrap "$addr0"
done
id0=$(info n0 peer_id)
nodes=()
for ((k = 0; k < N; k++)); do nodes+=("n$k"); done
wait_for 40 "every node knowing the other $((N - 1))" \
  group_joined files $((N - 1)) 1 "${nodes[@]}"

listen_all files "${nodes[@]:1}"

# ---- write at n0, want everywhere else -----------------------------------
for i in 0 1 2; do
  api n0 replicate files write "$i" object number "$i" || fail "write $i refused"
done
[ "$(api n0 replicate files have 1)" = "yes 15" ] || fail "n0 does not have object 1"
[ "$(api n0 replicate files read 2)" = "object number 2" ] || fail "n0 reads back other bytes"
for ((k = 1; k < N; k++)); do
  api "n$k" replicate files want 0 10 || fail "n$k: want refused"
done
all_fetched() {
  local k
  for ((k = 1; k < N; k++)); do
    [ "$(grep -c '^object ' "$sc_tmp/n$k.out")" -ge 3 ] || return 1
  done
}
wait_for 20 "every member fetching the 3 objects" all_fetched
for ((k = 1; k < N; k++)); do
  for i in 0 1 2; do
    [ "$(api "n$k" replicate files read "$i")" = "object number $i" ] ||
      fail "n$k: object $i reads other bytes"
    grep -q "^object [0-9a-f]\{64\} $i object number $i\$" "$sc_tmp/n$k.out" ||
      fail "n$k printed no object event for $i"
  done
  [ "$(grep -c '^object ' "$sc_tmp/n$k.out")" -eq 3 ] || fail "n$k fetched an object twice"
done
grep -q "^object $id0 " "$sc_tmp/n1.out" || note "(n1 fetched every object from another member)"
note "3 objects written at n0 reached the 3 members that want them, once each, intact"

# ---- remove, unwant ------------------------------------------------------
api n1 replicate files unwant 0 10 || fail "n1: unwant refused"
api n1 replicate files remove 1 || fail "n1: remove refused"
[ "$(api n1 replicate files have 1)" = no ] || fail "n1 still has object 1"
rc=0
api n1 replicate files read 1 2>"$sc_tmp/read.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q not_found "$sc_tmp/read.err" || fail "reading a removed object: exit $rc"
api n3 replicate files unwant 0 10 || fail "n3: unwant refused"
api n0 replicate files write 5 the fifth || fail "write 5 refused"
n2_has_5() { [ "$(api n2 replicate files have 5)" = "yes 9" ]; }
wait_for 20 "n2 fetching object 5" n2_has_5
sleep 2
[ "$(api n3 replicate files have 5)" = no ] || fail "n3 fetched an object it no longer wants"
[ "$(api n1 replicate files have 1)" = no ] || fail "n1 fetched a removed object it no longer wants"
note "remove and unwant: the object is gone and not fetched again"

# ---- refusals ------------------------------------------------------------
rc=0
api n0 replicate files frobnicate 1 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "an unknown subcommand: exit $rc, want 2"
rc=0
api n0 replicate files want x 3 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "a bad index: exit $rc, want 2"
err=$(api n0 replicate 'quiet?features=posting' write 1 x 2>&1) &&
  fail "a write in a group without replication was accepted"
echo "$err" | grep -q not_allowed || fail "no not_allowed: $err"
note "bad subcommands are usage errors; a group without replication answers not_allowed"

stop_listeners
for ((k = 0; k < N; k++)); do
  stop_node "n$k"
done
note "PASS api_replicate"
