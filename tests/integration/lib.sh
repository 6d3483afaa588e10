# shellcheck shell=bash
# lib.sh: helpers for the loopback integration tests. Source it from a test
# script that runs under `set -euo pipefail`.
#
# It finds the binaries through $top_builddir (exported by `make check`;
# the repository root for manual runs), makes a private temporary
# directory and kills every daemon it started when the script exits.

. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
STRATOCASTD=$top_builddir/src/shell/stratocastd
STRATOCTL=$top_builddir/tools/stratoctl

for sc_bin in "$STRATOCASTD" "$STRATOCTL"; do
  [ -x "$sc_bin" ] || fail "$sc_bin is missing: build first (make)"
done
command -v jq >/dev/null || fail "jq is required (./tools/check installs it)"

# Unix socket paths are limited to 107 bytes: keep the directory short.
sc_tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc.XXXXXX")
declare -A sc_pid=()

sc_cleanup() {
  local name
  for name in "${!sc_pid[@]}"; do
    kill -KILL "${sc_pid[$name]}" 2>/dev/null || true
  done
  { wait || true; } 2>/dev/null
  rm -rf "$sc_tmp"
}
trap sc_cleanup EXIT

# Paths of node NAME.
state_dir() { echo "$sc_tmp/$1/state"; }
sock_path() { echo "$sc_tmp/$1/run/stats.sock"; }
log_path() { echo "$sc_tmp/$1.log"; }

# ctl NAME WORD...: stratoctl against node NAME.
ctl() {
  local name=$1
  shift
  "$STRATOCTL" -s "$(sock_path "$name")" "$@"
}

# start_node NAME [OPTION]...: starts stratocastd on 127.0.0.1:0 (unless
# the options give --listen) with its own state dir, stats socket and log,
# and waits until its stats socket answers.
start_node() {
  local name=$1
  shift
  local listen=(--listen 127.0.0.1:0)
  case " $* " in *" --listen "*) listen=() ;; esac
  "$STRATOCASTD" "${listen[@]}" --state-dir "$(state_dir "$name")" \
    --stats-socket "$(sock_path "$name")" --log-level debug "$@" \
    >>"$(log_path "$name")" 2>&1 &
  sc_pid[$name]=$!
  await_node "$name"
}

# await_node NAME: waits until node NAME, started in the background with
# its PID in sc_pid[NAME], answers on its stats socket; fails, with its
# log, if it exits first, and after 10 s.
await_node() {
  local name=$1 i
  for ((i = 0; i < 100; i++)); do
    if ctl "$name" help >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "${sc_pid[$name]}" 2>/dev/null; then
      cat "$(log_path "$name")" >&2
      fail "node $name exited during start"
    fi
    sleep 0.1
  done
  fail "node $name: stats socket did not answer within 10 s"
}

# info NAME FIELD: one field of `show info`.
info() {
  ctl "$1" show info | jq -r ".$2"
}

# stop_node NAME: SIGTERM; the daemon must exit 0 within 5 s and remove its
# stats socket.
stop_node() {
  local name=$1 pid=${sc_pid[$1]} i status=0
  kill -TERM "$pid"
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "node $name still running 5 s after SIGTERM"
  fi
  wait "$pid" || status=$?
  unset "sc_pid[$name]"
  [ "$status" -eq 0 ] || fail "node $name exited with status $status"
  [ ! -e "$(sock_path "$name")" ] || fail "node $name left its stats socket"
  note "node $name stopped cleanly"
}

