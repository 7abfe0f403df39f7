#!/usr/bin/env bash
# test_ctl_approve_later.sh - a web hook that only acknowledges: approve later.
# The private network's hook (tools/hook_receiver.py in the controller's
# namespace) answers 200 with an empty body: no decision. A joining node gets
# member.join_requested delivered but stays REQUESTING_CONFIGURATION
# ("awaiting approval") for as long as we watch; then the test approves it
# through the REST API (zt-cli controller member authorize): the node reaches
# OK, gets an address and pings another member both ways. Every hook
# delivery (GET /controller/network/{nwid}/hook/delivery) is "delivered", and
# the receiver got every event id of the outbox with a valid signature.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh

fail() { echo "FAIL: $*"; exit 1; }
TOOLS=tests/e2e/tools
HOLD_S=${HOLD_S:-6} # how long the unapproved member is watched

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
A1=$(zt_addr m1)
A2=$(zt_addr m2)

NWID=$(zt_network_create ctl laternet 10.147.19.10 10.147.19.200 10.147.19.0/24)
echo "network $NWID"

SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
EVENTS=$LAB_DIR/hook-events.jsonl
# no --decision: 200 with an empty body, a plain acknowledgement
lab_bg ctl hook python3 "$TOOLS/hook_receiver.py" --secret "$SECRET" --events "$EVENTS" --port-file "$LAB_DIR/hook.port"
lab_wait 10 test -s "$LAB_DIR/hook.port" || { cat "$(lab_log hook)"; fail "hook receiver did not start"; }
URL="http://127.0.0.1:$(cat "$LAB_DIR/hook.port")/zt-hook"
zt_cli ctl controller network set "$NWID" hook "$URL" "$SECRET" >/dev/null

events_for() { # TYPE MEMBER -> count of valid requests
	python3 - "$EVENTS" "$1" "$2" <<'EOF'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        ev = r.get("event") or {}
        if r.get("valid") and ev.get("type") == sys.argv[2] and ev.get("member_id") == sys.argv[3]:
            n += 1
except FileNotFoundError:
    pass
print(n)
EOF
}
has_event() { [ "$(events_for "$1" "$2")" -ge 1 ]; }
deliveries() { lab_exec ctl python3 "$TOOLS/ctl_api.py" req --home "$CTL_HOME" GET "/controller/network/$NWID/hook/delivery"; }
delivery_state() { # TYPE MEMBER -> state of that delivery (or NONE)
	deliveries | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin) if x["type"] == sys.argv[1] and x["member_id"] == sys.argv[2]]
print(d[0]["state"] if d else "NONE")' "$1" "$2"
}
delivered() { [ "$(delivery_state "$1" "$2")" = delivered ]; }

# m2: pre-authorized through the API before it ever asks (no join_requested then)
zt_cli ctl controller member authorize "$NWID" "$A2" >/dev/null
lab_exec m2 "$ZT_BIN/zt-join" -H "$(zt__home m2)" -w 30 "$NWID" >/dev/null || { zt_cli m2 networks; fail "pre-authorized m2 did not reach OK"; }

# m1 joins: the hook is told, only acknowledges
t_join=$(zt_now_ms)
zt_cli m1 join "$NWID" >/dev/null
lab_wait 20 has_event member.join_requested "$A1" || { cat "$EVENTS" 2>/dev/null; fail "receiver got no member.join_requested for m1"; }
lab_wait 10 delivered member.join_requested "$A1" || fail "m1's join_requested delivery is $(delivery_state member.join_requested "$A1"), not delivered"
lab_exec ctl python3 "$TOOLS/ctl_api.py" verify-sig --secret "$SECRET" --events "$EVENTS" --type member.join_requested ||
	fail "independent check of X-Zt-Signature failed"
echo "figure: member.join_requested for m1 delivered (2xx, empty body) $(($(zt_now_ms) - t_join)) ms after zt-cli join"
lab_wait 20 zt_net_reason_has m1 "$NWID" "awaiting approval" || true

# it must stay waiting: sample the status for HOLD_S seconds
samples=0
end=$(($(date +%s) + HOLD_S))
while [ "$(date +%s)" -lt "$end" ]; do
	st=$(zt_net_field m1 "$NWID" status)
	rs=$(zt_net_field m1 "$NWID" reason)
	[ "$st" = REQUESTING_CONFIGURATION ] || fail "unapproved m1 is $st (reason: $rs), should be REQUESTING_CONFIGURATION"
	case "$rs" in *"awaiting approval"*) ;; *) fail "unapproved m1's reason should say awaiting approval: $rs" ;; esac
	samples=$((samples + 1))
	sleep 0.5
