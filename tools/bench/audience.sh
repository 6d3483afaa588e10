#!/usr/bin/env bash
# audience.sh: one live stream to audiences of growing size spread over
# the planet, for doc/deployment.md.
#
# Every run: N nodes placed by the default geography (stratosim's
# `placement geo`: eleven regions weighted by internet users, delays by
# great-circle distance), joining over 30 s, each bootstrapping from 3
# earlier nodes; 1% random loss on every link; node 0 publishes 1 Mbit/s
# in 1,128-byte fragments from 40 s to 70 s (RUN=steady), or the same
# while a rolling restart goes through half the audience (RUN=rolling:
# from 45 s to 64 s, every second a batch of N/40 nodes leaves gracefully,
# the way a daemon stops on SIGTERM, and comes back 2 s later with its peer
# history; nodes 1 to N/2 are restarted, the other half never is).
#
# For each run it prints the stream's figures, the upload of the members
# (bytes each sent over the whole run, over the payload published), the
# median latency by region, wall time, peak RSS and the cores' memory.
#
# usage: [SEED=S] tools/bench/audience.sh [BUILDDIR] [RUN] [N...]
#   BUILDDIR defaults to build/release, RUN to steady, N to 1000, SEED
#   (the scenario's seed) to 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
run=${2:-steady}
shift 2 || shift $#
sizes=${*:-1000}
sim=$build/tools/stratosim/stratosim
[ -x "$sim" ] || { echo "audience: $sim missing; build first" >&2; exit 1; }
command -v jq >/dev/null || { echo "audience: jq is required" >&2; exit 1; }
case $run in steady | rolling) ;; *)
  echo "audience: RUN is steady or rolling" >&2
  exit 2
  ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rolling_statements N: the rolling restart of nodes 1..N/2.
rolling_statements() {
  local n=$1 batch first last t=45
  batch=$(((n + 39) / 40))
  first=1
  while [ "$first" -le $((n / 2)) ]; do
    last=$((first + batch - 1))
    [ "$last" -le $((n / 2)) ] || last=$((n / 2))
    printf '%s\n' -e "at ${t}s leave $first-$last" \
      -e "at $((t + 2))s restart $first-$last history"
    first=$((last + 1))
    t=$((t + 1))
  done
}

for n in $sizes; do
  last=$((n - 1))
  args=(--seed "${SEED:-1}" --nodes "$n" --duration 73s --group tv
    -e "bootstrap 1-$last random 3" -e 'join all over 30s'
    --max-sessions 1024 --loss 1%
    -e 'at 40s stream rate 1mbit size 1128B' -e 'at 70s stream stop'
    --per-node -r "$tmp/$n.json")
  if [ "$run" = rolling ]; then
    mapfile -t extra < <(rolling_statements "$n")
    args+=("${extra[@]}")
  fi
  echo "== $run: $n members, geo placement, 1% loss, 1 Mbit/s for 30 s, seed ${SEED:-1}"
  "$sim" "${args[@]}" 2>"$tmp/$n.txt"
  r=$tmp/$n.json
  jq -r --arg run "$run" --argjson half $((n / 2)) '
    def pct(p): (length as $l | if $l == 0 then null
      else sort | .[([($l * p | ceil) - 1, 0] | max)] end);
    def r3: . * 1000 | round / 1000;
    .stream as $s
    | ($s.published.bytes) as $pub
    | [.per_node[] | select(.stream_role == "player")] as $pl
    | ($pl | map(.bytes_sent / $pub)) as $up
    | "  delivery mean / min / p1        \($s.delivery.mean) / \($s.delivery.min) / \($s.delivery.p1)",
      (if $run == "rolling" then
        ($pl | map(select(.node > $half) | .stream_delivery)) as $kept
        | ($pl | map(select(.node <= $half) | .stream_delivery)) as $rest
        | "  never restarted: mean / min     \($kept | add / length | r3) / \($kept | min)",
          "  restarted:       mean / min     \($rest | map(select(. != null)) | (add / length | r3)) / \($rest | map(select(. != null)) | min)"
      else empty end),
      "  latency ms p50 / p99 / max      \($s.latency_ms.p50) / \($s.latency_ms.p99) / \($s.latency_ms.max)",
      "  start-up ms p50 / p90 / max     \($s.startup_ms.p50) / \($s.startup_ms.p90) / \($s.startup_ms.max)",
      "  never played; gaps; late plays  \($s.never_played); \($s.gaps.count); \($s.played.late)",
      "  duplicates / useful bytes       \($s.duplicates.ratio)",
      "  control overhead                \($s.control_overhead.ratio)",
      "  broadcaster upload / payload    \($s.broadcaster_upload.ratio)",
      "  member upload / payload p50 / p99 / max   \($up | pct(0.5) | r3) / \($up | pct(0.99) | r3) / \($up | max | r3)",
      "  member upload / payload mean    \($up | add / length | r3)",
      "  push children p50 / max (end)   \($pl | map(.stream_children) | pct(0.5)) / \($pl | map(.stream_children) | max)",
      "  core bytes per node peak mean / max   \(.memory.core_bytes_peak_per_node_mean) / \(.memory.core_bytes_peak_per_node_max)",
      "  median latency by region (ms, players; the publisher is in \(.per_node[0].region)):",
      ($pl | group_by(.region) | sort_by(-length)[]
        | "    \(.[0].region | . + " " * (20 - length)) \(length | tostring | " " * (6 - length) + .)  \(map(.stream_latency_p50_ms | select(. != null)) | pct(0.5))")
  ' "$r"
  printf '  %-31s %s\n' "wall s" "$(sed -n 's/.*host: wall \([0-9.]*\) s.*/\1/p' "$tmp/$n.txt")"
  printf '  %-31s %s\n' "peak RSS MiB" "$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' "$tmp/$n.txt")"
done
