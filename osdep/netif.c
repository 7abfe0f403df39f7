/*
 * netif.c - local interface addresses through getifaddrs, filtered for
 * advertising as direct paths. Reads the system's state on each call and
 * keeps none; routes and address changes (netlink) are someone else's.
 */
#include "osdep/netif.h"
#include "osdep/udp.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

bool zt_netif_name_excluded(const char *name, const char *const *exclude)
{
	if (!exclude)
		return false;
	for (; *exclude; exclude++) {
		size_t n = strlen(*exclude);

		if (n > 0 && strncmp(name, *exclude, n) == 0)
			return true;
	}
	return false;
}

static bool sockaddr_endpoint(const struct sockaddr *sa, struct zt_endpoint *e)
{
	socklen_t len;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else if (sa->sa_family == AF_INET6)
		len = sizeof(struct sockaddr_in6);
	else
		return false;
	if (zt_udp_endpoint_from_sockaddr(e, sa, len) < 0)
		return false;
	e->port = 0;
	return true;
}

static bool usable(const struct zt_endpoint *e)
{
	static const uint8_t loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	if (e->family == 4)
		return e->addr[0] != 127 && e->addr[0] != 0;
	if (e->addr[0] == 0xfe && (e->addr[1] & 0xc0) == 0x80)
		return false; /* link-local: useless without a scope id */
	return memcmp(e->addr, loop6, 16) != 0;
}

int zt_netif_list(const char *const *exclude, struct zt_netif_addr *out, size_t max, size_t *count)
{
	struct ifaddrs *all, *ifa;
	size_t n = 0;
	bool overflow = false;

	*count = 0;
	if (getifaddrs(&all) < 0)
		return ZT_EIO;
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		struct zt_endpoint e;

		if (!(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
			continue;
		if (zt_netif_name_excluded(ifa->ifa_name, exclude))
			continue;
		if (!sockaddr_endpoint(ifa->ifa_addr, &e) || !usable(&e))
			continue;
		if (n == max) {
			overflow = true;
			break;
		}
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].name, ifa->ifa_name, strnlen(ifa->ifa_name, ZT_NETIF_NAME_MAX - 1));
		out[n].addr = e;
		n++;
	}
	freeifaddrs(all);
	*count = n;
	return overflow ? ZT_ETOOBIG : 0;
}

bool zt_netif_endpoint_excluded(const struct zt_endpoint *e, const char *const *exclude)
{
	struct ifaddrs *all, *ifa;
	struct zt_endpoint want = *e;
	bool found = false;

	if (!exclude || !zt_endpoint_is_set(e) || getifaddrs(&all) < 0)
		return false;
	want.port = 0;
	for (ifa = all; ifa && !found; ifa = ifa->ifa_next) {
		struct zt_endpoint a;

		if (!zt_netif_name_excluded(ifa->ifa_name, exclude))
			continue;
		found = sockaddr_endpoint(ifa->ifa_addr, &a) && zt_endpoint_equal(&a, &want);
	}
	freeifaddrs(all);
	return found;
}
