/*
 * lwip_port.c - an lwIP interface as a zt_port. Frames the daemon writes go
 * into lwIP through tcpip_input(); frames lwIP sends are copied into a
 * bounded queue that read_batch drains, with an eventfd as the pollable fd.
 * lwIP's own thread (one per process, started once) runs the stack; this
 * file owns the interface, the queue and the multicast table, not lwIP.
 */
#include "tap/lwip_port.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/igmp.h>
#include <lwip/ip_addr.h>
#include <lwip/mld6.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/tcpip.h>

struct out_frame {
	size_t len;
	uint8_t data[ZT_PORT_FRAME_MAX];
};

struct group {
	struct zt_port_mac mac;
	unsigned users; /* IP groups mapping onto this MAC */
};

struct zt_lwip_port {
	struct zt_port port;
	struct netif netif;
	int event_fd; /* readable while queue is not empty */
	/* lock guards what lwIP's thread shares with the caller's: */
	pthread_mutex_t lock;
	struct out_frame *queue; /* ZT_LWIP_QUEUE_FRAMES, a ring */
	size_t head, count;
	uint64_t queue_dropped; /* moved into port.stats by read_batch */
	struct group groups[ZT_PORT_MCAST_MAX];
	size_t n_groups;
};

static pthread_once_t stack_once = PTHREAD_ONCE_INIT;
static sem_t stack_ready;

static void stack_up(void *arg)
{
	sem_post(arg);
}

static void stack_start(void)
{
	sem_init(&stack_ready, 0, 0);
	tcpip_init(stack_up, &stack_ready);
	while (sem_wait(&stack_ready) < 0 && errno == EINTR)
		;
}

static struct zt_lwip_port *lwip_of(struct zt_port *p)
{
	return (struct zt_lwip_port *)p;
}

/* ---- lwIP's side: called in its thread with the core lock held ---- */

static err_t link_output(struct netif *netif, struct pbuf *p)
{
	struct zt_lwip_port *lp = netif->state;
	struct out_frame *slot;

	if (!netif_is_up(netif) || !netif_is_link_up(netif))
		return ERR_OK; /* a down link carries nothing (lwIP reports groups regardless) */
	pthread_mutex_lock(&lp->lock);
	if (lp->count == ZT_LWIP_QUEUE_FRAMES || p->tot_len > sizeof(slot->data)) {
		lp->queue_dropped++;
		pthread_mutex_unlock(&lp->lock);
		return ERR_OK; /* a full switch port drops; lwIP retransmits what matters */
	}
	slot = &lp->queue[(lp->head + lp->count) % ZT_LWIP_QUEUE_FRAMES];
	slot->len = pbuf_copy_partial(p, slot->data, p->tot_len, 0);
	lp->count++;
	if (lp->count == 1) {
		uint64_t one = 1;
		/* Cannot fail: read_batch resets the counter long before it nears 2^64. */
		ssize_t w = write(lp->event_fd, &one, sizeof(one));

		(void)w;
	}
	pthread_mutex_unlock(&lp->lock);
	return ERR_OK;
}

static void group_change(struct zt_lwip_port *lp, const struct zt_port_mac *mac, bool add)
{
	size_t i;

	pthread_mutex_lock(&lp->lock);
	for (i = 0; i < lp->n_groups; i++)
		if (memcmp(lp->groups[i].mac.b, mac->b, sizeof(mac->b)) == 0)
			break;
	if (add && i < lp->n_groups)
		lp->groups[i].users++;
	else if (add && lp->n_groups < ZT_PORT_MCAST_MAX)
		lp->groups[lp->n_groups++] = (struct group){.mac = *mac, .users = 1};
	else if (!add && i < lp->n_groups && --lp->groups[i].users == 0)
		lp->groups[i] = lp->groups[--lp->n_groups];
	pthread_mutex_unlock(&lp->lock);
}

static err_t igmp_filter(struct netif *netif, const ip4_addr_t *group,
			 enum netif_mac_filter_action action)
{
	const uint8_t *g = (const uint8_t *)&group->addr;
	struct zt_port_mac mac = {{0x01, 0x00, 0x5e, (uint8_t)(g[1] & 0x7f), g[2], g[3]}};

	group_change(netif->state, &mac, action == NETIF_ADD_MAC_FILTER);
	return ERR_OK;
}

static err_t mld_filter(struct netif *netif, const ip6_addr_t *group,
			enum netif_mac_filter_action action)
{
	const uint8_t *g = (const uint8_t *)group->addr;
	struct zt_port_mac mac = {{0x33, 0x33, g[12], g[13], g[14], g[15]}};

	group_change(netif->state, &mac, action == NETIF_ADD_MAC_FILTER);
	return ERR_OK;
}

