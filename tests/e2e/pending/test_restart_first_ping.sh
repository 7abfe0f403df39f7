#!/usr/bin/env bash
# test_restart_first_ping.sh - issue 12: after a member's ztd is killed with
# SIGKILL and started again on the same HOME, traffic must be back at once:
# the first overlay ping the member sends once its TAP is up (address
# assigned, link up) gets an answer, and the first reply arrives within 1 s of
# the exec of the new ztd, both when the restarted member speaks first
# (restart 1) and when the survivor keeps pinging it (restart 2, a request
# every 50 ms, so the figure's resolution is 50 ms). Two members behind port-restricted NATs (they were
# DIRECT before the crash). Measured from just before lab_bg starts the new
# ztd (which adds a few ms of wrapper start-up: in the daemon's favour by
# nothing, against it by those ms) to the ping's own -D timestamp of the
# reply. test_recovery.sh checks the same restart for correctness (identity,
# address, interface) with a 15 s bound; this one pins the timing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "${HERE%/pending}/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh
. tests/e2e/paths.sh

BACK_MS=1000

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

# 1. the restarted member speaks first: one ping process from m2 once its TAP
#    is up, a request every 50 ms for 5 s, each reply stamped (-D)
restart a
lab_exec m2 ping -n -D -i 0.05 -W 2 -w 5 "$IP1" >"$LAB_DIR/first.txt" 2>&1 || true
first_seq=$(grep -m1 -o 'icmp_seq=[0-9]*' "$LAB_DIR/first.txt" | cut -d= -f2)
seq1=$(grep -c 'icmp_seq=1 ' "$LAB_DIR/first.txt" || true)
ts=$(first_reply_us "$LAB_DIR/first.txt" "$t_exec")
tap_ms=$(((t_tap - t_exec) / 1000))
back_ms=none
[ -z "$ts" ] || back_ms=$(((ts - t_exec) / 1000))
echo "figure: restart 1 (m2 pings m1 once its TAP is up): TAP up with its address ${tap_ms} ms after the exec of ztd; first reply (icmp_seq ${first_seq:-none}) ${back_ms} ms after the exec; $(grep -c 'icmp_seq=' "$LAB_DIR/first.txt" || true) replies to $(awk '/transmitted/ {print $1}' "$LAB_DIR/first.txt") requests"
lab_alive "$ZTD2" || paths_fail "the restarted ztd died"

# 2. the survivor speaks: m1 pings m2 every 50 ms across the crash and restart
lab_exec m1 ping -c 2 -W 2 "$IP2" >/dev/null || paths_fail "no overlay ping m1 -> m2 after restart 1"
lab_bg m1 survivor-ping ping -n -D -i 0.05 -W 1 -w 14 "$IP2"
sleep 0.5
restart b
lab_bg_wait survivor-ping 20 || true
ts=$(first_reply_us "$(lab_log survivor-ping)" "$t_exec")
tap2_ms=$(((t_tap - t_exec) / 1000))
back2_ms=none
[ -z "$ts" ] || back2_ms=$(((ts - t_exec) / 1000))
echo "figure: restart 2 (m1 pings m2 every 50 ms throughout): TAP up ${tap2_ms} ms after the exec; first reply to m1 ${back2_ms} ms after the exec"
echo "figure: after the restarts m2 -> m1 is $(zt_link m2 "${PATHS_ADDR[m1]}"), m1 -> m2 is $(zt_link m1 "${PATHS_ADDR[m2]}")"
lab_alive "$ZTD2" || paths_fail "the restarted ztd died"

rc=0
if [ "$seq1" -ge 1 ]; then
	echo "PASS: the first ping sent after the TAP is up gets an answer"
else
	echo "FAIL: the first ping sent after the TAP is up got no answer (first answered: icmp_seq ${first_seq:-none})"
	rc=1
fi
if [ "$back_ms" != none ] && [ "$back_ms" -le "$BACK_MS" ] && [ "$back2_ms" != none ] && [ "$back2_ms" -le "$BACK_MS" ]; then
	echo "PASS: traffic back within 1 s of the restart, either side speaking first (${back_ms} ms, ${back2_ms} ms)"
else
	echo "FAIL: traffic back ${back_ms} ms (restarted member speaks first) and ${back2_ms} ms (the survivor speaks) after the restart (want both <= $BACK_MS ms)"
	rc=1
fi
exit $rc
