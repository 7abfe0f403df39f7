/*
 * network.c - a VL2 network's lifecycle: join and leave, the zt_vl2 object,
 * dispatch of VL2 verbs, the tick, stats and info. It sits on top of the VL2
 * files: certificates are membership.c's, configs config_transfer.c's, frames
 * frame_path.c's, multicast vl2_multicast.c's; the helpers they share, vl2.c's.
 */
#include "network_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- dispatch, tick, lifecycle ---------- */

void zt_vl2_message(struct zt_vl2 *v, uint64_t peer, uint8_t verb, const uint8_t *data, size_t len, uint64_t now_ms)
{
	struct zt_rd rd;

	zt_rd_init(&rd, data, len);
	switch (verb) {
	case ZT_VERB_FRAME:
		zt_frame_path_handle_frame(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_EXT_FRAME:
		zt_frame_path_handle_ext_frame(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_COM:
		zt_membership_handle_com(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_COM_REQUEST:
		zt_membership_handle_com_request(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_MULTICAST_GATHER_OK:
		zt_vl2_mcast_handle_gather_ok(v, &rd, now_ms);
		return;
	case ZT_VERB_NETCONF:
		zt_config_transfer_handle(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_NETCONF_REQUEST:
		zt_config_transfer_handle_request(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_REVOCATION:
		zt_membership_handle_revocation(v, peer, &rd, now_ms);
		return;
	}
}

/* Held messages: a group frame waits ZT_MCAST_WAIT_MS for its gather, anything else ZT_NET_QUEUE_MS. */
static void tick_queue(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		struct net_queued *q = &net->queue[i];

		if (q->kind == Q_GROUP && now_ms - q->created_ms >= ZT_MCAST_WAIT_MS) {
			zt_vl2_mcast_send_late(v, net, q, now_ms);
			continue;
		}
		if (q->kind == Q_FREE || now_ms - q->created_ms < ZT_NET_QUEUE_MS)
			continue;
		q->kind = Q_FREE;
		net->st.drop_queue++;
	}
}

static void tick_net(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	zt_config_transfer_tick(v, net, now_ms);
	zt_vl2_mcast_tick(v, net, now_ms);
	tick_queue(v, net, now_ms);
}

void zt_vl2_tick(struct zt_vl2 *v, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		if (v->nets[i])
			tick_net(v, v->nets[i], now_ms);
}

static void net_free(struct zt_network *net)
{
	if (!net)
		return;
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++)
		free(net->queue[i].msg);
	free(net->conf);
	free(net->scratch);
	free(net->chunks);
	free(net->members);
	free(net->macs);
	free(net->gathers);
	free(net->rules);
	free(net->counters);
	free(net->trace);
	free(net);
}

int zt_vl2_join(struct zt_vl2 *v, uint64_t nwid, uint64_t now_ms)
{
	struct zt_network *net;
	int slot = -1;

	if (zt_address_reserved(nwid >> 24))
		return ZT_EINVAL;
	if (zt_vl2_net_find(v, nwid))
		return ZT_EEXIST;
	for (int i = 0; i < ZT_MAX_NETWORKS && slot < 0; i++)
		if (!v->nets[i])
			slot = i;
	if (slot < 0)
		return ZT_ETOOBIG;
	net = calloc(1, sizeof(*net));
	if (!net)
		return ZT_ENOMEM;
	net->conf = malloc(sizeof(*net->conf));
	net->scratch = malloc(sizeof(*net->scratch));
	net->chunks = malloc(ZT_NETCONF_MAX_BYTES);
	net->members = calloc(ZT_NET_MEMBERS_MAX, sizeof(*net->members));
	net->macs = calloc(ZT_NET_MACS_MAX, sizeof(*net->macs));
	net->gathers = calloc(NET_GATHERS, sizeof(*net->gathers));
	net->rules = malloc(sizeof(*net->rules));
	net->counters = calloc(ZT_RULES_MAX_RULES + 1, sizeof(*net->counters));
	net->trace = calloc(ZT_NET_TRACE_LINES, sizeof(*net->trace));
	bool ok = net->conf && net->scratch && net->chunks && net->members && net->macs && net->gathers &&
		  net->rules && net->counters && net->trace;
	for (unsigned i = 0; ok && i < ZT_NET_QUEUE; i++)
		ok = (net->queue[i].msg = malloc(ZT_MAX_MESSAGE_BYTES)) != NULL;
	if (!ok) {
		net_free(net);
		return ZT_ENOMEM;
	}
	net->nwid = nwid;
	net->controller = nwid >> 24;
	net->joined_ms = now_ms;
	zt_vl2_member_mac(net->mac, zt_vl2_self(v), nwid);
	snprintf(net->reason, sizeof(net->reason), "waiting for the controller");
	v->nets[slot] = net;
	zt_node_want_identity(v->node, net->controller, now_ms);
	zt_config_transfer_request(v, net, now_ms);
	return 0;
}

int zt_vl2_leave(struct zt_vl2 *v, uint64_t nwid)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		if (v->nets[i] && v->nets[i]->nwid == nwid) {
			net_free(v->nets[i]);
			v->nets[i] = NULL;
			return 0;
		}
	}
	return ZT_ENOENT;
}

unsigned zt_vl2_networks(const struct zt_vl2 *v, uint64_t *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ZT_MAX_NETWORKS && n < max; i++)
		if (v->nets[i])
			out[n++] = v->nets[i]->nwid;
	return n;
}

int zt_vl2_info(const struct zt_vl2 *v, uint64_t nwid, struct zt_net_info *out)
{
	const struct zt_network *net = zt_vl2_net_find(v, nwid);

	if (!net)
		return ZT_ENOENT;
	memset(out, 0, sizeof(*out));
	out->nwid = nwid;
	out->status = net->status;
	snprintf(out->reason, sizeof(out->reason), "%s", net->reason);
	memcpy(out->mac, net->mac, 6);
	out->have_conf = net->have_conf;
	out->bridge = net->have_conf && net->conf->bridge;
	out->members_seen = net->members_ok;
	out->conf = net->have_conf ? net->conf : NULL;
	out->stats = net->st;
	return 0;
}

int zt_vl2_new(struct zt_vl2 **out, struct zt_node *node, const struct zt_vl2_callbacks *cb)
{
	struct zt_vl2 *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v)
		return ZT_ENOMEM;
	v->node = node;
	v->cb = *cb;
	v->buf = malloc(ZT_MAX_MESSAGE_BYTES);
	v->frame = malloc(ZT_MAX_MESSAGE_BYTES);
	v->conf_out = malloc(ZT_NETCONF_MAX_BYTES);
	v->copy = malloc(ZT_MAX_MESSAGE_BYTES);
	v->ctl_nc = malloc(sizeof(*v->ctl_nc));
	zt_node_random(node, &v->rng, sizeof(v->rng));
	v->rng |= 1;
	if (!v->buf || !v->frame || !v->conf_out || !v->copy || !v->ctl_nc) {
		zt_vl2_free(v);
		return ZT_ENOMEM;
	}
	*out = v;
	return 0;
}

void zt_vl2_free(struct zt_vl2 *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		net_free(v->nets[i]);
	free(v->buf);
	free(v->frame);
	free(v->conf_out);
	free(v->copy);
	free(v->ctl_nc);
	free(v);
}
