#!/usr/bin/env bash
# metrics_http.sh: the Prometheus endpoint (--metrics-listen): GET /metrics
# gives the stats socket's text, which promtool accepts; other requests get
# their status codes; the limits hold; IPv4, IPv6 and dual-stack; bad and
# busy addresses are usage errors. Then the files of contrib/prometheus
# (promtool check config, check rules, test rules) and contrib/grafana
# (well-formed JSON whose queries parse and name metrics the daemon has).
# The raw clients are Perl programs in single quotes, on purpose:
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

command -v promtool >/dev/null ||
  fail "promtool is required (Debian package prometheus; ./tools/check installs it)"
command -v curl >/dev/null || fail "curl is required (./tools/check installs it)"
command -v perl >/dev/null || fail "perl is required for the raw HTTP clients"

# common.sh sets $top_srcdir.
srcdir=${top_srcdir:?}
contrib=$srcdir/contrib

# metrics_port NAME: the port node NAME logged for its endpoint.
metrics_port() {
  sed -n 's|.* metrics on http://.*:\([0-9]*\)/metrics$|\1|p' \
    "$(log_path "$1")" | tail -n 1
}

# status URL [CURL-OPTION]...: the HTTP status curl gets for URL.
status() {
  local url=$1
  shift
  curl -sS -g -o /dev/null -w '%{http_code}' --max-time 20 "$@" "$url"
}

# raw PORT PERL [ARG]...: runs PERL with $s connected to 127.0.0.1:PORT
# ($ARGV[2] is the first ARG).
raw() {
  perl -MIO::Socket::INET -MTime::HiRes=time -e '
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]",
      Proto => "tcp") or die "connect: $!\n";
    $SIG{ALRM} = sub { die "timeout\n" };
    alarm 30;
    eval $ARGV[1]; die $@ if $@;
  ' "$@"
}

# first_line PORT REQUEST: the status line the daemon answers REQUEST with.
first_line() {
  raw "$1" 'print $s $ARGV[2]; $s->shutdown(1); my $l = <$s>;
    $l =~ s/\r?\n$//; print "$l\n";' "$2" | head -n 1
}

# A publisher, so that the stream metrics have samples too.
start_node A --group demo --publish live --source udp://127.0.0.1:0 \
  --metrics-listen 127.0.0.1:0
port=$(metrics_port A)
[ -n "$port" ] || fail "node A logged no 'metrics on http://...' line"
url=http://127.0.0.1:$port/metrics
note "A serves $url"

# ---- GET /metrics ------------------------------------------------------------
curl -sS --max-time 20 -D "$sc_tmp/head" -o "$sc_tmp/body" "$url" ||
  fail "curl $url failed"
tr -d '\r' <"$sc_tmp/head" >"$sc_tmp/head.txt"
head -n 1 "$sc_tmp/head.txt" | grep -qx 'HTTP/1.1 200 OK' ||
  fail "GET /metrics: $(head -n 1 "$sc_tmp/head.txt")"
grep -qix 'Content-Type: text/plain; version=0.0.4; charset=utf-8' \
  "$sc_tmp/head.txt" || fail "wrong Content-Type: $(cat "$sc_tmp/head.txt")"
length=$(sed -n 's/^Content-Length: //Ip' "$sc_tmp/head.txt")
[ "$length" = "$(wc -c <"$sc_tmp/body")" ] ||
  fail "Content-Length $length, body $(wc -c <"$sc_tmp/body") bytes"
grep -qix 'Connection: close' "$sc_tmp/head.txt" || fail "no Connection: close"
if ! promtool check metrics <"$sc_tmp/body" >"$sc_tmp/promtool.out" 2>&1; then
  cat "$sc_tmp/promtool.out" >&2
  fail "promtool check metrics refused the endpoint's output"
fi
# The same text as the stats socket's: the same metrics, in the same order.
ctl A metrics >"$sc_tmp/socket.txt"
diff <(grep '^#' "$sc_tmp/body") <(grep '^#' "$sc_tmp/socket.txt") ||
  fail "the endpoint's metrics differ from the stats socket's"
grep -q '^stratocast_group_neighbors{group="[0-9a-f]\{16\}"} 0$' \
  "$sc_tmp/body" || fail "no group samples in $(head -c 300 "$sc_tmp/body")"
grep -q '^stratocast_stream_latency_seconds{stream="[0-9a-f]\{16\}"} [0-9]*\.[0-9]\{6\}$' \
  "$sc_tmp/body" || fail "no stream samples in the metrics"