static err_t netif_setup(struct netif *netif)
{
	struct zt_lwip_port *lp = netif->state;
	ip6_addr_t all_nodes;

	netif->name[0] = 'z';
	netif->name[1] = 'l';
	netif->hwaddr_len = sizeof(lp->port.mac.b);
	memcpy(netif->hwaddr, lp->port.mac.b, sizeof(lp->port.mac.b));
	netif->mtu = (u16_t)lp->port.mtu_bytes;
#if LWIP_ND6_ALLOW_RA_UPDATES
	netif->mtu6 = (u16_t)lp->port.mtu_bytes;
#endif
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = link_output;
	netif_set_igmp_mac_filter(netif, igmp_filter);
	netif_set_mld_mac_filter(netif, mld_filter);
	/* lwIP joins the IPv4 all-systems group itself; all-nodes is the driver's. */
	ip6_addr_set_allnodes_linklocal(&all_nodes);
	mld_filter(netif, &all_nodes, NETIF_ADD_MAC_FILTER);
	return ERR_OK;
}

/* ---- the caller's side ---- */

static int lwip_read_batch(struct zt_port *p, struct zt_port_frame *frames, size_t n)
{
	struct zt_lwip_port *lp = lwip_of(p);
	size_t got = 0;

	pthread_mutex_lock(&lp->lock);
	while (got < n && lp->count > 0) {
		const struct out_frame *slot = &lp->queue[lp->head];

		lp->head = (lp->head + 1) % ZT_LWIP_QUEUE_FRAMES;
		lp->count--;
		if (slot->len > frames[got].cap || slot->len < ZT_PORT_ETH_HDR_MIN) {
			p->stats.rx_dropped++;
			continue;
		}
		memcpy(frames[got].data, slot->data, slot->len);
		frames[got].len = slot->len;
		got++;
	}
	if (lp->count == 0) {
		uint64_t drained;

		if (read(lp->event_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
			zt_log(ZT_LOG_ERROR, "lwip %s: eventfd: %s", p->name, strerror(errno));
	}
	p->stats.rx_dropped += lp->queue_dropped;
	lp->queue_dropped = 0;
	pthread_mutex_unlock(&lp->lock);
	p->stats.rx_frames += got;
	return (int)got;
}

static int lwip_write(struct zt_port *p, const void *frame, size_t len)
{
	struct zt_lwip_port *lp = lwip_of(p);
	struct pbuf *pb = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);

	if (!pb) {
		p->stats.tx_dropped++;
		return ZT_EAGAIN;
	}
	if (pbuf_take(pb, frame, (u16_t)len) != ERR_OK || tcpip_input(pb, &lp->netif) != ERR_OK) {
		pbuf_free(pb);
		p->stats.tx_dropped++;
		return ZT_EAGAIN; /* lwIP's input mailbox is full */
	}
	p->stats.tx_frames++;
	return 0;
}

static int lwip_fd(const struct zt_port *p)
{
	return ((const struct zt_lwip_port *)p)->event_fd;
}

static int lwip_set_mtu(struct zt_port *p, unsigned mtu_bytes)
{
	struct zt_lwip_port *lp = lwip_of(p);

	LOCK_TCPIP_CORE();
	lp->netif.mtu = (u16_t)mtu_bytes;
#if LWIP_ND6_ALLOW_RA_UPDATES
	lp->netif.mtu6 = (u16_t)mtu_bytes;
#endif
	UNLOCK_TCPIP_CORE();
	p->mtu_bytes = mtu_bytes;
	return 0;
}

static int lwip_set_up(struct zt_port *p, bool up)
{
	struct zt_lwip_port *lp = lwip_of(p);

	LOCK_TCPIP_CORE();
	if (up) {
		netif_set_up(&lp->netif);
		netif_set_link_up(&lp->netif);
	} else {
		netif_set_link_down(&lp->netif);
		netif_set_down(&lp->netif);
	}
	UNLOCK_TCPIP_CORE();
	return 0;
}

static void to_ip4(ip4_addr_t *out, const uint8_t *bytes)
{
	memcpy(&out->addr, bytes, 4);
}

static void mask4(ip4_addr_t *out, unsigned bits)
{
	out->addr = lwip_htonl(bits == 0 ? 0 : 0xffffffffu << (32 - bits));
}

static void to_ip6(ip6_addr_t *out, const uint8_t *bytes)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, bytes, 16);
}

