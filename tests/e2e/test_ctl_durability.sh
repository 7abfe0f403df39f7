#!/usr/bin/env bash
# test_ctl_durability.sh - the controller survives SIGKILL without losing an
# acknowledged change or a hook event.
# A controller (and a root, for its config) on a public host; a private
# network with a tag definition, an IPv4 pool and a web hook whose receiver is
# DOWN at first. A stream of STREAM_CALLS REST calls (tools/ctl_api.py stream,
# inside the controller's namespace, straight to 127.0.0.1 with the token)
# creates, updates (name, description, authorized, tags) and deletes members;
# each call is logged with whether it got a 2xx. The controller is killed with
# SIGKILL twice in the middle of the stream and restarted on the same HOME;
# the stream waits for it and goes on. Then the receiver comes up: the outbox
# retries; the controller is SIGKILLed once more while it delivers. Checks
# (ctl_api.py verify-durability): every acknowledged change is what the API
# returns (a later unacknowledged call of the same member may also have
# committed), no unknown member, unique IPs, revisions rising in call order,
# every acknowledged change has its event in the outbox, every outbox event
# is delivered and was received with a valid signature, nothing received that
# the outbox does not know.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh
. tests/e2e/zt.sh

fail() { echo "FAIL: $*"; exit 1; }
TOOLS=tests/e2e/tools
STREAM_CALLS=${STREAM_CALLS:-200}
STREAM_GAP=${STREAM_GAP:-0}
[ "$STREAM_CALLS" -ge 16 ] || { echo "FAIL: STREAM_CALLS must be at least 16"; exit 1; }

lab_init
lab_public_host root
lab_public_host ctl
zt_root root
zt_controller ctl
CTL_HOME=$(zt__home ctl)
api() { lab_exec ctl python3 "$TOOLS/ctl_api.py" req --home "$CTL_HOME" "$@"; }

NWID=$(zt_network_create ctl durnet 10.77.0.1 10.77.3.254 10.77.0.0/22)
echo "network $NWID"
zt_cli ctl controller network set "$NWID" tags '[{"id": 1, "name": "seq"}]' >/dev/null

# the hook points at a receiver that is not running yet
SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
EVENTS=$LAB_DIR/hook-events.jsonl
HPORT=$((20000 + RANDOM % 10000)) # below the ephemeral port range
URL="http://127.0.0.1:$HPORT/zt-hook"
zt_cli ctl controller network set "$NWID" hook "$URL" "$SECRET" >/dev/null

restart_ctl() {
	lab_bg ctl ztd-ctl "$ZT_BIN/ztd" -H "$CTL_HOME" --controller || return 1
	zt__wait_api ctl
}
sigkill_ctl() { # LABEL: SIGKILL the controller, check it died of it, restart it
	local t rc
	t=$(zt_now_ms)
	lab_kill ztd-ctl KILL
	lab_wait 5 test -s "$LAB_DIR/ztd-ctl.rc" || fail "ztd-ctl exit status not recorded"
	rc=$(cat "$LAB_DIR/ztd-ctl.rc")
	[ "$rc" = 137 ] || fail "controller ended with status $rc, not SIGKILL (137)"
	restart_ctl || fail "controller did not come back after SIGKILL ($1)"
	echo "figure: SIGKILL $1; controller back on the same HOME in $(($(zt_now_ms) - t)) ms"
}
log_lines() { [ -f "$LAB_DIR/stream.jsonl" ] && wc -l <"$LAB_DIR/stream.jsonl" || echo 0; }
stream_at_least() { [ "$(log_lines)" -ge "$1" ]; }

# the stream of member changes, killed twice in its middle
t_stream=$(zt_now_ms)
lab_bg ctl stream python3 "$TOOLS/ctl_api.py" stream --home "$CTL_HOME" --nwid "$NWID" \
	--calls "$STREAM_CALLS" --log "$LAB_DIR/stream.jsonl" --gap "$STREAM_GAP" --down-timeout 60
