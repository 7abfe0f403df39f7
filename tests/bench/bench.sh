#!/usr/bin/env bash
# tests/bench/bench.sh - zt against tinc 1.0 and the plain underlay, in one run.
#
#   make bench     (= ZT_BIN=build/rel/bin bash tests/bench/bench.sh)
#
# Two network namespaces A and B joined by one veth pair (the underlay: no NAT,
# no loss, MTU 1500). On top of it, at the same time:
#   zt:   a member ztd in A and one in B (release build); the root and the
#         controller are two more ztd in A (UDP ports 9994, 9995), idle while
#         measuring;
#         a private network with the controller's default MTU (2800)
#   tinc: tinc 1.0 in switch mode, one tincd per side with generated RSA keys,
#         a tap device each (its defaults: aes-256-cbc, sha256, PMTU discovery,
#         ClampMSS)
# For each of underlay, zt and tinc, A is the client and B the server:
#   iperf3 TCP, 1 stream and 4 streams; iperf3 UDP at full rate (-b 0) with
#   1300-byte datagrams (no fragmentation on any of the three: tinc's path MTU
#   is about 1425), achieved throughput and loss;
#   ping, 200 echoes at 10 ms interval, mean and p99;
#   the daemons' CPU seconds (utime+stime of both ends, /proc/PID/stat) per GB
#   received during each TCP run; each daemon's peak RSS (VmHWM) at the end.
# Prints one aligned table with the ratios zt/tinc and zt/underlay and writes it
# to build/bench/last.md with the date and the machine. Numbers are reported,
# not asserted. Every step is bounded; everything is torn down at the end, on
# error and on Ctrl-C.
#
# Environment: ZT_BIN (build/rel/bin), BENCH_SECS (10, per iperf3 run),
# BENCH_PINGS (200), BENCH_UDP_LEN (1300), BENCH_UDP_RATE (0 = unlimited),
# ZT_MTU (network MTU, default: the controller's), ZT_CIPHER (ztd's `cipher`),
# BENCH_OUT (build/bench), BENCH_ONLY ("underlay zt tinc"), BENCH_KEEP=1 (keep
# the work directory), BENCH_TIMEOUT (900: the whole run is killed after it).
# Needs root, iproute2, iperf3, tinc, iputils-ping, python3.

set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd)
LIB=$REPO/tests/bench/benchlib.py

ZT_BIN=${ZT_BIN:-build/rel/bin}
SECS=${BENCH_SECS:-10}
PINGS=${BENCH_PINGS:-200}
UDP_LEN=${BENCH_UDP_LEN:-1300}
UDP_RATE=${BENCH_UDP_RATE:-0}
OUT=${BENCH_OUT:-build/bench}
ONLY=${BENCH_ONLY:-underlay zt tinc}
TOTAL_TIMEOUT=${BENCH_TIMEOUT:-900}
PORT=5201

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces)"
ZT_BIN=$(cd "$ZT_BIN" 2>/dev/null && pwd) || die "no directory $ZT_BIN: run 'make' first"
for t in ip iperf3 ping python3 timeout ss; do
	command -v "$t" >/dev/null || die "missing tool $t (Debian: iproute2 iperf3 iputils-ping python3)"
done
case " $ONLY " in *" zt "*) for p in ztd zt-cli; do [ -x "$ZT_BIN/$p" ] || die "missing $ZT_BIN/$p: run 'make'"; done ;; esac
case " $ONLY " in *" tinc "*) command -v tincd >/dev/null || die "missing tincd (Debian package: tinc)" ;; esac
[[ $SECS =~ ^[0-9]+$ && $PINGS =~ ^[0-9]+$ && $UDP_LEN =~ ^[0-9]+$ ]] || die "BENCH_SECS, BENCH_PINGS, BENCH_UDP_LEN must be integers"

# ------------------------------------------------------------------ run state and teardown
RUN=zb$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
NA=$RUN-a
NB=$RUN-b
W=/tmp/ztbench/$RUN
PIDS=()
WATCHDOG=
TORN=0

