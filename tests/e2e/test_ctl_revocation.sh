#!/usr/bin/env bash
# test_ctl_revocation.sh - a deauthorized member is cut off both ways, fast.
# A root and a controller on the public side, three members behind NAT
# routers, all authorized on a private network. m1 and m2 exchange frames
# (ping both ways, and timestamped one-way UDP streams each way with static
# neighbour entries, so ARP plays no part); m1 -> m3 is the control stream.
# The controller deauthorizes m2. Within 10 s m2 can neither send to nor
# receive from m1: pings both ways fail, and neither one-way stream delivers a
# single frame sent later than 10 s after the deauthorization. m1 <-> m3 keeps
# working throughout. Figures: when the pings failed, when each direction's
# last frame was sent, m2's status afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh

fail() { echo "FAIL: $*"; exit 1; }
TOOLS=tests/e2e/tools
LIMIT_MS=10000
STREAM_S=24 # one-way streams run this long; the deauthorization happens ~3 s in

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

NWID=$(zt_network_create ctl revnet 10.147.20.10 10.147.20.200 10.147.20.0/24)
echo "network $NWID"
declare -A A IP IF MAC
for i in 1 2 3; do
	A[$i]=$(zt_addr "m$i")
	zt_cli ctl controller member authorize "$NWID" "${A[$i]}" >/dev/null
	zt_cli "m$i" join "$NWID" >/dev/null
done
for i in 1 2 3; do
	lab_wait 30 zt_net_ok "m$i" "$NWID" || { zt_cli "m$i" networks; fail "m$i did not reach OK"; }
	IP[$i]=$(zt_net_ip "m$i" "$NWID")
	IF[$i]=$(zt_net_field "m$i" "$NWID" interface)
	MAC[$i]=$(zt_net_field "m$i" "$NWID" mac)
	[ -n "${IP[$i]}" ] || fail "m$i has no address"
done

ping_ok() { # FROM TO
	lab_exec "m$1" ping -c 1 -W 1 -I "${IF[$1]}" "${IP[$2]}" >/dev/null 2>&1
}
for p in "1 2" "2 1" "1 3" "3 1"; do
	set -- $p
	lab_wait 15 ping_ok "$1" "$2" || fail "before deauthorization: ping m$1 -> m$2 (${IP[$2]}) failed"
done
echo "PASS: before deauthorization m1 <-> m2 and m1 <-> m3 ping"

# static neighbours between m1 and m2: the one-way streams need no ARP
lab_exec m1 ip neigh replace "${IP[2]}" lladdr "${MAC[2]}" dev "${IF[1]}" nud permanent
lab_exec m2 ip neigh replace "${IP[1]}" lladdr "${MAC[1]}" dev "${IF[2]}" nud permanent

# one-way timestamped streams: m1 -> m2, m2 -> m1, m1 -> m3 (control)
lab_bg m2 rx12 python3 "$TOOLS/udp_stream.py" recv --port 7012 --duration $((STREAM_S + 4))
lab_bg m1 rx21 python3 "$TOOLS/udp_stream.py" recv --port 7021 --duration $((STREAM_S + 4))
lab_bg m3 rx13 python3 "$TOOLS/udp_stream.py" recv --port 7013 --duration $((STREAM_S + 4))
for r in rx12 rx21 rx13; do lab_wait 5 grep -q ready "$(lab_log $r)" || fail "$r did not start"; done
lab_bg m1 tx12 python3 "$TOOLS/udp_stream.py" send --to "${IP[2]}:7012" --tag m1-m2 --duration "$STREAM_S"
lab_bg m2 tx21 python3 "$TOOLS/udp_stream.py" send --to "${IP[1]}:7021" --tag m2-m1 --duration "$STREAM_S"
lab_bg m1 tx13 python3 "$TOOLS/udp_stream.py" send --to "${IP[3]}:7013" --tag m1-m3 --duration "$STREAM_S"
sleep 3
for r in rx12 rx21 rx13; do
	grep -q '^recv ' "$(lab_log $r)" || fail "stream $r carried nothing before the deauthorization"
done
echo "PASS: before deauthorization the one-way streams m1->m2, m2->m1, m1->m3 deliver"