done
mem=$(zt_cli ctl -j controller member show "$NWID" "$A1")
python3 -c 'import json,sys; m=json.loads(sys.argv[1]); assert m["authorized"] is False and m["identity"], m' "$mem" ||
	fail "controller should hold m1 unauthorized with its identity: $mem"
[ "$(events_for member.authorized "$A1")" = 0 ] || fail "an acknowledgement without decision authorized m1"
IF1=$(zt_net_field m1 "$NWID" interface)
if [ -n "$IF1" ] && [ "$IF1" != None ] && lab_exec m1 ip link show dev "$IF1" >/dev/null 2>&1; then
	v4=$(lab_exec m1 ip -4 -o addr show dev "$IF1")
	[ -z "$v4" ] || fail "unapproved m1 already has IPv4 addresses on $IF1: $v4"
	tap="exists, no IPv4 address"
else
	tap="not created yet"
fi
echo "figure: m1 still REQUESTING_CONFIGURATION ($rs) after ${HOLD_S} s, $samples samples; TAP $IF1: $tap"
echo "PASS: a 2xx without decision leaves the member awaiting approval"

# approve through the REST API
t0=$(zt_now_ms)
zt_cli ctl controller member authorize "$NWID" "$A1" >/dev/null
lab_wait 20 zt_net_ok m1 "$NWID" || { zt_cli m1 networks; fail "m1 did not reach OK after authorization"; }
ok_ms=$(($(zt_now_ms) - t0))
echo "figure: m1 OK ${ok_ms} ms after zt-cli controller member authorize"
zt_cli m1 networks

IP1=$(zt_net_ip m1 "$NWID")
IP2=$(zt_net_ip m2 "$NWID")
IF1=$(zt_net_field m1 "$NWID" interface)
IF2=$(zt_net_field m2 "$NWID" interface)
[ -n "$IP1" ] && [ -n "$IP2" ] || fail "missing addresses: m1 '$IP1' m2 '$IP2'"
lab_wait 15 lab_exec m1 ping -c 1 -W 2 -I "$IF1" "$IP2" >/dev/null || fail "ping m1 -> m2 ($IP2) failed"
lab_exec m1 ping -c 3 -W 3 -I "$IF1" "$IP2" >/dev/null || fail "ping m1 -> m2 ($IP2) failed"
lab_exec m2 ping -c 3 -W 3 -I "$IF2" "$IP1" >/dev/null || fail "ping m2 -> m1 ($IP1) failed"
echo "PASS: approved later through the API, m1 ($IP1) and m2 ($IP2) ping each other"

# deliveries through the REST API: all delivered, and the receiver has every event id
lab_wait 10 has_event member.authorized "$A1" || fail "receiver got no member.authorized for m1"
dl=$(lab_exec ctl python3 "$TOOLS/ctl_api.py" wait-deliveries --home "$CTL_HOME" --nwid "$NWID" --timeout 20) ||
	{ echo "$dl"; fail "hook deliveries not all delivered"; }
python3 - "$dl" "$EVENTS" "$A1" "$A2" "$URL" <<'EOF' || fail "hook deliveries are not as expected"
import json, sys
dl = json.loads(sys.argv[1])
recs = [json.loads(l) for l in open(sys.argv[2])]
a1, a2, url = sys.argv[3], sys.argv[4], sys.argv[5]
got = {r["event"]["id"]: r for r in recs if r["valid"] and r["event"]}
fields = {"delivery_id", "event_id", "type", "network_id", "member_id", "url", "state", "attempts", "next_attempt",
          "last_error", "created", "updated"}
for d in dl:
    assert fields <= set(d), ("missing fields", d)
    assert d["state"] == "delivered" and d["next_attempt"] is None and d["url"] == url and d["attempts"] >= 1, d
    assert d["event_id"] in got, ("delivered but the receiver never got it", d)
    assert got[d["event_id"]]["event"]["type"] == d["type"], (d, got[d["event_id"]]["event"]["type"])
kinds = [(d["type"], d["member_id"]) for d in dl]
for want in [("member.join_requested", a1), ("member.authorized", a1), ("member.authorized", a2)]:
    assert want in kinds, ("no delivery for", want, kinds)
assert ("member.join_requested", a2) not in kinds, "pre-authorized m2 should not be announced as join_requested"
ids = [d["delivery_id"] for d in dl]
assert ids == sorted(ids, reverse=True), ("not newest first", ids)
print("figure: %d hook deliveries, all delivered: %s" % (len(dl), ", ".join("%s(%s)x%d" % (d["type"], d["member_id"], d["attempts"]) for d in reversed(dl))))
EOF
echo "PASS: GET /controller/network/$NWID/hook/delivery shows every delivery delivered, each received with a valid signature"

# no sanitizer report from any daemon during the run
if grep -lE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$LAB_DIR"/ztd-*.log 2>/dev/null; then
	fail "a sanitizer report in the daemons' logs (above)"
fi
