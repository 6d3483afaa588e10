#!/usr/bin/env bash
# stream_ffmpeg.sh: a live stream through real daemons on loopback. ffmpeg
# encodes a 2 Mbit/s MPEG-TS test pattern (H.264 and AAC) in real time into
# a broadcaster's stdin; 20 relays each play it to a file, and one more
# serves it over HTTP to curl. After 30 s of stream every output must be
# byte-identical to what the broadcaster read, from its tune-in point to
# the end, and ffprobe must decode every output without an error.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for tool in ffmpeg ffprobe curl perl; do
  command -v "$tool" >/dev/null ||
    fail "$tool is required (./tools/check installs it)"
done

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

RELAYS=${RELAYS:-20}
SECONDS_OF_STREAM=${SECONDS_OF_STREAM:-30}
out_dir=$sc_tmp/out
mkdir -p "$out_dir"

# start_player NAME OUT [OPTION]...: a daemon whose stdout (its sink) goes
# to OUT and whose log goes to its log file.
start_player() {
  local name=$1 out=$2
  shift 2
  "$STRATOCASTD" --listen 127.0.0.1:0 --state-dir "$(state_dir "$name")" \
    --stats-socket "$(sock_path "$name")" --log-level info "$@" \
    >"$out" 2>>"$(log_path "$name")" &
  sc_pid[$name]=$!
  await_node "$name"
}

# The broadcaster reads ffmpeg's output from stdin, through a FIFO that
# tee also copies to source.ts: exactly the bytes it read.
fifo=$sc_tmp/feed
mkfifo "$fifo"
"$STRATOCASTD" --listen 127.0.0.1:0 --state-dir "$(state_dir P)" \
  --stats-socket "$(sock_path P)" --log-level info --group tv \
  --publish live --source - <"$fifo" >/dev/null 2>>"$(log_path P)" &
sc_pid[P]=$!
exec 3>"$fifo" # keeps the FIFO open until ffmpeg starts writing
for ((i = 0; i < 100; i++)); do
  ctl P help >/dev/null 2>&1 && break
  sleep 0.1
done
ctl P help >/dev/null || fail "broadcaster did not start"
addr_p=$(info P listen)
key=$(grep -o 'stream key [0-9a-f]*' "$(log_path P)" | awk '{print $3}')
[ ${#key} -eq 64 ] || fail "broadcaster logged no stream key"

for ((r = 1; r <= RELAYS; r++)); do
  start_player "R$r" "$out_dir/R$r.ts" --group tv --bootstrap "$addr_p" \
    --play live --publisher "$key"
done
http_port=$((20000 + RANDOM % 20000))
start_player H "$out_dir/H.log" --group tv --bootstrap "$addr_p" \
  --play live --sink "http://127.0.0.1:$http_port/"
note "broadcaster at $addr_p, $RELAYS relays and an HTTP node up"
sleep 3 # the mesh forms

# In a subshell, so that (under pipefail) waiting for it sees ffmpeg fail.
(ffmpeg -hide_banner -loglevel error -re \
  -f lavfi -i testsrc2=size=640x360:rate=25 \
  -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t "$SECONDS_OF_STREAM" -c:v libx264 -preset veryfast -tune zerolatency \
  -b:v 1600k -maxrate 1600k -bufsize 800k -g 25 -keyint_min 25 \
  -c:a aac -b:a 96k -f mpegts -mpegts_flags +pat_pmt_at_frames \
  -muxrate 2000k pipe:1 2>"$sc_tmp/ffmpeg.log" |
  tee "$sc_tmp/source.ts" >&3) &
ff_pid=$!
exec 3>&-
# A player over HTTP joins a few seconds in.
sleep 5
curl -s --max-time $((SECONDS_OF_STREAM + 5)) -o "$out_dir/http.ts" \
  "http://127.0.0.1:$http_port/" &
curl_pid=$!
wait "$ff_pid" || fail "ffmpeg failed: $(cat "$sc_tmp/ffmpeg.log")"
note "ffmpeg done: $(stat -c %s "$sc_tmp/source.ts") bytes published"
sleep 3 # the last fragments reach everyone
ctl R1 show streams | jq -c '.[0] | {latest_seq, pushers, fragments_pushed_from_peers, fragments_pulled_from_peers, duplicates, gaps, latency_ms}' >&2
# The stats socket tells the same story: every relay played, none skipped
# a gap or saw a forgery; the broadcaster published and pushed.
for ((r = 1; r <= RELAYS; r++)); do
  ctl "R$r" show streams | jq -e --arg key "$key" '
    length == 1 and .[0].publisher == $key and (.[0].roles | index("playing"))
    and .[0].fragments_played > 1000 and .[0].gaps == 0
    and .[0].forgeries == 0' >/dev/null ||
    fail "R$r: show streams: $(ctl "R$r" show streams)"
done
ctl P show streams | jq -e '.[0].roles == ["publisher"]
  and .[0].fragments_from_source > 1000
  and .[0].fragments_pushed_to_peers > 1000' >/dev/null ||
  fail "P: show streams: $(ctl P show streams)"
# Captured first: grep -q stops reading at its match, and under pipefail
# the writer's SIGPIPE would fail the check.
metrics=$(ctl R1 metrics)
grep -q '^stratocast_stream_fragments_played_total{stream="' <<<"$metrics" ||
  fail "R1: no stream metrics"
for ((r = 1; r <= RELAYS; r++)); do
  stop_node "R$r"
done
stop_node H
wait "$curl_pid" || true
stop_node P

# same_tail OUT: OUT must be a run of source.ts that starts on a TS packet
# and ends where the source ends. Prints the tune-in offset.
same_tail() {
  perl -e '
    local $/; open my $s, "<", $ARGV[0] or die; my $src = <$s>;
    open my $o, "<", $ARGV[1] or die; my $out = <$o>;
    die "empty\n" if length($out) < 188 * 7;
    my $at = index($src, substr($out, 0, 188 * 7));
    die "start not found in the source\n" if $at < 0;
    die "start not on a TS packet\n" if $at % 188 != 0;
    die "bytes differ\n" if substr($src, $at, length $out) ne $out;
    die sprintf("ends %d bytes before the source\n",
                length($src) - $at - length($out))
      if $at + length($out) != length($src);
    print $at;' "$sc_tmp/source.ts" "$1"
}

src_len=$(stat -c %s "$sc_tmp/source.ts")
[ "$src_len" -gt $((SECONDS_OF_STREAM * 200000)) ] ||
  fail "the source is only $src_len bytes"
for f in "$out_dir"/R*.ts "$out_dir/http.ts"; do
  at=$(same_tail "$f" 2>&1) || fail "$(basename "$f"): $at"
  # Tuned in within the first 5 s (the HTTP client within 10 s).
  [ "$at" -lt $((10 * 250000)) ] || fail "$(basename "$f") tuned in late: $at"
  errs=$(ffprobe -v error -show_entries stream=codec_type -of csv "$f" 2>&1 >/dev/null)
  [ -z "$errs" ] || fail "ffprobe on $(basename "$f"): $errs"
  counted=$(ffprobe -v error -count_frames -select_streams v:0 \
    -show_entries stream=nb_read_frames -of csv=p=0 "$f")
  [[ $counted =~ ([0-9]+) ]] || fail "$(basename "$f"): no video frames"
  frames=${BASH_REMATCH[1]}
  [ "$frames" -ge $(((SECONDS_OF_STREAM - 10) * 25)) ] ||
    fail "$(basename "$f"): only $frames video frames decode"
done
note "$RELAYS relay outputs and the HTTP output match the source from their tune-in points and decode cleanly"