static int addr4(struct zt_lwip_port *lp, const struct zt_port_prefix *a, bool add)
{
	struct netif *nif = &lp->netif;
	ip4_addr_t ip, mask;
	int err = 0;

	to_ip4(&ip, a->ip.addr);
	mask4(&mask, a->bits);
	LOCK_TCPIP_CORE();
	if (!ip4_addr_cmp(netif_ip4_addr(nif), &ip) && add && !ip4_addr_isany(netif_ip4_addr(nif)))
		err = ZT_EPERM;
	else if (ip4_addr_cmp(netif_ip4_addr(nif), &ip) != add)
		netif_set_addr(nif, add ? &ip : IP4_ADDR_ANY4, add ? &mask : IP4_ADDR_ANY4,
			       add ? netif_ip4_gw(nif) : IP4_ADDR_ANY4);
	else
		err = add ? ZT_EEXIST : ZT_ENOENT;
	UNLOCK_TCPIP_CORE();
	if (err == ZT_EPERM)
		zt_log(ZT_LOG_WARN, "lwip %s: lwIP holds one IPv4 address per interface",
		       lp->port.name);
	return err;
}

static int addr6(struct zt_lwip_port *lp, const struct zt_port_prefix *a, bool add)
{
	struct netif *nif = &lp->netif;
	ip6_addr_t ip;
	s8_t idx;
	int err = 0;

	to_ip6(&ip, a->ip.addr);
	LOCK_TCPIP_CORE();
	idx = netif_get_ip6_addr_match(nif, &ip);
	if (add && idx >= 0)
		err = ZT_EEXIST;
	else if (!add && idx < 0)
		err = ZT_ENOENT;
	else if (!add)
		netif_ip6_addr_set_state(nif, idx, IP6_ADDR_INVALID);
	else if (netif_add_ip6_address(nif, &ip, &idx) != ERR_OK)
		err = ZT_ENOMEM;
	else
		netif_ip6_addr_set_state(nif, idx, IP6_ADDR_PREFERRED); /* no DAD */
	UNLOCK_TCPIP_CORE();
	if (err == ZT_ENOMEM)
		zt_log(ZT_LOG_WARN, "lwip %s: all %d IPv6 address slots are taken", lp->port.name,
		       LWIP_IPV6_NUM_ADDRESSES);
	return err;
}

static int lwip_addr_add(struct zt_port *p, const struct zt_port_prefix *addr)
{
	return addr->ip.family == 4 ? addr4(lwip_of(p), addr, true) : addr6(lwip_of(p), addr, true);
}

static int lwip_addr_del(struct zt_port *p, const struct zt_port_prefix *addr)
{
	return addr->ip.family == 4 ? addr4(lwip_of(p), addr, false)
				    : addr6(lwip_of(p), addr, false);
}

/* The on-link prefix of the interface's IPv4 address. */
static bool is_connected4(struct netif *nif, const struct zt_port_prefix *t)
{
	ip4_addr_t net, mask;

	to_ip4(&net, t->ip.addr);
	mask4(&mask, t->bits);
	return !ip4_addr_isany(netif_ip4_addr(nif)) && ip4_addr_cmp(netif_ip4_netmask(nif), &mask) &&
	       ip4_addr_netcmp(netif_ip4_addr(nif), &net, &mask);
}

static int lwip_route(struct zt_port *p, const struct zt_port_prefix *t,
		      const struct zt_port_ip *via, bool add)
{
	struct zt_lwip_port *lp = lwip_of(p);
	struct netif *nif = &lp->netif;
	int err = ZT_EPERM;
	ip4_addr_t gw;

	if (t->ip.family != 4)
		return zt_port_unsupported(p, "set an IPv6 route: lwIP learns them from "
					      "router advertisements");
	LOCK_TCPIP_CORE();
	if (t->bits == 0 && via) {
		to_ip4(&gw, via->addr);
		if (add && ip4_addr_cmp(netif_ip4_gw(nif), &gw)) {
			err = ZT_EEXIST;
		} else if (add) {
			netif_set_gw(nif, &gw);
			netif_set_default(nif);
			err = 0;
		} else if (!ip4_addr_cmp(netif_ip4_gw(nif), &gw)) {
			err = ZT_ENOENT;
		} else {
			netif_set_gw(nif, IP4_ADDR_ANY4);
			err = 0;
		}
	} else if (!via && is_connected4(nif, t)) {
		err = add ? ZT_EEXIST : ZT_EPERM;
	}
	UNLOCK_TCPIP_CORE();
	if (err == ZT_EPERM)
		return zt_port_unsupported(p, "set a route other than the IPv4 default: "
					      "lwIP has no routing table");
	return err;
}

static int lwip_route_add(struct zt_port *p, const struct zt_port_prefix *target,
			  const struct zt_port_ip *via)
{
	return lwip_route(p, target, via, true);
}

static int lwip_route_del(struct zt_port *p, const struct zt_port_prefix *target,
			  const struct zt_port_ip *via)
{
	return lwip_route(p, target, via, false);
}

static int lwip_multicast_list(struct zt_port *p, struct zt_port_mac *out, size_t max,
			       size_t *count)
{
	struct zt_lwip_port *lp = lwip_of(p);
	size_t n;

	pthread_mutex_lock(&lp->lock);
	n = lp->n_groups;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = lp->groups[i].mac;
	pthread_mutex_unlock(&lp->lock);
	*count = ZT_MIN(n, max);
	return n > max ? ZT_ETOOBIG : 0;
}