teardown() {
	[ $TORN = 0 ] || return 0
	TORN=1
	trap '' INT TERM HUP
	local p ns pids n
	[ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for n in $(seq 1 30); do
		pids=
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && pids=1; done
		[ -z "$pids" ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	# anything else still running inside our two namespaces (iperf3, ping, ...)
	for ns in "$NA" "$NB"; do
		ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || continue
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "bench: work directory kept: $W"; else rm -rf "$W"; fi
	rmdir /tmp/ztbench 2>/dev/null
	return 0
}
trap 'teardown' EXIT
trap 'say "bench: interrupted"; exit 130' INT
trap 'say "bench: terminated"; exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$W" "$OUT" || die "cannot create $W or $OUT"
# a watchdog bounds the whole run
# (its sleep has no inherited descriptors, so nothing waits on it; TERM ends both)
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep "$TOTAL_TIMEOUT" </dev/null >/dev/null 2>&1 &
	sp=$!
	wait $sp
	echo "bench: still running after ${TOTAL_TIMEOUT}s, stopping" >&2
	kill -TERM $$
) &
WATCHDOG=$!

# bg NS LOG CMD...: start CMD in namespace NS in the background, in a session of
# its own (a Ctrl-C on the terminal must not reach the daemons: ztd would exit,
# tincd takes SIGINT as "more debug"); BGPID = its pid (ip and setsid exec it)
bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" setsid "$@" </dev/null >>"$log" 2>&1 &
	BGPID=$!
	PIDS+=("$BGPID")
}
# run_fg OUT ERR CMD...: run CMD (stdout to OUT, stderr to ERR) and wait for it in
# a way a signal interrupts at once (the trap then tears everything down, CMD
# included); returns CMD's status. The redirections stay inside: a trap runs
# with the redirections of the command it interrupted.
run_fg() {
	local out=$1 err=$2
	shift 2
	"$@" >"$out" 2>"$err" &
	wait $!
}
# waitfor SECONDS CMD...: poll CMD every 0.1 s until it succeeds or SECONDS
# (wall clock) have passed; CMD itself must be short
waitfor() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
in_a() { ip netns exec "$NA" "$@"; }
in_b() { ip netns exec "$NB" "$@"; }
cpu_ticks() { # PID... -> utime+stime summed (clock ticks)
	local p s sum=0 f
	for p in "$@"; do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		read -r -a f <<<"$s"
		sum=$((sum + f[11] + f[12])) # fields 14 and 15 of stat (after pid and comm)
	done
	echo "$sum"
}
vmhwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }
HZ=$(getconf CLK_TCK)

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=$W/results
: >"$RESULTS"
res() { echo "$1 $2 $3" >>"$RESULTS"; }
meta() { echo "meta $1 $2" >>"$RESULTS"; }

# ------------------------------------------------------------------ underlay
step "underlay: namespaces $NA and $NB, one veth pair"
ip netns add "$NA" && ip netns add "$NB" || die "cannot create namespaces"
ip link add va netns "$NA" type veth peer name vb netns "$NB" || die "cannot create the veth pair"
in_a ip addr add 10.77.0.1/24 dev va && in_b ip addr add 10.77.0.2/24 dev vb || die "addresses"
for ns in "$NA" "$NB"; do ip -n "$ns" link set lo up; done
in_a ip link set va up && in_b ip link set vb up || die "links up"
waitfor 5 in_a ping -c 1 -W 1 10.77.0.2 || die "the underlay does not answer pings"
declare -A DST MTU DPIDS
DST[underlay]=10.77.0.2
MTU[underlay]=$(in_a cat /sys/class/net/va/mtu)
DPIDS[underlay]=
say "A 10.77.0.1 <-> B 10.77.0.2, MTU ${MTU[underlay]}"

