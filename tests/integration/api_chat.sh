#!/usr/bin/env bash
# api_chat.sh: a chat over posting. 10 daemons on loopback in group
# "chat", each with an API socket, all joining through node 0. Each runs
# `stratoctl listen chat`; then each posts one line with `stratoctl post`.
# Every listener must print the other 9 posts exactly once, each from the
# peer ID of its poster, and not its own (the core does not deliver a
# node's own post back to it).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap sc_exit_tails EXIT

N=10

# ---- the group ---------------------------------------------------------------
t0=$SECONDS
start_node n0 --group chat --api-socket "$(api_path n0)"
addr0=$(info n0 listen)
for ((k = 1; k < N; k++)); do
  start_node "n$k" --group chat --api-socket "$(api_path "n$k")" \
    --bootstrap "$addr0"
done
declare -A id=()
for ((k = 0; k < N; k++)); do
  id[n$k]=$(info "n$k" peer_id)
done

# Every node knows the other 9 and has neighbours: a post then reaches
# everyone by the interval broadcast or, failing that, by repair.
nodes=()
for ((k = 0; k < N; k++)); do nodes+=("n$k"); done
wait_for 40 "every node knowing the other $((N - 1))" \
  group_joined chat $((N - 1)) 2 "${nodes[@]}"
note "$N nodes joined in $((SECONDS - t0)) s"

# ---- listeners -----------------------------------------------------------------
listen_all chat "${nodes[@]}"

# ---- posts -----------------------------------------------------------------------
for ((k = 0; k < N; k++)); do
  api "n$k" post chat "hello from n$k" || fail "n$k: stratoctl post failed"
done
t0=$SECONDS
all_heard() {
  local k
  for ((k = 0; k < N; k++)); do
    [ "$(wc -l <"$sc_tmp/n$k.out")" -ge $((N - 1)) ] || return 1
  done
}
wait_for 30 "every listener printing $((N - 1)) posts" all_heard
note "every listener printed $((N - 1)) posts within $((SECONDS - t0)) s"
# A duplicate would come within the repair delay (200 ms): give it 1 s.
sleep 1
stop_listeners

# ---- what each printed -------------------------------------------------------------
for ((k = 0; k < N; k++)); do
  out=$sc_tmp/n$k.out
  want=$(for ((j = 0; j < N; j++)); do
    [ "$j" -eq "$k" ] || echo "post ${id[n$j]} 0 hello from n$j"
  done | sort)
  got=$(sort "$out")
  [ "$got" = "$want" ] || {
    diff <(echo "$want") <(echo "$got") >&2 || true
    fail "n$k printed other than the 9 others' posts, once each"
  }
done
note "each of the $N listeners printed the other $((N - 1)) posts exactly once, from their posters"
for ((k = 0; k < N; k++)); do
  stop_node "n$k"
  [ ! -e "$(api_path "n$k")" ] || fail "n$k left its API socket"
done
note "PASS api_chat"
