/*
 * netif.h - the machine's own interfaces as the daemon needs them: the
 * addresses it may advertise as direct paths (getifaddrs, minus loopback,
 * down interfaces and an exclusion set of ifindexes: ztd's own overlay
 * ports, so never a tunnel in a tunnel), the master of an interface (the
 * bridge a TAP was put in), the interface a route to an address leaves by,
 * and one long-lived netlink monitor of link, address and route changes.
 */
#ifndef ZT_OSDEP_NETIF_H
#define ZT_OSDEP_NETIF_H

#include "base/endpoint.h"

#include <stdbool.h>
#include <stddef.h>

#define ZT_NETIF_NAME_MAX 16 /* IFNAMSIZ */

struct zt_netif_addr {
	char name[ZT_NETIF_NAME_MAX];
	unsigned ifindex;
	uint8_t prefix_bits; /* the on-link prefix that comes with the address */
	struct zt_endpoint addr; /* port 0 */
};

/* True if ifindex is one of exclude[0..n). */
bool zt_netif_index_in(unsigned ifindex, const unsigned *set, size_t n);

/* Up to max usable addresses into out, *count set. Skips loopback, down
 * interfaces, interfaces in exclude[0..n_exclude), and IPv6 link-local (no
 * scope in an endpoint). ZT_ETOOBIG if more were found than fit (out holds
 * the first max). */
int zt_netif_list(const unsigned *exclude, size_t n_exclude, struct zt_netif_addr *out, size_t max,
		  size_t *count);

/* Every address (link-local included) on the interfaces in only[0..n_only):
 * the prefixes that belong to them. Same return convention as zt_netif_list. */
int zt_netif_list_on(const unsigned *only, size_t n_only, struct zt_netif_addr *out, size_t max, size_t *count);

/* True if e's address (port ignored) lies inside the prefix of a. */
bool zt_netif_addr_covers(const struct zt_netif_addr *a, const struct zt_endpoint *e);

/* The bridge (or bond) ifindex holds as a port, 0 if none; netlink RTM_GETLINK. */
int zt_netif_master(unsigned ifindex, unsigned *master);

/* The interface the kernel's route to e's address leaves by (RTM_GETROUTE);
 * ZT_ENOENT if unroutable. */
int zt_netif_route_oif(const struct zt_endpoint *e, unsigned *oif);

/* A netlink socket subscribed to link, address and route changes, non-blocking:
 * poll it for ZT_LOOP_IN and drain it. Returns the fd or a negative ZT_E*. */
int zt_netif_monitor_open(void);
/* Read every waiting notification; returns how many were read (0: none). */
int zt_netif_monitor_drain(int fd);

#endif
