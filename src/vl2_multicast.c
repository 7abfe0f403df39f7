/*
 * vl2_multicast.c - a member's side of multicast: the groups we subscribe to
 * (announced to the roots with MULTICAST_LIKE), GATHER and its answers, and
 * the fan-out of a frame to a group's subscribers within the multicast limit.
 * The roots' directory is multicast.c; which group a frame goes to, frame_path.c.
 */
#include "network_impl.h"

#include <string.h>

const uint8_t zt_vl2_bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const struct zt_mcast_group zt_vl2_wildcard_group = {.adi = 0}; /* all zero: "bridges: everything" */

/* ---------- gathers and fan-out ---------- */

static bool group_eq(const struct zt_mcast_group *a, const struct zt_mcast_group *b)
{
	return a->adi == b->adi && memcmp(a->mac, b->mac, 6) == 0;
}

static struct net_gather *gather_find(struct zt_network *net, const struct zt_mcast_group *g, bool create)
{
	struct net_gather *oldest = NULL;

	for (unsigned i = 0; i < NET_GATHERS; i++) {
		struct net_gather *e = &net->gathers[i];
		if ((e->fetched_ms || e->asked_ms) && group_eq(&e->g, g))
			return e;
		if (!oldest || ZT_MAX(e->fetched_ms, e->asked_ms) < ZT_MAX(oldest->fetched_ms, oldest->asked_ms))
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->g = *g;
	return oldest;
}

static void ask_gather(struct zt_vl2 *v, struct zt_network *net, struct net_gather *e, uint64_t now_ms)
{
	uint64_t root = zt_node_best_root(v->node, now_ms);
	struct zt_wr w;

	if (!root || (e->asked_ms && now_ms - e->asked_ms < ZT_MCAST_GATHER_MS))
		return;
	e->asked_ms = now_ms;
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_be64(&w, net->nwid);
	zt_wr_bytes(&w, e->g.mac, 6);
	zt_wr_be32(&w, e->g.adi);
	zt_vl2_send(v, root, ZT_VERB_MULTICAST_GATHER, &w, now_ms);
}

/* Fan a frame out to the group's subscribers and every bridge, up to the network's limit. */
static void fan_out(struct zt_vl2 *v, struct zt_network *net, const struct net_gather *e, const uint8_t *frame,
		    size_t len, uint64_t now_ms)
{
	uint64_t sent[ZT_MCAST_GATHER_MAX * 2];
	unsigned n_sent = 0, limit = net->conf->multicast_limit ? net->conf->multicast_limit : UINT32_MAX;
	size_t mlen = zt_frame_path_ext_frame(v, net->nwid, frame, len);
	uint8_t *msg;

	if (!mlen)
		return;
	/* zt_membership_send may reuse v->buf (certificates): keep our own copy. */
	msg = v->frame;
	memcpy(msg, v->buf, mlen);
	for (unsigned pass = 0; pass < 2; pass++) {
		const uint64_t *list = pass ? e->bridges : e->members;
		unsigned n = pass ? e->n_bridges : e->n;
		for (unsigned i = 0; i < n; i++) {
			bool dup = false;
			if (list[i] == zt_vl2_self(v))
				continue;
			for (unsigned k = 0; k < n_sent; k++)
				dup = dup || sent[k] == list[i];
			if (dup)
				continue;
			/* Bridges always get their copy; the limit applies to plain subscribers. */
			if (!pass && n_sent >= limit) {
				net->st.multicast_limited++;
				continue;
			}
			sent[n_sent++] = list[i];
			zt_membership_send(v, net, list[i], msg, mlen, now_ms);
			net->st.tx_multicast++;
		}
	}
}

/*
 * Send to the group's subscribers. A known list is used at once and refreshed
 * in the background (at most every ZT_MCAST_GATHER_MS), so a listener that
 * joined since is reached within about a second; a group never gathered
 * holds the frame until the root answers.
 */
void zt_vl2_mcast_send(struct zt_vl2 *v, struct zt_network *net, const struct zt_mcast_group *g,
		       const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct net_gather *e = gather_find(net, g, true);
	uint64_t age = e->fetched_ms ? now_ms - e->fetched_ms : UINT64_MAX;

	if (age >= ZT_MCAST_GATHER_MS)
		ask_gather(v, net, e, now_ms);
	if (age < ZT_MCAST_STALE_MS) {
		fan_out(v, net, e, frame, len, now_ms);
		return;
	}
	zt_vl2_queue_add(net, Q_GROUP, 0, g, frame, len, now_ms);
}

void zt_vl2_mcast_handle_gather_ok(struct zt_vl2 *v, struct zt_rd *rd, uint64_t now_ms)
{
	struct zt_mcast_group g;
	struct zt_network *net;
	struct net_gather *e;
	uint64_t nwid = zt_rd_be64(rd);
	unsigned n, nb;

	zt_rd_bytes(rd, g.mac, 6);
	g.adi = zt_rd_be32(rd);
	n = zt_rd_be16(rd);
	nb = zt_rd_be16(rd);
	net = zt_vl2_net_find(v, nwid);
	if (rd->err || !net || n > ZT_MCAST_GATHER_MAX || nb > ZT_MCAST_GATHER_MAX || !net->have_conf)
		return;
	e = gather_find(net, &g, true);
	for (unsigned i = 0; i < n; i++)
		e->members[i] = zt_rd_beN(rd, ZT_ADDR_BYTES);
	for (unsigned i = 0; i < nb; i++)
		e->bridges[i] = zt_rd_beN(rd, ZT_ADDR_BYTES);
	if (rd->err)
		return;
	e->n = (uint16_t)n;
	e->n_bridges = (uint16_t)nb;
	e->fetched_ms = now_ms;
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		struct net_queued *q = &net->queue[i];
		if (q->kind != Q_GROUP || !group_eq(&q->g, &g))
			continue;
		q->kind = Q_FREE;
		fan_out(v, net, e, q->msg, q->len, now_ms);
	}
}

