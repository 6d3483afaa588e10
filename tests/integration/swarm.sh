#!/usr/bin/env bash
# swarm.sh: tools/swarm and stratoctl top. `tools/swarm up --nodes 4`
# starts four daemons (node 0 publishing a paced file, node 1 serving it
# over HTTP); `status` shows all four up with neighbours and the relays
# playing; `stratoctl top -n 2` prints two frames with every section, no
# line over 80 columns and rates in the second; a second `up` and a `down`
# or `status` without a swarm are refused; `down` stops every daemon and
# removes the directory.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SWARM=$(cd "$(dirname "$0")/../.." && pwd)/tools/swarm
export STRATOCAST_BUILD=$top_builddir
dir=$sc_tmp/swarm

# Whatever happens, no daemon outlives the test.
swarm_exit() {
  local status=$? pid
  if [ -f "$dir/swarm.conf" ]; then
    [ "$status" -eq 0 ] || tail -n 20 "$dir"/*/log
    for pid in $(tail -n +2 "$dir/swarm.conf"); do
      kill -KILL "$pid" 2>/dev/null || true
    done
  fi
  sc_cleanup
  exit "$status"
}
trap swarm_exit EXIT

# expect STATUS PATTERN COMMAND...: COMMAND exits STATUS and its stderr
# matches the extended regex PATTERN.
expect() {
  local want=$1 pattern=$2 status=0
  shift 2
  "$@" >"$sc_tmp/out" 2>"$sc_tmp/err" || status=$?
  if [ "$status" -ne "$want" ] || ! grep -Eq -- "$pattern" "$sc_tmp/err"; then
    fail "$*: exit $status, stderr: $(cat "$sc_tmp/err")"
  fi
  note "$(basename "$1") ${2:-}: exit $status: $(head -n 1 "$sc_tmp/err")"
}

expect 1 "no swarm in $dir" "$SWARM" status --dir "$dir"
expect 1 "no swarm in $dir \(nothing to stop\)" "$SWARM" down --dir "$dir"
expect 2 "--nodes 0: want a whole number" "$SWARM" up --nodes 0 --dir "$dir"
expect 2 "unknown command" "$SWARM" sideways
[ ! -e "$dir" ] || fail "a refused command left $dir"

# A file of 16 s at 400 kbit/s; not MPEG-TS, so --rate paces it.
head -c 800000 /dev/urandom >"$sc_tmp/source.bin"
"$SWARM" up --nodes 4 --dir "$dir" --publish "$sc_tmp/source.bin" \
  --rate 400k --http 1 >"$sc_tmp/up.out" 2>"$sc_tmp/up.err" ||
  fail "up failed: $(cat "$sc_tmp/up.err" "$sc_tmp/up.out")"
cat "$sc_tmp/up.out"
for k in 0 1 2 3; do
  grep -Eq "^$k +[0-9]+ +127\.0\.0\.1:[0-9]+ +$dir/$k/run/stats.sock$" \
    "$sc_tmp/up.out" || fail "up: no table row for node $k"
done
url=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/' "$sc_tmp/up.out") ||
  fail "up printed no player address"
mapfile -t pids < <(tail -n +2 "$dir/swarm.conf")
[ ${#pids[@]} -eq 4 ] || fail "swarm.conf holds ${#pids[@]} pids"

# status: four nodes up with neighbours; every relay plays the stream.
relays_play() {
  "$SWARM" status --dir "$dir" >"$sc_tmp/status.out" || return 1
  [ "$(awk '$3 == "up" && $5 > 0' "$sc_tmp/status.out" | wc -l)" -eq 4 ] &&
    [ "$(awk '$7 == "relay,play" && $8 > 0' "$sc_tmp/status.out" |
      wc -l)" -eq 3 ] && grep -Eq '^0 .* live +pub ' "$sc_tmp/status.out"
}
wait_for 20 "status: 4 nodes up, 3 playing" relays_play
cat "$sc_tmp/status.out"
curl -s --max-time 2 -o "$sc_tmp/http.out" "$url" || true
[ -s "$sc_tmp/http.out" ] || fail "nothing from the player address $url"
note "$url served $(stat -c %s "$sc_tmp/http.out") bytes"

# top: two frames, every section, 80 columns, rates in the second frame.
"$STRATOCTL" top -s "$dir/2/run/stats.sock" -n 2 >"$sc_tmp/top.out" ||
  fail "top failed"
cat "$sc_tmp/top.out"
[ "$(grep -c '^stratoctl top ' "$sc_tmp/top.out")" -eq 2 ] ||
  fail "top -n 2 did not print exactly two frames"
for section in '^peer [0-9a-f]{16} ' '^sessions [1-9] \([1-9] established\)' \
  '^SESSIONS [1-9]$' '^NEIGHBOURS swarm: [1-9]' '^STREAMS 1$' \
  '^  live +relay,play +[0-9]+ +[1-9][0-9]* +0 ' '^GROUP RATES' \
  '^  swarm +[-0-9.kM]+/[-0-9.kM]+ '; do
  [ "$(grep -Ec "$section" "$sc_tmp/top.out")" -eq 2 ] ||
    fail "top: '$section' not in both frames"
done
long=$(awk 'length($0) > 80' "$sc_tmp/top.out")
[ -z "$long" ] || fail "top: lines over 80 columns: $long"
# The first frame has no rates yet; the second has them, the stream's too.
sed -n '/frame 2/,$p' "$sc_tmp/top.out" >"$sc_tmp/top2.out"
grep -Eq '^sessions .* in [0-9.]+[kM]? B/s  out [0-9.]+[kM]? B/s' \
  "$sc_tmp/top2.out" || fail "top: no byte rates in the second frame"
grep -Eq '^  live +relay,play( +[^ ]+){5} +[1-9][0-9.]*[kM]? ' \
  "$sc_tmp/top2.out" || fail "top: the stream has no input rate"
expect 1 'cannot connect' "$STRATOCTL" top -s "$sc_tmp/nothing.sock" -n 1
expect 2 'top: -n takes a count from 1' "$STRATOCTL" top -n 0
expect 2 'top: unknown option' "$STRATOCTL" top -x

# A second swarm in the same directory is refused and harms nothing.
expect 1 "already holds a swarm of 4 nodes" "$SWARM" up --dir "$dir"
mkdir "$sc_tmp/other" && touch "$sc_tmp/other/file"
expect 1 "is not a swarm directory" "$SWARM" up --dir "$sc_tmp/other"
[ -e "$sc_tmp/other/file" ] || fail "up touched a foreign directory"
expect 1 "no swarm in $sc_tmp/other" "$SWARM" down --dir "$sc_tmp/other"
[ -e "$sc_tmp/other/file" ] || fail "down touched a foreign directory"
"$SWARM" status --dir "$dir" >/dev/null || fail "the swarm broke"

# down: every daemon gone, the directory removed.
"$SWARM" down --dir "$dir" >"$sc_tmp/down.out" 2>&1 ||
  fail "down failed: $(cat "$sc_tmp/down.out")"
cat "$sc_tmp/down.out"
grep -q "4 nodes stopped, $dir removed" "$sc_tmp/down.out" ||
  fail "down said: $(cat "$sc_tmp/down.out")"
! grep -q SIGKILL "$sc_tmp/down.out" || fail "a node needed SIGKILL"
# running PID: PID is a live process (a zombie is not).
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
for pid in "${pids[@]}"; do
  ! running "$pid" || fail "pid $pid still runs after down"
done
[ ! -e "$dir" ] || fail "down left $dir"
expect 1 "no swarm in $dir" "$SWARM" down --dir "$dir"
note "up, status, top and down work; refusals are clear"
