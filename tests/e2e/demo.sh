#!/usr/bin/env bash
# tests/e2e/demo.sh - a complete zt network on this machine, in network namespaces.
#
#   make demo            (= ZT_BIN=build/san/bin bash tests/e2e/demo.sh)
#   make demo-stop       (= bash tests/e2e/demo.sh --stop)
#
# Builds, with the namespace lab (tests/e2e/lab.sh): an "internet" router; a
# root server and a network controller on public addresses; three sites (home,
# office, cafe) behind NAT routers of different kinds, with one member each
# (alice, bob, carol). The controller's web hook is a small HTTP receiver that
# approves every join. The demo creates a private network, the members join and
# are approved by the hook, then it shows `zt-cli peers` and `zt-cli networks`,
# pings across sites, and publishes an mDNS service with avahi at one site that
# avahi-browse discovers at the others. Then it prints how to poke at it and
# waits: Ctrl-C (or `make demo-stop` from another terminal) tears it all down.
#
# Environment:
#   ZT_BIN=DIR        ztd and zt-cli to use (default build/san/bin)
#   DEMO_EXIT=1       do not wait: tear down after showing everything; exit 0
#                     only if the join, the pings and the mDNS discovery worked
#   DEMO_NATS="K K K" NAT kinds of the three sites (default
#                     "port-restricted full-cone symmetric"; lab_site kinds)
#   NO_COLOR=1        plain output
#   LAB_KEEP=1        keep the run directory (logs, state) after teardown
#
# Needs root, bash >= 5, iproute2, iptables, python3, iputils-ping, and for the
# mDNS part avahi-daemon, avahi-utils and dbus-daemon (util-linux nsenter).
# Every wait is bounded; everything the demo creates lives in namespaces named
# ztlXXXX-* and a run directory under /tmp/ztlab, and is removed at the end.

set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd)
DEMO_PIDFILE=/run/zt-demo.pid

# ------------------------------------------------------------------ output
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' C=$'\e[36m' N=$'\e[0m'
else
	B= D= G= R= Y= C= N=
fi
T0=${EPOCHREALTIME/[.,]/}
T0=${T0:0:13}
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo "${t:0:13}"; }
elapsed() { local ms=$(($(now_ms) - T0)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
secs() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); } # ms -> "1.2 s"
SECTION=0
section() {
	SECTION=$((SECTION + 1))
	printf '\n%s== %d. %s%s %s(t=%s s)%s\n' "$B" "$SECTION" "$*" "$N" "$D" "$(elapsed)" "$N"
}
say() { printf '   %s\n' "$*"; }
note() { printf '   %s%s%s\n' "$D" "$*" "$N"; }
ok() { printf '   %s✔%s %s\n' "$G" "$N" "$*"; }
bad() { printf '   %s✘ %s%s\n' "$R" "$*" "$N"; }
indent() { sed 's/^/     /'; }
cmdline() { printf '     %s$ %s%s\n' "$C" "$*" "$N"; }

die() {
	bad "$*"
	local f
	if [ -n "${LAB_DIR:-}" ]; then
		for f in "$LAB_DIR"/ztd-*.log "$LAB_DIR"/hook.log "$LAB_DIR"/avahi-*.log; do
			[ -s "$f" ] || continue
			printf '   %s--- last lines of %s%s\n' "$D" "${f##*/}" "$N"
			tail -n 12 "$f" | indent
		done
	fi
	printf '\n%sThe demo failed; tearing down.%s\n' "$R" "$N"
	exit 1
}

# ------------------------------------------------------------------ --stop
if [ "${1:-}" = --stop ]; then
	[ "$(id -u)" = 0 ] || { echo "demo-stop: must run as root" >&2; exit 1; }
	. tests/e2e/lab.sh
	pid= pfx=
	[ -r "$DEMO_PIDFILE" ] && read -r pid pfx _ <"$DEMO_PIDFILE"
	if [[ ${pid:-} =~ ^[0-9]+$ ]] && grep -qa 'demo.sh' "/proc/$pid/cmdline" 2>/dev/null; then
		echo "Stopping the zt demo (pid $pid, run $pfx)..."
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 300); do
			[ -e "/run/ztlab/$pfx" ] || kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null || [ -e "/run/ztlab/$pfx" ]; then
			echo "the demo did not stop within 30 s; killing it and cleaning up"
			kill -KILL "$pid" 2>/dev/null
			sleep 0.2
			lab_cleanup_stale
		else
			echo "Stopped: every namespace, daemon and file of the demo is gone."
		fi
	else
		echo "No zt demo is running; removing leftovers of crashed lab runs, if any."
		lab_cleanup_stale
	fi
	rm -f "$DEMO_PIDFILE"
	exit 0
