/*
 * overlay.c - ztd's own overlay interfaces, known by identity, never by name:
 * the ifindexes of the ports it opened (TAPs, libpcap-bridged NICs) and of any
 * bridge that holds one as a port, with the prefixes on them. It answers
 * "may this endpoint carry the underlay?" and "did this datagram come in
 * through our overlay?". Rebuilt on netlink events; holds no policy beyond that.
 *
 * TAPs and bridges are treated apart. A TAP we opened carries only overlay
 * frames: nothing of the underlay may live inside its prefixes, route through
 * it or arrive on it. A bridge that holds one, or a NIC we bridge with
 * libpcap, may also be the host's uplink (the bridged office: br0 = LAN NIC +
 * TAP, the host's address on br0), so it is never announced as a local
 * endpoint and its own addresses are never a path, but routes through it and
 * datagrams arriving on it stay allowed.
 */
#include "service/ztd.h"

#include "osdep/netif.h"

#include <inttypes.h>
#include <string.h>

static void own_add(struct ztd_own *o, unsigned *set, unsigned *n, unsigned ifindex)
{
	if (!ifindex || zt_netif_index_in(ifindex, set, *n))
		return;
	if (*n == ZTD_OWN_IFS_MAX) {
		o->ifs_over_limit++;
		zt_log(ZT_LOG_WARN, "overlay guard: more than %u own interfaces (ZTD_OWN_IFS_MAX); ifindex %u not guarded",
		       ZTD_OWN_IFS_MAX, ifindex);
		return;
	}
	set[(*n)++] = ifindex;
}

/* A port and, if it was put into a bridge, the bridge (and its master, for stacked bridges). */
static void own_add_port(struct ztd_own *o, const struct zt_port *p)
{
	unsigned idx = p ? p->ifindex : 0, master = 0;

	if (!idx)
		return;
	if (strcmp(p->kind, "tap") != 0) {
		own_add(o, o->bridge_ifindex, &o->n_bridges, idx); /* a bridged NIC: a LAN, maybe the uplink */
		return;
	}
	own_add(o, o->ifindex, &o->n_ifs, idx);
	for (int depth = 0; depth < 4 && zt_netif_master(idx, &master) == 0 && master; depth++) {
		own_add(o, o->bridge_ifindex, &o->n_bridges, master);
		idx = master;
	}
}

/* Every address on the given interfaces, appended to out[*n .. max). */
static void list_addrs(struct ztd_own *o, const unsigned *set, unsigned n_set, struct zt_netif_addr *out,
		       unsigned max, unsigned *n)
{
	size_t count = 0;

	if (!n_set || *n >= max)
		return;
	if (zt_netif_list_on(set, n_set, out + *n, max - *n, &count) == ZT_ETOOBIG) {
		o->prefixes_over_limit++;
		zt_log(ZT_LOG_WARN, "overlay guard: more than %u addresses on own interfaces (ZTD_OWN_PREFIXES_MAX); "
		       "routes are still checked", max);
	}
	*n += (unsigned)count;
}

void ztd_own_refresh(struct ztd *d)
{
	struct ztd_own *o = &d->own;

	o->n_ifs = o->n_bridges = 0;
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		if (!d->nets[i].nwid)
			continue;
		own_add_port(o, d->nets[i].port);
		own_add_port(o, d->nets[i].bridge);
	}
	o->n_prefixes = o->n_bridge_addrs = 0;
	list_addrs(o, o->ifindex, o->n_ifs, o->prefixes, ZTD_OWN_PREFIXES_MAX, &o->n_prefixes);
	list_addrs(o, o->bridge_ifindex, o->n_bridges, o->bridge_addrs, ZTD_OWN_IFS_MAX, &o->n_bridge_addrs);
}

unsigned ztd_own_not_announced(const struct ztd *d, unsigned *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->own.n_ifs && n < max; i++)
		out[n++] = d->own.ifindex[i];
	for (unsigned i = 0; i < d->own.n_bridges && n < max; i++)
		out[n++] = d->own.bridge_ifindex[i];
	return n;
}

static bool inside_own_prefix(const struct ztd_own *o, const struct zt_endpoint *ep)
{
	for (unsigned i = 0; i < o->n_prefixes; i++)
		if (zt_netif_addr_covers(&o->prefixes[i], ep))
			return true;
	return false;
}

static bool is_bridge_addr(const struct ztd_own *o, const struct zt_endpoint *ep)
{
	for (unsigned i = 0; i < o->n_bridge_addrs; i++) {
		struct zt_netif_addr host = o->bridge_addrs[i];
		host.prefix_bits = host.addr.family == 4 ? 32 : 128;
		if (zt_netif_addr_covers(&host, ep))
			return true;
	}
	return false;
}

bool ztd_own_path_allowed(struct ztd *d, const struct zt_endpoint *ep)
{
	struct ztd_own *o = &d->own;
	unsigned oif = 0;
	char text[ZT_ENDPOINT_TEXT_MAX];
	const char *why = NULL;

	if (inside_own_prefix(o, ep))
		why = "inside a prefix of our own overlay";
	else if (is_bridge_addr(o, ep))
		why = "an address of a bridge that holds our overlay port";
	else if (o->n_ifs && zt_netif_route_oif(ep, &oif) == 0 && zt_netif_index_in(oif, o->ifindex, o->n_ifs))
		why = "routed through our own overlay";
	if (!why)
		return true;
	o->paths_refused++;
	zt_endpoint_format(ep, text, sizeof(text));
	zt_log(ZT_LOG_DEBUG, "path %s refused: %s (no tunnel in the tunnel)", text, why);
	return false;
}

bool ztd_own_arrived_on(struct ztd *d, unsigned ifindex)
{
	return zt_netif_index_in(ifindex, d->own.ifindex, d->own.n_ifs);
}
