#!/usr/bin/env bash
# test_restart_first_ping.sh - issue 12: after a member's ztd is killed with
# SIGKILL and started again on the same HOME, traffic must be back at once:
# the first overlay ping sent once the restarted member's TAP is up (address
# assigned, link up; polled every 10 ms) gets an answer, and the first reply
# arrives within 1 s of the exec of the new ztd. Three restarts: the restarted
# member speaks first (a request every 50 ms); the survivor speaks first (every
# 50 ms); the survivor speaks first sparsely (a request a second, as an
# application's keepalive or test_recovery.sh's probe loop would), where 1 s
# is met only if the first request or so is answered. Two members behind
# port-restricted NATs, DIRECT before the crash. Time is taken just before
# lab_bg starts the new ztd (its wrapper adds a few ms, against the daemon) to
# the ping's own -D stamp of the reply. Margin for a loaded machine: when the
# TAP alone takes over 800 ms to come up (daemon start-up under load, seen at
# load average ~7 with ASan), the 1 s bound is judged as "first reply <= 200 ms
# after the TAP is up" and a figure line says so. test_recovery.sh checks the
# same restart for correctness (identity, address, interface).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "${HERE%/pending}/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh
. tests/e2e/paths.sh

BACK_MS=1000 LOADED_TAP_MS=800 AFTER_TAP_MS=200

lab_init
paths_lab port-restricted port-restricted
IP1=${PATHS_IP[m1]} IP2=${PATHS_IP[m2]} IF2=${PATHS_IF[m2]}
lab_exec m2 ping -c 2 -W 2 "$IP1" >/dev/null || paths_fail "no overlay ping m2 -> m1 before the crash"
lab_wait 15 eval '[ "$(zt_link m2 '"${PATHS_ADDR[m1]}"')" = DIRECT ]' || true
echo "figure: before the crash m2 -> m1 is $(zt_link m2 "${PATHS_ADDR[m1]}")"

now_us() { echo "${EPOCHREALTIME/./}"; }
tap_up() { lab_exec m2 ip -4 -o addr show dev "$IF2" up 2>/dev/null | grep -q "inet $IP2/"; }
# first_reply_us FILE AFTER_US: -D timestamp (us) of the first reply in a ping log after AFTER_US
first_reply_us() {
	awk -v t="$2" '/icmp_seq=/ { s = $1; gsub(/[][.]/, "", s); if (s + 0 > t + 0) { print s; exit } }' "$1"
}
# restart TAG: SIGKILL m2's ztd, wait 1 s, start it again; sets t_exec t_tap (us)
restart() {
	lab_kill "$ZTD2" KILL
	sleep 1
	ZTD2=ztd-m2-$1
	t_exec=$(now_us)
	lab_bg m2 "$ZTD2" "$ZT_BIN/ztd" -H "$(zt__home m2)"
	t_tap=
	for _ in $(seq 1 500); do
		if tap_up; then t_tap=$(now_us); break; fi
		sleep 0.01
	done
	[ -n "$t_tap" ] || { cat "$(lab_log "$ZTD2")"; paths_fail "m2's TAP $IF2 did not come back up with its address within ~10 s"; }
}
ZTD2=ztd-m2

# speak TAG FROM TO_IP INTERVAL: once m2's TAP is up, one ping process on
# FROM, a request every INTERVAL s for 5 s, each reply stamped (-D); sets seq1
# (icmp_seq 1, the first request, answered: 1/0), first_seq, back_ms (exec ->
# first reply)
speak() {
	local f=$LAB_DIR/speak-$1.txt ts
	lab_exec "$2" ping -n -D -i "$4" -W 2 -w 5 "$3" >"$f" 2>&1 || true
	first_seq=$(grep -m1 -o 'icmp_seq=[0-9]*' "$f" | cut -d= -f2)
	seq1=$(grep -c 'icmp_seq=1 ' "$f" || true)
	ts=$(first_reply_us "$f" "$t_exec")
	back_ms=none
	[ -z "$ts" ] || back_ms=$(((ts - t_exec) / 1000))
	tap_ms=$(((t_tap - t_exec) / 1000))
	replies=$(grep -c 'icmp_seq=' "$f" || true)
	requests=$(awk '/transmitted/ {print $1}' "$f")
}

# 1. the restarted member speaks first
restart a
speak a m2 "$IP1" 0.05
seq1_a=$seq1 back_a=$back_ms tap_a=$tap_ms
echo "figure: restart 1, m2 (restarted) pings m1 once its TAP is up: TAP up ${tap_ms} ms after the exec of ztd; first reply (icmp_seq ${first_seq:-none}) ${back_ms} ms after the exec; $replies replies to $requests requests in 5 s"
lab_alive "$ZTD2" || paths_fail "the restarted ztd died"

# 2. the survivor speaks first
restart b
speak b m1 "$IP2" 0.05
seq1_b=$seq1 back_b=$back_ms tap_b=$tap_ms
echo "figure: restart 2, m1 (survivor) pings m2 once m2's TAP is up: TAP up ${tap_ms} ms after the exec; first reply (icmp_seq ${first_seq:-none}) ${back_ms} ms after the exec; $replies replies to $requests requests in 5 s"
# 3. the survivor speaks first, sparsely (a request a second, like an
#    application's keepalive or test_recovery.sh's probe loop)
restart c
speak c m1 "$IP2" 1
seq1_c=$seq1 back_c=$back_ms tap_c=$tap_ms
echo "figure: restart 3, m1 (survivor) pings m2 once a second from m2's TAP up: TAP up ${tap_ms} ms after the exec; first reply (icmp_seq ${first_seq:-none}) ${back_ms} ms after the exec; $replies replies to $requests requests in 5 s"
echo "figure: after the restarts m2 -> m1 is $(zt_link m2 "${PATHS_ADDR[m1]}"), m1 -> m2 is $(zt_link m1 "${PATHS_ADDR[m2]}")"
lab_alive "$ZTD2" || paths_fail "the restarted ztd died"

rc=0
if [ "$seq1_a" -ge 1 ] && [ "$seq1_b" -ge 1 ] && [ "$seq1_c" -ge 1 ]; then
	echo "PASS: the first ping sent after the TAP is up gets an answer, from either side"
else
	echo "FAIL: the first ping sent after the TAP is up: answered from the restarted member $seq1_a, from the survivor $seq1_b (dense) and $seq1_c (sparse) (want 1, 1, 1)"
	rc=1
fi
# within BACK TAP: back <= 1 s; on a machine so loaded that the TAP alone took
# over LOADED_TAP_MS to come up (the daemon's start-up, not the recovery),
# judged as "first reply <= AFTER_TAP_MS after the TAP is up" instead
within() {
	[ "$1" != none ] || return 1
	[ "$1" -le "$BACK_MS" ] && return 0
	[ "$2" -gt "$LOADED_TAP_MS" ] && [ $(($1 - $2)) -le "$AFTER_TAP_MS" ] &&
		echo "figure: loaded machine: TAP up after $2 ms; first reply $(($1 - $2)) ms after it (judged <= $AFTER_TAP_MS ms)"
}
if within "$back_a" "$tap_a" && within "$back_b" "$tap_b" && within "$back_c" "$tap_c"; then
	echo "PASS: traffic back within 1 s of the restart, either side speaking first (${back_a} ms, ${back_b} ms, sparse ${back_c} ms)"
else
	echo "FAIL: traffic back ${back_a} ms (the restarted member speaks first), ${back_b} ms (the survivor, a request every 50 ms), ${back_c} ms (the survivor, a request a second) after the exec (want all <= $BACK_MS ms)"
	rc=1
fi
exit $rc