[ "$(status "$url?name%5B%5D=x")" = 200 ] || fail "a query string was refused"
note "GET /metrics: 200, $(wc -c <"$sc_tmp/body") bytes, promtool check metrics passes"

# ---- other requests ----------------------------------------------------------
for path in / /metrics/ /metricsx /favicon.ico; do
  got=$(status "http://127.0.0.1:$port$path")
  [ "$got" = 404 ] || fail "GET $path: $got, want 404"
done
[ "$(status "$url" -X POST -d x=1)" = 405 ] || fail "POST is not 405"
[ "$(status "$url" -I)" = 405 ] || fail "HEAD is not 405"
curl -sS -o /dev/null -D - -X DELETE "$url" | tr -d '\r' |
  grep -qx 'Allow: GET' || fail "405 without Allow: GET"
for req in $'GARBAGE\r\n\r\n' $'GET /metrics\r\n\r\n' \
  $'GET /metrics HTTP/2.0\r\n\r\n' $'GET /metrics HTTP/1.1\r\n folded\r\n\r\n' \
  $'GET /metrics HTTP/1.1\r\nA: \x01\r\n\r\n' $'\x16\x03\x01\x02\x00'; do
  got=$(first_line "$port" "$req")
  [ "$got" = "HTTP/1.1 400 Bad Request" ] ||
    fail "malformed request $(printf '%q' "$req"): '$got'"
done
many=$'GET /metrics HTTP/1.1\r\n'
for ((i = 0; i < 65; i++)); do many+=$'A: b\r\n'; done
got=$(first_line "$port" "$many"$'\r\n')
[ "$got" = "HTTP/1.1 431 Request Header Fields Too Large" ] ||
  fail "65 header lines: '$got'"
big=$'GET /metrics HTTP/1.1\r\nX: '$(head -c 5000 /dev/zero | tr '\0' x)
got=$(first_line "$port" "$big")
[ "$got" = "HTTP/1.1 431 Request Header Fields Too Large" ] ||
  fail "a 5000-byte head: '$got'"
# Sent in pieces, with a bare LF: still one request.
got=$(raw "$port" 'for my $p ("GE", "T /metr", "ics HTTP/1.0\n", "Host: x\n\n") {
    print $s $p; $s->flush; select(undef, undef, undef, 0.05); }
  my $l = <$s>; print $l;' | tr -d '\r')
[ "$got" = "HTTP/1.1 200 OK" ] || fail "a request in pieces: '$got'"
note "404 for other paths, 405 for other methods, 400 malformed, 431 too large"

# ---- limits --------------------------------------------------------------------
# A silent client gets 408 after about 10 s.
silent=$(raw "$port" 'my $t = time; my $l = <$s>; $l =~ s/\r?\n$//;
  printf "%s|%.1f\n", $l, time - $t;')
[ "${silent%|*}" = "HTTP/1.1 408 Request Timeout" ] ||
  fail "silent client: $silent"
awk -v e="${silent#*|}" 'BEGIN { exit !(e >= 9.5 && e <= 15) }' ||
  fail "silent client answered after ${silent#*|} s, want about 10"
# 16 connections are served at once; the 17th gets 503.
out=$(raw "$port" 'my @c; for (1 .. 15) { push @c, IO::Socket::INET->new(
    PeerAddr => "127.0.0.1:$ARGV[0]", Proto => "tcp") or die "connect: $!\n"; }
  select(undef, undef, undef, 0.3);
  my $x = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]",
    Proto => "tcp") or die "connect: $!\n";
  my $l = <$x>; print $l;' | tr -d '\r')
[ "$out" = "HTTP/1.1 503 Service Unavailable" ] ||
  fail "the 17th client got '$out', want 503"
wait_for 10 "the endpoint answers after the clients left" \
  test "$(status "$url")" = 200
note "a silent client gets 408 after ${silent#*|} s; the 17th client gets 503"

# ---- addresses -------------------------------------------------------------------
expect_usage_error "^stratocastd: --metrics-listen 127.0.0.1:$port: cannot bind: Address already in use$" \
  --listen 127.0.0.1:0 --state-dir "$sc_tmp/x" \
  --stats-socket "$sc_tmp/x/stats.sock" --metrics-listen "127.0.0.1:$port"
[ ! -e "$sc_tmp/x/stats.sock" ] || fail "a failed start left its stats socket"
expect_usage_error '^stratocastd: --metrics-listen 127.0.0.1:99999: invalid port' \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:99999
expect_usage_error "^stratocastd: --metrics-listen localhost:9433: invalid address 'localhost'" \
  --listen 127.0.0.1:0 --metrics-listen localhost:9433