# ------------------------------------------------------------------ zt
ZT_INFO=
if [[ " $ONLY " == *" zt "* ]]; then
	step "zt: root, controller and a member in A, a member in B (binaries $ZT_BIN)"
	Z=$W/zt
	mkdir -p "$Z/root" "$Z/ctl" "$Z/a" "$Z/b"
	zcli() { local ns=$1 home=$2; shift 2; ip netns exec "$ns" timeout 10 "$ZT_BIN/zt-cli" -H "$home" "$@"; }
	# root and controller as two daemons (ports 9994, 9995), both idle while measuring
	bg "$NA" "$Z/root.log" "$ZT_BIN/ztd" -H "$Z/root" -p 9994 --root
	waitfor 15 zcli "$NA" "$Z/root" -j info || { cat "$Z/root.log"; die "ztd --root did not come up"; }
	printf 'roots = ( { identity = "%s"; endpoints = [ "10.77.0.1/9994" ]; } );\n' \
		"$(cat "$Z/root/identity.public")" >"$Z/roots.conf"
	[ -z "${ZT_CIPHER:-}" ] || printf 'cipher = "%s";\n' "$ZT_CIPHER" >>"$Z/roots.conf"
	cp "$Z/roots.conf" "$Z/ctl/ztd.conf"
	bg "$NA" "$Z/ctl.log" "$ZT_BIN/ztd" -H "$Z/ctl" -p 9995 --controller
	waitfor 15 zcli "$NA" "$Z/ctl" -j info || { cat "$Z/ctl.log"; die "ztd --controller did not come up"; }
	cp "$Z/roots.conf" "$Z/a/ztd.conf"
	cp "$Z/roots.conf" "$Z/b/ztd.conf"
	bg "$NA" "$Z/a.log" "$ZT_BIN/ztd" -H "$Z/a"
	ZA=$BGPID
	bg "$NB" "$Z/b.log" "$ZT_BIN/ztd" -H "$Z/b"
	ZB=$BGPID
	waitfor 15 zcli "$NA" "$Z/a" -j info || { cat "$Z/a.log"; die "ztd in A did not come up"; }
	waitfor 15 zcli "$NB" "$Z/b" -j info || { cat "$Z/b.log"; die "ztd in B did not come up"; }
	NWID=$(zcli "$NA" "$Z/ctl" -j controller network create bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
		die "network create failed"
	zcli "$NA" "$Z/ctl" -j controller network set "$NWID" \
		ipv4_pools '[{"start":"10.147.99.1","end":"10.147.99.2"}]' routes '[{"target":"10.147.99.0/24","via":null}]' \
		${ZT_MTU:+mtu "$ZT_MTU"} >/dev/null || die "network set failed"
	zcli "$NA" "$Z/a" join "$NWID" >/dev/null || die "join in A failed"
	zcli "$NB" "$Z/b" join "$NWID" >/dev/null || die "join in B failed"
	for h in a b; do
		zcli "$NA" "$Z/ctl" controller member authorize "$NWID" "$(cut -d: -f1 "$Z/$h/identity.public")" >/dev/null ||
			die "authorize $h failed"
	done
	znet() { # NS HOME FIELD -> field of our network in `zt-cli -j networks`
		zcli "$1" "$2" -j networks | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["id"] == sys.argv[1]:
        v = n.get(sys.argv[2])
        if sys.argv[2] == "addresses":
            v = ([a.split("/")[0] for a in v if ":" not in a] or [""])[0]
        print(v)' "$NWID" "$3"
	}
	zok() { [ "$(znet "$1" "$2" status)" = OK ] && [ -n "$(znet "$1" "$2" addresses)" ]; }
	waitfor 30 zok "$NA" "$Z/a" || { zcli "$NA" "$Z/a" networks; die "zt member A did not reach OK"; }
	waitfor 30 zok "$NB" "$Z/b" || { zcli "$NB" "$Z/b" networks; die "zt member B did not reach OK"; }
	ZIF_A=$(znet "$NA" "$Z/a" interface)
	DST[zt]=$(znet "$NB" "$Z/b" addresses)
	MTU[zt]=$(in_a cat "/sys/class/net/$ZIF_A/mtu")
	DPIDS[zt]="$ZA $ZB"
	for p in $ZA $ZB; do [ "$(cat /proc/$p/comm 2>/dev/null)" = ztd ] || die "pid $p is not ztd: CPU accounting would be wrong"; done
	waitfor 20 in_a ping -c 1 -W 1 "${DST[zt]}" || {
		zcli "$NA" "$Z/a" peers
		zcli "$NA" "$Z/a" networks
		die "no ping over zt to ${DST[zt]}"
	}
	ZB_ADDR=$(cut -d: -f1 "$Z/b/identity.public")
	zlink() { zcli "$NA" "$Z/a" -j peers | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["address"] == sys.argv[1]:
        print(p.get("link"))' "$ZB_ADDR"; }
	waitfor 15 eval '[ "$(zlink)" = DIRECT ]' || say "warning: the zt link A->B is $(zlink), not DIRECT"
	ZT_INFO="network $NWID, TAP $ZIF_A MTU ${MTU[zt]}, link $(zlink), cipher ${ZT_CIPHER:-default}"
	say "$ZT_INFO; B is ${DST[zt]}"
fi

# ------------------------------------------------------------------ tinc
TINC_INFO=
if [[ " $ONLY " == *" tinc "* ]]; then
	step "tinc: $(tincd --version | head -1), switch mode, one tincd per side"
	T=$W/tinc
	for h in a b; do
		mkdir -p "$T/$h/hosts"
		{
			echo "Name = $h"
			echo "Mode = switch"
			echo "Interface = tinc0"
			echo "AddressFamily = ipv4"
			[ $h = a ] && echo "ConnectTo = b"
		} >"$T/$h/tinc.conf"
		n=1
		[ $h = b ] && n=2
		printf 'Address = 10.77.0.%s\nPort = 655\n' $n >"$T/$h/hosts/$h"
		printf '#!/bin/sh\nip link set "$INTERFACE" up\nip addr add 10.78.0.%s/24 dev "$INTERFACE"\n' $n >"$T/$h/tinc-up"
		chmod +x "$T/$h/tinc-up"
		timeout 60 tincd -c "$T/$h" -K2048 </dev/null >"$T/keygen-$h.log" 2>&1 || { cat "$T/keygen-$h.log"; die "tinc key generation failed"; }
	done
	cp "$T/a/hosts/a" "$T/b/hosts/a"
	cp "$T/b/hosts/b" "$T/a/hosts/b"
	bg "$NB" "$T/b.log" tincd -c "$T/b" -D -d1 --pidfile="$T/b.pid"
	TB=$BGPID
	waitfor 10 in_b ip link show tinc0 || { cat "$T/b.log"; die "tincd in B did not create tinc0"; }
	bg "$NA" "$T/a.log" tincd -c "$T/a" -D -d1 --pidfile="$T/a.pid"
	TA=$BGPID
	waitfor 10 in_a ip link show tinc0 || { cat "$T/a.log"; die "tincd in A did not create tinc0"; }
	waitfor 30 in_a ping -c 1 -W 1 10.78.0.2 || { tail -n 20 "$T/a.log"; die "no ping over tinc"; }
	DST[tinc]=10.78.0.2
	MTU[tinc]=$(in_a cat /sys/class/net/tinc0/mtu)
	DPIDS[tinc]="$TA $TB"
	for p in $TA $TB; do [ "$(cat /proc/$p/comm 2>/dev/null)" = tincd ] || die "pid $p is not tincd: CPU accounting would be wrong"; done
	TINC_INFO="tap tinc0 MTU ${MTU[tinc]}, defaults: aes-256-cbc, sha256, MACLength 4, PMTU discovery, ClampMSS"
	say "$TINC_INFO; B is ${DST[tinc]}"
fi

# ------------------------------------------------------------------ measurements
# iperf SYSTEM NAME ARGS...: one bounded iperf3 run from A to SYSTEM's B address;
# sets IP_BPS IP_BYTES IP_LOSS IP_RETR and, for a daemon, CPU_S (both ends)
iperf() {
	local sys=$1 name=$2 c0 c1 i
	shift 2
	local json=$W/$sys-$name.json slog=$W/$sys-$name-server.log
	bg "$NB" "$slog" timeout $((SECS + 30)) iperf3 -s -1 -p $PORT
	local spid=$BGPID
	waitfor 5 eval "in_b ss -Hltn 'sport = :$PORT' | grep -q LISTEN" || say "warning: iperf3 server not listening yet"
	c0=$(cpu_ticks ${DPIDS[$sys]})
	run_fg "$json" "$json.err" in_a timeout $((SECS + 20)) iperf3 -c "${DST[$sys]}" -p $PORT -t "$SECS" --connect-timeout 3000 -J "$@"
	c1=$(cpu_ticks ${DPIDS[$sys]})
	for i in $(seq 1 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
	kill "$spid" 2>/dev/null
	read -r IP_BPS IP_BYTES IP_LOSS IP_RETR < <(python3 "$LIB" iperf "$json")
	CPU_S=-
	if [ -n "${DPIDS[$sys]}" ] && [ "$IP_BYTES" != - ]; then
		CPU_S=$(python3 -c 'import sys; print("%.3f" % ((int(sys.argv[2]) - int(sys.argv[1])) / float(sys.argv[3])))' "$c0" "$c1" "$HZ")
	fi
}
gbps() { [ "$1" = - ] && echo "failed" || python3 -c 'import sys; print("%.2f Gbit/s" % (float(sys.argv[1]) / 1e9))' "$1"; }
per_gb() { # CPU_S BYTES -> s/GB
	python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) / (int(sys.argv[2]) / 1e9)))' "$1" "$2"
}

