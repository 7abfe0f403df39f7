#!/usr/bin/env bash
# test_vl2_nonmember.sh - who is not a member can neither receive nor inject.
#
# root, ctl on the public side; members m1, m2, m3 at sites s1..s3; at site
# s4 the node x runs ztd and joins but is never authorized, and next to it a
# hostile node (tools/zt_forge.c, a real VL1 node without a certificate):
#  - x stays REQUESTING_CONFIGURATION, gets no TAP; members never count it.
#  - the forger subscribes with the root to broadcast, to the "bridge"
#    wildcard group and to the ARP group of an address it claims, then sends
#    m1 compact FRAMEs, EXT_FRAMEs spoofing m2's MAC, a certificate altered to
#    name it, and replays m1's real certificate to m2. Meanwhile m2
#    broadcasts, ARPs for the claimed address and sends unknown unicast.
#    Checks: nothing forged reaches m1's TAP (a UDP listener there), m1's
#    drop_no_com and drop_bad_com counters rise, the forger receives no
#    FRAME/EXT_FRAME (only requests for a certificate it cannot show).
#  - m3 is deauthorized: m1 and m3 can no longer ping each other, nothing m3
#    sends reaches m1's TAP. Then a hostile m3 (the forger with m3's identity
#    and m3's old certificate, fetched before the deauthorization) keeps
#    sending: m1 refuses the revoked certificate (drop_bad_com), drops the
#    frames (drop_no_com) and sends it nothing.
#  - last: a non-member must not be able to deny members multicast either.
#    The forger floods the root with subscriptions (MULTICAST_LIKE of random
#    ARP groups of the network; roots take LIKEs from anyone), then x is
#    authorized: m1 must reach the new member x (its ARP request must find x's
#    ARP-group subscription at the root) within 25 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh
. tests/e2e/apps.sh

BCAST=tests/e2e/tools/bcast.py

lab_init
apps_build_forge || apps_fail "cannot build tools/zt_forge.c"
apps_vl2_lab 3
NWID=$APPS_NWID
lab_site s4 port-restricted
lab_site_host s4 x
zt_node x
zt_cli x join "$NWID" >/dev/null
lab_wait 20 zt_net_reason_has x "$NWID" "awaiting approval" || { zt_cli x networks; apps_fail "x is not awaiting approval"; }
status=$(zt_net_field x "$NWID" status)
[ "$status" = REQUESTING_CONFIGURATION ] || apps_fail "never-authorized x is $status"
xif=$(zt_net_field x "$NWID" interface)
if lab_exec x ip link show dev "$xif" >/dev/null 2>&1; then apps_fail "never-authorized x has an interface $xif"; fi
[ "$(zt_net_field x "$NWID" addresses)" = "[]" ] || apps_fail "never-authorized x has addresses"
echo "figure: never-authorized x: $status ($(zt_net_field x "$NWID" reason)), no interface, no address"
echo "PASS: a node that was never authorized gets no config, no TAP and no address"

MAC1=$(zt_net_field m1 "$NWID" mac)
MAC2=$(zt_net_field m2 "$NWID" mac)
ADDR1=$(zt_addr m1)
ADDR2=$(zt_addr m2)
CLAIM=10.147.17.250      # the address the forger pretends to have
nst() { apps_net_stat "$1" "$NWID" "$2"; }

# members talk to each other first (certificates exchanged), then the baseline
for j in 2 3; do
	lab_exec m1 ping -c 1 -W 3 -I "${APPS_IF[m1]}" "${APPS_IP[m$j]}" >/dev/null || apps_fail "m1 cannot ping m$j"
done
lab_exec m2 ping -c 1 -W 3 -I "${APPS_IF[m2]}" "${APPS_IP[m3]}" >/dev/null || apps_fail "m2 cannot ping m3"
seen0=$(zt_net_field m1 "$NWID" members_seen)
nocom0=$(nst m1 drop_no_com)
badcom0=$(nst m1 drop_bad_com)
nocom2_0=$(nst m2 drop_no_com)
badcom2_0=$(nst m2 drop_bad_com)

# m1 listens where the forged UDP goes
lab_bg m1 rx-forged python3 "$BCAST" listen 5555 1 14
# the forger: one run of 10 s next to x, its own UDP port
ROOTID=$(cat "$LAB_DIR/zt-root/identity.public")
lab_bg x forge "$LAB_DIR/zt-forge" --port 9994 --root "$ROOTID" --root-ep "${LAB_IP[root]}/9993" --nwid "$NWID" \
	--seconds 10 --interval 500 --like --arp-ip "$CLAIM" \
	--com-request "$ADDR1" --frame "$ADDR1" --ext-frame "$ADDR1,$MAC2,$MAC1" --bad-com "$ADDR1" \
	--replay-com "$ADDR2" --udp "$CLAIM,${APPS_IP[m1]},5555,zt-forged-frame"
