#!/usr/bin/env bash
# test_vl1_nat.sh - VL1 end to end: a root on the public side, two nodes behind
# port-restricted NATs (dropping unsolicited inbound, as home routers do) and
# one behind a symmetric NAT. Proves: pings answered through the root; the
# port-restricted pair goes DIRECT; the symmetric one stays on RELAY and says
# why; cutting the direct path fails over to RELAY within 5 s and healing it
# returns to DIRECT; a capture of all UDP shows no payload in clear.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh

fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_public_host root
lab_site s1 port-restricted
lab_site_host s1 a
lab_site s2 port-restricted
lab_site_host s2 b
lab_site s3 symmetric
lab_site_host s3 c

lab_capture_start "$LAB_DIR/underlay.pcap" udp
zt_root root
zt_node a
zt_node b
zt_node c
A=$(zt_addr a) B=$(zt_addr b) C=$(zt_addr c)
lab_wait 20 zt_online a || fail "node a never came online"

# 1. a <-> b through the root, then DIRECT
t0=$(zt_now_ms)
zt_cli a ping -c 1 -s 1024 "$B" | tee "$LAB_DIR/ping1.txt"
grep -q "reply from $B" "$LAB_DIR/ping1.txt" || fail "a got no reply from b"
direct_ms=""
for _ in $(seq 1 100); do
	if [ "$(zt_link a "$B")" = DIRECT ] && [ "$(zt_link b "$A")" = DIRECT ]; then
		direct_ms=$(($(zt_now_ms) - t0))
		break
	fi
	zt_cli a ping -c 1 "$B" >/dev/null || true
	sleep 0.1
done
[ -n "$direct_ms" ] || { zt_cli a peers; fail "a and b never went DIRECT behind port-restricted NATs"; }
echo "figure: port-restricted <-> port-restricted: DIRECT ${direct_ms} ms after the first ping"
zt_cli a ping -c 3 -i 0.2 -s 1024 "$B" | tee "$LAB_DIR/ping2.txt"
grep -q "via DIRECT" "$LAB_DIR/ping2.txt" || fail "zt-cli ping does not report DIRECT"
echo "PASS: port-restricted pair reaches DIRECT (zt-cli -j peers and zt-cli ping)"

# 2. c behind a symmetric NAT: RELAY, with a reason
zt_cli a ping -c 3 -i 0.5 -s 1024 "$C" | tee "$LAB_DIR/ping3.txt"
grep -q "reply from $C" "$LAB_DIR/ping3.txt" || fail "a got no reply from c (symmetric NAT)"
sleep 3
zt_cli a ping -c 2 -i 0.5 "$C" | tee "$LAB_DIR/ping4.txt"
grep -q "via RELAY" "$LAB_DIR/ping4.txt" || fail "a <-> c should be relayed"
reason=$(zt_peer_field a "$C" relay_reason)
[ "$reason" != null ] && [ "$reason" != NONE ] || fail "no relay_reason for a symmetric peer"
echo "figure: symmetric NAT peer: link $(zt_link a "$C"), reason: $reason"
echo "PASS: symmetric NAT peer reached through RELAY"

# 3. cut the direct path between the two port-restricted sites
lab_cut s1 s2
t_cut=$(zt_now_ms)
failover_ms=""
for _ in $(seq 1 40); do
	out=$(zt_cli a ping -c 1 -W 0.5 "$B" 2>/dev/null || true)
	if echo "$out" | grep -q "via RELAY"; then
		failover_ms=$(($(zt_now_ms) - t_cut))
		break
	fi
	sleep 0.2
done
[ -n "$failover_ms" ] || fail "no failover to RELAY after cutting the direct path"
echo "figure: direct path cut: first reply via RELAY after ${failover_ms} ms"
[ "$failover_ms" -le 5000 ] || fail "failover took ${failover_ms} ms (> 5000)"
echo "PASS: failover to RELAY within 5 s"

lab_heal s1 s2
t_heal=$(zt_now_ms)
back_ms=""
for _ in $(seq 1 100); do
	out=$(zt_cli a ping -c 1 -W 0.5 "$B" 2>/dev/null || true)
	if echo "$out" | grep -q "via DIRECT"; then
		back_ms=$(($(zt_now_ms) - t_heal))
		break
	fi
	sleep 0.2
done
[ -n "$back_ms" ] || fail "never went back to DIRECT after healing"
echo "figure: cut healed: first reply via DIRECT after ${back_ms} ms"
echo "PASS: back to DIRECT after healing"

# 4. nothing in clear on the wire
lab_capture_stop
pkts=$(tcpdump -r "$LAB_DIR/underlay.pcap" -n 2>/dev/null | wc -l)
[ "$pkts" -gt 20 ] || fail "the capture holds only $pkts packets"
if grep -a -q "ZT-ECHO-PAYLOAD" "$LAB_DIR/underlay.pcap"; then
	fail "echo payload visible in clear on the wire"
fi
echo "figure: $pkts UDP packets captured on the internet router, payload marker found 0 times"
echo "PASS: no payload in clear"

for n in root a b c; do
	lab_alive "ztd-$n" || fail "ztd in $n died"
done
echo "PASS: all daemons alive"