for sys in underlay zt tinc; do
	[[ " $ONLY " == *" $sys "* ]] || continue
	step "$sys: A -> ${DST[$sys]} (MTU ${MTU[$sys]}), iperf3 runs of $SECS s"
	iperf "$sys" tcp1
	res "$sys" tcp1_bps "$IP_BPS"
	msg="TCP 1 stream:  $(gbps "$IP_BPS") (retransmits $IP_RETR)"
	if [ "$CPU_S" != - ]; then
		res "$sys" cpu1_gb "$(per_gb "$CPU_S" "$IP_BYTES")"
		msg="$msg, daemons used $CPU_S CPU s for $((IP_BYTES / 1000000)) MB"
	fi
	say "$msg"
	iperf "$sys" tcp4 -P 4
	res "$sys" tcp4_bps "$IP_BPS"
	msg="TCP 4 streams: $(gbps "$IP_BPS") (retransmits $IP_RETR)"
	if [ "$CPU_S" != - ]; then
		res "$sys" cpu4_gb "$(per_gb "$CPU_S" "$IP_BYTES")"
		msg="$msg, daemons used $CPU_S CPU s for $((IP_BYTES / 1000000)) MB"
	fi
	say "$msg"
	iperf "$sys" udp -u -b "$UDP_RATE" -l "$UDP_LEN"
	res "$sys" udp_bps "$IP_BPS"
	res "$sys" udp_loss "$IP_LOSS"
	say "UDP -b $UDP_RATE -l $UDP_LEN: $(gbps "$IP_BPS") received, loss $(printf '%.1f' "$IP_LOSS" 2>/dev/null || echo -) %"
	run_fg "$W/$sys-ping.txt" "$W/$sys-ping.err" in_a timeout $((PINGS / 50 + 20)) ping -c "$PINGS" -i 0.01 -W 1 "${DST[$sys]}"
	read -r p_mean p_p99 p_min p_max p_recv p_sent < <(python3 "$LIB" ping "$W/$sys-ping.txt")
	res "$sys" ping_mean "$p_mean"
	res "$sys" ping_p99 "$p_p99"
	say "ping x$PINGS at 10 ms: mean $p_mean ms, p99 $p_p99 ms (min $p_min, max $p_max; $p_recv/$p_sent answered)"
	if [ -n "${DPIDS[$sys]}" ]; then
		read -r pa pb <<<"${DPIDS[$sys]}"
		res "$sys" rss_a "$(vmhwm_kb "$pa")"
		res "$sys" rss_b "$(vmhwm_kb "$pb")"
		say "daemon peak RSS: A $(vmhwm_kb "$pa") kB, B $(vmhwm_kb "$pb") kB"
	fi
done

# ------------------------------------------------------------------ report
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
zver=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)
meta date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
meta machine "$(nproc) CPUs, $cpu, $mem RAM, Linux $(uname -r); load average at the start $LOAD0"
meta versions "zt $zver ($ZT_BIN), $(tincd --version 2>/dev/null | head -1 || echo 'tinc: not run'), $(iperf3 --version | head -1)"
meta underlay "two network namespaces, one veth pair, MTU ${MTU[underlay]}, no NAT, no loss"
[ -n "$ZT_INFO" ] && meta zt "$ZT_INFO"
[ -n "$TINC_INFO" ] && meta tinc "$TINC_INFO"
meta method "iperf3 A->B, $SECS s per run; UDP -b $UDP_RATE with $UDP_LEN-byte datagrams, throughput and loss as received; ping x$PINGS at 10 ms; CPU = utime+stime of both daemons over the TCP run per GB received; RSS = VmHWM at the end"

step "results (zt/tinc and zt/underlay: zt divided by the other)"
python3 "$LIB" report "$RESULTS" "$OUT/last.md" || die "report failed"
say ""
say "written to $OUT/last.md"
exit 0
