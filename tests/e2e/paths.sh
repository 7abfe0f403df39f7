# shellcheck shell=bash disable=SC2034
# tests/e2e/paths.sh - helpers of the path tests (issue 12: paths that hold on
# real networks): a root and a controller on the internet, members behind NATs
# of chosen kinds on one network, and checks on the paths `zt-cli -j peers`
# reports. Source after lab.sh and zt.sh.
#
#   paths_fail MSG...                print FAIL: MSG, the ztd logs' tails, exit 1
#   paths_lab KIND... [-- JOIN_ARGS...]  root, ctl, site sN of KIND with member mN
#                                    for each KIND, joined to one network
#                                    (PATHS_NWID, pool 10.147.17.10-200 in
#                                    PATHS_OVERLAY) with JOIN_ARGS, authorized:
#                                    PATHS_IP[mN], PATHS_IF[mN], PATHS_ADDR[mN];
#                                    PATHS_SETUP_HOOK (shell code) runs between
#                                    the topology and the daemons (lab_impair...)
#   paths_bad NODE                   print one line per path in NODE's peers that
#                                    lies in the overlay prefix, or is a root's
#                                    endpoint for a non-root peer (nothing: fine)
#   paths_has_root_ep NODE PEER      status 0 if a path to PEER is a root's endpoint
#   paths_watch SECONDS EVERY NODE[:PEER_ADDR]...  sample `zt-cli -j peers` of
#                                    the NODEs every EVERY s (tools/peers_watch.py);
#                                    the sample lines go to $LAB_DIR/watch.txt;
#                                    sets PATHS_W[samples links bad_samples first_bad_ms failed_reads]
#   paths_tap_drops NODE             "rx_dropped tx_dropped" of NODE's TAP
#   paths_ping NODE DST COUNT INTERVAL SIZE  overlay ping; prints "sent rcvd loss_pct avg_ms"

PATHS_OVERLAY=10.147.17.0/24
PATHS_NWID=
declare -gA PATHS_IP PATHS_IF PATHS_ADDR

paths_fail() { zt_fail "$@"; }

paths_lab() {
	local kinds=() join=() i k n
	while [ $# -gt 0 ] && [ "$1" != -- ]; do kinds+=("$1"); shift; done
	[ "${1:-}" = -- ] && { shift; join=("$@"); }
	lab_public_host root
	lab_public_host ctl
	i=0
	for k in "${kinds[@]}"; do
		i=$((i + 1))
		lab_site "s$i" "$k"
		lab_site_host "s$i" "m$i"
	done
	n=$i
	[ -z "${PATHS_SETUP_HOOK:-}" ] || eval "$PATHS_SETUP_HOOK"
	zt_root root
	zt_controller ctl
	for i in $(seq 1 "$n"); do zt_node "m$i"; done
	PATHS_NWID=$(zt_network_create ctl paths 10.147.17.10 10.147.17.200 "$PATHS_OVERLAY")
	echo "network $PATHS_NWID"
	for i in $(seq 1 "$n"); do
		zt_cli "m$i" join "${join[@]}" "$PATHS_NWID" >/dev/null
		zt_cli ctl controller member authorize "$PATHS_NWID" "$(zt_addr "m$i")" >/dev/null
		PATHS_ADDR[m$i]=$(zt_addr "m$i")
	done
	for i in $(seq 1 "$n"); do
		lab_wait 30 zt_net_ok "m$i" "$PATHS_NWID" || { zt_cli "m$i" networks; paths_fail "m$i did not reach OK"; }
		PATHS_IF[m$i]=$(zt_net_field "m$i" "$PATHS_NWID" interface)
		lab_wait 10 eval '[ -n "$(zt_net_ip m'"$i"' '"$PATHS_NWID"')" ]' || paths_fail "m$i has no address"
		PATHS_IP[m$i]=$(zt_net_ip "m$i" "$PATHS_NWID")
		lab_wait 10 lab_exec "m$i" ip link show dev "${PATHS_IF[m$i]}" up >/dev/null 2>&1 ||
			paths_fail "m$i: no interface ${PATHS_IF[m$i]} up"
	done
}

# the roots' endpoints as roots.list lists them ("ip/port")
paths__root_eps() {
	grep -o 'endpoints = \[ "[^"]*"' "$LAB_DIR/roots.list" | sed 's/.*"\(.*\)"/\1/' | paste -sd,
}

paths__check() {
	python3 -c '
import ipaddress, json, sys
peers = json.load(sys.stdin)
net = ipaddress.ip_network(sys.argv[1])
roots = set(x for x in sys.argv[2].split(",") if x)
mode, want = sys.argv[3], sys.argv[4]
bad = found = 0
for p in peers:
    for q in p.get("paths") or []:
        ep = q.get("address") or ""
        ip = ep.rsplit("/", 1)[0]
        try:
            inside = ipaddress.ip_address(ip) in net
        except ValueError:
            inside = False
        at_root = ep in roots and p.get("role") != "ROOT"
        if mode == "bad" and (inside or at_root):
            why = "inside the overlay " + sys.argv[1] if inside else "a root endpoint for a leaf peer"
            print("peer %s (%s, link %s): path %s is %s (alive %s)" % (p["address"], p.get("role"), p.get("link"), ep, why, q.get("alive")))
        if mode == "root" and p["address"] == want and ep in roots:
            found = 1
sys.exit(0 if mode == "bad" or found else 1)' "$PATHS_OVERLAY" "$(paths__root_eps)" "$@"
}

paths_bad() {
	zt_cli "$1" -j peers | paths__check bad -
}

paths_has_root_ep() {
	zt_cli "$1" -j peers | paths__check root "$2"
}

declare -gA PATHS_W
paths_watch() {
	local secs=$1 every=$2 spec args=() node peer kv
	shift 2
	for spec in "$@"; do
		node=${spec%%:*} peer=
		[[ $spec == *:* ]] && peer=${spec#*:}
		args+=("${LAB_NS[$node]}:$(zt__home "$node")${peer:+:$peer}")
	done
	python3 "$LAB_TOOLS/peers_watch.py" --zt-cli "$ZT_BIN/zt-cli" --every "$every" --for "$secs" \
		--overlay "$PATHS_OVERLAY" --roots "$(paths__root_eps)" "${args[@]}" >"$LAB_DIR/watch.txt" 2>&1
	PATHS_W=()
	for kv in $(grep '^summary ' "$LAB_DIR/watch.txt" | tail -n 1 | cut -d' ' -f2-); do
		PATHS_W[${kv%%=*}]=${kv#*=}
	done
	[ -n "${PATHS_W[samples]:-}" ] || { tail -n 5 "$LAB_DIR/watch.txt"; return 1; }
}

paths_tap_drops() {
	lab_exec "$1" ip -s -j link show dev "${PATHS_IF[$1]}" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print(s["rx"]["dropped"], s["tx"]["dropped"])'
}

paths_ping() {
	local node=$1 dst=$2 count=$3 iv=$4 size=$5
	lab_exec "$node" ping -n -q -W 2 -c "$count" -i "$iv" -s "$size" "$dst" 2>&1 | awk '
		/packets transmitted/ { s = $1; r = $4 }
		/^rtt/ { split($4, a, "/"); avg = a[2] }
		END { printf "%d %d %.1f %s\n", s, r, s ? 100 * (s - r) / s : 100, avg == "" ? "-" : avg }'
}
