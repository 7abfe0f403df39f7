/*
 * pcap_port.c - a physical NIC as a zt_port through libpcap: capture
 * (promiscuous, immediate, inbound only) and pcap_inject. The only file that
 * includes pcap.h. It owns the capture handle, never the NIC's configuration.
 */
#include "tap/pcap_port.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define DISPATCH_ROUNDS 4 /* pcap_dispatch calls per read_batch: dropped frames use up a round's count */

struct zt_pcap_port {
	struct zt_port port;
	pcap_t *pcap;
	int fd; /* pcap_get_selectable_fd: the capture socket */
	int ctl_fd; /* datagram socket for SIOC* queries */
};

/* The frames one read_batch fills, handed through pcap_dispatch's user pointer. */
struct batch {
	struct zt_port *port;
	struct zt_port_frame *frames;
	size_t n;
	size_t got;
};

static struct zt_pcap_port *pcap_of(struct zt_port *p)
{
	return (struct zt_pcap_port *)p;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct batch *b = (struct batch *)(void *)user;
	struct zt_port_frame *f;

	if (b->got >= b->n)
		return;
	f = &b->frames[b->got];
	if (h->caplen < h->len || h->caplen > f->cap || h->caplen < ZT_PORT_ETH_HDR_MIN) {
		b->port->stats.rx_dropped++;
		return;
	}
	memcpy(f->data, bytes, h->caplen);
	f->len = h->caplen;
	/* A LAN of veths/taps hands us offloaded (partial) checksums: complete them. */
	zt_port_complete_checksum(f->data, f->len);
	b->got++;
}

static int pcap_read_batch(struct zt_port *p, struct zt_port_frame *frames, size_t n)
{
	struct zt_pcap_port *pp = pcap_of(p);
	struct batch b = {.port = p, .frames = frames, .n = n};

	for (int round = 0; round < DISPATCH_ROUNDS && b.got < n; round++) {
		int r = pcap_dispatch(pp->pcap, (int)(n - b.got), on_frame, (u_char *)&b);

		if (r == 0)
			break;
		if (r < 0) {
			zt_log(ZT_LOG_ERROR, "pcap %s: capture: %s", p->name, pcap_geterr(pp->pcap));
			if (b.got == 0)
				return ZT_EIO;
			break;
		}
	}
	p->stats.rx_frames += b.got;
	return (int)b.got;
}

static int pcap_write(struct zt_port *p, const void *frame, size_t len)
{
	struct zt_pcap_port *pp = pcap_of(p);
	int r = pcap_inject(pp->pcap, frame, len);
	int e = errno;

	if (r >= 0 && (size_t)r == len) {
		p->stats.tx_frames++;
		return 0;
	}
	p->stats.tx_dropped++;
	if (r < 0 && (e == EAGAIN || e == ENOBUFS))
		return ZT_EAGAIN;
	if (r < 0 && e == ENETDOWN)
		return ZT_ESTATE;
	zt_log(ZT_LOG_DEBUG, "pcap %s: inject of %zu bytes: %s", p->name, len,
	       r < 0 ? pcap_geterr(pp->pcap) : "short write");
	return ZT_EIO;
}

static int pcap_fd(const struct zt_port *p)
{
	return ((const struct zt_pcap_port *)p)->fd;
}

static int pcap_set_mtu(struct zt_port *p, unsigned mtu_bytes)
{
	return zt_port_unsupported(p, "set the MTU: the NIC's MTU is the OS's");
}

static int nic_ioctl(struct zt_pcap_port *pp, unsigned long req, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, pp->port.name, sizeof(ifr->ifr_name));
	if (ioctl(pp->ctl_fd, req, ifr) < 0) {
		int e = errno;

		zt_log(ZT_LOG_ERROR, "pcap %s: interface query: %s", pp->port.name, strerror(e));
		return e == ENODEV ? ZT_ENOENT : ZT_EIO;
	}
	return 0;
}

static int pcap_set_up(struct zt_port *p, bool up)
{
	struct ifreq ifr;
	int err = nic_ioctl(pcap_of(p), SIOCGIFFLAGS, &ifr);

	if (err < 0)
		return err;
	if (!!(ifr.ifr_flags & IFF_UP) == up)
		return 0;
	return zt_port_unsupported(p, up ? "bring the NIC up: its state is the OS's"
					 : "take the NIC down: its state is the OS's");
}

static int pcap_addr_add(struct zt_port *p, const struct zt_port_prefix *addr)
{
	return zt_port_unsupported(p, "add an address: the NIC's addresses are the OS's");
}

static int pcap_addr_del(struct zt_port *p, const struct zt_port_prefix *addr)
{
	return zt_port_unsupported(p, "delete an address: the NIC's addresses are the OS's");
}

static int pcap_route_add(struct zt_port *p, const struct zt_port_prefix *target,
			  const struct zt_port_ip *via)
{
	return zt_port_unsupported(p, "add a route: a bridged NIC carries no routes of ours");
}

static int pcap_route_del(struct zt_port *p, const struct zt_port_prefix *target,
			  const struct zt_port_ip *via)
{
	return zt_port_unsupported(p, "delete a route: a bridged NIC carries no routes of ours");
}

