#!/bin/sh
# avahi_ns.sh DIR IFACE HOSTNAME - holder for avahi in one lab namespace.
#
# Run it in a mount namespace of its own (`ip netns exec NS unshare -m sh
# avahi_ns.sh ...`): it mounts a tmpfs on /run (dbus and avahi hard-code
# /run/dbus and /run/avahi-daemon, which would clash between namespaces),
# starts a private system dbus-daemon with a permissive config, then
# avahi-daemon restricted to IFACE with a unique host name and wide-area off.
# Clients reach both with `nsenter -t <this pid> -m -n avahi-browse ...`.
# Prints "holder: ready" once dbus listens; stays until killed (or avahi dies).
set -eu
dir=$1 ifc=$2 host=$3

mount -t tmpfs -o mode=0755,size=4m zt-run /run
mkdir -p /run/dbus /run/avahi-daemon

cat >"$dir/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF

cat >"$dir/avahi-daemon.conf" <<EOF
[server]
host-name=$host
use-ipv4=yes
use-ipv6=yes
allow-interfaces=$ifc
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-aaaa-on-ipv4=no
publish-a-on-ipv6=no
[reflector]
enable-reflector=no
[rlimits]
EOF

dbus-daemon --config-file="$dir/dbus.conf" --nofork --nopidfile &
dbus=$!
i=0
while [ ! -S /run/dbus/system_bus_socket ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "holder: dbus-daemon did not start"; exit 1; }
	sleep 0.05
done
avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$dir/avahi-daemon.conf" &
avahi=$!
trap 'kill $avahi $dbus 2>/dev/null; exit 0' TERM INT HUP
echo "holder: ready (dbus $dbus, avahi $avahi)"
wait $avahi || true
echo "holder: avahi-daemon exited"
kill $dbus 2>/dev/null || true
exit 1
