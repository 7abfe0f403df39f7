#!/usr/bin/env bash
# test_ctl_hook_approve.sh - a web hook approves a joining member.
# A root and a controller on the public side, two members behind NAT routers.
# The private network's hook is a real HTTP receiver (tools/hook_receiver.py)
# in the controller's namespace on 127.0.0.1 that answers {"authorize": true}.
# A new node runs zt-join -w: the receiver gets member.join_requested with a
# valid X-Zt-Signature (checked again here, independently, with python3 hmac),
# its decision authorizes the member, member.authorized follows, the node
# reaches OK with an address from the pool and pings the other member (both
# ways) over the virtual network. Figure: time from zt-join to OK.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh

fail() { echo "FAIL: $*"; exit 1; }
TOOLS=tests/e2e/tools

lab_init
lab_public_host root
lab_public_host ctl
for i in 1 2; do
	lab_site "s$i" port-restricted
	lab_site_host "s$i" "m$i"
done
zt_root root
zt_controller ctl
for i in 1 2; do zt_node "m$i"; done
CTL_HOME=$(zt__home ctl)

NWID=$(zt_network_create ctl hooknet 10.147.18.10 10.147.18.200 10.147.18.0/24)
echo "network $NWID"

# the hook receiver, in the controller's namespace
SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
EVENTS=$LAB_DIR/hook-events.jsonl
lab_bg ctl hook python3 "$TOOLS/hook_receiver.py" --secret "$SECRET" --events "$EVENTS" \
	--port-file "$LAB_DIR/hook.port" --decision '{"authorize": true}'
lab_wait 10 test -s "$LAB_DIR/hook.port" || { cat "$(lab_log hook)"; fail "hook receiver did not start"; }
PORT=$(cat "$LAB_DIR/hook.port")
URL="http://127.0.0.1:$PORT/zt-hook"
zt_cli ctl controller network set "$NWID" hook "$URL" "$SECRET" >/dev/null
net_json=$(zt_cli ctl -j controller network show "$NWID")
grep -q "$SECRET" <<<"$net_json" && fail "the network's GET reply shows the hook secret"
python3 -c 'import json,sys; h=json.loads(sys.argv[1])["hooks"]; assert h and h[0]["url"]==sys.argv[2] and h[0]["secret_set"] is True, h' \
	"$net_json" "$URL" || fail "hook not set as expected: $net_json"
echo "PASS: hook set ($URL), secret write-only"

# events of a given type for a given member, as recorded by the receiver
events_for() { # TYPE MEMBER
	python3 - "$EVENTS" "$1" "$2" <<'EOF'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        ev = r.get("event") or {}
        if r.get("event_type") == sys.argv[2] and ev.get("type") == sys.argv[2] and ev.get("member_id") == sys.argv[3]:
            n += 1
except FileNotFoundError:
    pass
print(n)
EOF
}
has_event() { [ "$(events_for "$1" "$2")" -ge 1 ]; }

# m2 joins first (approved by the hook too): the member to ping
A1=$(zt_addr m1)
A2=$(zt_addr m2)
lab_exec m2 "$ZT_BIN/zt-join" -H "$(zt__home m2)" -w 30 "$NWID" >/dev/null ||
	{ zt_cli m2 networks; cat "$EVENTS" 2>/dev/null; fail "m2 did not reach OK through the hook"; }

# the measured join: zt-join -w on m1
t0=$(zt_now_ms)
if ! lab_exec m1 "$ZT_BIN/zt-join" -H "$(zt__home m1)" -w 30 "$NWID"; then
	zt_cli m1 networks || true
	zt_cli ctl controller member show "$NWID" "$A1" || true
	cat "$EVENTS" 2>/dev/null || true
	fail "zt-join -w 30 on m1 did not reach OK"
fi
join_ms=$(($(zt_now_ms) - t0))
zt_net_ok m1 "$NWID" || fail "zt-join returned but m1's status is $(zt_net_field m1 "$NWID" status)"
echo "figure: zt-join -> OK through the hook's decision in ${join_ms} ms"
zt_cli m1 networks