lab_wait 25 grep -q '^online' "$(lab_log forge)" || { cat "$(lab_log forge)"; apps_fail "the forger never got online"; }
FADDR=$(awk '$1 == "address" {print $2}' "$(lab_log forge)")
sleep 2
# members' traffic the forger tries to catch: broadcast, ARP for the claimed
# address, unknown unicast (goes to bridges: the forger claimed to be one)
lab_exec m2 ip neigh replace 10.147.17.251 lladdr 02:5a:5a:5a:5a:5a dev "${APPS_IF[m2]}"
lab_bg m3 rx-bcast python3 "$BCAST" listen 5556 1 10
for _ in 1 2 3; do
	lab_exec m2 python3 "$BCAST" send "${APPS_IF[m2]}" 255.255.255.255 5556 "zt-members-broadcast"
	lab_exec m2 ping -c 1 -W 1 -I "${APPS_IF[m2]}" "$CLAIM" >/dev/null 2>&1 && apps_fail "m2 got an answer from the forger's claimed address $CLAIM"
	lab_exec m2 ping -c 1 -W 1 -I "${APPS_IF[m2]}" 10.147.17.251 >/dev/null 2>&1 || true
done
lab_bg_wait forge 20 || { cat "$(lab_log forge)"; apps_fail "the forger failed"; }
lab_bg_wait rx-bcast 12 || apps_fail "control: m2's broadcast did not reach member m3"
grep '^sent' "$(lab_log forge)" | sort | uniq -c | sed 's/^/  forger: /'
grep '^recv' "$(lab_log forge)" | sed 's/ len [0-9]*$//' | sort | uniq -c | sed 's/^/  forger: /'
summary=$(grep '^summary' "$(lab_log forge)")
echo "$summary"

rc=0
lab_bg_wait rx-forged 16 || rc=$?
if grep -q 'zt-forged' "$(lab_log rx-forged)"; then
	cat "$(lab_log rx-forged)"
	apps_fail "a forged frame from non-member $FADDR reached m1's TAP"
fi
[ "$rc" != 0 ] || apps_fail "m1's listener got something unexpected: $(cat "$(lab_log rx-forged)")"
echo "PASS: no forged frame (compact, or EXT_FRAME spoofing m2's MAC) from the non-member reached m1's TAP"

nocom=$(( $(nst m1 drop_no_com) - nocom0 ))
badcom=$(( $(nst m1 drop_bad_com) - badcom0 ))
nocom2=$(( $(nst m2 drop_no_com) - nocom2_0 ))
badcom2=$(( $(nst m2 drop_bad_com) - badcom2_0 ))
nframes=$(grep -c '^sent \(FRAME\|EXT_FRAME\) to' "$(lab_log forge)")
echo "figure: forger sent $nframes frames to m1; m1 drop_no_com +$nocom, drop_bad_com +$badcom (stats: drop_not_member $(nst m1 drop_not_member)); m2 drop_no_com +$nocom2, drop_bad_com +$badcom2"
[ "$nocom" -ge "$nframes" ] || apps_fail "m1's drop_no_com rose by $nocom, less than the $nframes forged frames"
[ "$badcom" -ge 1 ] || apps_fail "m1's drop_bad_com did not rise although the forger sent it altered certificates"
echo "PASS: m1 dropped every forged frame for want of a certificate (drop_no_com) and refused the altered certificate (drop_bad_com)"

