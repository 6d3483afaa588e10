#!/usr/bin/env bash
# stats_socket.sh: the stats socket's permissions, commands, answers and
# limits, and stratoctl's exit statuses.
# The raw clients are Perl programs in single quotes, on purpose:
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

command -v perl >/dev/null || fail "perl is required for the raw socket clients"

# raw NAME PERL: runs PERL with $s connected to NAME's stats socket.
raw() {
  perl -MIO::Socket::UNIX -MTime::HiRes=time -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0], Type => SOCK_STREAM)
      or die "connect: $!\n";
    $SIG{ALRM} = sub { die "timeout\n" };
    alarm 30;
    eval $ARGV[1]; die $@ if $@;
  ' "$(sock_path "$1")" "$2"
}

start_node A --group demo
sock=$(sock_path A)

# ---- permissions ----------------------------------------------------------
[ -S "$sock" ] || fail "$sock is not a socket"
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] || fail "socket mode is $mode, want 600"
mode=$(stat -c %a "$(dirname "$sock")")
[ "$mode" = 700 ] || fail "socket directory mode is $mode, want 700"
note "socket 600 in a 700 directory"

# ---- JSON answers ---------------------------------------------------------
for cmd in "show info" "show sessions" "show groups" "show neighbors" \
  "show history" "help"; do
  # shellcheck disable=SC2086 # split the command into words on purpose
  out=$(ctl A $cmd)
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "'$cmd' is not one line"
  printf '%s\n' "$out" | jq -e . >/dev/null || fail "'$cmd' is not JSON"
done
ctl A show info | jq -e '
  (.version | type == "string") and (.peer_id | test("^[0-9a-f]{64}$"))
  and (.listen | test("^127\\.0\\.0\\.1:[1-9][0-9]*$"))
  and (.uptime_s | type == "number") and .sessions == 0
  and .sessions_established == 0 and .state == "running"
  and (.counters | has("packets_received") and has("bytes_sent")
       and has("handshakes_completed") and has("packets_retransmitted"))
  and (.counters.dropped | has("truncated") and has("replay")
       and has("amplification"))
' >/dev/null || fail "show info lacks fields: $(ctl A show info)"
ctl A show sessions | jq -e 'type == "array" and length == 0' >/dev/null ||
  fail "show sessions of a lone node is not []"
ctl A show groups | jq -e '
  length == 1 and (.[0] | .name == "demo"
  and (.group_id | test("^[0-9a-f]{64}$")) and (.address | test("^[0-9a-f]{64}$"))
  and .features == ["multicast", "posting", "routing", "replication"]
  and .has_secret == false and .members_known == 0 and .neighbors == 0
  and (.estimated_members | type == "number") and (.target | type == "number")
  and has("hellos_refused") and has("reports_sent") and has("sheds"))
' >/dev/null || fail "show groups: $(ctl A show groups)"
# The NetGroupInfo rates: null until two samples a second apart, then
# every rate, 0 on a lone node; the posting counters are there too.
for _ in $(seq 1 100); do
  ctl A show groups | jq -e '.[0].rates != null' >/dev/null && break
  sleep 0.1
done
ctl A show groups | jq -e '.[0] | (.rates | length == 8
  and .posting_send_data_bytes_per_s == 0
  and .posting_receive_control_bytes_per_s == 0
  and .routing_send_bytes_per_s == 0 and .replication_receive_bytes_per_s == 0)
  and .posts_sent == 0 and .routes_received == 0 and .objects_fetched == 0
  and .post_data_bytes_sent == 0' >/dev/null ||
  fail "show groups lacks the rates or the messaging counters: $(ctl A show groups)"
ctl A show neighbors | jq -e '. == []' >/dev/null ||
  fail "show neighbors of a lone node is not []"
ctl A show history | jq -e '. == []' >/dev/null ||
  fail "show history of a new node is not []"
ctl A help | jq -e '.commands | index("show info") and index("metrics")
  and index("show groups") and index("show neighbors") and index("show history")' \
  >/dev/null || fail "help does not list the commands"
note "show info, sessions, groups, neighbors, history and help answer one-line JSON"

