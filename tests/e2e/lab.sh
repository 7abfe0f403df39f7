# tests/e2e/lab.sh - network-namespace lab for zt's end-to-end tests and demo.
#
# Source it from bash (`. tests/e2e/lab.sh`), call lab_init, build a topology
# (an "internet" router, public hosts, NAT'd sites with hosts on a LAN bridge,
# isolated LANs with DHCP), run daemons with lab_bg, break things with lab_cut /
# lab_loss, and everything is torn down on exit, error or interrupt.
# tests/e2e/README.md documents every function; this header is the short form.
#
#   lab_init                         new run: prefix, run dir, "internet" router, traps
#   lab_public_host NAME             host on the internet        -> LAB_IP[NAME]
#   lab_site NAME KIND [LANPREFIX]   NAT router + LAN bridge     -> LAB_PUB[NAME]
#        KIND: port-restricted | symmetric | full-cone | none
#   lab_site_host SITE NAME          host on a site's LAN        -> LAB_IP, LAB_PUB
#   lab_lan LAN OWNER [LANPREFIX]    isolated L2 segment, bridge br-LAN in OWNER
#   lab_lan_host LAN NAME [ADDR|none]  plain host on that segment
#   lab_lan_attach LAN IFACE         put OWNER's IFACE (a TAP) into the bridge
#   lab_dhcp_server NAME [FIRST LAST]  dnsmasq --no-ping on NAME's eth0
#   lab_dhcp_client NAME [IFACE] [TIMEOUT]  busybox udhcpc, only adds the address
#   lab_exec NAME CMD...             run CMD in NAME's namespace
#   lab_bg NAME PROC CMD...          background CMD, log $LAB_DIR/PROC.log
#   lab_kill PROC [SIGNAL]  lab_alive PROC  lab_bg_wait PROC TIMEOUT  lab_log PROC
#   lab_wait TIMEOUT CMD...          poll CMD until it succeeds (bounded)
#   lab_cut A [B]  lab_heal A [B]    drop forwarding between A and B (or A and all)
#   lab_loss PERCENT [NAME]          random loss on the internet router
#   lab_impair NAME [delay MS] [jitter MS] [loss PCT] [burst PCT [LEN]] [reorder PCT] [dup PCT] | off
#                                    impair NAME's link to the internet router (NFQUEUE delayer)
#   lab_impair_clear                 every link back to clean
#   lab_impair_stats                 the delayer's counters (one "nfq_delay: stats" line)
#   lab_nat_timeout SITE SECONDS     UDP mapping lifetime of a site's NAT
#   lab_nat_reset SITE               forget all NAT mappings (router reboot)
#   lab_capture_start FILE [FILTER...]  lab_capture_stop
#   lab_on_teardown CMD...           run CMD first at teardown
#   lab_info                         print the topology
#   lab_teardown                     idempotent, also run by the traps
#   lab_cleanup_stale [--list]       remove namespaces/dirs of dead runs
#   lab_ip NAME  lab_pub NAME  lab_ns NAME   print an address / a namespace
#
# Namespaces are ztlXXXX-<name>; logs and files in $LAB_DIR ($LAB_ROOT/ztlXXXX);
# /run/ztlab/ztlXXXX registers a live run for lab_cleanup_stale.
#
# Requires bash >= 5, iproute2, iptables, coreutils, procps, util-linux
# (setsid), python3 (tools/udp.py); tcpdump for captures, dnsmasq and busybox
# for DHCP, conntrack for lab_nat_reset, a C compiler, libnetfilter-queue-dev
# and ethtool for lab_impair (installed on first use if missing). Must run as root.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lab.sh: needs bash" >&2
	return 1 2>/dev/null || exit 1
fi

