#!/usr/bin/env bash
# A live stream over 60 members (stream.scn): every node plays every
# fragment, on time, byte for byte; the cost stays within loose bounds
# measured on this scenario. First, the uniform placement alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Bad stream statements are refused with exit status 2 and a message.
refused() {
  local want=$1 status=0
  shift
  "$STRATOSIM" -q -r "$sim_tmp/none.json" "$@" 2>"$sim_tmp/err" || status=$?
  [ "$status" -eq 2 ] || fail "stratosim $* exited $status, wanted 2"
  grep -qF -- "$want" "$sim_tmp/err" ||
    fail "stratosim $*: message '$(cat "$sim_tmp/err")' lacks '$want'"
  note "ok: refused $* ($(head -c 100 "$sim_tmp/err"))"
}
refused "needs a group statement" --stream 'rate 1mbit'
refused "only one stream per run" --group tv --stream 'rate 1mbit' \
  -e 'at 5s stream rate 2mbit'
refused "missing rate" --group tv --stream 'from 1'
refused "'size' repeats" --group tv --stream 'rate 1mbit size 1kB size 2kB'
refused "above the core's largest fragment" --group tv \
  --stream 'rate 1mbit size 5000B'
refused "node 12 is out of range" --group tv --stream 'from 12 rate 1mbit'
refused "minimum is above the maximum" --placement 'uniform 9ms 5ms'
refused "not a rate" --forge '1 rate fast'

# placement uniform: every pair within [MIN, MAX], the same both ways.
r=$sim_tmp/fixed.json
sim "$r" --nodes 40 --duration 20s --placement 'uniform 40ms 40ms' \
  --access-delay '0 0' -e 'bootstrap 1-39 from 0' -e 'bootstrap 1-39 random 3'
expect "$r" '.scenario.placement == "uniform"' "the placement is named uniform"
expect "$r" '.network.one_way_delay_ms.p50 >= 40 and .network.one_way_delay_ms.p50 <= 41.5' \
  "uniform 40ms 40ms: one-way delays are 40 ms (p50 $(val "$r" .network.one_way_delay_ms.p50))"
r=$sim_tmp/uniform.json
sim "$r" --nodes 40 --duration 20s --placement 'uniform 5ms 150ms' \
  --access-delay '0 0' -e 'bootstrap 1-39 from 0' -e 'bootstrap 1-39 random 3'
expect "$r" '.network.one_way_delay_ms.max <= 152 and .network.one_way_delay_ms.p50 >= 30 and .network.one_way_delay_ms.p50 <= 120' \
  "uniform 5ms 150ms: delays spread within the range ($(jq -c .network.one_way_delay_ms "$r"))"

r=$sim_tmp/stream.json
sim "$r" -s "$SCENARIOS/stream.scn" --per-node
note "stream: $(jq -c '.stream | {published, delivery, latency_ms, stretch, startup_ms}' "$r")"
note "cost: $(jq -c '.stream | {duplicates, control_overhead, broadcaster_upload, pulls, push_drops}' "$r")"
expect "$r" '.stream.published.fragments >= 1650 and .stream.published.fragments <= 1670' \
  "30 s at 500 kbit/s in 1,128-byte fragments: about 1,662 published"
expect "$r" '.stream.delivery.nodes == 59 and .stream.never_played == 0' \
  "all 59 players played"
expect "$r" '.stream.delivery.mean >= 0.995 and .stream.delivery.min >= 0.98' \
  "delivery within the 2 s deadline: mean >= 99.5%, every node >= 98%"
expect "$r" '.stream.forged_played == 0 and .stream.order_errors == 0' \
  "every played chunk is the published one, in order"
expect "$r" '.stream.attack.honest_peers_banned == 0' \
  "no honest node was banned"
# Regression guards with margin: this scenario measured 0.054 duplicates
# and 0.086 overhead (500 kbit/s: the fixed costs weigh more than at the
# 1 Mbit/s of the benchmark, where they are 0.08 and 0.06).
expect "$r" '.stream.duplicates.ratio <= 0.15' \
  "duplicates at most 15% of useful bytes ($(val "$r" .stream.duplicates.ratio))"
expect "$r" '.stream.control_overhead.ratio <= 0.12' \
  "control overhead at most 12% ($(val "$r" .stream.control_overhead.ratio))"
expect "$r" '[.per_node[] | select(.stream_role == "player" and .stream_delivery == null)] | length == 0' \
  "the per-node table gives every player a delivery ratio"
expect "$r" '.memory.core_bytes_leaked == 0' "cores freed all they allocated"
