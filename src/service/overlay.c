/*
 * overlay.c - ztd's own overlay interfaces, known by identity, never by name:
 * the ifindexes of the ports it opened (TAPs, libpcap-bridged NICs) and of any
 * bridge that holds one as a port, with the prefixes on them. It answers
 * "may this endpoint carry the underlay?" and "did this datagram come in
 * through our overlay?". Rebuilt on netlink events; holds no policy beyond that.
 */
#include "service/ztd.h"

#include "osdep/netif.h"

#include <inttypes.h>
#include <string.h>

static void own_add(struct ztd *d, unsigned ifindex)
{
	struct ztd_own *o = &d->own;

	if (!ifindex || zt_netif_index_in(ifindex, o->ifindex, o->n_ifs))
		return;
	if (o->n_ifs == ZTD_OWN_IFS_MAX) {
		o->ifs_over_limit++;
		zt_log(ZT_LOG_WARN, "overlay guard: more than %u own interfaces (ZTD_OWN_IFS_MAX); ifindex %u not guarded",
		       ZTD_OWN_IFS_MAX, ifindex);
		return;
	}
	o->ifindex[o->n_ifs++] = ifindex;
}

/* A port and, if it was put into a bridge, the bridge (and its master, for stacked bridges). */
static void own_add_port(struct ztd *d, const struct zt_port *p)
{
	unsigned idx = p ? p->ifindex : 0;

	for (int depth = 0; idx && depth < 4; depth++) {
		unsigned master = 0;

		own_add(d, idx);
		if (zt_netif_master(idx, &master) < 0)
			break;
		idx = master;
	}
}

void ztd_own_refresh(struct ztd *d)
{
	struct ztd_own *o = &d->own;
	size_t count = 0;
	int err;

	o->n_ifs = 0;
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		if (!d->nets[i].nwid)
			continue;
		own_add_port(d, d->nets[i].port);
		own_add_port(d, d->nets[i].bridge);
	}
	o->n_prefixes = 0;
	if (!o->n_ifs)
		return;
	err = zt_netif_list_on(o->ifindex, o->n_ifs, o->prefixes, ZTD_OWN_PREFIXES_MAX, &count);
	if (err == ZT_ETOOBIG) {
		o->prefixes_over_limit++;
		zt_log(ZT_LOG_WARN, "overlay guard: more than %u addresses on own interfaces (ZTD_OWN_PREFIXES_MAX); "
		       "routes are still checked", ZTD_OWN_PREFIXES_MAX);
	}
	o->n_prefixes = (unsigned)count;
}

static bool inside_own_prefix(const struct ztd_own *o, const struct zt_endpoint *ep)
{
	for (unsigned i = 0; i < o->n_prefixes; i++)
		if (zt_netif_addr_covers(&o->prefixes[i], ep))
			return true;
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