LAB_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_TOOLS=$LAB_HOME/tools
if [ -z "${LAB_PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then LAB_PYTHON=/usr/bin/python3; else LAB_PYTHON=$(command -v python3 || echo python3); fi
fi
LAB_ROOT=${LAB_ROOT:-/tmp/ztlab}        # run dirs (logs, files) live in $LAB_ROOT/<prefix>
LAB_REGISTRY=/run/ztlab                 # one file per live run: "owner-pid start-time run-dir"
LAB_NS_RE='^ztl[0-9a-f]{4}-'           # namespaces of every run: ztlXXXX-<name>
LAB_PREFIX=${LAB_PREFIX:-}
LAB_OWNER=${LAB_OWNER:-}
LAB_CAPTURE=${LAB_CAPTURE:-}
# per-node state (see README.md); reset by lab_init
declare -gA LAB_NS LAB_IP LAB_PUB LAB_ROLE LAB_KIND LAB_SITE LAB_GW LAB_LINKN LAB_IFI LAB_SITEN \
	LAB_LANPFX LAB_NHOST LAB_PID LAB_WPID LAB_PNODE LAB_LANOWNER LAB_LANBR LAB_LAN LAB_IMP
declare -ga LAB_NAMES LAB_HOOKS

# ---------------------------------------------------------------- internals

lab__log() { [ "${LAB_QUIET:-0}" = 1 ] || echo "lab: $*" >&2; }
lab__err() { echo "lab: error: $*" >&2; return 1; }

# lab__main FN: state-changing functions must run in the shell that ran lab_init
lab__main() {
	[ -n "$LAB_PREFIX" ] || { lab__err "$1: call lab_init first"; return 1; }
	[ "$BASHPID" = "$LAB_OWNER" ] ||
		{ lab__err "$1: must run in the shell that called lab_init (not in a subshell or \$(...)); read LAB_IP[...] etc. afterwards"; return 1; }
}

# lab__run CMD...: run, and on failure show the command and its output
lab__run() {
	local out
	if ! out=$("$@" 2>&1); then
		echo "lab: command failed: $*" >&2
		[ -n "$out" ] && echo "$out" | sed 's/^/lab:   | /' >&2
		return 1
	fi
	[ -z "$out" ] || echo "$out"
}

lab__in() { local ns=$1; shift; lab__run ip netns exec "$ns" "$@"; }
lab__ipt() { local ns=$1; shift; lab__run ip netns exec "$ns" iptables -w 5 "$@"; }
# lab__rules NS: iptables-restore --noflush from stdin
lab__rules() { lab__run ip netns exec "$1" iptables-restore -w 5 --noflush; }

lab__sec2us() {
	local s=$1 i f=
	[[ $s =~ ^[0-9]+(\.[0-9]*)?$|^\.[0-9]+$ ]] || { lab__err "not a number of seconds: $s"; echo 0; return 1; }
	i=${s%%.*}
	[[ $s == *.* ]] && f=${s#*.}
	f=${f}000000
	echo $(( ${i:-0} * 1000000 + 10#${f:0:6} ))
}
lab__now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

lab__starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo "${20}"
}

# lab__group_alive PGID: some non-zombie process is in that process group
lab__group_alive() {
	ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}
lab__pid_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [[ $st != Z* ]]
}
# lab__wait_pid_gone SECONDS PID: wait until PID has exited
lab__wait_pid_gone() {
	local n=0 max
	[ -n "${2:-}" ] || return 0
	max=$(( $(lab__sec2us "$1") / 50000 + 1 ))
	while lab__pid_alive "$2"; do
		[ $n -lt $max ] || return 1
		sleep 0.05
		n=$((n + 1))
	done
}
# lab__wait_gone SECONDS PGID...: wait until no listed group has a live process
lab__wait_gone() {
	local secs=$1 n=0 max g any
	shift
	max=$(( $(lab__sec2us "$secs") / 50000 + 1 ))
	while [ $n -lt $max ]; do
		any=0
		for g in "$@"; do lab__group_alive "$g" && { any=1; break; }; done
		[ $any = 0 ] && return 0
		sleep 0.05
		n=$((n + 1))
	done
	return 1
}

lab__check_name() {
	local what=$1 name=$2
	[[ $name =~ ^[a-z][a-z0-9]{0,11}$ ]] ||
		{ lab__err "$what name '$name': want 1-12 characters [a-z0-9], starting with a letter"; return 1; }
	case $name in inet|all|lo) lab__err "$what name '$name' is reserved"; return 1 ;; esac
	[ -z "${LAB_ROLE[$name]:-}" ] || { lab__err "name '$name' is already used (${LAB_ROLE[$name]})"; return 1; }
}

# lab__ns_add NAME ROLE: create ztlXXXX-NAME, lo up, rp_filter off
lab__ns_add() {
	local name=$1 role=$2 ns="$LAB_PREFIX-$1"
	lab__run ip netns add "$ns" || return 1
	LAB_NS[$name]=$ns
	LAB_ROLE[$name]=$role
	LAB_NAMES+=("$name")
	lab__run ip -n "$ns" link set lo up || return 1
	lab__in "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null || return 1
}

# lab__router NS: forwarding on; bridged frames never see iptables
lab__router() {
	lab__in "$1" sysctl -qw net.ipv4.ip_forward=1 >/dev/null || return 1
	lab__nobrnf "$1"
}
lab__nobrnf() {
	ip netns exec "$1" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
		net.bridge.bridge-nf-call-arptables=0 >/dev/null 2>&1 || true
}

# lab__link NS IF: no IPv6 (unless LAB_IPV6=1), rp_filter off, up
lab__link() {
	local ns=$1 ifc=$2 s=(net.ipv4.conf."$2".rp_filter=0)
	[ "${LAB_IPV6:-0}" = 1 ] || s+=(net.ipv6.conf."$2".disable_ipv6=1)
	lab__in "$ns" sysctl -qw "${s[@]}" >/dev/null || return 1
	lab__run ip -n "$ns" link set "$ifc" up
}

# lab__veth NS_A IF_A NS_B IF_B: a veth pair created directly in both namespaces
lab__veth() {
	lab__run ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	lab__link "$1" "$2" && lab__link "$3" "$4"
}

lab__bridge() {
	local ns=$1 br=$2
	lab__run ip -n "$ns" link add "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || return 1
	lab__nobrnf "$ns"
	lab__link "$ns" "$br"
}

# lab__attach NAME IF: link NAME's namespace to the internet router.
# Link n is 198.18.n.0/24: router .1, NAME .2. Sets LAB_LINKN[NAME].
lab__attach() {
	local name=$1 ifc=$2 n
	LAB_NLINK=$((LAB_NLINK + 1))
	n=$LAB_NLINK
	[ $n -le 254 ] || { lab__err "more than 254 attachments to the internet router"; return 1; }
	lab__veth "${LAB_NS[$name]}" "$ifc" "$LAB_INET" "v-$name" || return 1
	lab__run ip -n "$LAB_INET" addr add "198.18.$n.1/24" dev "v-$name" || return 1
	lab__run ip -n "${LAB_NS[$name]}" addr add "198.18.$n.2/24" dev "$ifc" || return 1
	lab__run ip -n "${LAB_NS[$name]}" route add default via "198.18.$n.1" || return 1
	LAB_LINKN[$name]=$n
	LAB_IFI[$name]=v-$name
}

# lab__attachment NAME: the internet-router attachment a node hangs off
lab__attachment() {
	local name=$1
	case ${LAB_ROLE[$name]:-} in
	public|site) echo "$name" ;;
	host) echo "${LAB_SITE[$name]}" ;;
	*) lab__err "'$name' is not a public host, a site or a site host"; return 1 ;;
	esac
}

# ---------------------------------------------------------------- lifecycle

lab_init() {
	if [ -n "$LAB_PREFIX" ]; then
		lab__err "lab_init: already initialised ($LAB_PREFIX); lab_teardown first"
		return 1
	fi
	[ "$(id -u)" = 0 ] || { lab__err "lab_init: must run as root"; return 1; }
	local t
	for t in ip iptables iptables-restore setsid env ps awk "$LAB_PYTHON"; do
		command -v "$t" >/dev/null 2>&1 || { lab__err "lab_init: missing tool $t"; return 1; }
	done
	mkdir -p "$LAB_ROOT" "$LAB_REGISTRY" || return 1
	[ "${LAB_NO_STALE_CLEAN:-0}" = 1 ] || LAB_QUIET=1 lab_cleanup_stale >/dev/null 2>&1 || true
	# Register the run (O_EXCL: the id is ours) before any namespace exists, so
	# that no other run's lab_cleanup_stale ever takes our namespaces for stale.
	LAB_OWNER=$BASHPID
	local st id= i
	st=$(lab__starttime "$LAB_OWNER") # (BASHPID inside $(...) would be the subshell's)
	for i in $(seq 1 50); do
		id=ztl$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
		if ! ip netns list 2>/dev/null | grep -q "^$id-" && [ ! -e "$LAB_ROOT/$id" ] &&
			(set -o noclobber; echo "$LAB_OWNER $st $LAB_ROOT/$id" >"$LAB_REGISTRY/$id") 2>/dev/null; then
			break
		fi
		id=
	done
	[ -n "$id" ] || { lab__err "lab_init: cannot allocate a run id"; return 1; }
	LAB_DIR=$LAB_ROOT/$id
	mkdir -p "$LAB_DIR" || { rm -f "$LAB_REGISTRY/$id"; return 1; }
	[ "${LAB_KEEP:-0}" = 1 ] && touch "$LAB_DIR/keep"
	LAB_PREFIX=$id
	LAB_INET=$id-inet
	declare -gA LAB_NS=() LAB_IP=() LAB_PUB=() LAB_ROLE=() LAB_KIND=() LAB_SITE=() LAB_GW=() \
		LAB_LINKN=() LAB_IFI=() LAB_SITEN=() LAB_LANPFX=() LAB_NHOST=() LAB_PID=() LAB_WPID=() LAB_PNODE=() \
		LAB_LANOWNER=() LAB_LANBR=() LAB_LAN=() LAB_IMP=()
	declare -ga LAB_NAMES=() LAB_HOOKS=()
	LAB_NLINK=0
	LAB_NSITE=0
	LAB_NLAN=0
	LAB_CAPTURE=
	LAB_OFFLOADS_DONE=
	trap 'lab__on_exit' EXIT
	trap 'lab__on_signal INT' INT
	trap 'lab__on_signal TERM' TERM
	trap 'lab__on_signal HUP' HUP
	# the internet router: one /24 per attachment, routes, cut and loss chains
	lab__run ip netns add "$LAB_INET" || return 1
	LAB_NS[inet]=$LAB_INET
	LAB_ROLE[inet]=inet
	lab__run ip -n "$LAB_INET" link set lo up || return 1
	lab__in "$LAB_INET" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null || return 1
	lab__router "$LAB_INET" || return 1
	lab__rules "$LAB_INET" <<-'EOF' || return 1
	*filter
	:LAB_CUT - [0:0]
	:LAB_LOSS - [0:0]
	:LAB_IMPAIR - [0:0]
	-A FORWARD -j LAB_CUT
	-A FORWARD -j LAB_LOSS
	-A FORWARD -j LAB_IMPAIR
	COMMIT
	EOF
	lab__log "run $LAB_PREFIX: dir $LAB_DIR, internet router $LAB_INET"
}