set -- $summary
frames=${2#frame=}
ext=${3#ext_frame=}
[ "$frames" = 0 ] && [ "$ext" = 0 ] || apps_fail "the non-member received $frames FRAME and $ext EXT_FRAME messages: members sent it traffic"
grep -q '^recv COM_REQUEST' "$(lab_log forge)" || echo "note: no member asked the forger for a certificate"
seen=$(zt_net_field m1 "$NWID" members_seen)
[ "$seen" = "$seen0" ] || apps_fail "m1 counts $seen members with a valid certificate, was $seen0 before the forger"
echo "figure: forger got $(grep -c '^recv COM_REQUEST' "$(lab_log forge)") certificate requests and 0 frames; m1 members_seen stays $seen"
echo "PASS: the non-member, although subscribed with the root (broadcast, bridge wildcard, ARP), received no frame from any member"

# ---------------------------------------------------------------- deauthorized m3
# m3's certificate is public: any node may ask for it. Keep it for later.
lab_bg x forge-getcom "$LAB_DIR/zt-forge" --port 9995 --root "$ROOTID" --root-ep "${LAB_IP[root]}/9993" \
	--nwid "$NWID" --seconds 3 --com-request "$(zt_addr m3)" --save-com "$LAB_DIR/m3.com"
lab_bg_wait forge-getcom 30 || { cat "$(lab_log forge-getcom)"; apps_fail "could not fetch m3's certificate"; }
[ -s "$LAB_DIR/m3.com" ] || { cat "$(lab_log forge-getcom)"; apps_fail "m3 did not hand out its certificate"; }
lab_exec m3 ping -c 1 -W 3 -I "${APPS_IF[m3]}" "${APPS_IP[m1]}" >/dev/null || apps_fail "m3 cannot ping m1 before deauthorization"
nocom0=$(nst m1 drop_no_com)
badcom0=$(nst m1 drop_bad_com)
t0=$(zt_now_ms)
zt_cli ctl controller member deauthorize "$NWID" "$(zt_addr m3)" >/dev/null
cut_ms=""
for _ in $(seq 1 50); do
	if ! lab_exec m1 ping -c 1 -W 1 -I "${APPS_IF[m1]}" "${APPS_IP[m3]}" >/dev/null 2>&1; then
		cut_ms=$(($(zt_now_ms) - t0)); break
	fi
	sleep 0.2
done
[ -n "$cut_ms" ] || apps_fail "m3 still reachable 10 s after deauthorization"
echo "figure: deauthorized m3 unreachable from m1 after $cut_ms ms; m3 now $(zt_net_field m3 "$NWID" status) ($(zt_net_field m3 "$NWID" reason))"
# m3 keeps trying to talk to m1: pings and UDP
lab_bg m1 rx-m3 python3 "$BCAST" listen 5557 1 8
sleep 0.3
lab_exec m3 ip neigh replace "${APPS_IP[m1]}" lladdr "$MAC1" dev "${APPS_IF[m3]}" 2>/dev/null || true
for _ in 1 2 3 4; do
	lab_exec m3 python3 "$BCAST" send "${APPS_IF[m3]}" "${APPS_IP[m1]}" 5557 "zt-from-deauthorized" 2>/dev/null || true
	lab_exec m3 ping -c 1 -W 1 "${APPS_IP[m1]}" >/dev/null 2>&1 && apps_fail "deauthorized m3 can still ping m1"
done
rc=0
lab_bg_wait rx-m3 10 || rc=$?
grep -q 'zt-from-deauthorized' "$(lab_log rx-m3)" && apps_fail "UDP from deauthorized m3 reached m1"
nocom=$(( $(nst m1 drop_no_com) - nocom0 ))
badcom=$(( $(nst m1 drop_bad_com) - badcom0 ))
m3tx=$(nst m3 tx_frames)
echo "figure: after deauthorization m1 drop_no_com +$nocom, drop_bad_com +$badcom; m3 status $(zt_net_field m3 "$NWID" status), its tx_frames $m3tx"
if [ "$(zt_net_field m3 "$NWID" status)" = OK ]; then
	# m3 still believes it is a member and sends: m1 must account for it
	[ $((nocom + badcom)) -ge 1 ] || apps_fail "m3 still sends but m1's drop counters did not move"
fi
echo "PASS: deauthorized m3 can neither reach m1 nor be reached, and nothing it sends gets to m1's TAP"

# a hostile deauthorized member: m3's ztd stops, the forger takes m3's identity
# and its old (now revoked) certificate and keeps sending to m1
ADDR3=$(zt_addr m3)
MAC3=$(zt_net_field m3 "$NWID" mac)
lab_kill ztd-m3
nocom0=$(nst m1 drop_no_com)
badcom0=$(nst m1 drop_bad_com)
lab_bg m1 rx-m3f python3 "$BCAST" listen 5558 1 14
lab_bg m3 forge-m3 "$LAB_DIR/zt-forge" --port 9994 --root "$ROOTID" --root-ep "${LAB_IP[root]}/9993" --nwid "$NWID" \
	--identity "$LAB_DIR/zt-m3/identity.secret" --load-com "$LAB_DIR/m3.com" --seconds 8 --interval 500 --like \
	--arp-ip "${APPS_IP[m3]}" --replay-com "$ADDR1" --frame "$ADDR1" --ext-frame "$ADDR1,$MAC3,$MAC1" \
	--udp "${APPS_IP[m3]},${APPS_IP[m1]},5558,zt-from-revoked-m3"
lab_wait 25 grep -q '^online' "$(lab_log forge-m3)" || { cat "$(lab_log forge-m3)"; apps_fail "the forger as m3 never got online"; }
grep -q "^address $ADDR3" "$(lab_log forge-m3)" || apps_fail "the forger did not take m3's identity"
sleep 1
for _ in 1 2 3; do
	lab_exec m1 ping -c 1 -W 1 -I "${APPS_IF[m1]}" "${APPS_IP[m3]}" >/dev/null 2>&1 && apps_fail "m1 reaches the revoked m3"
done
lab_bg_wait forge-m3 20 || { cat "$(lab_log forge-m3)"; apps_fail "the forger as m3 failed"; }
grep '^sent' "$(lab_log forge-m3)" | sed 's/ (queued)$//' | sort | uniq -c | sed 's/^/  forger as m3: /'
grep '^recv' "$(lab_log forge-m3)" | sed 's/ len [0-9]*$//' | sort | uniq -c | sed 's/^/  forger as m3: /'
summary=$(grep '^summary' "$(lab_log forge-m3)")
echo "$summary"
rc=0
lab_bg_wait rx-m3f 16 || rc=$?
grep -q 'zt-from-revoked-m3' "$(lab_log rx-m3f)" && apps_fail "a frame from the revoked m3 reached m1's TAP"
nocom=$(( $(nst m1 drop_no_com) - nocom0 ))
badcom=$(( $(nst m1 drop_bad_com) - badcom0 ))
nframes=$(grep -c '^sent \(FRAME\|EXT_FRAME\) to' "$(lab_log forge-m3)")
echo "figure: revoked m3 (forger with its identity and old certificate) sent $nframes frames and $(grep -c '^sent COM' "$(lab_log forge-m3)") certificates to m1: m1 drop_no_com +$nocom, drop_bad_com +$badcom"
[ "$nocom" -ge "$nframes" ] || apps_fail "m1's drop_no_com rose by $nocom, less than the $nframes frames of the revoked m3"
[ "$badcom" -ge 1 ] || apps_fail "m1 did not count the revoked certificate as bad (drop_bad_com +$badcom)"
set -- $summary
[ "${2#frame=}" = 0 ] && [ "${3#ext_frame=}" = 0 ] || apps_fail "the revoked m3 received frames: $summary"
echo "PASS: a deauthorized member replaying its revoked certificate can neither inject frames into m1 nor receive any"

# ---------------------------------------------------------------- directory flood
lab_bg x forge-flood "$LAB_DIR/zt-forge" --port 9996 --root "$ROOTID" --root-ep "${LAB_IP[root]}/9993" \
	--nwid "$NWID" --seconds 6 --like-flood 600
lab_bg_wait forge-flood 40 || { cat "$(lab_log forge-flood)"; apps_fail "the flooding forger failed"; }
zt_cli ctl controller member authorize "$NWID" "$(zt_addr x)" >/dev/null
apps_wait_members "$NWID" x
lab_wait 10 eval '[ -n "$(zt_net_ip x '"$NWID"')" ]' || apps_fail "x got no address once authorized"
XIP=$(zt_net_ip x "$NWID")
t0=$(zt_now_ms)
if ! lab_wait 25 lab_exec m1 ping -c 1 -W 1 -I "${APPS_IF[m1]}" "$XIP" >/dev/null 2>&1; then
	echo "figure: after a non-member sent the root 600 MULTICAST_LIKEs x 256 random ARP groups, m1 cannot reach the newly authorized x ($XIP) for 25 s; m1's neighbour entry: $(lab_exec m1 ip neigh show "$XIP" dev "${APPS_IF[m1]}")"
	lab_exec x ping -c 1 -W 2 "${APPS_IP[m1]}" >/dev/null 2>&1 && echo "       (x -> m1 works: m1's own ARP group was registered before the flood)"
	apps_fail "a non-member filled the root's multicast directory (src/multicast.c: global table of ZT_ROOT_MCAST_MAX entries, no per-member quota, LIKEs accepted from any node) so the new member's ARP-group subscription was refused and nobody can ARP for it"
fi
echo "figure: after a non-member's subscription flood, m1 reached the newly authorized x in $(($(zt_now_ms) - t0)) ms"
echo "PASS: a non-member flooding the root with subscriptions does not cut members off"
