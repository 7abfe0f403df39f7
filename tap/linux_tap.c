/*
 * linux_tap.c - the Linux TAP port: /dev/net/tun in IFF_TAP | IFF_NO_PI mode
 * for frames, SIOC* ioctls for MAC, MTU and up/down, rtnetlink (libmnl) for
 * addresses and routes, /proc/net/dev_mcast for the link-layer groups the
 * OS joined. Every descriptor is opened at creation, in the port's network
 * namespace, and kept: later calls act there whatever thread makes them.
 */
#include "tap/linux_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define NL_BUF_BYTES 8192 /* libmnl's MNL_SOCKET_BUFFER_SIZE cap; a request or its ack fits */
#define NL_ACK_TIMEOUT_MS 1000 /* the kernel acks at once; this bounds a wedged socket */
#define NL_RECV_TRIES 4 /* stale replies skipped before giving up */
#define MCAST_LINE_MAX 256 /* a dev_mcast line is ~100 characters (64 hex digits at most) */
#define SYSCTL_PATH_MAX 96

struct zt_tap {
	struct zt_port port;
	int fd; /* /dev/net/tun, non-blocking */
	int ctl_fd; /* datagram socket for SIOC* ioctls */
	struct mnl_socket *nl; /* NETLINK_ROUTE, no groups: replies only */
	unsigned nl_portid;
	unsigned nl_seq;
	unsigned ifindex;
	FILE *mcast; /* /proc/net/dev_mcast, rewound on each call */
	uint8_t overflow[ZT_PORT_FRAME_MAX]; /* tail of a frame longer than the caller's buffer */
};

static struct zt_tap *tap_of(struct zt_port *p)
{
	return (struct zt_tap *)p;
}

static int err_from_errno(int e)
{
	switch (e) {
	case EEXIST:
	case EBUSY:
		return ZT_EEXIST;
	case ENOENT:
	case ESRCH:
	case ENODEV:
	case EADDRNOTAVAIL:
		return ZT_ENOENT;
	case EPERM:
	case EACCES:
		return ZT_EPERM;
	case EINVAL:
	case ENETUNREACH:
	case ERANGE:
		return ZT_EINVAL;
	case EAGAIN:
	case ENOBUFS:
		return ZT_EAGAIN;
	case ENETDOWN:
		return ZT_ESTATE;
	case ENOMEM:
	case ENFILE:
		return ZT_ENOMEM;
	default:
		return ZT_EIO;
	}
}

/* ---- frames ---- */

static int tap_read_batch(struct zt_port *p, struct zt_port_frame *frames, size_t n)
{
	struct zt_tap *t = tap_of(p);
	size_t got = 0;

	/* Oversized frames are consumed and dropped, so bound the reads too. */
	for (size_t reads = 0; got < n && reads < 2 * n; reads++) {
		struct zt_port_frame *f = &frames[got];
		struct iovec iov[2] = {
			{.iov_base = f->data, .iov_len = f->cap},
			{.iov_base = t->overflow, .iov_len = sizeof(t->overflow)},
		};
		ssize_t r = readv(t->fd, iov, 2);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r < 0) {
			zt_log(ZT_LOG_ERROR, "tap %s: read: %s", p->name, strerror(errno));
			return got > 0 ? (int)got : ZT_EIO;
		}
		if ((size_t)r > f->cap || (size_t)r < ZT_PORT_ETH_HDR_MIN) {
			p->stats.rx_dropped++;
			continue;
		}
		f->len = (size_t)r;
		got++;
	}
	p->stats.rx_frames += got;
	return (int)got;
}

static int tap_write(struct zt_port *p, const void *frame, size_t len)
{
	struct zt_tap *t = tap_of(p);
	ssize_t r;

	do {
		r = write(t->fd, frame, len);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;

		p->stats.tx_dropped++;
		if (e == EAGAIN || e == ENOBUFS)
			return ZT_EAGAIN;
		if (e == EIO)
			return ZT_ESTATE; /* tun's answer while the interface is down */
		zt_log(ZT_LOG_DEBUG, "tap %s: write of %zu bytes: %s", p->name, len, strerror(e));
		return ZT_EIO;
	}
	if ((size_t)r != len) {
		p->stats.tx_dropped++;
		return ZT_EIO;
	}
	p->stats.tx_frames++;
	return 0;
}

static int tap_fd(const struct zt_port *p)
{
	return ((const struct zt_tap *)p)->fd;
}

/* ---- link: ioctls on the kept control socket ---- */

static void ifreq_for(const struct zt_tap *t, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, t->port.name, sizeof(ifr->ifr_name));
}

