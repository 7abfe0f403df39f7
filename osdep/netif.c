/*
 * netif.c - local interfaces: addresses through getifaddrs (filtered for
 * advertising as direct paths), and a few netlink questions (an interface's
 * master, the route to an address, a change monitor) over plain
 * NETLINK_ROUTE sockets. Keeps no state between calls.
 */
#include "osdep/netif.h"
#include "osdep/udp.h"

#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF_BYTES 8192
#define NL_TIMEOUT_MS 200 /* a kernel answer is immediate; never hang the loop on it */

bool zt_netif_index_in(unsigned ifindex, const unsigned *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == ifindex && ifindex != 0)
			return true;
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

static uint8_t mask_bits(const struct sockaddr *mask, uint8_t family)
{
	struct zt_endpoint m;
	unsigned bits = 0, n = family == 4 ? 4 : 16;

	if (!sockaddr_endpoint(mask, &m))
		return family == 4 ? 32 : 128;
	for (unsigned i = 0; i < n; i++)
		bits += (unsigned)__builtin_popcount(m.addr[i]);
	return (uint8_t)bits;
}

static void fill(struct zt_netif_addr *out, const struct ifaddrs *ifa, const struct zt_endpoint *e)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, ifa->ifa_name, strnlen(ifa->ifa_name, ZT_NETIF_NAME_MAX - 1));
	out->ifindex = if_nametoindex(ifa->ifa_name);
	out->prefix_bits = mask_bits(ifa->ifa_netmask, e->family);
	out->addr = *e;
}

/* One walk for both listings: `only` selects interfaces, else `exclude` drops them. */
static int walk(const unsigned *set, size_t n_set, bool only, struct zt_netif_addr *out, size_t max,
		size_t *count)
{
	struct ifaddrs *all, *ifa;
	size_t n = 0;
	bool overflow = false;

	*count = 0;
	if (getifaddrs(&all) < 0)
		return ZT_EIO;
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		struct zt_endpoint e;
		bool in_set;

		if (!sockaddr_endpoint(ifa->ifa_addr, &e))
			continue;
		in_set = zt_netif_index_in(if_nametoindex(ifa->ifa_name), set, n_set);
		if (only ? !in_set : (in_set || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK) ||
				      !usable(&e)))
			continue;
		if (n == max) {
			overflow = true;
			break;
		}
		fill(&out[n++], ifa, &e);
	}
	freeifaddrs(all);
	*count = n;
	return overflow ? ZT_ETOOBIG : 0;
}

int zt_netif_list(const unsigned *exclude, size_t n_exclude, struct zt_netif_addr *out, size_t max,
		  size_t *count)
{
	return walk(exclude, n_exclude, false, out, max, count);
}

int zt_netif_list_on(const unsigned *only, size_t n_only, struct zt_netif_addr *out, size_t max, size_t *count)
{
	return walk(only, n_only, true, out, max, count);
}

bool zt_netif_addr_covers(const struct zt_netif_addr *a, const struct zt_endpoint *e)
{
	unsigned bits = a->prefix_bits, full, rest;

	if (a->addr.family != e->family || bits > (e->family == 4 ? 32u : 128u))
		return false;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(a->addr.addr, e->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a->addr.addr[full] ^ e->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* ---------- netlink ---------- */

static int nl_open(unsigned groups)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	struct timeval tv = {.tv_sec = 0, .tv_usec = NL_TIMEOUT_MS * 1000};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0), NETLINK_ROUTE);

	if (fd < 0)
		return ZT_EIO;
	if (!groups)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return ZT_EIO;
	}
	return fd;
}

/* Send one request and read its single answer into buf; the answer's header or NULL. */
static struct nlmsghdr *nl_ask(int fd, struct nlmsghdr *req, char *buf, size_t cap)
{
	ssize_t n;

	if (send(fd, req, req->nlmsg_len, 0) < 0)
		return NULL;
	n = recv(fd, buf, cap, 0);
	if (n < (ssize_t)sizeof(struct nlmsghdr))
		return NULL;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (unsigned)n) || h->nlmsg_type == NLMSG_ERROR)
		return NULL;
	return h;
}

/* The u32 value of attribute `type` in a message whose fixed header is hdr_len bytes. */
static bool nl_attr_u32(struct nlmsghdr *h, size_t hdr_len, unsigned short type, unsigned *out)
{
	int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(hdr_len);
	struct rtattr *a = (struct rtattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr_len));

	if (left < 0)
		return false;
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == type && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t v;
			memcpy(&v, RTA_DATA(a), sizeof(v));
			*out = v;
			return true;
		}
	}
	return false;
}

int zt_netif_master(unsigned ifindex, unsigned *master)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = RTM_GETLINK,
		      .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1},
		.i = {.ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex},
	};
	char buf[NL_BUF_BYTES];
	struct nlmsghdr *h;
	int fd = nl_open(0);

	*master = 0;
	if (fd < 0)
		return fd;
	h = nl_ask(fd, &req.h, buf, sizeof(buf));
	close(fd);
	if (!h || h->nlmsg_type != RTM_NEWLINK)
		return ZT_ENOENT;
	nl_attr_u32(h, sizeof(struct ifinfomsg), IFLA_MASTER, master);
	return 0;
}

int zt_netif_route_oif(const struct zt_endpoint *e, unsigned *oif)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		char attrs[64];
	} req;
	char buf[NL_BUF_BYTES];
	struct nlmsghdr *h;
	struct rtattr *a;
	size_t alen = e->family == 4 ? 4 : 16;
	int fd;

	*oif = 0;
	if (!zt_endpoint_is_set(e))
		return ZT_EINVAL;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = 1;
	req.r.rtm_family = e->family == 4 ? AF_INET : AF_INET6;
	req.r.rtm_dst_len = (unsigned char)(alen * 8);
	a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.h.nlmsg_len));
	a->rta_type = RTA_DST;
	a->rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(RTA_DATA(a), e->addr, alen);
	req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
	fd = nl_open(0);
	if (fd < 0)
		return fd;
	h = nl_ask(fd, &req.h, buf, sizeof(buf));
	close(fd);
	if (!h || h->nlmsg_type != RTM_NEWROUTE)
		return ZT_ENOENT;
	return nl_attr_u32(h, sizeof(struct rtmsg), RTA_OIF, oif) ? 0 : ZT_ENOENT;
}

int zt_netif_monitor_open(void)
{
	return nl_open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
		       RTMGRP_IPV6_ROUTE);
}

int zt_netif_monitor_drain(int fd)
{
	char buf[NL_BUF_BYTES];
	int events = 0;

	for (int round = 0; round < 64; round++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			events++; /* overrun: we lost some, which still means "something changed" */
			continue;
		}
		if (n <= 0)
			break;
		events++;
	}
	return events;
}
