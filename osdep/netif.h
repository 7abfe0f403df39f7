/*
 * netif.h - the machine's own interface addresses (getifaddrs) as endpoints
 * the node may advertise, minus loopback, down interfaces and the ones whose
 * names start with an entry of an exclusion list (ztd's own TAP devices, known
 * today by their name prefix: no tunnel in a tunnel).
 */
#ifndef ZT_OSDEP_NETIF_H
#define ZT_OSDEP_NETIF_H

#include "base/endpoint.h"

#include <stdbool.h>
#include <stddef.h>

#define ZT_NETIF_NAME_MAX 16 /* IFNAMSIZ */

struct zt_netif_addr {
	char name[ZT_NETIF_NAME_MAX];
	struct zt_endpoint addr; /* port 0 */
};

/* exclude: NULL-terminated list of name prefixes (NULL: none). */
bool zt_netif_name_excluded(const char *name, const char *const *exclude);

/* Up to max usable addresses into out, *count set. Skips loopback, down
 * interfaces, excluded names, and IPv6 link-local (no scope in an endpoint).
 * ZT_ETOOBIG if more were found than fit (out holds the first max). */
int zt_netif_list(const char *const *exclude, struct zt_netif_addr *out, size_t max, size_t *count);

/* True if e's address (port ignored) is assigned to an excluded interface. */
bool zt_netif_endpoint_excluded(const struct zt_endpoint *e, const char *const *exclude);

#endif