static int link_ioctl(struct zt_tap *t, unsigned long req, struct ifreq *ifr, const char *what)
{
	if (ioctl(t->ctl_fd, req, ifr) < 0) {
		int e = errno;

		zt_log(ZT_LOG_ERROR, "tap %s: %s: %s", t->port.name, what, strerror(e));
		return err_from_errno(e);
	}
	return 0;
}

static int tap_set_mtu(struct zt_port *p, unsigned mtu_bytes)
{
	struct zt_tap *t = tap_of(p);
	struct ifreq ifr;
	int err;

	ifreq_for(t, &ifr);
	ifr.ifr_mtu = (int)mtu_bytes;
	err = link_ioctl(t, SIOCSIFMTU, &ifr, "set MTU");
	if (err < 0)
		return err;
	p->mtu_bytes = mtu_bytes;
	return 0;
}

static int tap_set_up(struct zt_port *p, bool up)
{
	struct zt_tap *t = tap_of(p);
	struct ifreq ifr;
	int err;

	ifreq_for(t, &ifr);
	err = link_ioctl(t, SIOCGIFFLAGS, &ifr, "get flags");
	if (err < 0)
		return err;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return link_ioctl(t, SIOCSIFFLAGS, &ifr, up ? "set up" : "set down");
}

static int set_mac(struct zt_tap *t, const struct zt_port_mac *mac)
{
	struct ifreq ifr;

	ifreq_for(t, &ifr);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac->b, sizeof(mac->b));
	return link_ioctl(t, SIOCSIFHWADDR, &ifr, "set MAC");
}

/* ---- addresses and routes: rtnetlink ---- */

static int nl_af(uint8_t family)
{
	return family == 4 ? AF_INET : AF_INET6;
}

static size_t ip_bytes(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static struct nlmsghdr *nl_start(struct zt_tap *t, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++t->nl_seq;
	return nlh;
}

/* Send one request and wait for its ack; 0 or the kernel's error mapped. */
static int nl_request(struct zt_tap *t, struct nlmsghdr *nlh, const char *what,
		      const struct zt_port_prefix *pfx)
{
	char buf[NL_BUF_BYTES];
	char text[64] = "?";
	int e = EIO, err;

	if (mnl_socket_sendto(t->nl, nlh, nlh->nlmsg_len) < 0) {
		e = errno;
		goto fail;
	}
	for (int tries = 0; tries < NL_RECV_TRIES; tries++) {
		ssize_t n = mnl_socket_recvfrom(t->nl, buf, sizeof(buf));
		int r;

		if (n < 0) {
			e = errno == EAGAIN ? ETIMEDOUT : errno;
			goto fail;
		}
		/* A reply to an earlier, timed-out request: skip it. */
		if ((size_t)n >= sizeof(*nlh) &&
		    ((const struct nlmsghdr *)(const void *)buf)->nlmsg_seq != nlh->nlmsg_seq)
			continue;
		r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, t->nl_portid, NULL, NULL);
		if (r == MNL_CB_STOP)
			return 0;
		if (r == MNL_CB_OK)
			continue;
		e = errno;
		goto fail;
	}
	e = ETIMEDOUT;
fail:
	err = err_from_errno(e);
	zt_port_prefix_format(pfx, text, sizeof(text));
	/* "already there" / "not there" are answers the caller acts on, not faults. */
	zt_log(err == ZT_EEXIST || err == ZT_ENOENT ? ZT_LOG_DEBUG : ZT_LOG_ERROR,
	       "tap %s: %s %s: %s", t->port.name, what, text, strerror(e));
	return err;
}

static int tap_addr(struct zt_port *p, const struct zt_port_prefix *addr, bool add)
{
	struct zt_tap *t = tap_of(p);
	char buf[NL_BUF_BYTES];
	size_t alen = ip_bytes(addr->ip.family);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	nlh = nl_start(t, buf, add ? RTM_NEWADDR : RTM_DELADDR,
		       add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)nl_af(addr->ip.family);
	ifa->ifa_prefixlen = addr->bits;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = t->ifindex;
	if (addr->ip.family == 6)
		ifa->ifa_flags = IFA_F_NODAD; /* usable at once: the overlay has no duplicates */
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr->ip.addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr->ip.addr);
	if (add && addr->ip.family == 4 && addr->bits < 31) {
		/* Without a broadcast address, x.x.x.255 would go out as unicast
		 * (LAN games and discovery send to the subnet broadcast). */
		uint8_t brd[4];
		uint32_t host = addr->bits == 0 ? 0xffffffffu : 0xffffffffu >> addr->bits;

		for (int i = 0; i < 4; i++)
			brd[i] = addr->ip.addr[i] | (uint8_t)(host >> (24 - 8 * i));
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), brd);
	}
	return nl_request(t, nlh, add ? "add address" : "delete address", addr);
}

