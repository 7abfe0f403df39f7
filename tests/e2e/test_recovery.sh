#!/usr/bin/env bash
# test_recovery.sh - a member's ztd is killed with SIGKILL and restarted on the
# same HOME: it comes back with the same identity, rejoins its network by
# itself (persisted), recreates its TAP with the same address, and traffic
# resumes. Prints the recovery time (restart to first answered ping).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh

fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_public_host root
lab_public_host ctl
lab_site s1 port-restricted
lab_site_host s1 m1
lab_site s2 port-restricted
lab_site_host s2 m2
zt_root root
zt_controller ctl
zt_node m1
zt_node m2
NWID=$(zt_network_create ctl recover 10.147.20.10 10.147.20.200 10.147.20.0/24)
for i in 1 2; do
	zt_cli "m$i" join "$NWID" >/dev/null
	lab_wait 20 zt_net_reason_has "m$i" "$NWID" "awaiting approval" || true
	zt_cli ctl controller member authorize "$NWID" "$(zt_addr "m$i")" >/dev/null
done
for i in 1 2; do lab_wait 20 zt_net_ok "m$i" "$NWID" || fail "m$i not OK"; done
IP1=$(zt_net_ip m1 "$NWID")
IP2=$(zt_net_ip m2 "$NWID")
IF2=$(zt_net_field m2 "$NWID" interface)
ADDR2=$(zt_addr m2)
lab_exec m1 ping -c 2 -W 2 "$IP2" >/dev/null || fail "no ping before the crash"

lab_kill ztd-m2 KILL
sleep 0.5
lab_exec m1 ping -c 1 -W 1 "$IP2" >/dev/null 2>&1 && fail "m2 still answers after SIGKILL"
# a killed ztd leaves its TAP behind only if the kernel kept it: it must not block the restart
t0=$(zt_now_ms)
lab_bg m2 ztd-m2b "$ZT_BIN/ztd" -H "$(zt__home m2)"
back_ms=""
for _ in $(seq 1 150); do
	if lab_exec m1 ping -c 1 -W 1 "$IP2" >/dev/null 2>&1; then back_ms=$(($(zt_now_ms) - t0)); break; fi
	sleep 0.1
done
[ -n "$back_ms" ] || { cat "$(lab_log ztd-m2b)"; fail "m2 never came back after the restart"; }
echo "figure: member killed with SIGKILL and restarted: ping answered again ${back_ms} ms after the restart"
[ "$(zt_addr m2)" = "$ADDR2" ] || fail "m2's identity changed across the restart"
[ "$(zt_net_ip m2 "$NWID")" = "$IP2" ] || fail "m2's address changed across the restart"
[ "$(zt_net_field m2 "$NWID" interface)" = "$IF2" ] || fail "m2's interface name changed"
lab_exec m2 ping -c 2 -W 2 "$IP1" >/dev/null || fail "m2 cannot reach m1 after the restart"
echo "PASS: same identity, same address and interface, traffic both ways after a crash and restart"
