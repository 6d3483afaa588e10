#!/usr/bin/env bash
# stratosim's command line: help and version work; every bad scenario is
# refused with exit status 2 and a message that names the problem.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Captured first: under pipefail, grep -q leaving early can fail the writer.
help=$("$STRATOSIM" --help)
grep -q 'usage: stratosim' <<<"$help" || fail "--help"
"$STRATOSIM" --version | grep -q '^stratosim ' || fail "--version"
note "ok: --help and --version"

# refused EXPECTED_MESSAGE ARGS...
refused() {
  local want=$1 status=0
  shift
  "$STRATOSIM" -q -r "$sim_tmp/none.json" "$@" 2>"$sim_tmp/err" || status=$?
  [ "$status" -eq 2 ] || fail "stratosim $* exited $status, wanted 2"
  grep -qF -- "$want" "$sim_tmp/err" ||
    fail "stratosim $*: message '$(cat "$sim_tmp/err")' lacks '$want'"
  [ ! -e "$sim_tmp/none.json" ] || fail "stratosim $* wrote a report"
  note "ok: refused $* ($(head -c 100 "$sim_tmp/err"))"
}

printf 'nodes 10\nlose 5%%\n' >"$sim_tmp/typo.scn"
refused "typo.scn:2" -s "$sim_tmp/typo.scn"
refused "No such file" -s "$sim_tmp/missing.scn"
refused "loss" --loss 1.5
refused "crash" --nodes 10 -e 'at 5s crash 12'
refused "unknown option" --bogus 1
refused "needs an argument" --nodes
refused "duration" --duration 10s -e 'at 20s crash 1'
printf '0 10\n10\n' >"$sim_tmp/lat.txt"
refused "lat.txt:2" --placement "matrix $sim_tmp/lat.txt"
refused "refuses these settings" --idle-timeout 5s
refused "given twice" -s "$sim_tmp/typo.scn" -s "$sim_tmp/typo.scn"
