#!/usr/bin/env bash
# post_scale.sh: posting in one group at N members (default 1,000).
#
# N nodes join over 60 s through one bootstrap node; from 90 s to 150 s,
# N posts of 100 bytes are made by members drawn at random (doc/simulation.md,
# "Posts"). Prints the report's posting section and the summary's host
# lines: how many expected deliveries were made exactly once, and what they
# cost (POSTs and duplicate POSTs per delivery, IHAVE/IWANT bytes per POST
# byte).
#
# usage: tools/bench/post_scale.sh [BUILDDIR] [N] [SEED]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
n=${2:-1000}
seed=${3:-1}
sim=$build/tools/stratosim/stratosim
[ -x "$sim" ] || { echo "post_scale: $sim missing; build first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$sim" --nodes "$n" --seed "$seed" --group demo \
  -e "bootstrap 1-$((n - 1)) from 0" -e 'join all over 60s' \
  --max-sessions 4096 --duration 160s -e "at 90s post $n over 60s" \
  -r "$tmp/post.json" 2>"$tmp/post.txt"
echo "== posting, $n members, seed $seed"
jq -c '.posting' "$tmp/post.json"
grep -E 'host:|posting:' "$tmp/post.txt"