# ---- unknown command ------------------------------------------------------
status=0
out=$(ctl A show "fr\"ob") || status=$?
[ "$status" -eq 1 ] || fail "stratoctl exit $status for an unknown command"
printf '%s\n' "$out" | jq -e '.error == "unknown command" and
  .command == "show fr\"ob"' >/dev/null ||
  fail "unexpected answer to an unknown command: $out"
note "unknown command: JSON error, stratoctl exit 1"

# ---- metrics --------------------------------------------------------------
metrics=$(ctl A metrics)
[ "$(printf '%s\n' "$metrics" | tail -n 1)" = "# EOF" ] ||
  fail "metrics does not end with '# EOF'"
bad=$(printf '%s\n' "$metrics" | grep -v '^#' |
  grep -Ev '^stratocast_[a-z_]+(\{[^}]*\})? [0-9.e+-]+$' || true)
[ -z "$bad" ] || fail "metrics lines not in the text format: $bad"
bad=$(printf '%s\n' "$metrics" | grep '^#' |
  grep -Ev '^# (HELP|TYPE) stratocast_[a-z_]+ .+$|^# EOF$' || true)
[ -z "$bad" ] || fail "bad comment lines in metrics: $bad"
for name in $(printf '%s\n' "$metrics" | grep -v '^#' | sed 's/[{ ].*//' |
  sort -u); do
  grep -q "^# HELP $name " <<<"$metrics" ||
    fail "metric $name has no # HELP"
  grep -Eq "^# TYPE $name (counter|gauge)$" <<<"$metrics" ||
    fail "metric $name has no # TYPE"
done
for want in 'stratocast_info{version="' stratocast_uptime_seconds \
  'stratocast_sessions{state="handshake"}' \
  'stratocast_sessions{state="established"}' \
  'stratocast_sessions{state="closing"}' \
  stratocast_packets_received_total stratocast_packets_sent_total \
  stratocast_bytes_received_total stratocast_bytes_sent_total \
  stratocast_send_errors_total 'stratocast_packets_dropped_total{reason="truncated"}' \
  'stratocast_packets_dropped_total{reason="amplification"}' \
  'stratocast_handshakes_total{result="started"}' \
  'stratocast_handshakes_total{result="completed"}' \
  'stratocast_handshakes_total{result="failed"}' \
  stratocast_cookie_challenges_sent_total stratocast_sessions_replaced_total \
  stratocast_sessions_timed_out_total stratocast_path_migrations_total \
  stratocast_packets_lost_total stratocast_packets_retransmitted_total \
  stratocast_rtt_seconds 'stratocast_group_members_known{group="' \
  stratocast_group_estimated_members stratocast_group_neighbors \
  stratocast_group_neighbor_target stratocast_group_hellos_refused_total \
  stratocast_group_sheds_total stratocast_history_flushes_total \
  stratocast_history_flush_errors_total stratocast_history_pending; do
  grep -qF "$want" <<<"$metrics" || fail "metrics lacks $want"
done
if grep -v '^#' <<<"$metrics" | grep -Eq '\{[^}]*peer'; then
  fail "metrics have a peer label"
fi
gid=$(ctl A show groups | jq -r '.[0].group_id')
grep -q "^stratocast_group_neighbors{group=\"${gid:0:16}\"} 0$" <<<"$metrics" ||
  fail "the group label is not the ID's first 16 hex characters"
note "metrics: $(printf '%s\n' "$metrics" | grep -vc '^#') samples in the text format"

