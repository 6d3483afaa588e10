#!/usr/bin/env bash
# api_errors.sh: the API socket's permissions and its answers to bad
# input: invalid JSON, an oversized line, an unknown op, a missing or
# ill-typed field, a group not joined, a feature the group does not allow,
# bad base64, a payload too large, too many connections. Each gets a JSON
# error, the connection stays usable and the daemon carries on. Also:
# join and leave, the id echoed, stratoctl's exit statuses, and the
# socket's path refused when it clashes.
# The raw clients are Perl programs in single quotes, on purpose:
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

trap 'status=$?; if [ "$status" -ne 0 ]; then dump_logs; fi; sc_cleanup; exit "$status"' EXIT

command -v perl >/dev/null || fail "perl is required for the raw socket clients"

# raw NAME PERL: runs PERL with $s connected to NAME's API socket and
# ask(LINE) sending LINE plus "\n" and returning the answer line.
raw() {
  local name=$1 code=$2
  shift 2
  perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0], Type => SOCK_STREAM)
      or die "connect: $!\n";
    $SIG{ALRM} = sub { die "timeout\n" };
    $SIG{PIPE} = "IGNORE";
    alarm 30;
    sub ask { print $s "$_[0]\n"; my $l = <$s>; defined $l or die "EOF\n"; $l }
    eval $ARGV[1]; die $@ if $@;
  ' "$(api_path "$name")" "$code" "$@"
}

# expect LINE FILTER: the answer to LINE on a fresh connection passes the
# jq FILTER.
expect() {
  local out
  out=$(raw A 'print ask($ARGV[2]);' "$1")
  printf '%s\n' "$out" | jq -e "$2" >/dev/null ||
    fail "answer to $1: $out (want $2)"
}

# error_is CODE: a jq filter for an error answer with that code and no id.
error_is() {
  echo "(.error.code == \"$1\") and (.error.message | type == \"string\") and (has(\"id\") | not) and (has(\"ok\") | not)"
}

start_node A --group demo --group 'quiet?features=multicast' \
  --api-socket "$(api_path A)"
sock=$(api_path A)

# ---- permissions ----------------------------------------------------------------
[ -S "$sock" ] || fail "$sock is not a socket"
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] || fail "socket mode is $mode, want 600"
mode=$(stat -c %a "$(dirname "$sock")")
[ "$mode" = 700 ] || fail "socket directory mode is $mode, want 700"
note "API socket 600 in a 700 directory"

# ---- bad input, one line each ---------------------------------------------------
expect '{"op":"ping"' "$(error_is invalid_json)"
expect 'hello' "$(error_is invalid_json)"
expect '{"op":"ping",}' "$(error_is invalid_json)"
expect '[1,2]' "$(error_is bad_request)"
expect '{"id":7}' '.id == 7 and .error.code == "bad_request"'
expect '{"op":"frobnicate","id":"q"}' \
  '.id == "q" and .error.code == "unknown_op" and (.error.message | test("frobnicate"))'
expect '{"op":"post","group":"demo"}' "$(error_is bad_request)"
expect '{"op":"post","group":7,"text":"x"}' "$(error_is bad_request)"
expect '{"op":"post","group":"demo","text":"x","colour":"red"}' "$(error_is bad_request)"
expect '{"op":"ping","op":"ping"}' "$(error_is bad_request)"
expect '{"op":"ping","id":{"a":1}}' "$(error_is bad_request)"
expect '{"op":"post","group":"nope","text":"x","id":1}' \
  '.id == 1 and .error.code == "not_joined"'
expect '{"op":"subscribe","group":"nope"}' "$(error_is not_joined)"
expect '{"op":"post","group":"quiet?features=multicast","text":"x"}' \
  "$(error_is not_allowed)"
expect '{"op":"post","group":"demo","data":"aGVsbG8"}' "$(error_is bad_base64)"
expect '{"op":"post","group":"demo","data":"aGV$bG8="}' "$(error_is bad_base64)"
long=$(head -c 901 /dev/zero | tr '\0' x)
expect "{\"op\":\"post\",\"group\":\"demo\",\"text\":\"$long\"}" "$(error_is too_large)"
big=$(head -c 901 /dev/zero | base64 -w0)
expect "{\"op\":\"post\",\"group\":\"demo\",\"data\":\"$big\"}" "$(error_is too_large)"
big=$(head -c 3000 /dev/zero | base64 -w0)
expect "{\"op\":\"post\",\"group\":\"demo\",\"data\":\"$big\"}" "$(error_is too_large)"
full=$(head -c 900 /dev/urandom | base64 -w0)
expect "{\"op\":\"post\",\"group\":\"demo\",\"data\":\"$full\"}" '.ok == true'
expect '{"op":"join","group":"bad?colour=red"}' "$(error_is bad_group)"
expect '{"op":"join","group":"demo"}' "$(error_is already_joined)"
expect '{"op":"route","group":"demo"}' "$(error_is bad_request)"
expect '{"op":"want","group":"demo","first":-1,"count":2}' "$(error_is bad_request)"
expect '{"op":"read","group":"demo","index":7}' "$(error_is not_found)"
note "invalid JSON, unknown op, bad fields, not joined, not allowed, bad base64, too large: JSON errors"

