#!/usr/bin/env bash
# config_reload.sh: SIGHUP reads the command line and the config file
# again. The log level and the limits (max-sessions, push-capacity) apply
# at once; another changed key is reported as needing a restart; a file
# that no longer loads changes nothing and is reported with its file, line
# and key; the daemon answers throughout.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
trap sc_exit_tails EXIT

conf=$sc_tmp/a.conf
cat >"$conf" <<CONF
# settings of node A
listen = 127.0.0.1:0
state-dir = $(state_dir A)
stats-socket = $(sock_path A)
group = demo
log-level = info
CONF
# A publishes "live" from a FIFO, fed about 800 kbit/s of filler by perl.
command -v perl >/dev/null || fail "perl is required (./tools/check installs it)"
fifo=$sc_tmp/feed
mkfifo "$fifo"
perl -e '$| = 1; while (1) { print "x" x 2000; select(undef, undef, undef, 0.02) }' \
  >"$fifo" &
sc_pid[feed]=$!
# Not start_node: it sets --log-level on the command line, which would
# override the file's.
"$STRATOCASTD" --config "$conf" --publish live --source - <"$fifo" \
  >>"$(log_path A)" 2>&1 &
sc_pid[A]=$!
wait_for 10 "A's stats socket answering" ctl A help
log=$(log_path A)
logged() { grep -q -- "$1" "$log"; }
! grep -q "DEBUG:" "$log" || fail "debug lines at log level info"

# The log level, at once.
sed -i 's/^log-level = info$/log-level = debug/' "$conf"
kill -HUP "${sc_pid[A]}"
wait_for 10 "the new log level logged" logged "SIGHUP: log level now debug"
start_node B --bootstrap "$(info A listen)" --group demo
wait_for 10 "a debug line at A after the reload" logged "DEBUG: session .* up"
note "SIGHUP: log level info -> debug applied at once"

# Another key: reported, not applied.
echo "group = other" >>"$conf"
kill -HUP "${sc_pid[A]}"
wait_for 10 "the group change reported" logged \
  "SIGHUP: group changed; not applied until a restart"
[ "$(ctl A show groups | jq length)" -eq 1 ] || fail "A joined a group on SIGHUP"

# A broken file: nothing changes, the daemon carries on.
echo "colour = red" >>"$conf"
kill -HUP "${sc_pid[A]}"
wait_for 10 "the broken file reported" logged \
  "SIGHUP: $conf:8: unknown key 'colour'.*; nothing changed"
ctl A show info | jq -e '.state == "running"' >/dev/null ||
  fail "A stopped answering after a bad reload"
sed -i '/^colour = red$/d; /^group = other$/d' "$conf"
kill -HUP "${sc_pid[A]}"
wait_for 10 "an unchanged file reported" logged \
  "SIGHUP: $conf read again, no change"
note "other keys reported as needing a restart; a broken file changes nothing"
stop_node B

# The limits, at once. C plays the stream with A as its only neighbour, so
# it asks A to push all 8 classes; a capacity of 0 revokes all 8, and C
# plays on by pulling.
limits() { ctl A show info | jq -r '"\(.max_sessions) \(.push_capacity)"'; }
[ "$(limits)" = "256 32" ] || fail "A's limits at start: $(limits)"
start_node C --bootstrap "$(info A listen)" --group demo --play live \
  --sink udp://127.0.0.1:9
stream() { ctl "$1" show streams | jq -e ".[0] | $2" >/dev/null; }
wait_for 20 "A pushing C every class" stream A '.children == 1'
wait_for 10 "C playing" stream C '.fragments_played > 0 and .pushers == 1'
echo "max-sessions = 8" >>"$conf"
echo "push-capacity = 0" >>"$conf"
kill -HUP "${sc_pid[A]}"
wait_for 10 "the new push capacity logged" logged \
  "SIGHUP: push capacity now 0 (was 32; revoked 8 grants)"
logged "SIGHUP: max sessions now 8 (was 256; [0-9]* open)" ||
  fail "the new session limit was not logged"
! logged "SIGHUP: .*\(max-sessions\|push-capacity\).*until a restart" ||
  fail "a limit was reported as needing a restart"
[ "$(limits)" = "8 0" ] || fail "show info after the reload: $(limits)"
stream A '.children == 0' || fail "A still pushes: $(ctl A show streams)"
wait_for 10 "C no longer asking A to push" stream C '.pushers == 0'
played=$(ctl C show streams | jq '.[0].fragments_played')
wait_for 10 "C playing on by pulls" stream C \
  ".fragments_played > $played + 50 and .fragments_pulled_from_peers > 0"
note "SIGHUP: max-sessions 8 and push-capacity 0 applied at once"

# A bad limit changes nothing, and names file, line and key.
sed -i 's/^push-capacity = 0$/push-capacity = -1/' "$conf"
kill -HUP "${sc_pid[A]}"
wait_for 10 "the bad push capacity reported" logged \
  "SIGHUP: $conf:8: push-capacity -1: invalid push capacity (want a whole number from 0 to 1024); nothing changed"
sed -i 's/^push-capacity = -1$/push-capacity = 4/; s/^max-sessions = 8$/max-sessions = 3/' "$conf"
kill -HUP "${sc_pid[A]}"
wait_for 10 "the bad session limit reported" logged \
  "SIGHUP: $conf:7: max-sessions 3: invalid session limit (want a whole number from 8 to 4096); nothing changed"
[ "$(limits)" = "8 0" ] || fail "a bad reload changed the limits: $(limits)"
note "bad limits change nothing and name file, line and key"
stop_node C
stop_node A
note "PASS config_reload"