void zt_vl2_mcast_send_late(struct zt_vl2 *v, struct zt_network *net, struct net_queued *q, uint64_t now_ms)
{
	struct net_gather *e = gather_find(net, &q->g, false);

	q->kind = Q_FREE;
	if (e && e->fetched_ms)
		fan_out(v, net, e, q->msg, q->len, now_ms);
	else
		net->st.drop_queue++;
}

/* ---------- our subscriptions ---------- */

static void add_group(struct zt_network *net, const uint8_t mac[6], uint32_t adi)
{
	struct zt_mcast_group g;

	memcpy(g.mac, mac, 6);
	g.adi = adi;
	for (unsigned i = 0; i < net->n_groups; i++)
		if (group_eq(&net->groups[i], &g))
			return;
	if (net->n_groups < ZT_NET_GROUPS_MAX)
		net->groups[net->n_groups++] = g;
}

void zt_vl2_mcast_send_likes(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	uint64_t roots[ZT_MAX_ROOTS];
	unsigned n_roots = zt_node_roots(v->node, roots, ZT_MAX_ROOTS);
	struct zt_wr w;

	net->last_like_ms = now_ms;
	net->groups_dirty = false;
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_be64(&w, net->nwid);
	zt_wr_bytes(&w, net->com_bytes, ZT_COM_BYTES); /* roots keep subscriptions of members only */
	zt_wr_be16(&w, (uint16_t)net->n_groups);
	for (unsigned i = 0; i < net->n_groups; i++) {
		zt_wr_bytes(&w, net->groups[i].mac, 6);
		zt_wr_be32(&w, net->groups[i].adi);
	}
	for (unsigned i = 0; i < n_roots; i++)
		zt_vl2_send(v, roots[i], ZT_VERB_MULTICAST_LIKE, &w, now_ms);
}

void zt_vl2_mcast_tick(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	if (net->have_conf && (net->groups_dirty || now_ms - net->last_like_ms >= ZT_MCAST_LIKE_MS))
		zt_vl2_mcast_send_likes(v, net, now_ms);
}

/* Our subscriptions: broadcast, ARP for our addresses, the port's groups; bridges take everything. */
void zt_vl2_mcast_rebuild_groups(struct zt_network *net, const uint8_t (*macs)[6], unsigned n_macs,
				 const uint32_t *ipv4, unsigned n_ipv4)
{
	struct zt_mcast_group old[ZT_NET_GROUPS_MAX];
	unsigned n_old = net->n_groups;

	memcpy(old, net->groups, sizeof(old[0]) * n_old);
	net->n_groups = 0;
	if (!net->have_conf)
		goto out;
	if (net->conf->bridge)
		add_group(net, zt_vl2_wildcard_group.mac, 0);
	if (net->conf->enable_broadcast)
		add_group(net, zt_vl2_bcast_mac, 0);
	for (unsigned i = 0; i < net->conf->n_ips; i++) {
		const struct zt_netconf_ip *ip = &net->conf->ips[i];
		if (ip->family == 4)
			add_group(net, zt_vl2_bcast_mac,
				  (uint32_t)ip->addr[0] << 24 | ip->addr[1] << 16 | ip->addr[2] << 8 | ip->addr[3]);
	}
	for (unsigned i = 0; i < n_ipv4; i++)
		add_group(net, zt_vl2_bcast_mac, ipv4[i]);
	for (unsigned i = 0; i < n_macs; i++)
		if ((macs[i][0] & 1) && memcmp(macs[i], zt_vl2_bcast_mac, 6) != 0)
			add_group(net, macs[i], 0);
out:
	if (n_old != net->n_groups || memcmp(old, net->groups, sizeof(old[0]) * n_old) != 0)
		net->groups_dirty = true;
}

void zt_vl2_set_port_state(struct zt_vl2 *v, uint64_t nwid, const uint8_t (*macs)[6], unsigned n_macs,
			   const uint32_t *ipv4, unsigned n_ipv4, uint64_t now_ms)
{
	struct zt_network *net = zt_vl2_net_find(v, nwid);

	if (!net)
		return;
	zt_vl2_mcast_rebuild_groups(net, macs, n_macs, ipv4, n_ipv4);
	if (net->groups_dirty)
		zt_vl2_mcast_send_likes(v, net, now_ms);
}