expect_usage_error '^stratocastd: --metrics-listen 127.0.0.1: missing port' \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1
printf 'listen = 127.0.0.1:0\nmetrics-listen = [::1]:x\n' >"$sc_tmp/bad.conf"
expect_usage_error "^stratocastd: $sc_tmp/bad.conf:2: metrics-listen \\[::1\\]:x: invalid port" \
  --config "$sc_tmp/bad.conf"

ip -6 addr show lo 2>/dev/null | grep -q '::1' ||
  fail "this machine has no IPv6 loopback (::1)"
# From the config file, on the IPv6 wildcard: dual-stack.
printf 'group = demo\nmetrics-listen = [::]:0\n' >"$sc_tmp/b.conf"
start_node B --config "$sc_tmp/b.conf"
grep -q ' metrics on http://\[::\]:[1-9][0-9]*/metrics$' "$(log_path B)" ||
  fail "B did not log its [::] endpoint"
port_b=$(metrics_port B)
for host in '[::1]' 127.0.0.1; do
  [ "$(status "http://$host:$port_b/metrics")" = 200 ] ||
    fail "B's endpoint on [::] does not answer over $host"
done
note "[::]:$port_b from a config file answers over IPv6 and IPv4"
stop_node B

# ---- contrib/prometheus ------------------------------------------------------------
promtool check config "$contrib/prometheus/prometheus.yml" >"$sc_tmp/p.out" 2>&1 ||
  { cat "$sc_tmp/p.out" >&2; fail "promtool check config prometheus.yml"; }
promtool check rules "$contrib/prometheus/alerts.yml" >"$sc_tmp/p.out" 2>&1 ||
  { cat "$sc_tmp/p.out" >&2; fail "promtool check rules alerts.yml"; }
for alert in StratocastNoNeighbours StratocastDeliveryFalling \
  StratocastForgeriesSeen; do
  grep -q "alert: $alert\$" "$contrib/prometheus/alerts.yml" ||
    fail "alerts.yml has no $alert"
done
# Each alert fires on the series it is for and stays quiet otherwise.
promtool test rules "$srcdir/tests/integration/prometheus_alerts_test.yml" \
  >"$sc_tmp/p.out" 2>&1 ||
  { cat "$sc_tmp/p.out" >&2; fail "promtool test rules"; }
note "contrib/prometheus: check config, check rules and test rules pass"

# ---- contrib/grafana ---------------------------------------------------------------
dash=$contrib/grafana/stratocast-node.json
jq -e '(.title | type == "string") and (.uid | type == "string")
  and (.panels | length > 0)
  and ([.panels[].id] | length == (unique | length))
  and all(.panels[] | select(.type != "row");
          (.targets | length > 0) and .datasource.uid == "${datasource}"
          and (.gridPos | .w > 0 and .h > 0 and .x + .w <= 24))
  and ([.templating.list[].name] | index("instance") != null)' "$dash" \
  >/dev/null || fail "$dash is not a well-formed dashboard"
# Every query parses: as recording rules, with Grafana's variables filled in.
jq -r '.panels[].targets[]?.expr' "$dash" |
  sed -e 's/\$__rate_interval/1m/g' -e 's/\$__range/1h/g' \
    -e 's/\$instance/a/g' -e 's/\$group/.*/g' -e 's/\$stream/.*/g' |
  jq -R -s '{groups: [{name: "dashboard", rules: [split("\n")[] |
    select(length > 0) | {record: "dashboard:query", expr: .}]}]}' \
    >"$sc_tmp/dash-rules.json"
promtool check rules "$sc_tmp/dash-rules.json" >"$sc_tmp/p.out" 2>&1 ||
  { cat "$sc_tmp/p.out" >&2; fail "a dashboard query does not parse"; }
# Every metric the contrib files name is one the daemon exports.
grep -oh 'stratocast_[a-z_]*' "$dash" "$contrib/prometheus/alerts.yml" |
  sort -u >"$sc_tmp/names"
while read -r name; do
  grep -q "^# TYPE $name " "$sc_tmp/body" ||
    fail "contrib names $name, which stratocastd does not export"
done <"$sc_tmp/names"
[ -s "$sc_tmp/names" ] || fail "no metric names found in the contrib files"
note "contrib/grafana: $(jq '[.panels[] | select(.type != "row")] | length' "$dash") panels, every query parses and names real metrics"

stop_node A
note "PASS metrics_http"
