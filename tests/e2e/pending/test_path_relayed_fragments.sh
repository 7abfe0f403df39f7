#!/usr/bin/env bash
# test_path_relayed_fragments.sh - issue 12: a frame larger than one datagram
# sent through the root must still read as relayed on arrival. Two members
# behind symmetric NATs (no direct path is possible), network MTU 2800 (the
# default: a 2000-byte ping is two underlay fragments). The root bumps the hop
# count of each fragment; after reassembly the inner packet must not look
# direct (hops 0), or the receiver learns the root's endpoint as a direct path
# to the peer. Asserts, sampling `zt-cli -j peers` on both members every 0.5 s
# for 15 s while 2000-byte overlay pings run both ways: the link is RELAY in
# every sample and no path to the peer is a root's endpoint.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "${HERE%/pending}/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh
. tests/e2e/paths.sh

SAMPLE_S=15

lab_init
paths_lab symmetric symmetric
mtu=$(zt_net_field m1 "$PATHS_NWID" mtu)
echo "figure: two members behind symmetric NATs, network MTU $mtu"
[ "$mtu" -ge 2100 ] || paths_fail "network MTU $mtu: a 2000-byte ping would not fit one frame"
A1=${PATHS_ADDR[m1]} A2=${PATHS_ADDR[m2]}
lab_wait 20 lab_exec m1 ping -c 1 -W 2 -s 2000 "${PATHS_IP[m2]}" >/dev/null || paths_fail "no 2000-byte overlay ping m1 -> m2"

lab_bg m1 bgping-12 ping -n -i 0.2 -w "$((SAMPLE_S + 3))" -s 2000 "${PATHS_IP[m2]}"
lab_bg m2 bgping-21 ping -n -i 0.2 -w "$((SAMPLE_S + 3))" -s 2000 "${PATHS_IP[m1]}"
t0=$(zt_now_ms)
samples=0 not_relay=0 root_ep=0 first_bad=
declare -A seen
while [ $(($(zt_now_ms) - t0)) -lt $((SAMPLE_S * 1000)) ]; do
	for pair in "m1 $A2" "m2 $A1"; do
		set -- $pair
		l=$(zt_link "$1" "$2")
		samples=$((samples + 1))
		seen[$l]=$((${seen[$l]:-0} + 1))
		bad=
		[ "$l" = RELAY ] || { not_relay=$((not_relay + 1)); bad="link $l"; }
		if paths_has_root_ep "$1" "$2"; then root_ep=$((root_ep + 1)); bad+=" path at the root's endpoint"; fi
		if [ -n "$bad" ] && [ -z "$first_bad" ]; then
			first_bad="$1 at $(((($(zt_now_ms) - t0)) / 100))00 ms:$bad"
			zt_cli "$1" -j peers >"$LAB_DIR/peers-first-bad.json" || true
		fi
	done
	sleep 0.5
done
lab_bg_wait bgping-12 10 || true
lab_bg_wait bgping-21 10 || true
got12=$(grep -c 'bytes from' "$(lab_log bgping-12)" || true)
got21=$(grep -c 'bytes from' "$(lab_log bgping-21)" || true)
links=$(for k in "${!seen[@]}"; do printf '%s %s, ' "$k" "${seen[$k]}"; done)
echo "figure: $samples samples over ${SAMPLE_S} s of 2000-byte pings (replies m1->m2 $got12, m2->m1 $got21): ${links%, }; $root_ep with a path at the root's endpoint${first_bad:+; first: $first_bad}"
[ -s "$LAB_DIR/peers-first-bad.json" ] && python3 -c '
import json, sys
for p in json.load(open(sys.argv[1])):
    if p["role"] != "ROOT":
        print("  peer", p["address"], p["link"], [q["address"] for q in p["paths"]])' "$LAB_DIR/peers-first-bad.json"
for m in root ctl m1 m2; do lab_alive "ztd-$m" || paths_fail "ztd in $m died"; done
[ "$got12" -ge 10 ] && [ "$got21" -ge 10 ] || paths_fail "2000-byte overlay pings mostly unanswered ($got12, $got21)"

rc=0
if [ "$not_relay" = 0 ]; then
	echo "PASS: a peer only reachable through the root reads RELAY in every sample while fragmented frames flow"
else
	echo "FAIL: $not_relay of $samples samples read a link other than RELAY for a symmetric-NAT pair"
	rc=1
fi
if [ "$root_ep" = 0 ]; then
	echo "PASS: no path to the peer is the root's endpoint"
else
	echo "FAIL: $root_ep of $samples samples list the root's endpoint as a path to a leaf peer"
	rc=1
fi
exit $rc
