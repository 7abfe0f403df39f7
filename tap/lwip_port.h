/*
 * lwip_port.h - the userspace-stack backend of struct zt_port: an lwIP
 * network interface in this process, for rootless use (no TAP, no
 * CAP_NET_ADMIN). Programs linked with the daemon talk to the virtual
 * network through lwIP's socket API (lwip_socket(), ...) on this interface.
 */
#ifndef ZT_TAP_LWIP_PORT_H
#define ZT_TAP_LWIP_PORT_H

#include "tap/port.h"

#define ZT_LWIP_MTU_DEFAULT 2800 /* the same as a TAP's, so a network looks alike on both */
#define ZT_LWIP_QUEUE_FRAMES 64 /* frames the stack may queue for read_batch before it drops */

struct netif;

struct zt_lwip_config {
	struct zt_port_mac mac; /* unicast, not all zero */
	unsigned mtu_bytes; /* 0 for ZT_LWIP_MTU_DEFAULT */
};

/*
 * Add an lwIP interface ("zl0", "zl1", ...: lwIP's own naming) with an
 * EUI-64 IPv6 link-local address usable at once, and start lwIP's thread
 * the first time. It is left down: configure, then zt_port_set_up().
 * The fd is an eventfd, readable while the stack has frames queued.
 * lwIP holds one IPv4 address per interface (a second is ZT_EPERM) and
 * treats IPv6 prefixes as /64; it has no routing table: only the IPv4
 * default route (0.0.0.0/0 via a gateway) can be set, other routes are
 * ZT_EPERM, and the address's own prefix is ZT_EEXIST (it is on-link).
 */
int zt_lwip_port_open(const struct zt_lwip_config *cfg, struct zt_port **out);

/* The lwIP interface behind p (which must be an lwIP port), for binding sockets. */
struct netif *zt_lwip_port_netif(struct zt_port *p);

/* Frames lwIP emitted that no read took yet: queued plus dropped by a full
 * queue (read_batch moves the drops into stats.rx_dropped). */
uint64_t zt_lwip_port_unread(struct zt_port *p);

#endif
