#!/usr/bin/env bash
# relay.sh: what one relay costs per byte it forwards and in memory.
#
# Runs bench_relay (tools/bench/bench_relay.c): a publisher, a relay and 20
# sinks, real cores under a virtual clock, the relay the only neighbour of
# everyone. For a 2 Mbit/s and a 10 Mbit/s stream it prints the relay's CPU
# per byte sent (its core calls plus sendmmsg to a loopback socket) against
# the floor measured in the same run (ChaCha20-Poly1305 sealing plus
# sendmmsg of the same datagrams), the ratio, what every sink played, and
# the relay's allocated bytes against the fragments its 10 s window holds.
# Timings are medians over slices of the run; the machine may be shared, so
# nothing is asserted. Builds nothing.
#
# usage: tools/bench/relay.sh [BUILDDIR] [bench_relay options...]
#   BUILDDIR defaults to build/release; options go to bench_relay
#   (default: -r 2000 -r 10000).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
shift || true
bench=$build/tools/bench/bench_relay
[ -x "$bench" ] || { echo "relay: $bench missing; build first" >&2; exit 1; }
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -srm), $(nproc) CPUs"
echo "# $bench ${*:-}"
exec "$bench" "$@"
