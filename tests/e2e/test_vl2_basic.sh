#!/usr/bin/env bash
# test_vl2_basic.sh - virtual Ethernet end to end: a root and a controller on
# the public side, three members at three sites behind NAT routers. The
# controller creates a private network; members join (REQUESTING_CONFIGURATION,
# awaiting approval), get authorized through the REST API, get TAP interfaces
# with addresses from the pool; IPv4 ping and IPv6 link-local ping work between
# every pair; UDP broadcast arrives everywhere; a deauthorized member is cut off.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh

fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_public_host root
lab_public_host ctl
for i in 1 2 3; do
	lab_site "s$i" port-restricted
	lab_site_host "s$i" "m$i"
done
zt_root root
zt_controller ctl
for i in 1 2 3; do zt_node "m$i"; done

NWID=$(zt_network_create ctl lab 10.147.17.10 10.147.17.200 10.147.17.0/24)
echo "network $NWID"
for i in 1 2 3; do
	zt_cli "m$i" join "$NWID" >/dev/null
done
# members show up unauthorized: waiting for approval
for i in 1 2 3; do
	lab_wait 20 zt_net_reason_has "m$i" "$NWID" "awaiting approval" 2>/dev/null || true
done
reason=$(zt_net_field m1 "$NWID" reason)
status=$(zt_net_field m1 "$NWID" status)
echo "figure: before approval m1 is $status: $reason"
[ "$status" = REQUESTING_CONFIGURATION ] || fail "m1 should be REQUESTING_CONFIGURATION before approval, is $status"
case "$reason" in *"awaiting approval"*) ;; *) fail "reason should say awaiting approval: $reason" ;; esac

t0=$(zt_now_ms)
for i in 1 2 3; do
	zt_cli ctl controller member authorize "$NWID" "$(zt_addr "m$i")" >/dev/null
done
for i in 1 2 3; do
	lab_wait 20 zt_net_ok "m$i" "$NWID" || { zt_cli "m$i" networks; fail "m$i did not reach OK"; }
done
echo "figure: all three members OK $(($(zt_now_ms) - t0)) ms after authorization"
zt_cli m1 networks

declare -A IP IF
for i in 1 2 3; do
	IP[$i]=$(zt_net_ip "m$i" "$NWID")
	IF[$i]=$(zt_net_field "m$i" "$NWID" interface)
	[ -n "${IP[$i]}" ] || fail "m$i has no address"
	lab_exec "m$i" ip -br addr show dev "${IF[$i]}"
done

# IPv4 ping between every pair
for i in 1 2 3; do for j in 1 2 3; do
	[ $i = $j ] && continue
	lab_exec "m$i" ping -c 2 -W 3 -I "${IF[$i]}" "${IP[$j]}" >/dev/null ||
		fail "IPv4 ping m$i -> m$j (${IP[$j]}) failed"
done; done
echo "PASS: IPv4 ping between every pair"

# IPv6 link-local ping between every pair
for i in 1 2 3; do for j in 1 2 3; do
	[ $i = $j ] && continue
	ll=$(lab_exec "m$j" ip -6 -o addr show dev "${IF[$j]}" scope link | awk '{print $4}' | cut -d/ -f1)
	[ -n "$ll" ] || fail "m$j has no IPv6 link-local address on ${IF[$j]}"
	lab_wait 10 lab_exec "m$i" ping -6 -c 1 -W 2 "$ll%${IF[$i]}" >/dev/null ||
		fail "IPv6 link-local ping m$i -> m$j ($ll) failed"
done; done
echo "PASS: IPv6 link-local ping between every pair"

# UDP broadcast from m1 reaches m2 and m3 (255.255.255.255 and the subnet broadcast)
for dst in 255.255.255.255 10.147.17.255; do
	for j in 2 3; do
		lab_bg "m$j" "rx$j-$dst" python3 tests/e2e/tools/bcast.py listen 5555 1 8
	done
	sleep 0.5
	lab_exec m1 python3 tests/e2e/tools/bcast.py send "${IF[1]}" "$dst" 5555 "zt-broadcast-$dst"
	for j in 2 3; do
		lab_bg_wait "rx$j-$dst" 10 || fail "broadcast to $dst did not reach m$j"
		grep -q "zt-broadcast-$dst" "$LAB_DIR/rx$j-$dst.log" || fail "m$j got the wrong broadcast"
	done
done
echo "PASS: UDP broadcast (255.255.255.255 and subnet) reached every other site"

# deauthorize m3: it is cut off within 10 s
t0=$(zt_now_ms)
zt_cli ctl controller member deauthorize "$NWID" "$(zt_addr m3)" >/dev/null
cut_ms=""
for _ in $(seq 1 50); do
	if ! lab_exec m1 ping -c 1 -W 1 -I "${IF[1]}" "${IP[3]}" >/dev/null 2>&1; then
		cut_ms=$(($(zt_now_ms) - t0))
		break
	fi
	sleep 0.2
done
[ -n "$cut_ms" ] || fail "m3 still reachable after deauthorization"
[ "$cut_ms" -le 10000 ] || fail "m3 cut off only after $cut_ms ms"
echo "figure: deauthorized member unreachable after ${cut_ms} ms"
sleep 2
lab_exec m3 ping -c 2 -W 1 "${IP[1]}" >/dev/null 2>&1 && fail "deauthorized m3 can still reach m1"
echo "PASS: deauthorized member can neither send nor receive"
zt_net_denied() { [ "$(zt_net_field "$1" "$2" status)" = ACCESS_DENIED ]; }
lab_wait 10 zt_net_denied m3 "$NWID" || fail "m3 should show ACCESS_DENIED, shows $(zt_net_field m3 "$NWID" status)"
echo "figure: m3 after deauthorization: $(zt_net_field m3 "$NWID" status) ($(zt_net_field m3 "$NWID" reason))"
echo "PASS: the deauthorized member is told ACCESS_DENIED"
