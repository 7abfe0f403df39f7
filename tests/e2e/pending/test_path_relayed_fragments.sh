#!/usr/bin/env bash
# test_path_relayed_fragments.sh - issue 12: a frame larger than one datagram
# sent through the root must still read as relayed on arrival. Two members
# behind symmetric NATs (no direct path is possible), network MTU 2800 (the
# default: a 2000-byte ping is two underlay fragments). The root bumps the hop
# count of each fragment; after reassembly the inner packet must not look
# direct (hops 0), or the receiver learns the root's endpoint as a direct path
# to the peer. Asserts, sampling `zt-cli -j peers` on both members every 0.5 s
# for 15 s (tools/peers_watch.py) while 2000-byte overlay pings run both ways:
# the link is RELAY in every sample and no path to a leaf peer (this one
# included) is a root's endpoint.
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
paths_watch "$SAMPLE_S" 0.5 "m1:$A2" "m2:$A1" || paths_fail "could not sample the peers"
samples=${PATHS_W[samples]} links=${PATHS_W[links]}
relay_n=$(tr ',' '\n' <<<"$links" | awk -F: '$1 == "RELAY" { print $2 }')
not_relay=$((samples - ${relay_n:-0}))
root_ep=$(grep -c -- '-is-a-root' "$LAB_DIR/watch.txt" || true)
first_bad=$(grep -m1 -E 'link=[^R]|-is-a-root' "$LAB_DIR/watch.txt" | awk '{ $1 = ""; $2 = $2 " ms:"; print }' || true)
lab_bg_wait bgping-12 10 || true
lab_bg_wait bgping-21 10 || true
got12=$(grep -c 'bytes from' "$(lab_log bgping-12)" || true)
got21=$(grep -c 'bytes from' "$(lab_log bgping-21)" || true)
echo "figure: $samples samples (${PATHS_W[failed_reads]} failed reads) over ${SAMPLE_S} s of 2000-byte pings (replies m1->m2 $got12, m2->m1 $got21): links $links; $root_ep with a path at a root's endpoint for a leaf${first_bad:+; first bad sample at$first_bad}"
for m in root ctl m1 m2; do lab_alive "ztd-$m" || paths_fail "ztd in $m died"; done
[ "$got12" -ge 10 ] && [ "$got21" -ge 10 ] || paths_fail "2000-byte overlay pings mostly unanswered ($got12, $got21)"
[ "$samples" -ge 10 ] || paths_fail "only $samples samples of the peer lists in ${SAMPLE_S} s: the machine is too loaded to judge"

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
