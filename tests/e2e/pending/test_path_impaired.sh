#!/usr/bin/env bash
# test_path_impaired.sh - issue 12: paths on a link that is not a lab's
# perfect wire. Every site uplink and the root's link get 10 ms delay, 2 ms
# jitter and 1 % random loss (lab_impair; offloads off), from before the
# daemons start, so hole punching too runs over delay. Four members: m1, m2
# behind port-restricted NATs (a punched DIRECT path), m3, m4 behind symmetric
# NATs (relayed through the root). Asserts:
# - m3 <-> m4 relayed: 1000 1000-byte overlay pings 20 ms apart lose at most
#   1 - (1 - 0.01)^8 = 7.7 % + 3 points = 10.7 %: a relayed round trip crosses
#   8 impaired links (m3's uplink, the root's link twice, m4's uplink; back the
#   same), and zt may add at most 3 points of its own;
# - m1 <-> m2: DIRECT; after `lab_cut s1 s2` overlay traffic (a ping every
#   50 ms) stops for at most 2 s before it flows via RELAY, and after
#   `lab_heal` the first VL1 ping reply via DIRECT comes <= 5 s after the heal
#   (probes every 0.2 s, 0.3 s reply timeout each: ~0.5-1 s resolution);
# - m3 <-> m4 stays RELAY, with a relay_reason.
# Under ~3 minutes.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "${HERE%/pending}/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh
. tests/e2e/paths.sh

DELAY_MS=10 JITTER_MS=2 LOSS_PCT=1 CROSSINGS=8 SLACK_PTS=3
FAILOVER_MS=2000 BACK_MS=5000

impair_all() {
	local n
	for n in root s1 s2 s3 s4; do lab_impair "$n" delay "$DELAY_MS" jitter "$JITTER_MS" loss "$LOSS_PCT"; done
}
lab_init
PATHS_SETUP_HOOK=impair_all
paths_lab port-restricted port-restricted symmetric symmetric
A1=${PATHS_ADDR[m1]} A2=${PATHS_ADDR[m2]} A3=${PATHS_ADDR[m3]} A4=${PATHS_ADDR[m4]}
bound=$(awk -v p="$LOSS_PCT" -v n="$CROSSINGS" -v s="$SLACK_PTS" 'BEGIN { printf "%.1f", 100 * (1 - (1 - p / 100) ^ n) + s }')
echo "figure: impairment on the root's link and every site uplink: delay ${DELAY_MS} ms, jitter ${JITTER_MS} ms, loss ${LOSS_PCT} %"

# relayed pair: 1000 pings in the background while the direct pair is cut and healed
lab_exec m3 ping -c 2 -W 3 "${PATHS_IP[m4]}" >/dev/null || lab_exec m3 ping -c 3 -W 3 "${PATHS_IP[m4]}" >/dev/null ||
	paths_fail "no overlay ping m3 -> m4"
lab_bg m3 relayed-ping ping -n -q -c 1000 -i 0.02 -W 2 -s 1000 "${PATHS_IP[m4]}"

# direct pair
t0=$(zt_now_ms) direct_ms=
for _ in $(seq 1 100); do
	zt_cli m1 ping -c 1 -W 0.5 "$A2" >/dev/null 2>&1 || true
	if [ "$(zt_link m1 "$A2")" = DIRECT ] && [ "$(zt_link m2 "$A1")" = DIRECT ]; then direct_ms=$(($(zt_now_ms) - t0)); break; fi
	sleep 0.2
done
[ -n "$direct_ms" ] || { zt_cli m1 peers; paths_fail "m1 and m2 (port-restricted) never went DIRECT over the impaired links"; }
echo "figure: port-restricted pair DIRECT ${direct_ms} ms after the first probe"

