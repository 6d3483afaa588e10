#!/usr/bin/env bash
# Object replication over 60 members (repl.scn): 400 objects written at
# one member reach every other member, byte for byte, with either
# strategy; bad replicate statements are refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

refused() {
  local want=$1 status=0
  shift
  "$STRATOSIM" -q -r "$sim_tmp/none.json" "$@" 2>"$sim_tmp/err" || status=$?
  [ "$status" -eq 2 ] || fail "stratosim $* exited $status, wanted 2"
  grep -qF -- "$want" "$sim_tmp/err" ||
    fail "stratosim $*: message '$(cat "$sim_tmp/err")' lacks '$want'"
  note "ok: refused $* ($(head -c 100 "$sim_tmp/err"))"
}
refused "needs a group statement" --replicate 'count 10'
refused "missing count" --group g --replicate 'size 10B'
refused "only one replicate per run" --group g --replicate 'count 10' \
  -e 'at 1s replicate count 5'
refused "the size is above 900 B" --group g --replicate 'count 10 size 901B'
refused "is not lowest or rarest" --group g --replicate 'count 10 strategy x'
refused "node 12 is out of range" --group g --replicate 'from 12 count 10'

for st in lowest rarest; do
  r=$sim_tmp/$st.json
  sim "$r" -s "$SCENARIOS/repl.scn" \
    -e "at 20s replicate count 400 size 200B strategy $st"
  note "$st: $(jq -c .replication "$r")"
  expect "$r" '.replication.members == 59 and .replication.complete == 59' \
    "$st-first: all 59 members hold all 400 objects"
  expect "$r" '.replication.corrupt == 0 and .replication.dropped == 0 and .replication.refused == 0' \
    "$st-first: every object handed over intact, nothing dropped"
  expect "$r" '.replication.objects_fetched == 59 * 400' \
    "$st-first: each member fetched each object once"
  expect "$r" '.replication.seed_served < .replication.objects_fetched / 2' \
    "$st-first: members served each other (seed $(val "$r" .replication.seed_served))"
done
