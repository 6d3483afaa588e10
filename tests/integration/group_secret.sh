#!/usr/bin/env bash
# group_secret.sh: a secret makes a group of its own. A and B join
# "club" with the same secret (B through a config file) and become
# neighbours; C joins "club" with another secret through A, which is a
# different group: C ends with no neighbour and is nobody's. Secrets never
# reach the logs or the stats socket, and a bad spec is a usage error.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

# ---- a bad spec --------------------------------------------------------------
expect_usage_error "^stratocastd: --group x\?bogus=1: malformed group spec" \
  --listen 127.0.0.1:0 --state-dir "$sc_tmp/bad/state" \
  --stats-socket "$sc_tmp/bad/stats.sock" --group 'x?bogus=1'

# ---- three nodes, two secrets --------------------------------------------------
start_node A --group 'club?secret=s3cret'
addr_a=$(info A listen)
cat >"$sc_tmp/b.conf" <<EOF
group = club?secret=s3cret
bootstrap = $addr_a
EOF
start_node B --config "$sc_tmp/b.conf"
start_node C --group 'club?secret=wrong' --bootstrap "$addr_a"
id_a=$(info A peer_id)
id_b=$(info B peer_id)
id_c=$(info C peer_id)

# group FIELD NAME: a field of NAME's only group.
group() {
  ctl "$2" show groups | jq -r ".[0].$1"
}
# has_neighbor NAME ID: true if NAME lists ID as a neighbour. (Not grep -q
# on a pipe: under pipefail, a writer cut short by an early match fails it.)
has_neighbor() {
  ctl "$1" show neighbors | jq -e --arg id "$2" 'any(.[]; .peer_id == $id)' \
    >/dev/null
}

gid=$(group group_id A)
[ "$(group group_id B)" = "$gid" ] || fail "A and B are in different groups"
[ "$(group group_id C)" != "$gid" ] || fail "another secret gave the same group"
for n in A B C; do
  [ "$(group name "$n")" = club ] || fail "$n: group name is not 'club'"
  [ "$(group has_secret "$n")" = true ] || fail "$n: has_secret is not true"
done
note "same name, two secrets: two group IDs"

# A and B find each other; C must have met A, or the test proves nothing.
for ((i = 0; i < 200; i++)); do
  if has_neighbor A "$id_b" && has_neighbor B "$id_a" &&
    grep -q "peer up $id_a" "$(log_path C)"; then
    break
  fi
  sleep 0.1
done
[ "$i" -lt 200 ] || fail "A and B not neighbours, or C never met A, in 20 s"
note "A and B are neighbours after $((i / 10)).$((i % 10)) s; C met A"

# Two report rounds more: long enough for C to be taken in if it could be.
sleep 5
[ "$(group neighbors C)" -eq 0 ] || fail "C has neighbours: $(ctl C show neighbors)"
[ "$(group members_known C)" -eq 0 ] || fail "C knows members of its group"
ctl C show neighbors | jq -e '. == []' >/dev/null || fail "C lists neighbours"
for n in A B; do
  ! has_neighbor "$n" "$id_c" || fail "$n lists C as a neighbour"
  [ "$(group members_known "$n")" -eq 1 ] ||
    fail "$n: members_known is $(group members_known "$n"), want 1"
done
note "C has no neighbour and is nobody's"

# ---- secrets stay secret -----------------------------------------------------------
for n in A B C; do
  ! grep -q -e s3cret -e secret=wrong "$(log_path "$n")" || fail "$n logged a secret"
  for cmd in "show groups" "show neighbors" "show info" metrics; do
    # shellcheck disable=SC2086 # split the command into words on purpose
    out=$(ctl "$n" $cmd)
    ! grep -q -e s3cret -e secret=wrong <<<"$out" || fail "$n: '$cmd' shows a secret"
  done
done
grep -q 'group club?secret=\*\*\*: joined' "$(log_path A)" ||
  fail "A did not log its group with the secret hidden"
note "no secret in the logs or the answers"

for n in A B C; do
  stop_node "$n"
done
note "PASS group_secret"