static int tap_addr_add(struct zt_port *p, const struct zt_port_prefix *addr)
{
	return tap_addr(p, addr, true);
}

static int tap_addr_del(struct zt_port *p, const struct zt_port_prefix *addr)
{
	return tap_addr(p, addr, false);
}

static int tap_route(struct zt_port *p, const struct zt_port_prefix *target,
		     const struct zt_port_ip *via, bool add)
{
	struct zt_tap *t = tap_of(p);
	char buf[NL_BUF_BYTES];
	size_t alen = ip_bytes(target->ip.family);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = nl_start(t, buf, add ? RTM_NEWROUTE : RTM_DELROUTE,
		       add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)nl_af(target->ip.family);
	rtm->rtm_dst_len = target->bits;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* Deleting matches only routes we added (never the kernel's prefix routes). */
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	if (!add)
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* match any scope */
	else if (!via && target->ip.family == 4)
		rtm->rtm_scope = RT_SCOPE_LINK;
	else
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	if (target->bits > 0)
		mnl_attr_put(nlh, RTA_DST, alen, target->ip.addr);
	mnl_attr_put_u32(nlh, RTA_OIF, t->ifindex);
	if (via)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, via->addr);
	return nl_request(t, nlh, add ? "add route" : "delete route", target);
}

static int tap_route_add(struct zt_port *p, const struct zt_port_prefix *target,
			 const struct zt_port_ip *via)
{
	return tap_route(p, target, via, true);
}

static int tap_route_del(struct zt_port *p, const struct zt_port_prefix *target,
			 const struct zt_port_ip *via)
{
	return tap_route(p, target, via, false);
}

/* ---- multicast memberships: /proc/net/dev_mcast ---- */

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "ifindex name refcount global hexaddr": true and *mac set if the line
 * is an Ethernet group of ifindex. */
static bool mcast_line(const char *line, unsigned ifindex, struct zt_port_mac *mac)
{
	char name[IFNAMSIZ], hex[65];
	int users, global;
	unsigned idx;

	if (sscanf(line, "%u %15s %d %d %64s", &idx, name, &users, &global, hex) != 5)
		return false;
	if (idx != ifindex || strlen(hex) != 2 * sizeof(mac->b))
		return false;
	for (size_t i = 0; i < sizeof(mac->b); i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		mac->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int tap_multicast_list(struct zt_port *p, struct zt_port_mac *out, size_t max,
			      size_t *count)
{
	struct zt_tap *t = tap_of(p);
	char line[MCAST_LINE_MAX];
	bool partial = false;
	size_t found = 0;

	rewind(t->mcast);
	while (fgets(line, sizeof(line), t->mcast)) {
		bool whole = strchr(line, '\n') || feof(t->mcast);
		bool starts = !partial;
		struct zt_port_mac mac;

		partial = !whole; /* an over-long line is skipped to its end */
		if (!starts || !whole || !mcast_line(line, t->ifindex, &mac))
			continue;
		if (found < max)
			out[found] = mac;
		found++;
	}
	if (ferror(t->mcast)) {
		zt_log(ZT_LOG_ERROR, "tap %s: reading /proc/net/dev_mcast failed", p->name);
		clearerr(t->mcast);
		return ZT_EIO;
	}
	*count = ZT_MIN(found, max);
	return found > max ? ZT_ETOOBIG : 0;
}

/* ---- lifetime ---- */

static void tap_free(struct zt_tap *t)
{
	/* Not persistent: the kernel removes the interface with its last fd. */
	if (t->fd >= 0)
		close(t->fd);
	if (t->ctl_fd >= 0)
		close(t->ctl_fd);
	if (t->nl)
		mnl_socket_close(t->nl);
	if (t->mcast)
		fclose(t->mcast);
	free(t);
}

static void tap_close(struct zt_port *p)
{
	zt_log(ZT_LOG_INFO, "tap %s: closed, interface removed", p->name);
	tap_free(tap_of(p));
}

static const struct zt_port_ops tap_ops = {
	.read_batch = tap_read_batch,
	.write = tap_write,
	.fd = tap_fd,
	.set_mtu = tap_set_mtu,
	.set_up = tap_set_up,
	.addr_add = tap_addr_add,
	.addr_del = tap_addr_del,
	.route_add = tap_route_add,
	.route_del = tap_route_del,
	.multicast_list = tap_multicast_list,
	.close = tap_close,
};

/* The kernel's rules (dev_valid_name) plus at most one "%d" and none of
 * the sysctl directory names, so the name is also a safe path component. */
static bool name_valid(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);
	const char *pct;

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "all") == 0 ||
	    strcmp(name, "default") == 0)
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || *c <= ' ' || *c > '~')
			return false;
	pct = strchr(name, '%');
	if (!pct)
		return true;
	return pct[1] == 'd' && !strchr(pct + 1, '%');
}