fi
[ $# = 0 ] || { echo "usage: $0 [--stop]   (env: ZT_BIN, DEMO_EXIT=1, DEMO_NATS, NO_COLOR)" >&2; exit 2; }

# ------------------------------------------------------------------ checks
ZT_BIN=${ZT_BIN:-build/san/bin}
ZT_BIN=$(cd "$ZT_BIN" 2>/dev/null && pwd) || { echo "demo: no directory ${ZT_BIN} (run 'make san')" >&2; exit 1; }
export ZT_BIN
DEMO_EXIT=${DEMO_EXIT:-0}
read -r -a NATS <<<"${DEMO_NATS:-port-restricted full-cone symmetric}"
[ ${#NATS[@]} = 3 ] || { echo "demo: DEMO_NATS needs three NAT kinds" >&2; exit 2; }
SITES=(home office cafe)
MEMBERS=(alice bob carol)

printf '%szt demo%s: a virtual Ethernet across three NATed sites, built in network namespaces on this machine\n' "$B" "$N"
note "binaries: $ZT_BIN"

[ "$(id -u)" = 0 ] || { bad "the demo creates network namespaces: run it as root"; exit 1; }
for p in ztd zt-cli; do
	[ -x "$ZT_BIN/$p" ] || { bad "$ZT_BIN/$p is missing: run 'make san' (or 'make demo')"; exit 1; }
done
for t in ip iptables ping python3 setsid; do
	command -v "$t" >/dev/null || { bad "missing tool: $t (run 'make deps')"; exit 1; }
done
HAVE_AVAHI=1
for t in avahi-daemon avahi-browse avahi-publish avahi-resolve dbus-daemon nsenter unshare; do
	command -v "$t" >/dev/null || { HAVE_AVAHI=0; MISSING_AVAHI=$t; }
done
if [ -r "$DEMO_PIDFILE" ]; then
	read -r opid opfx _ <"$DEMO_PIDFILE"
	if [[ ${opid:-} =~ ^[0-9]+$ ]] && grep -qa 'demo.sh' "/proc/$opid/cmdline" 2>/dev/null; then
		bad "a demo is already running (pid $opid, run $opfx): stop it first with 'make demo-stop'"
		exit 1
	fi
fi

. tests/e2e/lab.sh
. tests/e2e/zt.sh
. tests/e2e/apps.sh
export LAB_QUIET=1 # the lab's own messages go nowhere; this script says what happens

# ------------------------------------------------------------------ topology
section "Building the network: an internet, a root, a controller and three NATed sites"
lab_init || die "cannot set up the namespace lab"
echo "$$ $LAB_PREFIX $LAB_DIR" >"$DEMO_PIDFILE"
lab_on_teardown rm -f "$DEMO_PIDFILE"
lab_public_host root || die "lab: public host root"
lab_public_host ctl || die "lab: public host ctl"
for i in 0 1 2; do
	lab_site "${SITES[$i]}" "${NATS[$i]}" || die "lab: site ${SITES[$i]}"
	lab_site_host "${SITES[$i]}" "${MEMBERS[$i]}" || die "lab: host ${MEMBERS[$i]}"
done
say "run $B$LAB_PREFIX$N: namespaces $LAB_PREFIX-*, files in $LAB_DIR"
printf '     %-8s %-22s %s\n' "node" "address" "what"
printf '     %-8s %-22s %s\n' root "${LAB_IP[root]}" "zt root server (relays, introduces peers), public"
printf '     %-8s %-22s %s\n' ctl "${LAB_IP[ctl]}" "zt network controller + web hook receiver, public"
for i in 0 1 2; do
	m=${MEMBERS[$i]} s=${SITES[$i]}
	printf '     %-8s %-22s %s\n' "$m" "${LAB_IP[$m]} -> ${LAB_PUB[$m]}" "member at site '$s', behind a ${LAB_KIND[$s]} NAT"
done

section "Starting the daemons"
t=$(now_ms)
zt_root root >/dev/null 2>&1 || die "ztd --root did not start"
ok "root       ztd --root        address $(zt_addr root)"
zt_controller ctl >/dev/null 2>&1 || die "ztd --controller did not start"
ok "controller ztd --controller  address $(zt_addr ctl)"
for m in "${MEMBERS[@]}"; do
	zt_node "$m" >/dev/null 2>&1 || die "ztd in $m did not start"
	ok "$(printf '%-10s' "$m") ztd               address $(zt_addr "$m")"
done
for m in "${MEMBERS[@]}"; do
	lab_wait 20 zt_online "$m" || die "$m does not reach the root"
done
ok "all three members are online (their root answers) after $(secs $(($(now_ms) - t)))"

HOOK_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
HOOK_EVENTS=$LAB_DIR/hook-events.jsonl
lab_bg ctl hook python3 "$LAB_TOOLS/hook_receiver.py" --secret "$HOOK_SECRET" --events "$HOOK_EVENTS" \
	--port-file "$LAB_DIR/hook.port" --decision '{"authorize": true}' || die "hook receiver did not start"
lab_wait 10 test -s "$LAB_DIR/hook.port" || die "hook receiver did not start"
HOOK_URL="http://127.0.0.1:$(cat "$LAB_DIR/hook.port")/zt-hook"
ok "web hook receiver on the controller host: $HOOK_URL, answers {\"authorize\": true}"

# ------------------------------------------------------------------ network
section "Creating a private network on the controller"
NWID=$(zt_network_create ctl demo 10.147.17.10 10.147.17.200 10.147.17.0/24) || die "network create failed"
zt_cli ctl controller network set "$NWID" hook "$HOOK_URL" "$HOOK_SECRET" >/dev/null || die "setting the web hook failed"
ok "network $B$NWID$N 'demo': private, addresses 10.147.17.10-200, route 10.147.17.0/24"
note "its ID is the controller's address $(zt_addr ctl) + network number ${NWID:10}"
ok "web hook set: the controller POSTs signed events to $HOOK_URL"

section "Joining the members (each join is approved by the web hook)"
JOIN_OK=1
declare -A JOIN_MS IP IF
t=$(now_ms)
for m in "${MEMBERS[@]}"; do
	zt_cli "$m" join "$NWID" >/dev/null || die "zt-cli join on $m failed"
done
say "zt-cli join $NWID  on alice, bob and carol"
left=("${MEMBERS[@]}")
deadline=$(($(now_ms) + 40000))
while [ ${#left[@]} -gt 0 ] && [ "$(now_ms)" -lt "$deadline" ]; do
	rest=()
	for m in "${left[@]}"; do
		if zt_net_ok "$m" "$NWID" 2>/dev/null; then JOIN_MS[$m]=$(($(now_ms) - t)); else rest+=("$m"); fi
	done
	left=("${rest[@]}")
	[ ${#left[@]} = 0 ] || sleep 0.1
done
for m in "${MEMBERS[@]}"; do
	if [ -n "${JOIN_MS[$m]:-}" ]; then
		IF[$m]=$(zt_net_field "$m" "$NWID" interface)
		lab_wait 10 eval '[ -n "$(zt_net_ip '"$m"' '"$NWID"')" ]' 2>/dev/null
		IP[$m]=$(zt_net_ip "$m" "$NWID")
		ok "$(printf '%-6s' "$m") OK after $(secs "${JOIN_MS[$m]}"): interface ${IF[$m]}, address ${IP[$m]:-none}"
		[ -n "${IP[$m]}" ] || JOIN_OK=0
	else
		bad "$m did not reach OK within 40 s: $(zt_net_field "$m" "$NWID" status 2>/dev/null) $(zt_net_field "$m" "$NWID" reason 2>/dev/null)"
		JOIN_OK=0
	fi
done
say "what the web hook receiver got (every request signed with X-Zt-Signature):"
lab_wait 5 eval "[ \$(grep -c member.authorized '$HOOK_EVENTS' 2>/dev/null || echo 0) -ge 3 ]" 2>/dev/null
python3 - "$HOOK_EVENTS" "$T0" "$(zt_addr alice)" "$(zt_addr bob)" "$(zt_addr carol)" <<'EOF' | indent
import json, sys
names = {sys.argv[3]: "alice", sys.argv[4]: "bob", sys.argv[5]: "carol"}
t0 = int(sys.argv[2]) / 1000.0
try:
    recs = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    recs = []
if not recs:
    print("(no requests yet)")
for r in recs:
    ev = r.get("event") or {}
    who = ev.get("member_id")
    who = "%s (%s)" % (names.get(who, "?"), who) if who else ""
    ans = r.get("status")
    reply = ' -> {"authorize": true}' if r.get("event_type") == "member.join_requested" and ans == 200 else ""
    print("t=%5.1f s  %-22s %-20s signature %s, HTTP %s%s" % (
        r["time"] - t0, r.get("event_type"), who, "valid" if r.get("valid") else "INVALID", ans, reply))
EOF

n_jr=$(grep -c '"event_type": "member.join_requested"' "$HOOK_EVENTS" 2>/dev/null)
if [ "${n_jr:-0}" -lt 3 ]; then
	bad "the hook saw ${n_jr:-0} join requests, expected 3"
	JOIN_OK=0
fi

# ------------------------------------------------------------------ ping
section "Ping across sites over the virtual network"
PING_OK=1
pairs=("alice bob" "alice carol" "bob carol")
[ "$JOIN_OK" = 1 ] || { bad "skipped: not every member joined"; PING_OK=0; pairs=(); }
for p in "${pairs[@]}"; do
	read -r a b <<<"$p"
	out=$(lab_exec "$a" ping -c 5 -i 0.2 -W 2 -I "${IF[$a]}" "${IP[$b]}" 2>&1)
	if [ $? = 0 ]; then
		rtt=$(sed -n 's/^rtt min\/avg\/max\/mdev = \([^ ]*\) ms.*/\1/p' <<<"$out" | awk -F/ '{printf "min %s / avg %s / max %s ms", $1, $2, $3}')
		loss=$(grep -o '[0-9.]*% packet loss' <<<"$out")
		ok "$(printf '%-18s' "$a@${LAB_SITE[$a]} -> $b@${LAB_SITE[$b]}") 5 pings to ${IP[$b]}: $loss, rtt $rtt"
	else
		bad "$a -> $b (${IP[$b]}): no reply"
		tail -n 3 <<<"$out" | indent
		PING_OK=0
	fi
done

# ------------------------------------------------------------------ show
section "What alice sees: zt-cli peers"
cmdline "zt-cli peers"
zt_cli alice peers 2>&1 | indent
note "root and controller are public: reached DIRECT. bob and carol sit behind NATs: DIRECT means"
note "the root introduced the pair and a hole was punched through both NATs; RELAY means the"
note "packets go through the root (a symmetric NAT, new public port per destination, usually"
note "defeats hole punching). Either way the traffic is end-to-end encrypted."

section "What alice sees: zt-cli networks"
cmdline "zt-cli networks"
zt_cli alice networks 2>&1 | indent
say "and on the controller (zt-cli controller member list $NWID):"
zt_cli ctl controller member list "$NWID" 2>&1 | indent

# ------------------------------------------------------------------ mDNS
section "mDNS / DNS-SD (Bonjour) across sites with avahi"
MDNS_OK=0
SVC="Demo web page on alice"
STYPE=_http._tcp
SPORT=8080
declare -A FOUND_MS FOUND_LINE
if [ "$HAVE_AVAHI" = 0 ]; then
	bad "skipped: ${MISSING_AVAHI:-avahi} is not installed (Debian: avahi-daemon avahi-utils dbus)"
elif [ "$JOIN_OK" = 0 ]; then
	bad "skipped: not every member joined"
else
	say "each member runs its own dbus-daemon and avahi-daemon, restricted to its zt interface"
	t=$(now_ms)
	avahi_ok=1
	for m in "${MEMBERS[@]}"; do
		apps_avahi_start "$m" "${IF[$m]}" >/dev/null 2>&1 || { bad "avahi holder in $m did not start"; avahi_ok=0; }
	done
	if [ $avahi_ok = 1 ]; then
		for m in "${MEMBERS[@]}"; do
			lab_wait 20 apps_avahi_ready "$m" || { bad "avahi-daemon in $m is not running"; avahi_ok=0; }
		done
	fi
	if [ $avahi_ok = 1 ]; then
		for m in "${MEMBERS[@]}"; do
			lab_wait 10 eval "lab_exec $m ip maddr show dev ${IF[$m]} | grep -q 224.0.0.251" ||
				note "$m: the TAP has not joined 224.0.0.251 yet"
		done
		ok "avahi-daemon running at the three sites after $(secs $(($(now_ms) - t))) (host names zt-<member>-$LAB_PREFIX.local)"
		t=$(now_ms)
		apps_ns_bg alice publish avahi-publish -s "$SVC" "$STYPE" "$SPORT" "path=/" "site=home"
		ok "alice publishes: avahi-publish -s \"$SVC\" $STYPE $SPORT"
		unescape() { python3 -c 'import re,sys; print(re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1))), sys.argv[1]))' "$1"; }
		# found NODE: one bounded browse; true once the service resolves to alice's zt address
		found() {
			local node=$1 kind ifc proto name type dom host addr port txt
			while IFS=';' read -r kind ifc proto name type dom host addr port txt; do
				[ "$kind" = "=" ] && [ "$proto" = IPv4 ] || continue
				[ "$(unescape "$name")" = "$SVC" ] || continue
				FOUND_LINE[$node]="\"$(unescape "$name")\" $type on $ifc -> $host $addr:$port $txt"
				[ "$addr" = "${IP[alice]}" ] && [ "$port" = "$SPORT" ] && return 0
			done < <(apps_ns "$node" timeout 6 avahi-browse -t -r -k -p "$STYPE" 2>/dev/null)
			return 1
		}
		MDNS_OK=1
		for m in bob carol; do
			deadline=$(($(now_ms) + 30000)) got_it=0
			printf '   %s… %s is browsing for %s%s' "$D" "$m" "$STYPE" "$N"
			while [ "$(now_ms)" -lt "$deadline" ]; do
				found "$m" && { got_it=1; break; }
				printf '%s.%s' "$D" "$N"
				sleep 0.3
			done
			if [ -t 1 ]; then printf '\r\033[K'; else printf '\n'; fi

			if [ $got_it = 1 ]; then
				FOUND_MS[$m]=$(($(now_ms) - t))
				ok "$(printf '%-5s' "$m") discovered it after $(secs "${FOUND_MS[$m]}"): ${FOUND_LINE[$m]}"
			else
				bad "$m did not discover \"$SVC\" within 30 s${FOUND_LINE[$m]:+ (last seen: ${FOUND_LINE[$m]})}"
				MDNS_OK=0
			fi
		done
		got=$(apps_ns bob timeout 8 avahi-resolve -4 -n "zt-alice-$LAB_PREFIX.local" 2>/dev/null | awk '{print $2}')
		if [ "$got" = "${IP[alice]}" ]; then
			ok "bob resolves alice's host name: zt-alice-$LAB_PREFIX.local -> $got"
		else
			note "bob could not resolve zt-alice-$LAB_PREFIX.local (got '${got}')"
		fi
	fi
fi

# ------------------------------------------------------------------ summary
section "Summary"
verdict() { if [ "$1" = 1 ]; then printf '%sworked%s' "$G" "$N"; else printf '%sFAILED%s' "$R" "$N"; fi; }
say "join approved by the web hook: $(verdict $JOIN_OK)"
say "ping across the three sites:    $(verdict $PING_OK)"
say "mDNS discovery across sites:    $(verdict $MDNS_OK)"
say "set up and shown in $(elapsed) s"
ALL_OK=0
[ $JOIN_OK = 1 ] && [ $PING_OK = 1 ] && [ $MDNS_OK = 1 ] && ALL_OK=1

if [ "$DEMO_EXIT" = 1 ]; then
	say "DEMO_EXIT=1: tearing down"
	lab_teardown
	if [ $ALL_OK = 1 ]; then ok "done: everything worked"; exit 0; fi
	bad "something did not work (see above)"
	exit 1
fi

section "Poke at it (as root, in another terminal)"
zc() { echo "ip netns exec ${LAB_NS[$1]} $ZT_BIN/zt-cli -H $(zt__home "$1")"; }
say "peers and networks as alice sees them:"
cmdline "$(zc alice) peers"
cmdline "$(zc alice) networks"
say "an end-to-end zt echo to bob's node, and an IP ping over the virtual LAN:"
cmdline "$(zc alice) ping -c 3 $(zt_addr bob)"
cmdline "ip netns exec ${LAB_NS[alice]} ping -c 3 ${IP[bob]:-10.147.17.11}"
say "a shell at carol's site (try: ip addr, ping ${IP[alice]:-10.147.17.10}, iperf3):"
cmdline "ip netns exec ${LAB_NS[carol]} bash"
say "the controller: members of the network, and the network itself:"
cmdline "$(zc ctl) controller member list $NWID"
cmdline "$(zc ctl) controller network show $NWID"
if [ -n "${APPS_HOLDER[bob]:-}" ]; then
	say "browse every mDNS service from bob (avahi lives in its own mount namespace):"
	cmdline "nsenter -t ${APPS_HOLDER[bob]} -m -n avahi-browse -a -t -r"
fi
say "logs and state:"
cmdline "ls $LAB_DIR        # ztd-*.log, hook-events.jsonl, zt-<node>/"
printf '\n%sThe network is up.%s Press %sCtrl-C%s here, or run %smake demo-stop%s elsewhere, to tear it all down.\n' \
	"$B" "$N" "$B" "$N" "$B" "$N"

# Wait. A signal only sets a flag; the loop then tears down and exits 0.
DEMO_STOP=
trap 'DEMO_STOP=INT' INT
trap 'DEMO_STOP=TERM' TERM
trap 'DEMO_STOP=HUP' HUP
tick=0
while [ -z "$DEMO_STOP" ]; do
	sleep 1 &
	wait $! 2>/dev/null
	tick=$((tick + 1))
	[ $((tick % 5)) = 0 ] && [ -z "$DEMO_STOP" ] || continue
	# every 5 s: are the daemons still there? (a Ctrl-C during the check kills
	# the check's own ps, so only a check that no signal interrupted counts)
	dead=
	for m in root ctl "${MEMBERS[@]}"; do lab_alive "ztd-$m" || dead="$dead $m"; done
	if [ -n "$dead" ] && [ -z "$DEMO_STOP" ]; then
		for m in $dead; do
			bad "ztd in $m exited; last lines of $LAB_DIR/ztd-$m.log:"
			tail -n 15 "$LAB_DIR/ztd-$m.log" 2>/dev/null | indent
		done
		DEMO_STOP=died
	fi
done
printf '\n%sStopping (%s):%s killing the daemons, deleting the namespaces and %s...\n' "$B" "$DEMO_STOP" "$N" "$LAB_DIR"
trap '' INT TERM HUP
lab_teardown
ok "torn down"
[ "$DEMO_STOP" = died ] && exit 1
exit 0