static int pcap_multicast_list(struct zt_port *p, struct zt_port_mac *out, size_t max,
			       size_t *count)
{
	*count = 0; /* promiscuous: every group arrives without joining */
	return 0;
}

static void pcap_free(struct zt_pcap_port *pp)
{
	if (pp->pcap)
		pcap_close(pp->pcap);
	if (pp->ctl_fd >= 0)
		close(pp->ctl_fd);
	free(pp);
}

static void pcap_port_close(struct zt_port *p)
{
	zt_log(ZT_LOG_INFO, "pcap %s: closed", p->name);
	pcap_free(pcap_of(p));
}

static const struct zt_port_ops pcap_ops = {
	.read_batch = pcap_read_batch,
	.write = pcap_write,
	.fd = pcap_fd,
	.set_mtu = pcap_set_mtu,
	.set_up = pcap_set_up,
	.addr_add = pcap_addr_add,
	.addr_del = pcap_addr_del,
	.route_add = pcap_route_add,
	.route_del = pcap_route_del,
	.multicast_list = pcap_multicast_list,
	.close = pcap_port_close,
};

static int activate_error(int r)
{
	switch (r) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return ZT_ENOENT;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return ZT_EPERM;
	case PCAP_ERROR_IFACE_NOT_UP:
		return ZT_ESTATE;
	default:
		return ZT_EIO;
	}
}

static int start_capture(struct zt_pcap_port *pp)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	const char *name = pp->port.name;
	int r;

	pp->pcap = pcap_create(name, errbuf);
	if (!pp->pcap) {
		zt_log(ZT_LOG_ERROR, "pcap %s: %s", name, errbuf);
		return ZT_EIO;
	}
	if (pcap_set_snaplen(pp->pcap, ZT_PCAP_SNAPLEN) != 0 || pcap_set_promisc(pp->pcap, 1) != 0 ||
	    pcap_set_immediate_mode(pp->pcap, 1) != 0 ||
	    pcap_set_buffer_size(pp->pcap, ZT_PCAP_BUFFER_BYTES) != 0)
		return ZT_EIO;
	r = pcap_activate(pp->pcap);
	if (r < 0) {
		zt_log(ZT_LOG_ERROR, "pcap %s: activate: %s", name, pcap_geterr(pp->pcap));
		return activate_error(r);
	}
	if (r > 0)
		zt_log(ZT_LOG_WARN, "pcap %s: %s", name, pcap_statustostr(r));
	if (pcap_datalink(pp->pcap) != DLT_EN10MB) {
		zt_log(ZT_LOG_ERROR, "pcap %s: not an Ethernet interface", name);
		return ZT_EINVAL;
	}
	if (pcap_setdirection(pp->pcap, PCAP_D_IN) != 0 ||
	    pcap_setnonblock(pp->pcap, 1, errbuf) != 0) {
		zt_log(ZT_LOG_ERROR, "pcap %s: %s%s", name, pcap_geterr(pp->pcap), errbuf);
		return ZT_EIO;
	}
	pp->fd = pcap_get_selectable_fd(pp->pcap);
	if (pp->fd < 0)
		return ZT_EIO;
	/* Injection must not block the loop either: a full send queue is ZT_EAGAIN. */
	r = fcntl(pp->fd, F_GETFL);
	if (r < 0 || fcntl(pp->fd, F_SETFL, r | O_NONBLOCK) < 0)
		return ZT_EIO;
	return 0;
}

static int read_nic(struct zt_pcap_port *pp)
{
	struct ifreq ifr;
	int err;

	err = nic_ioctl(pp, SIOCGIFHWADDR, &ifr);
	if (err < 0)
		return err;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		zt_log(ZT_LOG_ERROR, "pcap %s: not an Ethernet interface", pp->port.name);
		return ZT_EINVAL;
	}
	memcpy(pp->port.mac.b, ifr.ifr_hwaddr.sa_data, sizeof(pp->port.mac.b));
	err = nic_ioctl(pp, SIOCGIFMTU, &ifr);
	if (err < 0)
		return err;
	pp->port.mtu_bytes = (unsigned)ifr.ifr_mtu;
	return 0;
}

int zt_pcap_port_open(const char *ifname, struct zt_port **out)
{
	struct zt_pcap_port *pp;
	char mac_text[18];
	size_t len;
	int err;

	if (!ifname || !out)
		return ZT_EINVAL;
	*out = NULL;
	len = strnlen(ifname, ZT_PORT_NAME_MAX);
	if (len == 0 || len >= ZT_PORT_NAME_MAX)
		return ZT_EINVAL;
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return ZT_ENOMEM;
	pp->port.ops = &pcap_ops;
	pp->port.kind = "pcap";
	memcpy(pp->port.name, ifname, len);
	pp->fd = -1;
	pp->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = pp->ctl_fd < 0 ? ZT_EIO : read_nic(pp);
	if (err == 0)
		err = start_capture(pp);
	if (err == 0)
		pp->port.ifindex = if_nametoindex(pp->port.name);
	if (err < 0) {
		pcap_free(pp);
		return err;
	}
	zt_port_mac_format(&pp->port.mac, mac_text, sizeof(mac_text));
	zt_log(ZT_LOG_INFO, "pcap %s: bridging, mac %s, mtu %u", pp->port.name, mac_text,
	       pp->port.mtu_bytes);
	*out = &pp->port;
	return 0;
}