# ---- several commands on one connection -----------------------------------
out=$(raw A 'print $s "help\r\n  show   info \n\nmetrics"; $s->shutdown(1);
  print while <$s>;')
[ "$(printf '%s\n' "$out" | sed -n 1p | jq -r '.commands[0]')" = "show info" ] ||
  fail "first pipelined answer is not help: $out"
printf '%s\n' "$out" | sed -n 2p | jq -e '.peer_id' >/dev/null ||
  fail "second pipelined answer is not show info"
[ "$(printf '%s\n' "$out" | tail -n 1)" = "# EOF" ] ||
  fail "a last command without newline was not answered"
note "pipelined commands, CRLF and a last line without newline"

# ---- an overlong line -----------------------------------------------------
long=$(head -c 2000 /dev/zero | tr '\0' x)
status=0
out=$(ctl A "$long") || status=$?
[ "$status" -eq 1 ] || fail "stratoctl exit $status for an overlong line"
printf '%s\n' "$out" | jq -e '.error == "line too long"' >/dev/null ||
  fail "overlong line answered with: $out"
# Exactly 1024 bytes is still a command (an unknown one).
out=$(ctl A "$(head -c 1024 /dev/zero | tr '\0' y)") || true
printf '%s\n' "$out" | jq -e '.error == "unknown command"' >/dev/null ||
  fail "a 1024-byte line was refused: $out"
# The daemon closes a client after an overlong line, without waiting for
# its end of input.
out=$(raw A 'print $s ("z" x 1500) . "\nhelp\n"; my $t = time; my $a = "";
  $a .= $_ while <$s>; printf "%s%.1f\n", $a, time - $t;')
printf '%s\n' "$out" | head -n 1 | jq -e '.error == "line too long"' \
  >/dev/null || fail "no error for an overlong line on a raw client: $out"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] ||
  fail "commands after an overlong line were answered: $out"
note "overlong line: JSON error, then the connection ends"

# ---- a silent client is dropped -------------------------------------------
elapsed=$(raw A 'my $t = time; my $n = sysread($s, my $buf, 100);
  die "got data: $buf\n" if $n; printf "%.1f\n", time - $t;')
awk -v e="$elapsed" 'BEGIN { exit !(e >= 9.5 && e <= 15) }' ||
  fail "silent client dropped after $elapsed s, want about 10"
note "silent client dropped after $elapsed s"

# ---- at most 64 clients ----------------------------------------------------
# $s is the first client; 63 more make 64, and the next one is refused.
out=$(raw A 'my @c; for (1 .. 63) {
    push @c, IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n"; }
  my $x = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n";
  print scalar <$x>;')
printf '%s\n' "$out" | jq -e '.error == "too many clients"' >/dev/null ||
  fail "the 65th client was not refused: $out"
ctl A help >/dev/null || fail "the daemon does not answer after the clients left"
note "the 65th client is refused; the daemon recovers"

# ---- live and stale sockets -------------------------------------------------
status=0
"$STRATOCASTD" --listen 127.0.0.1:0 --state-dir "$sc_tmp/other" \
  --stats-socket "$sock" 2>"$sc_tmp/other.err" || status=$?
[ "$status" -eq 2 ] || fail "second daemon on a live socket: exit $status"
grep -q "another stratocastd is answering" "$sc_tmp/other.err" ||
  fail "unexpected message: $(cat "$sc_tmp/other.err")"
ctl A help >/dev/null || fail "the first daemon lost its socket"

kill -KILL "${sc_pid[A]}"
{ wait "${sc_pid[A]}" || true; } 2>/dev/null
[ -S "$sock" ] || fail "no stale socket after kill -9"
start_node A
ctl A show info >/dev/null || fail "restart over a stale socket failed"
note "a live socket is refused, a stale one replaced"
stop_node A

# ---- stratoctl without a daemon ---------------------------------------------
status=0
"$STRATOCTL" -s "$sock" show info 2>"$sc_tmp/ctl.err" || status=$?
[ "$status" -eq 1 ] || fail "stratoctl exit $status without a daemon"
if ! grep -qF "stratoctl: cannot connect to $sock: " "$sc_tmp/ctl.err" ||
  ! grep -qF "(is stratocastd running?)" "$sc_tmp/ctl.err"; then
  fail "unexpected message: $(cat "$sc_tmp/ctl.err")"
fi
status=0
STRATOCAST_STATS_SOCKET=$sock "$STRATOCTL" help 2>/dev/null || status=$?
[ "$status" -eq 1 ] || fail "\$STRATOCAST_STATS_SOCKET was not used"
status=0
"$STRATOCTL" 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "stratoctl without a command: exit $status"
note "stratoctl: exit 1 without a daemon, 2 on usage errors"
note "PASS stats_socket"
