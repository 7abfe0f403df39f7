# shellcheck shell=bash disable=SC2034
# tests/e2e/apps.sh - real applications on top of zt in lab nodes (avahi,
# SSDP, DHCP across a bridge) and the topology most VL2 application tests use.
# Source after lab.sh and zt.sh.
#
#   apps_fail MSG...                 print FAIL: MSG, show ztd logs' tails, exit 1
#   apps_vl2_lab N [POOL_PFX]        root + ctl on the internet, N sites sN with
#                                    member mN behind port-restricted NATs, one
#                                    network (APPS_NWID) with pool POOL_PFX.10-200
#                                    (default 10.147.17), members joined and
#                                    authorized: APPS_IP[mN], APPS_IF[mN]
#   apps_wait_members NWID NODE...   wait until each NODE is OK and has its TAP
#   apps_avahi_start NODE IFACE      dbus-daemon + avahi-daemon in NODE under one
#                                    holder with its own /run; APPS_HOLDER[NODE]
#   apps_ns NODE CMD...              run CMD in NODE's holder (mount + net ns)
#   apps_ns_bg NODE PROC CMD...      the same in the background (lab_bg)
#   apps_avahi_ready NODE            avahi-daemon in NODE answers on D-Bus and is
#                                    running (not still registering)
#   apps_net_stat NODE NWID FIELD    one counter of `zt-cli -j networks` stats
#   apps_build_forge                 build tools/zt_forge.c (a hostile node) into $LAB_DIR/zt-forge

APPS_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools
declare -gA APPS_IP APPS_IF APPS_HOLDER
APPS_NWID=

apps_fail() { zt_fail "$@"; }

apps_wait_members() {
	local nwid=$1 n
	shift
	for n in "$@"; do
		lab_wait 30 zt_net_ok "$n" "$nwid" || { zt_cli "$n" networks; apps_fail "$n did not reach OK on $nwid"; }
		APPS_IF[$n]=$(zt_net_field "$n" "$nwid" interface)
		lab_wait 10 lab_exec "$n" ip link show dev "${APPS_IF[$n]}" >/dev/null 2>&1 ||
			apps_fail "$n: no interface ${APPS_IF[$n]}"
	done
}

apps_vl2_lab() {
	local n=${1:-3} pfx=${2:-10.147.17} i
	lab_public_host root
	lab_public_host ctl
	for i in $(seq 1 "$n"); do
		lab_site "s$i" port-restricted
		lab_site_host "s$i" "m$i"
	done
	zt_root root
	zt_controller ctl
	for i in $(seq 1 "$n"); do zt_node "m$i"; done
	APPS_NWID=$(zt_network_create ctl lab "$pfx.10" "$pfx.200" "$pfx.0/24")
	echo "network $APPS_NWID"
	for i in $(seq 1 "$n"); do
		zt_cli "m$i" join "$APPS_NWID" >/dev/null
		zt_cli ctl controller member authorize "$APPS_NWID" "$(zt_addr "m$i")" >/dev/null
	done
	for i in $(seq 1 "$n"); do
		apps_wait_members "$APPS_NWID" "m$i"
		lab_wait 10 eval '[ -n "$(zt_net_ip m'"$i"' '"$APPS_NWID"')" ]' || apps_fail "m$i has no address"
		APPS_IP[m$i]=$(zt_net_ip "m$i" "$APPS_NWID")
	done
}

apps_avahi_start() {
	local node=$1 ifc=$2 dir=$LAB_DIR/avahi-$1 i=0
	mkdir -p "$dir"
	lab_bg "$node" "avahi-$node" unshare -m --propagation private \
		sh "$APPS_TOOLS/avahi_ns.sh" "$dir" "$ifc" "zt-$node-$LAB_PREFIX" || return 1
	APPS_HOLDER[$node]=${LAB_PID[avahi-$node]}
	# the holder writes "ready" once /run is its own and dbus-daemon listens
	while ! grep -q '^holder: ready' "$(lab_log "avahi-$node")" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$(lab_log "avahi-$node")"; return 1; }
		lab_alive "avahi-$node" || { cat "$(lab_log "avahi-$node")"; return 1; }
		sleep 0.1
	done
}

apps_ns() {
	local node=$1
	shift
	nsenter -t "${APPS_HOLDER[$node]:?no holder in $node}" -m -n "$@"
}

apps_ns_bg() {
	local node=$1 proc=$2
	shift 2
	# lab_bg enters the namespace with `ip netns exec`; nsenter then switches to
	# the holder's mount namespace (same network namespace)
	lab_bg "$node" "$proc" nsenter -t "${APPS_HOLDER[$node]:?no holder in $node}" -m -n "$@"
}

apps_avahi_ready() {
	apps_ns "$1" timeout 5 avahi-resolve -4 -n "zt-$1-$LAB_PREFIX.local" >/dev/null 2>&1
}

apps_net_stat() {
	zt_cli "$1" -j networks | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["id"] == sys.argv[1]:
        print((n.get("stats") or {}).get(sys.argv[2], 0))
        break
else:
    print(0)' "$2" "$3"
}

# apps_build_forge: compile tools/zt_forge.c against the core library next to
# $ZT_BIN (build/san: with the same sanitizers) into $LAB_DIR/zt-forge
apps_build_forge() {
	local libdir san=()
	libdir=$(cd "$ZT_BIN/.." && pwd)
	[ -f "$libdir/libztcore.a" ] || { echo "apps: no $libdir/libztcore.a (run make san)" >&2; return 1; }
	# shellcheck disable=SC2054
	case $libdir in */san) san=(-fsanitize=address,undefined -fno-omit-frame-pointer) ;; esac
	${CC:-cc} -std=c11 -O1 -Wall "${san[@]}" -I"$APPS_TOOLS/../../../src" -o "$LAB_DIR/zt-forge" \
		"$APPS_TOOLS/zt_forge.c" "$libdir/libztcore.a" "$libdir/libztbase.a" -lcrypto
}