# ---- one connection through all of it --------------------------------------------
out=$(raw A '
  my @a;
  push @a, ask("{bad");
  print $s "{\"op\":\"ping\",\"pad\":\"" . ("x" x 70000) . "\"}\n";
  push @a, scalar <$s>;
  push @a, ask("{\"op\":\"ping\",\"id\":\"after\"}");
  print join("", @a);
')
printf '%s\n' "$out" | jq -s -e '
  length == 3 and .[0].error.code == "invalid_json"
  and .[1].error.code == "line_too_long"
  and .[2].id == "after" and .[2].ok == true
  and (.[2].peer_id | test("^[0-9a-f]{64}$"))
' >/dev/null || fail "one connection: $out"
note "after invalid JSON and a 70 kB line, the same connection answers"

# ---- join, post, leave ---------------------------------------------------------------
expect '{"op":"join","group":"room?features=posting","id":1}' \
  '.id == 1 and .ok == true and .index == 2 and (.group_id | test("^[0-9a-f]{64}$"))'
ctl A show groups | jq -e 'length == 3 and .[2].name == "room"' >/dev/null ||
  fail "show groups after join: $(ctl A show groups)"
api A post 'room?features=posting' "a post to nobody" ||
  fail "stratoctl post to a joined group failed"
expect '{"op":"leave","group":"room?features=posting"}' '.ok == true'
expect '{"op":"leave","group":"room?features=posting"}' "$(error_is not_joined)"
ctl A show groups | jq -e 'length == 2' >/dev/null ||
  fail "show groups after leave: $(ctl A show groups)"
note "join, post and leave through the API; show groups follows"

# ---- stratoctl's exit statuses ------------------------------------------------------
status=0
api A post nope hello 2>"$sc_tmp/err" || status=$?
{ [ "$status" -eq 1 ] && grep -q 'not_joined' "$sc_tmp/err"; } ||
  fail "stratoctl post to a group not joined: exit $status, $(cat "$sc_tmp/err")"
status=0
api A post demo "$long" 2>"$sc_tmp/err" || status=$?
{ [ "$status" -eq 1 ] && grep -q 'too_large' "$sc_tmp/err"; } ||
  fail "stratoctl post of 901 bytes: exit $status, $(cat "$sc_tmp/err")"
status=0
api A listen -n 1 -t 0.3 demo >"$sc_tmp/out" 2>"$sc_tmp/err" || status=$?
{ [ "$status" -eq 1 ] && [ ! -s "$sc_tmp/out" ]; } ||
  fail "stratoctl listen with no post: exit $status"
status=0
api A listen 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "stratoctl listen without a group: exit $status"
status=0
"$STRATOCTL" -a "$sc_tmp/none.sock" post demo x 2>/dev/null || status=$?
[ "$status" -eq 1 ] || fail "stratoctl post without a daemon: exit $status"
note "stratoctl post and listen: exit 1 on an error answer or a timeout, 2 on misuse"

# ---- too many connections ----------------------------------------------------------
out=$(raw A '
  my @c = ($s);
  ask("{\"op\":\"ping\"}") =~ /"ok":true/ or die "connection 1\n";
  for (2 .. 65) {
    my $c = IO::Socket::UNIX->new(Peer => $ARGV[0], Type => SOCK_STREAM)
      or die "connect: $!\n";
    if ($_ == 65) { print scalar <$c> // "EOF\n"; last; }
    print $c "{\"op\":\"ping\"}\n";
    my $l = <$c> // "EOF\n";
    $l =~ /"ok":true/ or die "connection $_: $l";
    push @c, $c;
  }
')
printf '%s\n' "$out" | jq -e '.error.code == "too_many_clients"' >/dev/null ||
  fail "the 65th connection: $out"
note "the 65th connection is refused with a JSON error"

# ---- the daemon carries on ---------------------------------------------------------
expect '{"op":"ping","id":"end"}' '.id == "end" and .ok == true'
[ "$(info A state)" = running ] || fail "the daemon is not running"

# ---- the socket's path -------------------------------------------------------------
expect_usage_error 'another stratocastd is answering' --listen 127.0.0.1:0 \
  --state-dir "$sc_tmp/B" --stats-socket "$sc_tmp/B/stats.sock" \
  --api-socket "$sock"
expect_usage_error 'the stats socket has this path already' \
  --listen 127.0.0.1:0 --state-dir "$sc_tmp/B" \
  --stats-socket "$sc_tmp/B/x.sock" --api-socket "$sc_tmp/B/x.sock"
stop_node A
[ ! -e "$sock" ] || fail "the API socket was left behind"
note "PASS api_errors"