# what the receiver saw
lab_wait 10 has_event member.join_requested "$A1" || fail "receiver got no member.join_requested for m1"
lab_wait 10 has_event member.authorized "$A1" || fail "receiver got no member.authorized for m1 after its decision"
python3 - "$EVENTS" "$A1" "$NWID" "$SECRET" <<'EOF' || fail "member.join_requested for m1 is not as documented"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
jr = [r for r in recs if r["event_type"] == "member.join_requested" and (r["event"] or {}).get("member_id") == sys.argv[2]]
r = jr[0]
ev = r["event"]
assert r["valid"] and r["status"] == 200, r
assert ev["type"] == "member.join_requested" and ev["network_id"] == sys.argv[3], ev
assert ev["member"]["address"] == sys.argv[2] and ev["member"]["authorized"] is False, ev["member"]
assert ev["network"]["id"] == sys.argv[3] and all("secret" not in h for h in ev["network"]["hooks"]), ev["network"]
assert sys.argv[4] not in r["body"], "the event body carries the hook secret"
assert isinstance(ev["id"], str) and ev["id"] and isinstance(ev["time"], int), ev
print("figure: event %s %s member %s, signature %s" % (ev["id"], ev["type"], ev["member_id"], r["signature"][:40] + "..."))
EOF
lab_exec ctl python3 "$TOOLS/ctl_api.py" verify-sig --secret "$SECRET" --events "$EVENTS" --type member.join_requested ||
	fail "independent check of X-Zt-Signature failed"
lab_exec ctl python3 "$TOOLS/ctl_api.py" verify-sig --secret "$SECRET" --events "$EVENTS" >/dev/null ||
	fail "some hook request had an invalid signature"
echo "PASS: member.join_requested arrived with a valid X-Zt-Signature (verified independently with hmac)"

mem=$(zt_cli ctl -j controller member show "$NWID" "$A1")
python3 -c 'import json,sys; m=json.loads(sys.argv[1]); assert m["authorized"] is True and m["ip_assignments"], m' "$mem" ||
	fail "controller does not show m1 authorized with an address: $mem"
echo "PASS: the hook's decision authorized the member (member.authorized followed)"

# deliveries: all delivered, the join_requested one without error
dl=$(lab_exec ctl python3 "$TOOLS/ctl_api.py" wait-deliveries --home "$CTL_HOME" --nwid "$NWID" --timeout 20) ||
	{ echo "$dl"; fail "hook deliveries not all delivered"; }
python3 - "$dl" "$A1" <<'EOF' || fail "delivery record of m1's join_requested is wrong"
import json, sys
dl = json.loads(sys.argv[1])
d = [x for x in dl if x["type"] == "member.join_requested" and x["member_id"] == sys.argv[2]]
assert len(d) == 1, d
d = d[0]
assert d["state"] == "delivered" and d["last_error"] is None and d["next_attempt"] is None and d["attempts"] == 1, d
print("figure: %d deliveries, all delivered; m1's join_requested: attempts %d, last_error %s" % (len(dl), d["attempts"], d["last_error"]))
EOF

# ping over the virtual network, both ways
IP1=$(zt_net_ip m1 "$NWID")
IP2=$(zt_net_ip m2 "$NWID")
IF1=$(zt_net_field m1 "$NWID" interface)
IF2=$(zt_net_field m2 "$NWID" interface)
[ -n "$IP1" ] && [ -n "$IP2" ] || fail "missing addresses: m1 '$IP1' m2 '$IP2'"
lab_wait 15 lab_exec m1 ping -c 1 -W 2 -I "$IF1" "$IP2" >/dev/null || fail "ping m1 -> m2 ($IP2) failed"
lab_exec m1 ping -c 3 -W 3 -I "$IF1" "$IP2" | tail -n 1
lab_exec m2 ping -c 3 -W 3 -I "$IF2" "$IP1" >/dev/null || fail "ping m2 -> m1 ($IP1) failed"
echo "PASS: hook-approved m1 ($IP1) and m2 ($IP2) ping each other over the virtual network"

# no sanitizer report from any daemon during the run
if grep -lE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$LAB_DIR"/ztd-*.log 2>/dev/null; then
	fail "a sanitizer report in the daemons' logs (above)"
fi