# expect_usage_error PATTERN ARG...: stratocastd ARG... must exit 2 with one
# stderr line matching the extended regex PATTERN. The timeout turns a
# daemon that wrongly starts into a failure instead of a hang.
sc_usage_errors=0
expect_usage_error() {
  local pattern=$1 status=0 lines
  shift
  timeout 10 "$STRATOCASTD" "$@" >"$sc_tmp/out" 2>"$sc_tmp/err" || status=$?
  lines=$(wc -l <"$sc_tmp/err")
  if [ "$status" -ne 2 ] || [ "$lines" -ne 1 ] ||
    ! grep -Eq -- "$pattern" "$sc_tmp/err"; then
    echo "stratocastd $*" >&2
    echo "exit $status, $lines stderr lines:" >&2
    cat "$sc_tmp/err" >&2
    fail "expected exit 2 and one line matching '$pattern'"
  fi
  note "exit 2: $(cat "$sc_tmp/err")"
  sc_usage_errors=$((sc_usage_errors + 1))
}

# dump_logs: print every node's log (on failure, for the test log).
dump_logs() {
  local f
  for f in "$sc_tmp"/*.log; do
    [ -e "$f" ] || continue
    echo "---- $f (last 40 lines)"
    tail -n 40 "$f"
  done
  # Again at the end, where a reader of a long log looks first.
  [ -z "${sc_failure:-}" ] || echo "FAIL: $sc_failure"
}

# The API socket of node NAME (start it with --api-socket "$(api_path NAME)").
api_path() { echo "$sc_tmp/$1/run/api.sock"; }

# api NAME WORD...: stratoctl's API commands against node NAME.
api() {
  local name=$1
  shift
  "$STRATOCTL" -a "$(api_path "$name")" "$@"
}

# wait_for SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it
# succeeds; fails the test naming WHAT after SECONDS.
wait_for() {
  local limit=$1 what=$2 t0=$SECONDS
  shift 2
  until "$@"; do
    ((SECONDS - t0 < limit)) || fail "$what: not within $limit s"
    sleep 0.2
  done
}

# sc_print_tails: prints the tail of every log, listener output and error
# file in $sc_tmp.
sc_print_tails() {
  local f
  for f in "$sc_tmp"/*.log "$sc_tmp"/*.out "$sc_tmp"/*.err; do
    [ -e "$f" ] || continue
    echo "---- tail of $f"
    tail -n 15 "$f"
  done
}

# sc_exit_tails: an EXIT trap for tests that keep logs, listener outputs
# and errors in $sc_tmp: on failure it prints the tail of each, then
# cleans up as sc_cleanup does.
sc_exit_tails() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    sc_print_tails
  fi
  sc_cleanup
  exit "$status"
}

# group_joined GROUP MEMBERS NEIGHBORS NAME...: every node NAME knows
# MEMBERS others in the group named GROUP and has at least NEIGHBORS
# neighbours there.
group_joined() {
  local group=$1 members=$2 neighbors=$3 name
  shift 3
  for name in "$@"; do
    ctl "$name" show groups | jq -e --arg g "$group" --argjson m "$members" \
      --argjson k "$neighbors" \
      '.[] | select(.name == $g) | .members_known == $m and .neighbors >= $k' \
      >/dev/null || return 1
  done
}

# listen_all GROUP NAME...: starts `stratoctl listen -t 60 GROUP` on each
# node NAME (its lines in $sc_tmp/NAME.out, stderr in NAME.err; its PID in
# sc_lpid[NAME]) and waits until every one has subscribed.
declare -A sc_lpid=()
listen_all() {
  local group=$1 name
  shift
  for name in "$@"; do
    api "$name" listen -t 60 "$group" >"$sc_tmp/$name.out" \
      2>"$sc_tmp/$name.err" &
    sc_lpid[$name]=$!
  done
  wait_for 15 "every listener subscribed" sc_all_listening "$@"
}
sc_all_listening() {
  local name
  for name in "$@"; do
    grep -qx listening "$sc_tmp/$name.err" || return 1
  done
}

# stop_listeners: ends every listener listen_all started.
stop_listeners() {
  local name
  for name in "${!sc_lpid[@]}"; do
    kill -TERM "${sc_lpid[$name]}" 2>/dev/null || true
    { wait "${sc_lpid[$name]}" || true; } 2>/dev/null
  done
  sc_lpid=()
}
