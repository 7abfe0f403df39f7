#!/bin/bash
# tests/e2e/test_lab.sh - tests the namespace lab itself (tests/e2e/lab.sh):
# NAT behaviours, hole punching, cut/heal, loss, capture, DHCP on a lab LAN,
# cleanup of crashed runs and teardown. Prints "figure:" and "PASS:" lines;
# exits non-zero on any failure. Needs root. Takes about half a minute.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab.sh
. "$HERE/lab.sh"
UDP=("$LAB_PYTHON" "$HERE/tools/udp.py")

FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { # check DESCRIPTION CONDITION-COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# seen_by FILE FROM: the "seen=" address in the first echo reply from FROM
seen_by() { grep -m1 "^recv $2 echo seen=" "$1" | sed -E 's/.* seen=([^ ]+).*/\1/'; }
count() { grep -c -- "$2" "$1" 2>/dev/null || true; }

if [ "$(id -u)" != 0 ]; then
	echo "test_lab: needs root" >&2
	exit 1
fi

# ---- leftovers of a crashed run are listed and cleaned ---------------------
crash_out=$(bash -c '
	. "$1"
	LAB_QUIET=1
	lab_init >/dev/null 2>&1 || exit 1
	lab_public_host x >/dev/null 2>&1 || exit 1
	lab_bg x sleeper sleep 120 || exit 1
	echo "$LAB_PREFIX $LAB_DIR $(ip netns pids "$LAB_PREFIX-x" | tr "\n" " ")"
	kill -KILL $$' _ "$HERE/lab.sh" 2>/dev/null)
read -r crash_pfx crash_dir crash_pids <<<"$crash_out"
if [ -z "${crash_pfx:-}" ] || [ -z "${crash_pids:-}" ]; then
	fail "stale cleanup: could not set up a crashed run ($crash_out)"
else
	listed=$(lab_cleanup_stale --list | grep -c "$crash_pfx-" || true)
	lab_cleanup_stale >/dev/null
	sleep 0.2
	left_ns=$(ip netns list | grep -c "^$crash_pfx-" || true)
	left_p=0
	for p in $crash_pids; do lab__pid_alive "$p" && left_p=$((left_p + 1)); done
	echo "figure: stale run $crash_pfx: listed $listed namespace(s), after cleanup $left_ns namespace(s), $left_p process(es), dir $([ -e "$crash_dir" ] && echo left || echo removed)"
	check "lab_cleanup_stale lists and removes a crashed run's namespaces, processes and dir" \
		test "$listed" -ge 2 -a "$left_ns" = 0 -a "$left_p" = 0 -a ! -e "$crash_dir"
fi

# ---- topology --------------------------------------------------------------
t0=$(date +%s%N)
lab_init || exit 1
lab_public_host pa || exit 1
lab_public_host pb || exit 1
lab_site home port-restricted || exit 1
lab_site_host home h1 || exit 1
lab_site_host home h2 || exit 1
lab_site office port-restricted 10.1.0 || exit 1 # same private range as home
lab_site_host office o1 || exit 1
lab_site sym symmetric || exit 1
lab_site_host sym s1 || exit 1
lab_site cone full-cone || exit 1
lab_site_host cone c1 || exit 1
lab_site open none || exit 1
lab_site_host open n1 || exit 1
t1=$(date +%s%N)
echo "figure: lab setup: $(ip netns list | grep -c "^$LAB_PREFIX-") namespaces (6 sites and public hosts, 6 site hosts) in $(((t1 - t0) / 1000000)) ms"
lab_info

PA=${LAB_IP[pa]}
PB=${LAB_IP[pb]}
lab_bg pa echo-pa "${UDP[@]}" echo --port 7000 --port 7001 --timeout 300 || exit 1
lab_bg pb echo-pb "${UDP[@]}" echo --port 7000 --timeout 300 || exit 1
lab_wait 5 grep -q ready "$(lab_log echo-pa)" || { fail "echo server on pa did not start"; exit 1; }
lab_wait 5 grep -q ready "$(lab_log echo-pb)" || { fail "echo server on pb did not start"; exit 1; }
D=$LAB_DIR

# ---- (1) port-restricted: outbound is NATed, the reply comes back -----------
lab_exec h1 "${UDP[@]}" probe --bind 0.0.0.0:40000 --to "$PA:7000" --rounds 2 --listen 0.5 >"$D/p1" 2>&1
rc=$?
seen=$(seen_by "$D/p1" "$PA:7000")
echo "figure: port-restricted: h1 ${LAB_IP[h1]}:40000 -> pa sees ${seen:-nothing} (site public ${LAB_PUB[home]}), replies received: $(count "$D/p1" '^recv ')"
check "port-restricted: pa sees the site's public address and the reply reaches h1" \
	test "$rc" = 0 -a "${seen%:*}" = "${LAB_PUB[home]}"

# ---- (2) unsolicited datagrams to the mapping are dropped (full-cone: not) --
# probe_unsolicited HOST PORT: while HOST keeps its mapping to pa:7000 alive,
# pa (another port) and pb send to the mapping; sets MAP to the mapping
probe_unsolicited() {
	local h=$1 port=$2 out=$D/un-$1 m
	MAP=
	lab_bg "$h" "un-$h" "${UDP[@]}" probe --bind "0.0.0.0:$port" --to "$PA:7000" --rounds 4 --gap 0.8 --listen 0.8 || return 1
	lab_wait 5 grep -q "^recv $PA:7000 " "$(lab_log "un-$h")" || { echo "no mapping"; return 1; }
	m=$(seen_by "$(lab_log "un-$h")" "$PA:7000")
	lab_exec pa "${UDP[@]}" send --bind 0.0.0.0:7002 --to "$m" --data unsolicited-pa --count 3 >/dev/null
	lab_exec pb "${UDP[@]}" send --bind 0.0.0.0:7005 --to "$m" --data unsolicited-pb --count 3 >/dev/null
	lab_bg_wait "un-$h" 10
	cp "$(lab_log "un-$h")" "$out"
	MAP=$m
}
probe_unsolicited h1 40001
m_h1=$MAP
un_h1=$(count "$D/un-h1" 'unsolicited')
ok_h1=$(count "$D/un-h1" "^recv $PA:7000 ")
probe_unsolicited c1 40001
m_c1=$MAP
un_c1=$(count "$D/un-c1" 'unsolicited')
echo "figure: port-restricted: mapping $m_h1 got $un_h1 of 6 unsolicited datagrams, $ok_h1 of 4 echo replies"
echo "figure: full-cone: mapping $m_c1 got $un_c1 of 6 unsolicited datagrams (control)"
check "port-restricted: unsolicited datagrams from another public port and host do not arrive; the mapping keeps working" \
	test "$un_h1" = 0 -a "$ok_h1" -ge 4
check "full-cone: the same unsolicited datagrams do arrive (the check above can see them)" \
	test "$un_c1" = 6 -a "${m_c1%:*}" = "${LAB_PUB[c1]}"

# ---- (3) symmetric: one socket, several destinations, several mappings -----
lab_exec s1 "${UDP[@]}" probe --bind 0.0.0.0:40002 --to "$PA:7000" --to "$PB:7000" --to "$PA:7001" --rounds 2 --listen 0.5 >"$D/p3s" 2>&1
rc_s=$?
ms=$(for d in "$PA:7000" "$PB:7000" "$PA:7001"; do seen_by "$D/p3s" "$d"; done | sort -u | tr '\n' ' ')
lab_exec h1 "${UDP[@]}" probe --bind 0.0.0.0:40002 --to "$PA:7000" --to "$PB:7000" --to "$PA:7001" --rounds 2 --listen 0.5 >"$D/p3h" 2>&1
rc_h=$?
mh=$(for d in "$PA:7000" "$PB:7000" "$PA:7001"; do seen_by "$D/p3h" "$d"; done | sort -u | tr '\n' ' ')
ns_=$(wc -w <<<"$ms")
nh_=$(wc -w <<<"$mh")
echo "figure: symmetric: s1 port 40002 to pa:7000, pb:7000, pa:7001 seen as: $ms($ns_ mappings)"
echo "figure: port-restricted: h1 port 40002 to the same three seen as: $mh($nh_ mapping)"
sym_ips=$(for m in $ms; do echo "${m%:*}"; done | sort -u)
check "symmetric: one local socket gets a different public port per destination" \
	test "$rc_s" = 0 -a "$ns_" -ge 2 -a "$sym_ips" = "${LAB_PUB[sym]}"
check "port-restricted: one local socket keeps one public mapping for every destination" \
	test "$rc_h" = 0 -a "$nh_" = 1

# ---- (4) hole punching between two NATed sites; lab_cut / lab_heal ----------
lab_exec h1 "${UDP[@]}" probe --bind 0.0.0.0:41000 --to "$PA:7000" --rounds 1 --listen 0.3 >"$D/st-h1" 2>&1
lab_exec o1 "${UDP[@]}" probe --bind 0.0.0.0:41000 --to "$PA:7000" --rounds 1 --listen 0.3 >"$D/st-o1" 2>&1
M_H1=$(seen_by "$D/st-h1" "$PA:7000")
M_O1=$(seen_by "$D/st-o1" "$PA:7000")
# punch TAG: both sides send to each other's mapping at once; sets
# a b (exit codes of h1's and o1's probes) and ra rb (datagrams each received)
punch() {
	lab_bg h1 "punch-h1-$1" "${UDP[@]}" probe --bind 0.0.0.0:41000 --to "$M_O1" --rounds 10 --gap 0.15 --listen 0.5 --data "punch-h1-$1"
	lab_bg o1 "punch-o1-$1" "${UDP[@]}" probe --bind 0.0.0.0:41000 --to "$M_H1" --rounds 10 --gap 0.15 --listen 0.5 --data "punch-o1-$1"
	lab_bg_wait "punch-h1-$1" 10; a=$?
	lab_bg_wait "punch-o1-$1" 10; b=$?
	ra=$(count "$(lab_log "punch-h1-$1")" '^recv ')
	rb=$(count "$(lab_log "punch-o1-$1")" '^recv ')
}
punch 1
echo "figure: hole punch home $M_H1 <-> office $M_O1: h1 got $ra, o1 got $rb datagrams"
check "two port-restricted sites punch a direct UDP path to each other" test "$a" = 0 -a "$b" = 0

lab_cut home office
punch 2
lab_exec h1 "${UDP[@]}" probe --bind 0.0.0.0:41001 --to "$PA:7000" --to "$PB:7000" --rounds 2 --listen 0.5 >"$D/cut-pub" 2>&1
rc_pub=$?
echo "figure: after lab_cut home office: h1 got $ra, o1 got $rb datagrams from each other; h1 -> pa, pb: $([ $rc_pub = 0 ] && echo ok || echo FAILED)"
check "lab_cut stops traffic between the two sites but not to public hosts" \
	test "$a" = 1 -a "$b" = 1 -a "$ra" = 0 -a "$rb" = 0 -a "$rc_pub" = 0

lab_heal home office
lab_heal home office # idempotent
punch 3
echo "figure: after lab_heal: h1 got $ra, o1 got $rb datagrams"
check "lab_heal restores the direct path" test "$a" = 0 -a "$b" = 0

# ---- lab_loss ---------------------------------------------------------------
lab_loss 50 pb
lab_exec pa "${UDP[@]}" send --to "$PB:7000" --data lossy --count 200 --gap 0.002 >/dev/null
sleep 1
lossy=$(count "$(lab_log echo-pb)" 'data=lossy')
lab_loss 0
lab_exec pa "${UDP[@]}" send --to "$PB:7000" --data clean --count 50 --gap 0.002 >/dev/null
lab_wait 3 test "$(count "$(lab_log echo-pb)" 'data=clean')" -ge 50
clean=$(count "$(lab_log echo-pb)" 'data=clean')
echo "figure: lab_loss 50 on pb: $lossy of 200 arrived; lab_loss 0: $clean of 50"
check "lab_loss drops about the given share, lab_loss 0 none" test "$lossy" -ge 60 -a "$lossy" -le 140 -a "$clean" = 50

# ---- lab_impair: delay, jitter, loss, bursty loss, duplication, reordering --
# A ping from h1 to pa crosses home's uplink twice (out and back), so a
# per-crossing delay D shows as ~2D of RTT, and a per-crossing loss p as
# 1 - (1 - p)^2 of the pings.
PINGQ=(ping -n -q -W 2)
# rtt HOST COUNT INTERVAL: "min avg max mdev" of a ping to pa, 0 0 0 0 on failure
rtt() {
	lab_exec "$1" "${PINGQ[@]}" -c "$2" -i "$3" "$PA" 2>/dev/null |
		awk -F'[ /]' '/^rtt/ { print $7, $8, $9, $10; f = 1 } END { if (!f) print 0, 0, 0, 0 }'
}
# ping_stats COUNT INTERVAL: sets sent rcvd dups lost_pct mean_run (of consecutive lost seqs)
ping_stats() {
	lab_exec h1 ping -n -W 2 -c "$1" -i "$2" "$PA" >"$D/ping-stats" 2>&1
	read -r sent rcvd dups lost_pct mean_run < <(awk -v n="$1" '
		/icmp_seq=/ { for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) { s = substr($i, 10) + 0 }
			if ($0 ~ /DUP!/) d++; else got[s] = 1 }
		END { r = 0; runs = 0; lost = 0
			for (s = 1; s <= n; s++) { if (!(s in got)) { lost++; if (!inrun) runs++; inrun = 1 } else inrun = 0 }
			printf "%d %d %d %.1f %.2f\n", n, n - lost, d, 100 * lost / n, runs ? lost / runs : 0 }' "$D/ping-stats")
}
read -r base_min base_avg _ _ < <(rtt h1 10 0.02)
lab_impair home delay 10
read -r d_min d_avg d_max _ < <(rtt h1 30 0.02)
lab_impair home delay 10 jitter 4
read -r j_min j_avg j_max j_mdev < <(rtt h1 50 0.02)
echo "figure: lab_impair home delay 10: ping h1 -> pa rtt min/avg/max $d_min/$d_avg/$d_max ms (clean: avg $base_avg ms); with jitter 4: $j_min/$j_avg/$j_max ms, mdev $j_mdev"
check "lab_impair delay 10 ms per crossing shows as ~20 ms of ping RTT (19.5..30 ms)" \
	awk -v a="$d_avg" -v m="$d_min" 'BEGIN { exit !(m >= 19.5 && a >= 19.5 && a <= 30) }'
check "lab_impair jitter 4 ms spreads the RTT (max - min >= 4 ms, avg 19.5..32 ms)" \
	awk -v a="$j_avg" -v lo="$j_min" -v hi="$j_max" 'BEGIN { exit !(hi - lo >= 4 && a >= 19.5 && a <= 32) }'
lab_impair home loss 10
ping_stats 500 0.004
echo "figure: lab_impair home loss 10: $rcvd of $sent pings answered, ${lost_pct}% lost (expected 19% for two crossings), mean run of lost pings $mean_run"
check "lab_impair loss 10% per crossing loses 1-(0.9)^2 = 19% of pings, within 12..27%" \
	awk -v x="$lost_pct" 'BEGIN { exit !(x >= 12 && x <= 27) }'
random_run=$mean_run
lab_impair home burst 10 8
ping_stats 1000 0.002
echo "figure: lab_impair home burst 10 8: $rcvd of $sent pings answered, ${lost_pct}% lost, mean run of lost pings $mean_run (random loss above: $random_run)"
check "lab_impair burst 10% in runs of 8: lost pings come in runs (mean run >= 2.5, loss 4..40%)" \
	awk -v x="$lost_pct" -v r="$mean_run" 'BEGIN { exit !(x >= 4 && x <= 40 && r >= 2.5) }'
lab_impair home dup 20
ping_stats 100 0.01
echo "figure: lab_impair home dup 20: $rcvd of $sent pings answered, $dups duplicate replies (expected ~44: 20% per crossing, two crossings)"
check "lab_impair dup 20% duplicates packets (15..80 duplicate replies of 100 pings, none lost)" \
	test "$dups" -ge 15 -a "$dups" -le 80 -a "$rcvd" = 100
# order_inversions: replies (by icmp_seq) that arrive after a later one
order_inversions() {
	lab_exec h1 ping -n -W 2 -c 100 -i 0.003 "$PA" 2>/dev/null |
		awk '/icmp_seq=/ { for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) s = substr($i, 10) + 0; if (s < max) inv++; if (s > max) max = s }
			END { print inv + 0 }'
}
lab_impair home delay 20 jitter 4
inv_jitter=$(order_inversions)
lab_impair home delay 20 reorder 30
inv_reorder=$(order_inversions)
echo "figure: 100 pings 3 ms apart over delay 20: $inv_jitter replies out of order with jitter 4 (jitter keeps order), $inv_reorder with reorder 30"
check "lab_impair reorder 30% reorders (>= 3 of 100 replies out of order); jitter alone does not (0)" \
	test "$inv_reorder" -ge 3 -a "$inv_jitter" = 0
lab_impair root delay 10 2>/dev/null && fail "lab_impair accepts an unknown node" || true
lab_impair pa delay 5
lab_impair home delay 5
read -r two_min two_avg _ _ < <(rtt h1 20 0.02)
lab_impair_clear
read -r c_min c_avg _ _ < <(rtt h1 10 0.02)
rules_left=$(lab_exec inet iptables -S LAB_IMPAIR | grep -c -- '^-A' || true)
echo "figure: delay 5 on pa's link and on home's: rtt avg $two_avg ms; after lab_impair_clear: avg $c_avg ms, $rules_left rules left; $(lab_impair_stats)"
check "two impaired links add up (4 crossings of 5 ms: rtt 19.5..30 ms); lab_impair_clear restores a clean link" \
	awk -v a="$two_avg" -v c="$c_avg" -v n="$rules_left" 'BEGIN { exit !(a >= 19.5 && a <= 30 && c < 5 && n == 0) }'

# ---- capture on the internet router shows only public addresses ------------
lab_capture_start "$D/cap.pcap" udp port 7000
lab_exec h2 "${UDP[@]}" probe --to "$PA:7000" --rounds 3 --gap 0.1 --listen 0.3 >/dev/null
lab_capture_stop
tcpdump -n -r "$D/cap.pcap" 2>/dev/null >"$D/cap.txt"
cap_n=$(wc -l <"$D/cap.txt")
cap_pub=$(count "$D/cap.txt" "${LAB_PUB[home]}\.")
cap_priv=$(count "$D/cap.txt" ' 10\.')
echo "figure: capture: $cap_n packets, $cap_pub with the site's public address, $cap_priv with a private one"
check "lab_capture records the translated traffic on the internet router" \
	test "$cap_n" = 6 -a "$cap_pub" = 6 -a "$cap_priv" = 0

# ---- a lab LAN with a DHCP server (dnsmasq) and a client (busybox udhcpc) ---
if lab_lan lan1 h2 && lab_lan_host lan1 srv && lab_lan_host lan1 cli none &&
	lab_dhcp_server srv && lab_dhcp_client cli; then
	cli_ip=${LAB_IP[cli]}
	lab_bg srv echo-srv "${UDP[@]}" echo --port 7000 --timeout 60
	lab_wait 5 grep -q ready "$(lab_log echo-srv)"
	lab_exec cli "${UDP[@]}" probe --to "${LAB_IP[srv]}:7000" --rounds 2 --listen 0.3 >"$D/lan" 2>&1
	rc_lan=$?
	echo "figure: dhcp on lan1: cli leased $cli_ip from srv ${LAB_IP[srv]}; udp over the LAN: $([ $rc_lan = 0 ] && echo ok || echo FAILED)"
	check "lab LAN: busybox udhcpc gets a lease from dnsmasq and the LAN carries traffic" \
		test "$rc_lan" = 0 -a "${cli_ip%.*}" = "${LAB_IP[srv]%.*}" -a "${cli_ip##*.}" -ge 100 -a "${cli_ip##*.}" -le 199
else
	fail "lab LAN with DHCP could not be built"
fi

# ---- (5) teardown leaves nothing behind --------------------------------------
pfx=$LAB_PREFIX
dir=$LAB_DIR
procs=("${LAB_PID[@]}" "${LAB_WPID[@]}")
for ns in $(ip netns list | awk '{print $1}' | grep "^$pfx-"); do procs+=($(ip netns pids "$ns")); done
n_ns=$(ip netns list | grep -c "^$pfx-")
lab_teardown
lab_teardown # idempotent
left_ns=$(ip netns list | grep -c "^$pfx-" || true)
left_p=0
for p in "${procs[@]}"; do lab__pid_alive "$p" && left_p=$((left_p + 1)); done
left_args=$(ps -eo args= | grep -F -- "$pfx" | grep -vc -- "grep" || true)
echo "figure: teardown of $pfx: $n_ns namespaces and ${#procs[@]} processes before; after: $left_ns namespaces, $left_p processes, $left_args command lines naming the run, dir $([ -e "$dir" ] && echo left || echo removed)"
check "teardown removes every namespace, process and the run dir" \
	test "$n_ns" -ge 13 -a "$left_ns" = 0 -a "$left_p" = 0 -a "$left_args" = 0 -a ! -e "$dir"

if [ "$FAILS" != 0 ]; then
	echo "test_lab: $FAILS check(s) failed"
	exit 1
fi
echo "test_lab: all checks passed"
