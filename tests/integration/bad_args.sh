#!/usr/bin/env bash
# bad_args.sh: every way to start stratocastd wrongly ends with exit status 2
# and exactly one line on stderr that names the problem; --help and
# --version succeed.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# Fresh paths per case so that one case cannot leak into the next.
n=0
fresh() {
  n=$((n + 1))
  state=$sc_tmp/case$n/state
  sock=$sc_tmp/case$n/stats.sock
}

fresh
expect_usage_error "^stratocastd: unknown option '--frobnicate'" \
  --frobnicate --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: unexpected argument 'extra'" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" extra
fresh
expect_usage_error "^stratocastd: --listen is required" \
  --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: option --listen needs a value" \
  --state-dir "$state" --stats-socket "$sock" --listen
fresh
expect_usage_error "^stratocastd: --listen 127\.0\.0\.1:99999: invalid port$" \
  --listen 127.0.0.1:99999 --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: --listen 127\.0\.0\.1: missing port" \
  --listen 127.0.0.1 --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: --listen 300\.1\.2\.3:4433: invalid address" \
  --listen 300.1.2.3:4433 --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: --listen nohost:4433: invalid address" \
  --listen nohost:4433 --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: --listen ::1:4433: IPv6 addresses need brackets" \
  --listen ::1:4433 --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: --log-level loud: unknown log level" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --log-level loud
fresh
expect_usage_error "^stratocastd: --log-to syslog:dev/log: use stderr, syslog or syslog:PATH" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --log-to syslog:dev/log
fresh
expect_usage_error "^stratocastd: --bootstrap 127\.0\.0\.1:0: invalid port" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --bootstrap 127.0.0.1:0
fresh
expect_usage_error "^stratocastd: --bootstrap \[::1\]:4433: address family" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --bootstrap "[::1]:4433"
fresh
# .invalid never resolves (RFC 6761); short resolver timeouts keep a slow
# DNS server from stretching the test.
RES_OPTIONS="timeout:1 attempts:1" expect_usage_error \
  "^stratocastd: --bootstrap no-such-host\.invalid:4433: cannot resolve" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --bootstrap no-such-host.invalid:4433

# ---- config files ----------------------------------------------------------
cfg=$sc_tmp/stratocastd.conf
fresh
printf '# a comment\n\nlisten = 127.0.0.1:0\nlisten-port = 4433\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:4: unknown key 'listen-port'$" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"
fresh
printf 'listen = 127.0.0.1:0\nbootstrap 127.0.0.1:4433\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:2: expected 'key = value'" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"
fresh
printf 'listen = 127.0.0.1:0\nlog-level = info\nlisten = 127.0.0.1:1\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:3: listen: duplicate key \(already set at $cfg:1: listen\)$" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"
fresh
printf 'listen =\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:1: listen: empty value" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"
fresh
printf 'listen = 127.0.0.1:70000\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:1: listen 127\.0\.0\.1:70000: invalid port" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"
fresh
expect_usage_error "^stratocastd: --config $sc_tmp/missing\.conf: cannot open" \
  --config "$sc_tmp/missing.conf" --listen 127.0.0.1:0

# ---- group specs: the core judges them --------------------------------------
fresh
expect_usage_error "^stratocastd: --group demo\?features=all: group given twice" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --group 'demo?features=all'
fresh
nine=()
for g in 1 2 3 4 5 6 7 8 9; do
  nine+=(--group "g$g")
done
expect_usage_error "^stratocastd: --group g9: too many groups \(at most 8\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" "${nine[@]}"
fresh
# The secret never appears in a message, even in a spec that is refused.
expect_usage_error \
  "^stratocastd: --group club\?secret=\*\*\*&bogus=1: malformed group spec" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group 'club?secret=hunter2&bogus=1'
! grep -q hunter2 "$sc_tmp/err" || fail "a group secret was printed"
fresh
printf 'listen = 127.0.0.1:0\ngroup = demo\ngroup = demo?features=none,x\n' >"$cfg"
expect_usage_error \
  "^stratocastd: $cfg:3: group demo\?features=none,x: malformed group spec" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"
# Groups are checked before the history is opened.
[ ! -e "$state/history.db" ] || fail "a refused --group created history.db"

# ---- live-stream options: syntax and which options need which ---------------
hex64=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
fresh
expect_usage_error "^stratocastd: --publish requires --source$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --publish cam
fresh
expect_usage_error "^stratocastd: --source requires --publish$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --source -
fresh
expect_usage_error "^stratocastd: --publish requires --group$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --publish cam --source -
fresh
expect_usage_error "^stratocastd: --play requires --group$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --play cam
fresh
expect_usage_error "^stratocastd: --sink requires --play$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --sink udp://127.0.0.1:5000
fresh
expect_usage_error "^stratocastd: --publisher requires --play$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --publisher "$hex64"
fresh
expect_usage_error "^stratocastd: --publisher ${hex64}0: not a publisher key \(want 64 hex characters\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --play cam --publisher "${hex64}0"
fresh
expect_usage_error "^stratocastd: --publish: stream name too long \(129 bytes, at most 128\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --source - --publish "$(printf 'n%.0s' $(seq 129))"
fresh
expect_usage_error "^stratocastd: --play: stream name contains a control character$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --play "$(printf 'a\tb')"
fresh
expect_usage_error "^stratocastd: --source tcp://127\.0\.0\.1:5000: unknown source \(want -, udp://ADDR:PORT or file:PATH\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --publish cam --source tcp://127.0.0.1:5000
fresh
expect_usage_error "^stratocastd: --source udp://127\.0\.0\.1:99999: invalid port$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --publish cam --source udp://127.0.0.1:99999
fresh
expect_usage_error "^stratocastd: --source file:: missing path after 'file:'$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --publish cam --source file:
fresh
expect_usage_error "^stratocastd: --sink http://127\.0\.0\.1:8080/live: no path may follow the port" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --play cam --sink http://127.0.0.1:8080/live
fresh
expect_usage_error "^stratocastd: --sink udp://127\.0\.0\.1:0: invalid port \(must be 1-65535\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --play cam --sink udp://127.0.0.1:0
fresh
expect_usage_error "^stratocastd: --rate 2\.5M: invalid rate" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --publish cam --source file:/dev/null --rate 2.5M
fresh
expect_usage_error "^stratocastd: --rate paces file sources only \(--source file:PATH\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --publish cam --source - --rate 2500k
fresh
expect_usage_error "^stratocastd: --window 500ms: invalid duration \(want 1s to 60s" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --group demo --play cam --window 500ms