lab_on_teardown() {
	lab__main lab_on_teardown || return 1
	LAB_HOOKS+=("$(printf '%q ' "$@")")
}

lab__on_exit() {
	local rc=$?
	lab_teardown
	exit $rc
}

lab__on_signal() {
	trap '' INT TERM HUP
	lab__log "caught SIG$1, tearing down"
	lab_teardown
	trap - EXIT
	exit $((128 + $(kill -l "$1")))
}

lab_teardown() {
	[ -n "$LAB_PREFIX" ] || return 0
	[ "$BASHPID" = "$LAB_OWNER" ] || return 0 # a subshell never tears down its parent's lab
	local pfx=$LAB_PREFIX dir=$LAB_DIR i g ns pids=() groups=() nss=()
	trap '' INT TERM HUP
	for ((i = ${#LAB_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${LAB_HOOKS[$i]}" || lab__log "teardown hook failed: ${LAB_HOOKS[$i]}"
	done
	LAB_HOOKS=()
	local wrappers=("${LAB_WPID[@]}")
	for g in "${LAB_PID[@]}"; do
		groups+=("$g")
		kill -TERM -- "-$g" 2>/dev/null || true
	done
	mapfile -t nss < <(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$pfx-" || true)
	for ns in "${nss[@]}"; do pids+=($(ip netns pids "$ns" 2>/dev/null)); done
	[ ${#pids[@]} = 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
	local n=0 live p
	while [ $n -lt $(( ${LAB_KILL_WAIT:-3} * 20 )) ]; do
		live=0
		for p in "${pids[@]}"; do lab__pid_alive "$p" && { live=1; break; }; done
		[ $live = 0 ] && for g in "${groups[@]}"; do lab__group_alive "$g" && { live=1; break; }; done
		[ $live = 0 ] && break
		sleep 0.05
		n=$((n + 1))
	done
	for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
	for ns in "${nss[@]}"; do
		pids=($(ip netns pids "$ns" 2>/dev/null))
		[ ${#pids[@]} = 0 ] || kill -KILL "${pids[@]}" 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || lab__log "teardown: cannot delete namespace $ns"
	done
	for p in "${wrappers[@]}"; do
		lab__wait_pid_gone 2 "$p" || kill -KILL "$p" 2>/dev/null || true
	done
	lab__wait_gone 2 "${groups[@]}" || lab__log "teardown: some processes of $pfx did not exit"
	if [ -e "$dir/keep" ]; then
		lab__log "run $pfx torn down; logs kept in $dir"
	else
		rm -rf "$dir"
		lab__log "run $pfx torn down"
	fi
	rm -f "$LAB_REGISTRY/$pfx"
	LAB_PREFIX=
	LAB_DIR=
	LAB_PID=()
	LAB_WPID=()
	trap - EXIT INT TERM HUP
	return 0
}

# lab__run_alive PREFIX: is the shell that owns run PREFIX still running?
lab__run_alive() {
	local pid st dir now
	read -r pid st dir <"$LAB_REGISTRY/$1" 2>/dev/null || return 1
	[[ $pid =~ ^[0-9]+$ && $st =~ ^[0-9]+$ ]] || return 1
	# the same process: start time within a second, not a reused pid
	now=$(lab__starttime "$pid") || return 1
	[ -n "$now" ] && [ $((now - st)) -le 100 ] && [ $((st - now)) -le 100 ]
}

lab_cleanup_stale() {
	local list=0 ns id d f found=0 pids pid st dir
	[ "${1:-}" = --list ] && list=1
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "$LAB_NS_RE" || true); do
		id=${ns%%-*}
		[ "$id" = "$LAB_PREFIX" ] && continue
		lab__run_alive "$id" && continue
		found=1
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
		if [ $list = 1 ]; then
			echo "stale namespace $ns${pids:+ (pids $pids)}"
		else
			# shellcheck disable=SC2086
			[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
			ip netns del "$ns" 2>/dev/null || true
			echo "removed stale namespace $ns${pids:+ (killed $pids)}"
		fi
	done
	# registered runs whose owner is gone: their run dir (unless kept) and entry
	for f in "$LAB_REGISTRY"/ztl????; do
		[ -f "$f" ] || continue
		id=${f##*/}
		[ "$id" = "$LAB_PREFIX" ] && continue
		lab__run_alive "$id" && continue
		found=1
		read -r pid st dir <"$f" 2>/dev/null || dir=
		if [ $list = 1 ]; then
			echo "stale run $id${dir:+ (dir $dir)}"
			continue
		fi
		if [[ $dir == */ztl???? ]] && [ -d "$dir" ] && [ ! -e "$dir/keep" ]; then rm -rf "$dir"; fi
		rm -f "$f"
		echo "removed stale run $id${dir:+ (dir $dir)}"
	done
	# unregistered run dirs under LAB_ROOT (older than a minute) unless kept
	for d in "$LAB_ROOT"/ztl????; do
		[ -d "$d" ] || continue
		id=${d##*/}
		[ "$id" = "$LAB_PREFIX" ] || [ -e "$LAB_REGISTRY/$id" ] || [ -e "$d/keep" ] && continue
		[ -n "$(find "$d" -maxdepth 0 -mmin +1 2>/dev/null)" ] || continue
		found=1
		if [ $list = 1 ]; then echo "stale run dir $d"; else rm -rf "$d" && echo "removed stale run dir $d"; fi
	done
	[ $found = 1 ] || [ "${LAB_QUIET:-0}" = 1 ] || echo "no stale lab runs"
	return 0
}

# ---------------------------------------------------------------- topology

lab_public_host() {
	lab__main lab_public_host || return 1
	local name=${1:?lab_public_host NAME}
	lab__check_name "public host" "$name" || return 1
	lab__ns_add "$name" public || return 1
	lab__attach "$name" eth0 || return 1
	local n=${LAB_LINKN[$name]}
	LAB_IP[$name]=198.18.$n.2
	LAB_PUB[$name]=198.18.$n.2
	LAB_GW[$name]=198.18.$n.1
	lab__log "public host $name: ${LAB_IP[$name]} (ns ${LAB_NS[$name]})"
}

lab_site() {
	lab__main lab_site || return 1
	local name=${1:?lab_site NAME KIND [LANPREFIX]} kind=${2:?lab_site NAME KIND [LANPREFIX]} pfx=${3:-}
	case $kind in
	port-restricted|prc|restricted) kind=port-restricted ;;
	symmetric|sym) kind=symmetric ;;
	full-cone|cone|fullcone) kind=full-cone ;;
	none|public) kind=none ;;
	*) lab__err "lab_site: unknown kind '$kind' (port-restricted, symmetric, full-cone, none)"; return 1 ;;
	esac
	lab__check_name site "$name" || return 1
	LAB_NSITE=$((LAB_NSITE + 1))
	local s=$LAB_NSITE
	if [ "$kind" = none ]; then
		[ -z "$pfx" ] || lab__log "lab_site $name: kind none uses public 198.19.$s.0/24, ignoring $pfx"
		pfx=198.19.$s
	else
		pfx=${pfx:-${LAB_LAN_PREFIX:-10.$s.0}}
	fi
	[[ $pfx =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { lab__err "lab_site: LAN prefix '$pfx' must be three octets, e.g. 192.168.1"; return 1; }
	lab__ns_add "$name" site || return 1
	local ns=${LAB_NS[$name]}
	lab__router "$ns" || return 1
	lab__attach "$name" wan || return 1
	lab__bridge "$ns" lan || return 1
	lab__run ip -n "$ns" addr add "$pfx.1/24" dev lan || return 1
	local n=${LAB_LINKN[$name]}
	LAB_KIND[$name]=$kind
	LAB_SITEN[$name]=$s
	LAB_LANPFX[$name]=$pfx
	LAB_NHOST[$name]=0
	LAB_IP[$name]=$pfx.1
	LAB_PUB[$name]=198.18.$n.2
	LAB_GW[$name]=198.18.$n.1
	local masq=
	case $kind in
	port-restricted) masq="-A POSTROUTING -o wan -j MASQUERADE" ;;
	symmetric) masq="-A POSTROUTING -o wan -j MASQUERADE --random-fully" ;;
	esac
	if [ "$kind" = none ]; then
		lab__run ip -n "$LAB_INET" route add "$pfx.0/24" via "198.18.$n.2" dev "v-$name" || return 1
	else
		# A home router: outbound is translated, unsolicited inbound is dropped on
		# the WAN side before it can create a conntrack entry (NETNS-NOTES.md), and
		# only replies (or, full-cone, static 1:1 mappings) are forwarded inward.
		lab__rules "$ns" <<-EOF || return 1
		*nat
		$masq
		COMMIT
		*filter
		:FORWARD DROP [0:0]
		-A INPUT -i wan -m conntrack --ctstate NEW,INVALID -j DROP
		-A FORWARD -i lan -o wan -j ACCEPT
		-A FORWARD -i wan -o lan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
		-A FORWARD -i wan -o lan -m conntrack --ctstate DNAT -j ACCEPT
		COMMIT
		EOF
	fi
	lab__log "site $name ($kind): public ${LAB_PUB[$name]}, LAN $pfx.0/24 (ns $ns)"
}

lab_site_host() {
	lab__main lab_site_host || return 1
	local site=${1:?lab_site_host SITE NAME} name=${2:?lab_site_host SITE NAME}
	[ "${LAB_ROLE[$site]:-}" = site ] || { lab__err "lab_site_host: '$site' is not a site"; return 1; }
	lab__check_name host "$name" || return 1
	local k=$((LAB_NHOST[$site] + 1))
	[ $k -le 200 ] || { lab__err "lab_site_host: site $site is full"; return 1; }
	LAB_NHOST[$site]=$k
	local pfx=${LAB_LANPFX[$site]} sns=${LAB_NS[$site]} ip
	ip=$pfx.$((9 + k))
	lab__ns_add "$name" host || return 1
	local ns=${LAB_NS[$name]}
	lab__veth "$ns" eth0 "$sns" "h-$name" || return 1
	lab__run ip -n "$sns" link set "h-$name" master lan || return 1
	lab__run ip -n "$ns" addr add "$ip/24" dev eth0 || return 1
	lab__run ip -n "$ns" route add default via "$pfx.1" || return 1
	LAB_IP[$name]=$ip
	LAB_GW[$name]=$pfx.1
	LAB_SITE[$name]=$site
	case ${LAB_KIND[$site]} in
	none) LAB_PUB[$name]=$ip ;;
	full-cone)
		# 1:1 static NAT on an extra public address of the site's WAN link:
		# endpoint-independent mapping (ports kept) and filtering.
		local pub=198.18.${LAB_LINKN[$site]}.$((9 + k))
		lab__run ip -n "$sns" addr add "$pub/32" dev wan || return 1
		lab__rules "$sns" <<-EOF || return 1
		*nat
		-A PREROUTING -i wan -d $pub -j DNAT --to-destination $ip
		-A POSTROUTING -o wan -s $ip -j SNAT --to-source $pub
		COMMIT
		EOF
		LAB_PUB[$name]=$pub
		;;
	*) LAB_PUB[$name]=${LAB_PUB[$site]} ;;
	esac
	lab__log "host $name on site $site: $ip, seen from the internet as ${LAB_PUB[$name]} (ns $ns)"
}

lab_lan() {
	lab__main lab_lan || return 1
	local lan=${1:?lab_lan LAN OWNER [LANPREFIX]} owner=${2:?lab_lan LAN OWNER [LANPREFIX]} pfx=${3:-}
	lab__check_name lan "$lan" || return 1
	[ -n "${LAB_NS[$owner]:-}" ] && [ "$owner" != inet ] || { lab__err "lab_lan: unknown owner '$owner'"; return 1; }
	LAB_NLAN=$((LAB_NLAN + 1))
	pfx=${pfx:-192.168.$((99 + LAB_NLAN))}
	[[ $pfx =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { lab__err "lab_lan: LAN prefix '$pfx' must be three octets"; return 1; }
	lab__bridge "${LAB_NS[$owner]}" "br-$lan" || return 1
	LAB_ROLE[$lan]=lan
	LAB_LANOWNER[$lan]=$owner
	LAB_LANBR[$lan]=br-$lan
	LAB_LANPFX[$lan]=$pfx
	LAB_NHOST[$lan]=0
	lab__log "lan $lan: bridge br-$lan in $owner (${LAB_NS[$owner]}), addresses $pfx.0/24"
}

lab_lan_host() {
	lab__main lab_lan_host || return 1
	local lan=${1:?lab_lan_host LAN NAME [ADDR/LEN|none]} name=${2:?lab_lan_host LAN NAME [ADDR/LEN|none]} addr=${3:-}
	[ "${LAB_ROLE[$lan]:-}" = lan ] || { lab__err "lab_lan_host: '$lan' is not a lan"; return 1; }
	lab__check_name host "$name" || return 1
	local k=$((LAB_NHOST[$lan] + 1)) ons=${LAB_NS[${LAB_LANOWNER[$lan]}]}
	LAB_NHOST[$lan]=$k
	[ -n "$addr" ] || addr=${LAB_LANPFX[$lan]}.$((9 + k))/24
	[ "$addr" = none ] || [[ $addr == */* ]] || addr=$addr/24
	lab__ns_add "$name" lanhost || return 1
	local ns=${LAB_NS[$name]}
	lab__veth "$ns" eth0 "$ons" "l-$name" || return 1
	lab__run ip -n "$ons" link set "l-$name" master "br-$lan" || return 1
	LAB_LAN[$name]=$lan
	if [ "$addr" != none ]; then
		lab__run ip -n "$ns" addr add "$addr" dev eth0 || return 1
		LAB_IP[$name]=${addr%/*}
	fi
	lab__log "lan host $name on $lan: ${LAB_IP[$name]:-no address} (ns $ns)"
}

lab_lan_attach() {
	local lan=${1:?lab_lan_attach LAN IFACE} ifc=${2:?lab_lan_attach LAN IFACE}
	[ "${LAB_ROLE[$lan]:-}" = lan ] || { lab__err "lab_lan_attach: '$lan' is not a lan"; return 1; }
	local ons=${LAB_NS[${LAB_LANOWNER[$lan]}]}
	lab__run ip -n "$ons" link set "$ifc" master "br-$lan" && lab__run ip -n "$ons" link set "$ifc" up
}

# ---------------------------------------------------------------- DHCP

lab_dhcp_server() {
	lab__main lab_dhcp_server || return 1
	local name=${1:?lab_dhcp_server NAME [FIRST LAST [LEASE]]} first=${2:-} last=${3:-} lease=${4:-1h}
	local ip=${LAB_IP[$name]:-}
	[ -n "$ip" ] || { lab__err "lab_dhcp_server: $name has no static address"; return 1; }
	command -v dnsmasq >/dev/null || { lab__err "lab_dhcp_server: dnsmasq is not installed (Debian: dnsmasq-base)"; return 1; }
	first=${first:-${ip%.*}.100}
	last=${last:-${ip%.*}.199}
	lab_bg "$name" "dhcp-$name" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--port=0 --interface=eth0 --bind-interfaces --except-interface=lo --user=root --group=root \
		--dhcp-range="$first,$last,255.255.255.0,$lease" --dhcp-authoritative --no-ping \
		--dhcp-leasefile="$LAB_DIR/dhcp-$name.leases" --pid-file= --log-dhcp --log-facility=- || return 1
	if ! lab_wait 5 grep -q "DHCP, IP range" "$LAB_DIR/dhcp-$name.log"; then
		lab__err "lab_dhcp_server: dnsmasq on $name did not start"; sed 's/^/lab:   | /' "$LAB_DIR/dhcp-$name.log" >&2
		return 1
	fi
	lab__log "dhcp server on $name: $first - $last"
}

lab_dhcp_client() {
	lab__main lab_dhcp_client || return 1
	local name=${1:?lab_dhcp_client NAME [IFACE] [TIMEOUT]} ifc=${2:-eth0} tmo=${3:-15}
	local ns
	ns=$(lab_ns "$name") || return 1
	command -v busybox >/dev/null || { lab__err "lab_dhcp_client: busybox is not installed"; return 1; }
	local script=$LAB_DIR/udhcpc.script
	if [ ! -x "$script" ]; then
		# only add the leased address: never flush the interface or touch routes
		cat >"$script" <<-'EOF'
		#!/bin/sh
		case "$1" in
		bound|renew)
			ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null || true
			echo "lab-udhcpc: $1 $interface $ip/${mask:-24}" ;;
		esac
		exit 0
		EOF
		chmod +x "$script"
	fi
	local log=$LAB_DIR/dhcp-client-$name.log
	ip netns exec "$ns" timeout "$tmo" busybox udhcpc -f -q -n -i "$ifc" -t 5 -T 1 -A 1 -s "$script" >>"$log" 2>&1
	local got
	got=$(ip -n "$ns" -4 -o addr show dev "$ifc" 2>/dev/null | awk '{print $4}' | head -n 1)
	if [ -z "$got" ]; then
		lab__err "lab_dhcp_client: $name got no lease on $ifc"
		sed 's/^/lab:   | /' "$log" >&2
		return 1
	fi
	LAB_IP[$name]=${got%/*}
	lab__log "dhcp client $name: $got on $ifc"
}

# ---------------------------------------------------------------- processes

lab_ns() {
	local name=${1:?lab_ns NAME}
	if [ -n "${LAB_NS[$name]:-}" ]; then echo "${LAB_NS[$name]}"; return 0; fi
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF -- "$name"; then echo "$name"; return 0; fi
	lab__err "no node or namespace called '$name'"
}
lab_ip() { [ -n "${LAB_IP[${1:?lab_ip NAME}]:-}" ] && echo "${LAB_IP[$1]}" || lab__err "no address for '$1'"; }
lab_pub() { [ -n "${LAB_PUB[${1:?lab_pub NAME}]:-}" ] && echo "${LAB_PUB[$1]}" || lab__err "no public address for '$1'"; }

lab_exec() {
	local ns
	ns=$(lab_ns "${1:?lab_exec NAME CMD...}") || return 1
	shift
	ip netns exec "$ns" "$@"
}

lab_bg() {
	lab__main lab_bg || return 1
	local node=${1:-} name=${2:-}
	[ $# -ge 3 ] || { lab__err "usage: lab_bg NAME PROC CMD..."; return 1; }
	shift 2
	[[ $name =~ ^[A-Za-z0-9_.-]{1,40}$ ]] || { lab__err "lab_bg: bad process name '$name'"; return 1; }
	if [ -n "${LAB_PID[$name]:-}" ] && lab__group_alive "${LAB_PID[$name]}"; then
		lab__err "lab_bg: '$name' is already running"; return 1
	fi
	local ns
	ns=$(lab_ns "$node") || return 1
	local pidf=$LAB_DIR/$name.pid rcf=$LAB_DIR/$name.rc log=$LAB_DIR/$name.log
	rm -f "$pidf" "$rcf"
	# The wrapper (its own session) runs the command as a job-control job, i.e.
	# in a process group of its own with default signal dispositions; it relays
	# nothing (lab_kill signals the job's group) and records the exit status.
	setsid env --default-signal=INT,QUIT bash -c 'set -m; "${@:3}" & c=$!; echo "$$ $c" >"$1.tmp" && mv "$1.tmp" "$1"; exec 2>/dev/null; trap : HUP INT QUIT TERM USR1 USR2 ALRM; while :; do wait "$c"; rc=$?; kill -0 "$c" 2>/dev/null || break; done; echo "$rc" >"$2"' \
		lab-bg "$pidf" "$rcf" ip netns exec "$ns" "$@" </dev/null >>"$log" 2>&1 &
	disown $! 2>/dev/null || true
	local i=0
	while [ ! -s "$pidf" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
	[ -s "$pidf" ] || { lab__err "lab_bg: $name did not start"; return 1; }
	local w c
	read -r w c <"$pidf"
	LAB_PID[$name]=$c
	LAB_WPID[$name]=$w
	LAB_PNODE[$name]=$node
}

lab_alive() {
	local g=${LAB_PID[${1:?lab_alive PROC}]:-}
	[ -n "$g" ] && lab__group_alive "$g"
}

lab_log() { echo "$LAB_DIR/${1:?lab_log PROC}.log"; }

lab_kill() {
	local name=${1:?lab_kill PROC [SIGNAL]} sig=${2:-TERM}
	local g=${LAB_PID[$name]:-} w=${LAB_WPID[$name]:-}
	[ -n "$g" ] || { lab__log "lab_kill: no process '$name'"; return 0; }
	sig=${sig#SIG}
	kill -s "$sig" -- "-$g" 2>/dev/null || true
	case $sig in
	TERM|INT|QUIT|KILL|9|15|2|3)
		if ! lab__wait_gone "${LAB_KILL_WAIT:-5}" "$g"; then
			lab__log "lab_kill: $name ignored SIG$sig, killing"
			kill -KILL -- "-$g" 2>/dev/null || true
			lab__wait_gone 2 "$g" || true
		fi
		lab__wait_pid_gone 2 "$w" || kill -KILL "$w" 2>/dev/null || true
		[ "$BASHPID" = "$LAB_OWNER" ] && unset "LAB_PID[$name]" "LAB_WPID[$name]"
		;;
	esac
	return 0
}

# lab_bg_wait PROC TIMEOUT: wait for PROC to end; return its exit status (124: timeout)
lab_bg_wait() {
	local name=${1:?lab_bg_wait PROC TIMEOUT} tmo=${2:?lab_bg_wait PROC TIMEOUT}
	local g=${LAB_PID[$name]:-}
	[ -n "$g" ] || { lab__err "lab_bg_wait: no process '$name'"; return 1; }
	lab__wait_gone "$tmo" "$g" || return 124
	lab__wait_pid_gone 2 "${LAB_WPID[$name]}" || true
	local rc=
	[ -r "$LAB_DIR/$name.rc" ] && rc=$(<"$LAB_DIR/$name.rc")
	return "${rc:-255}"
}

lab_wait() {
	local t=${1:?lab_wait TIMEOUT CMD...}
	shift
	[ $# -gt 0 ] || { lab__err "usage: lab_wait TIMEOUT CMD..."; return 1; }
	local tus ius n=0 max now end iv=${LAB_WAIT_INTERVAL:-0.1}
	tus=$(lab__sec2us "$t") || return 1
	ius=$(lab__sec2us "$iv") || return 1
	[ "$ius" -gt 0 ] || ius=100000
	max=$((tus / ius + 2))
	end=$(($(lab__now_us) + tus))
	while :; do
		"$@" && return 0
		n=$((n + 1))
		now=$(lab__now_us)
		{ [ "$now" -ge "$end" ] || [ $n -ge $max ]; } && return 1
		sleep "$iv"
	done
}

# ---------------------------------------------------------------- faults

lab__cut_rules() {
	local a b ia ib
	a=$(lab__attachment "$1") || return 1
	ia=v-$a
	if [ -z "${2:-}" ] || [ "$2" = all ]; then
		echo "-i $ia -j DROP"
		echo "-o $ia -j DROP"
	else
		b=$(lab__attachment "$2") || return 1
		[ "$a" != "$b" ] || { lab__err "lab_cut: $1 and $2 are behind the same attachment ($a)"; return 1; }
		ib=v-$b
		echo "-i $ia -o $ib -j DROP"
		echo "-i $ib -o $ia -j DROP"
	fi
}

lab_cut() {
	lab__main lab_cut || return 1
	local rules r
	rules=$(lab__cut_rules "${1:?lab_cut A [B]}" "${2:-}") || return 1
	while read -r r; do
		# shellcheck disable=SC2086
		ip netns exec "$LAB_INET" iptables -w 5 -C LAB_CUT $r 2>/dev/null ||
			lab__ipt "$LAB_INET" -A LAB_CUT $r || return 1
	done <<<"$rules"
	lab__log "cut $1 <-> ${2:-all}"
}

lab_heal() {
	lab__main lab_heal || return 1
	local rules r i
	rules=$(lab__cut_rules "${1:?lab_heal A [B]}" "${2:-}") || return 1
	while read -r r; do
		for i in 1 2 3 4 5 6 7 8; do
			# shellcheck disable=SC2086
			ip netns exec "$LAB_INET" iptables -w 5 -D LAB_CUT $r 2>/dev/null || break
		done
	done <<<"$rules"
	lab__log "healed $1 <-> ${2:-all}"
}

lab_loss() {
	lab__main lab_loss || return 1
	local pct=${1:?lab_loss PERCENT [NAME]} name=${2:-} p
	[[ $pct =~ ^[0-9]+(\.[0-9]+)?$ ]] || { lab__err "lab_loss: bad percentage '$pct'"; return 1; }
	p=$(awk -v x="$pct" 'BEGIN { if (x > 100) x = 100; printf "%.6f", x / 100 }')
	lab__ipt "$LAB_INET" -F LAB_LOSS || return 1
	if awk -v x="$p" 'BEGIN { exit !(x > 0) }'; then
		local st=(-m statistic --mode random --probability "$p" -j DROP)
		if [ -n "$name" ]; then
			local a
			a=$(lab__attachment "$name") || return 1
			lab__ipt "$LAB_INET" -A LAB_LOSS -i "v-$a" "${st[@]}" || return 1
			lab__ipt "$LAB_INET" -A LAB_LOSS -o "v-$a" "${st[@]}" || return 1
		else
			lab__ipt "$LAB_INET" -A LAB_LOSS "${st[@]}" || return 1
		fi
	fi
	lab__log "loss ${pct}%${name:+ on the link of $name}"
}

# ---------------------------------------------------------------- impairment
#
# lab_impair shapes one attachment link (a public host's, a site's uplink) in
# both directions, on the internet router: random loss with iptables
# `statistic` in chain LAB_IMPAIR (FORWARD, after LAB_CUT and LAB_LOSS), and
# delay, jitter, reordering, duplication and bursty loss in the NFQUEUE
# program tools/nfq_delay.c (built into $LAB_DIR on first use, run as the
# lab_bg process nfq-delay in the internet router, bounded by
# LAB_IMPAIR_SECS). Offloads go off on every veth of the run first
# (NETNS-NOTES.md: a statistic drop of a GSO skb loses ~44 datagrams at once).

LAB_NFQ_NUM=${LAB_NFQ_NUM:-7} # NFQUEUE numbers are per namespace: no clash between runs

# lab__need_pkgs CMD-OR-FILE PACKAGE...: install Debian packages if missing
lab__need() {
	local what=$1
	shift
	if [[ $what == /* ]]; then [ -e "$what" ] && return 0; else command -v "$what" >/dev/null && return 0; fi
	lab__log "installing $* (for $what)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$LAB_DIR/apt.log" 2>&1 ||
		{ lab__err "cannot install $* (see $LAB_DIR/apt.log)"; return 1; }
}

lab__nfq_build() {
	local bin=$LAB_DIR/nfq-delay
	[ -x "$bin" ] && return 0
	lab__need /usr/include/libnetfilter_queue/libnetfilter_queue.h libnetfilter-queue-dev || return 1
	lab__run ${CC:-cc} -std=c11 -O2 -Wall -Wextra -o "$bin" "$LAB_TOOLS/nfq_delay.c" -lnetfilter_queue -lnfnetlink
}

# lab__offloads_off: GSO/TSO/GRO/UDP segmentation off on every veth of the run
lab__offloads_off() {
	[ "${LAB_OFFLOADS_DONE:-}" = "${#LAB_NAMES[@]}" ] && return 0 # no new namespace since last time
	lab__need ethtool ethtool || return 1
	local n ns dev
	for n in inet "${LAB_NAMES[@]}"; do
		ns=${LAB_NS[$n]}
		for dev in $(ip -n "$ns" -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
			ip netns exec "$ns" ethtool -K "$dev" gso off tso off gro off tx-udp-segmentation off >/dev/null 2>&1 ||
				ip netns exec "$ns" ethtool -K "$dev" gso off tso off gro off >/dev/null 2>&1 ||
				lab__log "cannot turn offloads off on $dev in $ns"
		done
	done
	LAB_OFFLOADS_DONE=${#LAB_NAMES[@]}
}

# lab__impair_apply: LAB_IMP -> delayer config (reloaded), then LAB_IMPAIR rules
lab__impair_apply() {
	local conf=$LAB_DIR/impair.conf a d j l bp bl r u p need=0 drops='' queues=''
	: >"$conf.tmp"
	for a in "${!LAB_IMP[@]}"; do
		read -r d j l bp bl r u <<<"${LAB_IMP[$a]}"
		if awk -v p="$l" 'BEGIN { exit !(p > 0) }'; then
			p=$(awk -v x="$l" 'BEGIN { printf "%.6f", x / 100 }')
			drops+="-A LAB_IMPAIR -i v-$a -m statistic --mode random --probability $p -j DROP"$'\n'
			drops+="-A LAB_IMPAIR -o v-$a -m statistic --mode random --probability $p -j DROP"$'\n'
		fi
		if awk -v d="$d" -v j="$j" -v b="$bp" -v r="$r" -v u="$u" 'BEGIN { exit !(d > 0 || j > 0 || b > 0 || r > 0 || u > 0) }'; then
			echo "v-$a $d $j $r $u $bp $bl" >>"$conf.tmp"
			queues+="-A LAB_IMPAIR -i v-$a -j NFQUEUE --queue-num $LAB_NFQ_NUM --queue-bypass"$'\n'
			queues+="-A LAB_IMPAIR -o v-$a -j NFQUEUE --queue-num $LAB_NFQ_NUM --queue-bypass"$'\n'
			need=1
		fi
	done
	mv "$conf.tmp" "$conf"
	if [ $need = 1 ] || lab_alive nfq-delay; then
		lab__nfq_reload "$conf" || return 1
	fi
	printf '*filter\n-F LAB_IMPAIR\n%s%sCOMMIT\n' "$drops" "$queues" | lab__rules "$LAB_INET"
}

# lab__nfq_reload CONF: start the delayer, or make it re-read CONF; wait until it has
lab__nfq_reload() {
	local conf=$1 log=$LAB_DIR/nfq-delay.log before
	if ! lab_alive nfq-delay; then
		lab__nfq_build || return 1
		lab_bg inet nfq-delay "$LAB_DIR/nfq-delay" --queue "$LAB_NFQ_NUM" --config "$conf" \
			--timeout "${LAB_IMPAIR_SECS:-1800}" || return 1
		lab_wait 5 grep -q '^nfq_delay: ready' "$log" ||
			{ lab__err "the delayer did not start"; sed 's/^/lab:   | /' "$log" >&2; return 1; }
		return 0
	fi
	before=$(grep -c '^nfq_delay: loaded' "$log")
	kill -HUP "${LAB_PID[nfq-delay]}" 2>/dev/null
	lab_wait 5 test "$(grep -c '^nfq_delay: loaded' "$log")" -gt "$before" ||
		{ lab__err "the delayer did not reload $conf"; tail -n 5 "$log" | sed 's/^/lab:   | /' >&2; return 1; }
}

lab_impair() {
	lab__main lab_impair || return 1
	local name=${1:?lab_impair NAME [delay MS] [jitter MS] [loss PCT] [burst PCT [LEN]] [reorder PCT] [dup PCT] | off} a
	shift
	a=$(lab__attachment "$name") || return 1
	local d=0 j=0 l=0 bp=0 bl=1 r=0 u=0 num='^[0-9]+(\.[0-9]+)?$'
	while [ $# -gt 0 ]; do
		case $1 in
		off) shift; continue ;;
		delay|jitter|loss|reorder|dup|burst) [[ ${2:-} =~ $num ]] || { lab__err "lab_impair: $1 wants a number, got '${2:-}'"; return 1; } ;;
		*) lab__err "lab_impair: unknown setting '$1' (delay, jitter, loss, burst, reorder, dup, off)"; return 1 ;;
		esac
		case $1 in
		delay) d=$2 ;;
		jitter) j=$2 ;;
		loss) l=$2 ;;
		reorder) r=$2 ;;
		dup) u=$2 ;;
		burst)
			bp=$2 bl=4
			if [[ ${3:-} =~ $num ]]; then bl=$3; shift; fi
			;;
		esac
		shift 2
	done
	awk -v l="$l" -v b="$bp" -v r="$r" -v u="$u" -v n="$bl" 'BEGIN { exit !(l <= 100 && b < 100 && r <= 100 && u <= 100 && n >= 1) }' ||
		{ lab__err "lab_impair: percentages must be 0..100 (burst below 100), burst length >= 1"; return 1; }
	if [ "$d$j$l$bp$r$u" = 000000 ]; then
		unset "LAB_IMP[$a]"
	else
		LAB_IMP[$a]="$d $j $l $bp $bl $r $u"
		lab__offloads_off || return 1
	fi
	lab__impair_apply || return 1
	lab__log "impair link of $a: delay ${d} ms jitter ${j} ms loss ${l}% burst ${bp}%/${bl} reorder ${r}% dup ${u}%"
}

lab_impair_clear() {
	lab__main lab_impair_clear || return 1
	LAB_IMP=()
	lab__impair_apply
}

lab_impair_stats() {
	local log=$LAB_DIR/nfq-delay.log before
	lab_alive nfq-delay || { echo "nfq_delay: not running"; return 0; }
	before=$(grep -c '^nfq_delay: stats' "$log")
	kill -USR1 "${LAB_PID[nfq-delay]}" 2>/dev/null
	lab_wait 3 test "$(grep -c '^nfq_delay: stats' "$log")" -gt "$before"
	grep '^nfq_delay: stats' "$log" | tail -n 1
}

lab_nat_timeout() {
	lab__main lab_nat_timeout || return 1
	local site=${1:?lab_nat_timeout SITE SECONDS} secs=${2:?lab_nat_timeout SITE SECONDS}
	[ "${LAB_ROLE[$site]:-}" = site ] || { lab__err "lab_nat_timeout: '$site' is not a site"; return 1; }
	lab__in "${LAB_NS[$site]}" sysctl -qw "net.netfilter.nf_conntrack_udp_timeout=$secs" \
		"net.netfilter.nf_conntrack_udp_timeout_stream=$secs" >/dev/null
}

lab_nat_reset() {
	lab__main lab_nat_reset || return 1
	local site=${1:?lab_nat_reset SITE}
	[ "${LAB_ROLE[$site]:-}" = site ] || { lab__err "lab_nat_reset: '$site' is not a site"; return 1; }
	command -v conntrack >/dev/null || { lab__err "lab_nat_reset: conntrack is not installed"; return 1; }
	ip netns exec "${LAB_NS[$site]}" conntrack -F >/dev/null 2>&1 || true
	lab__log "NAT mappings of $site flushed"
}

# ---------------------------------------------------------------- capture

lab_capture_start() {
	lab__main lab_capture_start || return 1
	local file=${1:?lab_capture_start FILE [FILTER...]}
	shift
	[ -z "$LAB_CAPTURE" ] || { lab__err "lab_capture_start: a capture is already running"; return 1; }
	command -v tcpdump >/dev/null || { lab__err "lab_capture_start: tcpdump is not installed"; return 1; }
	[[ $file == /* ]] || file=$PWD/$file
	# Every forwarded packet once (on its way in), bounded in count and time.
	lab_bg inet capture timeout "${LAB_CAPTURE_SECS:-900}" tcpdump -i any -Q in -n -U --immediate-mode -Z root \
		-c "${LAB_CAPTURE_PKTS:-200000}" -w "$file" "$@" || return 1
	if ! lab_wait 5 grep -q "listening on" "$LAB_DIR/capture.log"; then
		lab__err "lab_capture_start: tcpdump did not start"; sed 's/^/lab:   | /' "$LAB_DIR/capture.log" >&2
		lab_kill capture KILL
		return 1
	fi
	LAB_CAPTURE=$file
	lab__log "capturing on the internet router into $file"
}

lab_capture_stop() {
	lab__main lab_capture_stop || return 1
	[ -n "$LAB_CAPTURE" ] || { lab__log "lab_capture_stop: no capture running"; return 0; }
	lab_kill capture INT # tcpdump flushes the file and exits
	lab__log "capture $LAB_CAPTURE: $(grep -o '[0-9]* packets captured' "$LAB_DIR/capture.log" | tail -n 1)"
	LAB_CAPTURE=
	LAB_OFFLOADS_DONE=
}

# ---------------------------------------------------------------- info

lab_info() {
	[ -n "$LAB_PREFIX" ] || { echo "lab: not initialised"; return 0; }
	echo "lab run $LAB_PREFIX (dir $LAB_DIR)"
	printf '  %-12s %-8s %-16s %-16s %-15s %s\n' NAME ROLE ADDRESS PUBLIC KIND/SITE NAMESPACE
	printf '  %-12s %-8s %-16s %-16s %-15s %s\n' inet router - - - "$LAB_INET"
	local n
	for n in "${LAB_NAMES[@]}"; do
		printf '  %-12s %-8s %-16s %-16s %-15s %s\n' "$n" "${LAB_ROLE[$n]}" "${LAB_IP[$n]:--}" \
			"${LAB_PUB[$n]:--}" "${LAB_KIND[$n]:-${LAB_SITE[$n]:-${LAB_LAN[$n]:--}}}" "${LAB_NS[$n]}"
	done
	for n in "${!LAB_LANOWNER[@]}"; do
		echo "  lan $n: bridge br-$n in ${LAB_LANOWNER[$n]}, ${LAB_LANPFX[$n]}.0/24"
	done
	for n in "${!LAB_PID[@]}"; do
		echo "  process $n on ${LAB_PNODE[$n]}: pgid ${LAB_PID[$n]}, log $LAB_DIR/$n.log"
	done
}
