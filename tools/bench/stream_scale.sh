#!/usr/bin/env bash
# stream_scale.sh: a live stream over N members (default 1,000), measured
# against the project's targets (doc/simulation.md, "The stream").
#
# Every run: N nodes join over 30 s, each bootstrapping from 3 earlier
# ones, placement uniform 5-150 ms (plus the default 1-5 ms access delays
# at each end), 2% random loss on every link; node 0 publishes 1 Mbit/s in
# 1,128-byte fragments (six MPEG-TS packets) from 40 s to 100 s.
#   1. steady: nothing else happens.
#   2. churn: from 40 s to 100 s, 20% of the members are replaced per
#      minute: a Poisson process crashes members (never node 0) and N/5
#      fresh nodes join evenly over the minute. Survivors' delivery and the
#      joiners' start-up (target: median <= 2 s).
#   3. attack: 10% of the nodes forge from 45 s.
# Each run prints its figures against the targets, its wall time and its
# peak memory, then the whole stream section.
#
# usage: tools/bench/stream_scale.sh [BUILDDIR] [N] [RUNS...]
#   BUILDDIR defaults to build/release, N to 1000, RUNS to "steady churn
#   attack".
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
n=${2:-1000}
shift 2 || shift $#
runs=${*:-steady churn attack}
sim=$build/tools/stratosim/stratosim
[ -x "$sim" ] || { echo "stream_scale: $sim missing; build first" >&2; exit 1; }
command -v jq >/dev/null || { echo "stream_scale: jq is required" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

last=$((n - 1))
base=(--nodes "$n" --duration 103s --placement 'uniform 5ms 150ms'
  --group tv -e "bootstrap 1-$last random 3" --max-sessions 1024
  --loss 2% -e 'at 40s stream rate 1mbit size 1128B' -e 'at 100s stream stop')

# check NAME VALUE OP TARGET: one line of the table.
check() {
  local verdict
  verdict=$(awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "ok" : "MISSED" }')
  printf '  %-34s %12s   %s %-8s %s\n' "$1" "$2" "$3" "$4" "$verdict"
}

# show NAME REPORT SUMMARY: the figures every run has.
show() {
  local r=$2 s=$3 q
  q() { jq -r "$1" "$r"; }
  check "delivery mean" "$(q .stream.delivery.mean)" ">=" 0.999
  check "delivery min (every node)" "$(q .stream.delivery.min)" ">=" 0.99
  printf '  %-34s %12s\n' "delivery p1 / p10" \
    "$(q '"\(.stream.delivery.p1) / \(.stream.delivery.p10)"')"
  check "stretch p99 (per fragment)" "$(q .stream.stretch.p99)" "<=" 2.5
  printf '  %-34s %12s\n' "stretch p50; per node p50 / p99" \
    "$(q '"\(.stream.stretch.p50); \(.stream.stretch.node_p50) / \(.stream.stretch.node_p99)"')"
  check "duplicates / useful bytes" "$(q .stream.duplicates.ratio)" "<=" 0.05
  check "control overhead" "$(q .stream.control_overhead.ratio)" "<=" 0.05
  check "broadcaster upload / payload" "$(q .stream.broadcaster_upload.ratio)" "<=" 8
  printf '  %-34s %12s\n' "latency ms p50 / p99 / max" \
    "$(q '.stream.latency_ms | "\(.p50) / \(.p99) / \(.max)"')"
  printf '  %-34s %12s\n' "start-up ms p50 / p90 / max" \
    "$(q '.stream.startup_ms | "\(.p50) / \(.p90) / \(.max)"')"
  printf '  %-34s %12s\n' "never played; late plays" \
    "$(q '"\(.stream.never_played); \(.stream.played.late)"')"
  printf '  %-34s %12s\n' "gaps; skipped fragments" \
    "$(q '"\(.stream.gaps.count); \(.stream.gaps.skipped_fragments)"')"
  check "forged played" "$(q .stream.forged_played)" "<=" 0
  printf '  %-34s %12s\n' "wall s" "$(sed -n 's/.*host: wall \([0-9.]*\) s.*/\1/p' "$s")"
  printf '  %-34s %12s\n' "peak RSS MiB" "$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' "$s")"
  printf '  %-34s %12s\n' "core bytes per node, peak mean" \
    "$(q .memory.core_bytes_peak_per_node_mean)"
}

run() {
  local name=$1
  shift
  echo "== $name: $n nodes; $*"
  "$sim" "${base[@]}" "$@" -r "$tmp/$name.json" 2>"$tmp/$name.txt"
  show "$name" "$tmp/$name.json" "$tmp/$name.txt"
}

for what in $runs; do
  case $what in
  steady)
    run steady -e 'join all over 30s'
    jq -c .stream "$tmp/steady.json"
    ;;
  churn)
    extra=$((n / 5))
    rate=$extra
    run churn --nodes $((n + extra)) -e "join 0-$last over 30s" \
      -e "bootstrap $n-$((n + extra - 1)) random 3" \
      -e "at 40s churn crash $rate/min nodes 1-$last" \
      -e "at 40s join $n-$((n + extra - 1)) over 60s" \
      -e 'at 100s churn stop' --per-node
    r=$tmp/churn.json
    echo "  churn: $(jq .nodes.crashes "$r") crashes, $extra joins"
    jq -r --argjson n "$n" '
      [.per_node[1:$n][] | select(.starts == 1 and .state == "up")
       | .stream_delivery] as $s
      | "  survivors: \($s | length), delivery mean \($s | add / length),"
        + " min \($s | min)"' "$r"
    jq -r --argjson n "$n" '
      [.per_node[$n:][] | .stream_startup_ms] as $j
      | ($j | map(select(. != null)) | sort) as $p
      | "  joiners: \($j | length), played \($p | length), start-up median "
        + "\($p[($p | length) / 2 | floor]) ms (target <= 2000), p90 "
        + "\($p[($p | length) * 9 / 10 | floor]) ms, max \($p[-1]) ms"' "$r"
    jq -c 'del(.stream.attack) | .stream' "$r"
    ;;
  attack)
    run attack -e 'join all over 30s' \
      -e "at 45s forge $((n - n / 10))-$last"
    jq -c .stream.attack "$tmp/attack.json"
    ;;
  *)
    echo "stream_scale: unknown run '$what' (steady, churn, attack)" >&2
    exit 2
    ;;
  esac
done
