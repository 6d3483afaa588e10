#!/usr/bin/env bash
# config_reload.sh: SIGHUP reads the command line and the config file
# again. The log level applies at once; another changed key is reported as
# needing a restart; a file that no longer loads changes nothing and is
# reported with its file, line and key; the daemon answers throughout.
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
# Not start_node: it sets --log-level on the command line, which would
# override the file's.
"$STRATOCASTD" --config "$conf" >>"$(log_path A)" 2>&1 &
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
stop_node A
note "PASS config_reload"
