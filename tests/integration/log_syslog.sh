#!/usr/bin/env bash
# log_syslog.sh: --log-to syslog:PATH sends each log line as one RFC 3164
# datagram (facility daemon, the level as severity) to a Unix datagram
# socket, here one that socat plays the syslog daemon on. A line the socket
# does not take (the syslog daemon gone) goes to stderr instead; a syslog
# daemon that comes back gets the next line; SIGHUP moves the log between
# stderr and syslog; a missing socket at start is a usage error. No group
# secret reaches the log.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
trap sc_exit_tails EXIT
if ! command -v socat >/dev/null; then
  echo "SKIP: socat is not installed (tools/check installs it)"
  exit 77
fi

sock=$sc_tmp/syslog.sock
got=$sc_tmp/syslog.out
syslogd_pid=
# syslogd_start: receives datagrams on $sock and appends them to $got.
syslogd_start() {
  socat -u "UNIX-RECV:$sock,unlink-early" "OPEN:$got,creat,append" &
  syslogd_pid=$!
  wait_for 10 "the syslog socket" test -S "$sock"
}
syslogd_stop() {
  kill "$syslogd_pid"
  wait "$syslogd_pid" 2>/dev/null || true
  rm -f "$sock"
}
# in_syslog PATTERN: a datagram received matches the extended PATTERN.
in_syslog() { grep -aqE -- "$1" "$got"; }
cleanup() {
  local status=$?
  set +e
  [ -z "$syslogd_pid" ] || kill "$syslogd_pid" 2>/dev/null
  (exit "$status")
  sc_exit_tails
}
trap cleanup EXIT

# A missing socket at start: exit status 2 and a clear message.
rc=0
out=$("$STRATOCASTD" --listen 127.0.0.1:0 --state-dir "$(state_dir X)" \
  --stats-socket "$(sock_path X)" --log-to "syslog:$sc_tmp/none" 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "a missing syslog socket gave exit status $rc, not 2"
grep -q "syslog socket $sc_tmp/none: No such file or directory" <<<"$out" ||
  fail "no clear message for a missing syslog socket: $out"
note "a missing syslog socket is refused at start"

syslogd_start
conf=$sc_tmp/a.conf
cat >"$conf" <<CONF
listen = 127.0.0.1:0
state-dir = $(state_dir A)
stats-socket = $(sock_path A)
group = club?secret=s3cret-club
log-level = debug
log-to = syslog:$sock
CONF
"$STRATOCASTD" --config "$conf" >>"$(log_path A)" 2>&1 &
sc_pid[A]=$!
wait_for 10 "A's stats socket answering" ctl A help
pid=${sc_pid[A]}
wait_for 10 "A's start line in syslog" in_syslog \
  "<30>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} stratocastd\\[$pid\\]: stratocastd [^ ]+: peer [0-9a-f]{64} listening on"
start_node B --bootstrap "$(info A listen)" --group 'club?secret=s3cret-club'
wait_for 10 "a debug line (severity 7) in syslog" in_syslog \
  "<31>[^<]*stratocastd\\[$pid\\]: session [0-9a-f]+ up"
in_syslog "<30>[^<]*stratocastd\\[$pid\\]: group club\\?secret=\\*\\*\\*: joined" ||
  fail "the group line is not in syslog with its secret hidden"
[ ! -s "$(log_path A)" ] || fail "A wrote to stderr while syslog took its lines"
note "lines reach syslog with facility daemon and their severity"

# The syslog daemon goes away: lines go to stderr, none is lost.
syslogd_stop
kill -HUP "$pid"
wait_for 10 "the line syslog could not take on stderr" grep -q \
  "INFO: SIGHUP: $conf read again, no change" "$(log_path A)"
# It comes back: the next line reaches it.
syslogd_start
kill -HUP "$pid"
wait_for 10 "a line in the new syslog socket" in_syslog \
  "<30>[^<]*stratocastd\\[$pid\\]: SIGHUP: $conf read again, no change"
note "a syslog daemon gone: lines on stderr; back: lines to it again"

# SIGHUP moves the log to stderr and back.
sed -i 's/^log-to = .*/log-to = stderr/' "$conf"
kill -HUP "$pid"
wait_for 10 "the move to stderr logged" grep -q \
  "WARN: SIGHUP: log now goes to stderr" "$(log_path A)"
stop_node B
wait_for 10 "a peer line on stderr" grep -q "INFO: peer down" "$(log_path A)"
sed -i "s|^log-to = .*|log-to = syslog:$sock|" "$conf"
kill -HUP "$pid"
wait_for 10 "the move to syslog logged there" in_syslog \
  "<28>[^<]*stratocastd\\[$pid\\]: SIGHUP: log now goes to $sock"
# A socket that is not there: the log stays where it is.
sed -i "s|^log-to = .*|log-to = syslog:$sc_tmp/none|" "$conf"
kill -HUP "$pid"
wait_for 10 "the bad target refused" in_syslog \
  "<27>[^<]*SIGHUP: log-to: syslog socket $sc_tmp/none: No such file or directory.*; log unchanged"
note "SIGHUP moves the log between stderr and syslog; a bad target changes nothing"

stop_node A
! grep -aq s3cret "$got" "$(log_path A)" "$(log_path B)" ||
  fail "a group secret reached a log"
note "no secret in syslog or on stderr"
note "PASS log_syslog"
