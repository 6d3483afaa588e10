#!/usr/bin/env bash
# netns_nat.sh: nodes on separate hosts, two of them behind NAT, made of
# network namespaces joined by veth pairs and a bridge (as root).
#
#   [x] 192.168.1.2 -- 192.168.1.1 [r1] 10.0.0.11 --+
#                                                    +-- br0 [wan] 10.0.0.1: B
#   [y] 192.168.2.2 -- 192.168.2.1 [r2] 10.0.0.12 --+
#
# r1 and r2 masquerade with nftables: X and Y cannot reach each other's
# private address, and each NAT drops what comes in unasked, as a home
# router does (dropped before conntrack confirms it, so an unasked packet
# leaves no entry that would make the NAT pick another port later). B, on the
# public side, is the bootstrap of both; all three join group "nat". X
# publishes a stream and Y plays it. X and Y learn of each other from B's
# membership reports; their direct handshakes fail at first (the other's
# NAT drops them) until B introduces them (doc/protocol.md §11.3.5) and
# both send at once. The test checks that X and Y hold a session with
# each other at the NATs' public addresses, and that once B is gone Y
# keeps playing the stream, its bytes coming over that session.
#
# It needs root, `ip netns` and nftables; without them it is skipped (77)
# with the reason.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

skip() {
  echo "SKIP netns_nat: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root to make network namespaces"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v nft >/dev/null || skip "no nft (nftables; ./tools/check installs it)"

tag=sc$$
W=${tag}w R1=${tag}r1 R2=${tag}r2 X=${tag}x Y=${tag}y
spaces=("$W" "$R1" "$R2" "$X" "$Y")
ip netns add "$W" 2>/dev/null || skip "this machine forbids network namespaces"
ip netns del "$W"

teardown() {
  local status=$? ns
  if [ "$status" -ne 0 ]; then
    sc_print_tails
  fi
  sc_cleanup
  for ns in "${spaces[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  exit "$status"
}
trap teardown EXIT

in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# ---- the networks ------------------------------------------------------------
for ns in "${spaces[@]}"; do
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
done
in_ns "$W" ip link add br0 type bridge
in_ns "$W" ip addr add 10.0.0.1/24 dev br0
in_ns "$W" ip link set br0 up

# nat_host R HOST WAN_IP LAN_NET: router R with a WAN leg on br0 and a LAN
# leg to HOST, which uses R as its gateway; R masquerades the LAN.
nat_host() {
  local r=$1 h=$2 wan=$3 lan=$4
  ip link add wan0 netns "$r" type veth peer name "p$r" netns "$W"
  in_ns "$W" ip link set "p$r" master br0 up
  in_ns "$r" ip addr add "$wan/24" dev wan0
  in_ns "$r" ip link set wan0 up
  ip link add lan0 netns "$r" type veth peer name eth0 netns "$h"
  in_ns "$r" ip addr add "$lan.1/24" dev lan0
  in_ns "$r" ip link set lan0 up
  in_ns "$h" ip addr add "$lan.2/24" dev eth0
  in_ns "$h" ip link set eth0 up
  in_ns "$h" ip route add default via "$lan.1"
  in_ns "$r" sysctl -q -w net.ipv4.ip_forward=1
  in_ns "$r" nft -f - <<EOF
table ip nat {
  chain pre {
    type filter hook prerouting priority -150;
    iifname "wan0" ct state new drop
  }
  chain post {
    type nat hook postrouting priority 100;
    oifname "wan0" masquerade
  }
}
EOF
}
nat_host "$R1" "$X" 10.0.0.11 192.168.1
nat_host "$R2" "$Y" 10.0.0.12 192.168.2
# X routes to B through r1; the public side has no route to X's or Y's
# private network.
in_ns "$X" ip route get 10.0.0.1 | grep -q "via 192.168.1.1" ||
  fail "x has no route to B through r1"
in_ns "$W" ip route get 192.168.1.2 >/dev/null 2>&1 &&
  fail "the public side has a route to x's private address"
note "two hosts behind masquerading NATs, a bootstrap on the public side"

# ---- the nodes ---------------------------------------------------------------
# start NS NAME OUT ARGS...: stratocastd in namespace NS, stdout to OUT.
start() {
  local ns=$1 name=$2 out=$3
  shift 3
  # ip execs the daemon: the PID is the daemon's, for stop_node.
  ip netns exec "$ns" "$STRATOCASTD" --state-dir "$(state_dir "$name")" \
    --stats-socket "$(sock_path "$name")" --log-level debug "$@" \
    >"$out" 2>>"$(log_path "$name")" &
  sc_pid[$name]=$!
  await_node "$name"
}

head -c 2000000 /dev/urandom >"$sc_tmp/source.bin"
start "$W" B /dev/null --listen 10.0.0.1:4433 --group nat
start "$X" X /dev/null --listen 0.0.0.0:4433 --group nat \
  --bootstrap 10.0.0.1:4433 --publish live --source "file:$sc_tmp/source.bin" \
  --rate 400k
key=$(grep -o 'stream key [0-9a-f]*' "$(log_path X)" | awk '{print $3}')
[ ${#key} -eq 64 ] || fail "X logged no stream key"
start "$Y" Y "$sc_tmp/played.bin" --listen 0.0.0.0:4433 --group nat \
  --bootstrap 10.0.0.1:4433 --play live --publisher "$key"
id_x=$(info X peer_id)
id_y=$(info Y peer_id)

# session_with NAME PEER_ID: NAME's established session with PEER_ID, as
# JSON, or nothing.
session_with() {
  ctl "$1" show sessions | jq -c --arg p "$2" \
    '.[] | select(.peer_id == $p and .state == "established")'
}
linked() {
  [ -n "$(session_with X "$id_y")" ] && [ -n "$(session_with Y "$id_x")" ]
}
wait_for 40 "X and Y holding a session with each other" linked
sx=$(session_with Y "$id_x")
note "Y's session with X: $sx"
echo "$sx" | jq -e '.address | startswith("10.0.0.11:")' >/dev/null ||
  fail "Y reaches X elsewhere than X's NAT: $sx"
session_with X "$id_y" | jq -e '.address | startswith("10.0.0.12:")' >/dev/null ||
  fail "X reaches Y elsewhere than Y's NAT: $(session_with X "$id_y")"
grep -q "INTRODUCE\|introduc" "$(log_path B)" "$(log_path X)" "$(log_path Y)" &&
  note "(an introduction is in the logs)"

# The stream may reach Y through B at first. Once B, the only public node,
# is gone, Y keeps playing with what comes on its session with X.
played() {
  ctl Y show streams | jq -e '.[0].fragments_played > 100' >/dev/null
}
wait_for 40 "Y playing 100 fragments" played
stop_node B
sleep 3
d0=$(session_with Y "$id_x" | jq '.bytes_received')
p0=$(ctl Y show streams | jq '.[0].bytes_played')
sleep 8
d1=$(session_with Y "$id_x" | jq '.bytes_received')
p1=$(ctl Y show streams | jq '.[0].bytes_played')
note "over 8 s Y played $((p1 - p0)) bytes; $((d1 - d0)) came on its session with X"
[ $((p1 - p0)) -gt 100000 ] || fail "Y played only $((p1 - p0)) bytes in 8 s"
[ $((d1 - d0)) -ge $(((p1 - p0) / 2)) ] ||
  fail "only $((d1 - d0)) of $((p1 - p0)) bytes came straight from X"
session_with Y "$id_x" | jq -e '.address | startswith("10.0.0.11:")' \
  >/dev/null || fail "Y's session with X moved: $(session_with Y "$id_x")"
[ "$(stat -c %s "$sc_tmp/played.bin")" -gt 0 ] || fail "Y's output is empty"
note "X and Y, each behind NAT, met through B and exchange the stream directly"
for n in Y X; do
  stop_node "$n"
done
note "PASS netns_nat"