# first_reply_via KIND LIMIT_MS: ms until a VL1 ping m1 -> m2 is answered via KIND ("" if never)
first_reply_via() {
	local kind=$1 limit=$2 t out
	t=$(zt_now_ms)
	while [ $(($(zt_now_ms) - t)) -lt $((limit * 3)) ]; do
		out=$(zt_cli m1 ping -c 1 -W 0.3 "$A2" 2>/dev/null || true)
		if echo "$out" | grep -q "via $kind"; then echo $(($(zt_now_ms) - t)); return 0; fi
		sleep 0.2
	done
	echo ""
}
# the overlay outage: longest time between two replies of a 50 ms overlay ping
# stream (-D stamps) from 1 s before the cut to the heal (both ends count: no
# reply at all in the window is an outage of the whole window)
now_us() { echo "${EPOCHREALTIME/./}"; }
lab_bg m1 cut-ping ping -n -D -i 0.05 -W 1 -w 16 "${PATHS_IP[m2]}"
sleep 1.5
t_cut=$(now_us)
lab_cut s1 s2
relay_ms=$(first_reply_via RELAY "$FAILOVER_MS")
lab_wait 6 eval '[ "$(zt_link m1 '"$A2"')" = RELAY ]' || true
sleep 1
t_heal=$(now_us)
lab_heal s1 s2
back_ms=$(first_reply_via DIRECT "$BACK_MS")
lab_bg_wait cut-ping 25 || true
gap_ms=$(awk -v a="$((t_cut - 1000000))" -v b="$t_heal" '/icmp_seq=/ { t = $1; gsub(/[][.]/, "", t); t += 0
		if (t < a || t > b) next; if (!p) p = a; if (t - p > g) g = t - p; p = t }
		END { if (!p) p = a; if (b - p > g) g = b - p; printf "%d", g / 1000 }' "$(lab_log cut-ping)")
echo "figure: lab_cut s1 s2: overlay outage (longest gap between replies of a 50 ms ping stream) ${gap_ms} ms (limit $FAILOVER_MS); first VL1 reply via RELAY after ${relay_ms:-never} ms (probe loop resolution ~0.5-1 s)"
echo "figure: lab_heal s1 s2: first VL1 reply via DIRECT after ${back_ms:-never} ms (limit $BACK_MS)"

lab_bg_wait relayed-ping 60 || true
read -r sent rcvd < <(awk '/packets transmitted/ { print $1, $4 }' "$(lab_log relayed-ping)")
rtt=$(awk '/^rtt/ { print $4 }' "$(lab_log relayed-ping)")
loss=$(awk -v s="${sent:-0}" -v r="${rcvd:-0}" 'BEGIN { printf "%.1f", s ? 100 * (s - r) / s : 100 }')
echo "figure: relayed m3 -> m4: $rcvd of $sent 1000-byte overlay pings answered, ${loss} % lost (bound 1-(1-${LOSS_PCT}%)^${CROSSINGS} + ${SLACK_PTS} = ${bound} %), rtt min/avg/max/mdev ${rtt:-none} ms"
l34=$(zt_link m3 "$A4") l43=$(zt_link m4 "$A3")
reason=$(zt_peer_field m3 "$A4" relay_reason)
echo "figure: symmetric pair: m3 -> m4 $l34, m4 -> m3 $l43, reason: $reason"
for m in root ctl m1 m2 m3 m4; do lab_alive "ztd-$m" || paths_fail "ztd in $m died"; done
echo "figure: $(lab_impair_stats)"

rc=0
if [ "${sent:-0}" = 1000 ] && awk -v l="$loss" -v b="$bound" 'BEGIN { exit !(l <= b) }'; then
	echo "PASS: relayed pair loses ${loss} % <= ${bound} % of 1000 pings over 8 impaired crossings"
else
	echo "FAIL: relayed pair lost ${loss} % of ${sent:-0} pings (bound ${bound} %)"
	rc=1
fi
if [ -n "$relay_ms" ] && [ "$gap_ms" -gt 0 ] && [ "$gap_ms" -le "$FAILOVER_MS" ]; then
	echo "PASS: a cut direct path fails over to RELAY: overlay traffic stops for ${gap_ms} ms <= $FAILOVER_MS ms"
else
	echo "FAIL: failover: overlay outage ${gap_ms} ms, first reply via RELAY after ${relay_ms:-never} ms (limit $FAILOVER_MS ms)"
	rc=1
fi
if [ -n "$back_ms" ] && [ "$back_ms" -le "$BACK_MS" ]; then
	echo "PASS: DIRECT again ${back_ms} ms <= $BACK_MS ms after the heal"
else
	echo "FAIL: DIRECT again only after ${back_ms:-forever} ms after the heal (limit $BACK_MS)"
	rc=1
fi
if [ "$l34" = RELAY ] && [ "$l43" = RELAY ] && [ "$reason" != null ] && [ "$reason" != NONE ]; then
	echo "PASS: the symmetric-NAT pair stays RELAY and says why"
else
	echo "FAIL: the symmetric-NAT pair reads $l34 / $l43, reason $reason"
	rc=1
fi
exit $rc