static bool config_valid(const struct zt_tap_config *cfg)
{
	static const struct zt_port_mac zero;

	if (cfg->name && !name_valid(cfg->name))
		return false;
	if ((cfg->mac.b[0] & 1) || memcmp(cfg->mac.b, zero.b, sizeof(zero.b)) == 0)
		return false;
	return cfg->mtu_bytes == 0 ||
	       (cfg->mtu_bytes >= ZT_PORT_MTU_MIN && cfg->mtu_bytes <= ZT_PORT_MTU_MAX);
}

static int create_tun(struct zt_tap *t, const char *name)
{
	struct ifreq ifr;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;

		zt_log(ZT_LOG_ERROR, "tap %s: open /dev/net/tun: %s", name, strerror(e));
		return err_from_errno(e);
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		zt_log(ZT_LOG_ERROR, "tap %s: create: %s", name, strerror(e));
		return err_from_errno(e);
	}
	memcpy(t->port.name, ifr.ifr_name, IFNAMSIZ - 1);
	t->port.name[IFNAMSIZ - 1] = '\0';
	return 0;
}

static int open_control(struct zt_tap *t)
{
	struct timeval tv = {.tv_sec = NL_ACK_TIMEOUT_MS / 1000,
			     .tv_usec = (NL_ACK_TIMEOUT_MS % 1000) * 1000};
	struct ifreq ifr;
	int err;

	t->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t->ctl_fd < 0)
		return err_from_errno(errno);
	ifreq_for(t, &ifr);
	err = link_ioctl(t, SIOCGIFINDEX, &ifr, "get index");
	if (err < 0)
		return err;
	t->ifindex = (unsigned)ifr.ifr_ifindex;
	t->port.ifindex = t->ifindex;
	t->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!t->nl || mnl_socket_bind(t->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return err_from_errno(errno);
	t->nl_portid = mnl_socket_get_portid(t->nl);
	if (setsockopt(mnl_socket_get_fd(t->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return err_from_errno(errno);
	t->mcast = fopen("/proc/net/dev_mcast", "re");
	if (!t->mcast) {
		zt_log(ZT_LOG_ERROR, "tap %s: open /proc/net/dev_mcast: %s", t->port.name,
		       strerror(errno));
		return ZT_EIO;
	}
	return 0;
}

/* Addresses usable at once, link-local included: no DAD on this interface. */
static void ipv6_no_dad(struct zt_tap *t)
{
	char path[SYSCTL_PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", t->port.name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0\n", 2) != 2)
		zt_log(ZT_LOG_DEBUG, "tap %s: cannot turn IPv6 DAD off (IPv6 disabled?): %s",
		       t->port.name, strerror(errno));
	if (fd >= 0)
		close(fd);
}

int zt_tap_open(const struct zt_tap_config *cfg, struct zt_port **out)
{
	const char *name;
	struct zt_tap *t;
	char mac_text[18];
	int err;

	if (!cfg || !out || !config_valid(cfg))
		return ZT_EINVAL;
	*out = NULL;
	name = cfg->name ? cfg->name : ZT_TAP_NAME_PATTERN_DEFAULT;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ZT_ENOMEM;
	t->port.ops = &tap_ops;
	t->port.kind = "tap";
	t->port.mac = cfg->mac;
	t->port.mtu_bytes = cfg->mtu_bytes ? cfg->mtu_bytes : ZT_TAP_MTU_DEFAULT;
	t->fd = -1;
	t->ctl_fd = -1;
	err = create_tun(t, name);
	if (err == 0)
		err = open_control(t);
	if (err == 0)
		err = set_mac(t, &cfg->mac);
	if (err == 0)
		err = tap_set_mtu(&t->port, t->port.mtu_bytes);
	if (err < 0) {
		tap_free(t);
		return err;
	}
	ipv6_no_dad(t);
	zt_port_mac_format(&t->port.mac, mac_text, sizeof(mac_text));
	zt_log(ZT_LOG_INFO, "tap %s: created, mac %s, mtu %u", t->port.name, mac_text,
	       t->port.mtu_bytes);
	*out = &t->port;
	return 0;
}