static void barrier_reached(void *arg)
{
	sem_post(arg);
}

static void lwip_free(struct zt_lwip_port *lp)
{
	if (lp->event_fd >= 0)
		close(lp->event_fd);
	pthread_mutex_destroy(&lp->lock);
	free(lp->queue);
	free(lp);
}

static void lwip_close(struct zt_port *p)
{
	struct zt_lwip_port *lp = lwip_of(p);
	sem_t done;

	/* Frames written earlier wait in lwIP's mailbox naming this netif:
	 * let them through before it goes (the mailbox is FIFO). */
	sem_init(&done, 0, 0);
	if (tcpip_callback(barrier_reached, &done) == ERR_OK)
		while (sem_wait(&done) < 0 && errno == EINTR)
			;
	sem_destroy(&done);
	LOCK_TCPIP_CORE();
	netif_set_down(&lp->netif);
	netif_remove(&lp->netif);
	UNLOCK_TCPIP_CORE();
	zt_log(ZT_LOG_INFO, "lwip %s: closed", p->name);
	lwip_free(lp);
}

static const struct zt_port_ops lwip_ops = {
	.read_batch = lwip_read_batch,
	.write = lwip_write,
	.fd = lwip_fd,
	.set_mtu = lwip_set_mtu,
	.set_up = lwip_set_up,
	.addr_add = lwip_addr_add,
	.addr_del = lwip_addr_del,
	.route_add = lwip_route_add,
	.route_del = lwip_route_del,
	.multicast_list = lwip_multicast_list,
	.close = lwip_close,
};

static bool config_valid(const struct zt_lwip_config *cfg)
{
	static const struct zt_port_mac zero;

	if ((cfg->mac.b[0] & 1) || memcmp(cfg->mac.b, zero.b, sizeof(zero.b)) == 0)
		return false;
	return cfg->mtu_bytes == 0 ||
	       (cfg->mtu_bytes >= ZT_PORT_MTU_MIN && cfg->mtu_bytes <= ZT_PORT_MTU_MAX);
}

/* Link-local from the MAC, valid at once (the overlay has no duplicates). */
static void add_link_local(struct netif *nif)
{
	netif_create_ip6_linklocal_address(nif, 1);
	netif_ip6_addr_set_state(nif, 0, IP6_ADDR_PREFERRED);
}

int zt_lwip_port_open(const struct zt_lwip_config *cfg, struct zt_port **out)
{
	struct zt_lwip_port *lp;
	char mac_text[18];
	struct netif *added;

	if (!cfg || !out || !config_valid(cfg))
		return ZT_EINVAL;
	*out = NULL;
	pthread_once(&stack_once, stack_start);
	lp = calloc(1, sizeof(*lp));
	if (!lp)
		return ZT_ENOMEM;
	pthread_mutex_init(&lp->lock, NULL);
	lp->port.ops = &lwip_ops;
	lp->port.kind = "lwip";
	lp->port.mac = cfg->mac;
	lp->port.mtu_bytes = cfg->mtu_bytes ? cfg->mtu_bytes : ZT_LWIP_MTU_DEFAULT;
	lp->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	lp->queue = calloc(ZT_LWIP_QUEUE_FRAMES, sizeof(*lp->queue));
	if (lp->event_fd < 0 || !lp->queue) {
		lwip_free(lp);
		return ZT_ENOMEM;
	}
	LOCK_TCPIP_CORE();
	added = netif_add_noaddr(&lp->netif, lp, netif_setup, tcpip_input);
	if (added)
		add_link_local(&lp->netif);
	UNLOCK_TCPIP_CORE();
	if (!added) {
		lwip_free(lp);
		return ZT_ENOMEM;
	}
	snprintf(lp->port.name, sizeof(lp->port.name), "%c%c%u", lp->netif.name[0],
		 lp->netif.name[1], (unsigned)lp->netif.num);
	zt_port_mac_format(&lp->port.mac, mac_text, sizeof(mac_text));
	zt_log(ZT_LOG_INFO, "lwip %s: created, mac %s, mtu %u", lp->port.name, mac_text,
	       lp->port.mtu_bytes);
	*out = &lp->port;
	return 0;
}

struct netif *zt_lwip_port_netif(struct zt_port *p)
{
	return &lwip_of(p)->netif;
}

uint64_t zt_lwip_port_unread(struct zt_port *p)
{
	struct zt_lwip_port *lp = lwip_of(p);
	uint64_t n;

	pthread_mutex_lock(&lp->lock);
	n = lp->count + lp->queue_dropped;
	pthread_mutex_unlock(&lp->lock);
	return n;
}
