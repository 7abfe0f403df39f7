# tests/e2e/zt.sh - start zt daemons in lab nodes and talk to them.
# Source after lab.sh. Binaries come from $ZT_BIN (default build/san/bin).
#
#   zt_root NODE                 ztd --root in NODE (HOME $LAB_DIR/zt-NODE), writes $LAB_DIR/roots.conf
#   zt_node NODE [ztd args...]   ztd in NODE with the roots of roots.conf
#   zt_cli NODE ARGS...          zt-cli -H HOME ARGS... inside NODE
#   zt_addr NODE                 the node's 10-hex-digit address
#   zt_link NODE PEER_ADDR       DIRECT / RELAY / NONE as NODE's `zt-cli -j peers` says
#   zt_peer_field NODE PEER_ADDR FIELD

ZT_BIN=${ZT_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/san/bin}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

zt__home() { echo "$LAB_DIR/zt-$1"; }

zt__wait_api() {
	local node=$1 home
	home=$(zt__home "$node")
	lab_wait 15 lab_exec "$node" "$ZT_BIN/zt-cli" -H "$home" -j info >/dev/null 2>&1 ||
		{ echo "zt: ztd in $node did not come up; its log:" >&2; cat "$(lab_log "ztd-$node")" >&2; return 1; }
}

zt_root() {
	local node=$1 home pub
	home=$(zt__home "$node")
	mkdir -p "$home"
	shift
	lab_bg "$node" "ztd-$node" "$ZT_BIN/ztd" -H "$home" --root "$@" || return 1
	zt__wait_api "$node" || return 1
	pub=$(cat "$home/identity.public")
	echo "{ identity = \"$pub\"; endpoints = [ \"${LAB_IP[$node]}/9993\" ]; }" >>"$LAB_DIR/roots.list"
	{ printf 'roots = ( '; paste -sd, "$LAB_DIR/roots.list"; printf ' );\n'; } >"$LAB_DIR/roots.conf"
}

zt_node() {
	local node=$1 home
	home=$(zt__home "$node")
	shift
	mkdir -p "$home"
	cp "$LAB_DIR/roots.conf" "$home/ztd.conf"
	lab_bg "$node" "ztd-$node" "$ZT_BIN/ztd" -H "$home" "$@" || return 1
	zt__wait_api "$node"
}

zt_cli() {
	local node=$1
	shift
	lab_exec "$node" "$ZT_BIN/zt-cli" -H "$(zt__home "$node")" "$@"
}

zt_addr() {
	cut -d: -f1 "$(zt__home "$1")/identity.public"
}

zt_peer_field() {
	zt_cli "$1" -j peers | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["address"] == sys.argv[1]:
        v = p.get(sys.argv[2])
        print("null" if v is None else v)
        break
else:
    print("NONE")' "$2" "$3"
}

zt_link() {
	zt_peer_field "$1" "$2" link
}

# ms since epoch
zt_now_ms() { date +%s%3N; }

# true once some root answers the node
zt_online() {
	zt_cli "$1" -j info | grep -q '"online": true'
}

# zt_controller NODE: ztd --root-less controller in NODE (uses roots.conf)
zt_controller() {
	local node=$1 home
	home=$(zt__home "$node")
	shift
	mkdir -p "$home"
	cp "$LAB_DIR/roots.conf" "$home/ztd.conf"
	lab_bg "$node" "ztd-$node" "$ZT_BIN/ztd" -H "$home" --controller "$@" || return 1
	zt__wait_api "$node"
}

# zt_network_create CTL_NODE NAME POOL_START POOL_END SUBNET -> prints the network ID
zt_network_create() {
	local node=$1 name=$2 start=$3 end=$4 subnet=$5 id
	id=$(zt_cli "$node" -j controller network create "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || return 1
	zt_cli "$node" -j controller network set "$id" \
		ipv4_pools "[{\"start\":\"$start\",\"end\":\"$end\"}]" \
		routes "[{\"target\":\"$subnet\",\"via\":null}]" >/dev/null || return 1
	echo "$id"
}

# zt_net_field NODE NWID FIELD: a field of `zt-cli -j networks` for NWID
zt_net_field() {
	zt_cli "$1" -j networks | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["id"] == sys.argv[1]:
        v = n.get(sys.argv[2])
        print(json.dumps(v) if isinstance(v, (list, dict)) else v)
        break
else:
    print("NONE")' "$2" "$3"
}

# zt_net_ip NODE NWID: the node's first assigned IPv4 address (without prefix)
zt_net_ip() {
	zt_net_field "$1" "$2" addresses | python3 -c 'import json,sys; a=[x for x in json.load(sys.stdin) if ":" not in x]; print(a[0].split("/")[0] if a else "")'
}

zt_net_ok() { [ "$(zt_net_field "$1" "$2" status)" = OK ]; }
zt_net_reason_has() { zt_net_field "$1" "$2" reason | grep -q "$3"; }

# Print FAIL: MESSAGE and the tail of every daemon log of the run, then exit 1.
zt_fail() {
	echo "FAIL: $*"
	local f
	for f in "$LAB_DIR"/ztd-*.log; do
		[ -f "$f" ] || continue
		echo "--- tail of $(basename "$f")"
		tail -n 15 "$f"
	done
	exit 1
}