K1=$((STREAM_CALLS / 4 + RANDOM % (STREAM_CALLS / 8)))
K2=$((STREAM_CALLS * 5 / 8 + RANDOM % (STREAM_CALLS / 8)))
KILLS=0
for k in "$K1" "$K2"; do
	LAB_WAIT_INTERVAL=0.01 lab_wait 60 stream_at_least "$k" || { cat "$(lab_log stream)"; fail "the stream did not reach $k calls"; }
	if ! lab_alive stream; then
		echo "note: the stream had ended before call $k; no SIGKILL there (raise STREAM_CALLS or STREAM_GAP)"
		continue
	fi
	sigkill_ctl "during the stream, after $(log_lines) logged calls"
	KILLS=$((KILLS + 1))
done
[ "$KILLS" -ge 1 ] || fail "no SIGKILL happened during the stream"
lab_bg_wait stream 120 || { cat "$(lab_log stream)"; fail "the stream failed or did not finish"; }
cat "$(lab_log stream)"
python3 - "$LAB_DIR/stream.jsonl" "$t_stream" <<'EOF'
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
bad = [c for c in calls if not c["acked"]]
print("figure: stream of %d calls in %.1f s; not acknowledged: %s" %
      (len(calls), calls[-1]["t1"] - int(sys.argv[2]) / 1000,
       "; ".join("#%d %s %s %s (%s)" % (c["i"], c["op"], c["member"], "in flight at the SIGKILL" if c.get("sent", True) else "refused while down", c["error"]) for c in bad) or "none"))
EOF

# deliveries so far: the receiver is down, so they are pending with errors
pending=$(api GET "/controller/network/$NWID/hook/delivery" | python3 -c '
import json, sys
dl = json.load(sys.stdin)
p = [d for d in dl if d["state"] == "pending"]
errs = sorted({d["last_error"] for d in dl if d["last_error"]})
print("%d of %d pending, max attempts %d, errors: %s" % (len(p), len(dl), max([d["attempts"] for d in dl] or [0]), "; ".join(errs)))')
echo "figure: receiver down: $pending"

# the receiver comes up; SIGKILL the controller again while it delivers
lab_bg ctl hook python3 "$TOOLS/hook_receiver.py" --secret "$SECRET" --events "$EVENTS" --port "$HPORT"
lab_wait 10 grep -q listening "$(lab_log hook)" || { cat "$(lab_log hook)"; fail "hook receiver did not start"; }
received() { [ -f "$EVENTS" ] && [ "$(wc -l <"$EVENTS")" -ge "$1" ]; }
if lab_wait 60 received 5; then
	sigkill_ctl "while delivering, after $(wc -l <"$EVENTS") requests received"
	KILLS=$((KILLS + 1))
else
	fail "the receiver got nothing within 60 s of coming up"
fi

# every delivery ends delivered (bounded: retries back off up to ~30 s here)
t_up=$(zt_now_ms)
lab_exec ctl python3 "$TOOLS/ctl_api.py" wait-deliveries --home "$CTL_HOME" --nwid "$NWID" --timeout 180 >/dev/null ||
	{ api GET "/controller/network/$NWID/hook/delivery" | head -60; fail "hook deliveries not all delivered within 180 s"; }
echo "figure: all hook deliveries delivered $(($(zt_now_ms) - t_up)) ms after the last restart"
lab_exec ctl python3 "$TOOLS/ctl_api.py" verify-durability --home "$CTL_HOME" --nwid "$NWID" \
	--log "$LAB_DIR/stream.jsonl" --events "$EVENTS" --secret "$SECRET" ||
	{ grep -iE "error|warn" "$LAB_DIR/ztd-ctl.log" | tail -n 20; fail "durability check failed"; }
echo "PASS: after $KILLS SIGKILLs every acknowledged change is in the store and every outbox event reached the receiver"

# no sanitizer report from any daemon during the run
if grep -lE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$LAB_DIR"/ztd-*.log 2>/dev/null; then
	fail "a sanitizer report in the daemons' logs (above)"
fi