# deauthorize m2
t0=$(zt_now_ms)
zt_cli ctl controller member deauthorize "$NWID" "${A[2]}" >/dev/null
api_ms=$(($(zt_now_ms) - t0))
cut_ms=""
deadline=$((t0 + 15000))
while [ "$(zt_now_ms)" -lt "$deadline" ]; do
	a=0 b=0
	ping_ok 1 2 && a=1
	ping_ok 2 1 && b=1
	if [ $a = 0 ] && [ $b = 0 ]; then
		cut_ms=$(($(zt_now_ms) - t0))
		break
	fi
	sleep 0.1
done
[ -n "$cut_ms" ] || fail "15 s after deauthorization m1 <-> m2 still ping (m1->m2 ok=$a, m2->m1 ok=$b)"
echo "figure: after deauthorization (API call ${api_ms} ms) pings m1->m2 and m2->m1 both fail at ${cut_ms} ms (1 s ping timeout included)"
[ "$cut_ms" -le "$LIMIT_MS" ] || fail "pings stopped only after $cut_ms ms (limit $LIMIT_MS)"

for p in tx12 tx21 tx13; do lab_bg_wait "$p" $((STREAM_S + 10)) || fail "$p did not finish"; done
for r in rx12 rx21 rx13; do lab_bg_wait "$r" 15 || fail "$r did not finish"; done

python3 - "$t0" "$LIMIT_MS" "$LAB_DIR" <<'EOF' || fail "one-way streams show m2 not cut off in time (or the control broke)"
import sys
t0 = int(sys.argv[1]) / 1000.0
limit = int(sys.argv[2]) / 1000.0
d = sys.argv[3]
def sent_times(name):
    ts = []
    for line in open("%s/%s.log" % (d, name)):
        if line.startswith("recv "):
            ts.append(float(line.split(" t=")[-1]))
    return sorted(ts)
def tx_summary(name):
    for line in open("%s/%s.log" % (d, name)):
        if line.startswith("sent "):
            return line.strip()
    return "?"
ok = True
for name, what in (("rx12", "m1 -> m2 (deauthorized receives)"), ("rx21", "m2 -> m1 (deauthorized sends)")):
    ts = sent_times(name)
    after = [t for t in ts if t > t0]
    last = (max(after) - t0) * 1000 if after else None
    late = [t for t in ts if t > t0 + limit]
    print("figure: %s: %d frames delivered before, %d after the deauthorization; last one sent %s ms after it; sender: %s" %
          (what, len([t for t in ts if t <= t0]), len(after), "%.0f" % last if last is not None else "-", tx_summary("tx" + name[2:])))
    if late:
        print("FAIL: %s: %d frames sent more than %.0f s after the deauthorization were delivered" % (what, len(late), limit))
        ok = False
ts = sent_times("rx13")
after = [t for t in ts if t > t0]
gaps = [b - a for a, b in zip([t0] + after, after)]
print("figure: control m1 -> m3: %d frames delivered after the deauthorization, largest gap %.0f ms" %
      (len(after), max(gaps or [0]) * 1000))
if len(after) < 10 or max(gaps or [99]) > 2.0:
    print("FAIL: the control stream m1 -> m3 was disturbed by m2's deauthorization")
    ok = False
sys.exit(0 if ok else 1)
EOF

# still cut off, both ways, while m1 <-> m3 works
for p in "1 2" "2 1"; do
	set -- $p
	ping_ok "$1" "$2" && fail "after the cut: ping m$1 -> m$2 works again"
done
ping_ok 1 3 && ping_ok 3 1 || fail "m1 <-> m3 broken after m2's deauthorization"
st=$(zt_net_field m2 "$NWID" status)
rs=$(zt_net_field m2 "$NWID" reason)
mem=$(zt_cli ctl -j controller member show "$NWID" "${A[2]}")
python3 -c 'import json,sys; m=json.loads(sys.argv[1]); assert m["authorized"] is False, m' "$mem" || fail "controller still shows m2 authorized"
echo "figure: m2 after deauthorization: status $st, reason '$rs'"
grep -h "revocation" "$LAB_DIR/ztd-ctl.log" | tail -n 2 || true
echo "PASS: within ${LIMIT_MS} ms the deauthorized member can neither send to nor receive from m1; m1 <-> m3 unaffected"

# no sanitizer report from any daemon during the run
if grep -lE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$LAB_DIR"/ztd-*.log 2>/dev/null; then
	fail "a sanitizer report in the daemons' logs (above)"
fi
