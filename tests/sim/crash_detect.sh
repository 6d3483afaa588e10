#!/usr/bin/env bash
# [1/6] failure detection at scale: peers of crashed nodes see their
# sessions time out, within the idle timeout, and none is left behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

r=$sim_tmp/r.json
sim "$r" -s "$SCENARIOS/crash_detect.scn"
expect "$r" '.nodes.crashes == 20 and .nodes.up_at_end == 180' \
  "20 nodes crashed, 180 remain"
expect "$r" '.failures.detections >= 20' \
  "peers reported the crashed nodes' sessions down ($(val "$r" .failures.detections) times)"
expect "$r" '.sessions.stale == 0' "no session to a crashed node remains"
# The idle timeout is 30 s: a peer hears nothing from then on.
expect "$r" '.failures.detection_ms.max <= 31000' \
  "every detection within 31 s (max $(val "$r" .failures.detection_ms.max) ms)"
expect "$r" '.failures.detection_ms.p50 >= 20000' \
  "detection waits for the idle timeout, not a single lost packet (p50 $(val "$r" .failures.detection_ms.p50) ms)"
expect "$r" '.nodes.connected_at_end == 180' "the survivors all still have sessions"
