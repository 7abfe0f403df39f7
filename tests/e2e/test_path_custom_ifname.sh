#!/usr/bin/env bash
# test_path_custom_ifname.sh - issue 12: members whose TAP has a user-chosen
# name (`zt-join --ifname office0`, not starting with "zt") must never
# announce, learn or use a path inside the overlay itself (zt's UDP into its
# own TAP: a routing loop), nor take a root's endpoint for a direct path to a
# leaf. Two members behind port-restricted NATs (a punched direct path) and one
# behind a symmetric NAT (relayed). ztd has no setting for its local-endpoint
# refresh (ZTD_LOCAL_REFRESH_MS, 60 s, src/service/ztd.h), so the test ages
# the network past it: ~75 s of sampling `zt-cli -j peers` every 2 s on every
# member (tools/peers_watch.py) while overlay pings run. Then 1000-byte overlay pings must lose < 5 %
# and the TAPs' dropped counters stay low (<= 10).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "${HERE%/pending}/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh
. tests/e2e/paths.sh

AGE_S=${PATHS_AGE_S:-75} # > ZTD_LOCAL_REFRESH_MS (60 s) + a RENDEZVOUS round

lab_init
paths_lab port-restricted port-restricted symmetric -- --ifname office0
for m in m1 m2 m3; do
	[ "${PATHS_IF[$m]}" = office0 ] || paths_fail "$m's interface is ${PATHS_IF[$m]}, not office0"
done
echo "figure: members on TAPs named office0: m1 ${PATHS_IP[m1]}, m2 ${PATHS_IP[m2]}, m3 ${PATHS_IP[m3]} (overlay $PATHS_OVERLAY)"
lab_exec m1 ping -c 2 -W 3 "${PATHS_IP[m2]}" >/dev/null || paths_fail "no overlay ping m1 -> m2"
lab_exec m1 ping -c 2 -W 3 "${PATHS_IP[m3]}" >/dev/null || paths_fail "no overlay ping m1 -> m3"

# background overlay traffic all along (bounded), so peers keep talking and
# the roots keep introducing them (RENDEZVOUS)
for pair in "m1 m2" "m1 m3" "m2 m3"; do
	set -- $pair
	lab_bg "$1" "bgping-$1-$2" ping -n -q -i 0.5 -w "$((AGE_S + 5))" -s 1000 "${PATHS_IP[$2]}"
done

paths_watch "$AGE_S" 2 m1 m2 m3 || paths_fail "could not sample the peers"
samples=${PATHS_W[samples]} bad_samples=${PATHS_W[bad_samples]} first_bad=${PATHS_W[first_bad_ms]}
echo "figure: ${AGE_S} s of sampling every 2 s after the join (local-endpoint refresh 60 s): $bad_samples of $samples peer-list samples (${PATHS_W[failed_reads]} failed reads) show a path inside the overlay or at a root for a leaf$([ "$first_bad" = - ] || echo ", the first $((first_bad / 1000)) s into the sampling")"
grep -o '[0-9a-f]\{10\}:[0-9./]*-[a-z-]*' "$LAB_DIR/watch.txt" | sort | uniq -c | sort -rn | head -n 6 | sed 's/^/  /' || true
[ "$samples" -ge 30 ] || paths_fail "only $samples samples of the peer lists in ${AGE_S} s: the machine is too loaded to judge"

read -r _ _ l12 a12 < <(paths_ping m1 "${PATHS_IP[m2]}" 100 0.05 1000)
read -r _ _ l13 a13 < <(paths_ping m1 "${PATHS_IP[m3]}" 100 0.05 1000)
echo "figure: after ${AGE_S} s, 100 1000-byte overlay pings: m1 -> m2 (direct) ${l12}% lost, avg ${a12} ms; m1 -> m3 (relayed) ${l13}% lost, avg ${a13} ms"
drops=
max_drop=0
for m in m1 m2 m3; do
	read -r rxd txd < <(paths_tap_drops "$m")
	drops+="$m rx $rxd tx $txd; "
	[ "$rxd" -gt "$max_drop" ] && max_drop=$rxd
	[ "$txd" -gt "$max_drop" ] && max_drop=$txd
done
echo "figure: office0 dropped counters: $drops"
for m in root ctl m1 m2 m3; do lab_alive "ztd-$m" || paths_fail "ztd in $m died"; done

rc=0
if [ "$bad_samples" = 0 ]; then
	echo "PASS: no member ever lists a path inside the overlay prefix or at a root's endpoint for a leaf"
else
	echo "FAIL: $bad_samples peer-list samples list a path inside the overlay prefix or at a root's endpoint for a leaf"
	rc=1
fi
if awk -v a="$l12" -v b="$l13" 'BEGIN { exit !(a < 5 && b < 5) }'; then
	echo "PASS: 1000-byte overlay pings lose < 5 % (direct and relayed) after the local-endpoint refresh"
else
	echo "FAIL: 1000-byte overlay pings lose ${l12}% (m1 -> m2) and ${l13}% (m1 -> m3); want < 5 %"
	rc=1
fi
own_drops=
own_total=0
for m in m1 m2 m3; do
	v=$(zt_cli "$m" -j info | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["drop_own_overlay"])')
	own_drops+="$m $v; "
	own_total=$((own_total + v))
done
echo "figure: underlay datagrams refused because they came through our own overlay (stats.drop_own_overlay): $own_drops"
if [ "$own_total" = 0 ]; then
	echo "PASS: no underlay datagram ever came in through an overlay interface"
else
	echo "FAIL: $own_total underlay datagrams came in through an overlay interface (a routing loop was attempted)"
	rc=1
fi
# Provoke the guard once: a datagram to m1's ztd port sent *through the overlay*
# (m2 -> m1's overlay address) arrives on m1's office0 and must be refused and counted.
before=$(zt_cli m1 -j info | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["drop_own_overlay"])')
for _ in 1 2 3; do lab_exec m2 bash -c "echo loop > /dev/udp/${PATHS_IP[m1]}/9993" || true; sleep 0.2; done
after=$(zt_cli m1 -j info | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["drop_own_overlay"])')
echo "figure: 3 datagrams sent to m1's ztd port through the overlay: m1's drop_own_overlay went from $before to $after"
if [ "$after" -ge $((before + 3)) ]; then
	echo "PASS: underlay datagrams that arrive on our own overlay interface are dropped and counted"
else
	echo "FAIL: datagrams through the overlay to ztd's port were not counted as drop_own_overlay"
	rc=1
fi
if [ "$max_drop" -le 10 ]; then
	echo "PASS: TAP dropped counters stay low (max $max_drop <= 10)"
else
	echo "FAIL: TAP dropped counters reach $max_drop (> 10)"
	rc=1
fi
exit $rc
