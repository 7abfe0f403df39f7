/*
 * linux_tap.h - the Linux TAP backend of struct zt_port: a kernel Ethernet
 * interface through /dev/net/tun, addresses and routes through rtnetlink.
 */
#ifndef ZT_TAP_LINUX_TAP_H
#define ZT_TAP_LINUX_TAP_H

#include "tap/port.h"

#define ZT_TAP_MTU_DEFAULT 2800 /* fits one overlay packet on a 1500-byte underlay path with fragmentation */
#define ZT_TAP_NAME_PATTERN_DEFAULT "zt%d"

struct zt_tap_config {
	/* An exact name ("zt8056c2e2") or a pattern with one "%d" ("zt%d")
	 * that the kernel fills with the lowest free number; NULL for
	 * ZT_TAP_NAME_PATTERN_DEFAULT. An existing interface of that name is
	 * never taken over: ZT_EEXIST. */
	const char *name;
	struct zt_port_mac mac; /* unicast, not all zero */
	unsigned mtu_bytes; /* 0 for ZT_TAP_MTU_DEFAULT */
};

/*
 * Create the TAP in the calling thread's network namespace, set its MAC and
 * MTU, turn IPv6 duplicate address detection off on it (link-local and
 * added addresses are usable at once). It is left down: configure, then
 * zt_port_set_up(). The fd is non-blocking. zt_port_close() removes it.
 * ZT_EPERM without CAP_NET_ADMIN.
 */
int zt_tap_open(const struct zt_tap_config *cfg, struct zt_port **out);

#endif