# ---- limits ------------------------------------------------------------------
fresh
expect_usage_error "^stratocastd: --max-sessions 7: invalid session limit \(want a whole number from 8 to 4096\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --max-sessions 7
fresh
expect_usage_error "^stratocastd: --max-sessions 4097: invalid session limit" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --max-sessions=4097
fresh
expect_usage_error "^stratocastd: --push-capacity -1: invalid push capacity \(want a whole number from 0 to 1024\)$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --push-capacity -1
fresh
expect_usage_error "^stratocastd: --push-capacity 1025: invalid push capacity" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --push-capacity 1025
fresh
expect_usage_error "^stratocastd: --push-capacity 8k: invalid push capacity" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock" \
  --push-capacity 8k
fresh
printf 'listen = 127.0.0.1:0\nmax-sessions = 3\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:2: max-sessions 3: invalid session limit" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"

fresh
printf 'listen = 127.0.0.1:0\ngroup = demo\npublish = cam\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:3: publish requires --source$" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"
fresh
printf 'listen = 127.0.0.1:0\nwindow = 8s\nwindow = 9s\n' >"$cfg"
expect_usage_error "^stratocastd: $cfg:3: window: duplicate key \(already set at $cfg:2: window\)$" \
  --config "$cfg" --state-dir "$state" --stats-socket "$sock"

# ---- state directory and identity -------------------------------------------
fresh
mkdir -p "$(dirname "$state")"
: >"$state"
expect_usage_error "^stratocastd: --state-dir $state: not a directory$" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock"
fresh
mkdir -p "$state"
head -c 32 /dev/urandom >"$state/identity"
chmod 644 "$state/identity"
expect_usage_error "identity file $state/identity has mode 0644" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock"
fresh
mkdir -p "$state"
head -c 31 /dev/urandom >"$state/identity"
chmod 600 "$state/identity"
expect_usage_error "identity file $state/identity: expected 32 bytes, found 31" \
  --listen 127.0.0.1:0 --state-dir "$state" --stats-socket "$sock"

# ---- a port already in use --------------------------------------------------
start_node first
port=$(info first listen)
fresh
expect_usage_error "^stratocastd: --listen $port: cannot bind: Address already in use$" \
  --listen "$port" --state-dir "$state" --stats-socket "$sock"
[ ! -e "$sock" ] || fail "a daemon that failed to bind left a stats socket"
stop_node first

# ---- a config file that works, overridden by the command line ---------------
fresh
cat >"$cfg" <<EOF
# stratocastd test config
listen = 127.0.0.1:1
state-dir = $state
stats-socket = $sock
log-level = debug
EOF
# --listen on the command line wins over the file's port 1 (which would
# need privileges and is not what we ask for).
"$STRATOCASTD" --config "$cfg" --listen 127.0.0.1:0 2>"$sc_tmp/cfg.log" &
sc_pid[cfg]=$!
for ((i = 0; i < 100; i++)); do
  "$STRATOCTL" -s "$sock" help >/dev/null 2>&1 && break
  sleep 0.1
done
got=$("$STRATOCTL" -s "$sock" show info | jq -r .listen)
case $got in
127.0.0.1:1 | 127.0.0.1:0) fail "the command line did not override listen" ;;
127.0.0.1:*) note "config file used, --listen overrode it: $got" ;;
*) fail "unexpected listen '$got'" ;;
esac
kill -TERM "${sc_pid[cfg]}"
status=0
wait "${sc_pid[cfg]}" || status=$?
unset "sc_pid[cfg]"
[ "$status" -eq 0 ] || fail "config-file daemon exited $status"

# ---- --help and --version ---------------------------------------------------
# Captured first: under pipefail, grep -q leaving early can fail the writer.
help=$("$STRATOCASTD" --help)
grep -q -- '--listen ADDR:PORT' <<<"$help" || fail "--help"
"$STRATOCASTD" --version | grep -Eq '^stratocastd [0-9]+\.[0-9]+' ||
  fail "--version"
help=$("$STRATOCTL" --help)
grep -q 'show sessions' <<<"$help" || fail "stratoctl --help"
"$STRATOCTL" --version | grep -Eq '^stratoctl [0-9]' || fail "stratoctl --version"
note "--help and --version exit 0"
note "PASS bad_args ($sc_usage_errors bad starts)"
